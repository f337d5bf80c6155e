//! The convolutional MNIST path on a small synthetic digit set in IDX form (the IDX reader's own
//! tests moved with it to sysdyn-data).

use std::path::Path;

use stable_resnets::mnist::{
    ConvClassifier, MnistOutcome, MnistSettings, MnistStep, run, train_config,
};
use stable_resnets::runs::RunPlan;
use sysdyn_core::State;
use sysdyn_core::device::{Backend, DeviceSpec, Precision};
use sysdyn_core::rng::SeededRng;
use sysdyn_data::idx::{Split, load_split};
use sysdyn_nodes::resnet::WeightForm;
use sysdyn_train::{ProgressMode, Trainer};

/// An IDX file of unsigned bytes, written independently of the reader.
fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend(data);
    bytes
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// Synthetic 8×8 "digits": class `k` of four is a bright horizontal bar on rows `2k, 2k+1`, with
/// uniform noise on every pixel.
fn synthetic_split(dir: &Path, split: Split, count: usize, seed: u64) {
    let mut rng = SeededRng::new(seed);
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for i in 0..count {
        let class = i % 4;
        for r in 0..8 {
            for _ in 0..8 {
                let bar = if r / 2 == class { 180.0 } else { 0.0 };
                pixels.push((bar + 75.0 * rng.uniform()) as u8);
            }
        }
        labels.push(class as u8);
    }
    let (image_file, label_file) = split.files();
    write(dir, image_file, &idx_bytes(&[count as u32, 8, 8], &pixels));
    write(dir, label_file, &idx_bytes(&[count as u32], &labels));
}

/// Both convolutional networks learn the synthetic digits from IDX files: well above the 25%
/// of guessing on held-out images.
#[test]
fn conv_resnets_learn_synthetic_digits_from_idx_files() {
    let dir = tempfile::tempdir().unwrap();
    synthetic_split(dir.path(), Split::Train, 160, 1);
    synthetic_split(dir.path(), Split::Test, 80, 2);
    let device = DeviceSpec::new(Backend::Flex, Precision::F32)
        .with_autodiff(true)
        .init()
        .unwrap();
    let settings = MnistSettings {
        classes: 10,
        train_images: 1000,
        test_images: 1000,
        channels: 4,
        layers: 2,
        final_time: 1.0,
        epochs: 6,
        batch: 20,
        learning_rate: 0.02,
        gamma: 0.01,
    };
    let plan = RunPlan::fresh(dir.path().join("run"), true);
    let outcome = run(&device, dir.path(), &settings, &plan).unwrap();
    let MnistOutcome::Ran {
        settings: used,
        image_size,
        scores,
    } = outcome
    else {
        panic!("the run was skipped")
    };
    // Only the images present are used.
    assert_eq!((used.train_images, used.test_images), (160, 80));
    assert_eq!(image_size, [8, 8]);
    assert_eq!(scores.len(), 2);
    for score in &scores {
        assert!(score.last_epoch_loss < 0.5, "{score:?}");
        assert!(score.train_accuracy > 0.9, "{score:?}");
        assert!(score.test_accuracy > 0.9, "{score:?}");
    }
}

/// A run interrupted within an epoch and resumed ends with the parameters of one that never
/// stopped: the epoch's order is drawn again from the seed and the epoch alone.
#[test]
fn a_resumed_mnist_run_matches_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    synthetic_split(dir.path(), Split::Train, 60, 1);
    let device = DeviceSpec::new(Backend::Flex, Precision::F32)
        .with_autodiff(true)
        .init()
        .unwrap();
    let settings = MnistSettings {
        classes: 10,
        train_images: 60,
        test_images: 0,
        channels: 2,
        layers: 1,
        final_time: 1.0,
        epochs: 2,
        batch: 25,
        learning_rate: 0.02,
        gamma: 0.01,
    };
    let train_set = load_split(dir.path(), Split::Train, None, 10).unwrap();
    // 60 images in batches of 25: 3 steps per epoch, the last one of 10 images.
    let config = train_config(&settings, train_set.len(), 5).with_progress(ProgressMode::Quiet);
    assert_eq!((config.max_steps, config.steps_per_epoch), (6, Some(3)));
    let fresh = || {
        let model = ConvClassifier::new(&device, &settings, WeightForm::Free, 5).unwrap();
        MnistStep::new(model, &device, &train_set, &settings)
    };
    let weights = |step: &MnistStep<'_>| step.model.head.weight.val().to_f64_vec();

    let mut whole = fresh();
    Trainer::new(config.clone(), dir.path().join("whole"))
        .run(&mut whole)
        .unwrap();
    let split_dir = dir.path().join("split");
    let mut first = fresh();
    Trainer::new(config.clone().with_max_steps(4), &split_dir)
        .run(&mut first)
        .unwrap();
    let mut rest = fresh();
    let summary = Trainer::new(config, &split_dir).run(&mut rest).unwrap();
    assert_eq!(summary.resumed_from, Some(4));
    assert_eq!(weights(&rest), weights(&whole));
    assert_ne!(weights(&first), weights(&whole));
}
