//! One code base on every backend: the VQ-VAE (codes and reconstruction) and the PixelCNN prior
//! (logits) built from the same seed give the same outputs on every compiled test backend
//! (`SYSDYN_TEST_BACKENDS` restricts them), in f32.

use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::vq::{
    DeadCodeRule, EmaConfig, PixelCnnConfig, QuantiserConfig, VqVaeConfig,
};
use sysdyn_testing::test_devices_f32;

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

/// The codes, the reconstruction, the codebook after an EMA update and a restart, and the
/// prior's logits on `d`.
fn outputs(d: &SysDevice) -> (Vec<usize>, Vec<Vec<f64>>) {
    let quantiser = QuantiserConfig::new(16, 4)
        .with_ema(EmaConfig::default())
        .with_restart(DeadCodeRule::Unused { steps: 1 });
    let mut model = VqVaeConfig::new(quantiser)
        .with_hidden(4)
        .init(d.device(), &mut SeededRng::new(1))
        .unwrap();
    let images = d
        .tensor(SeededRng::new(2).uniforms(3 * 784), [3, 784])
        .unwrap();
    let pass = model.forward(images).unwrap();
    let codes = pass.quantised.codes.clone();
    model
        .quantiser
        .update_codes(pass.encoded.clone(), &codes, &mut SeededRng::new(3))
        .unwrap();
    let prior = PixelCnnConfig::new(16, (7, 7))
        .with_width(8)
        .with_layers(1)
        .init(d.device(), &mut SeededRng::new(4))
        .unwrap();
    let logits = prior.logits(&codes).unwrap();
    (
        codes,
        vec![
            host(pass.reconstruction),
            host(pass.loss),
            host(model.quantiser.codebook.vectors.val()),
            host(logits),
        ],
    )
}

#[test]
fn the_vq_vae_and_its_prior_compute_the_same_on_every_backend() {
    let names = [
        "reconstruction",
        "loss",
        "codebook after EMA and restart",
        "prior logits",
    ];
    let devices = test_devices_f32(true);
    let (reference_codes, reference) = outputs(&devices[0]);
    for d in &devices[1..] {
        let (codes, other) = outputs(d);
        assert_eq!(codes, reference_codes, "codes on {}", d.spec());
        for ((name, a), b) in names.iter().zip(&reference).zip(&other) {
            assert_eq!(a.len(), b.len(), "{name} on {}", d.spec());
            let scale = a.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
            let worst = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f64::max);
            assert!(
                worst <= 1e-4 * scale,
                "{name}: {} differs from {} by {worst} (scale {scale})",
                d.spec(),
                devices[0].spec()
            );
        }
    }
}
