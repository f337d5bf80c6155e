//! The VAE's latent-space tools: linear and spherical interpolation (end points, constant
//! norm and angle along the great circle), traversal grids, and the posterior means of a
//! data set.

use std::sync::OnceLock;

use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_generative::GenerativeError;
use sysdyn_generative::vae::{Interpolation, Likelihood, MlpVaeConfig, latent_means, traversal};

fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut device: SysDevice = "flex:f64:autodiff"
                .parse::<DeviceSpec>()
                .unwrap()
                .init()
                .unwrap();
            device.configure_defaults().unwrap();
            device
        })
        .clone()
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn angle(a: &[f64], b: &[f64]) -> f64 {
    (a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>() / (norm(a) * norm(b)))
        .clamp(-1.0, 1.0)
        .acos()
}

#[test]
fn interpolations_hit_their_end_points_and_slerp_follows_the_great_circle() {
    let a = [3.0, 0.0, 4.0];
    let b = [0.0, 5.0, 0.0];
    for method in [Interpolation::Linear, Interpolation::Spherical] {
        assert_eq!(method.at(&a, &b, 0.0).unwrap(), a.to_vec());
        let end = method.at(&a, &b, 1.0).unwrap();
        assert!(
            end.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-14),
            "{end:?}"
        );
    }
    assert_eq!(
        Interpolation::Linear.at(&a, &b, 0.5).unwrap(),
        vec![1.5, 2.5, 2.0]
    );
    // a and b are orthogonal with norm 5: slerp keeps the norm 5 and moves the angle
    // linearly, t·π/2 from a.
    let path = Interpolation::Spherical.path(&a, &b, 5).unwrap();
    for (i, code) in path.chunks(3).enumerate() {
        let t = i as f64 / 4.0;
        assert!(
            (norm(code) - 5.0).abs() < 1e-12,
            "step {i}: norm {}",
            norm(code)
        );
        let expected = t * std::f64::consts::FRAC_PI_2;
        assert!((angle(&a, code) - expected).abs() < 1e-12, "step {i}");
    }
    // Parallel codes: slerp falls back to the straight line.
    let c = [6.0, 0.0, 8.0];
    assert_eq!(
        Interpolation::Spherical.at(&a, &c, 0.5).unwrap(),
        Interpolation::Linear.at(&a, &c, 0.5).unwrap()
    );
    assert!(matches!(
        Interpolation::Linear.at(&a, &[1.0], 0.5),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(Interpolation::Linear.path(&a, &b, 1).is_err());
}

#[test]
fn a_traversal_varies_one_dimension_at_a_time() {
    let base = [0.5, -1.0, 2.0];
    let grid = traversal(&base, &[0, 2], -2.0, 2.0, 3).unwrap();
    #[rustfmt::skip]
    let expected = vec![
        -2.0, -1.0, 2.0,
        0.0, -1.0, 2.0,
        2.0, -1.0, 2.0,
        0.5, -1.0, -2.0,
        0.5, -1.0, 0.0,
        0.5, -1.0, 2.0,
    ];
    assert_eq!(grid, expected);
    assert!(traversal(&base, &[3], -1.0, 1.0, 3).is_err());
    assert!(traversal(&base, &[0], -1.0, 1.0, 1).is_err());
}

#[test]
fn latent_means_are_the_encoders_means_in_batches() {
    let device = device();
    let vae = MlpVaeConfig::new(3, vec![5], 2, Likelihood::Bernoulli)
        .init(&device, 4)
        .unwrap();
    let data: Vec<f64> = (0..7 * 3).map(|i| (i as f64 * 0.37).sin()).collect();
    let means = latent_means(&vae, &device, &data, None, 3).unwrap();
    let all = host(
        vae.encode(device.tensor(data.clone(), [7, 3]).unwrap(), None)
            .unwrap()
            .mean(),
    );
    assert_eq!(means.len(), 14);
    for (a, b) in means.iter().zip(&all) {
        assert!((a - b).abs() < 1e-14);
    }
    // Decoding a traversal of the first row's code gives one image per grid point.
    let grid = traversal(&means[..2], &[0, 1], -3.0, 3.0, 4).unwrap();
    let decoded = vae
        .decode_mean(device.tensor(grid, [8, 2]).unwrap(), None)
        .unwrap();
    let pixels = host(decoded);
    assert_eq!(pixels.len(), 8 * 3);
    assert!(pixels.iter().all(|p| (0.0..=1.0).contains(p)));
    assert!(latent_means(&vae, &device, &data[..5], None, 3).is_err());
}
