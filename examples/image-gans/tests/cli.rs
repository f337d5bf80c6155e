//! The built binary as a user meets it: `--help`, bad flags, and `--load` / `--resume` of a
//! quick run's checkpoints reproducing its scores bit for bit.

use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_image-gans"), "image-gans")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&[
        "--steps",
        "--width",
        "--seeds",
        "--train-images",
        "--critic-norm",
        "--mnist",
    ]);
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    binary().assert_bad_flags_exit_2();
}

#[test]
fn load_and_resume_reproduce_the_scores() {
    binary().assert_checkpoints_reproduce(
        &["--quick", "--quiet", "--steps", "4", "--backend", "flex"],
        &[
            "/classifier_accuracy",
            "/frechet_held_out",
            "/frechet_blurred",
            "/results/0/frechet",
            "/results/0/final_losses",
            "/results/1/frechet",
            "/results/1/class_accuracy",
            "/results/2/frechet",
        ],
    );
}

#[test]
fn options_have_their_defaults_and_refuse_bad_values() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let default = image_gans::Options::from_args(&[]).unwrap();
    assert_eq!(default.seed, 0);
    assert_eq!(default.critic_norm, None);
    assert_eq!(default.gans, image_gans::gans::Variant::DEFAULT.to_vec());
    for bad in [
        &["--steps", "many"][..],
        &["--critic-norm", "layer"][..],
        &["--width", "-3"][..],
        &["--train-images", "0"][..],
    ] {
        let err = image_gans::Options::from_args(&args(bad)).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{bad:?}");
    }
}

#[test]
fn a_missing_mnist_folder_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("image-gans-no-mnist-{}", std::process::id()));
    let output = binary().run(&[
        "--quick",
        "--quiet",
        "--mnist",
        dir.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("train-images-idx3-ubyte"), "{stderr}");
}
