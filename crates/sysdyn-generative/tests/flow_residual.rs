//! Residual flows (`flow::residual`): every layer of `g` has spectral norm `c` and `g` is a
//! contraction; the fixed-point inverse inverts to its tolerance (f64 and f32) and its error
//! falls at Banach's rate `‖x_n − x‖ ≤ cⁿ/(1 − c)·‖x_1 − x_0‖` at every `n`; the power series of
//! `log det(I + J_g)` with exact traces converges to the brute-force log-determinant of the
//! finite-difference Jacobian within its truncation bound; Hutchinson's series is unbiased for
//! the truncated series and the Russian-roulette estimator for the exact log-determinant, both
//! within 3 standard errors over many seeds; `c ≥ 1`, a wrong width, a fixed point out of budget
//! and the other bad settings are typed errors.

mod flow_support;

use flow_support::{
    assert_log_det_brute_force, assert_round_trip, batch, f32_device, f64_device, fd_jacobian,
    host, log_abs_det, rows,
};
use proptest::prelude::*;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::Activation;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::flow::Flow;
use sysdyn_generative::flow::residual::{
    FixedPoint, LogDetEstimator, ResidualFlow, ResidualFlowConfig,
};
use sysdyn_nodes::Probe;

const C: f64 = 0.7;

fn block(device: &SysDevice, d: usize, seed: u64) -> ResidualFlow {
    ResidualFlowConfig::new(d, vec![16], C)
        .with_log_det(LogDetEstimator::ExactTrace { terms: 60 })
        .init(device, seed)
        .unwrap()
}

/// The largest singular value of a row-major `rows × cols` matrix (power iteration on `AᵀA`).
fn spectral_norm(a: &[f64], rows: usize, cols: usize) -> f64 {
    let mut v = vec![1.0; cols];
    let mut sigma = 0.0;
    for _ in 0..2000 {
        let av: Vec<f64> = (0..rows)
            .map(|i| (0..cols).map(|j| a[i * cols + j] * v[j]).sum())
            .collect();
        let atav: Vec<f64> = (0..cols)
            .map(|j| (0..rows).map(|i| a[i * cols + j] * av[i]).sum())
            .collect();
        let norm = atav.iter().map(|x| x * x).sum::<f64>().sqrt();
        sigma = norm.sqrt();
        v = atav.iter().map(|x| x / norm).collect();
    }
    sigma
}

#[test]
fn every_layer_has_norm_c_and_g_is_a_contraction() {
    let device = f64_device();
    let flow = block(&device, 3, 1);
    for w in flow.weights() {
        let [r, c] = w.dims();
        let sigma = spectral_norm(&host(w), r, c);
        assert!((sigma - C).abs() < 1e-8, "layer norm {sigma} ≠ {C}");
    }
    for row in rows(2, 5, 3, 2.0) {
        let g = |p: &[f64]| host(flow.residual(device.tensor(p.to_vec(), [1, 3]).unwrap()));
        let jacobian = fd_jacobian(&g, &row, 1e-6);
        let norm = spectral_norm(&jacobian, 3, 3);
        assert!(norm < C * C + 1e-6, "‖J_g‖ = {norm} > c² = {}", C * C);
    }
}

#[test]
fn power_iteration_restores_norm_c_after_a_weight_update() {
    let device = f64_device();
    let mut flow = block(&device, 3, 12);
    // An "optimizer step" that triples the first weight and perturbs it.
    let w = flow.layers[0].linear.weight.val();
    let noise = device
        .tensor(SeededRng::new(13).normals(3 * 16), [3, 16])
        .unwrap();
    flow.layers[0].linear.weight =
        burn::module::Param::from_tensor((w.mul_scalar(3.0) + noise.mul_scalar(0.1)).detach());
    // Power iteration approaches σ from below, so the applied norm approaches c from above.
    let mut excess = Vec::new();
    for _ in 0..4 {
        for _ in 0..50 {
            flow.power_iteration();
        }
        let sigma = spectral_norm(&host(flow.weights()[0].clone()), 3, 16);
        excess.push(sigma - C);
    }
    println!(
        "applied norm − c after 50, 100, 150, 200 power iterations: {:?}",
        excess
            .iter()
            .map(|e| format!("{e:.1e}"))
            .collect::<Vec<_>>()
    );
    assert!(excess.iter().all(|e| *e > -1e-12), "σ̂ above σ: {excess:?}");
    assert!(excess[3] < 1e-9, "{excess:?}");
    assert!(excess[3] < excess[0]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// The fixed point stops when the change is ≤ 1e-10: the error is ≤ c/(1 − c)·1e-10.
    #[test]
    fn the_fixed_point_inverts_f64(seed in 0u64..1000, data_seed in 0u64..1000) {
        let device = f64_device();
        let flow = block(&device, 3, seed);
        assert_round_trip(&flow, batch(&device, &rows(data_seed, 6, 3, 2.0)), None, 1e-9);
    }

    #[test]
    fn the_fixed_point_inverts_f32(seed in 0u64..1000, data_seed in 0u64..1000) {
        let device = f32_device();
        let flow = ResidualFlowConfig::new(3, vec![16], C)
            .with_fixed_point(FixedPoint { tolerance: 1e-6, max_iterations: 200 })
            .init(&device, seed)
            .unwrap();
        assert_round_trip(&flow, batch(&device, &rows(data_seed, 6, 3, 2.0)), None, 1e-5);
    }
}

#[test]
fn the_fixed_point_error_falls_at_the_banach_rate() {
    let device = f64_device();
    let flow = block(&device, 3, 4);
    let z = batch(&device, &rows(5, 4, 3, 2.0));
    let iterates: Vec<Vec<f64>> = flow
        .inverse_iterates(z, 200)
        .unwrap()
        .into_iter()
        .map(host)
        .collect();
    let limit = &iterates[200];
    let distance = |a: &[f64], b: &[f64], row: usize| {
        (0..3)
            .map(|j| (a[row * 3 + j] - b[row * 3 + j]).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    for row in 0..4 {
        let first_step = distance(&iterates[1], &iterates[0], row);
        assert!(first_step > 1e-3, "a trivial first step");
        for (n, iterate) in iterates.iter().enumerate().take(41) {
            let error = distance(iterate, limit, row);
            let bound = C.powi(n as i32) / (1.0 - C) * first_step;
            assert!(
                error <= bound + 1e-14,
                "row {row}, n = {n}: error {error:e} > bound {bound:e}"
            );
        }
        // Converged to rounding long before 200 iterations.
        assert!(distance(&iterates[199], limit, row) < 1e-14);
    }
}

#[test]
fn exact_trace_series_converges_to_the_brute_force_log_det() {
    let device = f64_device();
    let flow = block(&device, 3, 6);
    let x_rows = rows(7, 3, 3, 1.5);
    for row in &x_rows {
        let forward = |p: &[f64]| {
            let x = device.tensor(p.to_vec(), [1, 3]).unwrap();
            host(flow.forward(x, None).unwrap().value)
        };
        let brute = log_abs_det(fd_jacobian(&forward, row, 1e-5), 3);
        let x = device.tensor(row.clone(), [1, 3]).unwrap();
        let mut errors = Vec::new();
        for terms in 1..=30 {
            let series = host(
                flow.log_det_with(
                    x.clone(),
                    LogDetEstimator::ExactTrace { terms },
                    &mut SeededRng::new(0),
                )
                .unwrap(),
            )[0];
            let error = (series - brute).abs();
            // |tr Jᵏ| ≤ d‖J‖ᵏ ≤ d c^{2k}: the tail after n terms is ≤ d c^{2(n+1)}/((n+1)(1 − c²)).
            let c2 = C * C;
            let tail = 3.0 * c2.powi(terms as i32 + 1) / ((terms as f64 + 1.0) * (1.0 - c2));
            assert!(
                error <= tail + 1e-8,
                "{terms} terms: error {error:e} > bound {tail:e}"
            );
            errors.push(error);
        }
        println!(
            "exact-trace series, |error| after 1, 5, 10, 20, 30 terms: {:.2e} {:.2e} {:.2e} {:.2e} {:.2e}",
            errors[0], errors[4], errors[9], errors[19], errors[29]
        );
        assert!(errors[29] < 1e-8);
        assert!(errors[0] > 10.0 * errors[29]);
    }
    let worst = assert_log_det_brute_force(&flow, &device, &x_rows, None, 1e-7);
    println!("residual flow, 60 exact-trace terms: largest |log-det − brute force| = {worst:e}");
}

/// Mean and standard error of `n` draws of an estimator at one point (one row).
fn mean_and_standard_error(
    flow: &ResidualFlow,
    x: &[f64],
    estimator: LogDetEstimator,
    n: u64,
) -> (f64, f64) {
    let device = f64_device();
    let t = device.tensor(x.to_vec(), [1, x.len()]).unwrap();
    let draws: Vec<f64> = (0..n)
        .map(|seed| {
            host(
                flow.log_det_with(t.clone(), estimator, &mut SeededRng::new(seed))
                    .unwrap(),
            )[0]
        })
        .collect();
    let mean = draws.iter().sum::<f64>() / n as f64;
    let variance = draws.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
    (mean, (variance / n as f64).sqrt())
}

#[test]
fn hutchinson_series_is_unbiased_for_the_truncated_series() {
    let device = f64_device();
    let flow = block(&device, 3, 8);
    let x = [0.4, -1.1, 0.7];
    let t = device.tensor(x.to_vec(), [1, 3]).unwrap();
    let truncated = host(
        flow.log_det_with(
            t,
            LogDetEstimator::ExactTrace { terms: 8 },
            &mut SeededRng::new(0),
        )
        .unwrap(),
    )[0];
    for probe in [Probe::Rademacher, Probe::Gaussian] {
        let (mean, se) = mean_and_standard_error(
            &flow,
            &x,
            LogDetEstimator::Hutchinson { terms: 8, probe },
            1500,
        );
        println!(
            "Hutchinson ({probe:?}): mean {mean:.5} ± {se:.5}, truncated series {truncated:.5}"
        );
        assert!(
            (mean - truncated).abs() <= 3.0 * se,
            "{mean} ± {se} vs {truncated}"
        );
        assert!(se > 0.0);
    }
}

/// The exact log-determinant at `x` (brute force) and the roulette's mean and standard error.
fn roulette_against_brute_force(flow: &ResidualFlow, x: &[f64], draws: u64) -> (f64, f64, f64) {
    let device = f64_device();
    let d = x.len();
    let forward = |p: &[f64]| {
        host(
            flow.forward(device.tensor(p.to_vec(), [1, d]).unwrap(), None)
                .unwrap()
                .value,
        )
    };
    let exact = log_abs_det(fd_jacobian(&forward, x, 1e-5), d);
    let estimator = LogDetEstimator::RussianRoulette {
        exact_terms: 1,
        continue_probability: 0.6,
        probe: Probe::Rademacher,
    };
    let (mean, se) = mean_and_standard_error(flow, x, estimator, draws);
    (exact, mean, se)
}

#[test]
fn russian_roulette_is_unbiased_for_the_exact_log_det() {
    let device = f64_device();
    // d = 3: probe and truncation randomness together.
    let (exact, mean, se) =
        roulette_against_brute_force(&block(&device, 3, 9), &[0.3, 0.9, -0.5], 3000);
    println!("Russian roulette, d = 3: mean {mean:.5} ± {se:.5}, exact {exact:.5}");
    assert!((mean - exact).abs() <= 3.0 * se, "{mean} ± {se} vs {exact}");
    // d = 1: a Rademacher probe is exact (v² = 1), only the random truncation is left, and the
    // standard error is small enough that the test tells the unbiased estimator from the biased
    // one-term truncation (its bias is many standard errors).
    let flow = block(&device, 1, 10);
    let (exact, mean, se) = roulette_against_brute_force(&flow, &[0.2], 3000);
    println!("Russian roulette, d = 1: mean {mean:.6} ± {se:.6}, exact {exact:.6}");
    assert!((mean - exact).abs() <= 3.0 * se, "{mean} ± {se} vs {exact}");
    let t = device.tensor(vec![0.2], [1, 1]).unwrap();
    let truncated = host(
        flow.log_det_with(
            t,
            LogDetEstimator::ExactTrace { terms: 1 },
            &mut SeededRng::new(0),
        )
        .unwrap(),
    )[0];
    println!(
        "one-term truncation: {truncated:.6} (bias {:.2e})",
        truncated - exact
    );
    assert!(
        (truncated - exact).abs() > 3.0 * se,
        "{truncated} vs {exact} (se {se})"
    );
}

#[test]
fn bad_settings_and_inputs_are_typed_errors() {
    let device = f64_device();
    let invalid = |config: ResidualFlowConfig| {
        matches!(
            config.init(&device, 1),
            Err(GenerativeError::InvalidParameter { .. })
        )
    };
    assert!(invalid(ResidualFlowConfig::new(2, vec![4], 1.0)), "c = 1");
    assert!(invalid(ResidualFlowConfig::new(2, vec![4], 1.5)), "c > 1");
    assert!(invalid(ResidualFlowConfig::new(2, vec![4], 0.0)), "c = 0");
    assert!(
        invalid(ResidualFlowConfig::new(2, vec![4], f64::NAN)),
        "c NaN"
    );
    assert!(
        invalid(ResidualFlowConfig::new(2, vec![], 0.5)),
        "no hidden layer"
    );
    assert!(invalid(
        ResidualFlowConfig::new(2, vec![4], 0.5)
            .with_log_det(LogDetEstimator::ExactTrace { terms: 0 })
    ));
    assert!(invalid(
        ResidualFlowConfig::new(2, vec![4], 0.5).with_log_det(LogDetEstimator::RussianRoulette {
            exact_terms: 1,
            continue_probability: 1.0,
            probe: Probe::Gaussian,
        })
    ));
    assert!(invalid(
        ResidualFlowConfig::new(2, vec![4], 0.5).with_fixed_point(FixedPoint {
            tolerance: 0.0,
            max_iterations: 5
        })
    ));
    assert!(invalid(
        ResidualFlowConfig::new(2, vec![4], 0.5).with_fixed_point(FixedPoint {
            tolerance: 1e-8,
            max_iterations: 0
        })
    ));
    assert!(matches!(
        ResidualFlowConfig::new(2, vec![4], 0.5)
            .with_activation(Activation::Silu)
            .init(&device, 1),
        Err(GenerativeError::Unsupported { .. })
    ));
    // Three iterations cannot reach 1e-12: an error, not a half-converged x.
    let short = ResidualFlowConfig::new(3, vec![8], 0.9)
        .with_fixed_point(FixedPoint {
            tolerance: 1e-12,
            max_iterations: 3,
        })
        .init(&device, 2)
        .unwrap();
    let z = batch(&device, &rows(1, 2, 3, 2.0));
    match short.inverse(z, None) {
        Err(GenerativeError::NotConverged {
            iterations, change, ..
        }) => {
            assert_eq!(iterations, 3);
            assert!(change > 1e-12);
        }
        other => panic!("expected NotConverged, got {other:?}"),
    }
    let flow = block(&device, 3, 3);
    assert!(matches!(
        flow.forward(device.zeros([2, 2]), None),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        flow.inverse(device.zeros([2, 4]), None),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let context = device.zeros([2, 1]);
    assert!(matches!(
        flow.forward(device.zeros([2, 3]), Some(&context)),
        Err(GenerativeError::Unsupported { .. })
    ));
}
