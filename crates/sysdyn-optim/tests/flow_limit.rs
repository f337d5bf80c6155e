//! Gradient descent is explicit Euler for the gradient flow: on a fixed horizon the largest
//! distance between iterates and flow shrinks linearly with the step η. Heavy-ball follows the
//! damped-oscillator ODE Θ'' + bΘ' + ∇L = 0 at times k√η, with an O(√η) gap.

use sysdyn_optim::analysis::log_log_slope;
use sysdyn_optim::flow::{HeavyBallOde, gd_vs_gradient_flow};
use sysdyn_optim::problems::{Objective, Quadratic, Rosenbrock};

fn flow_slope(objective: &dyn Objective, theta0: &[f64], etas: &[f64], horizon: f64) -> f64 {
    let gaps: Vec<f64> = etas
        .iter()
        .map(|&eta| {
            gd_vs_gradient_flow(|x| objective.gradient(x), theta0, eta, horizon, 1e-11)
                .unwrap()
                .max_distance()
        })
        .collect();
    let slope = log_log_slope(etas, &gaps).unwrap();
    println!("gaps {gaps:?} for η {etas:?}: slope {slope:.4}");
    slope
}

#[test]
fn gd_to_gradient_flow_gap_is_linear_in_eta_on_a_quadratic() {
    let q = Quadratic::rotated_2d(1.0, 10.0, 0.4, [0.5, -0.5]).unwrap();
    let slope = flow_slope(&q, &[2.0, 1.5], &[0.02, 0.01, 0.005, 0.0025], 3.0);
    assert!((slope - 1.0).abs() < 0.15, "slope {slope}");
}

#[test]
fn gd_to_gradient_flow_gap_is_linear_in_eta_on_rosenbrock() {
    let r = Rosenbrock { a: 1.0, b: 5.0 };
    let slope = flow_slope(&r, &[-1.0, 1.5], &[0.01, 0.005, 0.0025, 0.00125], 2.0);
    assert!((slope - 1.0).abs() < 0.15, "slope {slope}");
}

#[test]
fn heavy_ball_follows_its_ode_with_a_gap_linear_in_sqrt_eta() {
    // Fixed damping b = 2: γ = 1 - 2√η → 1 as η → 0.
    let q = Quadratic::rotated_2d(1.0, 10.0, 0.4, [0.0, 0.0]).unwrap();
    let etas = [1e-2, 2.5e-3, 6.25e-4, 1.5625e-4];
    let mut gaps = Vec::new();
    for eta in etas {
        let ode = HeavyBallOde::from_damping(2.0, eta).unwrap();
        let c = ode
            .compare(|x| q.gradient(x), &[2.0, 1.5], 4.0, 1e-11)
            .unwrap();
        gaps.push(c.max_distance());
    }
    let hs: Vec<f64> = etas.iter().map(|e: &f64| e.sqrt()).collect();
    let slope = log_log_slope(&hs, &gaps).unwrap();
    println!("heavy-ball ODE gaps {gaps:?} for h = √η {hs:?}: slope {slope:.4}");
    assert!((slope - 1.0).abs() < 0.15, "slope {slope}");
}
