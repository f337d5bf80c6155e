//! APHYNITY's training: the multiplier follows `λ ← λ + τ₂ L_traj` exactly (and survives a
//! checkpoint), the penalty has its closed-form values, and the gradient of the objective
//! through the RK4 rollout matches central finite differences (f64).

use std::sync::OnceLock;

use burn::module::Param;
use burn::nn::Linear;
use burn::optim::AdamConfig;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::jet::{Mlp, MlpConfig};
use sysdyn_physics::PhysicalModel;
use sysdyn_physics::hybrid::{
    AphynityConfig, AphynityObjective, AphynityStep, AugmentedModel, Multiplier, PenaltyNorm,
    TrajectoryData, augmentation_penalty, predict, trajectory_loss,
};
use sysdyn_physics::model::uniform_times;
use sysdyn_physics::simulators::pendulum::DampedPendulum;
use sysdyn_solvers::methods::RK4;
use sysdyn_train::{Checkpointable, Optim, StepContext, TrainConfig, TrainStep};

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

fn host(t: burn::tensor::Tensor<2>) -> Vec<f64> {
    t.into_data().try_to_vec::<f64>().unwrap()
}

#[test]
fn the_multiplier_follows_the_rule() {
    let mut m = Multiplier::new(1.0, 0.5).unwrap();
    assert_eq!(m.update(0.2).unwrap(), 1.1);
    assert_eq!(m.update(0.0).unwrap(), 1.1);
    assert_eq!(m.update(4.0).unwrap(), 3.1);
    assert!(m.update(f64::NAN).is_err() && m.update(-1.0).is_err());
    assert_eq!(m.lambda, 3.1, "a refused loss leaves λ unchanged");
    assert!(Multiplier::new(-1.0, 1.0).is_err() && Multiplier::new(1.0, -1.0).is_err());
}

#[test]
fn the_penalty_has_its_closed_form() {
    let d = device();
    let t = |v: Vec<f64>, s: [usize; 2]| d.tensor(v, s).unwrap();
    // An ODE state: one cell of two components.
    let fa = t(vec![3.0, 4.0, 0.0, 1.0], [2, 2]);
    let x = t(vec![0.0, 1.0, 2.0, 0.0], [2, 2]);
    let l2 = augmentation_penalty(fa.clone(), x.clone(), &[2], PenaltyNorm::L2).unwrap();
    assert!((l2.into_scalar::<f64>() - (25.0 + 1.0) / 2.0).abs() < 1e-14);
    let eps = 1e-5;
    let normalised =
        augmentation_penalty(fa, x, &[2], PenaltyNorm::L2Normalized { epsilon: eps }).unwrap();
    let want = (25.0 / (1.0 + eps).powi(2) + 1.0 / (2.0 + eps).powi(2)) / 2.0;
    assert!((normalised.into_scalar::<f64>() - want).abs() < 1e-14);
    // A field of two channels on two cells: the norm at a cell is over the channels.
    let fa = t(vec![1.0, 2.0, 3.0, 4.0], [1, 4]);
    let x = t(vec![0.0; 4], [1, 4]);
    let l2 = augmentation_penalty(fa, x, &[2, 1, 2], PenaltyNorm::L2).unwrap();
    assert!((l2.into_scalar::<f64>() - (10.0 + 20.0) / 2.0).abs() < 1e-14);
}

fn tiny_mlp(perturb: Option<(usize, f64)>) -> Mlp {
    let d = device();
    let mlp = MlpConfig::new(vec![2, 4, 2]).init_seeded(&d, 9).unwrap();
    let Some((index, delta)) = perturb else {
        return mlp;
    };
    let first = &mlp.layers()[0];
    let mut w = first.weight.val().into_data().try_to_vec::<f64>().unwrap();
    w[index] += delta;
    let layer = Linear {
        weight: Param::from_tensor(d.tensor(w, [2, 4]).unwrap()),
        bias: first.bias.clone(),
    };
    Mlp::new(vec![layer, mlp.layers()[1].clone()], mlp.activation()).unwrap()
}

/// `‖F_a‖²_normalised + λ L_traj` of the hybrid with physical parameters `theta`.
fn objective(
    theta: &[f64],
    mlp: Mlp,
    data: &TrajectoryData,
) -> (AugmentedModel<DampedPendulum, Mlp>, burn::tensor::Tensor<1>) {
    let d = device();
    let model = AugmentedModel::hybrid(
        DampedPendulum::aphynity(),
        theta,
        &[2.0, 0.5],
        mlp,
        d.device(),
    )
    .unwrap();
    let pred = predict(&model, data.values(), data.times(), &RK4, 2).unwrap();
    let traj = trajectory_loss(pred, data.values().clone()).unwrap();
    let [b, t, n] = data.values().dims();
    let states = data.values().clone().reshape([b * t, n]);
    let fa = model.augmentation_field(states.clone()).unwrap();
    let penalty = augmentation_penalty(
        fa,
        states,
        &[2],
        PenaltyNorm::L2Normalized { epsilon: 1e-5 },
    )
    .unwrap();
    (model, penalty + traj.mul_scalar(1.7))
}

#[test]
fn objective_gradients_match_central_differences() {
    let d = device();
    let truth = DampedPendulum::aphynity();
    let data = truth
        .dataset_on(3, 4, &uniform_times(2.0, 0.5).unwrap())
        .unwrap();
    let data = TrajectoryData::new(&data, 2, d.device()).unwrap();
    let theta = [0.9, 0.35];
    let (model, loss) = objective(&theta, tiny_mlp(None), &data);
    let grads = loss.backward();
    let raw = model.raw_parameters().unwrap().val();
    let g_raw = host(raw.grad(&grads).unwrap());
    let g_w = model.augmentation().unwrap().layers()[0]
        .weight
        .val()
        .grad(&grads)
        .unwrap()
        .into_data()
        .try_to_vec::<f64>()
        .unwrap();
    let value = |theta: &[f64], perturb| {
        objective(theta, tiny_mlp(perturb), &data)
            .1
            .into_scalar::<f64>()
    };
    let h = 1e-6;
    let scales = [2.0, 0.5];
    for i in 0..2 {
        // θ = s ⊙ r: a step h in r is a step s·h in θ.
        let (mut plus, mut minus) = (theta, theta);
        plus[i] += scales[i] * h;
        minus[i] -= scales[i] * h;
        let fd = (value(&plus, None) - value(&minus, None)) / (2.0 * h);
        assert!(
            (fd - g_raw[i]).abs() < 1e-6 * (1.0 + fd.abs()),
            "r[{i}]: autodiff {} vs finite differences {fd}",
            g_raw[i]
        );
    }
    for index in [0, 3, 6] {
        let fd = (value(&theta, Some((index, h))) - value(&theta, Some((index, -h)))) / (2.0 * h);
        assert!(
            (fd - g_w[index]).abs() < 1e-6 * (1.0 + fd.abs()),
            "weight {index}: autodiff {} vs finite differences {fd}",
            g_w[index]
        );
    }
    assert!(
        g_raw.iter().chain(&g_w).any(|g| g.abs() > 1e-3),
        "gradients not trivial"
    );
}

#[test]
fn the_step_updates_lambda_by_the_rule_and_checkpoints_it() {
    let d = device();
    let truth = DampedPendulum::aphynity();
    let times = uniform_times(3.0, 0.5).unwrap();
    let train =
        TrajectoryData::new(&truth.dataset_on(5, 1, &times).unwrap(), 2, d.device()).unwrap();
    let make = || {
        let model = AugmentedModel::hybrid(
            truth,
            &[0.8, 0.1],
            &[1.0, 1.0],
            MlpConfig::new(vec![2, 8, 2]).init_seeded(&d, 2).unwrap(),
            d.device(),
        )
        .unwrap();
        let config = AphynityConfig {
            objective: AphynityObjective::Aphynity {
                norm: PenaltyNorm::L2Normalized { epsilon: 1e-5 },
                lambda0: 1.0,
                tau2: 0.5,
            },
            inner_steps: 2,
            batch_size: 3,
            substeps: 1,
        };
        AphynityStep::new(
            model,
            Optim::new(AdamConfig::new().build()),
            config,
            train.clone(),
            None,
        )
        .unwrap()
    };
    let mut step = make();
    let run = TrainConfig::new(10).with_seed(3);
    let mut lambda = 1.0;
    for k in 0..4 {
        let mut ctx = StepContext::new(&run, k);
        let report = step.step(&mut ctx).unwrap();
        let (traj, _, logged) = step.history()[k as usize];
        lambda += 0.5 * traj;
        assert_eq!(logged, lambda);
        assert_eq!(step.lambda(), Some(lambda));
        assert!(
            report
                .metrics
                .iter()
                .any(|(n, v)| n == "lambda" && *v == lambda)
        );
    }
    assert!(lambda > 1.0);
    let dir = std::env::temp_dir().join(format!("sysdyn-aphynity-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    step.save_checkpoint(&dir).unwrap();
    let mut restored = make();
    assert_eq!(restored.lambda(), Some(1.0));
    restored.load_checkpoint(&dir).unwrap();
    assert_eq!(restored.lambda(), Some(lambda));
    assert_eq!(restored.model().parameters(), step.model().parameters());
    // The next step of the restored run equals the next step of the original.
    let a = step.step(&mut StepContext::new(&run, 4)).unwrap();
    let b = restored.step(&mut StepContext::new(&run, 4)).unwrap();
    assert_eq!(a.loss, b.loss);
    assert_eq!(step.lambda(), restored.lambda());
    std::fs::remove_dir_all(&dir).ok();
}
