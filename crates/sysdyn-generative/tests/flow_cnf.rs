//! The CNF of sysdyn-nodes as a `Flow` (`flow::cnf`): forward then inverse returns the data to
//! the solver's tolerance (adaptive Dormand–Prince, f64 and f32); the log-determinant from the
//! trace integral equals the brute-force log-determinant of the finite-difference Jacobian of
//! the integrated map in both directions (fixed RK4 steps, so the map is smooth in `x`);
//! Hutchinson's log-determinant averages to the exact one over probe seeds; a wrong width, a
//! context and a non-positive flow time are typed errors.

mod flow_support;

use flow_support::{
    assert_log_det_brute_force, assert_round_trip, batch, f32_device, f64_device, host, rows,
};
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, MlpConfig};
use sysdyn_generative::GenerativeError;
use sysdyn_generative::flow::Flow;
use sysdyn_generative::flow::cnf::{CnfFlow, CnfSolver};
use sysdyn_nodes::{MlpField, Probe, TraceEstimator};
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::{DOPRI5, RK4};
use sysdyn_solvers::tableau::ButcherTableau;

fn field(device: &SysDevice, d: usize, seed: u64) -> MlpField {
    MlpField::time_dependent(
        MlpConfig::new(vec![d + 1, 16, d])
            .with_activation(Activation::Tanh)
            .init_seeded(device, seed)
            .unwrap(),
    )
}

fn flow(
    device: &SysDevice,
    d: usize,
    method: ButcherTableau,
    config: SolveConfig<burn::tensor::Tensor<2>>,
    estimator: TraceEstimator,
    seed: u64,
) -> CnfFlow<MlpField> {
    CnfFlow::new(
        field(device, d, 3),
        CnfSolver {
            method,
            config,
            estimator,
            flow_time: 1.0,
            seed,
        },
    )
    .unwrap()
}

#[test]
fn the_round_trip_is_within_the_solver_tolerance() {
    let device = f64_device();
    let adaptive = flow(
        &device,
        2,
        DOPRI5,
        SolveConfig::adaptive(1e-10, 1e-10),
        TraceEstimator::Exact,
        0,
    );
    assert_round_trip(&adaptive, batch(&device, &rows(1, 16, 2, 1.5)), None, 1e-8);
    let device = f32_device();
    let adaptive = flow(
        &device,
        2,
        DOPRI5,
        SolveConfig::adaptive(1e-6, 1e-6),
        TraceEstimator::Exact,
        0,
    );
    assert_round_trip(&adaptive, batch(&device, &rows(1, 16, 2, 1.5)), None, 1e-5);
}

#[test]
fn log_dets_match_the_finite_difference_jacobian() {
    let device = f64_device();
    let fixed = flow(
        &device,
        3,
        RK4,
        SolveConfig::fixed(1.0 / 100.0),
        TraceEstimator::Exact,
        0,
    );
    let worst = assert_log_det_brute_force(&fixed, &device, &rows(2, 4, 3, 1.0), None, 1e-7);
    println!("CNF, d = 3, RK4 × 100: largest |log-det − brute force| = {worst:e}");
    // The forward log-det is the trace integral: nonzero for this field.
    let t = fixed
        .forward(batch(&device, &rows(2, 4, 3, 1.0)), None)
        .unwrap();
    assert!(host(t.log_det).iter().all(|v| v.abs() > 1e-3));
}

#[test]
fn hutchinson_log_det_averages_to_the_exact_one() {
    let device = f64_device();
    let x = batch(&device, &rows(3, 1, 2, 1.0));
    let config = || SolveConfig::fixed(1.0 / 20.0);
    let exact = host(
        flow(&device, 2, RK4, config(), TraceEstimator::Exact, 0)
            .forward(x.clone(), None)
            .unwrap()
            .log_det,
    )[0];
    let n = 300;
    let draws: Vec<f64> = (0..n)
        .map(|seed| {
            let f = flow(
                &device,
                2,
                RK4,
                config(),
                TraceEstimator::Hutchinson(Probe::Rademacher),
                seed,
            );
            host(f.forward(x.clone(), None).unwrap().log_det)[0]
        })
        .collect();
    let mean = draws.iter().sum::<f64>() / n as f64;
    let se = (draws.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0) / n as f64)
        .sqrt();
    println!("CNF Hutchinson: mean {mean:.5} ± {se:.5}, exact {exact:.5}");
    assert!((mean - exact).abs() <= 3.0 * se && se > 0.0);
}

#[test]
fn bad_inputs_are_typed_errors() {
    let device = f64_device();
    let f = flow(
        &device,
        2,
        RK4,
        SolveConfig::fixed(0.1),
        TraceEstimator::Exact,
        0,
    );
    assert!(matches!(
        f.forward(device.zeros([3, 3]), None),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        f.inverse(device.zeros([3, 1]), None),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let context = device.zeros([3, 1]);
    assert!(matches!(
        f.forward(device.zeros([3, 2]), Some(&context)),
        Err(GenerativeError::Unsupported { .. })
    ));
    let bad_time = CnfFlow::new(
        field(&device, 2, 1),
        CnfSolver {
            method: RK4,
            config: SolveConfig::fixed(0.1),
            estimator: TraceEstimator::Exact,
            flow_time: 0.0,
            seed: 0,
        },
    );
    assert!(matches!(
        bad_time,
        Err(GenerativeError::InvalidParameter { .. })
    ));
}
