//! The rational-quadratic spline (`flow::spline`): strictly increasing, continuous with a
//! continuous slope at every knot (interior and the ±B ends), the identity with zero
//! log-derivative in the tails, its log-derivative equal to the finite difference of the map,
//! its inverse (the stable quadratic root) exact; the coupling layer inverts (1e-10 f64, 1e-5
//! f32, inputs inside and outside [−B, B]), its log-determinants equal the brute-force
//! log-determinant of the finite-difference Jacobian in both directions, conditional or not;
//! bad settings (K = 0, K = 1, B ≤ 0, floors too large, one feature) are typed errors.

mod flow_support;

use burn::tensor::Tensor;
use flow_support::{
    assert_log_det_brute_force, assert_round_trip, batch, f32_device, f64_device, host, rows,
};
use proptest::prelude::*;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::flow::Flow;
use sysdyn_generative::flow::spline::{
    SplineCoupling, SplineCouplingConfig, SplineDirection, SplineKnots, SplineSettings,
};

const BINS: usize = 6;
const BOUND: f64 = 3.0;

/// One spline per row of a `[n, 1]` batch, all with the same random parameters (`seed`).
fn knots(device: &SysDevice, n: usize, seed: u64) -> SplineKnots {
    let settings = SplineSettings::new(BINS, BOUND);
    let p = settings.parameters_per_dimension();
    let one: Vec<f64> = SeededRng::new(seed)
        .normals(p)
        .into_iter()
        .map(|v| 1.5 * v)
        .collect();
    let values: Vec<f64> = (0..n).flat_map(|_| one.clone()).collect();
    settings
        .knots(device.tensor(values, [n, 1, p]).unwrap())
        .unwrap()
}

fn apply(
    knots: &SplineKnots,
    device: &SysDevice,
    x: &[f64],
    direction: SplineDirection,
) -> (Vec<f64>, Vec<f64>) {
    let t = device.tensor(x.to_vec(), [x.len(), 1]).unwrap();
    let (y, ld) = knots.apply(t, direction).unwrap();
    (host(y), host(ld))
}

fn grid(n: usize, from: f64, to: f64) -> Vec<f64> {
    (0..n)
        .map(|i| from + (to - from) * i as f64 / (n - 1) as f64)
        .collect()
}

#[test]
fn the_spline_is_increasing_and_the_identity_in_the_tails() {
    let device = f64_device();
    let x = grid(4001, -BOUND - 2.0, BOUND + 2.0);
    let k = knots(&device, x.len(), 1);
    let (y, log_derivative) = apply(&k, &device, &x, SplineDirection::Forward);
    for w in y.windows(2) {
        assert!(w[1] > w[0], "not increasing: {} then {}", w[0], w[1]);
    }
    for ((xi, yi), ld) in x.iter().zip(&y).zip(&log_derivative) {
        if xi.abs() > BOUND {
            assert_eq!(xi, yi, "not the identity in the tail");
            assert_eq!(*ld, 0.0);
        }
    }
    // The spline maps [−B, B] onto itself.
    let (ends, _) = apply(
        &knots(&device, 2, 1),
        &device,
        &[-BOUND, BOUND],
        SplineDirection::Forward,
    );
    assert!(
        (ends[0] + BOUND).abs() < 1e-12 && (ends[1] - BOUND).abs() < 1e-12,
        "{ends:?}"
    );
}

#[test]
fn value_and_slope_are_continuous_at_every_knot() {
    let device = f64_device();
    let k = knots(&device, 1, 2);
    let xs = host(k.xs.clone());
    let ys = host(k.ys.clone());
    let ds = host(k.derivatives.clone());
    let eps = 1e-9;
    for (i, &knot) in xs.iter().enumerate() {
        let probe = [knot - eps, knot, knot + eps];
        let kk = knots(&device, 3, 2);
        let (y, ld) = apply(&kk, &device, &probe, SplineDirection::Forward);
        assert!(
            (y[1] - ys[i]).abs() < 1e-12,
            "knot {i}: {} vs {}",
            y[1],
            ys[i]
        );
        assert!(
            (y[0] - y[1]).abs() < 1e-7 && (y[2] - y[1]).abs() < 1e-7,
            "jump at knot {i}: {y:?}"
        );
        // The slope from either side is the knot derivative (1 at ±B, where the tails join).
        assert!(
            (ld[0].exp() - ds[i]).abs() < 1e-6,
            "left slope at knot {i}: {} vs {}",
            ld[0].exp(),
            ds[i]
        );
        assert!(
            (ld[2].exp() - ds[i]).abs() < 1e-6,
            "right slope at knot {i}: {} vs {}",
            ld[2].exp(),
            ds[i]
        );
    }
    assert_eq!(ds[0], 1.0);
    assert_eq!(ds[BINS], 1.0);
}

#[test]
fn log_derivative_matches_finite_differences_and_the_inverse_is_exact() {
    let device = f64_device();
    let x = grid(301, -BOUND + 1e-3, BOUND - 1e-3);
    let h = 1e-6;
    let k = knots(&device, x.len(), 3);
    let (y, ld) = apply(&k, &device, &x, SplineDirection::Forward);
    let plus: Vec<f64> = x.iter().map(|v| v + h).collect();
    let minus: Vec<f64> = x.iter().map(|v| v - h).collect();
    let (yp, _) = apply(&k, &device, &plus, SplineDirection::Forward);
    let (ym, _) = apply(&k, &device, &minus, SplineDirection::Forward);
    let mut worst: f64 = 0.0;
    for i in 0..x.len() {
        let fd = (yp[i] - ym[i]) / (2.0 * h);
        worst = worst.max((ld[i] - fd.ln()).abs());
    }
    println!("spline: largest |log dy/dx − log FD| = {worst:e}");
    assert!(worst < 1e-6);
    let (back, ld_back) = apply(&k, &device, &y, SplineDirection::Inverse);
    for i in 0..x.len() {
        assert!(
            (back[i] - x[i]).abs() < 1e-12,
            "inverse at {}: {}",
            x[i],
            back[i]
        );
        assert!((ld_back[i] + ld[i]).abs() < 1e-10);
    }
}

fn coupling(device: &SysDevice, d: usize, context: usize, flip: bool, seed: u64) -> SplineCoupling {
    SplineCouplingConfig::new(d, vec![16], BINS, BOUND)
        .with_context(context)
        .with_flip(flip)
        .init(device, seed)
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Inputs of scale 2.5 around B = 3: many rows fall in the tails.
    #[test]
    fn the_coupling_inverts_f64(seed in 0u64..1000, data_seed in 0u64..1000, flip in any::<bool>()) {
        let device = f64_device();
        let layer = coupling(&device, 4, 0, flip, seed);
        assert_round_trip(&layer, batch(&device, &rows(data_seed, 8, 4, 2.5)), None, 1e-10);
    }

    #[test]
    fn the_coupling_inverts_f32(seed in 0u64..1000, data_seed in 0u64..1000, flip in any::<bool>()) {
        let device = f32_device();
        let layer = coupling(&device, 4, 0, flip, seed);
        assert_round_trip(&layer, batch(&device, &rows(data_seed, 8, 4, 2.5)), None, 1e-5);
    }
}

#[test]
fn coupling_log_dets_match_the_finite_difference_jacobian() {
    let device = f64_device();
    // Rows inside [−B, B] (away from the knots' kinks in the second derivative only).
    let inside = rows(4, 4, 3, 1.0);
    let worst = assert_log_det_brute_force(
        &coupling(&device, 3, 0, false, 5),
        &device,
        &inside,
        None,
        1e-6,
    );
    println!("spline coupling, d = 3: largest |log-det − brute force| = {worst:e}");
    let worst = assert_log_det_brute_force(
        &coupling(&device, 4, 2, true, 6),
        &device,
        &rows(5, 4, 4, 1.0),
        Some(&[0.5, -1.0]),
        1e-6,
    );
    println!("conditional spline coupling, d = 4: {worst:e}");
    let conditional = coupling(&device, 4, 2, false, 7);
    let context = batch(&device, &rows(6, 5, 2, 1.0));
    assert_round_trip(
        &conditional,
        batch(&device, &rows(7, 5, 4, 2.0)),
        Some(&context),
        1e-10,
    );
    // Only the odd dimensions move (the even ones when flipped).
    let x = batch(&device, &rows(8, 3, 4, 1.0));
    let z = coupling(&device, 4, 0, false, 9)
        .forward(x.clone(), None)
        .unwrap()
        .value;
    let (xv, zv) = (host(x), host(z));
    for i in 0..xv.len() {
        if i % 4 % 2 == 0 {
            assert_eq!(xv[i], zv[i]);
        } else {
            assert_ne!(xv[i], zv[i]);
        }
    }
}

#[test]
fn bad_settings_are_typed_errors() {
    let device = f64_device();
    let invalid = |config: SplineCouplingConfig| {
        matches!(
            config.init(&device, 1),
            Err(GenerativeError::InvalidParameter { .. })
        )
    };
    assert!(
        invalid(SplineCouplingConfig::new(2, vec![4], 0, 3.0)),
        "K = 0"
    );
    assert!(
        invalid(SplineCouplingConfig::new(2, vec![4], 1, 3.0)),
        "K = 1"
    );
    assert!(
        invalid(SplineCouplingConfig::new(2, vec![4], 4, 0.0)),
        "B = 0"
    );
    assert!(
        invalid(SplineCouplingConfig::new(2, vec![4], 4, -1.0)),
        "B < 0"
    );
    assert!(
        invalid(SplineCouplingConfig::new(2, vec![4], 4, f64::NAN)),
        "B NaN"
    );
    assert!(
        invalid(SplineCouplingConfig::new(1, vec![4], 4, 3.0)),
        "one feature"
    );
    let mut floors = SplineSettings::new(4, 3.0);
    floors.min_bin_width = 0.25;
    assert!(
        invalid(SplineCouplingConfig::new(2, vec![4], 4, 3.0).with_spline(floors)),
        "K·w_min = 1"
    );
    let mut derivative = SplineSettings::new(4, 3.0);
    derivative.min_derivative = 0.0;
    assert!(
        invalid(SplineCouplingConfig::new(2, vec![4], 4, 3.0).with_spline(derivative)),
        "δ_min = 0"
    );
    let k = knots(&device, 3, 1);
    let mismatched = device.zeros([2, 1]);
    assert!(matches!(
        k.apply(mismatched, SplineDirection::Forward),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let settings = SplineSettings::new(4, 3.0);
    let wrong: Tensor<3> = device.zeros([2, 1, 5]);
    assert!(matches!(
        settings.knots(wrong),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let layer = coupling(&device, 4, 0, false, 1);
    assert!(matches!(
        layer.forward(device.zeros([2, 3]), None),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let context = device.zeros([2, 1]);
    assert!(matches!(
        layer.forward(device.zeros([2, 4]), Some(&context)),
        Err(GenerativeError::Unsupported { .. })
    ));
}
