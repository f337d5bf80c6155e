//! The example end to end in quick mode: both models learn (their training losses fall), the
//! numbers are finite, the run is reproducible from its seed, and every file is written.

use latent_ode::{Options, run};
use sysdyn_core::device::{Backend, DeviceSpec, Precision};

fn options(dir: &std::path::Path) -> Options {
    Options {
        out_dir: dir.to_path_buf(),
        quick: true,
        device: DeviceSpec::new(Backend::Flex, Precision::F32),
        iterations: None,
        seed: 7,
        quiet: true,
    }
}

#[test]
fn quick_run_learns_and_writes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let summary = run(&options(&dir.path().join("a"))).unwrap();
    assert_eq!(summary.iterations, 200);
    // Training works: the −ELBO per observation and the baseline's one-step error fall.
    assert!(
        summary.latent_loss_first_last[1] < 0.8 * summary.latent_loss_first_last[0],
        "latent ODE loss {:?}",
        summary.latent_loss_first_last
    );
    assert!(
        summary.baseline_loss_first_last[1] < 0.8 * summary.baseline_loss_first_last[0],
        "baseline loss {:?}",
        summary.baseline_loss_first_last
    );
    for r in [summary.latent_ode, summary.gru_baseline] {
        assert!(
            r.interpolation.is_finite() && r.extrapolation.is_finite(),
            "{r:?}"
        );
    }
    let text = std::fs::read_to_string(dir.path().join("a/summary.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["example"], "latent-ode");
    assert!(json["key_numbers"].as_array().unwrap().len() >= 4);
    for figure in &summary.figures {
        assert!(dir.path().join("a").join(figure).exists(), "{figure}");
    }

    // The same seed gives the same numbers (seeded data, weights, batches and noise).
    let again = run(&options(&dir.path().join("b"))).unwrap();
    assert_eq!(
        summary.latent_ode.extrapolation,
        again.latent_ode.extrapolation
    );
    assert_eq!(
        summary.gru_baseline.extrapolation,
        again.gru_baseline.extrapolation
    );
}
