//! The built binary's command line, as a user meets it (the checks shared by every example are
//! in `sysdyn_testing::cli`): `--help` shows the usage with every option and exits 0; a bad flag
//! exits 2 with clap's message before any work is done; `--load` and `--resume` of a quick run's
//! checkpoints reproduce its evaluation bit for bit.

use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_cnf-2d"), "cnf-2d")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&["--iterations"]);
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    binary().assert_bad_flags_exit_2();
}

#[test]
fn load_and_resume_reproduce_the_evaluation() {
    // A few steps per flow keep the three runs of this test quick; the test NLLs (evaluated on
    // fixed draws) and the training curves read back from metrics.jsonl must come back bit for
    // bit, for all four runs.
    let mut pointers = vec!["/reverse_kl_first_last".to_string()];
    for k in 0..3 {
        for field in ["test_nll", "gaussian_test_nll", "final_batch_nll"] {
            pointers.push(format!("/datasets/{k}/{field}"));
        }
    }
    let pointers: Vec<&str> = pointers.iter().map(String::as_str).collect();
    binary().assert_checkpoints_reproduce(
        &[
            "--quick",
            "--quiet",
            "--iterations",
            "8",
            "--backend",
            "flex",
        ],
        &pointers,
    );
}

#[test]
fn seed_replaces_the_default_seed() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let default = cnf_2d::Options::from_args(&[]).unwrap();
    assert_eq!(default.seed, 0);
    assert_eq!(cnf_2d::PROGRAM.default_seed, Some(0));
    let seeded = cnf_2d::Options::from_args(&args(&["--seed", "99"])).unwrap();
    assert_eq!(seeded.seed, 99);
    let err = cnf_2d::Options::from_args(&args(&["--seed", "minus-one"])).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}
