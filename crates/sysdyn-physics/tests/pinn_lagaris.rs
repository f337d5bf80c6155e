//! Lagaris trial solutions: Lagaris et al.'s (1998) problem 1, a first-order linear ODE with
//! a non-trivial exact solution, and a second-order one (the harmonic oscillator), each solved
//! by L-BFGS on the residual alone and compared with the analytic solution.

use std::sync::OnceLock;

use burn::optim::AdamConfig;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_optim::Lbfgs;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::pinn::{LagarisIvp, PinnField, PinnNetworkConfig, PinnStep, Points, Sampler};
use sysdyn_train::Optim;

fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut d: SysDevice = "flex:f64:autodiff"
                .parse::<DeviceSpec>()
                .unwrap()
                .init()
                .unwrap();
            d.configure_defaults().unwrap();
            d
        })
        .clone()
}

fn max_error<F: PinnField>(field: &F, exact: impl Fn(f64) -> f64, t1: f64) -> f64 {
    let ts: Vec<f64> = (0..=100).map(|i| t1 * i as f64 / 100.0).collect();
    let u = field
        .field_jet(
            Points::new(1, ts.clone())
                .unwrap()
                .to_tensor(&device())
                .unwrap(),
            &[],
        )
        .unwrap()
        .value()
        .try_into_vec_as::<f64>()
        .unwrap();
    ts.iter()
        .zip(&u)
        .map(|(&t, v)| (v - exact(t)).abs())
        .fold(0.0, f64::max)
}

#[test]
fn lagaris_problem_1_is_solved_to_small_error() {
    let dev = device();
    // ψ' + (t + (1 + 3t²)/(1 + t + t³)) ψ = t³ + 2t + t² (1 + 3t²)/(1 + t + t³), ψ(0) = 1;
    // exact ψ = e^{−t²/2} / (1 + t + t³) + t².
    let exact = |t: f64| (-t * t / 2.0).exp() / (1.0 + t + t.powi(3)) + t * t;
    let form = LagarisIvp::first_order(0.0, vec![1.0]).unwrap();
    let problem = form
        .problem(
            1.0,
            Sampler::Sobol { skip: 1 },
            64,
            &mut SeededRng::new(0),
            |p| {
                let t = p.coordinate(0);
                let q = (t.clone().square().mul_scalar(3.0).add_scalar(1.0))
                    / (t.clone().add_scalar(1.0) + t.clone().powi_scalar(3));
                let psi = p.u.value();
                let rhs = t.clone().powi_scalar(3)
                    + t.clone().mul_scalar(2.0)
                    + t.clone().square() * q.clone();
                Ok(p.u.d(0)? + (t + q) * psi - rhs)
            },
        )
        .unwrap();
    let net = PinnNetworkConfig::new(1, vec![10], 1)
        .with_seed(1)
        .init(&dev, None)
        .unwrap()
        .with_constraint(form.constraint());
    // ψ(0) = 1 before any training: the form imposes it.
    let at_zero = net.forward(dev.zeros([1, 1])).unwrap().into_scalar::<f64>();
    assert!((at_zero - 1.0).abs() < 1e-15);
    let mut step = PinnStep::new(
        dev.clone(),
        net,
        Optim::new(AdamConfig::new().build()),
        &problem,
    )
    .unwrap();
    let solver = Lbfgs::new(50)
        .unwrap()
        .with_max_iterations(1000)
        .unwrap()
        .with_gradient_tolerance(1e-12)
        .unwrap();
    let report = step.lbfgs(&solver).unwrap();
    let error = max_error(&step.model().network, exact, 1.0);
    eprintln!(
        "Lagaris problem 1: max |ψ − exact| = {error:.2e} after {} L-BFGS iterations ({:?}, loss {:.2e})",
        report.iterations, report.stop, report.value
    );
    assert!(error < 1e-5, "{error}");
}

#[test]
fn a_second_order_form_solves_the_harmonic_oscillator() {
    let dev = device();
    // ψ'' + ψ = 0, ψ(0) = 0, ψ'(0) = 1 on [0, 2]: ψ = sin t.
    let form = LagarisIvp::second_order(0.0, vec![0.0], vec![1.0]).unwrap();
    let problem = form
        .problem(
            2.0,
            Sampler::Sobol { skip: 1 },
            64,
            &mut SeededRng::new(0),
            |p| Ok(p.u.d2(0, 0)? + p.u.value()),
        )
        .unwrap();
    let net = PinnNetworkConfig::new(1, vec![10], 1)
        .with_seed(2)
        .init(&dev, None)
        .unwrap()
        .with_constraint(form.constraint());
    let mut step = PinnStep::new(
        dev.clone(),
        net,
        Optim::new(AdamConfig::new().build()),
        &problem,
    )
    .unwrap();
    let solver = Lbfgs::new(50).unwrap().with_max_iterations(1000).unwrap();
    let report = step.lbfgs(&solver).unwrap();
    let error = max_error(&step.model().network, f64::sin, 2.0);
    eprintln!(
        "harmonic oscillator: max |ψ − sin t| = {error:.2e} after {} L-BFGS iterations",
        report.iterations
    );
    assert!(error < 1e-5, "{error}");
    // Bad input: velocities of the wrong width, NaN initial values.
    assert!(matches!(
        LagarisIvp::second_order(0.0, vec![0.0], vec![1.0, 2.0]),
        Err(PhysicsError::SizeMismatch { .. })
    ));
    assert!(matches!(
        LagarisIvp::first_order(0.0, vec![f64::NAN]),
        Err(PhysicsError::NonFinite { .. })
    ));
}
