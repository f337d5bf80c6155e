//! SINDy recovers Lorenz-63 and Lotka–Volterra from tightly solved trajectories, clean and with
//! 1 % noise; a forced system with a control input; simulation and R² of the identified model.

use sysdyn_core::linalg::Matrix;
use sysdyn_physics::discovery::{
    Differentiator, Ensemble, Library, Optimizer, Sindy, Sr3, Sr3Regularizer, Stlsq, Trajectory,
    add_noise,
};
use sysdyn_physics::simulators::lorenz::Lorenz63;
use sysdyn_physics::simulators::lotka_volterra::LotkaVolterra;
use sysdyn_physics::simulators::reference_trajectory;

/// `n` uniform times `0, dt, …`.
fn times(n: usize, dt: f64) -> Vec<f64> {
    (0..n).map(|i| i as f64 * dt).collect()
}

/// `y' = f(y)` from `y0` at the times `t`, Dopri5 at `rtol = atol = 1e-10`.
fn integrate(f: impl Fn(&[f64]) -> Vec<f64>, y0: &[f64], t: &[f64]) -> Matrix {
    let mut field = |_t: f64, y: &Vec<f64>| f(y);
    let config = sysdyn_solvers::SolveConfig::adaptive(1e-10, 1e-10)
        .save_at(sysdyn_solvers::SaveAt::Times(t.to_vec()));
    let sol = sysdyn_solvers::solve(
        &mut field,
        &sysdyn_solvers::methods::DOPRI5,
        (t[0], t[t.len() - 1]),
        y0.to_vec(),
        &config,
    )
    .unwrap();
    Matrix::from_rows(&sol.ys).unwrap()
}

fn names(v: &[&str]) -> Option<Vec<String>> {
    Some(v.iter().map(|s| s.to_string()).collect())
}

/// Checks the sparsity pattern exactly and returns the largest relative coefficient error.
fn check(fitted: &Matrix, features: &[String], truth: &[&[(&str, f64)]]) -> f64 {
    let mut worst: f64 = 0.0;
    for (row, terms) in truth.iter().enumerate() {
        for (col, name) in features.iter().enumerate() {
            let got = fitted[(row, col)];
            match terms.iter().find(|(n, _)| n == name) {
                Some((_, want)) => {
                    assert!(got != 0.0, "equation {row}: term {name} missing");
                    worst = worst.max(((got - want) / want).abs());
                }
                None => assert_eq!(got, 0.0, "equation {row}: spurious term {name} = {got}"),
            }
        }
    }
    worst
}

const LORENZ: [&[(&str, f64)]; 3] = [
    &[("x", -10.0), ("y", 10.0)],
    &[("x", 28.0), ("y", -1.0), ("x z", -1.0)],
    &[("x y", 1.0), ("z", -8.0 / 3.0)],
];

fn lorenz_data() -> (Matrix, Vec<f64>) {
    let t = times(5001, 0.002);
    let states = reference_trajectory(Lorenz63::default(), &[-8.0, 8.0, 27.0], &t).unwrap();
    (Matrix::from_rows(&states).unwrap(), t)
}

#[test]
fn lorenz_clean_is_recovered_to_a_fraction_of_a_percent() {
    let (x, t) = lorenz_data();
    let sindy = Sindy {
        state_names: names(&["x", "y", "z"]),
        ..Sindy::default()
    };
    let model = sindy.fit(&[Trajectory::new(&x, &t)]).unwrap();
    let err = check(model.coefficients(), model.feature_names(), &LORENZ);
    println!("Lorenz clean: max relative coefficient error {err:.2e}\n{model}");
    assert!(err < 0.01, "{err}");
    let eq = model.equations(2);
    assert_eq!(eq[0], "x' = -10.00 x + 10.00 y");
    assert_eq!(eq[1], "y' = 27.99 x - 1.00 y - 1.00 x z");
    assert_eq!(eq[2], "z' = -2.67 z + 1.00 x y");
    // The identified model reproduces the derivative (R² near one) and the trajectory over a
    // short horizon (chaos amplifies the coefficient error later).
    let r2 = model.score(&Trajectory::new(&x, &t)).unwrap();
    assert!(r2 > 0.9999, "R² = {r2}");
    let short = &t[..251];
    let sim = model
        .simulate(&[-8.0, 8.0, 27.0], short, 1e-10, 1e-10)
        .unwrap();
    for i in 0..short.len() {
        for j in 0..3 {
            assert!(
                (sim[(i, j)] - x[(i, j)]).abs() < 0.05,
                "t = {}: {} vs {}",
                short[i],
                sim[(i, j)],
                x[(i, j)]
            );
        }
    }
}

#[test]
fn lorenz_with_one_percent_noise_keeps_the_pattern() {
    let (x, t) = lorenz_data();
    let noisy = add_noise(&x, 0.01, 11).unwrap();
    let sindy = Sindy {
        state_names: names(&["x", "y", "z"]),
        differentiator: Differentiator::SmoothedFiniteDifference {
            window: 31,
            order: 3,
        },
        ..Sindy::default()
    };
    let model = sindy.fit(&[Trajectory::new(&noisy, &t)]).unwrap();
    let err = check(model.coefficients(), model.feature_names(), &LORENZ);
    println!("Lorenz 1% noise: max relative coefficient error {err:.2e}\n{model}");
    assert!(err < 0.05, "{err}");
}

#[test]
fn sr3_and_ensembles_find_lorenz() {
    let (x, t) = lorenz_data();
    for regularizer in [Sr3Regularizer::L0, Sr3Regularizer::L1] {
        let model = Sindy {
            state_names: names(&["x", "y", "z"]),
            optimizer: Optimizer::Sr3(Sr3 {
                threshold: 0.5,
                regularizer,
                max_iter: 1000,
                ..Sr3::default()
            }),
            ..Sindy::default()
        }
        .fit(&[Trajectory::new(&x, &t)])
        .unwrap();
        let err = check(model.coefficients(), model.feature_names(), &LORENZ);
        println!("Lorenz SR3 {regularizer:?}: max relative coefficient error {err:.2e}");
        assert!(err < 0.01, "{err}");
    }
    // Bagging at 1 % noise: the true terms are kept in every model.
    let noisy = add_noise(&x, 0.01, 2).unwrap();
    let model = Sindy {
        state_names: names(&["x", "y", "z"]),
        differentiator: Differentiator::SmoothedFiniteDifference {
            window: 31,
            order: 3,
        },
        optimizer: Optimizer::Ensemble(Ensemble {
            base: Box::new(Optimizer::default()),
            n_models: 20,
            n_subset: None,
            seed: 1,
        }),
        ..Sindy::default()
    }
    .fit(&[Trajectory::new(&noisy, &t)])
    .unwrap();
    let err = check(model.coefficients(), model.feature_names(), &LORENZ);
    println!("Lorenz ensemble, 1% noise: max relative coefficient error {err:.2e}");
    assert!(err < 0.05, "{err}");
    let inclusion = model.inclusion_probabilities().unwrap();
    for (row, terms) in LORENZ.iter().enumerate() {
        for (col, name) in model.feature_names().iter().enumerate() {
            let p = inclusion[(row, col)];
            if terms.iter().any(|(n, _)| n == name) {
                assert_eq!(p, 1.0, "{name}");
            } else {
                assert!(p < 0.5, "{name}: {p}");
            }
        }
    }
}

const LV: [&[(&str, f64)]; 2] = [&[("x", 1.0), ("x y", -0.5)], &[("x y", 0.2), ("y", -0.8)]];

fn lv_data() -> (Matrix, Vec<f64>) {
    let t = times(5001, 0.004);
    // x' = x − 0.5 x y, y' = 0.2 x y − 0.8 y.
    let lv = LotkaVolterra::new(1.0, 0.5, 0.8, 0.2).unwrap();
    let states = reference_trajectory(lv, &[2.0, 1.0], &t).unwrap();
    (Matrix::from_rows(&states).unwrap(), t)
}

#[test]
fn lotka_volterra_clean_and_noisy() {
    let (x, t) = lv_data();
    let optimizer = Optimizer::Stlsq(Stlsq {
        threshold: 0.05,
        ..Stlsq::default()
    });
    let clean = Sindy {
        state_names: names(&["x", "y"]),
        optimizer: optimizer.clone(),
        ..Sindy::default()
    }
    .fit(&[Trajectory::new(&x, &t)])
    .unwrap();
    let err = check(clean.coefficients(), clean.feature_names(), &LV);
    println!("LV clean: max relative coefficient error {err:.2e}\n{clean}");
    assert!(err < 0.01, "{err}");

    let noisy = add_noise(&x, 0.01, 5).unwrap();
    let model = Sindy {
        state_names: names(&["x", "y"]),
        differentiator: Differentiator::SmoothedFiniteDifference {
            window: 41,
            order: 3,
        },
        optimizer,
        ..Sindy::default()
    }
    .fit(&[Trajectory::new(&noisy, &t)])
    .unwrap();
    let err = check(model.coefficients(), model.feature_names(), &LV);
    println!("LV 1% noise: max relative coefficient error {err:.2e}\n{model}");
    assert!(err < 0.05, "{err}");
}

#[test]
fn control_inputs_enter_the_library_and_the_simulation() {
    // x' = -x + 2 u with u = sin(3 t), from several initial states.
    let t = times(2001, 0.005);
    let u_of = |t: f64| (3.0 * t).sin();
    let mut xs = Vec::new();
    let mut us = Vec::new();
    for x0 in [1.0, -0.5, 2.0] {
        let mut field = |time: f64, y: &Vec<f64>| vec![-y[0] + 2.0 * u_of(time)];
        let config = sysdyn_solvers::SolveConfig::adaptive(1e-11, 1e-12)
            .save_at(sysdyn_solvers::SaveAt::Times(t.clone()));
        let sol = sysdyn_solvers::solve(
            &mut field,
            &sysdyn_solvers::methods::DOPRI5,
            (0.0, 10.0),
            vec![x0],
            &config,
        )
        .unwrap();
        xs.push(Matrix::from_rows(&sol.ys).unwrap());
        us.push(Matrix::from_row_major(t.len(), 1, t.iter().map(|&s| u_of(s)).collect()).unwrap());
    }
    let data: Vec<Trajectory> = xs
        .iter()
        .zip(&us)
        .map(|(x, u)| Trajectory::with_control(x, &t, u))
        .collect();
    let model = Sindy {
        state_names: names(&["x"]),
        control_names: names(&["u"]),
        ..Sindy::default()
    }
    .fit(&data)
    .unwrap();
    assert_eq!(model.feature_names(), ["1", "x", "u", "x^2", "x u", "u^2"]);
    assert_eq!(model.equations(3), ["x' = -1.000 x + 2.000 u"]);
    let sim = model
        .simulate_with_control(&[1.0], &t, |s| vec![u_of(s)], 1e-10, 1e-10)
        .unwrap();
    for i in 0..t.len() {
        assert!((sim[(i, 0)] - xs[0][(i, 0)]).abs() < 1e-3);
    }
}

#[test]
fn libraries_compose_inside_sindy() {
    // x' = sin(y), y' = -x/2, identified with polynomials ⊕ Fourier modes.
    let f = |y: &[f64]| vec![y[1].sin(), -0.5 * y[0]];
    let t = times(4001, 0.0025);
    let x = integrate(f, &[1.0, 0.5], &t);
    let model = Sindy {
        library: Library::polynomial(1).concat(Library::fourier(1)),
        state_names: names(&["x", "y"]),
        ..Sindy::default()
    }
    .fit(&[Trajectory::new(&x, &t)])
    .unwrap();
    assert_eq!(model.equations(3), ["x' = 1.000 sin(1 y)", "y' = -0.500 x"]);
}

#[test]
fn equations_print_constants_and_empty_right_hand_sides() {
    // x' = 1.5 − 0.25 y and y' = 0, with the derivatives given.
    let t = times(50, 0.1);
    let x = Matrix::from_row_major(
        50,
        2,
        t.iter().flat_map(|s| [*s, (3.0 * s).sin()]).collect(),
    )
    .unwrap();
    let dx = Matrix::from_row_major(
        50,
        2,
        (0..50)
            .flat_map(|i| [1.5 - 0.25 * x[(i, 1)], 0.0])
            .collect(),
    )
    .unwrap();
    let model = Sindy::default()
        .fit_with_derivatives(&x, &dx, None)
        .unwrap();
    assert_eq!(
        model.equations(3),
        ["x0' = 1.500 - 0.250 x1", "x1' = 0.000"]
    );
    assert_eq!(format!("{model}"), "x0' = 1.500 - 0.250 x1\nx1' = 0.000\n");
    let predicted = model.predict(&x, None).unwrap();
    assert!(sysdyn_physics::discovery::r2_score(&dx, &predicted).unwrap() > 1.0 - 1e-12);
}
