//! The hybrid's building blocks against exact answers: with `F_a ≡ 0` and Mitchell–Schaeffer's
//! parameters, the example's forecast (the library's RK4 rollout from the observed potential,
//! gate at rest) is the Mitchell–Schaeffer simulator's trajectory on the 24 × 24 slab; the
//! potential network corrects the potential only.

use std::sync::OnceLock;

use burn::tensor::Tensor;
use cardiac_ep::data::SIDE;
use cardiac_ep::step::{CardiacModel, PotentialNet, forecast_states};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_physics::PhysicsError;
use sysdyn_physics::hybrid::{Augmentation, AugmentedModel};
use sysdyn_physics::model::{ModelField, PhysicalModel, host_tensor, simulate};
use sysdyn_physics::simulators::cardiac::MitchellSchaeffer;
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::DOPRI5;

fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut d: SysDevice = "flex:f64".parse::<DeviceSpec>().unwrap().init().unwrap();
            d.configure_defaults().unwrap();
            d
        })
        .clone()
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

#[test]
fn without_a_network_the_forecast_is_the_mitchell_schaeffer_simulator() {
    let d = device();
    let cells = SIDE * SIDE;
    let params = cardiac_ep::initial_parameters();
    let mut ms = MitchellSchaeffer::tissue(SIDE, SIDE, 1.0).unwrap();
    ms.set_parameters(&params).unwrap();
    // A 6 × 6 square excited off-centre, the rest at rest; the gate open everywhere.
    let mut v0 = vec![0.0; cells];
    for i in 3..9 {
        for j in 10..16 {
            v0[i * SIDE + j] = 1.0;
        }
    }
    let times: Vec<f64> = (0..=10).map(f64::from).collect();
    let mut y0 = v0.clone();
    y0.extend(std::iter::repeat_n(1.0, cells));
    let reference = simulate(
        &mut ModelField::dense(ms.clone()),
        &DOPRI5,
        y0,
        &times,
        SolveConfig::adaptive(1e-10, 1e-12),
    )
    .unwrap();

    let model: CardiacModel =
        AugmentedModel::physics_only(ms, &params, &params, d.device()).unwrap();
    let like: Tensor<2> = Tensor::zeros([1, 1], d.device());
    let v0 = host_tensor(v0, [1, cells], &like);
    let n = 2 * cells;
    let error = |substeps: usize| {
        let states = to_vec(forecast_states(&model, v0.clone(), &times, substeps).unwrap());
        let mut worst = 0.0_f64;
        for (i, r) in reference.iter().enumerate() {
            for (a, b) in states[i * n..(i + 1) * n].iter().zip(r) {
                worst = worst.max((a - b).abs());
            }
        }
        worst
    };
    // 20 and 40 RK4 steps per millisecond (h = 0.05, 0.025 ms), well inside RK4's stability
    // region for τ_in = 0.3 ms and D = 0.31 cells²/ms. The gate's switch at `v = v_gate` makes
    // the field discontinuous, so the error falls at least like h (not h⁴) as h halves.
    let (coarse, fine) = (error(20), error(40));
    eprintln!("max |RK4 rollout − Dopri5|: {coarse:e} (h = 0.05 ms), {fine:e} (h = 0.025 ms)");
    assert!(
        fine < 1e-4,
        "max |RK4 rollout − Dopri5 simulator| = {fine:e}"
    );
    assert!(fine < coarse / 1.8, "no convergence: {coarse:e} → {fine:e}");
    // The front has travelled: the check is not about a resting slab.
    let excited = reference[10][..cells].iter().filter(|&&v| v > 0.5).count();
    assert!(excited > 36, "the wave spread to {excited} cells");
}

#[test]
fn the_potential_network_leaves_the_gate_alone() {
    let d = device();
    let cells = SIDE * SIDE;
    let net = PotentialNet::new(SIDE, 4, 1.0, 7, d.device()).unwrap();
    let like: Tensor<2> = Tensor::zeros([1, 1], d.device());
    let values: Vec<f64> = (0..2 * 2 * cells)
        .map(|k| ((k as f64) * 0.37).sin())
        .collect();
    let y = host_tensor(values, [2, 2 * cells], &like);
    let full = to_vec(net.field(y.clone()).unwrap());
    let potential_only = to_vec(net.field(y.narrow(1, 0, cells)).unwrap());
    for b in 0..2 {
        let row = &full[b * 2 * cells..(b + 1) * 2 * cells];
        assert!(row[cells..].iter().all(|&g| g == 0.0), "gate corrected");
        assert_eq!(&row[..cells], &potential_only[b * cells..(b + 1) * cells]);
        assert!(row[..cells].iter().any(|&v| v != 0.0), "a zero network");
    }
    let bad = host_tensor(vec![0.0; 3 * cells], [1, 3 * cells], &like);
    assert!(matches!(
        net.field(bad),
        Err(PhysicsError::SizeMismatch { .. })
    ));
}
