//! The tensor field of every model equals its host right-hand side on the same input (flex,
//! f64), with shared (`[1, P]`) and per-row (`[batch, P]`) parameters; and its gradient with
//! respect to the parameters matches central finite differences of the host rhs, so a hybrid
//! model can learn them by autodiff.

use std::sync::OnceLock;

use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_physics::PhysicalModel;
use sysdyn_physics::simulators::burgers::Burgers;
use sysdyn_physics::simulators::cardiac::{AlievPanfilov, MitchellSchaeffer};
use sysdyn_physics::simulators::fitzhugh_nagumo::FitzHughNagumo;
use sysdyn_physics::simulators::gray_scott::GrayScott;
use sysdyn_physics::simulators::kdv::KdV;
use sysdyn_physics::simulators::lorenz::Lorenz63;
use sysdyn_physics::simulators::lotka_volterra::LotkaVolterra;
use sysdyn_physics::simulators::navier_stokes::{NavierStokes2d, leads_forcing};
use sysdyn_physics::simulators::pendulum::DampedPendulum;
use sysdyn_physics::simulators::wave::DampedWave;
use sysdyn_physics::stencil::{Boundary, Laplacian2d, LaplacianKind};

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

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

/// Random states in [lo, hi) for a batch of 3, and per-row parameters perturbed by ±10 %.
fn check_model<M: PhysicalModel + Clone>(model: &M, lo: f64, hi: f64, tol: f64) {
    let d = device();
    let n = model.state_len();
    let batch = 3;
    let mut rng = SeededRng::new(11);
    let ys: Vec<f64> = (0..batch * n)
        .map(|_| lo + (hi - lo) * rng.uniform())
        .collect();
    let p0 = model.parameters();
    let np = p0.len();
    let per_row: Vec<Vec<f64>> = (0..batch)
        .map(|_| p0.iter().map(|p| p * (0.9 + 0.2 * rng.uniform())).collect())
        .collect();
    let y = d.tensor(ys.clone(), [batch, n]).unwrap();
    // Shared parameters.
    let shared = host(
        model
            .rhs_tensor(0.3, y.clone(), model.parameter_tensor(&y))
            .unwrap(),
    );
    // Per-row parameters.
    let rows = d.tensor(per_row.concat(), [batch, np]).unwrap();
    let each = host(model.rhs_tensor(0.3, y, rows).unwrap());
    for b in 0..batch {
        let mut m = model.clone();
        let mut dy = vec![0.0; n];
        m.rhs(0.3, &ys[b * n..(b + 1) * n], &mut dy).unwrap();
        let scale = dy.iter().fold(1.0f64, |a, v| a.max(v.abs()));
        let err = max_diff(&shared[b * n..(b + 1) * n], &dy);
        assert!(
            err < tol * scale,
            "{} shared row {b}: {err} (scale {scale})",
            model.name()
        );
        m.set_parameters(&per_row[b]).unwrap();
        m.rhs(0.3, &ys[b * n..(b + 1) * n], &mut dy).unwrap();
        let scale = dy.iter().fold(1.0f64, |a, v| a.max(v.abs()));
        let err = max_diff(&each[b * n..(b + 1) * n], &dy);
        assert!(
            err < tol * scale,
            "{} per-row row {b}: {err} (scale {scale})",
            model.name()
        );
    }
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn ode_models_tensor_field_equals_host_rhs() {
    check_model(&DampedPendulum::aphynity(), -2.0, 2.0, 1e-13);
    check_model(
        &LotkaVolterra::new(0.5, 0.5, 0.75, 0.5).unwrap(),
        0.5,
        2.0,
        1e-13,
    );
    check_model(&Lorenz63::default(), -20.0, 20.0, 1e-13);
    check_model(&AlievPanfilov::cell(), 0.0, 1.0, 1e-13);
    check_model(&MitchellSchaeffer::cell(), 0.0, 1.0, 1e-13);
}

#[test]
fn pde_models_tensor_field_equals_host_rhs() {
    check_model(
        &FitzHughNagumo::new(8, [1e-3, 5e-3, 5e-3]).unwrap(),
        0.0,
        1.0,
        1e-12,
    );
    check_model(
        &GrayScott::new(8, 1.0, [0.2097, 0.105, 0.037, 0.06]).unwrap(),
        0.0,
        1.0,
        1e-12,
    );
    check_model(
        &DampedWave::new(8, 1.0, [330.0, 50.0]).unwrap(),
        -1.0,
        1.0,
        1e-12,
    );
    check_model(&Burgers::new(16, 0.05).unwrap(), -1.0, 1.0, 1e-12);
    check_model(&KdV::new(16, -5.0, 10.0).unwrap(), -1.0, 1.0, 1e-12);
    let ns = NavierStokes2d::new(8, 1.0, 1e-3)
        .unwrap()
        .with_forcing(leads_forcing(8, 2).unwrap())
        .unwrap();
    check_model(&ns, -1.0, 1.0, 1e-12);
    check_model(&AlievPanfilov::tissue(4, 5, 0.5).unwrap(), 0.0, 1.0, 1e-12);
    check_model(
        &MitchellSchaeffer::tissue(5, 4, 0.025).unwrap(),
        0.0,
        1.0,
        1e-12,
    );
}

#[test]
fn tensor_laplacians_equal_host_laplacians() {
    let d = device();
    let (nx, ny) = (6, 7);
    let mut rng = SeededRng::new(3);
    let u: Vec<f64> = (0..2 * nx * ny).map(|_| rng.normal()).collect();
    for boundary in [Boundary::Periodic, Boundary::Dirichlet, Boundary::Neumann] {
        for kind in [
            LaplacianKind::FivePoint,
            LaplacianKind::NinePoint,
            LaplacianKind::FourthOrder,
        ] {
            let lap = Laplacian2d::new(kind, boundary, (nx, ny), (0.3, 0.3)).unwrap();
            let t = host(lap.apply_tensor(d.tensor(u.clone(), [2, nx * ny]).unwrap()));
            for b in 0..2 {
                let mut out = vec![0.0; nx * ny];
                lap.apply(&u[b * nx * ny..(b + 1) * nx * ny], &mut out)
                    .unwrap();
                let err = max_diff(&t[b * nx * ny..(b + 1) * nx * ny], &out);
                assert!(err < 1e-11, "{boundary:?} {kind:?}: {err}");
            }
        }
    }
}

/// d(Σ rhs)/dθ by autodiff against central differences of the host rhs.
fn check_parameter_gradient<M: PhysicalModel + Clone>(model: &M, lo: f64, hi: f64) {
    let d = device();
    let n = model.state_len();
    let mut rng = SeededRng::new(5);
    let ys: Vec<f64> = (0..n).map(|_| lo + (hi - lo) * rng.uniform()).collect();
    let y = d.tensor(ys.clone(), [1, n]).unwrap();
    let p0 = model.parameters();
    let params = model.parameter_tensor(&y).require_grad();
    let grads = model
        .rhs_tensor(0.0, y, params.clone())
        .unwrap()
        .sum()
        .backward();
    let g = host(params.grad(&grads).unwrap());
    for (j, &pj) in p0.iter().enumerate() {
        let eps = 1e-4 * pj.abs().max(1e-3);
        let total = |v: f64| {
            let mut m = model.clone();
            let mut p = p0.clone();
            p[j] = v;
            m.set_parameters(&p).unwrap();
            let mut dy = vec![0.0; n];
            m.rhs(0.0, &ys, &mut dy).unwrap();
            dy.iter().sum::<f64>()
        };
        let fd = (total(pj + eps) - total(pj - eps)) / (2.0 * eps);
        assert!(
            (g[j] - fd).abs() < 1e-6 * fd.abs().max(1.0),
            "{} ∂/∂{}: autodiff {} vs fd {fd}",
            model.name(),
            model.parameter_names()[j],
            g[j]
        );
    }
}

#[test]
fn parameter_gradients_match_finite_differences() {
    check_parameter_gradient(&DampedPendulum::aphynity(), -2.0, 2.0);
    check_parameter_gradient(
        &FitzHughNagumo::new(6, [1e-3, 5e-3, 5e-3]).unwrap(),
        0.0,
        1.0,
    );
    check_parameter_gradient(
        &GrayScott::new(6, 1.0, [0.2097, 0.105, 0.037, 0.06]).unwrap(),
        0.0,
        1.0,
    );
    check_parameter_gradient(&DampedWave::new(6, 1.0, [330.0, 50.0]).unwrap(), -1.0, 1.0);
    check_parameter_gradient(&Burgers::new(16, 0.05).unwrap(), -1.0, 1.0);
    check_parameter_gradient(&NavierStokes2d::new(6, 1.0, 1e-3).unwrap(), -1.0, 1.0);
}
