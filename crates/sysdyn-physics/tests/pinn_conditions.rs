//! The condition terms on exact fields: `u = e^{−t} sin x` on `[0, 2π] × [0, 1]` satisfies
//! `u(0, t) = 0`, `u_x(0, t) = e^{−t}` and `u(0, t) = u(2π, t)`, so every term is zero; adding a
//! constant `c` leaves the Neumann and periodic terms at zero and makes the Dirichlet term `c²`;
//! adding `a·x` makes the Neumann term `a²` and the periodic one `(2πa)²`.

use std::f64::consts::PI;
use std::sync::OnceLock;

use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_physics::pinn::{
    Condition, Domain, ExactField, FieldJet, PinnField, PinnProblem, Points,
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

/// `e^{−t} sin x + c + a x`.
fn field(c: f64, a: f64) -> impl PinnField {
    ExactField(move |x: &Tensor<2>, pairs: &[(usize, usize)]| {
        let xj = FieldJet::coordinate(x, 0, pairs)?;
        let decay = FieldJet::coordinate(x, 1, pairs)?.scale(-1.0).exp();
        let wave = decay.times(&xj.clone().sin())?;
        wave.plus(&xj.scale(a).add_scalar(c))
    })
}

fn losses(problem: &PinnProblem, f: &dyn PinnField) -> Vec<f64> {
    let prepared = problem.prepare(&device()).unwrap();
    let parts = prepared.parts(f, &[]).unwrap();
    parts
        .conditions
        .into_iter()
        .map(|c| c.into_scalar::<f64>())
        .collect()
}

#[test]
fn condition_terms_measure_exactly_what_they_impose() {
    let ts: Vec<f64> = (0..9).map(|i| i as f64 / 8.0).collect();
    let face = |x: f64| Points::new(2, ts.iter().flat_map(|&t| [x, t]).collect()).unwrap();
    let domain = Domain::time_space(&[(0.0, 2.0 * PI)], (0.0, 1.0)).unwrap();
    let problem = PinnProblem::new(domain, &[], face(1.0), |p| Ok(p.u.d(1)? + p.u.value()))
        .unwrap()
        .with_condition(
            Condition::dirichlet("u(0, t)", face(0.0), vec![0.0; 9]).unwrap(),
            1.0,
        )
        .unwrap()
        .with_condition(
            Condition::neumann(
                "u_x(0, t)",
                face(0.0),
                0,
                ts.iter().map(|t| (-t).exp()).collect(),
            )
            .unwrap(),
            1.0,
        )
        .unwrap()
        .with_condition(
            Condition::periodic("u(0, t) = u(2π, t)", face(0.0), face(2.0 * PI)).unwrap(),
            1.0,
        )
        .unwrap();
    let close = |got: &[f64], want: [f64; 3]| {
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
        }
    };
    close(&losses(&problem, &field(0.0, 0.0)), [0.0, 0.0, 0.0]);
    close(&losses(&problem, &field(0.5, 0.0)), [0.25, 0.0, 0.0]);
    let a = 0.1;
    close(
        &losses(&problem, &field(0.0, a)),
        [0.0, a * a, (2.0 * PI * a).powi(2)],
    );
    // The residual u_t + u vanishes for the exact field.
    let x = face(1.0).to_tensor(&device()).unwrap();
    let r = problem.residual_at(&field(0.0, 0.0), x, &[]).unwrap();
    assert!(
        r.try_into_vec_as::<f64>()
            .unwrap()
            .iter()
            .all(|v| v.abs() < 1e-14)
    );
    // Periodic pairs must match in number.
    assert!(
        Condition::periodic("bad", face(0.0), Points::new(2, vec![1.0, 0.0]).unwrap()).is_err()
    );
}
