//! DdpmStep on sysdyn's runtime: impossible settings are typed errors, bad data stop the run
//! with a typed error, a diverging run stops and keeps the last good checkpoint (network,
//! optimizer and average), and a resumed run continues exactly.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use burn::optim::AdamConfig;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::diffusion::{DdpmConfig, DdpmStep, EpsNetConfig, NoiseSchedule};
use sysdyn_generative::inputs::{DataSampler, LabelledSampler};
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

fn adam() -> Optim<burn::optim::Adam> {
    Optim::new(AdamConfig::new().build())
}

fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sysdyn-ddpm-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config(steps: u64) -> TrainConfig {
    TrainConfig::new(steps)
        .with_schedule(LrSchedule::Constant { lr: 1e-3 })
        .with_divergence_factor(None)
        .with_checkpoint_every(Some(10))
        .with_progress(ProgressMode::Quiet)
}

fn small_net(classes: usize, seed: u64) -> sysdyn_generative::diffusion::EpsNet {
    let mut config = EpsNetConfig::w3().with_classes(classes);
    config.hidden = vec![16];
    config.embedding_dim = 8;
    config.init_seeded(&device(), seed).unwrap()
}

fn gaussian() -> DataSampler {
    Box::new(|rng: &mut SeededRng, rows| rng.normals(2 * rows))
}

fn schedule() -> NoiseSchedule {
    NoiseSchedule::linear(100, 1e-3, 0.05).unwrap()
}

#[test]
fn impossible_settings_are_refused_with_typed_errors() {
    let device = device();
    let build = |config: DdpmConfig| {
        DdpmStep::new(
            device.clone(),
            small_net(0, 1),
            adam(),
            schedule(),
            config,
            gaussian(),
        )
    };
    assert!(matches!(
        build(DdpmConfig::new(0)),
        Err(GenerativeError::InvalidParameter {
            name: "batch_size",
            ..
        })
    ));
    assert!(matches!(
        build(DdpmConfig::new(4).with_ema_decay(Some(1.0))),
        Err(GenerativeError::InvalidParameter {
            name: "ema_decay",
            ..
        })
    ));
    assert!(matches!(
        build(DdpmConfig::new(4).with_label_dropout(1.5)),
        Err(GenerativeError::InvalidParameter {
            name: "label_dropout",
            ..
        })
    ));
    // Label dropout needs a conditional network; a conditional network needs labels.
    assert!(matches!(
        build(DdpmConfig::new(4).with_label_dropout(0.1)),
        Err(GenerativeError::Unsupported { .. })
    ));
    assert!(matches!(
        DdpmStep::new(
            device.clone(),
            small_net(3, 1),
            adam(),
            schedule(),
            DdpmConfig::new(4),
            gaussian()
        ),
        Err(GenerativeError::Unsupported { .. })
    ));
}

#[test]
fn bad_data_stop_the_run_with_a_typed_error() {
    let device = device();
    // Labels out of range.
    let labelled: LabelledSampler =
        Box::new(|rng: &mut SeededRng, rows| (rng.normals(2 * rows), vec![5; rows]));
    let mut step = DdpmStep::conditional(
        device.clone(),
        small_net(3, 2),
        adam(),
        schedule(),
        DdpmConfig::new(4).with_label_dropout(0.2),
        labelled,
    )
    .unwrap();
    let dir = run_dir("labels");
    let err = Trainer::new(config(3), &dir).run(&mut step).unwrap_err();
    assert!(err.to_string().contains("label"), "{err}");
    // Rows of the wrong width.
    let narrow: DataSampler = Box::new(|rng: &mut SeededRng, rows| rng.normals(rows));
    let mut step = DdpmStep::new(
        device.clone(),
        small_net(0, 2),
        adam(),
        schedule(),
        DdpmConfig::new(4),
        narrow,
    )
    .unwrap();
    let other = run_dir("width");
    let err = Trainer::new(config(3), &other).run(&mut step).unwrap_err();
    assert!(err.to_string().contains("rows × width"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other);
}

/// Trains a 3-class network for 20 steps with label dropout `p`; returns the class table
/// before and after.
fn train_conditional(p: f64) -> (Vec<f64>, Vec<f64>) {
    let labelled: LabelledSampler = Box::new(|rng: &mut SeededRng, rows| {
        let labels: Vec<usize> = (0..rows).map(|_| rng.below(3) as usize).collect();
        let x = labels
            .iter()
            .flat_map(|&y| {
                [
                    y as f64 + 0.1 * rng.normal(),
                    -(y as f64) + 0.1 * rng.normal(),
                ]
            })
            .collect();
        (x, labels)
    });
    let net = small_net(3, 3);
    let before = host(net.class_table().unwrap());
    let mut step = DdpmStep::conditional(
        device(),
        net,
        adam(),
        schedule(),
        DdpmConfig::new(32).with_label_dropout(p),
        labelled,
    )
    .unwrap();
    let dir = run_dir(&format!("conditional-{p}"));
    let summary = Trainer::new(config(20), &dir).run(&mut step).unwrap();
    assert_eq!(summary.steps, 20);
    let _ = std::fs::remove_dir_all(&dir);
    (before, host(step.network().class_table().unwrap()))
}

fn host(t: burn::tensor::Tensor<2>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

#[test]
fn label_dropout_trains_the_null_class_and_only_it_when_every_label_is_dropped() {
    // Rows 0–2 of the table are the classes, row 3 the null class (each 8 wide).
    let rows_changed = |(before, after): (Vec<f64>, Vec<f64>)| -> Vec<bool> {
        (0..4)
            .map(|r| (r * 8..(r + 1) * 8).any(|i| before[i] != after[i]))
            .collect()
    };
    // No dropout: the null class never appears, so its row never moves.
    assert_eq!(
        rows_changed(train_conditional(0.0)),
        vec![true, true, true, false]
    );
    // Every label dropped: only the null class is trained.
    assert_eq!(
        rows_changed(train_conditional(1.0)),
        vec![false, false, false, true]
    );
    // 20%: all four rows train.
    assert_eq!(
        rows_changed(train_conditional(0.2)),
        vec![true, true, true, true]
    );
}

#[test]
fn a_diverging_run_stops_and_keeps_the_last_good_checkpoint() {
    let device = device();
    // The data turn to NaN after 25 draws: the loss becomes NaN at step 26.
    let draws = Arc::new(AtomicUsize::new(0));
    let counter = draws.clone();
    let data: DataSampler = Box::new(move |rng: &mut SeededRng, rows| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let value = if n >= 25 { f64::NAN } else { 0.0 };
        rng.normals(2 * rows).iter().map(|z| z + value).collect()
    });
    let mut step = DdpmStep::new(
        device,
        small_net(0, 4),
        adam(),
        schedule(),
        DdpmConfig::new(8),
        data,
    )
    .unwrap();
    let dir = run_dir("diverge");
    let err = Trainer::new(config(100), &dir).run(&mut step).unwrap_err();
    match err {
        TrainError::Diverged {
            step,
            restored_step,
            ..
        } => {
            assert_eq!(step, 26);
            assert_eq!(restored_step, Some(20));
        }
        other => panic!("expected divergence, got {other}"),
    }
    // The restored network and its average are finite, and the checkpoint is on disk.
    let x = step.network().network().layers()[0].weight.val();
    assert!(
        x.into_data()
            .convert::<f64>()
            .try_to_vec::<f64>()
            .unwrap()
            .iter()
            .all(|v| v.is_finite())
    );
    let avg = step.sampling_network().network().layers()[0].weight.val();
    assert!(
        avg.into_data()
            .convert::<f64>()
            .try_to_vec::<f64>()
            .unwrap()
            .iter()
            .all(|v| v.is_finite())
    );
    let (latest, _) = Checkpoints::new(&dir).latest().unwrap().unwrap();
    assert_eq!(latest, 20);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run resumed from a checkpoint (network, Adam's moments, the average) ends with exactly the
/// weights and average of an uninterrupted run.
#[test]
fn a_resumed_run_equals_an_uninterrupted_one() {
    let step_of = || {
        DdpmStep::new(
            device(),
            small_net(0, 7),
            adam(),
            schedule(),
            DdpmConfig::new(8).with_ema_decay(Some(0.9)),
            gaussian(),
        )
        .unwrap()
    };
    let weights = |step: &DdpmStep<burn::optim::Adam>| {
        (
            host(step.network().network().layers()[0].weight.val()),
            host(step.sampling_network().network().layers()[0].weight.val()),
        )
    };
    let straight_dir = run_dir("straight");
    let mut straight = step_of();
    Trainer::new(config(20), &straight_dir)
        .run(&mut straight)
        .unwrap();
    let resumed_dir = run_dir("resumed");
    let mut first = step_of();
    Trainer::new(config(10), &resumed_dir)
        .run(&mut first)
        .unwrap();
    let mut second = step_of();
    let summary = Trainer::new(config(20), &resumed_dir)
        .run(&mut second)
        .unwrap();
    assert_eq!(summary.resumed_from, Some(10));
    assert_ne!(weights(&straight), weights(&step_of()));
    assert_eq!(weights(&straight), weights(&second));
    std::fs::remove_dir_all(&straight_dir).unwrap();
    std::fs::remove_dir_all(&resumed_dir).unwrap();
}
