//! The built binary's command line, as a user meets it (the checks shared by every example are
//! in `sysdyn_testing::cli`): `--help` shows the usage with every option and exits 0; a bad flag
//! exits 2 with clap's message before any work is done; `--load` / `--resume` of a quick run's
//! `run` folder reproduce its numbers bit for bit, the MNIST networks included.

use std::path::Path;

use sysdyn_core::rng::SeededRng;
use sysdyn_data::idx::{IdxArray, Split, write};
use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_stable-resnets"), "stable-resnets")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&["--mnist"]);
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    binary().assert_bad_flags_exit_2();
}

/// Small synthetic 8×8 "digits" (class `k` of four: a bar on rows `2k, 2k + 1`, plus noise) in
/// IDX files, so the MNIST runs take part in the checkpoint test at little cost.
fn synthetic_idx(dir: &Path) {
    for (split, count, seed) in [(Split::Train, 120, 1), (Split::Test, 40, 2)] {
        let mut rng = SeededRng::new(seed);
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        for i in 0..count {
            let class = i % 4;
            for r in 0..64 {
                let bar = if r / 16 == class { 180.0 } else { 0.0 };
                pixels.push((bar + 75.0 * rng.uniform()) as u8);
            }
            labels.push(class as u8);
        }
        let (images, label_file) = split.files();
        let array = |dims: Vec<usize>, data: Vec<u8>| IdxArray { dims, data };
        write(&dir.join(images), &array(vec![count, 8, 8], pixels)).unwrap();
        write(&dir.join(label_file), &array(vec![count], labels)).unwrap();
    }
}

#[test]
fn checkpoints_reproduce_every_network() {
    let digits = tempfile::tempdir().unwrap();
    synthetic_idx(digits.path());
    let mnist = digits.path().display().to_string();
    binary().assert_checkpoints_reproduce(
        &["--quick", "--quiet", "--mnist", &mnist],
        &[
            "/classification",
            "/key_numbers",
            "/mnist/scores",
            "/stability",
        ],
    );
}

#[test]
fn seed_replaces_the_default_seed() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let default = stable_resnets::Options::from_args(&[]).unwrap();
    assert_eq!(default.seed, 42);
    assert_eq!(stable_resnets::PROGRAM.default_seed, Some(42));
    let seeded = stable_resnets::Options::from_args(&args(&["--seed", "99"])).unwrap();
    assert_eq!(seeded.seed, 99);
    let err = stable_resnets::Options::from_args(&args(&["--seed", "minus-one"])).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}
