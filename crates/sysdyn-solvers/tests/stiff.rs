//! Implicit methods on stiff problems: tableau properties, convergence orders, Robertson's
//! kinetics against published and two-method reference values, Van der Pol at μ = 1000, reuse of
//! Jacobians and factorisations, and the stiffness diagnosis of explicit solves.

use sysdyn_solvers::implicit::{
    self, BACKWARD_EULER, Dirk, DirkTableau, ESDIRK4, TRAPEZOID, TRBDF2,
};
use sysdyn_solvers::jacobian::WithJacobian;
use sysdyn_solvers::linalg::Matrix;
use sysdyn_solvers::methods::DOPRI5;
use sysdyn_solvers::{OdeMethod, SaveAt, SolveConfig, SolveError, Stats, solve};
use sysdyn_testing::convergence_order;
use sysdyn_testing::problems::{
    HarmonicOscillator, LotkaVolterra, NonAutonomousLinear, Robertson, VanDerPol,
};

fn robertson_field(p: Robertson) -> impl FnMut(f64, &[f64; 3]) -> [f64; 3] {
    move |_t, y| p.field(y)
}

type RobertsonField = fn(f64, &[f64; 3]) -> [f64; 3];
type RobertsonJacobian = fn(f64, &[f64; 3], &mut Matrix);

/// Robertson's standard problem with its analytic Jacobian.
fn robertson_with_jacobian() -> WithJacobian<RobertsonField, RobertsonJacobian> {
    WithJacobian::new(
        |_t, y| Robertson::STANDARD.field(y),
        |_t, y, jac| {
            for (i, row) in Robertson::STANDARD.jacobian(y).iter().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    jac[(i, j)] = *v;
                }
            }
        },
    )
}

fn max_relative_error(got: &[f64], reference: &[f64]) -> f64 {
    got.iter()
        .zip(reference)
        .map(|(g, r)| ((g - r) / r).abs())
        .fold(0.0, f64::max)
}

#[test]
fn tableaux_satisfy_their_order_conditions_and_structure() {
    for tableau in implicit::ALL {
        tableau
            .check(1e-14)
            .unwrap_or_else(|e| panic!("{}: {e}", tableau.name));
        assert!(tableau.explicit_first_stage(), "{}", tableau.name);
        assert!(tableau.stiffly_accurate(), "{}", tableau.name);
    }
    // A wrong coefficient is caught: perturb ESDIRK4's last weight.
    let mut b = ESDIRK4.b.to_vec();
    b[5] += 1e-6;
    let broken = DirkTableau {
        b: Box::leak(b.into_boxed_slice()),
        ..ESDIRK4
    };
    assert!(broken.check(1e-12).is_err());
}

#[test]
fn stability_functions_are_a_stable_and_l_stable_where_claimed() {
    let abs = |z: (f64, f64)| z.0.hypot(z.1);
    for tableau in implicit::ALL {
        // |R(z)| <= 1 on the imaginary axis and in the left half plane.
        for k in -40..=40 {
            let y = 10f64.powf(k as f64 / 8.0);
            for x in [0.0, -1e-3, -0.1, -1.0, -10.0, -1e3] {
                for sign in [1.0, -1.0] {
                    let r = abs(tableau.stability_function((x, sign * y)));
                    assert!(r <= 1.0 + 1e-12, "{} |R({x}, {y})| = {r}", tableau.name);
                }
            }
        }
        // The right accuracy near zero: R(z) ≈ e^z.
        let r = tableau.stability_function((-1e-3, 0.0)).0;
        assert!((r - (-1e-3f64).exp()).abs() < 1e-6, "{}", tableau.name);
    }
    for tableau in [&BACKWARD_EULER, &TRBDF2, &ESDIRK4] {
        let r = abs(tableau.stability_function((-1e8, 0.0)));
        assert!(r < 1e-6, "{} is L-stable, |R(-1e8)| = {r}", tableau.name);
    }
    // The trapezoidal rule is only A-stable: stiff modes flip sign without decaying,
    // R(z) = (1 + z/2)/(1 - z/2) → -1.
    let r = TRAPEZOID.stability_function((-1e6, 0.0)).0;
    assert!((r + 1.0).abs() < 1e-5, "R(-1e6) = {r}");
}

#[test]
fn fixed_step_convergence_orders() {
    let problem = NonAutonomousLinear;
    let y0 = [1.0, 0.5];
    let exact = problem.exact(0.0, 1.0, &y0);
    for (tableau, expected, steps) in [
        (&BACKWARD_EULER, 1.0, [64, 128, 256, 512]),
        (&TRAPEZOID, 2.0, [16, 32, 64, 128]),
        (&TRBDF2, 2.0, [16, 32, 64, 128]),
        (&ESDIRK4, 4.0, [8, 16, 32, 64]),
    ] {
        let mut hs = Vec::new();
        let mut errors = Vec::new();
        for n in steps {
            let h = 1.0 / n as f64;
            let mut f = |t: f64, y: &[f64; 2]| problem.field(t, y);
            let sol = solve(&mut f, tableau, (0.0, 1.0), y0, &SolveConfig::fixed(h)).unwrap();
            let err = (sol.last()[0] - exact[0]).hypot(sol.last()[1] - exact[1]);
            hs.push(h);
            errors.push(err);
        }
        let order = convergence_order(&hs, &errors);
        assert!(
            (order - expected).abs() < 0.2,
            "{}: order {order:.3}, errors {errors:?}",
            tableau.name
        );
    }
}

#[test]
fn robertson_matches_its_reference_in_few_steps() {
    let p = Robertson::STANDARD;
    let config = SolveConfig::adaptive(1e-6, 1e-10);
    // With finite-difference Jacobians and with the analytic one.
    let fd = solve(
        &mut robertson_field(p),
        &ESDIRK4,
        (0.0, 1e5),
        Robertson::Y0,
        &config,
    )
    .unwrap();
    let analytic = solve(
        &mut robertson_with_jacobian(),
        &ESDIRK4,
        (0.0, 1e5),
        Robertson::Y0,
        &config,
    )
    .unwrap();
    for (name, sol) in [
        ("finite differences", &fd),
        ("analytic Jacobian", &analytic),
    ] {
        let err = max_relative_error(sol.last(), &Robertson::AT_1E5);
        println!(
            "Robertson, ESDIRK4 with {name}: max relative error {err:e}, {:?}",
            sol.stats
        );
        assert!(err < 1e-4, "relative error {err:e}, state {:?}", sol.last());
        assert!(sol.stats.steps() < 2000, "{:?}", sol.stats);
        let mass: f64 = sol.last().iter().sum();
        assert!((mass - 1.0).abs() < 1e-9, "y1 + y2 + y3 = {mass}");
    }
}

#[test]
fn robertson_reference_is_confirmed_by_two_methods() {
    // The published state at t = 40.
    let at_40 = solve(
        &mut robertson_with_jacobian(),
        &ESDIRK4,
        (0.0, 40.0),
        Robertson::Y0,
        &SolveConfig::adaptive(1e-10, 1e-16),
    )
    .unwrap();
    let err = max_relative_error(at_40.last(), &Robertson::AT_40);
    println!("Robertson at t = 40 against the published state: relative error {err:e}");
    assert!(err < 1e-8, "t = 40: relative error {err:e}");
    // t = 1e5 by two methods at tight tolerance.
    for (tableau, tolerance) in [(&ESDIRK4, 1e-9), (&TRBDF2, 1e-7)] {
        let sol = solve(
            &mut robertson_with_jacobian(),
            tableau,
            (0.0, 1e5),
            Robertson::Y0,
            &SolveConfig::adaptive(1e-11, 1e-16).max_steps(1_000_000),
        )
        .unwrap();
        let err = max_relative_error(sol.last(), &Robertson::AT_1E5);
        println!(
            "Robertson at rtol 1e-11, {}: relative error {err:e}, {:?}",
            tableau.name, sol.stats
        );
        assert!(err < tolerance, "{}: relative error {err:e}", tableau.name);
    }
}

#[test]
fn dopri5_on_robertson_runs_out_of_steps_and_suggests_an_implicit_solver() {
    let err = solve(
        &mut robertson_field(Robertson::STANDARD),
        &DOPRI5,
        (0.0, 1e5),
        Robertson::Y0,
        &SolveConfig::adaptive(1e-6, 1e-10),
    )
    .unwrap_err();
    assert!(
        matches!(err, SolveError::MaxStepsExceeded { stiff: true, .. }),
        "{err:?}"
    );
    println!("Dopri5 on Robertson: {err:?}");
    let message = err.to_string();
    assert!(message.contains("implicit::ESDIRK4"), "{message}");
    assert!(message.contains("stiff"), "{message}");
}

#[test]
fn non_stiff_problems_out_of_steps_are_not_called_stiff() {
    let lv = LotkaVolterra::W1;
    let mut f = |_t: f64, y: &[f64; 2]| lv.field(y);
    let err = solve(
        &mut f,
        &DOPRI5,
        LotkaVolterra::W1_SPAN,
        LotkaVolterra::W1_Y0,
        &SolveConfig::adaptive(1e-8, 1e-8).max_steps(20),
    )
    .unwrap_err();
    assert!(
        matches!(err, SolveError::MaxStepsExceeded { stiff: false, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("implicit"), "{err}");
    // A long, accurate integration: many steps, none limited by stability.
    let ho = HarmonicOscillator { omega: 1.0 };
    let mut f = |_t: f64, y: &[f64; 2]| ho.field(y);
    for rtol in [1e-2, 1e-6] {
        let err = solve(
            &mut f,
            &DOPRI5,
            (0.0, 1e6),
            [1.0, 0.0],
            &SolveConfig::adaptive(rtol, rtol).max_steps(10_000),
        )
        .unwrap_err();
        assert!(
            matches!(err, SolveError::MaxStepsExceeded { stiff: false, .. }),
            "rtol {rtol}: {err:?}"
        );
    }
}

#[test]
fn van_der_pol_mu_1000_completes_with_a_stable_step_count() {
    let p = VanDerPol { mu: 1000.0 };
    let mut f = |_t: f64, y: &[f64; 2]| p.field(y);
    let config = SolveConfig::adaptive(1e-6, 1e-6).save_at(SaveAt::Times(vec![1000.0, 3000.0]));
    let sol = solve(&mut f, &ESDIRK4, (0.0, 3000.0), VanDerPol::Y0, &config).unwrap();
    // Snapshot: a change in step control or Newton policy shows up here.
    assert_eq!(
        sol.stats,
        Stats {
            accepted: 372,
            rejected: 146,
            nfe: 14146,
        }
    );
    // Against a run at rtol 1e-10 (3388 steps): x(1000) = -1.86364626, x(3000) = -1.51060692.
    let reference = [-1.8636462551271964, -1.5106069219654759];
    println!(
        "Van der Pol μ = 1000: {:?}, x(1000), x(3000) = {:?}",
        sol.stats, sol.ys
    );
    for (y, r) in sol.ys.iter().zip(reference) {
        assert!((y[0] - r).abs() < 1e-4, "{} vs {r}", y[0]);
    }
    // Almost two relaxation periods: the oscillation crossed zero.
    assert!(sol.ys[0][0] < -1.0 && sol.ys[1][0] < -1.0);
}

#[test]
fn van_der_pol_tight_reference_agrees_between_methods() {
    let p = VanDerPol { mu: 1000.0 };
    let mut f = |_t: f64, y: &[f64; 2]| p.field(y);
    let config = SolveConfig::adaptive(1e-8, 1e-10).save_at(SaveAt::Times(vec![1000.0, 3000.0]));
    let esdirk = solve(&mut f, &ESDIRK4, (0.0, 3000.0), VanDerPol::Y0, &config).unwrap();
    let trbdf2 = solve(
        &mut f,
        &TRBDF2,
        (0.0, 3000.0),
        VanDerPol::Y0,
        &config.max_steps(1_000_000),
    )
    .unwrap();
    for (a, b) in esdirk.ys.iter().zip(&trbdf2.ys) {
        assert!((a[0] - b[0]).abs() < 1e-4, "{a:?} vs {b:?}");
    }
    assert!((esdirk.ys[1][0] + 1.5106069219654759).abs() < 1e-5);
}

#[test]
fn factorisations_and_jacobians_are_reused() {
    // Fixed steps on a linear problem: one Jacobian and one factorisation serve every step.
    let mut f = |_t: f64, y: &[f64; 2]| [-100.0 * y[0] + y[1], -y[1]];
    let method = Dirk::new(ESDIRK4);
    let mut ws = <Dirk as OdeMethod<[f64; 2]>>::workspace(&method);
    let mut nfe = 0;
    let mut y = [1.0, 1.0];
    for i in 0..50 {
        let t = i as f64 * 0.1;
        let attempt = method.attempt(&mut f, t, &y, 0.1, None, &mut ws, &mut nfe);
        <Dirk as OdeMethod<[f64; 2]>>::accept(&method, &mut ws);
        y = attempt.y1;
    }
    assert_eq!(ws.counters.jacobians, 1, "{:?}", ws.counters);
    assert_eq!(ws.counters.factorizations, 1, "{:?}", ws.counters);
    assert_eq!(ws.counters.newton_failures, 0);
    // The exact solution: y2 = e^{-t}, y1 = (e^{-t} + (99 - 1) e^{-100 t}) / 99 ≈ e^{-t}/99.
    let t: f64 = 5.0;
    assert!((y[1] - (-t).exp()).abs() < 1e-6);
    assert!((y[0] - (-t).exp() / 99.0).abs() < 1e-6);

    // Adaptive Robertson: the analytic Jacobian is evaluated far less often than once a step.
    let calls = std::cell::Cell::new(0);
    let p = Robertson::STANDARD;
    let mut field = WithJacobian::new(
        |_t: f64, y: &[f64; 3]| p.field(y),
        |_t: f64, y: &[f64; 3], jac: &mut Matrix| {
            calls.set(calls.get() + 1);
            for (i, row) in p.jacobian(y).iter().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    jac[(i, j)] = *v;
                }
            }
        },
    );
    let sol = solve(
        &mut field,
        &ESDIRK4,
        (0.0, 1e5),
        Robertson::Y0,
        &SolveConfig::adaptive(1e-6, 1e-10),
    )
    .unwrap();
    assert!(
        2 * calls.get() < sol.stats.steps(),
        "{} Jacobians for {} steps",
        calls.get(),
        sol.stats.steps()
    );
}

#[test]
fn stiff_modes_are_damped_by_l_stable_methods_only() {
    // Prothero–Robinson y' = λ (y - cos t) - sin t, λ = -1e6, exact cos t from y(0) = 1. Started
    // off the slow solution (y(0) = 2), the fast mode must vanish within a step.
    let lambda = -1e6;
    let mut f = |t: f64, y: &[f64; 1]| [lambda * (y[0] - t.cos()) - t.sin()];
    let config = SolveConfig::fixed(0.1);
    for tableau in [&BACKWARD_EULER, &TRBDF2, &ESDIRK4] {
        let sol = solve(&mut f, tableau, (0.0, 1.0), [2.0], &config).unwrap();
        let err = (sol.last()[0] - 1f64.cos()).abs();
        assert!(err < 1e-2, "{}: error {err}", tableau.name);
    }
    // The trapezoidal rule keeps the initial offset, flipping its sign every step.
    let sol = solve(&mut f, &TRAPEZOID, (0.0, 1.0), [2.0], &config).unwrap();
    let err = (sol.last()[0] - 1f64.cos()).abs();
    assert!(err > 0.5, "trapezoid error {err}");

    // Adaptive ESDIRK4 needs no more steps than the slow solution asks for.
    let sol = solve(
        &mut f,
        &ESDIRK4,
        (0.0, 10.0),
        [1.0],
        &SolveConfig::adaptive(1e-6, 1e-9),
    )
    .unwrap();
    assert!((sol.last()[0] - 10f64.cos()).abs() < 1e-5);
    assert!(sol.stats.steps() < 200, "{:?}", sol.stats);
}

#[test]
fn every_implicit_method_adapts_its_step_to_the_tolerance() {
    // With error-per-step control, a method whose estimate has order q (local error O(h^(q+1)))
    // has global errors O(tol^(q/(q+1))): over four decades of tolerance they must fall by that
    // much, give or take a decade.
    let problem = NonAutonomousLinear;
    let y0 = [1.0, 0.5];
    let exact = problem.exact(0.0, 2.0, &y0);
    for tableau in implicit::ALL {
        let q = tableau.error_order().unwrap() as f64;
        let errors: Vec<f64> = [1e-3, 1e-7]
            .iter()
            .map(|&tol| {
                let mut f = |t: f64, y: &[f64; 2]| problem.field(t, y);
                let config = SolveConfig::adaptive(tol, tol).max_steps(1_000_000);
                let sol = solve(&mut f, *tableau, (0.0, 2.0), y0, &config).unwrap();
                let err = max_relative_error(sol.last(), &exact);
                println!(
                    "{} tol {tol:e}: error {err:e}, {:?}",
                    tableau.name, sol.stats
                );
                err
            })
            .collect();
        let gain = errors[0] / errors[1];
        let expected = 10f64.powf(4.0 * q / (q + 1.0));
        assert!(
            gain > expected / 10.0,
            "{}: errors {errors:?}, gain {gain:.1}, expected about {expected:.0}",
            tableau.name
        );
    }
}

#[test]
fn dense_output_of_implicit_solves() {
    let problem = NonAutonomousLinear;
    let y0 = [1.0, 0.5];
    let ts: Vec<f64> = (1..=9).map(|k| k as f64 * 0.1).collect();
    // Cubic Hermite interpolation is third order: between steps taken at rtol 1e-8 its error is
    // about 1e-6, well above the values at the step ends.
    for (tableau, bound) in [(&TRBDF2, 1e-5), (&ESDIRK4, 1e-5)] {
        let mut f = |t: f64, y: &[f64; 2]| problem.field(t, y);
        let config = SolveConfig::adaptive(1e-8, 1e-10).save_at(SaveAt::Times(ts.clone()));
        let sol = solve(&mut f, tableau, (0.0, 1.0), y0, &config).unwrap();
        assert_eq!(sol.ts, ts);
        for (t, y) in sol.ts.iter().zip(&sol.ys) {
            let exact = problem.exact(0.0, *t, &y0);
            let err = (y[0] - exact[0]).abs().max((y[1] - exact[1]).abs());
            assert!(err < bound, "{} t = {t}: {err:e}", tableau.name);
        }
    }
}

#[test]
fn a_fixed_step_whose_newton_iteration_fails_is_an_error() {
    // y' = y², y(0) = 1: backward Euler with h = 2 needs z = 1 + 2 z², which has no real root.
    let mut f = |_t: f64, y: &[f64; 1]| [y[0] * y[0]];
    let err = solve(
        &mut f,
        &BACKWARD_EULER,
        (0.0, 2.0),
        [1.0],
        &SolveConfig::fixed(2.0),
    )
    .unwrap_err();
    assert!(
        matches!(err, SolveError::NonFiniteState { step: Some(_), .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("reduce the step size"));
    // Adaptively, the same blow-up is found as a step-size underflow near t = 1.
    let err = solve(
        &mut f,
        &ESDIRK4,
        (0.0, 2.0),
        [1.0],
        &SolveConfig::adaptive(1e-6, 1e-6),
    )
    .unwrap_err();
    match err {
        SolveError::StepSizeUnderflow { t, .. } => assert!((t - 1.0).abs() < 1e-2, "t = {t}"),
        other => panic!("{other:?}"),
    }
}

#[cfg(feature = "burn")]
#[test]
fn implicit_solves_run_on_tensors() {
    use sysdyn_core::State;
    // A batch of Prothero–Robinson problems with different stiffness, as one f32 tensor on every
    // test backend: y' = λ ⊙ (y - cos t) - sin t, exact cos t.
    for device in sysdyn_testing::test_devices_f32(false) {
        let lambda = device.tensor(vec![-1.0, -1e2, -1e4, -1e6], [4]).unwrap();
        let mut f = |t: f64, y: &sysdyn_core::burn::tensor::Tensor<1>| {
            (y.clone().sub_scalar(t.cos()) * lambda.clone()).sub_scalar(t.sin())
        };
        let y0 = device.tensor(vec![1.0; 4], [4]).unwrap();
        let sol = solve(
            &mut f,
            &ESDIRK4,
            (0.0, 2.0),
            y0,
            &SolveConfig::adaptive(1e-4, 1e-6),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", device.spec()));
        for v in sol.last().to_f64_vec() {
            assert!((v - 2f64.cos()).abs() < 1e-3, "{}: {v}", device.spec());
        }
        assert!(
            sol.stats.steps() < 100,
            "{}: {:?}",
            device.spec(),
            sol.stats
        );
    }
}
