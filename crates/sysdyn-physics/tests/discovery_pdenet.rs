//! PDE-Net 2.0: moment-constrained filters against the classical stencils and their measured
//! order, SymNet's expansion against a hand-computed polynomial, exact convection–diffusion
//! data, and a trained PDE-Net that recovers `u_t = a u_x + b u_y + ν Δu` and stays stable for
//! rollouts five times its training horizon.

use std::sync::OnceLock;

use burn::optim::AdamConfig;
use burn::tensor::{Tensor, TensorData};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_core::spectral::Spectral2d;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::discovery::pdenet::{
    ConvectionDiffusion2d, Derivative, FilterBank, HorizonSchedule, MomentConstraint, MomentFilter,
    PdeNetConfig, PdeNetStep, ProductLayer, RecoveryConfig, ReferenceSolver, Regularisation,
    SymNet, Trajectories, filter_from_moments, moments_of_filter, recovery, vandermonde,
};
use sysdyn_train::{
    Checkpointable, Checkpoints, LrSchedule, Optim, StepContext, TrainConfig, TrainStep,
};

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
    t.detach().try_into_vec_as::<f64>().unwrap()
}

fn field(values: Vec<f64>, shape: [usize; 3]) -> Tensor<3> {
    field_on(&device(), values, shape)
}

fn field_on(d: &SysDevice, values: Vec<f64>, shape: [usize; 3]) -> Tensor<3> {
    Tensor::from_data(
        TensorData::new(values, shape).convert_dtype(d.dtype()),
        (d.device(), d.dtype()),
    )
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// `w` along x (rows) times the unit impulse at the centre along y, or the reverse.
fn along_x(w: &[f64]) -> Vec<f64> {
    let k = w.len();
    let mut q = vec![0.0; k * k];
    for a in 0..k {
        q[a * k + k / 2] = w[a];
    }
    q
}

fn along_y(w: &[f64]) -> Vec<f64> {
    let k = w.len();
    let mut q = vec![0.0; k * k];
    q[(k / 2) * k..(k / 2 + 1) * k].copy_from_slice(w);
    q
}

fn outer(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter()
        .flat_map(|x| b.iter().map(move |y| x * y))
        .collect()
}

#[test]
fn frozen_moment_filters_are_the_classical_finite_difference_stencils() {
    let central_1_3 = [-0.5, 0.0, 0.5];
    let central_2_3 = [1.0, -2.0, 1.0];
    let central_1_5 = [1.0 / 12.0, -2.0 / 3.0, 0.0, 2.0 / 3.0, -1.0 / 12.0];
    let central_2_5 = [-1.0 / 12.0, 4.0 / 3.0, -5.0 / 2.0, 4.0 / 3.0, -1.0 / 12.0];
    let cases: Vec<(Derivative, usize, Vec<f64>)> = vec![
        (Derivative::new(1, 0), 3, along_x(&central_1_3)),
        (Derivative::new(0, 1), 3, along_y(&central_1_3)),
        (Derivative::new(2, 0), 3, along_x(&central_2_3)),
        (Derivative::new(0, 2), 3, along_y(&central_2_3)),
        (Derivative::new(1, 1), 3, outer(&central_1_3, &central_1_3)),
        (Derivative::new(1, 0), 5, along_x(&central_1_5)),
        (Derivative::new(0, 2), 5, along_y(&central_2_5)),
        (Derivative::new(1, 1), 5, outer(&central_1_5, &central_1_5)),
        (Derivative::new(2, 1), 5, outer(&central_2_5, &central_1_5)),
    ];
    for (derivative, k, expected) in cases {
        let constraint = MomentConstraint::new(derivative, 1, k).unwrap();
        let stencil = constraint.stencil().unwrap();
        assert!(
            max_abs_diff(&stencil, &expected) < 1e-13,
            "{derivative:?} k = {k}: {stencil:?}"
        );
        // The same filter as a tensor module at unit spacing, and scaled by h^{α+β}.
        let filter = MomentFilter::stencil(constraint, &device()).unwrap();
        assert!(max_abs_diff(&to_vec(filter.kernel(1.0, 1.0)), &expected) < 1e-13);
        let (hx, hy): (f64, f64) = (0.1, 0.25);
        let scale = hx.powi(derivative.x as i32) * hy.powi(derivative.y as i32);
        let scaled: Vec<f64> = expected.iter().map(|q| q / scale).collect();
        assert!(max_abs_diff(&to_vec(filter.kernel(hx, hy)), &scaled) < 1e-9);
    }
}

#[test]
fn moments_and_filters_are_inverse_maps_and_frozen_moments_stay_frozen() {
    let mut rng = SeededRng::new(11);
    for k in [1, 3, 5, 7] {
        let q = rng.normals(k * k);
        let m = moments_of_filter(&q, k).unwrap();
        assert!(max_abs_diff(&filter_from_moments(&m, k).unwrap(), &q) < 1e-10);
        // M = V q Vᵀ entry by entry from the definition M_ij = Σ q[a,b] x_a^i y_b^j / (i! j!).
        let half = (k / 2) as f64;
        let fact = |n: usize| (1..=n).map(|i| i as f64).product::<f64>();
        for i in 0..k {
            for j in 0..k {
                let direct: f64 = (0..k * k)
                    .map(|n| {
                        let (x, y) = ((n / k) as f64 - half, (n % k) as f64 - half);
                        q[n] * x.powi(i as i32) * y.powi(j as i32) / (fact(i) * fact(j))
                    })
                    .sum();
                assert!((direct - m[i * k + j]).abs() < 1e-10);
            }
        }
        assert_eq!(vandermonde(k).unwrap().len(), k * k);
    }
    // A learnable filter with random free moments keeps its frozen ones exactly.
    let constraint = MomentConstraint::new(Derivative::new(1, 1), 2, 5).unwrap();
    let filter = MomentFilter::new(constraint, rng.normals(25), &device()).unwrap();
    let m = moments_of_filter(&to_vec(filter.kernel(1.0, 1.0)), 5).unwrap();
    for i in 0..5 {
        for j in 0..5 {
            if constraint.is_frozen(i, j) {
                let expected = if (i, j) == (1, 1) { 1.0 } else { 0.0 };
                assert!((m[i * 5 + j] - expected).abs() < 1e-12, "M[{i}][{j}]");
            }
        }
    }
    assert_eq!(constraint.free_count(), 25 - 10);
}

/// `f = sin(x + 2y) + cos(2x − y)` on `[0, 2π)²` and its derivatives.
fn smooth(x: f64, y: f64, d: Derivative) -> f64 {
    // ∂^{α}_x ∂^{β}_y of sin(kx x + ky y): kx^α ky^β sin(· + (α+β)π/2); cos likewise.
    let term = |kx: f64, ky: f64, shift: f64| {
        kx.powi(d.x as i32)
            * ky.powi(d.y as i32)
            * (kx * x + ky * y + shift + d.order() as f64 * std::f64::consts::FRAC_PI_2).sin()
    };
    term(1.0, 2.0, 0.0) + term(2.0, -1.0, std::f64::consts::FRAC_PI_2)
}

/// The slope of log(max error) against log(h) of `filter` over grids of `sizes` points.
fn measured_order(filter: MomentFilter, sizes: &[usize]) -> f64 {
    let d = filter.constraint().derivative();
    let k = filter.constraint().size();
    let bank_derivs = [d];
    let mut bank =
        FilterBank::new(&bank_derivs, filter.constraint().accuracy(), k, &device()).unwrap();
    bank = bank.with_filters(vec![filter]).unwrap();
    let points: Vec<(f64, f64)> = sizes
        .iter()
        .map(|&n| {
            let h = std::f64::consts::TAU / n as f64;
            let u: Vec<f64> = (0..n * n)
                .map(|p| {
                    smooth(
                        (p / n) as f64 * h,
                        (p % n) as f64 * h,
                        Derivative::new(0, 0),
                    )
                })
                .collect();
            let exact: Vec<f64> = (0..n * n)
                .map(|p| smooth((p / n) as f64 * h, (p % n) as f64 * h, d))
                .collect();
            let approx = to_vec(bank.apply(field(u, [1, n, n]), h, h));
            (h.ln(), max_abs_diff(&approx, &exact).ln())
        })
        .collect();
    let m = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / m, sy / m);
    let num: f64 = points.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let den: f64 = points.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    num / den
}

#[test]
fn filters_approximate_their_derivative_to_the_constrained_order() {
    let mut rng = SeededRng::new(5);
    let sizes = [64, 128, 256, 512];
    for (derivative, accuracy) in [
        (Derivative::new(1, 0), 1),
        (Derivative::new(1, 0), 2),
        (Derivative::new(1, 0), 3),
        (Derivative::new(0, 2), 2),
        (Derivative::new(1, 1), 2),
        (Derivative::new(1, 1), 3),
    ] {
        let constraint = MomentConstraint::new(derivative, accuracy, 5).unwrap();
        // Random free moments: the error is exactly O(h^accuracy), no better.
        let free: Vec<f64> = rng.normals(25).iter().map(|m| 0.5 * m).collect();
        let filter = MomentFilter::new(constraint, free, &device()).unwrap();
        let order = measured_order(filter, &sizes);
        assert!(
            (order - accuracy as f64).abs() < 0.2,
            "{derivative:?} accuracy {accuracy}: measured order {order:.3}"
        );
        println!("{derivative:?} accuracy {accuracy}: slope {order:.3}");
    }
    // With every free moment zero, the 5-point stencils are fourth order.
    for derivative in [
        Derivative::new(1, 0),
        Derivative::new(0, 2),
        Derivative::new(1, 1),
    ] {
        let constraint = MomentConstraint::new(derivative, 1, 5).unwrap();
        let filter = MomentFilter::stencil(constraint, &device()).unwrap();
        let order = measured_order(filter, &[16, 32, 64, 128]);
        assert!(
            (order - 4.0).abs() < 0.2,
            "{derivative:?} stencil: {order:.3}"
        );
        println!("{derivative:?} stencil: slope {order:.3}");
    }
}

#[test]
fn symnet_expands_to_the_hand_computed_polynomial() {
    let d = device();
    // p1 = (u + 2 u_x + 1)(3 u_xx − 1), p2 = p1 · u, out = 0.5 u + 2 p1 − p2 + 0.25.
    let layers = vec![
        ProductLayer {
            weight: vec![1.0, 0.0, 2.0, 0.0, 0.0, 3.0],
            bias: vec![1.0, -1.0],
        },
        ProductLayer {
            weight: vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
            bias: vec![0.0, 0.0],
        },
    ];
    let net = SymNet::from_weights(
        &["u", "u_x", "u_xx"],
        layers,
        vec![0.5, 0.0, 0.0, 2.0, -1.0],
        0.25,
        &d,
    )
    .unwrap();
    let p = net.expand().unwrap();
    let expected = [
        ("1", -1.75),
        ("u", -0.5),
        ("u_x", -4.0),
        ("u_xx", 6.0),
        ("u^2", 1.0),
        ("u u_x", 2.0),
        ("u u_xx", 3.0),
        ("u_x u_xx", 12.0),
        ("u^2 u_xx", -3.0),
        ("u u_x u_xx", -6.0),
    ];
    let nonzero: Vec<(String, f64)> = p
        .terms()
        .into_iter()
        .filter(|(_, c)| c.abs() > 1e-14)
        .collect();
    assert_eq!(nonzero.len(), expected.len(), "{p}");
    for (name, c) in expected {
        assert!((p.coefficient(name) - c).abs() < 1e-14, "{name}: {p}");
    }
    // The network and its polynomial agree at random points.
    let mut rng = SeededRng::new(2);
    let points = rng.normals(3 * 20);
    let out = to_vec(net.forward(Tensor::from_data(
        TensorData::new(points.clone(), [20, 3]).convert_dtype(d.dtype()),
        (d.device(), d.dtype()),
    )));
    for (row, y) in points.chunks(3).zip(out) {
        assert!((p.evaluate(row).unwrap() - y).abs() < 1e-12);
    }
    // Pruning and printing.
    let pruned = p.pruned(5.0);
    assert_eq!(
        pruned.to_string(),
        "6.0000 u_xx + 12.0000 u_x u_xx − 6.0000 u u_x u_xx"
    );
    assert_eq!(p.pruned(100.0).to_string(), "0");
}

#[test]
fn the_exact_convection_diffusion_solution_shifts_and_damps_each_mode() {
    let (a, b, nu) = (0.8, -0.6, 0.15);
    let n = 16;
    let mut eq = ConvectionDiffusion2d::new(
        a,
        b,
        nu,
        (n, n),
        (std::f64::consts::TAU, std::f64::consts::TAU),
    )
    .unwrap();
    let h = std::f64::consts::TAU / n as f64;
    let mode = |t: f64| -> Vec<f64> {
        (0..n * n)
            .map(|p| {
                let (x, y) = ((p / n) as f64 * h, (p % n) as f64 * h);
                (-nu * 5.0 * t).exp() * (2.0 * (x + a * t) - (y + b * t) + 0.3).cos()
            })
            .collect()
    };
    let u = eq.solution(&mode(0.0), 0.7).unwrap();
    assert!(max_abs_diff(&u, &mode(0.7)) < 1e-12);
    // Random initial conditions are seeded.
    let u1 = eq.random_initial_condition(&mut SeededRng::new(4), 3);
    let u2 = eq.random_initial_condition(&mut SeededRng::new(4), 3);
    assert_eq!(u1, u2);
    let mut with_nan = u1.clone();
    with_nan[17] = f64::NAN;
    assert!(matches!(
        eq.solution(&with_nan, 0.1),
        Err(PhysicsError::NonFinite { index: 17, .. })
    ));
}

#[test]
fn bad_filters_grids_and_data_are_typed_errors() {
    let d = device();
    // A 3 × 3 filter cannot hold a second derivative to second order (needs 2 + 2 ≤ k).
    assert!(matches!(
        MomentConstraint::new(Derivative::new(2, 0), 2, 3),
        Err(PhysicsError::GridTooSmall {
            got: 3,
            needed: 4,
            ..
        })
    ));
    assert!(matches!(
        MomentConstraint::new(Derivative::new(1, 0), 1, 4),
        Err(PhysicsError::InvalidParameter { .. })
    ));
    // Non-finite free moments; SymNet weights of the wrong size.
    let constraint = MomentConstraint::new(Derivative::new(1, 0), 2, 5).unwrap();
    let mut free = vec![0.0; 25];
    free[12] = f64::INFINITY;
    assert!(matches!(
        MomentFilter::new(constraint, free, &d),
        Err(PhysicsError::NonFinite { index: 12, .. })
    ));
    assert!(matches!(
        SymNet::from_weights(&["u", "u_x"], vec![], vec![1.0], 0.0, &d),
        Err(PhysicsError::SizeMismatch {
            expected: 2,
            got: 1,
            ..
        })
    ));
    // A grid smaller than the filters.
    let net = PdeNetConfig::new(0.01, (0.1, 0.1))
        .init(&d, &mut SeededRng::new(0))
        .unwrap();
    assert!(matches!(
        net.rollout(field(vec![0.0; 4 * 8], [1, 4, 8]), 1),
        Err(PhysicsError::GridTooSmall {
            got: 4,
            needed: 5,
            ..
        })
    ));
    // A non-finite initial field.
    let mut values = vec![0.5; 8 * 8];
    values[9] = f64::NAN;
    assert!(matches!(
        net.rollout(field(values, [1, 8, 8]), 1),
        Err(PhysicsError::NonFinite { index: 9, .. })
    ));
    // NaN training data.
    let mut values = vec![0.5; 2 * 3 * 8 * 8];
    values[70] = f64::NAN;
    assert!(matches!(
        Trajectories::new(values, [2, 3, 8, 8]),
        Err(PhysicsError::NonFinite { index: 70, .. })
    ));
    // A horizon longer than the trajectories.
    let data = Trajectories::new(vec![0.5; 2 * 3 * 8 * 8], [2, 3, 8, 8]).unwrap();
    assert!(matches!(
        PdeNetStep::new(
            &d,
            net,
            Optim::new(AdamConfig::new().build()),
            data,
            HorizonSchedule::new(vec![(0, 1), (10, 3)]).unwrap(),
            Regularisation {
                symnet_l1: 0.0,
                moment_l1: 0.0
            },
        ),
        Err(PhysicsError::SizeMismatch { .. })
    ));
    assert!(HorizonSchedule::new(vec![(5, 1)]).is_err());
    assert!(HorizonSchedule::new(vec![(0, 1), (0, 2)]).is_err());
}

/// What a training run found.
struct Recovery {
    equation: sysdyn_physics::discovery::pdenet::Polynomial,
    /// Relative errors of the true terms' coefficients, in the problem's order.
    errors: Vec<f64>,
    /// The true terms.
    truth: Vec<(&'static str, f64)>,
    /// Relative L2 error of a held-out rollout at each block.
    rollout_errors: Vec<f64>,
    /// The same for persistence (`u_n = u_0`), the error of a model that learned nothing.
    persistence_error: f64,
}

/// A data set: the true right-hand side and a reference solver giving the frames
/// `u(0), u(δt), …, u(m δt)` from `u0` (32 × 32 on `[0, 2π)²`, δt = 0.01).
struct Problem {
    truth: Vec<(&'static str, f64)>,
    trajectory: Reference,
}

/// `(u0, m) ↦` the frames `u(0) … u(m δt)`, row-major.
type Reference = Box<ReferenceSolver<'static>>;

const N: usize = 32;
const DT: f64 = 0.01;

fn convection_diffusion() -> Problem {
    let (a, b, nu) = (0.8, -0.6, 0.15);
    let tau = std::f64::consts::TAU;
    let mut eq = ConvectionDiffusion2d::new(a, b, nu, (N, N), (tau, tau)).unwrap();
    Problem {
        truth: vec![("u_x", a), ("u_y", b), ("u_xx", nu), ("u_yy", nu)],
        trajectory: Box::new(move |u0, m| eq.trajectory(u0, DT, m)),
    }
}

/// Trains PDE-Net ([`recovery`]) on `problem`'s trajectories from random smooth initial
/// conditions with the horizon `schedule`, for `steps` Adam steps; then rolls out 5× the final
/// horizon from held-out initial conditions against the reference.
fn train_and_recover(
    d: &SysDevice,
    mut problem: Problem,
    schedule: Vec<(u64, usize)>,
    steps: u64,
    init_scale: f64,
) -> Recovery {
    let n = N;
    let tau = std::f64::consts::TAU;
    // Only for its random initial conditions and grid spacing.
    let grid = ConvectionDiffusion2d::new(0.0, 0.0, 0.0, (n, n), (tau, tau)).unwrap();
    let config = RecoveryConfig::new(DT, schedule, steps, init_scale);
    let horizon = HorizonSchedule::new(config.schedule.clone())
        .unwrap()
        .max_horizon();
    let frames = 2 * horizon + 1;
    let data = recovery::simulate(&grid, &mut problem.trajectory, &config).unwrap();
    assert_eq!(data.shape(), [6, frames, n, n]);
    let dir = std::env::temp_dir().join(format!(
        "sysdyn-pdenet-{}-{steps}-{}-{}",
        std::process::id(),
        problem.truth.len(),
        d.spec()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let model = recovery::train(d, &grid, data, &config, &dir).unwrap();
    let equation = model.equation(0.02).unwrap();
    // The last checkpoint restores the trained network into a fresh step (on the f64 device
    // only: sysdyn-train restores optimizer state only in the device's default precision, and
    // this process makes f64 flex's default).
    let (latest, path) = Checkpoints::new(&dir).latest().unwrap().unwrap();
    assert_eq!(latest, steps);
    if d.spec() == device().spec() {
        let mut restored = PdeNetStep::new(
            d,
            config
                .network(&grid)
                .init(d, &mut SeededRng::new(77))
                .unwrap(),
            Optim::new(AdamConfig::new().build()),
            Trajectories::new(vec![1.0; frames * n * n], [1, frames, n, n]).unwrap(),
            HorizonSchedule::new(vec![(0, 1)]).unwrap(),
            Regularisation {
                symnet_l1: 0.0,
                moment_l1: 0.0,
            },
        )
        .unwrap();
        restored.load_checkpoint(&path).unwrap();
        assert_eq!(restored.model().equation(0.02).unwrap(), equation);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let largest_free_moment = model
        .filters()
        .filters()
        .iter()
        .flat_map(|f| to_vec(f.free_moments()))
        .fold(0.0, |m: f64, v| m.max(v.abs()));
    let unpruned = model.equation(0.0).unwrap();
    let largest_spurious = unpruned
        .terms()
        .into_iter()
        .filter(|(name, _)| !problem.truth.iter().any(|(t, _)| t == name))
        .fold(0.0, |m: f64, (_, c)| m.max(c.abs()));
    println!(
        "largest |free moment| {largest_free_moment:.2e}, largest spurious |coefficient| \
         {largest_spurious:.2e}"
    );
    let errors = problem
        .truth
        .iter()
        .map(|(term, c)| (equation.coefficient(term) - c).abs() / c.abs())
        .collect();
    // Held-out initial conditions, rolled out 5× the training horizon.
    let held_out = recovery::held_out_rollout(
        &model,
        d,
        &grid,
        &mut problem.trajectory,
        &config,
        4,
        5 * horizon,
    )
    .unwrap();
    assert_eq!(held_out.rollout_errors.len(), 5 * horizon);
    Recovery {
        equation,
        errors,
        truth: problem.truth,
        rollout_errors: held_out.rollout_errors,
        persistence_error: held_out.persistence_error,
    }
}

fn report_and_check(r: &Recovery, coefficient_bound: f64, rollout_bound: f64) {
    println!("u_t = {}", r.equation);
    println!(
        "relative coefficient errors of {:?}: {:?}",
        r.truth, r.errors
    );
    println!(
        "rollout relative L2 error: first {:.2e}, last {:.2e}, max {:.2e}",
        r.rollout_errors[0],
        r.rollout_errors[r.rollout_errors.len() - 1],
        r.rollout_errors.iter().copied().fold(0.0, f64::max)
    );
    println!(
        "persistence (u = u_0) relative L2 error at the last block: {:.2e}",
        r.persistence_error
    );
    // The true terms and nothing else survive the pruning.
    assert_eq!(r.equation.len(), r.truth.len(), "u_t = {}", r.equation);
    for &e in &r.errors {
        assert!(
            e < coefficient_bound,
            "u_t = {}: {:?}",
            r.equation,
            r.errors
        );
    }
    for e in &r.rollout_errors {
        assert!(
            e.is_finite() && *e < rollout_bound,
            "{:?}",
            r.rollout_errors
        );
    }
    // Far better than a model that learned nothing.
    let last = r.rollout_errors[r.rollout_errors.len() - 1];
    assert!(
        last < 0.05 * r.persistence_error,
        "{last} vs {}",
        r.persistence_error
    );
}

#[test]
fn pde_net_recovers_convection_diffusion_and_rolls_out_stably() {
    let r = train_and_recover(
        &device(),
        convection_diffusion(),
        vec![(0, 1), (100, 2), (200, 5), (300, 10)],
        500,
        0.01,
    );
    report_and_check(&r, 0.1, 0.05);
}

#[test]
fn pde_net_recovers_convection_diffusion_in_f32() {
    let d: SysDevice = "flex:f32:autodiff"
        .parse::<DeviceSpec>()
        .unwrap()
        .init()
        .unwrap();
    let r = train_and_recover(
        &d,
        convection_diffusion(),
        vec![(0, 1), (100, 2), (200, 5), (300, 10)],
        500,
        0.01,
    );
    report_and_check(&r, 0.1, 0.05);
}

/// The same network (SymNet weights of scale 0.3 and random free moments, so that products and
/// moments matter) rolled out on every test backend in f32 equals the f64 rollout.
#[test]
fn rollouts_agree_on_every_backend() {
    let n = 16;
    let h = std::f64::consts::TAU / n as f64;
    let u0 = ConvectionDiffusion2d::new(0.0, 0.0, 0.0, (n, n), (1.0, 1.0))
        .unwrap()
        .random_initial_condition(&mut SeededRng::new(8), 2);
    let rollout = |d: &SysDevice| -> Vec<f64> {
        let mut config = PdeNetConfig::new(0.01, (h, h));
        config.init_scale = 0.3;
        let net = config.init(d, &mut SeededRng::new(3)).unwrap();
        let mut rng = SeededRng::new(4);
        let filters = net
            .filters()
            .filters()
            .iter()
            .map(|f| {
                let free = rng.normals(25).iter().map(|m| 0.2 * m).collect();
                MomentFilter::new(f.constraint(), free, d).unwrap()
            })
            .collect();
        let bank = net.filters().clone().with_filters(filters).unwrap();
        let net = sysdyn_physics::discovery::pdenet::PdeNet::from_parts(
            bank,
            net.symnet().clone(),
            net.dt(),
            (h, h),
        )
        .unwrap();
        let out = net.rollout(field_on(d, u0.clone(), [1, n, n]), 5).unwrap();
        to_vec(out.into_iter().last().unwrap())
    };
    let reference = rollout(&device());
    let scale = reference.iter().map(|v| v.abs()).fold(0.0, f64::max);
    let first = rollout(&device());
    assert_eq!(first, reference);
    for d in sysdyn_testing::test_devices_f32(false) {
        let got = rollout(&d);
        let err = max_abs_diff(&got, &reference) / scale;
        assert!(err < 1e-5, "{}: relative difference {err:.2e}", d.spec());
        println!("{}: relative difference to f64 {err:.2e}", d.spec());
    }
}

/// `u_t = −u u_x + ν Δu` (ν = 0.1), by a pseudo-spectral right-hand side and RK4 with 20
/// substeps per frame (its error is far below the δt-block's): a nonlinear equation whose
/// product term SymNet must build from its product layer.
fn burgers_x() -> Problem {
    let nu = 0.1;
    let tau = std::f64::consts::TAU;
    let mut spectral = Spectral2d::new(N, N, tau, tau).unwrap();
    let mut rhs = move |u: &[f64]| -> Vec<f64> {
        let mut ux = vec![0.0; u.len()];
        let mut lap = vec![0.0; u.len()];
        spectral.dx(u, &mut ux).unwrap();
        spectral.laplacian(u, &mut lap).unwrap();
        u.iter()
            .zip(&ux)
            .zip(&lap)
            .map(|((u, ux), lap)| -u * ux + nu * lap)
            .collect()
    };
    let substeps = 20;
    let h = DT / substeps as f64;
    Problem {
        truth: vec![("u u_x", -1.0), ("u_xx", nu), ("u_yy", nu)],
        trajectory: Box::new(move |u0, m| {
            let mut u = u0.to_vec();
            let mut frames = u.clone();
            let axpy = |u: &[f64], k: &[f64], s: f64| -> Vec<f64> {
                u.iter().zip(k).map(|(u, k)| u + s * k).collect()
            };
            for _ in 0..m {
                for _ in 0..substeps {
                    let k1 = rhs(&u);
                    let k2 = rhs(&axpy(&u, &k1, h / 2.0));
                    let k3 = rhs(&axpy(&u, &k2, h / 2.0));
                    let k4 = rhs(&axpy(&u, &k3, h));
                    for i in 0..u.len() {
                        u[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
                    }
                }
                frames.extend_from_slice(&u);
            }
            Ok(frames)
        }),
    }
}

#[test]
fn pde_net_recovers_a_nonlinear_convection_diffusion_equation() {
    let r = train_and_recover(
        &device(),
        burgers_x(),
        vec![(0, 1), (100, 2), (200, 5), (300, 10)],
        500,
        0.1,
    );
    report_and_check(&r, 0.1, 0.05);
}

/// Three training steps (rollouts of 1, 2 and 2 blocks, Adam updates through the filters'
/// moments and SymNet) report the same losses on every test backend with autodiff, in f32, as
/// in f64: the gradients through the convolution and the products agree across backends.
#[test]
fn training_steps_agree_on_every_backend() {
    let n = 16;
    let tau = std::f64::consts::TAU;
    let mut eq = ConvectionDiffusion2d::new(0.8, -0.6, 0.15, (n, n), (tau, tau)).unwrap();
    let mut rng = SeededRng::new(6);
    let mut values = Vec::new();
    for _ in 0..2 {
        let u0 = eq.random_initial_condition(&mut rng, 2);
        values.extend(eq.trajectory(&u0, DT, 3).unwrap());
    }
    let losses = |d: &SysDevice| -> Vec<f64> {
        let mut config = PdeNetConfig::new(DT, eq.spacing());
        config.init_scale = 0.3;
        let mut step = PdeNetStep::new(
            d,
            config.init(d, &mut SeededRng::new(3)).unwrap(),
            Optim::new(AdamConfig::new().build()),
            Trajectories::new(values.clone(), [2, 4, n, n]).unwrap(),
            HorizonSchedule::new(vec![(0, 1), (1, 2)]).unwrap(),
            Regularisation {
                symnet_l1: 1e-3,
                moment_l1: 1e-2,
            },
        )
        .unwrap();
        let train = TrainConfig::new(3).with_schedule(LrSchedule::constant(1e-2));
        (0..3)
            .map(|k| {
                let mut ctx = StepContext::new(&train, k);
                step.step(&mut ctx).unwrap().loss
            })
            .collect()
    };
    let reference = losses(&device());
    assert!(reference.iter().all(|l| l.is_finite() && *l > 0.0));
    for d in sysdyn_testing::test_devices_f32(true) {
        let got = losses(&d);
        for (g, r) in got.iter().zip(&reference) {
            assert!(
                (g - r).abs() < 1e-4 * r,
                "{}: {got:?} vs {reference:?}",
                d.spec()
            );
        }
        println!("{}: losses {got:?} (f64: {reference:?})", d.spec());
    }
}
