//! The score model's training step on sysdyn's runtime: a small MLP trained by time-continuous
//! DSM on Gaussian data closes most of the gap between its loss and the exact score's (the
//! loss's minimum, up to the same constant); NCSN's objective trains through the same step;
//! bad data are typed errors; a diverging run stops keeping the last good checkpoint.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::AdamConfig;
use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::jet::{Activation, Mlp, MlpConfig};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::inputs::DataSampler;
use sysdyn_generative::score::{
    DenoisingScoreMatching, ForwardSde, NoiseConditionalScoreModel, NoiseLevels, ScoreModel,
    ScoreStep, Weighting,
};
use sysdyn_train::{
    Checkpoints, LrSchedule, Optim, ProgressMode, TrainConfig, TrainError, Trainer,
};

fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut device: SysDevice = "flex:f64:autodiff"
                .parse::<DeviceSpec>()
                .unwrap()
                .init()
                .unwrap();
            device.configure_defaults().unwrap();
            device
        })
        .clone()
}

fn mlp(seed: u64) -> Mlp {
    MlpConfig::new(vec![2, 32, 32, 1])
        .with_activation(Activation::Tanh)
        .init_seeded(&device(), seed)
        .unwrap()
}

fn adam() -> Optim<burn::optim::Adam> {
    Optim::new(AdamConfig::new().build())
}

fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sysdyn-score-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config(steps: u64, lr: f64) -> TrainConfig {
    TrainConfig::new(steps)
        .with_schedule(LrSchedule::Constant { lr })
        .with_divergence_factor(None)
        .with_checkpoint_every(Some(100))
        .with_progress(ProgressMode::Quiet)
}

const MU: f64 = 1.0;
const VAR: f64 = 0.25;

/// N(1, 0.5²) in one column.
fn gaussian() -> DataSampler {
    Box::new(|rng: &mut SeededRng, rows| {
        rng.normals(rows)
            .iter()
            .map(|z| MU + VAR.sqrt() * z)
            .collect()
    })
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

/// The DSM loss of a fixed large draw with the score `score`.
fn fixed_loss<F>(dsm: &DenoisingScoreMatching, score: F) -> f64
where
    F: FnMut(Tensor<2>, Tensor<2>) -> Result<Tensor<2>, sysdyn_generative::GenerativeError>,
{
    let rows = 20_000;
    let values = gaussian()(&mut SeededRng::new(99), rows);
    let x = device().tensor(values, [rows, 1]).unwrap();
    let draw = dsm.draw(score, x, &mut SeededRng::new(100)).unwrap();
    host(draw.rows).iter().sum::<f64>() / rows as f64
}

#[test]
fn dsm_training_approaches_the_exact_score() {
    let sde = ForwardSde::vp_default();
    let dsm = DenoisingScoreMatching::new(sde, Weighting::Variance, 1e-3).unwrap();
    let exact = fixed_loss(&dsm, |x, t| {
        let (mean, var): (Vec<f64>, Vec<f64>) = host(t)
            .iter()
            .map(|&t| {
                let (m, s) = sde.marginal(t);
                (m * MU, m * m * VAR + s * s)
            })
            .unzip();
        let rows = mean.len();
        let d = device();
        Ok((d.tensor(mean, [rows, 1]).unwrap() - x) / d.tensor(var, [rows, 1]).unwrap())
    });
    let mut step = ScoreStep::new(device(), mlp(1), adam(), dsm, 256, gaussian()).unwrap();
    let before = fixed_loss(&dsm, |x, t| step.model.score(x, t));
    let dir = run_dir("dsm");
    Trainer::new(config(600, 3e-3), &dir)
        .run(&mut step)
        .unwrap();
    let after = fixed_loss(&dsm, |x, t| step.model.score(x, t));
    println!("DSM loss: exact score {exact:.4}, before {before:.4}, after {after:.4}");
    // The exact score is the minimiser; training closes most of the gap to it.
    assert!(exact < after);
    assert!(after - exact < 0.1 * (before - exact), "{after} vs {exact}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// NCSN's loss of a fixed large draw with the noise-conditional score `score`.
fn fixed_ncsn_loss<F>(levels: &NoiseLevels, score: F) -> f64
where
    F: FnMut(Tensor<2>, Tensor<2>) -> Result<Tensor<2>, sysdyn_generative::GenerativeError>,
{
    let rows = 20_000;
    let values = gaussian()(&mut SeededRng::new(97), rows);
    let x = device().tensor(values, [rows, 1]).unwrap();
    let terms = levels.draw(score, x, &mut SeededRng::new(98)).unwrap();
    host(terms).iter().sum::<f64>() / rows as f64
}

#[test]
fn ncsn_objective_trains_through_the_same_step() {
    let levels = NoiseLevels::geometric(2.0, 0.05, 8).unwrap();
    // p_σ = N(μ, Σ + σ²): its score is (μ − x)/(Σ + σ²).
    let exact = fixed_ncsn_loss(&levels, |x, sigma| {
        let var = sigma.powf_scalar(2.0) + VAR;
        Ok((x.neg() + MU) / var)
    });
    let mut step =
        ScoreStep::new(device(), mlp(2), adam(), levels.clone(), 256, gaussian()).unwrap();
    let before = fixed_ncsn_loss(&levels, |x, s| step.model.noise_score(x, s));
    let dir = run_dir("ncsn");
    Trainer::new(config(600, 3e-3), &dir)
        .run(&mut step)
        .unwrap();
    let after = fixed_ncsn_loss(&levels, |x, s| step.model.noise_score(x, s));
    println!("NCSN loss: exact score {exact:.4}, before {before:.4}, after {after:.4}");
    assert!(exact < after);
    assert!(after - exact < 0.1 * (before - exact), "{after} vs {exact}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn wrong_data_width_is_a_typed_error() {
    let dsm =
        DenoisingScoreMatching::new(ForwardSde::vp_default(), Weighting::Variance, 1e-3).unwrap();
    let two_columns: DataSampler = Box::new(|rng: &mut SeededRng, rows| rng.normals(2 * rows));
    let mut step = ScoreStep::new(device(), mlp(3), adam(), dsm, 16, two_columns).unwrap();
    let dir = run_dir("width");
    let err = Trainer::new(config(3, 1e-3), &dir)
        .run(&mut step)
        .unwrap_err();
    assert!(err.to_string().contains("training rows"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        ScoreStep::new(device(), mlp(3), adam(), dsm, 0, gaussian()).is_err(),
        "batch 0"
    );
}

#[test]
fn a_diverging_run_stops_and_keeps_the_last_good_checkpoint() {
    // The data turn to NaN after 250 draws: the loss becomes NaN at step 251.
    let draws = Arc::new(AtomicUsize::new(0));
    let counter = draws.clone();
    let data: DataSampler = Box::new(move |rng: &mut SeededRng, rows| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let value = if n >= 250 { f64::NAN } else { 0.0 };
        rng.normals(rows).iter().map(|z| z + value).collect()
    });
    let dsm =
        DenoisingScoreMatching::new(ForwardSde::vp_default(), Weighting::Variance, 1e-3).unwrap();
    let mut step = ScoreStep::new(device(), mlp(4), adam(), dsm, 16, data).unwrap();
    let dir = run_dir("diverge");
    let err = Trainer::new(config(1000, 1e-3), &dir)
        .run(&mut step)
        .unwrap_err();
    match err {
        TrainError::Diverged {
            step,
            restored_step,
            ..
        } => {
            assert_eq!(step, 251);
            assert_eq!(restored_step, Some(200));
        }
        other => panic!("expected divergence, got {other}"),
    }
    // The restored model is finite, and the checkpoint is on disk.
    let x = device().tensor(vec![0.5; 4], [4, 1]).unwrap();
    let t = device().tensor(vec![0.5; 4], [4, 1]).unwrap();
    assert!(
        host(step.model.score(x, t).unwrap())
            .iter()
            .all(|v| v.is_finite())
    );
    let (latest, _) = Checkpoints::new(&dir).latest().unwrap().unwrap();
    assert_eq!(latest, 200);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every float parameter of `module`, flattened in visiting order.
fn parameters<M: Module>(module: &M) -> Vec<f64> {
    struct Flatten(Vec<f64>);
    impl ModuleVisitor for Flatten {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let values = param.val().into_data().convert::<f64>();
            self.0.extend(values.try_to_vec::<f64>().unwrap());
        }
    }
    let mut flat = Flatten(Vec::new());
    module.visit(&mut flat);
    flat.0
}

/// The average after k updates is `β^k θ₀ + Σ_j (1 − β) β^(k−j) θ_j` over the model's own
/// weights after update j (runs of 1, 2 and 3 steps from the same seed).
#[test]
fn the_moving_average_follows_the_weights() {
    let dsm =
        DenoisingScoreMatching::new(ForwardSde::vp_default(), Weighting::Variance, 1e-3).unwrap();
    let step_of = |decay: f64| {
        ScoreStep::new(device(), mlp(5), adam(), dsm, 64, gaussian())
            .unwrap()
            .with_average(decay)
    };
    assert!(step_of(1.0).is_err());
    let beta = 0.6;
    let fresh = step_of(beta).unwrap();
    let mut expected = parameters(&fresh.model);
    assert_eq!(parameters(fresh.sampling_model()), expected);
    for steps in 1..=3 {
        let mut step = step_of(beta).unwrap();
        let dir = run_dir(&format!("average-{steps}"));
        Trainer::new(config(steps, 0.05), &dir)
            .run(&mut step)
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        for (a, theta) in expected.iter_mut().zip(parameters(&step.model)) {
            *a = beta * *a + (1.0 - beta) * theta;
        }
        let average = parameters(step.sampling_model());
        for (a, e) in average.iter().zip(&expected) {
            assert!((a - e).abs() < 1e-12, "step {steps}: {a} against {e}");
        }
        assert_ne!(average, parameters(&step.model));
    }
}
