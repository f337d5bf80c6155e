//! Bad input and failing solves return a typed `SolveError` (never a panic or an endless loop)
//! that says what went wrong, where, and how to fix it.

use sysdyn_core::tolerance::ToleranceError;
use sysdyn_core::{Tol, Tolerance};
use sysdyn_solvers::methods::{ALL, DOPRI5, RK4, TSIT5};
use sysdyn_solvers::{ErrorEstimate, SaveAt, SolveConfig, SolveError, solve};
use sysdyn_testing::problems::LotkaVolterra;

fn lv(_t: f64, y: &[f64; 2]) -> [f64; 2] {
    LotkaVolterra::W1.field(y)
}

fn w1_with(config: &SolveConfig<[f64; 2]>) -> Result<[f64; 2], SolveError> {
    solve(&mut lv, &DOPRI5, (0.0, 15.0), [1.0, 1.0], config).map(|sol| *sol.last())
}

#[test]
fn nan_initial_state_is_reported_at_t0() {
    let err = solve(
        &mut lv,
        &DOPRI5,
        (2.0, 15.0),
        [1.0, f64::NAN],
        &SolveConfig::adaptive(1e-6, 1e-6),
    )
    .unwrap_err();
    assert_eq!(
        err,
        SolveError::NonFiniteState {
            t: 2.0,
            component: 1,
            step: None
        }
    );
    let message = err.to_string();
    assert!(
        message.contains("t = 2") && message.contains("component 1"),
        "{message}"
    );
}

#[test]
fn invalid_relative_tolerances_are_rejected() {
    for rtol in [0.0, -1e-6, f64::NAN, f64::INFINITY] {
        let err = w1_with(&SolveConfig::adaptive(rtol, 1e-6)).unwrap_err();
        assert!(
            matches!(
                err,
                SolveError::InvalidTolerance(ToleranceError::Rtol { .. })
            ),
            "rtol = {rtol}: {err:?}"
        );
        assert!(err.to_string().contains("rtol"), "{err}");
    }
    // Below what f64 can deliver.
    let err = w1_with(&SolveConfig::adaptive(1e-18, 1e-6)).unwrap_err();
    assert!(matches!(
        err,
        SolveError::InvalidTolerance(ToleranceError::RtolTooSmall { .. })
    ));
}

#[test]
fn invalid_absolute_tolerances_are_rejected() {
    let err = w1_with(&SolveConfig::adaptive(1e-6, -1e-9)).unwrap_err();
    assert!(matches!(
        err,
        SolveError::InvalidTolerance(ToleranceError::Atol {
            component: None,
            ..
        })
    ));
    // Per component: the offending component is named.
    let tol = Tolerance::with(1e-6, Tol::PerComponent([1e-9, -1e-9]));
    let err = w1_with(&SolveConfig::adaptive_with(tol)).unwrap_err();
    assert!(
        matches!(
            err,
            SolveError::InvalidTolerance(ToleranceError::Atol {
                component: Some(1),
                ..
            })
        ),
        "{err:?}"
    );
    let tol = Tolerance::with(1e-6, Tol::PerComponent([1e-9, f64::NAN]));
    assert!(w1_with(&SolveConfig::adaptive_with(tol)).is_err());
}

fn output_error(times: Vec<f64>, t_span: (f64, f64)) -> SolveError {
    let config = SolveConfig::adaptive(1e-6, 1e-6).save_at(SaveAt::Times(times));
    solve(&mut lv, &DOPRI5, t_span, [1.0, 1.0], &config).unwrap_err()
}

#[test]
fn invalid_output_times_name_the_offending_index() {
    let index_of = |err: SolveError| match err {
        SolveError::InvalidOutputTimes { index, .. } => index,
        other => panic!("expected InvalidOutputTimes, got {other:?}"),
    };
    // Out of order.
    assert_eq!(index_of(output_error(vec![1.0, 3.0, 2.0], (0.0, 15.0))), 2);
    // NaN and infinite.
    assert_eq!(index_of(output_error(vec![1.0, f64::NAN], (0.0, 15.0))), 1);
    assert_eq!(index_of(output_error(vec![f64::INFINITY], (0.0, 15.0))), 0);
    // Outside the span, on either side.
    assert_eq!(index_of(output_error(vec![1.0, 2.0, 16.0], (0.0, 15.0))), 2);
    assert_eq!(index_of(output_error(vec![-0.5, 2.0], (0.0, 15.0))), 0);
    // Backward integration wants decreasing times.
    assert_eq!(index_of(output_error(vec![10.0, 12.0], (15.0, 0.0))), 1);
    assert_eq!(
        index_of(output_error(vec![15.0, 12.0, -1.0], (15.0, 0.0))),
        2
    );
    // The message says which time and why.
    let message = output_error(vec![1.0, 3.0, 2.0], (0.0, 15.0)).to_string();
    assert!(
        message.contains("ts[2] = 2") && message.contains("out of order"),
        "{message}"
    );
}

#[test]
fn valid_backward_output_times_are_accepted() {
    let config = SolveConfig::adaptive(1e-8, 1e-8).save_at(SaveAt::Times(vec![15.0, 12.0, 0.0]));
    let sol = solve(
        &mut lv,
        &DOPRI5,
        (15.0, 0.0),
        LotkaVolterra::W1_FINAL,
        &config,
    )
    .unwrap();
    assert_eq!(sol.ts, [15.0, 12.0, 0.0]);
}

#[test]
fn too_few_steps_stops_before_the_end() {
    for config in [
        SolveConfig::adaptive(1e-8, 1e-8).max_steps(50),
        SolveConfig::fixed(0.01).max_steps(50),
    ] {
        match w1_with(&config).unwrap_err() {
            err @ SolveError::MaxStepsExceeded { t, max_steps, .. } => {
                assert_eq!(max_steps, 50);
                assert!((0.0..15.0).contains(&t), "t = {t}");
                let message = err.to_string();
                assert!(
                    message.contains("(50)") && message.contains(&format!("t = {t}")),
                    "{message}"
                );
                assert!(message.contains("max_steps"), "the fix is named: {message}");
            }
            other => panic!("expected MaxStepsExceeded, got {other:?}"),
        }
    }
    // Zero steps allowed is a configuration error, not a failed solve.
    assert!(matches!(
        w1_with(&SolveConfig::adaptive(1e-8, 1e-8).max_steps(0)),
        Err(SolveError::InvalidStepOption(_))
    ));
}

#[test]
fn non_positive_fixed_steps_are_rejected() {
    for dt in [0.0, -0.1, f64::NAN, f64::INFINITY] {
        let err = w1_with(&SolveConfig::fixed(dt)).unwrap_err();
        assert!(
            matches!(err, SolveError::InvalidStepOption(_)),
            "dt = {dt}: {err:?}"
        );
        assert!(err.to_string().contains("fixed step"), "{err}");
    }
}

#[test]
fn adaptive_stepping_needs_an_error_estimate() {
    let err = solve(
        &mut lv,
        &RK4,
        (0.0, 1.0),
        [1.0, 1.0],
        &SolveConfig::adaptive(1e-6, 1e-6),
    )
    .unwrap_err();
    assert_eq!(err, SolveError::NotAdaptive { method: "rk4" });
    let message = err.to_string();
    assert!(
        message.contains("rk4") && message.contains("SolveConfig::fixed"),
        "{message}"
    );
}

#[test]
fn a_vector_field_of_the_wrong_length_is_a_shape_error() {
    let mut short = |_t: f64, y: &Vec<f64>| vec![-y[0]];
    for config in [SolveConfig::adaptive(1e-6, 1e-6), SolveConfig::fixed(0.1)] {
        let err = solve(&mut short, &TSIT5, (0.0, 1.0), vec![1.0, 2.0, 3.0], &config).unwrap_err();
        match &err {
            SolveError::Shape(mismatch) => {
                assert_eq!(mismatch.expected, vec![3]);
                assert_eq!(mismatch.got, vec![1]);
            }
            other => panic!("expected a shape error, got {other:?}"),
        }
    }
}

/// `y' = y²`, `y(0) = 1`: the solution `1 / (1 - t)` blows up at t = 1.
fn blow_up(_t: f64, y: &[f64; 1]) -> [f64; 1] {
    [y[0] * y[0]]
}

#[test]
fn a_blow_up_ends_adaptive_solves_with_step_size_underflow_near_the_singularity() {
    // Every adaptive method, including those whose steps shrink through accepted steps (Heun,
    // Bosh3) rather than rejected ones: those once stepped on without moving t until max_steps.
    let adaptive = ALL
        .iter()
        .filter(|m| !matches!(m.error, ErrorEstimate::None));
    for &method in adaptive {
        let err = solve(
            &mut blow_up,
            method,
            (0.0, 2.0),
            [1.0],
            &SolveConfig::adaptive(1e-6, 1e-6),
        )
        .unwrap_err();
        match &err {
            SolveError::StepSizeUnderflow { t, h, h_min, .. } => {
                assert!(
                    (t - 1.0).abs() <= 1e-3,
                    "{}: stopped at t = {t}",
                    method.name
                );
                assert!(h.abs() < *h_min);
                let message = err.to_string();
                assert!(message.contains(&format!("t = {t}")), "{message}");
            }
            other => panic!("{}: expected StepSizeUnderflow, got {other:?}", method.name),
        }
    }
}

#[test]
fn a_blow_up_ends_fixed_step_solves_with_a_non_finite_state_just_past_it() {
    let dt = 1e-3;
    let err = solve(
        &mut blow_up,
        &RK4,
        (0.0, 2.0),
        [1.0],
        &SolveConfig::fixed(dt),
    )
    .unwrap_err();
    match &err {
        SolveError::NonFiniteState { t, component, step } => {
            // The numerical solution overflows within a few steps of the singularity.
            assert!(*t > 1.0 && *t <= 1.0 + 20.0 * dt, "t = {t}");
            assert_eq!(*component, 0);
            assert!(step.is_some_and(|h| (h - dt).abs() < 1e-12));
            assert!(err.to_string().contains(&format!("t = {t}")), "{err}");
        }
        other => panic!("expected NonFiniteState, got {other:?}"),
    }
}

#[test]
fn a_non_finite_time_span_is_rejected() {
    for span in [
        (0.0, f64::INFINITY),
        (f64::NAN, 1.0),
        (0.0, f64::NAN),
        (f64::NEG_INFINITY, 0.0),
    ] {
        for config in [SolveConfig::adaptive(1e-6, 1e-6), SolveConfig::fixed(0.1)] {
            let err = solve(&mut lv, &DOPRI5, span, [1.0, 1.0], &config).unwrap_err();
            assert!(
                matches!(err, SolveError::InvalidTimeSpan { .. }),
                "{span:?}: {err:?}"
            );
            assert!(err.to_string().contains("time span"), "{err}");
        }
    }
}

#[test]
fn an_empty_time_span_returns_the_initial_state() {
    for save_at in [SaveAt::Final, SaveAt::Steps, SaveAt::Times(vec![3.0, 3.0])] {
        let config = SolveConfig::adaptive(1e-6, 1e-6).save_at(save_at.clone());
        let sol = solve(&mut lv, &DOPRI5, (3.0, 3.0), [1.0, 2.0], &config).unwrap();
        assert!(sol.ys.iter().all(|y| *y == [1.0, 2.0]), "{save_at:?}");
        assert!(sol.ts.iter().all(|t| *t == 3.0));
        assert_eq!(sol.stats.nfe, 0);
    }
}

#[test]
fn a_first_step_that_is_not_a_positive_size_is_a_typed_error() {
    // The first step is a size: the direction comes from the span, as for fixed steps. A negative
    // one was once taken silently as its absolute value.
    for (span, h) in [
        ((0.0, 15.0), -0.1),
        ((15.0, 0.0), -0.1),
        ((0.0, 15.0), 0.0),
        ((0.0, 15.0), f64::NAN),
        ((0.0, 15.0), f64::INFINITY),
    ] {
        let config = SolveConfig::adaptive(1e-6, 1e-6).first_step(h);
        let start = if span.0 == 0.0 {
            LotkaVolterra::W1_Y0
        } else {
            LotkaVolterra::W1_FINAL
        };
        let err = solve(&mut lv, &DOPRI5, span, start, &config).unwrap_err();
        assert!(
            matches!(err, SolveError::InvalidFirstStep { first_step } if first_step.to_bits() == h.to_bits()),
            "span {span:?}, first step {h}: {err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains("first step") && message.contains("positive"),
            "{message}"
        );
    }
    // The message says how to fix a negative one.
    let err = w1_with(&SolveConfig::adaptive(1e-6, 1e-6).first_step(-0.1)).unwrap_err();
    assert!(err.to_string().contains("first_step(0.1)"), "{err}");
    // A positive first step works both ways, and backwards it reproduces the forward solve.
    let config = SolveConfig::adaptive(1e-10, 1e-10).first_step(0.1);
    let forward = w1_with(&config).unwrap();
    let back = solve(&mut lv, &DOPRI5, (15.0, 0.0), forward, &config).unwrap();
    let start = LotkaVolterra::W1_Y0;
    assert!(
        (back.last()[0] - start[0]).abs() < 1e-6 && (back.last()[1] - start[1]).abs() < 1e-6,
        "{:?}",
        back.last()
    );
}

#[test]
fn an_empty_state_is_a_typed_error() {
    let mut nothing = |_t: f64, y: &Vec<f64>| y.clone();
    for config in [SolveConfig::adaptive(1e-6, 1e-6), SolveConfig::fixed(0.1)] {
        let err = solve(&mut nothing, &DOPRI5, (0.0, 1.0), Vec::new(), &config).unwrap_err();
        assert_eq!(err, SolveError::EmptyState { shape: vec![0] });
        assert!(err.to_string().contains("no components"), "{err}");
    }
    // The same for a fixed-size array of length zero, with an implicit method and with events.
    let mut empty_array = |_t: f64, y: &[f64; 0]| *y;
    let err = solve(
        &mut empty_array,
        &sysdyn_solvers::implicit::ESDIRK4,
        (0.0, 1.0),
        [],
        &SolveConfig::adaptive(1e-6, 1e-6),
    )
    .unwrap_err();
    assert_eq!(err, SolveError::EmptyState { shape: vec![0] });
    let mut events = [sysdyn_solvers::events::Event::terminal(
        |t: f64, _y: &Vec<f64>| t - 0.5,
    )];
    let err = sysdyn_solvers::events::solve_with_events(
        &mut nothing,
        &DOPRI5,
        (0.0, 1.0),
        Vec::new(),
        &SolveConfig::adaptive(1e-6, 1e-6),
        &mut events,
    )
    .unwrap_err();
    assert_eq!(err, SolveError::EmptyState { shape: vec![0] });
}

#[test]
fn steps_too_small_for_the_time_reached_are_typed_errors() {
    // At t = 1e16 consecutive f64 numbers are 2 apart, and steps must be at least 16 ε · 1e16 ≈ 36
    // to move time meaningfully. Asking for less is a configuration error, found before any step
    // (the vector field is never called), with the time and the smallest usable step.
    let t0 = 1e16;
    let span = (t0, t0 + 1e4);
    let min_step = 16.0 * f64::EPSILON * (t0 + 1e4);
    let mut calls = 0;
    let mut decay = |_t: f64, y: &[f64; 1]| {
        calls += 1;
        [-y[0]]
    };
    let cases = [
        ("the fixed step", SolveConfig::fixed(1.0)),
        (
            "the first step",
            SolveConfig::adaptive(1e-6, 1e-6).first_step(1.0),
        ),
        (
            "the largest step (max_step)",
            SolveConfig::adaptive(1e-6, 1e-6).step_bounds(0.0, 1.0),
        ),
    ];
    for (what, config) in cases {
        let err = solve(&mut decay, &DOPRI5, span, [1.0], &config).unwrap_err();
        match &err {
            SolveError::StepBelowTimeResolution {
                what: got,
                step,
                t,
                min_step: floor,
            } => {
                assert_eq!(*got, what);
                assert_eq!(*step, 1.0);
                assert!(*t >= t0 && *floor > *step, "{err:?}");
                assert!((floor / min_step - 1.0).abs() < 1e-3, "{err:?}");
            }
            other => panic!("{what}: expected StepBelowTimeResolution, got {other:?}"),
        }
        let message = err.to_string();
        assert!(
            message.contains(what) && message.contains("origin"),
            "{message}"
        );
    }
    assert_eq!(
        calls, 0,
        "bad options are refused before the first evaluation"
    );
    // Steps that time does resolve there work, and a step that covers the whole span in one go
    // is always fine: y' = -y / τ with τ = 1e4 over the span, y(t1) = e^{-1}.
    let mut slow = |_t: f64, y: &[f64; 1]| [-y[0] / 1e4];
    let exact = (-1.0f64).exp();
    let fixed = solve(&mut slow, &RK4, span, [1.0], &SolveConfig::fixed(100.0)).unwrap();
    assert!((fixed.last()[0] - exact).abs() < 1e-8, "{:?}", fixed.last());
    let first = SolveConfig::adaptive(1e-8, 1e-10).first_step(100.0);
    let adaptive = solve(&mut slow, &DOPRI5, span, [1.0], &first).unwrap();
    assert!(
        (adaptive.last()[0] - exact).abs() < 1e-6,
        "{:?}",
        adaptive.last()
    );
    let tiny_span = (t0, t0 + 4.0);
    let one_step = solve(&mut slow, &RK4, tiny_span, [1.0], &SolveConfig::fixed(10.0)).unwrap();
    assert_eq!(one_step.stats.accepted, 1);
    assert!((one_step.last()[0] - (-4e-4f64).exp()).abs() < 1e-12);
}

#[test]
fn a_controller_that_cannot_shrink_or_keep_a_step_is_a_typed_error() {
    use sysdyn_solvers::PidController;
    // factor_min above factor_max used to panic inside `f64::clamp`.
    for controller in [
        PidController {
            factor_min: 2.0,
            factor_max: 1.5,
            ..Default::default()
        },
        PidController {
            factor_min: 0.0,
            ..Default::default()
        },
        PidController {
            safety: f64::NAN,
            ..Default::default()
        },
        PidController {
            icoeff: f64::INFINITY,
            ..Default::default()
        },
    ] {
        let err = w1_with(&SolveConfig::adaptive(1e-6, 1e-6).controller(controller)).unwrap_err();
        assert!(
            matches!(err, SolveError::InvalidStepOption(ref m) if m.contains("controller")),
            "{controller:?}: {err:?}"
        );
    }
    // A valid factor_min above 0.9 (the largest shrink factor of a rejection) no longer panics,
    // and the solve still reaches the reference state.
    let gentle = PidController {
        factor_min: 0.95,
        ..Default::default()
    };
    let y = w1_with(&SolveConfig::adaptive(1e-8, 1e-8).controller(gentle)).unwrap();
    let reference = LotkaVolterra::W1_FINAL;
    assert!(
        (y[0] - reference[0]).abs() < 1e-5 && (y[1] - reference[1]).abs() < 1e-5,
        "{y:?} vs {reference:?}"
    );
}
