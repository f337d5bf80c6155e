//! LEADS and its pieces: the batched multi-environment network against one environment at a
//! time, `σ_max` by power iteration against matrices of known singular values, `Ω` against a
//! hand computation, the rollout of the true Lotka–Volterra field against the simulator,
//! gradients of the training loss against finite differences, and the typed errors.

use std::sync::OnceLock;

use burn::module::Param;
use burn::optim::AdamConfig;
use burn::tensor::{Tensor, TensorData};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_physics::PhysicalModel;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::environments::step::EnvironmentModel;
use sysdyn_physics::environments::{
    EnvMlpConfig, EnvStep, EnvTrajectories, LeadsConfig, MultiEnvMethod, TeacherForcing, rollout,
    spectral_norms,
};
use sysdyn_physics::simulators::lotka_volterra::LotkaVolterra;
use sysdyn_physics::simulators::{Dataset, Trajectory};
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

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

fn lv_data(envs: &[[f64; 4]], per_env: usize, steps: usize, seed: u64) -> EnvTrajectories {
    let times: Vec<f64> = (0..steps).map(|k| 0.5 * k as f64).collect();
    let data = LotkaVolterra::dataset_environments(envs, per_env, seed, &times).unwrap();
    EnvTrajectories::from_dataset(&data, &device()).unwrap()
}

#[test]
fn the_batched_forward_equals_each_environment_alone_exactly() {
    let d = device();
    let mut rng = SeededRng::new(3);
    let net = EnvMlpConfig::new(4, 2, 16, 4).init(&d, &mut rng).unwrap();
    let x = d.randn(&mut rng, [4, 5, 2]);
    let batched = net.forward(x.clone()).unwrap();
    for e in 0..4 {
        let alone = net
            .forward_env(e, x.clone().narrow(0, e, 1).reshape([5, 2]))
            .unwrap();
        let from_batch = batched.clone().narrow(0, e, 1).reshape([5, 2]);
        assert_eq!(host(from_batch), host(alone), "environment {e}");
    }
    // A shared network (E = 1) applies the one network to every environment's rows.
    let shared = EnvMlpConfig::new(1, 2, 16, 4).init(&d, &mut rng).unwrap();
    let out = shared.forward(x.clone()).unwrap();
    for e in 0..4 {
        let alone = shared
            .forward_env(0, x.clone().narrow(0, e, 1).reshape([5, 2]))
            .unwrap();
        assert_eq!(
            host(out.clone().narrow(0, e, 1).reshape([5, 2])),
            host(alone)
        );
    }
}

/// `R(a) diag(s1, s2) R(b)ᵀ`: singular values `s1`, `s2`.
fn rotated(a: f64, b: f64, s1: f64, s2: f64) -> [f64; 4] {
    let r = |t: f64| [[t.cos(), -t.sin()], [t.sin(), t.cos()]];
    let (ra, rb) = (r(a), r(b));
    let mut m = [0.0; 4];
    for i in 0..2 {
        for j in 0..2 {
            m[i * 2 + j] = ra[i][0] * s1 * rb[j][0] + ra[i][1] * s2 * rb[j][1];
        }
    }
    m
}

#[test]
fn power_iteration_finds_the_largest_singular_value_and_its_gradient() {
    let d = device();
    let mut values = rotated(0.3, -1.1, 3.0, 1.0).to_vec();
    values.extend(rotated(2.0, 0.7, 0.5, 0.2));
    let w = Tensor::<3>::from_data(TensorData::new(values, [2, 2, 2]), (d.device(), d.dtype()))
        .require_grad();
    let sigma = spectral_norms(w.clone(), 60);
    let s = host(sigma.clone());
    assert!((s[0] - 3.0).abs() < 1e-12, "{s:?}");
    assert!((s[1] - 0.5).abs() < 1e-12, "{s:?}");
    // dσ/dW = u vᵀ: for R(a) diag(s) R(b)ᵀ, u = R(a) e₁, v = R(b) e₁ (up to a common sign).
    let grads = sigma.narrow(0, 0, 1).sum().backward();
    let g = host(w.grad(&grads).unwrap());
    let (u, v) = (
        [0.3f64.cos(), 0.3f64.sin()],
        [(-1.1f64).cos(), (-1.1f64).sin()],
    );
    for i in 0..2 {
        for j in 0..2 {
            assert!((g[i * 2 + j] - u[i] * v[j]).abs() < 1e-10, "{g:?}");
        }
    }
    assert!(g[4..].iter().all(|x| *x == 0.0));
}

#[test]
fn omega_matches_a_hand_computation() {
    let d = device();
    let mut rng = SeededRng::new(1);
    let mut config = LeadsConfig::lotka_volterra(MultiEnvMethod::Leads, 2);
    config.network = EnvMlpConfig::new(1, 2, 1, 2);
    config.power_iterations = 30;
    let mut model = config.init(&d, &mut rng).unwrap();
    // g_e(x) = silu(x·a_e + c_e) b_e with a_e: [2, 1], b_e: [1, 2] (rank one: σ = ‖a_e‖, ‖b_e‖).
    let a = [[0.3, -0.4], [1.2, 0.5]];
    let c = [0.1, -0.2];
    let b = [[0.6, 0.8], [-1.0, 2.0]];
    let g = model.specific.as_mut().unwrap();
    let t = |v: Vec<f64>, s: [usize; 3]| {
        Param::from_tensor(Tensor::<3>::from_data(
            TensorData::new(v, s),
            (d.device(), d.dtype()),
        ))
    };
    g.weights[0] = t(vec![a[0][0], a[0][1], a[1][0], a[1][1]], [2, 2, 1]);
    g.biases[0] = t(c.to_vec(), [2, 1, 1]);
    g.weights[1] = t(vec![b[0][0], b[0][1], b[1][0], b[1][1]], [2, 1, 2]);
    g.biases[1] = t(vec![0.0; 4], [2, 1, 2]);
    let states = [
        [[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]],
        [[-2.0, 1.0], [0.2, 0.3], [1.0, 1.0]],
    ];
    let flat: Vec<f64> = states.iter().flatten().flatten().copied().collect();
    let x = Tensor::<3>::from_data(TensorData::new(flat, [2, 3, 2]), (d.device(), d.dtype()));
    let omega = host(model.omega(x).unwrap().unwrap())[0];
    let silu = |z: f64| z / (1.0 + (-z).exp());
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let mut expected = 0.0;
    for e in 0..2 {
        expected += 1e-2 * (norm(&a[e]).powi(2) + norm(&b[e]).powi(2));
        let mut mean = 0.0;
        for x in &states[e] {
            let h = silu(x[0] * a[e][0] + x[1] * a[e][1] + c[e]);
            let ge = [h * b[e][0], h * b[e][1]];
            mean += (norm(&ge) / (norm(x) + 1e-5)).powi(2) / 3.0;
        }
        expected += mean;
    }
    assert!(
        (omega - expected).abs() < 1e-12 * expected,
        "{omega} vs {expected}"
    );
}

#[test]
fn the_rollout_of_the_true_field_reproduces_the_simulator_and_restarts_from_the_data() {
    let d = device();
    let envs = [[0.5, 0.5, 0.5, 0.5], [1.0, 0.5, 0.25, 0.5]];
    let data = lv_data(&envs, 2, 9, 4);
    let params: Vec<f64> = envs
        .iter()
        .flat_map(|p| std::iter::repeat_n(p.to_vec(), 2).flatten())
        .collect();
    let params = Tensor::<2>::from_data(TensorData::new(params, [4, 4]), (d.device(), d.dtype()));
    let lv = LotkaVolterra::new(0.5, 0.5, 0.5, 0.5).unwrap();
    let truth = |x: &Tensor<3>| {
        lv.rhs_tensor(0.0, x.clone().reshape([4, 2]), params.clone())
            .unwrap()
            .reshape([2, 2, 2])
    };
    let pred = rollout(truth, &data.states, data.dt, 40, &[]).unwrap();
    let err = host((pred - data.states.clone()).abs().max());
    assert!(
        err[0] < 1e-7,
        "RK4 with 40 steps per interval vs Dopri5: {err:?}"
    );
    // Perturb the data at t_3: a rollout restarted there follows the data, one that is not
    // restarted does not notice.
    let bump = data.states.clone().narrow(2, 3, 1).add_scalar(0.25);
    let perturbed = Tensor::cat(
        vec![
            data.states.clone().narrow(2, 0, 3),
            bump,
            data.states.clone().narrow(2, 4, 5),
        ],
        2,
    );
    let mut restarts = vec![false; 8];
    restarts[3] = true;
    let with = rollout(truth, &perturbed, data.dt, 40, &restarts).unwrap();
    let without = rollout(truth, &perturbed, data.dt, 40, &[]).unwrap();
    let at3 = |t: &Tensor<4>| host(t.clone().narrow(2, 3, 1));
    let at4 = |t: &Tensor<4>| host(t.clone().narrow(2, 4, 1));
    // Both predict the unperturbed state at t_3; from there only the restarted one jumps.
    assert_eq!(at3(&with), at3(&without));
    let shift: f64 = at4(&with)
        .iter()
        .zip(at4(&without))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(shift > 0.05, "{shift}");
    // Teacher forcing's schedule: ε = 0.99^(1 + ⌊step/10⌋).
    let tf = TeacherForcing::leads();
    assert_eq!(tf.epsilon(0), 0.99);
    assert!((tf.epsilon(25) - 0.99f64.powi(3)).abs() < 1e-15);
}

#[test]
fn gradients_of_the_leads_loss_match_finite_differences() {
    let d = device();
    let data = lv_data(&[[0.5, 0.5, 0.5, 0.5], [0.75, 0.5, 1.0, 0.5]], 1, 5, 2);
    let mut config = LeadsConfig::lotka_volterra(MultiEnvMethod::Leads, 2);
    config.network = EnvMlpConfig::new(1, 2, 3, 3);
    // A large λ so that the penalty's gradient shows in the check.
    config.lambda = 0.3;
    let model = config.init(&d, &mut SeededRng::new(8)).unwrap();
    let restarts = [true, false, true, false];
    let loss_of = |m: sysdyn_physics::environments::Leads| {
        let step = EnvStep::new(
            m,
            Optim::new(AdamConfig::new().build()),
            data.clone(),
            None,
            TeacherForcing::leads(),
            2,
        )
        .unwrap();
        step.loss(&restarts).unwrap().0
    };
    let loss = loss_of(model.clone());
    let grads = loss.backward();
    let h = 1e-6;
    // One entry of f's second layer, one of g_1's first layer and one bias of g_0.
    let cases: [(&str, usize, usize); 3] = [("f", 1, 4), ("g", 0, 3 * 2 + 1), ("gb", 0, 2)];
    for (which, layer, index) in cases {
        let param = |m: &sysdyn_physics::environments::Leads| match which {
            "f" => m.shared.as_ref().unwrap().weights[layer].clone(),
            "g" => m.specific.as_ref().unwrap().weights[layer].clone(),
            _ => m.specific.as_ref().unwrap().biases[layer].clone(),
        };
        let p = param(&model);
        let analytic = host(p.val().grad(&grads).unwrap())[index];
        let shifted = |delta: f64| {
            let mut m = model.clone();
            let t = p.val().detach();
            let mut values = host(t.clone());
            values[index] += delta;
            let new = Param::from_tensor(Tensor::<3>::from_data(
                TensorData::new(values, t.dims()),
                (d.device(), d.dtype()),
            ));
            match which {
                "f" => m.shared.as_mut().unwrap().weights[layer] = new,
                "g" => m.specific.as_mut().unwrap().weights[layer] = new,
                _ => m.specific.as_mut().unwrap().biases[layer] = new,
            }
            host(loss_of(m))[0]
        };
        let numeric = (shifted(h) - shifted(-h)) / (2.0 * h);
        assert!(
            (analytic - numeric).abs() < 1e-6 * (1.0 + numeric.abs()),
            "{which}[{layer}][{index}]: {analytic} vs {numeric}"
        );
    }
}

#[test]
fn baselines_are_configurations_of_the_same_model() {
    let d = device();
    let mut rng = SeededRng::new(0);
    let ofa = LeadsConfig::lotka_volterra(MultiEnvMethod::OneForAll, 10)
        .init(&d, &mut rng)
        .unwrap();
    assert!(ofa.specific.is_none() && ofa.envs().is_none());
    let ope = LeadsConfig::lotka_volterra(MultiEnvMethod::OnePerEnv, 10)
        .init(&d, &mut rng)
        .unwrap();
    assert!(ope.shared.is_none() && ope.envs() == Some(10));
    let no_min = LeadsConfig::lotka_volterra(MultiEnvMethod::LeadsNoMin, 10)
        .init(&d, &mut rng)
        .unwrap();
    let data = lv_data(&LotkaVolterra::leads_environments(), 1, 3, 0);
    assert!(no_min.penalty(&data).unwrap().is_none());
    let leads = LeadsConfig::lotka_volterra(MultiEnvMethod::Leads, 10)
        .init(&d, &mut rng)
        .unwrap();
    assert!(host(leads.penalty(&data).unwrap().unwrap())[0] > 0.0);
}

#[test]
fn bad_input_gets_typed_errors() {
    let d = device();
    // An environment without trajectories.
    let data = Dataset {
        name: "test",
        state_shape: vec![2],
        times: vec![0.0, 0.5],
        env_parameters: vec![vec![0.0], vec![1.0], vec![2.0]],
        trajectories: vec![
            Trajectory {
                env: 0,
                states: vec![vec![1.0, 1.0]; 2],
            },
            Trajectory {
                env: 2,
                states: vec![vec![1.0, 1.0]; 2],
            },
        ],
    };
    assert!(matches!(
        EnvTrajectories::from_dataset(&data, &d),
        Err(PhysicsError::EmptyEnvironment { env: 1 })
    ));
    // Mismatched environment counts between the data (2) and the model (3).
    let two = lv_data(&[[0.5; 4], [0.6, 0.5, 0.5, 0.5]], 1, 3, 0);
    let model = LeadsConfig::lotka_volterra(MultiEnvMethod::Leads, 3)
        .init(&d, &mut SeededRng::new(0))
        .unwrap();
    let step = EnvStep::new(
        model,
        Optim::new(AdamConfig::new().build()),
        two,
        None,
        TeacherForcing::leads(),
        1,
    );
    assert!(matches!(
        step.err(),
        Some(PhysicsError::SizeMismatch {
            expected: 3,
            got: 2,
            ..
        })
    ));
    // Unequal trajectories per environment cannot be batched.
    let mut uneven = data.clone();
    uneven.trajectories.push(Trajectory {
        env: 1,
        states: vec![vec![1.0, 1.0]; 2],
    });
    uneven.trajectories.push(Trajectory {
        env: 1,
        states: vec![vec![1.0, 1.0]; 2],
    });
    assert!(matches!(
        EnvTrajectories::from_dataset(&uneven, &d),
        Err(PhysicsError::SizeMismatch { .. })
    ));
}
