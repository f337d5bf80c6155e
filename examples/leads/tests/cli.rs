//! The built binary as a user meets it: `--help`, bad flags, and `--load` / `--resume` of a
//! quick run's checkpoints reproducing its scores bit for bit.

use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_leads"), "leads")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&["--steps", "--seeds", "--methods"]);
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    binary().assert_bad_flags_exit_2();
}

#[test]
fn load_and_resume_reproduce_the_scores() {
    let mut pointers = Vec::new();
    for k in 0..4 {
        for field in ["test_mse/values", "train_mse/values", "test_mse_by_env"] {
            pointers.push(format!("/results/{k}/{field}"));
        }
    }
    let pointers: Vec<&str> = pointers.iter().map(String::as_str).collect();
    binary().assert_checkpoints_reproduce(
        &["--quick", "--quiet", "--steps", "6", "--backend", "flex"],
        &pointers,
    );
}

#[test]
fn options_parse_and_refuse_unknown_methods() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let default = leads::Options::from_args(&[]).unwrap();
    assert_eq!(default.seed, 0);
    assert_eq!(default.methods.len(), 4);
    let err = leads::Options::from_args(&args(&["--methods", "leads,magic"])).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}
