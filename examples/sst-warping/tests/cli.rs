//! The built binary as a user meets it: `--help`, bad flags, and a quick run's summary.

use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_sst-warping"), "sst-warping")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&["--steps", "--seeds", "--full"]);
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    binary().assert_bad_flags_exit_2();
}

#[test]
fn load_and_resume_reproduce_the_scores() {
    binary().assert_checkpoints_reproduce(
        &["--quick", "--quiet", "--steps", "4", "--backend", "flex"],
        &["/results/0/mse", "/results/1/mse", "/motion_correlation"],
    );
}

#[test]
fn options() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let default = sst_warping::Options::from_args(&[]).unwrap();
    assert_eq!(default.seed, 0);
    assert!(!default.full);
    let err = sst_warping::Options::from_args(&args(&["--full", "--quick"])).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}
