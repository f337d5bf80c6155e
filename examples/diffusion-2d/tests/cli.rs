//! The built binary as a user meets it: `--help`, bad flags, `--load` / `--resume` of a quick
//! run's checkpoints reproducing its scores bit for bit, and the quick run's files and summary.

use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_diffusion-2d"), "diffusion-2d")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&["--steps", "--seeds", "--full"]);
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    binary().assert_bad_flags_exit_2();
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let err = diffusion_2d::Options::from_args(&args(&["--quick", "--full"])).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let err = diffusion_2d::Options::from_args(&args(&["--seeds", "many"])).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let default = diffusion_2d::Options::from_args(&[]).unwrap();
    assert_eq!(default.seed, 0);
    assert!(default.device.autodiff);
}

#[test]
fn load_and_resume_reproduce_the_scores() {
    // Every row of a quick run: 11 samplers at the main budget on each of the four data sets,
    // and on the eight Gaussians 9 more at the other NFE and 2 at the other tolerance.
    let mut pointers = vec!["/likelihood/nll/values".to_string()];
    for k in 0..55 {
        for field in ["sliced_wasserstein/values", "nfe/values"] {
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
fn the_quick_run_writes_every_figure_and_a_complete_summary() {
    let dir = std::env::temp_dir().join(format!("diffusion-2d-quick-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = binary().run(&[
        "--quick",
        "--quiet",
        "--backend",
        "flex",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    for stem in [
        "samples",
        "process",
        "score_field",
        "nfe_quality",
        "pf_ode_tolerance",
    ] {
        for ext in ["png", "svg"] {
            let file = dir.join(format!("{stem}.{ext}"));
            assert!(file.is_file(), "{} missing", file.display());
        }
    }
    let results = summary["results"].as_array().unwrap();
    // Every sampler on every data set at the main budget.
    let main: Vec<_> = results.iter().filter(|r| r["main"] == true).collect();
    assert_eq!(main.len(), 4 * 11);
    for r in &main {
        let sw = r["sliced_wasserstein"]["mean"].as_f64().unwrap();
        assert!(sw.is_finite() && sw >= 0.0, "{r}");
        let nfe = r["nfe"]["mean"].as_f64().unwrap();
        let sampler = r["sampler"].as_str().unwrap();
        if sampler.ends_with("pf-ode") {
            // Dormand–Prince: 6 evaluations per attempted step and one to start.
            assert!(nfe >= 7.0, "{sampler}: {nfe}");
        } else {
            // --quick's main budget is 20 evaluations (NCSN: 10 levels × 2 + the denoising step).
            let expected = if sampler.starts_with("ncsn") {
                21.0
            } else {
                20.0
            };
            assert_eq!(nfe, expected, "{sampler}");
        }
        let eight = r["data"] == "eight-gaussians";
        assert_eq!(r["modes"].is_object(), eight, "{r}");
    }
    // The sweep on the eight Gaussians: both NFE budgets, both tolerances.
    let sweep = results
        .iter()
        .filter(|r| r["data"] == "eight-gaussians")
        .count();
    assert_eq!(sweep, 9 * 2 + 2 * 2);
    let nll = summary["likelihood"]["nll"]["mean"].as_f64().unwrap();
    assert!(nll.is_finite(), "{nll}");
    assert_eq!(summary["likelihood"]["cnf_2d_nll"][0], 0.403);
    // A second data sample is the best any sampler can do; it is small but not zero.
    for floor in summary["floors"].as_array().unwrap() {
        let sw = floor["sliced_wasserstein"]["mean"].as_f64().unwrap();
        assert!(sw > 0.0 && sw < 0.5, "{floor}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
