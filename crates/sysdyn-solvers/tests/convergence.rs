//! Empirical orders of convergence of every method of `methods::ALL` in fixed-step mode, of their
//! dense output, and of their error estimates, on problems with exact solutions.
//!
//! Each method gets step sizes in its asymptotic range with errors well above rounding
//! (1e-12 and more): `h = h_max · 2^(-k/2)`, `k = 0..=4`, a factor of four in all. High orders
//! need large steps (DOP853 takes h = 1 down to 1/4) and long spans so that the error still
//! dominates rounding at the small end.

use sysdyn_core::Tolerance;
use sysdyn_solvers::methods::{self, ALL};
use sysdyn_solvers::{ButcherTableau, ErrorEstimate, OdeMethod, SaveAt, SolveConfig, solve};
use sysdyn_testing::convergence_order;
use sysdyn_testing::problems::{ExponentialDecay, HarmonicOscillator, NonAutonomousLinear};

/// How far the measured order may be from the theoretical one.
const ORDER_SLACK: f64 = 0.15;

/// `y' = -y` on `[0, DECAY_SPAN]`: the relative error grows with the span while rounding grows
/// only like the square root of the number of steps, so a long span keeps high orders measurable.
const DECAY_SPAN: f64 = 100.0;
/// The harmonic oscillator (ω = 1) over a bit more than three periods.
const HARMONIC_SPAN: f64 = 20.0;
/// The non-autonomous linear system on `[0, 2]` (z grows to e⁴).
const NONAUTONOMOUS_SPAN: f64 = 2.0;

/// Largest step of each measurement, per method.
struct Plan {
    method: &'static ButcherTableau,
    decay: f64,
    harmonic: f64,
    nonautonomous: f64,
    /// Dense output, one step from the exact solution: the harmonic oscillator from t = 0.3 ...
    dense_harmonic: f64,
    /// ... and the non-autonomous system from `(t0, h_max)`.
    dense_nonautonomous: (f64, f64),
}

const PLANS: &[Plan] = &[
    Plan {
        method: &methods::EULER,
        decay: 1.0 / 1024.0,
        harmonic: 1.0 / 128.0,
        nonautonomous: 1.0 / 256.0,
        dense_harmonic: 1.0 / 8.0,
        dense_nonautonomous: (0.3, 1.0 / 8.0),
    },
    Plan {
        method: &methods::MIDPOINT,
        decay: 1.0 / 64.0,
        harmonic: 1.0 / 8.0,
        nonautonomous: 1.0 / 128.0,
        dense_harmonic: 0.5,
        dense_nonautonomous: (0.3, 1.0 / 22.0),
    },
    Plan {
        method: &methods::HEUN,
        decay: 1.0 / 64.0,
        harmonic: 1.0 / 8.0,
        nonautonomous: 1.0 / 128.0,
        dense_harmonic: 0.5,
        dense_nonautonomous: (0.3, 1.0 / 22.0),
    },
    Plan {
        method: &methods::RALSTON,
        decay: 1.0 / 64.0,
        harmonic: 1.0 / 8.0,
        nonautonomous: 1.0 / 128.0,
        dense_harmonic: 0.5,
        dense_nonautonomous: (0.3, 1.0 / 32.0),
    },
    Plan {
        method: &methods::BOSH3,
        decay: 1.0 / 16.0,
        harmonic: 1.0 / 4.0,
        nonautonomous: 1.0 / 64.0,
        dense_harmonic: 1.0,
        dense_nonautonomous: (0.3, 1.0 / 22.0),
    },
    Plan {
        method: &methods::RK4,
        decay: 1.0 / 8.0,
        harmonic: 0.5,
        nonautonomous: 1.0 / 64.0,
        dense_harmonic: 1.0 / 11.0,
        dense_nonautonomous: (0.3, 1.0 / 22.0),
    },
    Plan {
        method: &methods::DOPRI5,
        decay: 1.0 / 32.0,
        harmonic: 0.5,
        nonautonomous: 1.0 / 45.0,
        dense_harmonic: 0.5,
        dense_nonautonomous: (1.0, 1.0 / 8.0),
    },
    Plan {
        method: &methods::TSIT5,
        decay: 1.0 / 22.0,
        harmonic: 1.0 / 11.0,
        nonautonomous: 1.0 / 45.0,
        dense_harmonic: 0.25,
        dense_nonautonomous: (2.0, 1.0 / 11.0),
    },
    Plan {
        method: &methods::DOP853,
        decay: 0.5,
        harmonic: 1.0,
        nonautonomous: 0.25,
        dense_harmonic: 1.0,
        dense_nonautonomous: (2.0, 1.0 / 5.6),
    },
];

/// Five step sizes from `h_max` down to `h_max / 4`.
fn step_sizes(h_max: f64) -> Vec<f64> {
    (0..=4)
        .map(|k| h_max * 2f64.powf(-0.5 * k as f64))
        .collect()
}

/// Fixed-step solve over `span` with a whole number of steps close to `h`; returns the step used
/// and the final state.
fn fixed_solve<const N: usize>(
    method: &ButcherTableau,
    f: &mut impl FnMut(f64, &[f64; N]) -> [f64; N],
    span: f64,
    y0: [f64; N],
    h: f64,
) -> (f64, [f64; N]) {
    let h = span / (span / h).round();
    let config = SolveConfig::fixed(h).max_steps(usize::MAX);
    let y = *solve(f, method, (0.0, span), y0, &config).unwrap().last();
    (h, y)
}

fn max_relative_error<const N: usize>(y: &[f64; N], exact: &[f64; N]) -> f64 {
    y.iter()
        .zip(exact)
        .map(|(y, e)| ((y - e) / e).abs())
        .fold(0.0, f64::max)
}

fn max_abs_error<const N: usize>(y: &[f64; N], exact: &[f64; N]) -> f64 {
    y.iter()
        .zip(exact)
        .map(|(y, e)| (y - e).abs())
        .fold(0.0, f64::max)
}

/// The oscillator's error rotates between position and momentum: measure its length.
fn euclidean_error(y: &[f64; 2], exact: &[f64; 2]) -> f64 {
    (y[0] - exact[0]).hypot(y[1] - exact[1])
}

/// Measures and checks one order; returns it.
fn assert_order(
    what: &str,
    method: &ButcherTableau,
    expected: u32,
    steps: &[f64],
    errors: &[f64],
) -> f64 {
    for (h, e) in steps.iter().zip(errors) {
        assert!(
            *e > 1e-13,
            "{} {what}: error {e:e} at h = {h} is at rounding level; the plan's steps are too \
             small",
            method.name
        );
    }
    let order = convergence_order(steps, errors);
    println!(
        "{:>8} {what:<22} order {order:.3} (expected {expected}), errors {:.1e}..{:.1e}",
        method.name,
        errors[0],
        errors[errors.len() - 1]
    );
    assert!(
        (order - expected as f64).abs() <= ORDER_SLACK,
        "{} {what}: empirical order {order:.3}, expected {expected} (errors {errors:?} at steps \
         {steps:?})",
        method.name
    );
    order
}

#[test]
fn plans_cover_every_method() {
    let planned: Vec<&str> = PLANS.iter().map(|p| p.method.name).collect();
    let all: Vec<&str> = ALL.iter().map(|m| m.name).collect();
    assert_eq!(
        planned, all,
        "every method of methods::ALL needs a Plan, in the same order"
    );
}

#[test]
fn fixed_step_order_on_exponential_decay() {
    let problem = ExponentialDecay { lambda: -1.0 };
    for plan in PLANS {
        let (steps, errors): (Vec<f64>, Vec<f64>) = step_sizes(plan.decay)
            .into_iter()
            .map(|h| {
                let (h, y) = fixed_solve(
                    plan.method,
                    &mut |_t, y| problem.field(y),
                    DECAY_SPAN,
                    [1.0],
                    h,
                );
                (
                    h,
                    max_relative_error(&y, &problem.exact(DECAY_SPAN, &[1.0])),
                )
            })
            .unzip();
        assert_order("y' = -y", plan.method, plan.method.order, &steps, &errors);
    }
}

#[test]
fn fixed_step_order_on_the_harmonic_oscillator() {
    let problem = HarmonicOscillator { omega: 1.0 };
    let y0 = [1.0, 0.0];
    for plan in PLANS {
        let (steps, errors): (Vec<f64>, Vec<f64>) = step_sizes(plan.harmonic)
            .into_iter()
            .map(|h| {
                let (h, y) = fixed_solve(
                    plan.method,
                    &mut |_t, y| problem.field(y),
                    HARMONIC_SPAN,
                    y0,
                    h,
                );
                (h, euclidean_error(&y, &problem.exact(HARMONIC_SPAN, &y0)))
            })
            .unzip();
        assert_order(
            "harmonic oscillator",
            plan.method,
            plan.method.order,
            &steps,
            &errors,
        );
    }
}

#[test]
fn fixed_step_order_on_the_non_autonomous_system() {
    let problem = NonAutonomousLinear;
    let y0 = [1.0, 1.0];
    for plan in PLANS {
        let (steps, errors): (Vec<f64>, Vec<f64>) = step_sizes(plan.nonautonomous)
            .into_iter()
            .map(|h| {
                let (h, y) = fixed_solve(
                    plan.method,
                    &mut |t, y| problem.field(t, y),
                    NONAUTONOMOUS_SPAN,
                    y0,
                    h,
                );
                let exact = problem.exact(0.0, NONAUTONOMOUS_SPAN, &y0);
                (h, max_relative_error(&y, &exact))
            })
            .unzip();
        assert_order(
            "non-autonomous",
            plan.method,
            plan.method.order,
            &steps,
            &errors,
        );
    }
}

/// Order of the dense output's local error: the interpolant's order q (3 for the cubic Hermite
/// fallback), but never more than the step's own order p, plus one.
fn local_dense_order(method: &ButcherTableau) -> u32 {
    let q = method.interpolant.map_or(3, |i| i.order);
    q.min(method.order) + 1
}

/// Fractions of a step where the dense output is compared with the exact solution. Away from
/// 0.5, where some interpolants (Dopri5's) are one order better.
const THETAS: [f64; 4] = [0.2, 0.4, 0.65, 0.85];

/// Largest error of the dense output at `THETAS` of one step of size `h` from the exact solution
/// at `t0`.
fn dense_error<const N: usize>(
    method: &ButcherTableau,
    f: &mut impl FnMut(f64, &[f64; N]) -> [f64; N],
    exact: impl Fn(f64) -> [f64; N],
    t0: f64,
    h: f64,
    relative: bool,
) -> f64 {
    let times: Vec<f64> = THETAS.iter().map(|theta| t0 + theta * h).collect();
    let config = SolveConfig::fixed(h).save_at(SaveAt::Times(times.clone()));
    let sol = solve(f, method, (t0, t0 + h), exact(t0), &config).unwrap();
    assert_eq!(sol.stats.accepted, 1);
    times
        .iter()
        .zip(&sol.ys)
        .map(|(&t, y)| {
            if relative {
                max_relative_error(y, &exact(t))
            } else {
                max_abs_error(y, &exact(t))
            }
        })
        .fold(0.0, f64::max)
}

#[test]
fn dense_output_local_order_on_the_harmonic_oscillator() {
    let problem = HarmonicOscillator { omega: 1.0 };
    let y0 = [1.0, 0.0];
    for plan in PLANS {
        let steps = step_sizes(plan.dense_harmonic);
        let errors: Vec<f64> = steps
            .iter()
            .map(|&h| {
                dense_error(
                    plan.method,
                    &mut |_t, y| problem.field(y),
                    |t| problem.exact(t, &y0),
                    0.3,
                    h,
                    false,
                )
            })
            .collect();
        let expected = local_dense_order(plan.method);
        assert_order("dense, harmonic", plan.method, expected, &steps, &errors);
    }
}

#[test]
fn dense_output_local_order_on_the_non_autonomous_system() {
    let problem = NonAutonomousLinear;
    let y0 = [1.0, 1.0];
    for plan in PLANS {
        let (t0, h_max) = plan.dense_nonautonomous;
        let steps = step_sizes(h_max);
        let errors: Vec<f64> = steps
            .iter()
            .map(|&h| {
                dense_error(
                    plan.method,
                    &mut |t, y| problem.field(t, y),
                    |t| problem.exact(0.0, t, &y0),
                    t0,
                    h,
                    true,
                )
            })
            .collect();
        let expected = local_dense_order(plan.method);
        assert_order(
            "dense, non-autonomous",
            plan.method,
            expected,
            &steps,
            &errors,
        );
    }
}

#[test]
fn dense_output_converges_globally_at_the_method_order() {
    // Over many steps the dense values carry the global error of the steps (order p) plus the
    // local interpolation error (order q + 1): order min(p, q + 1) at the output times.
    let problem = HarmonicOscillator { omega: 1.0 };
    let y0 = [1.0, 0.0];
    let times: Vec<f64> = (1..=40).map(|i| 0.4837 * i as f64).collect();
    for plan in PLANS {
        let steps = step_sizes(plan.harmonic);
        let errors: Vec<f64> = steps
            .iter()
            .map(|&h| {
                let h = HARMONIC_SPAN / (HARMONIC_SPAN / h).round();
                let config = SolveConfig::fixed(h)
                    .max_steps(usize::MAX)
                    .save_at(SaveAt::Times(times.clone()));
                let sol = solve(
                    &mut |_t, y: &[f64; 2]| problem.field(y),
                    plan.method,
                    (0.0, HARMONIC_SPAN),
                    y0,
                    &config,
                )
                .unwrap();
                times
                    .iter()
                    .zip(&sol.ys)
                    .map(|(&t, y)| euclidean_error(y, &problem.exact(t, &y0)))
                    .fold(0.0, f64::max)
            })
            .collect();
        let expected = plan.method.order.min(local_dense_order(plan.method));
        assert_order("dense, global", plan.method, expected, &steps, &errors);
    }
}

/// The error norm of one step of `method` of size `h` on Lotka–Volterra from `(1, 1)`, with a
/// tolerance scale of one (so the norm is the RMS of the raw estimate).
fn estimate(method: &ButcherTableau, h: f64) -> f64 {
    let lv = sysdyn_testing::problems::LotkaVolterra::W1;
    let mut f = |_t: f64, y: &[f64; 2]| lv.field(y);
    let tol = Tolerance::new(1e-13, 1.0);
    let mut ws = OdeMethod::<[f64; 2]>::workspace(method);
    let mut nfe = 0;
    method
        .attempt(&mut f, 0.0, &[1.0, 1.0], h, Some(&tol), &mut ws, &mut nfe)
        .error_norm
        .expect("adaptive methods estimate their error")
}

#[test]
fn error_estimates_scale_with_their_order() {
    // Step-size control assumes err ≈ C h^k with k = error_order + 1.
    let plans: &[(&ButcherTableau, f64)] = &[
        (&methods::HEUN, 1.0 / 32.0),
        (&methods::BOSH3, 1.0 / 16.0),
        (&methods::DOPRI5, 1.0 / 8.0),
        (&methods::TSIT5, 1.0 / 8.0),
    ];
    let embedded: Vec<&str> = ALL
        .iter()
        .filter(|m| matches!(m.error, ErrorEstimate::Embedded(_)))
        .map(|m| m.name)
        .collect();
    assert_eq!(
        plans.iter().map(|(m, _)| m.name).collect::<Vec<_>>(),
        embedded,
        "every embedded method of methods::ALL needs a step range here"
    );
    for &(method, h_max) in plans {
        let steps = step_sizes(h_max);
        let errors: Vec<f64> = steps.iter().map(|&h| estimate(method, h)).collect();
        let expected = OdeMethod::<[f64; 2]>::error_order(method).unwrap() + 1;
        assert_order("error estimate", method, expected, &steps, &errors);
    }
}

#[test]
fn dop853_blended_estimate_moves_from_h6_to_h8() {
    // DOP853's estimate |e5|² / sqrt(|e5|² + 0.01 |e3|²), with e5 = O(h^6) and e3 = O(h^4) (their
    // orders are checked exactly in tableaux.rs), behaves like |e5| ~ h^6 for large steps and like
    // 10 |e5|²/|e3| ~ h^8 for small ones, which is what the step-size exponent 1/8 assumes: its
    // local slope is 6 + 2x/(1 + x) with x = 0.01 |e3|²/|e5|² growing like h^-4. So the slope must
    // climb from about 6 towards 8 as h shrinks and stay in [6, 8]; on this problem the h^8
    // regime is only reached below rounding, so the climb is what can be measured.
    let steps: Vec<f64> = (2..=13).map(|k| 2f64.powf(-0.25 * k as f64)).collect();
    let estimates: Vec<f64> = steps
        .iter()
        .map(|&h| estimate(&methods::DOP853, h))
        .collect();
    let slopes: Vec<f64> = steps
        .windows(2)
        .zip(estimates.windows(2))
        .map(|(h, e)| (e[0] / e[1]).ln() / (h[0] / h[1]).ln())
        .collect();
    println!("dop853 local slopes of the error estimate, h = 0.71 .. 0.11: {slopes:.2?}");
    assert!(*estimates.last().unwrap() > 1e-12);
    for pair in slopes.windows(2) {
        assert!(pair[1] >= pair[0] - 0.05, "slopes {slopes:.2?}");
    }
    assert!(
        slopes.iter().all(|&s| (5.85..=8.15).contains(&s)),
        "slopes {slopes:.2?}"
    );
    assert!(*slopes.last().unwrap() > 7.3, "slopes {slopes:.2?}");
}
