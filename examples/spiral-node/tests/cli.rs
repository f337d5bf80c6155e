//! The built binary's command line, as a user meets it (the checks shared by every example are
//! in `sysdyn_testing::cli`): `--help` shows the usage with every option and exits 0; a bad flag
//! exits 2 with clap's message before any work is done; `--load` and `--resume` of a quick run's
//! checkpoints reproduce its evaluation bit for bit.

use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_spiral-node"), "spiral-node")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&["--iterations", "--sensitivity"]);
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    binary().assert_bad_flags_exit_2();
}

#[test]
fn load_and_resume_reproduce_the_evaluation() {
    // A short run (30 steps) keeps the three runs of this test quick; every evaluation number
    // of summary.json must come back bit for bit from the checkpoint and metrics.jsonl.
    binary().assert_checkpoints_reproduce(
        &[
            "--quick",
            "--quiet",
            "--iterations",
            "30",
            "--backend",
            "flex",
        ],
        &[
            "/trajectory_mse",
            "/initial_trajectory_mse",
            "/loss_first_last",
            "/nfe_forward",
            "/nfe_backward",
            "/checkpoint_step",
        ],
    );
}

#[test]
fn seed_replaces_the_default_seed() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let default = spiral_node::Options::from_args(&[]).unwrap();
    assert_eq!(default.seed, 2018);
    assert_eq!(spiral_node::PROGRAM.default_seed, Some(2018));
    let seeded = spiral_node::Options::from_args(&args(&["--seed", "99"])).unwrap();
    assert_eq!(seeded.seed, 99);
    let err = spiral_node::Options::from_args(&args(&["--seed", "minus-one"])).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}
