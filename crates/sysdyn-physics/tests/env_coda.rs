//! CoDA: with `W = 0` it is One-For-All; adaptation changes only the new context (the shared
//! parameters and the hypernetwork stay bit-identical); gradients of the loss and its
//! penalties against finite differences; a zero context dimension is refused.

use std::sync::OnceLock;

use burn::module::Param;
use burn::optim::AdamConfig;
use burn::tensor::{Tensor, TensorData};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::environments::step::EnvironmentModel;
use sysdyn_physics::environments::{
    Coda, CodaAdaptStep, CodaConfig, EnvMlpConfig, EnvStep, EnvTrajectories, LeadsConfig,
    MultiEnvMethod, TeacherForcing,
};
use sysdyn_physics::simulators::lotka_volterra::LotkaVolterra;
use sysdyn_train::{Optim, StepContext, TrainConfig, TrainStep};

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

fn small(envs: usize) -> CodaConfig {
    let mut c = CodaConfig::lotka_volterra(envs);
    c.network = EnvMlpConfig::new(1, 2, 8, 3);
    c
}

#[test]
fn with_w_zero_coda_is_one_for_all() {
    let d = device();
    let mut rng = SeededRng::new(5);
    let ofa = LeadsConfig {
        network: EnvMlpConfig::new(1, 2, 8, 3),
        ..LeadsConfig::lotka_volterra(MultiEnvMethod::OneForAll, 3)
    }
    .init(&d, &mut rng)
    .unwrap();
    let shared = ofa.shared.as_ref().unwrap();
    let p = shared.params_per_env();
    let mut coda = small(3).from_shared(shared, d.zeros([p, 2])).unwrap();
    // Whatever the contexts, W = 0 gives every environment θ_c.
    coda.contexts = Param::from_tensor(d.randn(&mut rng, [3, 2]));
    let x = d.randn(&mut rng, [3, 4, 2]);
    assert_eq!(host(coda.field(x.clone())), host(ofa.field(x)));
}

#[test]
fn adaptation_changes_only_the_new_context() {
    let d = device();
    let coda = small(4).init(&d, &mut SeededRng::new(2)).unwrap();
    let theta = host(coda.theta_c.val());
    let w = host(coda.w.val());
    let new_envs = [[0.5, 0.625, 0.5, 1.125], [0.5, 1.125, 0.5, 0.625]];
    let data = lv_data(&new_envs, 1, 6, 9);
    let mut step = CodaAdaptStep::new(
        coda,
        Optim::new(AdamConfig::new().build()),
        data,
        TeacherForcing::leads(),
        1,
    )
    .unwrap();
    let config = TrainConfig::new(5);
    for k in 0..5 {
        step.step(&mut StepContext::new(&config, k)).unwrap();
    }
    assert_eq!(host(step.frozen().theta_c.val()), theta);
    assert_eq!(host(step.frozen().w.val()), w);
    let xi = host(step.contexts().xi.val());
    assert_eq!(xi.len(), 4);
    // Adam's first steps move each coordinate by about the learning rate.
    assert!(xi.iter().all(|v| v.abs() > 1e-3), "{xi:?}");
    let adapted = step.adapted().unwrap();
    assert_eq!(adapted.envs(), Some(2));
    assert_eq!(host(adapted.contexts.val()), xi);
}

#[test]
fn gradients_of_the_coda_loss_match_finite_differences() {
    let d = device();
    let envs = [[0.5, 0.5, 0.5, 0.5], [0.5, 1.0, 0.5, 0.75]];
    let data = lv_data(&envs, 2, 5, 3);
    let mut config = small(2);
    // Large penalty weights so that their gradients show in the check.
    config.lambda_m = 0.05;
    config.lambda_c = 0.2;
    config.w_std = 0.3;
    let mut coda = config.init(&d, &mut SeededRng::new(4)).unwrap();
    coda.contexts = Param::from_tensor(d.randn(&mut SeededRng::new(1), [2, 2]).mul_scalar(0.5));
    let restarts = [true, false, false, true];
    let loss_of = |m: Coda| {
        EnvStep::new(
            m,
            Optim::new(AdamConfig::new().build()),
            data.clone(),
            None,
            TeacherForcing::leads(),
            2,
        )
        .unwrap()
        .loss(&restarts)
        .unwrap()
        .0
    };
    let grads = loss_of(coda.clone()).backward();
    let h = 1e-6;
    let check = |name: &str, analytic: f64, shifted: &dyn Fn(f64) -> f64| {
        let numeric = (shifted(h) - shifted(-h)) / (2.0 * h);
        assert!(
            (analytic - numeric).abs() < 1e-6 * (1.0 + numeric.abs()),
            "{name}: {analytic} vs {numeric}"
        );
    };
    let tensor2 = |v: Vec<f64>, s: [usize; 2]| {
        Param::from_tensor(Tensor::<2>::from_data(
            TensorData::new(v, s),
            (d.device(), d.dtype()),
        ))
    };
    for index in [0, 3] {
        let analytic = host(coda.contexts.val().grad(&grads).unwrap())[index];
        check("ξ", analytic, &|delta| {
            let mut m = coda.clone();
            let mut v = host(coda.contexts.val());
            v[index] += delta;
            m.contexts = tensor2(v, [2, 2]);
            host(loss_of(m))[0]
        });
    }
    let p = coda.theta_c.dims()[0];
    for index in [5, 2 * p - 1] {
        let analytic = host(coda.w.val().grad(&grads).unwrap())[index];
        check("W", analytic, &|delta| {
            let mut m = coda.clone();
            let mut v = host(coda.w.val());
            v[index] += delta;
            m.w = tensor2(v, [p, 2]);
            host(loss_of(m))[0]
        });
    }
    let index = 7;
    let analytic = host(coda.theta_c.val().grad(&grads).unwrap())[index];
    check("θ_c", analytic, &|delta| {
        let mut m = coda.clone();
        let mut v = host(coda.theta_c.val());
        v[index] += delta;
        m.theta_c = Param::from_tensor(Tensor::<1>::from_data(
            TensorData::new(v, [p]),
            (d.device(), d.dtype()),
        ));
        host(loss_of(m))[0]
    });
}

#[test]
fn a_zero_context_dimension_and_mismatched_data_are_refused() {
    let d = device();
    let mut config = small(3);
    config.context_dim = 0;
    assert!(matches!(
        config.init(&d, &mut SeededRng::new(0)),
        Err(PhysicsError::InvalidParameter {
            name: "context_dim",
            ..
        })
    ));
    let coda = small(3).init(&d, &mut SeededRng::new(0)).unwrap();
    let two = lv_data(&[[0.5; 4], [0.6, 0.5, 0.5, 0.5]], 1, 3, 0);
    let step = EnvStep::new(
        coda,
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
}
