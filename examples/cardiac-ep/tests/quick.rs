//! The quick run as CI and the tour run it: every variant trains and is scored on the 24 × 24
//! slab with finite numbers, the files are written, the scores are consistent with the per-frame
//! errors, the untrained reference keeps its parameters, λ grows by its rule; and the command
//! line as a user meets it.

use cardiac_ep::{HORIZONS_MS, Variant};
use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_cardiac-ep"), "cardiac-ep")
}

#[test]
fn help_and_bad_flags() {
    let b = binary();
    b.assert_help_lists(&["--steps", "--seeds", "--lr", "--lambda0", "--train-horizon"]);
    b.assert_bad_flags_exit_2();
    b.assert_checkpoint_flags_refused();
    for bad in ["0", "NaN", "60"] {
        let out = b.run(&["--train-horizon", bad]);
        assert_eq!(out.status.code(), Some(2), "--train-horizon {bad}");
    }
}

#[test]
fn the_quick_run_scores_every_variant() {
    let dir = std::env::temp_dir().join(format!("sysdyn-cardiac-quick-{}", std::process::id()));
    let args: Vec<String> = ["--quick", "--quiet", "--backend", "flex", "--out"]
        .iter()
        .map(|s| s.to_string())
        .chain([dir.display().to_string()])
        .collect();
    let options = cardiac_ep::Options::from_args(&args).unwrap();
    let summary = cardiac_ep::run(&options).unwrap();
    assert!(dir.join("summary.json").exists() && dir.join("table.md").exists());
    assert!(!summary.figures.is_empty());
    for f in &summary.figures {
        assert!(dir.join(f).exists(), "{f}");
    }
    let names: Vec<&str> = summary.variants.iter().map(|v| v.variant).collect();
    let expected: Vec<&str> = Variant::ALL.iter().map(|v| v.name()).collect();
    assert_eq!(names, expected);
    let frames = (summary.budget.test_horizon_ms / summary.budget.dt_ms).round() as usize + 1;
    for v in &summary.variants {
        assert_eq!(v.runs.len(), summary.budget.seeds);
        for r in &v.runs {
            assert_eq!(r.mse_per_frame.len(), frames, "{}", v.variant);
            // The forecast starts from the observed frame: no error at t = 0.
            assert!(r.mse_per_frame[0].abs() < 1e-12, "{}", v.variant);
            for (h, &horizon) in HORIZONS_MS.iter().enumerate() {
                let k = (horizon / summary.budget.dt_ms).round() as usize;
                let mean = r.mse_per_frame[1..=k].iter().sum::<f64>() / k as f64;
                assert!(mean.is_finite() && mean > 0.0, "{} {horizon} ms", v.variant);
                assert!((r.mse_horizons[h] - mean).abs() <= 1e-12 * mean);
                assert_eq!(r.mse_at_horizons[h], r.mse_per_frame[k]);
            }
        }
    }
    let by = |variant: Variant| {
        summary
            .variants
            .iter()
            .find(|v| v.variant == variant.name())
            .unwrap()
    };
    // The reference is not trained: Mitchell and Schaeffer's values, unchanged (up to the
    // default f32 precision the parameters are held in).
    let initial = cardiac_ep::initial_parameters();
    for (a, b) in by(Variant::MsInitial).runs[0]
        .parameters
        .iter()
        .zip(&initial)
    {
        assert!((a - b).abs() <= 1e-6 * b.abs(), "{a} vs {b}");
    }
    assert!(by(Variant::ResNet).runs[0].parameters.is_empty());
    // Training moved the learnable time constants.
    assert_ne!(by(Variant::Physical).runs[0].parameters, initial);
    // λ ← λ + τ₂ L_traj after every batch, from λ₀.
    let run = &by(Variant::AphynEp).runs[0];
    let b = summary.budget;
    let expected = b.lambda0 + b.tau2 * run.history.iter().map(|h| h.0).sum::<f64>();
    let lambda = run.final_lambda.unwrap();
    assert_eq!(run.history.len() as u64, b.steps);
    assert!(
        (lambda - expected).abs() <= 1e-9 * expected,
        "{lambda} vs {expected}"
    );
    assert!(lambda > b.lambda0);
    std::fs::remove_dir_all(&dir).ok();
}
