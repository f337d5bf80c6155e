//! The EMA codebook update against the formula computed by hand on a tiny example (two
//! updates, with Laplace smoothing large enough to matter), its fixed point (each used code
//! the mean of its outputs), and its settings refused with typed errors.

use std::sync::OnceLock;

use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_generative::GenerativeError;
use sysdyn_generative::vq::{Codebook, EmaCodebook, EmaConfig};

fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut d: SysDevice = "flex:f64:autodiff"
                .parse::<DeviceSpec>()
                .unwrap()
                .init()
                .unwrap();
            d.configure_defaults().unwrap();
            d
        })
        .clone()
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

fn assert_close(got: &[f64], expected: &[f64], tolerance: f64) {
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(expected) {
        assert!((g - e).abs() <= tolerance, "{got:?} vs {expected:?}");
    }
}

#[test]
fn the_ema_update_matches_the_formula_by_hand() {
    let device = device();
    let e0 = vec![0.0, 0.0, 1.0, 1.0, 5.0, 5.0];
    let mut codebook = Codebook::from_vectors(device.tensor(e0, [3, 2]).unwrap()).unwrap();
    let config = EmaConfig {
        decay: 0.9,
        epsilon: 0.1,
    };
    let mut ema = EmaCodebook::new(&codebook, config).unwrap();
    assert_eq!(to_vec(ema.counts.val()), vec![1.0, 1.0, 1.0]);

    // Batch 1: two outputs to code 0, one to code 1, none to code 2.
    let z = device
        .tensor(vec![0.2, 0.0, 0.4, 0.2, 1.2, 0.8], [3, 2])
        .unwrap();
    ema.update(&mut codebook, z, &[0, 0, 1]).unwrap();
    // N = 0.9·1 + 0.1·(2, 1, 0) = (1.1, 1.0, 0.9), Σ N = 3.
    assert_close(&to_vec(ema.counts.val()), &[1.1, 1.0, 0.9], 1e-15);
    // m = 0.9·e + 0.1·s with s = ((0.6, 0.2), (1.2, 0.8), (0, 0)).
    let m = [0.06, 0.02, 1.02, 0.98, 4.5, 4.5];
    assert_close(&to_vec(ema.sums.val()), &m, 1e-15);
    // Ñ = (N + 0.1) / (3 + 3·0.1) · 3 = (1.2, 1.1, 1.0) / 1.1.
    let smoothed = [1.2 / 1.1, 1.0, 1.0 / 1.1];
    let expected: Vec<f64> = m
        .iter()
        .enumerate()
        .map(|(i, mi)| mi / smoothed[i / 2])
        .collect();
    // e₀ = (0.055, 0.01833…), e₁ = (1.02, 0.98), e₂ = (4.95, 4.95).
    assert_close(
        &expected,
        &[0.055, 0.02 / 1.2 * 1.1, 1.02, 0.98, 4.95, 4.95],
        1e-14,
    );
    assert_close(&to_vec(codebook.vectors.val()), &expected, 1e-14);

    // Batch 2: one output to code 2 only.
    let z = device.tensor(vec![3.0, -1.0], [1, 2]).unwrap();
    ema.update(&mut codebook, z, &[2]).unwrap();
    let counts = [0.9 * 1.1, 0.9 * 1.0, 0.9 * 0.9 + 0.1];
    let total: f64 = counts.iter().sum();
    let m2 = [
        0.9 * m[0],
        0.9 * m[1],
        0.9 * m[2],
        0.9 * m[3],
        0.9 * m[4] + 0.1 * 3.0,
        0.9 * m[5] - 0.1,
    ];
    let expected: Vec<f64> = m2
        .iter()
        .enumerate()
        .map(|(i, mi)| mi / ((counts[i / 2] + 0.1) / (total + 0.3) * total))
        .collect();
    assert_close(&to_vec(ema.counts.val()), &counts, 1e-15);
    assert_close(&to_vec(ema.sums.val()), &m2, 1e-15);
    assert_close(&to_vec(codebook.vectors.val()), &expected, 1e-14);
    // The codebook is moved by the averages, not trained.
    assert!(!ema.counts.val().is_require_grad() && !ema.sums.val().is_require_grad());
}

#[test]
fn repeated_updates_move_each_used_code_to_the_mean_of_its_outputs() {
    let device = device();
    let mut codebook = Codebook::from_vectors(
        device
            .tensor(vec![0.0, 0.0, 3.0, 3.0, 9.0, -9.0], [3, 2])
            .unwrap(),
    )
    .unwrap();
    let mut ema = EmaCodebook::new(&codebook, EmaConfig::default()).unwrap();
    let z_values = vec![1.0, 2.0, 3.0, 0.0, 4.0, 4.0, 6.0, 2.0, 5.0, 3.0];
    let codes = [0, 0, 1, 1, 1];
    for _ in 0..2000 {
        let z = device.tensor(z_values.clone(), [5, 2]).unwrap();
        ema.update(&mut codebook, z, &codes).unwrap();
    }
    // γ^2000 ≈ 2e-9 of the start is left; the smoothing shifts each code by about ε/n_k.
    let vectors = to_vec(codebook.vectors.val());
    assert_close(&vectors[..4], &[2.0, 1.0, 5.0, 3.0], 1e-4);
    assert_close(&to_vec(ema.counts.val())[..2], &[2.0, 3.0], 1e-6);
    // The unused code decays towards 0 (its count and sum shrink alike, up to the smoothing).
    assert!(to_vec(ema.counts.val())[2] < 1e-8);
}

#[test]
fn bad_settings_and_shapes_are_typed_errors() {
    let device = device();
    let mut codebook = Codebook::from_vectors(device.zeros([3, 2])).unwrap();
    for (decay, epsilon) in [
        (1.0, 1e-5),
        (-0.1, 1e-5),
        (f64::NAN, 1e-5),
        (0.99, 0.0),
        (0.99, -1.0),
    ] {
        let err = EmaCodebook::new(&codebook, EmaConfig { decay, epsilon }).unwrap_err();
        assert!(
            matches!(err, GenerativeError::InvalidParameter { .. }),
            "{err}"
        );
    }
    let mut ema = EmaCodebook::new(&codebook, EmaConfig::default()).unwrap();
    let z = device.zeros([2, 2]);
    assert!(matches!(
        ema.update(&mut codebook, z.clone(), &[0]),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        ema.update(&mut codebook, z.clone(), &[0, 3]),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    assert!(matches!(
        ema.update(&mut codebook, device.zeros([2, 3]), &[0, 1]),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
}
