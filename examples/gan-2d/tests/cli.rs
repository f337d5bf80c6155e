//! The built binary as a user meets it: `--help`, bad flags, and `--load` / `--resume` of a
//! quick run's checkpoints reproducing its scores bit for bit; and the quick run's Dirac-GAN
//! rates against their eigenvalue predictions.

use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_gan-2d"), "gan-2d")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&["--iterations", "--seeds"]);
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    binary().assert_bad_flags_exit_2();
}

#[test]
fn load_and_resume_reproduce_the_scores() {
    let mut pointers = Vec::new();
    for k in 0..10 {
        for field in ["modes", "high_quality", "final_losses"] {
            pointers.push(format!("/results/{k}/{field}"));
        }
    }
    let pointers: Vec<&str> = pointers.iter().map(String::as_str).collect();
    binary().assert_checkpoints_reproduce(
        &[
            "--quick",
            "--quiet",
            "--iterations",
            "6",
            "--backend",
            "flex",
        ],
        &pointers,
    );
}

#[test]
fn options_and_the_dirac_gan_rates() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let default = gan_2d::Options::from_args(&[]).unwrap();
    assert_eq!(default.seed, 0);
    let err = gan_2d::Options::from_args(&args(&["--seeds", "many"])).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    // Simultaneous play spirals out, alternating stays on its circle, extragradient and
    // optimistic play spiral in, each at the rate its linearised update predicts.
    let runs = gan_2d::dirac::play_all(600).unwrap();
    for run in &runs {
        let r = run.result();
        assert!(
            (r.measured_rate - r.predicted_rate).abs() < 2e-4,
            "{}: {} vs {}",
            r.scheme,
            r.measured_rate,
            r.predicted_rate
        );
    }
    let rate = |name: &str| {
        runs.iter()
            .map(|r| r.result())
            .find(|r| r.scheme == name)
            .unwrap()
    };
    assert!(
        rate("simultaneous").distance_first_last[1] > rate("simultaneous").distance_first_last[0]
    );
    assert!(
        rate("extragradient").distance_first_last[1]
            < 0.6 * rate("extragradient").distance_first_last[0]
    );
    assert!((rate("alternating").predicted_rate - 1.0).abs() < 1e-9);
}
