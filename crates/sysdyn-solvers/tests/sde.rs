//! SDE solvers and Brownian motion: query-order independence and statistics of the virtual
//! Brownian tree, strong orders on geometric Brownian motion against its exact solution driven by
//! the same path, Ornstein–Uhlenbeck moments, reversibility of reversible Heun, typed errors.

use sysdyn_solvers::brownian::{BrownianError, BrownianPath, VirtualBrownianTree};
use sysdyn_solvers::sde::{
    BrownianIncrement, Calculus, EulerMaruyama, Milstein, Noise, ReversibleHeun, Sde, SdeConfig,
    SdeCounters, SdeError, SdeMethod, SdeTerms, StochasticHeun, solve_sde,
};
use sysdyn_solvers::{SaveAt, SolveError};
use sysdyn_testing::convergence_order;
use sysdyn_testing::problems::{GeometricBrownianMotion, OrnsteinUhlenbeck};

const GBM: GeometricBrownianMotion = GeometricBrownianMotion {
    mu: 1.5,
    sigma: 1.0,
};

/// Sample mean and unbiased variance.
fn moments(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

#[test]
fn brownian_values_do_not_depend_on_the_query_order() {
    let times: Vec<f64> = (0..=200)
        .map(|k| k as f64 * 0.005 + 0.0003 * (k % 7) as f64)
        .collect();
    let times: Vec<f64> = times.into_iter().filter(|t| *t <= 1.0).collect();
    let query = |order: &[usize]| {
        let mut w = VirtualBrownianTree::new(11, (0.0, 1.0), 3).unwrap();
        let mut values = vec![Vec::new(); times.len()];
        for &i in order {
            values[i] = w.value(times[i]).unwrap();
        }
        values
    };
    let forward: Vec<usize> = (0..times.len()).collect();
    let backward: Vec<usize> = forward.iter().rev().copied().collect();
    // A scrambled order: a stride coprime with the count.
    let scrambled: Vec<usize> = (0..times.len()).map(|k| (k * 37) % times.len()).collect();
    let reference = query(&forward);
    assert_eq!(query(&backward), reference);
    assert_eq!(query(&scrambled), reference);
    // Increments too, whatever was asked before.
    let mut w = VirtualBrownianTree::new(11, (0.0, 1.0), 3).unwrap();
    let mut out = [0.0; 3];
    w.value(0.9).unwrap();
    w.increment(times[10], times[20], &mut out).unwrap();
    for c in 0..3 {
        assert_eq!(out[c], reference[20][c] - reference[10][c]);
    }
    // Values at tree nodes (dyadic times) do not depend on the depth.
    let mut shallow = VirtualBrownianTree::new(11, (0.0, 1.0), 3)
        .unwrap()
        .with_depth(6)
        .unwrap();
    let mut deep = VirtualBrownianTree::new(11, (0.0, 1.0), 3).unwrap();
    for k in 0..=64 {
        let t = k as f64 / 64.0;
        assert_eq!(shallow.value(t).unwrap(), deep.value(t).unwrap());
    }
    // Another seed is another path.
    let mut other = VirtualBrownianTree::new(12, (0.0, 1.0), 3).unwrap();
    assert_ne!(other.value(0.5).unwrap(), deep.value(0.5).unwrap());
}

#[test]
fn brownian_increments_have_the_right_statistics() {
    // 20000 independent components: each a sample of the same path law.
    let n = 20_000;
    let mut w = VirtualBrownianTree::new(3, (0.0, 2.0), n).unwrap();
    let w_a = w.value(0.3).unwrap(); // inside a bottom cell: bridged from its ends
    let w_b = w.value(1.25).unwrap(); // a tree node
    let w_c = w.value(2.0).unwrap();
    let d1: Vec<f64> = w_a.clone();
    let d2: Vec<f64> = w_b.iter().zip(&w_a).map(|(b, a)| b - a).collect();
    let d3: Vec<f64> = w_c.iter().zip(&w_b).map(|(c, b)| c - b).collect();
    for (d, dt) in [(&d1, 0.3), (&d2, 0.95), (&d3, 0.75)] {
        let (mean, var) = moments(d);
        let z_mean = mean / (dt / n as f64).sqrt();
        let z_var = (var - dt) / (dt * (2.0 / (n as f64 - 1.0)).sqrt());
        assert!(
            z_mean.abs() < 4.0 && z_var.abs() < 4.0,
            "dt {dt}: {z_mean} {z_var}"
        );
    }
    // Increments over disjoint intervals are uncorrelated.
    for (x, y) in [(&d1, &d2), (&d2, &d3), (&d1, &d3)] {
        let corr = x.iter().zip(y.iter()).map(|(a, b)| a * b).sum::<f64>()
            / (x.iter().map(|a| a * a).sum::<f64>() * y.iter().map(|b| b * b).sum::<f64>()).sqrt();
        assert!(corr.abs() < 4.0 / (n as f64).sqrt(), "correlation {corr}");
    }
}

/// Strong errors `E|y_N - y(T)|` of `method` on GBM over [0, 1] for steps `2^-k`, `k` in `ks`,
/// over `paths` paths (diagonal noise: one component per path), all driven by one tree.
fn gbm_strong_errors<T, M>(
    mut terms: T,
    method: &M,
    ks: &[i32],
    paths: usize,
) -> (Vec<f64>, Vec<f64>)
where
    T: SdeTerms<Vec<f64>>,
    M: SdeMethod<Vec<f64>>,
{
    let y0 = vec![1.0; paths];
    let mut w = VirtualBrownianTree::new(2024, (0.0, 1.0), paths)
        .unwrap()
        .with_depth(16)
        .unwrap();
    let w1 = w.value(1.0).unwrap();
    let exact: Vec<f64> = w1.iter().map(|w| GBM.exact(1.0, 1.0, *w)).collect();
    let (mut hs, mut errors) = (Vec::new(), Vec::new());
    for &k in ks {
        let dt = 2f64.powi(-k);
        let sol = solve_sde(
            &mut terms,
            method,
            (0.0, 1.0),
            y0.clone(),
            &mut w,
            &SdeConfig::fixed(dt),
        )
        .unwrap();
        let err = sol
            .last()
            .iter()
            .zip(&exact)
            .map(|(y, e)| (y - e).abs())
            .sum::<f64>()
            / paths as f64;
        hs.push(dt);
        errors.push(err);
    }
    (hs, errors)
}

/// A field on a batch of paths.
type PathField = fn(f64, &Vec<f64>) -> Vec<f64>;

fn ito_gbm() -> Sde<PathField, PathField> {
    Sde::ito(
        Noise::Diagonal,
        |_t, y| y.iter().map(|v| GBM.mu * v).collect(),
        |_t, y| y.iter().map(|v| GBM.sigma * v).collect(),
    )
}

fn stratonovich_gbm() -> Sde<PathField, PathField> {
    Sde::stratonovich(
        Noise::Diagonal,
        |_t, y| y.iter().map(|v| GBM.stratonovich_rate() * v).collect(),
        |_t, y| y.iter().map(|v| GBM.sigma * v).collect(),
    )
}

const KS: [i32; 5] = [5, 6, 7, 8, 9];
const PATHS: usize = 1000;

#[test]
fn euler_maruyama_and_milstein_have_strong_orders_half_and_one() {
    let (hs, em) = gbm_strong_errors(ito_gbm(), &EulerMaruyama, &KS, PATHS);
    let order_em = convergence_order(&hs, &em);
    let (_, mil) = gbm_strong_errors(ito_gbm(), &Milstein, &KS, PATHS);
    let order_mil = convergence_order(&hs, &mil);
    // With the analytic (∂g/∂y) g = σ² y.
    let analytic = ito_gbm().with_diffusion_derivative(|_t: f64, _y: &Vec<f64>, g: &Vec<f64>| {
        g.iter().map(|v| GBM.sigma * v).collect::<Vec<f64>>()
    });
    let (_, mil_a) = gbm_strong_errors(analytic, &Milstein, &KS, PATHS);
    let order_mil_a = convergence_order(&hs, &mil_a);
    println!("EM order {order_em:.3} {em:?}");
    println!("Milstein (derivative-free) order {order_mil:.3} {mil:?}");
    println!("Milstein (analytic) order {order_mil_a:.3} {mil_a:?}");
    assert!((order_em - 0.5).abs() < 0.15, "EM {order_em}");
    assert!((order_mil - 1.0).abs() < 0.15, "Milstein {order_mil}");
    assert!(
        (order_mil_a - 1.0).abs() < 0.15,
        "Milstein analytic {order_mil_a}"
    );
}

#[test]
fn stratonovich_methods_converge_to_the_same_solution() {
    let (hs, heun) = gbm_strong_errors(stratonovich_gbm(), &StochasticHeun, &KS, PATHS);
    let order_heun = convergence_order(&hs, &heun);
    let (_, rev) = gbm_strong_errors(stratonovich_gbm(), &ReversibleHeun, &KS, PATHS);
    let order_rev = convergence_order(&hs, &rev);
    let (_, mil) = gbm_strong_errors(stratonovich_gbm(), &Milstein, &KS, PATHS);
    let order_mil = convergence_order(&hs, &mil);
    println!("stochastic Heun order {order_heun:.3} {heun:?}");
    println!("reversible Heun order {order_rev:.3} {rev:?}");
    println!("Stratonovich Milstein order {order_mil:.3} {mil:?}");
    assert!((order_heun - 1.0).abs() < 0.15, "Heun {order_heun}");
    assert!((order_mil - 1.0).abs() < 0.15, "Milstein {order_mil}");
    // Guaranteed 0.5; on this commutative noise it behaves like Heun.
    assert!(
        (order_rev - 1.0).abs() < 0.15,
        "reversible Heun {order_rev}"
    );
}

#[test]
fn derivative_free_milstein_has_order_one_on_nonlinear_stratonovich_noise() {
    // dy = -y/2 dt + 0.8 sin(y) ∘ dW, no closed form: the reference is stochastic Heun at
    // dt = 2^-13 on the same path.
    let paths = 300;
    let terms = || {
        Sde::stratonovich(
            Noise::Diagonal,
            |_t: f64, y: &Vec<f64>| y.iter().map(|v| -0.5 * v).collect(),
            |_t: f64, y: &Vec<f64>| y.iter().map(|v| 0.8 * v.sin()).collect(),
        )
    };
    let mut w = VirtualBrownianTree::new(31, (0.0, 1.0), paths)
        .unwrap()
        .with_depth(16)
        .unwrap();
    let y0 = vec![1.0; paths];
    let fine = solve_sde(
        &mut terms(),
        &StochasticHeun,
        (0.0, 1.0),
        y0.clone(),
        &mut w,
        &SdeConfig::fixed(2f64.powi(-13)),
    )
    .unwrap();
    let (mut hs, mut errors) = (Vec::new(), Vec::new());
    for k in [4, 5, 6, 7, 8] {
        let dt = 2f64.powi(-k);
        let sol = solve_sde(
            &mut terms(),
            &Milstein,
            (0.0, 1.0),
            y0.clone(),
            &mut w,
            &SdeConfig::fixed(dt),
        )
        .unwrap();
        let err = sol
            .last()
            .iter()
            .zip(fine.last())
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / paths as f64;
        hs.push(dt);
        errors.push(err);
    }
    let order = convergence_order(&hs, &errors);
    println!("derivative-free Stratonovich Milstein, sin noise: order {order:.3} {errors:?}");
    assert!((order - 1.0).abs() < 0.15, "{order}");
}

/// OU moments at t = 1 over many paths; returns the z-scores of mean and variance.
fn ou_z_scores<M: SdeMethod<Vec<f64>>>(method: &M, calculus: Calculus) -> (f64, f64) {
    let ou = OrnsteinUhlenbeck {
        theta: 1.0,
        mean: 0.5,
        sigma: 0.8,
    };
    let paths = 10_000;
    let mut terms = Sde::new(
        calculus,
        Noise::Diagonal,
        |_t: f64, y: &Vec<f64>| y.iter().map(|v| ou.theta * (ou.mean - v)).collect(),
        |_t: f64, y: &Vec<f64>| vec![ou.sigma; y.len()],
    );
    let mut w = VirtualBrownianTree::new(99, (0.0, 1.0), paths)
        .unwrap()
        .with_depth(12)
        .unwrap();
    let y0 = 2.0;
    let sol = solve_sde(
        &mut terms,
        method,
        (0.0, 1.0),
        vec![y0; paths],
        &mut w,
        &SdeConfig::fixed(1.0 / 512.0),
    )
    .unwrap();
    let (mean, var) = moments(sol.last());
    let (m, v) = (ou.mean_at(1.0, y0), ou.variance_at(1.0));
    let n = paths as f64;
    (
        (mean - m) / (v / n).sqrt(),
        (var - v) / (v * (2.0 / (n - 1.0)).sqrt()),
    )
}

#[test]
fn ornstein_uhlenbeck_moments_match_within_three_standard_errors() {
    // Additive noise: the Itô and Stratonovich equations coincide.
    let cases: [(&str, (f64, f64)); 4] = [
        ("euler_maruyama", ou_z_scores(&EulerMaruyama, Calculus::Ito)),
        ("milstein", ou_z_scores(&Milstein, Calculus::Ito)),
        (
            "stochastic_heun",
            ou_z_scores(&StochasticHeun, Calculus::Stratonovich),
        ),
        (
            "reversible_heun",
            ou_z_scores(&ReversibleHeun, Calculus::Stratonovich),
        ),
    ];
    for (name, (z_mean, z_var)) in cases {
        println!("{name}: z(mean) {z_mean:.3}, z(variance) {z_var:.3}");
        assert!(
            z_mean.abs() < 3.0 && z_var.abs() < 3.0,
            "{name}: {z_mean} {z_var}"
        );
    }
}

#[test]
fn scalar_noise_drives_every_component_with_one_brownian_motion() {
    // y_i = GBM with its own rates, all driven by the same scalar W: exact y_i(T) known.
    let rates = [(0.5, 0.3), (-0.2, 0.8)];
    let mut terms = Sde::ito(
        Noise::Scalar,
        |_t: f64, y: &[f64; 2]| [rates[0].0 * y[0], rates[1].0 * y[1]],
        |_t: f64, y: &[f64; 2]| [rates[0].1 * y[0], rates[1].1 * y[1]],
    );
    let (mut hs, mut errors) = (Vec::new(), Vec::new());
    let paths = 200;
    for k in [5, 6, 7, 8, 9] {
        let dt = 2f64.powi(-k);
        let mut total = 0.0;
        for seed in 0..paths {
            let mut w = VirtualBrownianTree::new(seed, (0.0, 1.0), 1)
                .unwrap()
                .with_depth(12)
                .unwrap();
            let w1 = w.value(1.0).unwrap()[0];
            let sol = solve_sde(
                &mut terms,
                &Milstein,
                (0.0, 1.0),
                [1.0, 1.0],
                &mut w,
                &SdeConfig::fixed(dt),
            )
            .unwrap();
            for (i, (mu, sigma)) in rates.iter().enumerate() {
                let exact = ((mu - 0.5 * sigma * sigma) + sigma * w1).exp();
                total += (sol.last()[i] - exact).abs();
            }
        }
        hs.push(dt);
        errors.push(total / paths as f64);
    }
    let order = convergence_order(&hs, &errors);
    println!("scalar-noise Milstein order {order:.3} {errors:?}");
    assert!((order - 1.0).abs() < 0.15, "{order}");
}

#[test]
fn reversible_heun_steps_back_to_its_start() {
    let mut terms = stratonovich_gbm();
    let paths = 16;
    let mut w = VirtualBrownianTree::new(5, (0.0, 1.0), paths).unwrap();
    let y0 = vec![1.0; paths];
    let dt = 1.0 / 200.0;
    let method = ReversibleHeun;
    let mut counters = SdeCounters::default();
    let mut carry = method.init(&mut terms, 0.0, &y0, &mut counters);
    let mut y = y0.clone();
    let mut dw = vec![0.0; paths];
    for i in 0..200 {
        let (t, t1) = (i as f64 * dt, (i + 1) as f64 * dt);
        w.increment(t, t1, &mut dw).unwrap();
        let inc = BrownianIncrement::new(t1 - t, dw.clone(), Noise::Diagonal, &y);
        y = method.step(&mut terms, t, &y, &inc, &mut carry, &mut counters);
    }
    // Backwards, re-querying the same increments from the tree in reverse order.
    for i in (0..200).rev() {
        let (t, t1) = (i as f64 * dt, (i + 1) as f64 * dt);
        w.increment(t, t1, &mut dw).unwrap();
        let inc = BrownianIncrement::new(t1 - t, dw.clone(), Noise::Diagonal, &y);
        let (y_prev, carry_prev) =
            method.step_back(&mut terms, t1, &y, &inc, &carry, &mut counters);
        y = y_prev;
        carry = carry_prev;
    }
    let err = y
        .iter()
        .zip(&y0)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!("reversible Heun round trip error {err:e}");
    assert!(err < 1e-10, "{err:e}");
    let z_err = carry
        .z
        .iter()
        .zip(&y0)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(z_err < 1e-10, "{z_err:e}");
    // One drift and one diffusion evaluation per step, each way (plus the initial pair).
    assert_eq!(counters.drift, 1 + 400);
}

#[test]
fn output_times_and_steps_are_recorded() {
    let mut terms = ito_gbm();
    let mut w = VirtualBrownianTree::new(8, (0.0, 1.0), 2).unwrap();
    let config = SdeConfig::fixed(0.1).save_at(SaveAt::Times(vec![0.0, 0.25, 1.0]));
    let sol = solve_sde(
        &mut terms,
        &EulerMaruyama,
        (0.0, 1.0),
        vec![1.0; 2],
        &mut w,
        &config,
    )
    .unwrap();
    assert_eq!(sol.ts, vec![0.0, 0.25, 1.0]);
    assert_eq!(sol.ys[0], vec![1.0; 2]);
    // The same path stepped to 0.25 and then on gives the same final state as SaveAt::Final
    // with steps landing on 0.25 too.
    let steps = solve_sde(
        &mut terms,
        &EulerMaruyama,
        (0.0, 1.0),
        vec![1.0; 2],
        &mut w,
        &SdeConfig::fixed(0.1).save_at(SaveAt::Steps),
    )
    .unwrap();
    assert_eq!(steps.ts.len(), 11);
    assert_eq!(steps.stats.accepted, 10);
    assert_eq!(steps.stats.nfe, 20);
}

#[test]
fn bad_input_is_refused_with_typed_errors() {
    let mut w = VirtualBrownianTree::new(1, (0.0, 1.0), 2).unwrap();
    let y0 = vec![1.0; 2];
    let config = SdeConfig::fixed(0.01);
    // Euler–Maruyama on a Stratonovich equation.
    let err = solve_sde(
        &mut stratonovich_gbm(),
        &EulerMaruyama,
        (0.0, 1.0),
        y0.clone(),
        &mut w,
        &config,
    )
    .unwrap_err();
    assert!(matches!(err, SdeError::CalculusMismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("StochasticHeun"), "{err}");
    // Heun on an Itô equation.
    let err = solve_sde(
        &mut ito_gbm(),
        &StochasticHeun,
        (0.0, 1.0),
        y0.clone(),
        &mut w,
        &config,
    )
    .unwrap_err();
    assert!(matches!(err, SdeError::CalculusMismatch { .. }), "{err:?}");
    // A Brownian motion with the wrong number of components.
    let err = solve_sde(
        &mut ito_gbm(),
        &EulerMaruyama,
        (0.0, 1.0),
        vec![1.0; 3],
        &mut w,
        &config,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            SdeError::BrownianDimension {
                expected: 3,
                got: 2,
                ..
            }
        ),
        "{err:?}"
    );
    // A span the path does not cover, backwards time, a bad step.
    let err = solve_sde(
        &mut ito_gbm(),
        &EulerMaruyama,
        (0.0, 2.0),
        y0.clone(),
        &mut w,
        &config,
    )
    .unwrap_err();
    assert!(matches!(err, SdeError::SpanNotCovered { .. }), "{err:?}");
    let err = solve_sde(
        &mut ito_gbm(),
        &EulerMaruyama,
        (1.0, 0.0),
        y0.clone(),
        &mut w,
        &config,
    )
    .unwrap_err();
    assert!(
        matches!(err, SdeError::Solve(SolveError::InvalidTimeSpan { .. })),
        "{err:?}"
    );
    let err = solve_sde(
        &mut ito_gbm(),
        &EulerMaruyama,
        (0.0, 1.0),
        y0.clone(),
        &mut w,
        &SdeConfig::fixed(-0.1),
    )
    .unwrap_err();
    assert!(
        matches!(err, SdeError::Solve(SolveError::InvalidStepOption(_))),
        "{err:?}"
    );
    let err = solve_sde(
        &mut ito_gbm(),
        &EulerMaruyama,
        (0.0, 1.0),
        vec![f64::NAN, 1.0],
        &mut w,
        &config,
    )
    .unwrap_err();
    assert!(
        matches!(err, SdeError::Solve(SolveError::NonFiniteState { .. })),
        "{err:?}"
    );
    // Brownian trees refuse bad spans, depths and queries.
    assert!(matches!(
        VirtualBrownianTree::new(1, (1.0, 1.0), 1),
        Err(BrownianError::InvalidSpan { .. })
    ));
    assert!(matches!(
        VirtualBrownianTree::new(1, (0.0, 1.0), 1)
            .unwrap()
            .with_depth(0),
        Err(BrownianError::InvalidDepth { .. })
    ));
    assert!(matches!(w.value(1.5), Err(BrownianError::OutOfSpan { .. })));
    let mut short = [0.0; 1];
    assert!(matches!(
        w.increment(0.0, 0.5, &mut short),
        Err(BrownianError::Dimension { dim: 2, got: 1 })
    ));
}

#[cfg(feature = "burn")]
#[test]
fn an_empty_state_and_steps_time_cannot_resolve_are_typed_errors() {
    // No components: refused before the Brownian motion's dimension is compared with the state's.
    let mut w = VirtualBrownianTree::new(1, (0.0, 1.0), 0).unwrap();
    let err = solve_sde(
        &mut ito_gbm(),
        &EulerMaruyama,
        (0.0, 1.0),
        Vec::new(),
        &mut w,
        &SdeConfig::fixed(0.1),
    )
    .unwrap_err();
    assert_eq!(
        err,
        SdeError::Solve(SolveError::EmptyState { shape: vec![0] })
    );
    // At t = 1e16 time is resolved in steps of 2: a step of 1 alternated between 0 and 2 and the
    // solve "succeeded" with half the steps it reported to take. Now it is refused, naming the
    // smallest usable step (16 ε · |t| ≈ 36).
    let span = (1e16, 1e16 + 1e4);
    let mut w = VirtualBrownianTree::new(1, span, 2).unwrap();
    let err = solve_sde(
        &mut ito_gbm(),
        &EulerMaruyama,
        span,
        vec![1.0; 2],
        &mut w,
        &SdeConfig::fixed(1.0),
    )
    .unwrap_err();
    match err {
        SdeError::Solve(SolveError::StepBelowTimeResolution {
            step, t, min_step, ..
        }) => {
            assert_eq!(step, 1.0);
            assert_eq!(t, span.1);
            assert!((min_step - 16.0 * f64::EPSILON * span.1).abs() <= 1e-12 * min_step);
        }
        other => panic!("expected StepBelowTimeResolution, got {other:?}"),
    }
    // A step time resolves there runs: Euler–Maruyama's increments then add up to the path's
    // own W(t1) - W(t0) exactly for the additive part, checked on dy = σ dW (zero drift).
    let mut additive = Sde::ito(
        Noise::Diagonal,
        |_t: f64, y: &Vec<f64>| vec![0.0; y.len()],
        |_t: f64, y: &Vec<f64>| vec![0.5; y.len()],
    );
    let sol = solve_sde(
        &mut additive,
        &EulerMaruyama,
        span,
        vec![0.0; 2],
        &mut w,
        &SdeConfig::fixed(100.0),
    )
    .unwrap();
    assert_eq!(sol.stats.accepted, 100);
    let mut increment = vec![0.0; 2];
    w.increment(span.0, span.1, &mut increment).unwrap();
    for (y, dw) in sol.last().iter().zip(&increment) {
        assert!(
            (y - 0.5 * dw).abs() <= 1e-9 * (1.0 + dw.abs()),
            "{y} vs {}",
            0.5 * dw
        );
    }
}

#[test]
fn sde_solves_run_on_tensors_with_the_same_path_on_every_backend() {
    use sysdyn_core::State;
    use sysdyn_core::burn::tensor::Tensor;
    let paths = 64;
    // The plain f64 reference.
    let mut w = VirtualBrownianTree::new(77, (0.0, 1.0), paths).unwrap();
    let plain = solve_sde(
        &mut ito_gbm(),
        &Milstein,
        (0.0, 1.0),
        vec![1.0; paths],
        &mut w,
        &SdeConfig::fixed(1.0 / 64.0),
    )
    .unwrap();
    for device in sysdyn_testing::test_devices_f32(false) {
        let mut terms = Sde::ito(
            Noise::Diagonal,
            |_t: f64, y: &Tensor<1>| y.clone().mul_scalar(GBM.mu),
            |_t: f64, y: &Tensor<1>| y.clone().mul_scalar(GBM.sigma),
        );
        let mut w = VirtualBrownianTree::new(77, (0.0, 1.0), paths).unwrap();
        let y0 = device.tensor(vec![1.0; paths], [paths]).unwrap();
        let sol = solve_sde(
            &mut terms,
            &Milstein,
            (0.0, 1.0),
            y0,
            &mut w,
            &SdeConfig::fixed(1.0 / 64.0),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", device.spec()));
        for (a, b) in sol.last().to_f64_vec().iter().zip(plain.last()) {
            assert!(
                (a - b).abs() < 1e-4 * b.abs().max(1.0),
                "{}: {a} vs {b}",
                device.spec()
            );
        }
    }
}
