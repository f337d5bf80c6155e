//! The built binary as a user meets it: `--help`, bad flags, and `--load` / `--resume` of a
//! quick run's checkpoints reproducing its scores bit for bit.

use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_vae-images"), "vae-images")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&[
        "--steps",
        "--vq-steps",
        "--prior-steps",
        "--iwae-k",
        "--eval-k",
        "--codes",
        "--seeds",
        "--train-images",
        "--full",
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
        &[
            "--quick",
            "--quiet",
            "--steps",
            "4",
            "--vq-steps",
            "3",
            "--prior-steps",
            "3",
            "--eval-k",
            "8",
            "--eval-images",
            "20",
            "--backend",
            "flex",
        ],
        &[
            "/vaes/0/nll_nats",
            "/vaes/1/nll_nats",
            "/vaes/2/bits_per_dim",
            "/vaes/3/nll_nats",
            "/vaes/0/active_units",
            "/vq/restart/mse",
            "/vq/restart/perplexity",
            "/vq/plain/mse",
            "/vq/gaussian/0/mse",
            "/vq/gaussian/1/kl_nats",
            "/vq/prior/held_out_bits_per_code",
        ],
    );
}

#[test]
fn options_have_their_defaults_and_refuse_bad_values() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let default = vae_images::Options::from_args(&[]).unwrap();
    assert_eq!(default.seed, 0);
    assert!(!default.full && !default.quick);
    assert_eq!(default.steps, None);
    let full = vae_images::Options::from_args(&args(&["--full", "--eval-k", "100"])).unwrap();
    assert!(full.full);
    assert_eq!(full.eval_k, Some(100));
    for bad in [
        &["--steps", "many"][..],
        &["--steps", "0"][..],
        &["--eval-k", "0"][..],
        &["--codes", "-3"][..],
        &["--train-images", "5"][..],
    ] {
        let err = vae_images::Options::from_args(&args(bad)).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{bad:?}");
    }
}

#[test]
fn a_missing_mnist_folder_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("vae-images-no-mnist-{}", std::process::id()));
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

#[test]
fn a_quick_run_writes_every_figure_and_a_consistent_summary() {
    let dir = std::env::temp_dir().join(format!("vae-images-quick-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.to_str().unwrap();
    let output = binary().run(&[
        "--quick",
        "--quiet",
        "--steps",
        "6",
        "--vq-steps",
        "4",
        "--prior-steps",
        "3",
        "--eval-k",
        "8",
        "--eval-images",
        "20",
        "--backend",
        "flex",
        "--out",
        out,
    ]);
    assert!(output.status.success(), "{output:?}");
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    for stem in [
        "reconstructions",
        "samples",
        "cvae-samples",
        "vq-prior-samples",
        "latent-scatter",
        "traversal",
        "interpolation",
        "bounds",
        "codebook-usage",
    ] {
        for ext in ["png", "svg"] {
            assert!(dir.join(format!("{stem}.{ext}")).is_file(), "{stem}.{ext}");
        }
    }
    // bits/dim is nats / (784 ln 2) for every model.
    for model in summary["vaes"].as_array().unwrap() {
        let nats = model["nll_nats"]["mean"].as_f64().unwrap();
        let bits = model["bits_per_dim"]["mean"].as_f64().unwrap();
        assert!((bits - nats / (784.0 * std::f64::consts::LN_2)).abs() < 1e-9);
        // A Bernoulli model's NLL is positive and at most 784 ln 2 nats for a model near
        // its initialisation (every pixel near probability one half).
        assert!(nats > 0.0 && nats < 784.0 * 2.0, "{nats}");
    }
    // The held-out code counts cover every position of every scored digit (7×7 each).
    let counts: u64 = summary["vq"]["restart"]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(counts, 20 * 49);
    std::fs::remove_dir_all(&dir).unwrap();
}
