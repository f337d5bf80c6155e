//! The jet of `u` a PINN residual reads: a random network's `u_x`, `u_t`, `u_xx`, `u_tt`, `u_xt`
//! equal central finite differences (f64, 1e-6), also through Fourier features and a hard
//! constraint; the Burgers residual of the exact travelling wave (as a network and as a formula)
//! and the heat residual of `e^{−π²t} sin πx` vanish to round-off; a residual asking for a
//! derivative the jet does not carry is a typed error.

use std::f64::consts::PI;
use std::sync::OnceLock;

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::jet::{Activation, JetError, Mlp};
use sysdyn_physics::PhysicsError;
use sysdyn_physics::pinn::{
    Domain, ExactField, FieldJet, FourierFeatures, HardConstraint, PinnField, PinnNetworkConfig,
    PinnProblem, Points, ResidualInputs,
};

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

fn host(t: Tensor<2>) -> Vec<f64> {
    t.detach().try_into_vec_as::<f64>().unwrap()
}

const PAIRS: [(usize, usize); 3] = [(0, 0), (1, 1), (0, 1)];

/// Compares every derivative of `field` at a few points with central differences of its value.
fn check_against_finite_differences(field: &dyn PinnField) {
    let dev = device();
    let points = [[0.3, 0.2], [-0.7, 0.9], [0.05, 0.5], [0.9, 0.1]];
    let flat: Vec<f64> = points.iter().flatten().copied().collect();
    let x = dev.tensor(flat, [points.len(), 2]).unwrap();
    let jet = field.field_jet(x, &PAIRS).unwrap();
    let (ux, ut) = (host(jet.d(0).unwrap()), host(jet.d(1).unwrap()));
    let (uxx, utt, uxt) = (
        host(jet.d2(0, 0).unwrap()),
        host(jet.d2(1, 1).unwrap()),
        host(jet.d2(1, 0).unwrap()),
    );
    let u = |x: f64, t: f64| {
        let p = dev.tensor(vec![x, t], [1, 2]).unwrap();
        host(field.field_jet(p, &[]).unwrap().value())[0]
    };
    // Second-order central stencils improved by one Richardson step, D = (4 D(h/2) − D(h)) / 3,
    // so the O(h⁴) truncation stays far below 1e-6 even for the Fourier features' frequencies.
    let richardson =
        |stencil: &dyn Fn(f64) -> f64, h: f64| (4.0 * stencil(h / 2.0) - stencil(h)) / 3.0;
    for (i, &[x, t]) in points.iter().enumerate() {
        let fd_x = richardson(&|h| (u(x + h, t) - u(x - h, t)) / (2.0 * h), 1e-3);
        let fd_t = richardson(&|h| (u(x, t + h) - u(x, t - h)) / (2.0 * h), 1e-3);
        let fd_xx = richardson(
            &|h| (u(x + h, t) - 2.0 * u(x, t) + u(x - h, t)) / (h * h),
            4e-3,
        );
        let fd_tt = richardson(
            &|h| (u(x, t + h) - 2.0 * u(x, t) + u(x, t - h)) / (h * h),
            4e-3,
        );
        let fd_xt = richardson(
            &|h| {
                (u(x + h, t + h) - u(x + h, t - h) - u(x - h, t + h) + u(x - h, t - h))
                    / (4.0 * h * h)
            },
            4e-3,
        );
        for (name, jet_value, fd) in [
            ("u_x", ux[i], fd_x),
            ("u_t", ut[i], fd_t),
            ("u_xx", uxx[i], fd_xx),
            ("u_tt", utt[i], fd_tt),
            ("u_xt", uxt[i], fd_xt),
        ] {
            assert!(
                (jet_value - fd).abs() < 1e-6,
                "{name} at ({x}, {t}): jet {jet_value}, finite differences {fd}"
            );
        }
    }
}

#[test]
fn network_derivatives_equal_finite_differences() {
    let net = PinnNetworkConfig::new(2, vec![16, 16], 1)
        .with_seed(3)
        .init(&device(), None)
        .unwrap();
    check_against_finite_differences(&net);
    let sine = PinnNetworkConfig::new(2, vec![12], 1)
        .with_activation(Activation::Sin)
        .with_seed(4)
        .init(&device(), None)
        .unwrap();
    check_against_finite_differences(&sine);
}

#[test]
fn fourier_features_and_hard_constraints_keep_exact_derivatives() {
    let fourier = FourierFeatures::gaussian(2, 8, 0.3, 11).unwrap();
    // u = (1 − x²) N(x, t) − sin(πx) t: Raissi-style transform built from coordinate jets.
    let constraint = HardConstraint::new(|x: &Tensor<2>, n: FieldJet| {
        let pairs = n.pairs().to_vec();
        let xj = FieldJet::coordinate(x, 0, &pairs)?;
        let tj = FieldJet::coordinate(x, 1, &pairs)?;
        let bump = xj.clone().square().scale(-1.0).add_scalar(1.0);
        let shift = xj.scale(PI).sin().times(&tj)?;
        bump.times(&n)?.minus(&shift)
    });
    let net = PinnNetworkConfig::new(2, vec![16], 1)
        .with_seed(5)
        .init(&device(), Some(fourier))
        .unwrap()
        .with_constraint(constraint);
    check_against_finite_differences(&net);
}

/// Burgers: `u_t + u u_x − ν u_xx` with `x` in column 0, `t` in column 1.
fn burgers(nu: f64) -> impl Fn(&ResidualInputs<'_>) -> Result<Tensor<2>, PhysicsError> {
    move |p: &ResidualInputs<'_>| {
        let u = p.u;
        Ok(u.d(1)? + u.value() * u.d(0)? - u.d2(0, 0)?.mul_scalar(nu))
    }
}

fn grid() -> Points {
    let mut values = Vec::new();
    for i in 0..21 {
        for j in 0..11 {
            values.extend([-1.0 + 0.1 * i as f64, 0.1 * j as f64]);
        }
    }
    Points::new(2, values).unwrap()
}

fn max_abs(t: Tensor<2>) -> f64 {
    host(t).iter().fold(0.0, |m, v| m.max(v.abs()))
}

#[test]
fn the_burgers_travelling_wave_has_zero_residual() {
    let dev = device();
    let (a, c, nu) = (0.8, 0.3, 0.01 / PI);
    let k = a / (2.0 * nu);
    let domain = Domain::time_space(&[(-1.0, 1.0)], (0.0, 1.0)).unwrap();
    let problem = PinnProblem::new(domain, &[(0, 0)], grid(), burgers(nu)).unwrap();
    let x = grid().to_tensor(&dev).unwrap();

    // u = c − a tanh(k (x − c t)) is exactly the network 2 → 1 (tanh) → 1.
    let linear = |w: Vec<f64>, shape: [usize; 2], b: Vec<f64>| Linear {
        weight: Param::from_tensor(dev.tensor(w, shape).unwrap()),
        bias: Some(Param::from_tensor(dev.tensor(b, [shape[1]]).unwrap())),
    };
    let wave = Mlp::new(
        vec![
            linear(vec![k, -k * c], [2, 1], vec![0.0]),
            linear(vec![-a], [1, 1], vec![c]),
        ],
        Activation::Tanh,
    )
    .unwrap();
    let r = problem.residual_at(&wave, x.clone(), &[]).unwrap();
    // The terms are of size a³/(2ν) ≈ 80; round-off leaves ~1e-13.
    assert!(max_abs(r.clone()) < 1e-11, "{}", max_abs(r));

    // The same wave as a formula on coordinate jets.
    let formula = ExactField(move |x: &Tensor<2>, pairs: &[(usize, usize)]| {
        let xj = FieldJet::coordinate(x, 0, pairs)?;
        let tj = FieldJet::coordinate(x, 1, pairs)?;
        Ok(xj
            .minus(&tj.scale(c))?
            .scale(k)
            .tanh()
            .scale(-a)
            .add_scalar(c))
    });
    let r = problem.residual_at(&formula, x.clone(), &[]).unwrap();
    assert!(max_abs(r.clone()) < 1e-11, "{}", max_abs(r));

    // A wrong viscosity leaves a residual of the size of ν u_xx.
    let wrong = PinnProblem::new(
        Domain::time_space(&[(-1.0, 1.0)], (0.0, 1.0)).unwrap(),
        &[(0, 0)],
        grid(),
        burgers(2.0 * nu),
    )
    .unwrap();
    assert!(max_abs(wrong.residual_at(&wave, x, &[]).unwrap()) > 1.0);
}

#[test]
fn the_heat_solution_has_zero_residual() {
    let dev = device();
    let domain = Domain::time_space(&[(0.0, 1.0)], (0.0, 1.0)).unwrap();
    let collocation = grid();
    let problem = PinnProblem::new(domain, &[(0, 0)], collocation.clone(), |p| {
        Ok(p.u.d(1)? - p.u.d2(0, 0)?)
    })
    .unwrap();
    let exact = ExactField(|x: &Tensor<2>, pairs: &[(usize, usize)]| {
        let decay = FieldJet::coordinate(x, 1, pairs)?.scale(-PI * PI).exp();
        decay.times(&FieldJet::coordinate(x, 0, pairs)?.scale(PI).sin())
    });
    let x = collocation.to_tensor(&dev).unwrap();
    let r = problem.residual_at(&exact, x, &[]).unwrap();
    assert!(max_abs(r.clone()) < 1e-12, "{}", max_abs(r));
}

#[test]
fn a_residual_asking_for_an_uncarried_derivative_is_a_typed_error() {
    let dev = device();
    let domain = Domain::time_space(&[(-1.0, 1.0)], (0.0, 1.0)).unwrap();
    // u_xx is read, but no second-order pair was requested.
    let problem = PinnProblem::new(domain, &[], grid(), burgers(0.1)).unwrap();
    let net = PinnNetworkConfig::new(2, vec![4], 1)
        .init(&dev, None)
        .unwrap();
    let err = problem
        .residual_at(&net, grid().to_tensor(&dev).unwrap(), &[])
        .unwrap_err();
    assert!(
        matches!(err, PhysicsError::Jet(JetError::Missing { .. })),
        "{err}"
    );
    // A pair naming a column the domain does not have.
    let domain = Domain::time_space(&[(-1.0, 1.0)], (0.0, 1.0)).unwrap();
    assert!(PinnProblem::new(domain, &[(0, 2)], grid(), burgers(0.1)).is_err());
}
