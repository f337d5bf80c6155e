//! The built binary as a user meets it: `--help`, bad flags, and `--load` / `--resume` of a
//! quick run's checkpoints reproducing its scores bit for bit.

use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_coda"), "coda")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&["--steps", "--adapt-steps", "--seeds", "--full"]);
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    binary().assert_bad_flags_exit_2();
}

#[test]
fn load_and_resume_reproduce_the_scores() {
    let pointers = [
        "/per_seed/0/coda_train_envs",
        "/per_seed/0/coda_adapted",
        "/per_seed/0/one_for_all_finetuned",
        "/per_seed/0/adapted_contexts",
    ];
    binary().assert_checkpoints_reproduce(
        &[
            "--quick",
            "--quiet",
            "--steps",
            "4",
            "--adapt-steps",
            "3",
            "--backend",
            "flex",
        ],
        &pointers,
    );
}

#[test]
fn the_environments_are_the_papers() {
    let train = coda::training_environments();
    assert_eq!(train.len(), 9);
    assert!(train.iter().all(|p| p[0] == 0.5 && p[2] == 0.5));
    let new = coda::adaptation_environments();
    assert_eq!(new.len(), 4);
    assert!(new.contains(&[0.5, 0.625, 0.5, 1.125]));
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(coda::Options::from_args(&args(&["--full"])).unwrap().full);
    let err = coda::Options::from_args(&args(&["--steps", "many"])).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}
