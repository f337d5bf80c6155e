//! One code base on every backend: the VAEs (MLP and convolutional, conditional, with each
//! likelihood) built from the same seed give the same posteriors, decoder outputs and
//! importance weights on every compiled test backend (`SYSDYN_TEST_BACKENDS` restricts them),
//! in f32; the noise is drawn on the host, so the weights are comparable draw for draw.

mod common;

use common::{assert_same_on_every_backend, host};
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::vae::{ConvVaeConfig, Discretisation, Likelihood, MlpVaeConfig, Variance};

fn outputs(d: &SysDevice) -> Vec<Vec<f64>> {
    let labels = [0usize, 2, 1];
    let mut out = Vec::new();
    // A conditional MLP VAE with a decoded variance.
    let mlp = MlpVaeConfig::new(5, vec![7], 3, Likelihood::Gaussian(Variance::PerFeature))
        .with_classes(3)
        .init(d, 1)
        .unwrap();
    let x = d.tensor(SeededRng::new(2).normals(15), [3, 5]).unwrap();
    let q = mlp.encode(x.clone(), Some(&labels)).unwrap();
    out.push(host(q.mean()));
    out.push(host(q.log_var()));
    out.push(host(mlp.decode(q.mean(), Some(&labels)).unwrap()));
    out.push(host(
        mlp.log_weights(x, Some(&labels), 4, &mut SeededRng::new(3))
            .unwrap(),
    ));
    // A convolutional VAE on 8×8 images with the discretised logistic, and with Bernoulli
    // decoders conditioned on the labels.
    let pixels: Vec<f64> = (0..3 * 64)
        .map(|i| f64::from((i * 37 % 256) as u8) / 255.0)
        .collect();
    let images = d.tensor(pixels, [3, 64]).unwrap();
    for (likelihood, classes) in [
        (
            Likelihood::DiscretisedLogistic(Discretisation::UNIT_8BIT),
            0,
        ),
        (Likelihood::Bernoulli, 3),
    ] {
        let conv = ConvVaeConfig::new(1, 8, 3, 2, likelihood)
            .with_classes(classes)
            .init(d, 4)
            .unwrap();
        let labels = (classes > 0).then_some(&labels[..]);
        let q = conv.encode(images.clone(), labels).unwrap();
        out.push(host(q.mean()));
        out.push(host(conv.decode(q.mean(), labels).unwrap()));
        out.push(host(
            conv.log_weights(images.clone(), labels, 3, &mut SeededRng::new(5))
                .unwrap(),
        ));
    }
    out
}

#[test]
fn every_vae_computes_the_same_on_every_backend() {
    assert_same_on_every_backend(outputs, true, &[], 1e-4, true);
}
