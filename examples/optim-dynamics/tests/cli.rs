//! The built binary's command line, as a user meets it (the checks shared by every example are
//! in `sysdyn_testing::cli`): `--help` shows the usage with every option and exits 0; a bad flag
//! exits 2 with clap's message before any work is done; `--load` and `--resume` of a trained
//! run reproduce its evaluation numbers exactly.

use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_optim-dynamics"), "optim-dynamics")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&[]);
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    binary().assert_bad_flags_exit_2();
}

#[test]
fn load_and_resume_reproduce_the_trained_numbers() {
    // The evaluation of each rule's trained MLP (full-batch loss) and the step it was taken at.
    let mut pointers = Vec::new();
    for i in 0..5 {
        for field in ["initial_loss", "final_loss", "steps", "optimizer"] {
            pointers.push(format!("/training/{i}/{field}"));
        }
    }
    let pointers: Vec<&str> = pointers.iter().map(String::as_str).collect();
    binary().assert_checkpoints_reproduce(&["--quick", "--quiet"], &pointers);
}

#[test]
fn seed_replaces_the_default_seed() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let default = optim_dynamics::Options::from_args(&[]).unwrap();
    assert_eq!(default.seed, 5);
    assert_eq!(optim_dynamics::PROGRAM.default_seed, Some(5));
    let seeded = optim_dynamics::Options::from_args(&args(&["--seed", "99"])).unwrap();
    assert_eq!(seeded.seed, 99);
    let err = optim_dynamics::Options::from_args(&args(&["--seed", "minus-one"])).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}
