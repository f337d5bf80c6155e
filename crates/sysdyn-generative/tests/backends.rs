//! One code base on every backend: the image players (DCGAN generator and critic with its input
//! gradient, U-Net, PatchGAN, ResNet and style-based generators) built from the same seed give
//! the same outputs on every compiled test backend (`SYSDYN_TEST_BACKENDS` restricts them; wgpu
//! runs on a software Vulkan device without a GPU), in f32.

mod common;

use common::{assert_same_on_every_backend, host};
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::gan::{
    Critic, CriticConditioning, CriticNorm, DcganConfig, Generator, ImageShape, PatchGanConfig,
    ResnetGeneratorConfig, UNetConfig,
};
use sysdyn_generative::style::StyleGeneratorConfig;

/// Every player's output on `d` for fixed weights and inputs, concatenated.
fn outputs(d: &SysDevice) -> Vec<Vec<f64>> {
    let image = ImageShape::new(1, 8, 8);
    let x = d
        .tensor(SeededRng::new(1).normals(3 * 64), [3, 64])
        .unwrap();
    let labels = [0usize, 2, 1];
    let dcgan = DcganConfig::new(image, 4, 3)
        .with_levels(2)
        .with_critic_norm(CriticNorm::None)
        .with_classes(3, 2, CriticConditioning::Projection);
    let generator = dcgan
        .init_generator(d.device(), &mut SeededRng::new(2))
        .unwrap();
    let critic = dcgan
        .init_critic(d.device(), &mut SeededRng::new(3))
        .unwrap();
    let z = d.tensor(SeededRng::new(4).normals(3 * 4), [3, 4]).unwrap();
    let unet = UNetConfig::new(image, 1, 2)
        .init(d.device(), &mut SeededRng::new(5))
        .unwrap();
    let patch = PatchGanConfig::new(image, 2)
        .init(d.device(), &mut SeededRng::new(6))
        .unwrap();
    let resnet = ResnetGeneratorConfig::new(image, 2)
        .init(d.device(), &mut SeededRng::new(7))
        .unwrap();
    let style = StyleGeneratorConfig::new(image, 4, 2)
        .init(d.device(), &mut SeededRng::new(8))
        .unwrap();
    let latent = d
        .tensor(
            SeededRng::new(9).normals(3 * style.latent_width()),
            [3, style.latent_width()],
        )
        .unwrap();
    vec![
        host(generator.generate(z, Some(&labels)).unwrap()),
        host(critic.score(x.clone(), Some(&labels)).unwrap()),
        host(critic.input_gradient(x.clone(), Some(&labels)).unwrap()),
        host(unet.forward(x.clone()).unwrap()),
        host(patch.forward(x.clone()).unwrap()),
        host(resnet.forward(x).unwrap()),
        host(style.generate(latent, None).unwrap()),
    ]
}

#[test]
fn every_image_player_computes_the_same_on_every_backend() {
    assert_same_on_every_backend(
        outputs,
        true,
        &[
            "DCGAN generator",
            "critic score",
            "critic input gradient",
            "U-Net",
            "PatchGAN",
            "ResNet generator",
            "style generator",
        ],
        1e-4,
        false,
    );
}
