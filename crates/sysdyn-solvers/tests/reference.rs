//! Adaptive solves of workload W1 (Lotka–Volterra, a = 1.5, b = 1, d = 1, g = 3, y0 = (1, 1),
//! t in [0, 15]) against a tight DOP853 reference and the published final state: final-state
//! accuracy, dense-output (interpolation) error, backward integration, per-component tolerances
//! and the conserved quantity.

use sysdyn_core::{Tol, Tolerance};
use sysdyn_solvers::methods::{BOSH3, DOP853, DOPRI5, TSIT5};
use sysdyn_solvers::{ButcherTableau, SaveAt, Solution, SolveConfig, solve};
use sysdyn_testing::problems::LotkaVolterra;

const LV: LotkaVolterra = LotkaVolterra::W1;
const T0: f64 = LotkaVolterra::W1_SPAN.0;
const T1: f64 = LotkaVolterra::W1_SPAN.1;
/// Tolerance of the solves under test.
const TOL: f64 = 1e-8;
/// Tolerance of the reference solves.
const TIGHT: f64 = 1e-13;

fn w1(
    t_span: (f64, f64),
    y0: [f64; 2],
    method: &ButcherTableau,
    config: &SolveConfig<[f64; 2]>,
) -> Solution<[f64; 2]> {
    solve(
        &mut |_t, y: &[f64; 2]| LV.field(y),
        method,
        t_span,
        y0,
        config,
    )
    .unwrap_or_else(|e| panic!("{} on W1: {e}", method.name))
}

fn distance(a: &[f64; 2], b: &[f64; 2]) -> f64 {
    (a[0] - b[0]).abs().max((a[1] - b[1]).abs())
}

/// W1's final state from DOP853 at rtol = atol = 1e-13.
fn reference_final() -> [f64; 2] {
    *w1(
        (T0, T1),
        LotkaVolterra::W1_Y0,
        &DOP853,
        &SolveConfig::adaptive(TIGHT, TIGHT),
    )
    .last()
}

#[test]
fn tight_reference_matches_the_published_final_state() {
    let reference = reference_final();
    let err = distance(&reference, &LotkaVolterra::W1_FINAL);
    println!("DOP853 at 1e-13 vs published W1 final state: {err:.2e}");
    assert!(
        err <= 1e-9,
        "reference {reference:?} is {err:e} from the published state"
    );
    // A second method at the same tolerance agrees: the reference is not one method's artefact.
    let tsit5 = *w1(
        (T0, T1),
        LotkaVolterra::W1_Y0,
        &TSIT5,
        &SolveConfig::adaptive(TIGHT, TIGHT),
    )
    .last();
    assert!(distance(&tsit5, &reference) <= 1e-9);
}

#[test]
fn adaptive_methods_reach_the_reference_at_1e_8() {
    let reference = reference_final();
    for method in [&DOPRI5, &TSIT5, &DOP853] {
        let sol = w1(
            (T0, T1),
            LotkaVolterra::W1_Y0,
            method,
            &SolveConfig::adaptive(TOL, TOL),
        );
        let err = distance(sol.last(), &reference);
        println!(
            "{:>7} W1 at 1e-8: error {err:.2e}, accepted {}, rejected {}, nfe {}",
            method.name, sol.stats.accepted, sol.stats.rejected, sol.stats.nfe
        );
        assert!(
            err <= 1e-6,
            "{}: final state {err:e} from the reference",
            method.name
        );
    }
}

#[test]
fn output_at_the_span_ends_is_exact() {
    // Output times at t0 and t1 return the initial state and the final state of the steps, not
    // interpolated values.
    for method in [&DOPRI5, &TSIT5, &DOP853, &BOSH3] {
        let final_state = *w1(
            (T0, T1),
            LotkaVolterra::W1_Y0,
            method,
            &SolveConfig::adaptive(TOL, TOL),
        )
        .last();
        let config = SolveConfig::adaptive(TOL, TOL).save_at(SaveAt::Times(vec![T0, 7.5, T1]));
        let sol = w1((T0, T1), LotkaVolterra::W1_Y0, method, &config);
        assert_eq!(sol.ts, [T0, 7.5, T1]);
        assert_eq!(sol.ys[0], LotkaVolterra::W1_Y0);
        assert_eq!(sol.ys[2], final_state, "{}", method.name);
    }
}

/// 100 output times spread over the span, none on its ends.
fn output_times() -> Vec<f64> {
    (0..100).map(|i| T1 * (i as f64 + 0.5) / 100.0).collect()
}

#[test]
fn dense_output_interpolation_error_is_within_the_tolerance() {
    // The interpolation error of an accepted step [t_n, t_n+1] is the dense value at τ minus the
    // exact solution through (t_n, y_n), computed by a tight solve from there: the step's own
    // error is excluded, only the continuous extension is measured.
    let times = output_times();
    for method in [&DOPRI5, &TSIT5, &DOP853, &BOSH3] {
        let config = SolveConfig::adaptive(TOL, TOL);
        let steps = w1(
            (T0, T1),
            LotkaVolterra::W1_Y0,
            method,
            &config.clone().save_at(SaveAt::Steps),
        );
        let dense = w1(
            (T0, T1),
            LotkaVolterra::W1_Y0,
            method,
            &config.save_at(SaveAt::Times(times.clone())),
        );
        // Dense output does not change the steps.
        assert_eq!(dense.stats.accepted, steps.stats.accepted);
        assert_eq!(dense.stats.rejected, steps.stats.rejected);
        let mut worst_ratio: f64 = 0.0;
        let mut worst_error: f64 = 0.0;
        for (&tau, y_dense) in times.iter().zip(&dense.ys) {
            let n = steps.ts.partition_point(|&t| t <= tau) - 1;
            let local = *w1(
                (steps.ts[n], tau),
                steps.ys[n],
                &DOP853,
                &SolveConfig::adaptive(TIGHT, TIGHT),
            )
            .last();
            for i in 0..2 {
                let err = (y_dense[i] - local[i]).abs();
                let scale = TOL + TOL * local[i].abs();
                worst_ratio = worst_ratio.max(err / scale);
                worst_error = worst_error.max(err);
            }
        }
        println!(
            "{:>7} dense output at 1e-8: interpolation error {worst_error:.2e}, {worst_ratio:.3} \
             of the tolerance scale",
            method.name
        );
        assert!(
            worst_ratio <= 10.0,
            "{}: interpolation error {worst_ratio} times the tolerance scale",
            method.name
        );
    }
}

#[test]
fn dense_output_follows_the_reference_trajectory() {
    let times = output_times();
    let reference = w1(
        (T0, T1),
        LotkaVolterra::W1_Y0,
        &DOP853,
        &SolveConfig::adaptive(TIGHT, TIGHT).save_at(SaveAt::Times(times.clone())),
    );
    for method in [&DOPRI5, &TSIT5, &DOP853] {
        let dense = w1(
            (T0, T1),
            LotkaVolterra::W1_Y0,
            method,
            &SolveConfig::adaptive(TOL, TOL).save_at(SaveAt::Times(times.clone())),
        );
        let worst = dense
            .ys
            .iter()
            .zip(&reference.ys)
            .map(|(a, b)| distance(a, b))
            .fold(0.0, f64::max);
        println!(
            "{:>7} dense output at 1e-8 vs the reference trajectory: {worst:.2e}",
            method.name
        );
        // The global error of the steps dominates; it stays below 1e-6 on W1 at 1e-8.
        assert!(worst <= 1e-6, "{}: {worst:e}", method.name);
    }
}

#[test]
fn backward_integration_recovers_the_initial_state() {
    for method in [&DOPRI5, &TSIT5, &DOP853] {
        let sol = w1(
            (T1, T0),
            LotkaVolterra::W1_FINAL,
            method,
            &SolveConfig::adaptive(1e-10, 1e-10).save_at(SaveAt::Steps),
        );
        let err = distance(sol.last(), &LotkaVolterra::W1_Y0);
        println!(
            "{:>7} backward 15 -> 0 at 1e-10: |y(0) - (1, 1)| = {err:.2e} ({} steps)",
            method.name, sol.stats.accepted
        );
        assert!(err <= 1e-6, "{}: {err:e}", method.name);
        // Times decrease from t1 to exactly t0.
        assert_eq!(sol.ts[0], T1);
        assert_eq!(*sol.ts.last().unwrap(), T0);
        assert!(sol.ts.windows(2).all(|w| w[1] < w[0]));
    }
}

#[test]
fn backward_dense_output_matches_forward_dense_output() {
    // Dense output works in both directions: backward from the reference final state, the values
    // at the output times agree with the forward solve.
    let times = output_times();
    let mut backward_times = times.clone();
    backward_times.reverse();
    let forward = w1(
        (T0, T1),
        LotkaVolterra::W1_Y0,
        &DOPRI5,
        &SolveConfig::adaptive(1e-10, 1e-10).save_at(SaveAt::Times(times)),
    );
    let backward = w1(
        (T1, T0),
        LotkaVolterra::W1_FINAL,
        &DOPRI5,
        &SolveConfig::adaptive(1e-10, 1e-10).save_at(SaveAt::Times(backward_times)),
    );
    let worst = forward
        .ys
        .iter()
        .zip(backward.ys.iter().rev())
        .map(|(a, b)| distance(a, b))
        .fold(0.0, f64::max);
    assert!(
        worst <= 1e-6,
        "forward and backward dense output differ by {worst:e}"
    );
}

/// `x' = 10 cos(10 t)` (x = sin 10t, hard to follow) and `y' = -0.1 y` (y = e^(-t/10), easy),
/// solved with Dopri5 on [0, 10].
fn two_scales(tol: Tolerance<[f64; 2]>) -> Solution<[f64; 2]> {
    let mut f = |t: f64, y: &[f64; 2]| [10.0 * (10.0 * t).cos(), -0.1 * y[1]];
    solve(
        &mut f,
        &DOPRI5,
        (0.0, 10.0),
        [0.0, 1.0],
        &SolveConfig::adaptive_with(tol),
    )
    .unwrap()
}

#[test]
fn per_component_tolerances_steer_the_step_size() {
    let rtol = 1e-12;
    let tight = two_scales(Tolerance::with(rtol, Tol::PerComponent([1e-10, 1e-10])));
    let loose_on_hard = two_scales(Tolerance::with(rtol, Tol::PerComponent([1e-4, 1e-10])));
    let loose_on_easy = two_scales(Tolerance::with(rtol, Tol::PerComponent([1e-10, 1e-4])));
    println!(
        "accepted steps: tight {}, loose on the oscillating component {}, loose on the decaying \
         one {}",
        tight.stats.accepted, loose_on_hard.stats.accepted, loose_on_easy.stats.accepted
    );
    // The oscillating component sets the step: loosening its tolerance by 10^6 cuts the steps by
    // about (10^6)^(1/5) ≈ 16 ...
    assert!(loose_on_hard.stats.accepted * 6 < tight.stats.accepted);
    // ... while loosening the other one changes almost nothing.
    let diff = tight.stats.accepted.abs_diff(loose_on_easy.stats.accepted);
    assert!(diff * 20 <= tight.stats.accepted, "{diff} steps difference");
    // Each component meets its own tolerance (the global error of a smooth problem stays within
    // a small multiple of the local tolerance here).
    let exact = [(100.0f64).sin(), (-1.0f64).exp()];
    let err = |sol: &Solution<[f64; 2]>, i: usize| (sol.last()[i] - exact[i]).abs();
    assert!(err(&tight, 0) <= 1e-8 && err(&tight, 1) <= 1e-8);
    assert!(err(&loose_on_hard, 0) <= 1e-2 && err(&loose_on_hard, 1) <= 1e-8);
    // A per-component tolerance with equal entries is the scalar tolerance.
    let scalar = two_scales(Tolerance::new(1e-8, 1e-9));
    let uniform = two_scales(Tolerance::with(
        Tol::PerComponent([1e-8, 1e-8]),
        Tol::PerComponent([1e-9, 1e-9]),
    ));
    assert_eq!(scalar.stats, uniform.stats);
    assert_eq!(scalar.last(), uniform.last());
}

#[test]
fn the_lotka_volterra_invariant_is_conserved_to_tolerance() {
    // V = d x - g ln x + b y - a ln y is constant along exact solutions; a solve at tolerance tol
    // keeps it to a small multiple of the global error, which shrinks with the tolerance.
    let v0 = LV.invariant(&LotkaVolterra::W1_Y0);
    let drift = |method: &ButcherTableau, tol: f64| {
        w1(
            (T0, T1),
            LotkaVolterra::W1_Y0,
            method,
            &SolveConfig::adaptive(tol, tol).save_at(SaveAt::Steps),
        )
        .ys
        .iter()
        .map(|y| (LV.invariant(y) - v0).abs())
        .fold(0.0, f64::max)
    };
    for method in [&DOPRI5, &TSIT5, &DOP853] {
        let at_6 = drift(method, 1e-6);
        let at_8 = drift(method, 1e-8);
        let at_10 = drift(method, 1e-10);
        println!(
            "{:>7} invariant drift at tol 1e-6 / 1e-8 / 1e-10: {at_6:.1e} / {at_8:.1e} / {at_10:.1e}",
            method.name
        );
        assert!(
            at_6 <= 1e-4 && at_8 <= 1e-6 && at_10 <= 1e-8,
            "{}",
            method.name
        );
        assert!(at_10 < at_8 && at_8 < at_6, "{}", method.name);
    }
    assert!(drift(&DOP853, TIGHT) <= 1e-11);
}
