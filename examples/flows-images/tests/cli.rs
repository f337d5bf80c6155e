//! The built binary as a user meets it (`--help`, bad flags, no checkpoints), and a short run
//! end to end: training lowers the held-out bits/dim from the initialised flow's, the flow
//! inverts the held-out digits, and the sample grids are written.

use flows_images::{Options, run};
use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_flows-images"), "flows-images")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&["--full", "--iterations", "--seeds", "--mnist"]);
}

#[test]
fn a_bad_flag_exits_2_and_checkpoints_are_refused() {
    binary().assert_bad_flags_exit_2();
    binary().assert_checkpoint_flags_refused();
}

#[test]
fn a_short_run_learns_inverts_and_writes_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = Options::from_args(&[
        "--quick".to_string(),
        "--quiet".to_string(),
        "--iterations".to_string(),
        "30".to_string(),
        "--backend".to_string(),
        "flex".to_string(),
    ])
    .unwrap();
    options.out_dir = dir.path().join("images");
    let summary = run(&options).unwrap();
    let bits = summary.bits_per_dim_mean;
    assert!(
        bits < summary.initial_bits_per_dim - 0.05,
        "bits/dim {} → {bits}",
        summary.initial_bits_per_dim
    );
    assert!(
        summary.round_trip_error < 1e-3,
        "{}",
        summary.round_trip_error
    );
    for figure in &summary.figures {
        assert!(dir.path().join("images").join(figure).exists(), "{figure}");
    }
}
