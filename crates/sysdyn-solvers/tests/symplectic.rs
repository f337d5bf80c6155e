//! Symplectic integrators: bounded energy error over 1e5 steps (against the drift of a
//! non-symplectic method), empirical orders 2 and 4, time reversibility, evaluation counts.

use sysdyn_solvers::methods::RK4;
use sysdyn_solvers::symplectic::{
    self, POSITION_VERLET, Separable, SplittingMethod, SubStep, VELOCITY_VERLET, YOSHIDA4,
    solve_hamiltonian,
};
use sysdyn_solvers::{SaveAt, SolveConfig, SolveError, solve};
use sysdyn_testing::convergence_order;
use sysdyn_testing::problems::{HarmonicOscillator, Kepler};

const STEPS: usize = 100_000;

fn kepler() -> Kepler {
    Kepler { eccentricity: 0.6 }
}

/// Largest |E - E0| in the first and in the last tenth of a trajectory's energies.
fn energy_error_tenths(energies: &[f64]) -> (f64, f64) {
    let e0 = energies[0];
    let tenth = energies.len() / 10;
    let max_dev = |slice: &[f64]| slice.iter().map(|e| (e - e0).abs()).fold(0.0, f64::max);
    (
        max_dev(&energies[..tenth]),
        max_dev(&energies[energies.len() - tenth..]),
    )
}

fn kepler_energies(method: &SplittingMethod, dt: f64, steps: usize) -> Vec<f64> {
    let k = kepler();
    let mut h = Separable::new(|p: &[f64; 2]| k.velocity(p), |q: &[f64; 2]| k.force(q));
    let sol = solve_hamiltonian(
        &mut h,
        method,
        (0.0, dt * steps as f64),
        (k.q0(), k.p0()),
        dt,
        &SaveAt::Steps,
    )
    .unwrap();
    assert_eq!(sol.steps, steps);
    sol.qs
        .iter()
        .zip(&sol.ps)
        .map(|(q, p)| k.energy(q, p))
        .collect()
}

#[test]
fn methods_are_consistent_and_symmetric() {
    for method in symplectic::ALL {
        method
            .check(1e-15)
            .unwrap_or_else(|e| panic!("{}: {e}", method.name));
    }
    let lopsided = SplittingMethod {
        name: "lopsided",
        order: 1,
        first: SubStep::Kick,
        coefficients: &[1.0, 1.0],
    };
    assert!(
        lopsided.check(1e-15).is_ok(),
        "symplectic Euler is consistent"
    );
    let asymmetric = SplittingMethod {
        coefficients: &[0.25, 1.0, 0.75],
        ..lopsided
    };
    assert!(asymmetric.check(1e-15).is_err());
}

#[test]
fn energy_error_stays_bounded_on_the_harmonic_oscillator() {
    let ho = HarmonicOscillator { omega: 1.0 };
    let dt = 0.05;
    for method in symplectic::ALL {
        let mut h = Separable::new(|p: &[f64; 1]| *p, |q: &[f64; 1]| [-q[0]]);
        let sol = solve_hamiltonian(
            &mut h,
            method,
            (0.0, dt * STEPS as f64),
            ([1.0], [0.0]),
            dt,
            &SaveAt::Steps,
        )
        .unwrap();
        let energies: Vec<f64> = sol
            .qs
            .iter()
            .zip(&sol.ps)
            .map(|(q, p)| ho.energy(&[q[0], p[0]]))
            .collect();
        let (first, last) = energy_error_tenths(&energies);
        println!(
            "{}: max |ΔE| first tenth {first:e}, last tenth {last:e}",
            method.name
        );
        assert!(
            last <= 1.1 * first,
            "{}: {first:e} -> {last:e}",
            method.name
        );
        let bound = if method.order == 4 { 1e-6 } else { 1e-3 };
        assert!(last < bound, "{}: {last:e}", method.name);
    }
}

#[test]
fn energy_error_stays_bounded_on_kepler_while_rk4_drifts() {
    let dt = 0.01;
    for method in symplectic::ALL {
        let energies = kepler_energies(method, dt, STEPS);
        let (first, last) = energy_error_tenths(&energies);
        println!(
            "{}: max |ΔE| first tenth {first:e}, last tenth {last:e}",
            method.name
        );
        assert!(
            last <= 1.5 * first,
            "{}: {first:e} -> {last:e}",
            method.name
        );
        let bound = if method.order == 4 { 1e-6 } else { 1e-2 };
        assert!(last < bound, "{}: {last:e}", method.name);
    }
    // The same test catches a non-symplectic method of higher order: RK4's energy drifts.
    let k = kepler();
    let mut f = |_t: f64, y: &[f64; 4]| {
        let v = k.velocity(&[y[2], y[3]]);
        let a = k.force(&[y[0], y[1]]);
        [v[0], v[1], a[0], a[1]]
    };
    let [q0, q1] = k.q0();
    let [p0, p1] = k.p0();
    let config = SolveConfig::fixed(dt)
        .save_at(SaveAt::Steps)
        .max_steps(STEPS);
    let sol = solve(
        &mut f,
        &RK4,
        (0.0, dt * STEPS as f64),
        [q0, q1, p0, p1],
        &config,
    )
    .unwrap();
    let energies: Vec<f64> = sol
        .ys
        .iter()
        .map(|y| k.energy(&[y[0], y[1]], &[y[2], y[3]]))
        .collect();
    let (first, last) = energy_error_tenths(&energies);
    println!("rk4: max |ΔE| first tenth {first:e}, last tenth {last:e}");
    assert!(last > 5.0 * first, "rk4 drifts: {first:e} -> {last:e}");
}

#[test]
fn empirical_orders_are_two_and_four() {
    let k = kepler();
    let period = Kepler::PERIOD;
    for (method, expected, divisions) in [
        (&VELOCITY_VERLET, 2.0, [400, 800, 1600, 3200]),
        (&POSITION_VERLET, 2.0, [400, 800, 1600, 3200]),
        (&YOSHIDA4, 4.0, [200, 400, 800, 1600]),
    ] {
        let (mut hs, mut errors) = (Vec::new(), Vec::new());
        for n in divisions {
            let dt = period / n as f64;
            let mut h = Separable::new(|p: &[f64; 2]| k.velocity(p), |q: &[f64; 2]| k.force(q));
            let sol = solve_hamiltonian(
                &mut h,
                method,
                (0.0, period),
                (k.q0(), k.p0()),
                dt,
                &SaveAt::Final,
            )
            .unwrap();
            // One period brings the orbit back to its start.
            let (q, p) = (sol.qs[0], sol.ps[0]);
            let (q0, p0) = (k.q0(), k.p0());
            let err = (0..2)
                .map(|i| (q[i] - q0[i]).abs().max((p[i] - p0[i]).abs()))
                .fold(0.0, f64::max);
            hs.push(dt);
            errors.push(err);
        }
        let order = convergence_order(&hs, &errors);
        println!("{}: order {order:.3}, errors {errors:?}", method.name);
        assert!(
            (order - expected).abs() < 0.15,
            "{}: order {order}, errors {errors:?}",
            method.name
        );
    }
    // The harmonic oscillator against its exact solution.
    let ho = HarmonicOscillator { omega: 2.0 };
    for (method, expected) in [(&VELOCITY_VERLET, 2.0), (&YOSHIDA4, 4.0)] {
        let (mut hs, mut errors) = (Vec::new(), Vec::new());
        for n in [50, 100, 200, 400] {
            let dt = 3.0 / n as f64;
            let mut h = Separable::new(|p: &[f64; 1]| *p, |q: &[f64; 1]| [-4.0 * q[0]]);
            let sol = solve_hamiltonian(
                &mut h,
                method,
                (0.0, 3.0),
                ([1.0], [0.5]),
                dt,
                &SaveAt::Final,
            )
            .unwrap();
            let exact = ho.exact(3.0, &[1.0, 0.5]);
            hs.push(dt);
            errors.push((sol.qs[0][0] - exact[0]).hypot(sol.ps[0][0] - exact[1]));
        }
        let order = convergence_order(&hs, &errors);
        assert!((order - expected).abs() < 0.15, "{}: {order}", method.name);
    }
}

#[test]
fn forward_then_backward_returns_to_the_start() {
    let k = kepler();
    let dt = 0.01;
    let span = dt * STEPS as f64;
    for method in symplectic::ALL {
        let mut h = Separable::new(|p: &[f64; 2]| k.velocity(p), |q: &[f64; 2]| k.force(q));
        let forward = solve_hamiltonian(
            &mut h,
            method,
            (0.0, span),
            (k.q0(), k.p0()),
            dt,
            &SaveAt::Final,
        )
        .unwrap();
        let back = solve_hamiltonian(
            &mut h,
            method,
            (span, 0.0),
            (forward.qs[0], forward.ps[0]),
            dt,
            &SaveAt::Final,
        )
        .unwrap();
        let (q0, p0) = (k.q0(), k.p0());
        let err = (0..2)
            .map(|i| {
                (back.qs[0][i] - q0[i])
                    .abs()
                    .max((back.ps[0][i] - p0[i]).abs())
            })
            .fold(0.0, f64::max);
        println!(
            "{}: forward-backward error after 2 x 1e5 steps {err:e}",
            method.name
        );
        // Rounding only: far below the methods' truncation error over one step.
        assert!(err < 1e-9, "{}: {err:e}", method.name);
    }
}

#[test]
fn merged_kicks_cost_one_force_evaluation_per_step() {
    let mut h = Separable::new(|p: &[f64; 1]| *p, |q: &[f64; 1]| [-q[0]]);
    let sol = solve_hamiltonian(
        &mut h,
        &VELOCITY_VERLET,
        (0.0, 1.0),
        ([1.0], [0.0]),
        0.01,
        &SaveAt::Final,
    )
    .unwrap();
    assert_eq!(sol.steps, 100);
    assert_eq!(sol.force_evals, 101);
    assert_eq!(sol.velocity_evals, 100);
    let sol = solve_hamiltonian(
        &mut h,
        &YOSHIDA4,
        (0.0, 1.0),
        ([1.0], [0.0]),
        0.01,
        &SaveAt::Final,
    )
    .unwrap();
    assert_eq!((sol.force_evals, sol.velocity_evals), (301, 300));
}

#[test]
fn output_times_are_landed_on_exactly() {
    let ho = HarmonicOscillator { omega: 1.0 };
    let mut h = Separable::new(|p: &[f64; 1]| *p, |q: &[f64; 1]| [-q[0]]);
    let ts = vec![0.0, 0.123, 1.0, 2.5];
    let sol = solve_hamiltonian(
        &mut h,
        &YOSHIDA4,
        (0.0, 2.5),
        ([1.0], [0.0]),
        0.01,
        &SaveAt::Times(ts.clone()),
    )
    .unwrap();
    assert_eq!(sol.ts, ts);
    for ((t, q), p) in sol.ts.iter().zip(&sol.qs).zip(&sol.ps) {
        let exact = ho.exact(*t, &[1.0, 0.0]);
        assert!((q[0] - exact[0]).abs() < 1e-8 && (p[0] - exact[1]).abs() < 1e-8);
    }
}

#[test]
fn bad_input_is_refused_with_typed_errors() {
    let mut h = Separable::new(|p: &Vec<f64>| p.clone(), |q: &Vec<f64>| q.clone());
    let y = (vec![1.0], vec![0.0]);
    let run = |h: &mut _, span, y0, dt, save_at: &SaveAt| {
        solve_hamiltonian(h, &VELOCITY_VERLET, span, y0, dt, save_at)
    };
    assert!(matches!(
        run(&mut h, (0.0, 1.0), y.clone(), 0.0, &SaveAt::Final),
        Err(SolveError::InvalidStepOption(_))
    ));
    assert!(matches!(
        run(&mut h, (0.0, f64::NAN), y.clone(), 0.1, &SaveAt::Final),
        Err(SolveError::InvalidTimeSpan { .. })
    ));
    assert!(matches!(
        run(
            &mut h,
            (0.0, 1.0),
            (vec![1.0, 2.0], vec![0.0]),
            0.1,
            &SaveAt::Final
        ),
        Err(SolveError::Shape(_))
    ));
    assert!(matches!(
        run(
            &mut h,
            (0.0, 1.0),
            (vec![f64::NAN], vec![0.0]),
            0.1,
            &SaveAt::Final
        ),
        Err(SolveError::NonFiniteState { .. })
    ));
    assert!(matches!(
        run(
            &mut h,
            (0.0, 1.0),
            y.clone(),
            0.1,
            &SaveAt::Times(vec![0.5, 0.2])
        ),
        Err(SolveError::InvalidOutputTimes { index: 1, .. })
    ));
    // Exponential growth (force = +q) overflows: reported, not returned as infinity.
    assert!(matches!(
        run(&mut h, (0.0, 1e4), y, 1.0, &SaveAt::Final),
        Err(SolveError::NonFiniteState { .. })
    ));
}

#[test]
fn an_empty_state_and_steps_time_cannot_resolve_are_typed_errors() {
    let mut h = Separable::new(|p: &Vec<f64>| p.clone(), |q: &Vec<f64>| q.clone());
    let err = solve_hamiltonian(
        &mut h,
        &VELOCITY_VERLET,
        (0.0, 1.0),
        (Vec::new(), Vec::new()),
        0.1,
        &SaveAt::Final,
    )
    .unwrap_err();
    assert_eq!(err, SolveError::EmptyState { shape: vec![0] });
    // At t = 1e16 f64 time moves in steps of 2; a step of 1 would alternate between 0 and 2.
    let mut oscillator = Separable::new(|p: &[f64; 1]| *p, |q: &[f64; 1]| [-q[0]]);
    let span = (1e16, 1e16 + 64.0);
    let err = solve_hamiltonian(
        &mut oscillator,
        &VELOCITY_VERLET,
        span,
        ([1.0], [0.0]),
        1.0,
        &SaveAt::Final,
    )
    .unwrap_err();
    assert!(
        matches!(err, SolveError::StepBelowTimeResolution { step: 1.0, .. }),
        "{err:?}"
    );
    // A step time resolves is taken there: one velocity-Verlet step of h = 64 at ω = 0.01 from
    // (1, 0) is p½ = -h ω² / 2, q1 = 1 - (h ω)² / 2, p1 = p½ - h ω² q1 / 2.
    let mut slow = Separable::new(|p: &[f64; 1]| *p, |q: &[f64; 1]| [-1e-4 * q[0]]);
    let sol = solve_hamiltonian(
        &mut slow,
        &VELOCITY_VERLET,
        span,
        ([1.0], [0.0]),
        64.0,
        &SaveAt::Final,
    )
    .unwrap();
    assert_eq!(sol.steps, 1);
    let (h, w2) = (64.0, 1e-4);
    let q1 = 1.0 - h * h * w2 / 2.0;
    let p1 = -h * w2 / 2.0 * (1.0 + q1);
    assert!((sol.qs[0][0] - q1).abs() < 1e-14, "{:?}", sol.qs);
    assert!((sol.ps[0][0] - p1).abs() < 1e-14, "{:?}", sol.ps);
}

#[cfg(feature = "burn")]
#[test]
fn symplectic_steps_run_on_tensors() {
    use sysdyn_core::State;
    use sysdyn_core::burn::tensor::Tensor;
    // A batch of oscillators with frequencies ω = 0.5, 1, 2 in one tensor on every test backend,
    // against the plain-array path.
    let omega2 = [0.25, 1.0, 4.0];
    let dt = 0.01;
    for device in sysdyn_testing::test_devices_f32(false) {
        let w2 = device.tensor(omega2.to_vec(), [3]).unwrap();
        let mut h = Separable::new(
            |p: &Tensor<1>| p.clone(),
            |q: &Tensor<1>| (q.clone() * w2.clone()).neg(),
        );
        let q0 = device.tensor(vec![1.0; 3], [3]).unwrap();
        let p0 = device.zeros([3]);
        let sol = solve_hamiltonian(&mut h, &YOSHIDA4, (0.0, 5.0), (q0, p0), dt, &SaveAt::Final)
            .unwrap_or_else(|e| panic!("{}: {e}", device.spec()));
        let (q, p) = (sol.qs[0].to_f64_vec(), sol.ps[0].to_f64_vec());
        for (i, w2) in omega2.iter().enumerate() {
            let w2 = *w2;
            let mut hp = Separable::new(|p: &[f64; 1]| *p, |q: &[f64; 1]| [-w2 * q[0]]);
            let plain = solve_hamiltonian(
                &mut hp,
                &YOSHIDA4,
                (0.0, 5.0),
                ([1.0], [0.0]),
                dt,
                &SaveAt::Final,
            )
            .unwrap();
            assert!((q[i] - plain.qs[0][0]).abs() < 1e-4, "{}", device.spec());
            assert!((p[i] - plain.ps[0][0]).abs() < 1e-4, "{}", device.spec());
            let energy = 0.5 * p[i] * p[i] + 0.5 * w2 * q[i] * q[i];
            assert!((energy - 0.5 * w2).abs() < 1e-4, "{}", device.spec());
        }
    }
}
