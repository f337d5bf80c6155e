//! The example end to end in quick mode: both models learn (their training losses fall), the
//! numbers are finite, every file is written, and an interrupted run resumed from its
//! checkpoints ends exactly where the uninterrupted one did.

use std::path::Path;

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
        load: None,
        resume: None,
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
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

    // An interruption: the copy of the runs loses the latent ODE's last checkpoint (it resumes
    // from step 180 with its saved Adam state) and the baseline's whole run directory (it trains
    // again from its seed). Both must end exactly where the uninterrupted runs did: the same
    // per-step losses and the same test RMSEs, bit for bit.
    let (runs, copy) = (dir.path().join("a/run"), dir.path().join("b/run"));
    copy_dir(&runs, &copy);
    std::fs::remove_dir_all(copy.join("latent-ode/checkpoints/step-200")).unwrap();
    assert!(copy.join("latent-ode/checkpoints/step-180").is_dir());
    std::fs::remove_dir_all(copy.join("baseline")).unwrap();
    // One model's run directory is not the folder of both runs.
    let one = run(&Options {
        load: Some(runs.join("latent-ode")),
        ..options(&dir.path().join("c"))
    });
    assert!(
        matches!(&one, Err(latent_ode::ExampleError::OneRun { runs: r, .. }) if *r == runs),
        "{one:?}"
    );
    let resumed = run(&Options {
        resume: Some(copy.clone()),
        ..options(&dir.path().join("b"))
    })
    .unwrap();
    assert!(resumed.trained);
    assert_eq!(resumed.checkpoint_steps, [200, 200]);
    for name in latent_ode::RUNS {
        let metrics = |root: &Path| std::fs::read(root.join(name).join("metrics.jsonl")).unwrap();
        assert_eq!(
            metrics(&runs),
            metrics(&copy),
            "{name}: metrics.jsonl differs"
        );
    }
    assert_eq!(
        (
            summary.latent_ode.interpolation,
            summary.latent_ode.extrapolation
        ),
        (
            resumed.latent_ode.interpolation,
            resumed.latent_ode.extrapolation
        )
    );
    assert_eq!(
        (
            summary.gru_baseline.interpolation,
            summary.gru_baseline.extrapolation
        ),
        (
            resumed.gru_baseline.interpolation,
            resumed.gru_baseline.extrapolation
        )
    );
    assert_eq!(
        summary.latent_loss_first_last,
        resumed.latent_loss_first_last
    );
    assert_eq!(
        summary.baseline_loss_first_last,
        resumed.baseline_loss_first_last
    );
}
