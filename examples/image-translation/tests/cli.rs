//! The built binary as a user meets it: `--help`, bad flags, and `--load` / `--resume` of a
//! quick run's checkpoints reproducing its scores bit for bit.

use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_image-translation"), "image-translation")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&["--pix2pix-steps", "--cyclegan-steps", "--seeds"]);
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    binary().assert_bad_flags_exit_2();
}

#[test]
fn load_and_resume_reproduce_the_scores() {
    binary().assert_checkpoints_reproduce(
        &[
            "--quick",
            "--quiet",
            "--pix2pix-steps",
            "4",
            "--cyclegan-steps",
            "4",
            "--backend",
            "flex",
        ],
        &[
            "/pix2pix/0/l1",
            "/pix2pix/0/sharpness",
            "/pix2pix/1/l1",
            "/cyclegan/0/domain_classifier_accuracy",
            "/cyclegan/0/cycle_error_x",
            "/cyclegan/0/forward_in_target_domain",
            "/cyclegan/1/domain_classifier_accuracy",
            "/cyclegan/1/cycle_error_y",
            "/cyclegan/1/backward_error_to_counterpart",
        ],
    );
}

#[test]
fn options_have_their_defaults_and_refuse_bad_values() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let default = image_translation::Options::from_args(&[]).unwrap();
    assert_eq!(default.seed, 0);
    assert_eq!(default.seeds, None);
    for bad in [&["--seeds", "x"][..], &["--cyclegan-steps", "-1"][..]] {
        let err = image_translation::Options::from_args(&args(bad)).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{bad:?}");
    }
}
