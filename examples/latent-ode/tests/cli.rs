//! The built binary's command line, as a user meets it (the checks shared by every example are
//! in `sysdyn_testing::cli`): `--help` shows the usage with every option and exits 0; a bad flag
//! exits 2 with clap's message before any work is done; `--load` and `--resume` of a run's
//! checkpoints reproduce its numbers, and name the folder when it holds no checkpoint.

use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_latent-ode"), "latent-ode")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&["--iterations"]);
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    binary().assert_bad_flags_exit_2();
}

/// A short training run (a quick run shortened to 40 steps: what matters here is that the
/// saved models and loss curves come back exactly, not how well they fit): `--load` and
/// `--resume` of its `run` folder give the same RMSEs and loss summaries bit for bit.
#[test]
fn load_and_resume_reproduce_the_trained_run() {
    binary().assert_checkpoints_reproduce(
        &["--quick", "--quiet", "--iterations", "40"],
        &[
            "/latent_ode/interpolation",
            "/latent_ode/extrapolation",
            "/gru_baseline/interpolation",
            "/gru_baseline/extrapolation",
            "/latent_loss_first_last",
            "/baseline_loss_first_last",
            "/checkpoint_steps",
        ],
    );
}

#[test]
fn resume_of_a_missing_folder_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-run");
    let missing_text = missing.display().to_string();
    let out_text = dir.path().join("out").display().to_string();
    let out = binary().run(&[
        "--quick",
        "--quiet",
        "--resume",
        &missing_text,
        "--out",
        &out_text,
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains(&missing_text) && text.contains("holds no checkpoint"),
        "{text}"
    );
    assert!(!missing.exists(), "--resume created the folder");
}

#[test]
fn seed_replaces_the_default_seed() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let default = latent_ode::Options::from_args(&[]).unwrap();
    assert_eq!(default.seed, 2018);
    assert_eq!(latent_ode::PROGRAM.default_seed, Some(2018));
    let seeded = latent_ode::Options::from_args(&args(&["--seed", "99"])).unwrap();
    assert_eq!(seeded.seed, 99);
    let err = latent_ode::Options::from_args(&args(&["--seed", "minus-one"])).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}
