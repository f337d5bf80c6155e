//! The quick run as CI and the tour run it: every system and variant trains and is scored, the
//! files are written, the reference model is the best forecaster of an untrained comparison, λ
//! grows by its rule; and the command line as a user meets it.

use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_aphynity"), "aphynity")
}

#[test]
fn help_and_bad_flags() {
    let b = binary();
    b.assert_help_lists(&["--full", "--steps", "--seeds", "--substeps", "--lr"]);
    b.assert_bad_flags_exit_2();
    b.assert_checkpoint_flags_refused();
    let out = b.run(&["--quick", "--full"]);
    assert_eq!(out.status.code(), Some(2), "--quick and --full conflict");
}

#[test]
fn the_quick_run_scores_every_system_and_variant() {
    let dir = std::env::temp_dir().join(format!("sysdyn-aphynity-quick-{}", std::process::id()));
    let args: Vec<String> = ["--quick", "--quiet", "--backend", "flex", "--out"]
        .iter()
        .map(|s| s.to_string())
        .chain([dir.display().to_string()])
        .collect();
    let options = aphynity::Options::from_args(&args).unwrap();
    assert_eq!(options.systems.len(), 4, "all systems in a quick run");
    let default = aphynity::Options::from_args(&args[1..]).unwrap();
    assert_eq!(
        default.systems,
        vec![
            aphynity::systems::System::Pendulum,
            aphynity::systems::System::PendulumFrictionless
        ],
        "the two pendulum systems by default"
    );
    let summary = aphynity::run(&options).unwrap();
    assert!(dir.join("summary.json").exists() && dir.join("table.md").exists());
    for f in &summary.figures {
        assert!(dir.join(f).exists(), "{f}");
    }
    assert_eq!(summary.systems.len(), 4);
    for sys in &summary.systems {
        let names: Vec<&str> = sys.variants.iter().map(|v| v.variant).collect();
        assert_eq!(
            names,
            [
                "APHYNITY",
                "Param only",
                "Neural ODE",
                "naive F_p + F_a",
                "true model"
            ]
        );
        let by = |name: &str| sys.variants.iter().find(|v| v.variant == name).unwrap();
        for v in &sys.variants {
            assert!(
                v.log_mse_mean.is_finite(),
                "{} {}",
                sys.system.name(),
                v.variant
            );
        }
        // The true model (the simulator's equations, RK4 on the data grid) forecasts best.
        let truth = by("true model").log_mse_mean;
        for v in &sys.variants {
            assert!(
                truth <= v.log_mse_mean,
                "{} {}",
                sys.system.name(),
                v.variant
            );
        }
        assert_eq!(by("true model").parameter_error_mean, Some(0.0));
        assert!(by("Neural ODE").parameter_error_mean.is_none());
        // λ ← λ + τ₂ L_traj with L_traj > 0: it grew from λ₀ = 1 by the logged losses.
        let run = &by("APHYNITY").runs[0];
        let lambda = run.final_lambda.unwrap();
        let expected = 1.0 + run_tau2(sys.system) * run.history.iter().map(|h| h.0).sum::<f64>();
        assert!(
            (lambda - expected).abs() <= 1e-12 * expected,
            "{lambda} vs {expected}"
        );
        assert!(lambda > 1.0);
    }
    std::fs::remove_dir_all(&dir).ok();
}

fn run_tau2(system: aphynity::systems::System) -> f64 {
    match system {
        aphynity::systems::System::Pendulum | aphynity::systems::System::PendulumFrictionless => {
            1.0
        }
        _ => 1e-3,
    }
}
