//! One code base on every backend: the VQ-VAE (codes and reconstruction) and the PixelCNN prior
//! (logits) built from the same seed give the same outputs on every compiled test backend
//! (`SYSDYN_TEST_BACKENDS` restricts them), in f32.

mod common;

use common::{assert_same_on_every_backend, host};
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::vq::{
    DeadCodeRule, EmaConfig, PixelCnnConfig, QuantiserConfig, VqVaeConfig,
};

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
    // The codes as the first output: integers at most 15, so the tolerance 1e-4 · 15 admits no
    // difference (the exact comparison of before).
    let with_codes = |d: &SysDevice| {
        let (codes, mut out) = outputs(d);
        out.insert(0, codes.iter().map(|&c| c as f64).collect());
        out
    };
    assert_same_on_every_backend(
        with_codes,
        true,
        &[
            "codes",
            "reconstruction",
            "loss",
            "codebook after EMA and restart",
            "prior logits",
        ],
        1e-4,
        false,
    );
}
