//! The hybrid model `F_p + F_a`: with `F_a ≡ 0` and the true parameters it is the simulator
//! (tensor rollout and host solve through the one `PhysicalModel` contract), and bad input gets
//! typed errors.

use std::sync::OnceLock;

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::jet::{Activation, Mlp, MlpConfig};
use sysdyn_physics::hybrid::{
    AugmentedModel, ConvAugmentation, FrictionlessPendulum, PureDiffusion, TrajectoryData,
    UndampedWave, predict,
};
use sysdyn_physics::model::{ModelField, simulate, uniform_times};
use sysdyn_physics::simulators::fitzhugh_nagumo::FitzHughNagumo;
use sysdyn_physics::simulators::pendulum::DampedPendulum;
use sysdyn_physics::{PhysicalModel, PhysicsError};
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::{DOP853, RK4};

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

/// A 2-16-2 MLP whose last layer is zero: `F_a ≡ 0` whatever the input.
fn zero_mlp() -> Mlp {
    let d = device();
    let first = MlpConfig::new(vec![2, 16]).init_seeded(&d, 3).unwrap();
    let hidden = first.layers()[0].clone();
    let last = Linear {
        weight: Param::from_tensor(d.zeros([16, 2])),
        bias: Some(Param::from_tensor(d.zeros([2]))),
    };
    Mlp::new(vec![hidden, last], Activation::Tanh).unwrap()
}

fn max_abs_diff(a: &Tensor<3>, b: &Tensor<3>) -> f64 {
    (a.clone() - b.clone()).abs().max().into_scalar::<f64>()
}

#[test]
fn true_pendulum_with_zero_augmentation_reproduces_the_simulator() {
    let d = device();
    let truth = DampedPendulum::aphynity();
    let data = truth.dataset(4, 11).unwrap();
    let tensors = TrajectoryData::new(&data, 2, d.device()).unwrap();
    let model = AugmentedModel::hybrid(
        truth,
        &truth.parameters(),
        &[1.0, 1.0],
        zero_mlp(),
        d.device(),
    )
    .unwrap();
    // 50 RK4 steps per 0.5 interval (h = 0.01): global error ~ h⁴ against DOP853 at 1e-10.
    let pred = predict(&model, tensors.values(), tensors.times(), &RK4, 50).unwrap();
    let err = max_abs_diff(&pred, tensors.values());
    assert!(err < 1e-7, "max error {err}");
    // One step per interval is far coarser (h = 0.5): the error is visible, so the test above
    // is not vacuous.
    let coarse = predict(&model, tensors.values(), tensors.times(), &RK4, 1).unwrap();
    let coarse_err = max_abs_diff(&coarse, tensors.values());
    assert!(coarse_err > 1e-4, "coarse error {coarse_err}");
    // The learned parameters read back are the truth.
    let p = model.parameters();
    assert!((p[0] - truth.parameters()[0]).abs() < 1e-15 && (p[1] - 0.2).abs() < 1e-15);
}

#[test]
fn the_hybrid_is_a_physical_model_that_the_host_solver_integrates() {
    let d = device();
    let truth = DampedPendulum::aphynity();
    let data = truth.dataset(2, 5).unwrap();
    let model = AugmentedModel::hybrid(
        truth,
        &truth.parameters(),
        &[1.0, 1.0],
        zero_mlp(),
        d.device(),
    )
    .unwrap();
    assert_eq!(model.parameter_names(), ["omega0", "alpha"]);
    assert_eq!(model.state_shape(), vec![2]);
    let mut field = ModelField::dense(model);
    let y0 = data.trajectories[0].states[0].clone();
    let states = simulate(
        &mut field,
        &DOP853,
        y0,
        &data.times,
        SolveConfig::adaptive(1e-10, 1e-10),
    )
    .unwrap();
    for (got, want) in states.iter().zip(&data.trajectories[0].states) {
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-7, "{g} vs {w}");
        }
    }
}

#[test]
fn complete_fitzhugh_nagumo_as_f_p_reproduces_its_data() {
    let d = device();
    let truth = FitzHughNagumo::new(8, [1e-3, 5e-3, 5e-3]).unwrap();
    let times = uniform_times(0.5, 0.1).unwrap();
    let data = truth.dataset_on(2, 7, &times).unwrap();
    let tensors = TrajectoryData::new(&data, 128, d.device()).unwrap();
    let model = AugmentedModel::<FitzHughNagumo, ConvAugmentation>::physics_only(
        truth.clone(),
        &truth.parameters(),
        &[1e-3, 1e-3, 1e-3],
        d.device(),
    )
    .unwrap()
    .frozen();
    // Dopri5 data at rtol 1e-8 against RK4 with h = 0.01.
    let pred = predict(&model, tensors.values(), tensors.times(), &RK4, 10).unwrap();
    let err = max_abs_diff(&pred, tensors.values());
    assert!(err < 1e-6, "max error {err}");
}

#[test]
fn incomplete_models_match_their_host_fields() {
    let d = device();
    let like: Tensor<2> = d.zeros([1, 1]);
    let check = |mut m: Box<dyn PhysicalModel>, y: Vec<f64>| {
        let n = y.len();
        let mut dy = vec![0.0; n];
        m.rhs(0.0, &y, &mut dy).unwrap();
        let yt = sysdyn_physics::model::host_tensor(y, [1, n], &like);
        let out = m.rhs_tensor(0.0, yt, m.parameter_tensor(&like)).unwrap();
        let out: Vec<f64> = out.into_data().try_to_vec::<f64>().unwrap();
        for (a, b) in out.iter().zip(&dy) {
            assert!((a - b).abs() < 1e-12 * (1.0 + b.abs()), "{a} vs {b}");
        }
    };
    let field = |n: usize| (0..n).map(|i| ((i * 7919) % 13) as f64 / 13.0).collect();
    check(
        Box::new(FrictionlessPendulum::new(1.3).unwrap()),
        vec![0.4, -0.2],
    );
    check(
        Box::new(PureDiffusion::new(6, [1e-3, 5e-3]).unwrap()),
        field(72),
    );
    check(Box::new(UndampedWave::new(6, 1.0, 3.0).unwrap()), field(72));
}

#[test]
fn bad_input_gets_typed_errors() {
    let d = device();
    let truth = DampedPendulum::aphynity();
    // A parameter vector of the wrong length.
    let err = AugmentedModel::<DampedPendulum, Mlp>::physics_only(
        truth,
        &[1.0, 0.2, 3.0],
        &[1.0, 1.0],
        d.device(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            PhysicsError::SizeMismatch {
                expected: 2,
                got: 3,
                ..
            }
        ),
        "{err}"
    );
    let mut model =
        AugmentedModel::hybrid(truth, &[1.0, 0.2], &[1.0, 1.0], zero_mlp(), d.device()).unwrap();
    assert!(matches!(
        model.set_parameters(&[1.0]),
        Err(PhysicsError::SizeMismatch {
            expected: 2,
            got: 1,
            ..
        })
    ));
    // A negative diffusion coefficient, at construction and when set.
    let diffusion = PureDiffusion::new(4, [1e-3, 5e-3]).unwrap();
    let err = AugmentedModel::<PureDiffusion, ConvAugmentation>::physics_only(
        diffusion.clone(),
        &[-1e-3, 5e-3],
        &[1e-3, 1e-3],
        d.device(),
    )
    .unwrap_err();
    assert!(
        matches!(err, PhysicsError::InvalidParameter { name: "a", .. }),
        "{err}"
    );
    let mut hybrid = AugmentedModel::<PureDiffusion, ConvAugmentation>::physics_only(
        diffusion,
        &[1e-3, 5e-3],
        &[1e-3, 1e-3],
        d.device(),
    )
    .unwrap();
    assert!(matches!(
        hybrid.set_parameters(&[1e-3, -5e-3]),
        Err(PhysicsError::InvalidParameter { name: "b", .. })
    ));
    assert_eq!(
        hybrid.parameters(),
        vec![1e-3, 5e-3],
        "unchanged after the refusal"
    );
    // A zero scale.
    assert!(matches!(
        AugmentedModel::<DampedPendulum, Mlp>::physics_only(
            truth,
            &[1.0, 0.2],
            &[1.0, 0.0],
            d.device()
        ),
        Err(PhysicsError::InvalidParameter { name: "alpha", .. })
    ));
    // NaN in the data.
    let mut data = truth.dataset(2, 1).unwrap();
    data.trajectories[1].states[3][1] = f64::NAN;
    let err = TrajectoryData::new(&data, 2, d.device()).unwrap_err();
    assert!(
        matches!(err, PhysicsError::NonFinite { index, .. } if index == 40 * 2 + 3 * 2 + 1),
        "{err}"
    );
    // Data on another grid than the model's.
    let data = truth.dataset(2, 1).unwrap();
    assert!(matches!(
        TrajectoryData::new(&data, 128, d.device()),
        Err(PhysicsError::SizeMismatch {
            expected: 128,
            got: 2,
            ..
        })
    ));
    // A state of the wrong width handed to the field.
    let wrong: Tensor<2> = d.zeros([3, 5]);
    assert!(matches!(
        model.field(0.0, wrong),
        Err(PhysicsError::SizeMismatch { .. })
    ));
}
