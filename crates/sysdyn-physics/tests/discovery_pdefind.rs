//! PDE-FIND recovers Burgers' equation from an exact (Cole–Hopf) solution, clean and with 1 %
//! noise, and the Korteweg–de Vries equation from its exact two-soliton solution.
//!
//! A single travelling wave (the tanh front of Burgers, one KdV soliton) satisfies
//! `u_t = −c u_x` exactly as well as its PDE, so PDE-FIND would rightly return that one-term
//! equation; the data here are interacting fronts and solitons, for which the PDE is the only
//! sparse law in the library.

use sysdyn_core::linalg::Matrix;
use sysdyn_physics::discovery::{PdeDerivatives, PdeFind, TrainStRidge, add_noise};
use sysdyn_physics::simulators::burgers::BurgersShocks;
use sysdyn_physics::simulators::kdv::two_soliton;
use sysdyn_physics::simulators::space_time_grid;

const NU: f64 = 0.1;

/// `n` points `x0, x0 + d, …`.
fn points(x0: f64, d: f64, n: usize) -> Vec<f64> {
    (0..n).map(|i| x0 + i as f64 * d).collect()
}

/// Burgers with ν = 0.1 by Cole–Hopf: two viscous shocks (speeds 0.75 and 0.25) that merge.
fn burgers_grid() -> (Matrix, f64, f64) {
    let (dx, dt) = (0.025, 0.01);
    let shocks = BurgersShocks::merging();
    assert_eq!(shocks.nu(), NU);
    let u = space_time_grid(
        |x, t| shocks.exact(x, t),
        &points(-4.0, dx, 441),
        &points(0.0, dt, 801),
    );
    (u, dt, dx)
}

fn relative(got: Option<f64>, want: f64) -> f64 {
    ((got.expect("term in the library") - want) / want).abs()
}

#[test]
fn burgers_clean_is_recovered_within_one_percent() {
    let (u, dt, dx) = burgers_grid();
    let model = PdeFind::default().fit(&u, dt, dx).unwrap();
    println!("Burgers clean: {}", model.equation(4));
    assert_eq!(model.active_terms(), ["u_xx", "u u_x"]);
    let e1 = relative(model.coefficient("u u_x"), -1.0);
    let e2 = relative(model.coefficient("u_xx"), NU);
    println!(
        "Burgers clean: errors u u_x {:.3}%, u_xx {:.3}% (Rudy et al.: 0.15% mean)",
        100.0 * e1,
        100.0 * e2
    );
    assert!(e1 < 0.01 && e2 < 0.01);
    assert!(
        model
            .equation(3)
            .starts_with("u_t = 0.100 u_xx - 1.000 u u_x")
    );
}

#[test]
fn burgers_with_one_percent_noise_is_recovered_within_five_percent() {
    // Polynomial derivatives over 2·25 + 1 points: 1.25 in x (Rudy et al. fit 2·10 + 1 points of
    // their grid, 1.25 in x as well) and 0.5 in t. Three noise draws.
    let (u, dt, dx) = burgers_grid();
    let finder = PdeFind {
        derivatives: PdeDerivatives::Polynomial {
            degree: 6,
            width_x: 25,
            width_t: 25,
        },
        ..PdeFind::default()
    };
    for seed in 1..=3 {
        let noisy = add_noise(&u, 0.01, seed).unwrap();
        let model = finder.fit(&noisy, dt, dx).unwrap();
        println!("Burgers 1% noise (seed {seed}): {}", model.equation(4));
        assert_eq!(model.active_terms(), ["u_xx", "u u_x"]);
        let e1 = relative(model.coefficient("u u_x"), -1.0);
        let e2 = relative(model.coefficient("u_xx"), NU);
        println!(
            "Burgers 1% noise (seed {seed}): errors u u_x {:.3}%, u_xx {:.3}% (Rudy et al.: 0.8% mean)",
            100.0 * e1,
            100.0 * e2
        );
        assert!(e1 < 0.05 && e2 < 0.05);
    }
}

#[test]
fn kdv_two_solitons_give_the_kdv_pattern() {
    let (dx, dt) = (0.05, 0.01);
    // KdV `u_t + 6 u u_x + u_xxx = 0`: solitons k = 1 and 1.5 (speeds 1 and 2.25) from
    // x = −4 and 4/3, the faster one ahead: two speeds on one grid.
    let kdv = |x, t| two_soliton(x, t, (1.0, 1.5), (-4.0, 4.0 / 3.0));
    let u = space_time_grid(kdv, &points(-20.0, dx, 801), &points(0.0, dt, 301));
    let finder = PdeFind {
        trainer: TrainStRidge {
            d_tol: 5.0,
            ..TrainStRidge::default()
        },
        ..PdeFind::default()
    };
    let model = finder.fit(&u, dt, dx).unwrap();
    println!("KdV: {}", model.equation(4));
    assert_eq!(model.active_terms(), ["u_xxx", "u u_x"]);
    let e1 = relative(model.coefficient("u u_x"), -6.0);
    let e2 = relative(model.coefficient("u_xxx"), -1.0);
    println!(
        "KdV: errors u u_x {:.3}%, u_xxx {:.3}%",
        100.0 * e1,
        100.0 * e2
    );
    assert!(e1 < 0.02 && e2 < 0.02);
}

#[test]
fn a_single_travelling_front_is_found_as_pure_advection() {
    // u = c − a tanh(a (x − c t)/(2ν)) solves Burgers, and also u_t = −c u_x: the sparsest law
    // in the library, which TrainSTRidge's ℓ0 penalty rightly prefers. This is why the Burgers
    // tests above use interacting fronts.
    let (c, a) = (0.6, 0.5);
    let front = BurgersShocks::new(NU, &[c + a, c - a], &[0.0, 0.0]).unwrap();
    let (dx, dt) = (0.025, 0.01);
    let u = space_time_grid(
        |x, t| front.exact(x, t),
        &points(-4.0, dx, 321),
        &points(0.0, dt, 401),
    );
    let model = PdeFind::default().fit(&u, dt, dx).unwrap();
    println!("single front: {}", model.equation(4));
    assert_eq!(model.active_terms(), ["u_x"]);
    assert!(relative(model.coefficient("u_x"), -c) < 1e-3);
}
