//! PDE-FIND recovers Burgers' equation from an exact (Cole–Hopf) solution, clean and with 1 %
//! noise, and the Korteweg–de Vries equation from its exact two-soliton solution.
//!
//! A single travelling wave (the tanh front of Burgers, one KdV soliton) satisfies
//! `u_t = −c u_x` exactly as well as its PDE, so PDE-FIND would rightly return that one-term
//! equation; the data here are interacting fronts and solitons, for which the PDE is the only
//! sparse law in the library.

mod discovery_data;

use discovery_data::add_noise;
use sysdyn_core::linalg::Matrix;
use sysdyn_physics::discovery::{PdeDerivatives, PdeFind, TrainStRidge};

const NU: f64 = 0.1;

/// Burgers `u_t + u u_x = ν u_xx` by Cole–Hopf: `u = −2ν φ_x/φ` with
/// `φ = Σᵢ exp(−aᵢ (x − aᵢ t/2)/(2ν) + cᵢ)`, a heat-equation solution. `u` is the weighted mean
/// of the states `aᵢ = 1, 0.5, 0`: two viscous shocks (speeds 0.75 and 0.25) that merge.
fn burgers(x: f64, t: f64) -> f64 {
    let a = [1.0, 0.5, 0.0];
    let c = [-2.0 / (2.0 * NU) * 0.5, 0.0, 0.0];
    let e: Vec<f64> = a
        .iter()
        .zip(&c)
        .map(|(a, c)| -a * (x - a * t / 2.0) / (2.0 * NU) + c)
        .collect();
    let m = e.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = e.iter().map(|e| (e - m).exp()).collect();
    a.iter().zip(&w).map(|(a, w)| a * w).sum::<f64>() / w.iter().sum::<f64>()
}

/// KdV `u_t + 6 u u_x + u_xxx = 0`: the two-soliton `u = 2 (ln F)_xx` with
/// `F = 1 + e^{η₁} + e^{η₂} + A e^{η₁+η₂}`, `ηᵢ = kᵢ x − kᵢ³ t + δᵢ`, `A = ((k₁−k₂)/(k₁+k₂))²`.
fn kdv(x: f64, t: f64) -> f64 {
    let (k1, k2) = (1.0, 1.5);
    let eta1 = k1 * x - k1.powi(3) * t + 4.0;
    let eta2 = k2 * x - k2.powi(3) * t - 2.0;
    let a = ((k1 - k2) / (k1 + k2)).powi(2);
    // Terms of F with their x-rates, scaled by the largest exponent.
    let terms = [
        (0.0, 0.0),
        (eta1, k1),
        (eta2, k2),
        (eta1 + eta2 + a.ln(), k1 + k2),
    ];
    let m = terms.iter().map(|t| t.0).fold(f64::NEG_INFINITY, f64::max);
    let (mut f, mut fx, mut fxx) = (0.0, 0.0, 0.0);
    for (e, k) in terms {
        let w = (e - m).exp();
        f += w;
        fx += k * w;
        fxx += k * k * w;
    }
    2.0 * (f * fxx - fx * fx) / (f * f)
}

fn grid(f: impl Fn(f64, f64) -> f64, x0: f64, dx: f64, nx: usize, dt: f64, nt: usize) -> Matrix {
    let mut u = Matrix::zeros(nt, nx);
    for i in 0..nt {
        for j in 0..nx {
            u[(i, j)] = f(x0 + j as f64 * dx, i as f64 * dt);
        }
    }
    u
}

fn burgers_grid() -> (Matrix, f64, f64) {
    let (dx, dt) = (0.025, 0.01);
    (grid(burgers, -4.0, dx, 441, dt, 801), dt, dx)
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
        let noisy = add_noise(&u, 0.01, seed);
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
    let u = grid(kdv, -20.0, dx, 801, dt, 301);
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
    let front = |x: f64, t: f64| c - a * (a * (x - c * t) / (2.0 * NU)).tanh();
    let (dx, dt) = (0.025, 0.01);
    let u = grid(front, -4.0, dx, 321, dt, 401);
    let model = PdeFind::default().fit(&u, dt, dx).unwrap();
    println!("single front: {}", model.equation(4));
    assert_eq!(model.active_terms(), ["u_x"]);
    assert!(relative(model.coefficient("u_x"), -c) < 1e-3);
}
