//! The Burgers reference at Raissi et al.'s `ν = 0.01/π` (Cole–Hopf as a Gaussian integral):
//! equal to the cosine-series Cole–Hopf solution where that one is exact (`ν = 0.05`), equal to
//! a fine pseudo-spectral solve at `ν = 0.01/π`, with the maximum slope Basdevant et al. (1986)
//! report, and odd with `u(±1, t) = 0`.

use std::f64::consts::PI;

use sysdyn_physics::model::{ModelField, simulate};
use sysdyn_physics::simulators::burgers::{Burgers, BurgersReference, BurgersSine};
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::DOPRI5;

#[test]
fn the_gaussian_integral_equals_the_cosine_series_at_moderate_viscosity() {
    let nu = 0.05;
    let series = BurgersSine::new(nu, 1024).unwrap();
    let integral = BurgersReference::new(nu, 2001).unwrap();
    let mut worst: f64 = 0.0;
    for i in 0..41 {
        for t in [0.0, 0.1, 0.5, 1.0] {
            let x = -1.0 + i as f64 / 20.0;
            worst = worst.max((series.exact(x, t) - integral.value(x, t)).abs());
        }
    }
    eprintln!("ν = 0.05: max |Gaussian integral − cosine series| = {worst:.2e}");
    assert!(worst < 1e-10, "{worst}");
}

#[test]
fn the_reference_matches_basdevants_maximum_slope_and_its_symmetries() {
    let reference = BurgersReference::raissi();
    // Basdevant et al. (1986), Table 1: max |u_x| = 152.00516 at x = 0, t = 1.6037/π.
    let (t, h) = (1.6037 / PI, 1e-5);
    let slope = (reference.value(h, t) - reference.value(-h, t)) / (2.0 * h);
    eprintln!("u_x(0, 1.6037/π) = {slope:.5} (Basdevant et al.: −152.00516)");
    assert!((slope + 152.00516).abs() < 2e-3, "{slope}");
    for t in [0.25, 0.5, 1.0] {
        assert!(reference.value(1.0, t).abs() < 1e-12);
        assert!(reference.value(-1.0, t).abs() < 1e-12);
        assert!(reference.value(0.0, t).abs() < 1e-12);
        for x in [0.01, 0.3, 0.8] {
            let (a, b) = (reference.value(x, t), reference.value(-x, t));
            assert!((a + b).abs() < 1e-12, "not odd at x = {x}, t = {t}");
        }
    }
    // Doubling the nodes changes nothing: the trapezoidal rule has converged.
    let fine = BurgersReference::new(0.01 / PI, 8001).unwrap();
    for x in [0.002, 0.01, 0.1, 0.5] {
        let d = (fine.value(x, 1.0) - reference.value(x, 1.0)).abs();
        assert!(d < 1e-12, "x = {x}: {d}");
    }
}

#[test]
fn fine_pseudo_spectral_solves_converge_to_the_reference() {
    let nu = 0.01 / PI;
    let reference = BurgersReference::raissi();
    let times = [0.0, 0.25, 0.5, 1.0];
    // Max errors at t = 0.25, 0.5, 1 for 1024 and 2048 modes.
    let mut errors = Vec::new();
    for n in [1024, 2048] {
        let model = Burgers::new(n, nu).unwrap();
        let grid = model.grid();
        let u0 = model.sine_initial_condition();
        let mut field = ModelField::new(model).unwrap();
        let states = simulate(
            &mut field,
            &DOPRI5,
            u0,
            &times,
            SolveConfig::adaptive(1e-10, 1e-12),
        )
        .unwrap();
        let row: Vec<f64> = times
            .iter()
            .enumerate()
            .skip(1)
            .map(|(k, &t)| {
                let exact = reference.grid(&grid, &[t]);
                states[k]
                    .iter()
                    .zip(&exact)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max)
            })
            .collect();
        eprintln!("{n} modes: max |spectral − reference| at t = 0.25, 0.5, 1: {row:?}");
        errors.push(row);
    }
    // Resolved early (t = 0.25, before the front forms); after it forms, the spectral error
    // falls with the resolution towards the reference.
    assert!(errors[0][0] < 1e-9 && errors[1][0] < 1e-9, "{errors:?}");
    for k in 1..3 {
        assert!(errors[1][k] < errors[0][k] / 10.0, "{errors:?}");
    }
    assert!(errors[1].iter().all(|&e| e < 1e-6), "{errors:?}");
}
