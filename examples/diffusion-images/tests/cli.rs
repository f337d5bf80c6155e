//! The built binary as a user meets it: `--help`, bad flags, and `--load` / `--resume` of a
//! quick run's checkpoints reproducing its scores bit for bit.

use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_diffusion-images"), "diffusion-images")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&["--steps", "--channels", "--seeds", "--full", "--mnist"]);
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    binary().assert_bad_flags_exit_2();
}

#[test]
fn load_and_resume_reproduce_the_scores() {
    binary().assert_checkpoints_reproduce(
        &["--quick", "--quiet", "--backend", "flex"],
        &[
            "/classifier_accuracy",
            "/bits_per_dim",
            "/results/0/accuracy",
            "/results/0/frechet",
            "/results/2/accuracy",
        ],
    );
}

#[test]
fn options_have_their_defaults_and_refuse_bad_values() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let default = diffusion_images::Options::from_args(&[]).unwrap();
    assert_eq!(default.seed, 0);
    assert!(!default.full);
    for bad in [
        &["--steps", "many"][..],
        &["--channels", "-3"][..],
        &["--guidance", "x"][..],
    ] {
        let err = diffusion_images::Options::from_args(&args(bad)).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{bad:?}");
    }
}
