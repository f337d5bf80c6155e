//! Events: a dropped ball's impact time, five bounces against the closed form, directions,
//! several events per solve, outputs around a terminating event, events with fixed-step and
//! implicit methods.

use sysdyn_solvers::events::{Direction, Event, EventAction, solve_with_events};
use sysdyn_solvers::implicit::ESDIRK4;
use sysdyn_solvers::methods::{DOPRI5, RK4};
use sysdyn_solvers::{SaveAt, SolveConfig};
use sysdyn_testing::problems::{BouncingBall, HarmonicOscillator};

const BALL: BouncingBall = BouncingBall {
    g: 9.81,
    h0: 10.0,
    restitution: 0.9,
};

#[test]
fn a_dropped_ball_hits_the_ground_at_the_exact_time() {
    let mut f = |_t: f64, y: &[f64; 2]| BALL.field(y);
    let mut events = [Event::terminal(|_t: f64, y: &[f64; 2]| y[0]).direction(Direction::Falling)];
    let sol = solve_with_events(
        &mut f,
        &DOPRI5,
        (0.0, 10.0),
        BALL.y0(),
        &SolveConfig::adaptive(1e-8, 1e-8),
        &mut events,
    )
    .unwrap();
    let exact = (2.0 * 10.0 / 9.81f64).sqrt();
    assert_eq!(sol.terminated_by, Some(0));
    assert_eq!(sol.events.len(), 1);
    let err = (sol.events[0].t - exact).abs();
    println!("impact time error {err:e}");
    assert!(err < 1e-9, "{err:e}");
    // The solve ends at the impact, on the ground, at impact speed.
    assert_eq!(*sol.solution.ts.last().unwrap(), sol.events[0].t);
    let y = sol.solution.last();
    assert!(
        y[0].abs() < 1e-9 && (y[1] + 9.81 * exact).abs() < 1e-8,
        "{y:?}"
    );
}

#[test]
fn five_bounces_match_the_closed_form() {
    let mut f = |_t: f64, y: &[f64; 2]| BALL.field(y);
    let bounces = std::cell::Cell::new(0);
    let mut events = [Event::with_callback(
        |_t: f64, y: &[f64; 2]| y[0],
        |_t, y: &mut [f64; 2]| {
            y[1] *= -BALL.restitution;
            bounces.set(bounces.get() + 1);
            if bounces.get() == 5 {
                EventAction::Stop
            } else {
                EventAction::Continue
            }
        },
    )
    .direction(Direction::Falling)];
    let sol = solve_with_events(
        &mut f,
        &DOPRI5,
        (0.0, 100.0),
        BALL.y0(),
        &SolveConfig::adaptive(1e-10, 1e-10),
        &mut events,
    )
    .unwrap();
    assert_eq!(sol.events.len(), 5);
    for (k, event) in sol.events.iter().enumerate() {
        let exact = BALL.impact_time(k + 1);
        let err = (event.t - exact).abs();
        println!("bounce {}: t = {:.12}, error {err:e}", k + 1, event.t);
        assert!(err < 1e-9, "bounce {}: {err:e}", k + 1);
        assert!(event.y[0].abs() < 1e-8);
    }
    // After the last bounce the ball is moving up with e^5 of the first impact speed.
    let v1 = 9.81 * BALL.impact_time(1);
    assert!((sol.solution.last()[1] - BALL.restitution.powi(5) * v1).abs() < 1e-7);
}

#[test]
fn directions_select_the_crossings_that_count() {
    // q(t) = cos t crosses zero falling at π/2, 5π/2 and rising at 3π/2 within [0, 9].
    let ho = HarmonicOscillator { omega: 1.0 };
    let pi = std::f64::consts::PI;
    for (direction, expected) in [
        (Direction::Falling, vec![0.5 * pi, 2.5 * pi]),
        (Direction::Rising, vec![1.5 * pi]),
        (Direction::Either, vec![0.5 * pi, 1.5 * pi, 2.5 * pi]),
    ] {
        let mut f = |_t: f64, y: &[f64; 2]| ho.field(y);
        let mut events = [Event::with_callback(
            |_t: f64, y: &[f64; 2]| y[0],
            |_t, _y: &mut [f64; 2]| EventAction::Continue,
        )
        .direction(direction)];
        let sol = solve_with_events(
            &mut f,
            &DOPRI5,
            (0.0, 9.0),
            [1.0, 0.0],
            &SolveConfig::adaptive(1e-10, 1e-10),
            &mut events,
        )
        .unwrap();
        let times: Vec<f64> = sol.events.iter().map(|e| e.t).collect();
        assert_eq!(times.len(), expected.len(), "{direction:?}: {times:?}");
        for (t, e) in times.iter().zip(&expected) {
            assert!((t - e).abs() < 1e-8, "{direction:?}: {t} vs {e}");
        }
        assert_eq!(sol.terminated_by, None);
        assert_eq!(*sol.solution.ts.last().unwrap(), 9.0);
        // Non-terminating events that change nothing leave the solution as it was.
        assert!((sol.solution.last()[0] - 9f64.cos()).abs() < 1e-8);
    }
}

#[test]
fn the_earliest_of_several_events_is_handled_first() {
    let mut f = |_t: f64, y: &[f64; 2]| BALL.field(y);
    // Passing 5 m is recorded; reaching 2 m stops the solve; 1 m is never reached.
    let mut events = [
        Event::terminal(|_t: f64, y: &[f64; 2]| y[0] - 1.0),
        Event::with_callback(
            |_t: f64, y: &[f64; 2]| y[0] - 5.0,
            |_t, _y: &mut [f64; 2]| EventAction::Continue,
        ),
        Event::terminal(|_t: f64, y: &[f64; 2]| y[0] - 2.0),
    ];
    // Large steps, so that several crossings fall inside one step.
    let config = SolveConfig::adaptive(1e-6, 1e-6).step_bounds(0.0, 10.0);
    let sol = solve_with_events(
        &mut f,
        &DOPRI5,
        (0.0, 10.0),
        BALL.y0(),
        &config,
        &mut events,
    )
    .unwrap();
    let time_at = |height: f64| (2.0 * (10.0 - height) / 9.81f64).sqrt();
    assert_eq!(sol.events.len(), 2);
    assert_eq!((sol.events[0].event, sol.events[1].event), (1, 2));
    assert!((sol.events[0].t - time_at(5.0)).abs() < 1e-9);
    assert!((sol.events[1].t - time_at(2.0)).abs() < 1e-9);
    assert_eq!(sol.terminated_by, Some(2));
}

#[test]
fn outputs_stop_at_a_terminating_event() {
    let exact = (2.0 * 10.0 / 9.81f64).sqrt();
    let mut f = |_t: f64, y: &[f64; 2]| BALL.field(y);
    let config = SolveConfig::adaptive(1e-8, 1e-8).save_at(SaveAt::Times(vec![0.5, 1.0, 2.0]));
    let mut events = [Event::terminal(|_t: f64, y: &[f64; 2]| y[0])];
    let sol =
        solve_with_events(&mut f, &DOPRI5, (0.0, 3.0), BALL.y0(), &config, &mut events).unwrap();
    // 2.0 lies after the impact at 1.428 s: not produced.
    assert_eq!(sol.solution.ts, vec![0.5, 1.0]);
    assert!((sol.solution.ys[1][0] - (10.0 - 0.5 * 9.81)).abs() < 1e-9);
    let config = SolveConfig::adaptive(1e-8, 1e-8).save_at(SaveAt::Steps);
    let mut events = [Event::terminal(|_t: f64, y: &[f64; 2]| y[0])];
    let sol =
        solve_with_events(&mut f, &DOPRI5, (0.0, 3.0), BALL.y0(), &config, &mut events).unwrap();
    assert!((sol.solution.ts.last().unwrap() - exact).abs() < 1e-9);
}

#[test]
fn events_work_with_fixed_steps_and_implicit_methods() {
    let exact = (2.0 * 10.0 / 9.81f64).sqrt();
    let mut f = |_t: f64, y: &[f64; 2]| BALL.field(y);
    for config in [SolveConfig::fixed(0.1), SolveConfig::adaptive(1e-8, 1e-8)] {
        let mut events = [Event::terminal(|_t: f64, y: &[f64; 2]| y[0])];
        let rk4 = solve_with_events(&mut f, &RK4, (0.0, 3.0), BALL.y0(), &config, &mut events);
        let mut events = [Event::terminal(|_t: f64, y: &[f64; 2]| y[0])];
        let esdirk = solve_with_events(
            &mut f,
            &ESDIRK4,
            (0.0, 3.0),
            BALL.y0(),
            &config,
            &mut events,
        );
        for sol in [rk4, esdirk] {
            let Ok(sol) = sol else {
                // RK4 has no error estimate: only its fixed-step solve is valid.
                assert!(matches!(config.step, sysdyn_solvers::StepSize::Adaptive(_)));
                continue;
            };
            // Both interpolate with cubics, exact for the parabola of free fall.
            assert!(
                (sol.events[0].t - exact).abs() < 1e-9,
                "{}",
                sol.events[0].t
            );
        }
    }
    // Fixed steps continue on their grid after a bounce.
    let mut events = [Event::with_callback(
        |_t: f64, y: &[f64; 2]| y[0],
        |_t, y: &mut [f64; 2]| {
            y[1] *= -BALL.restitution;
            EventAction::Continue
        },
    )
    .direction(Direction::Falling)];
    let config = SolveConfig::fixed(0.05).save_at(SaveAt::Steps);
    let sol = solve_with_events(&mut f, &RK4, (0.0, 4.0), BALL.y0(), &config, &mut events).unwrap();
    assert_eq!(sol.events.len(), 2);
    assert!((sol.events[1].t - BALL.impact_time(2)).abs() < 1e-9);
    assert!(sol.solution.ts.contains(&0.05) && sol.solution.ts.contains(&3.95));
}

#[cfg(feature = "burn")]
#[test]
fn events_run_on_tensors() {
    use sysdyn_core::State;
    use sysdyn_core::burn::tensor::Tensor;
    let exact = (2.0 * 10.0 / 9.81f64).sqrt();
    for device in sysdyn_testing::test_devices_f32(false) {
        // y = (height, velocity) as a [1, 2] tensor: f(y) = y Aᵀ + b with A = [[0, 1], [0, 0]].
        let a_t = device.tensor(vec![0.0, 0.0, 1.0, 0.0], [2, 2]).unwrap();
        let b = device.tensor(vec![0.0, -9.81], [1, 2]).unwrap();
        let mut f = |_t: f64, y: &Tensor<2>| y.clone().matmul(a_t.clone()) + b.clone();
        let mut events = [Event::terminal(|_t: f64, y: &Tensor<2>| y.to_f64_vec()[0])
            .direction(Direction::Falling)];
        let y0 = device.tensor(vec![10.0, 0.0], [1, 2]).unwrap();
        let sol = solve_with_events(
            &mut f,
            &DOPRI5,
            (0.0, 3.0),
            y0,
            &SolveConfig::adaptive(1e-5, 1e-5),
            &mut events,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", device.spec()));
        let err = (sol.events[0].t - exact).abs();
        assert!(err < 1e-5, "{}: {err:e}", device.spec());
    }
}
