//! The example end to end in quick mode: the stability networks behave as the signs of their
//! spectra say, the multi-level classifiers learn the three problems at every depth, and every
//! figure is written.

use serde_json::Value;
use stable_resnets::{Options, run};
use sysdyn_core::device::{Backend, DeviceSpec, Precision};

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(num).collect()
}

fn network<'a>(s: &'a Value, name: &str) -> &'a Value {
    s["stability"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no network {name}"))
}

#[test]
fn quick_run_writes_a_consistent_summary_and_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sr");
    let options = Options {
        out_dir: out.clone(),
        quick: true,
        device: DeviceSpec::new(Backend::Flex, Precision::F32),
        mnist_dir: None,
        seed: 42,
        quiet: true,
        load: None,
        resume: None,
    };
    let returned = run(&options).unwrap();
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["example"], "stable-resnets");
    assert_eq!(s["quick"], true);
    assert_eq!(
        (s["backend"].as_str(), s["precision"].as_str()),
        (Some("flex"), Some("f32"))
    );

    // K+ (eigenvalues 2, 2): forward Euler amplification 1 + 0.2, the points fly apart and the
    // spread grows at every layer.
    let plus = network(&s, "K+");
    assert!((num(&plus["forward_euler_amplification"]) - 1.2).abs() < 1e-6);
    let spread = numbers(&plus["spread"]);
    assert_eq!(spread.len(), 11);
    assert!(spread.windows(2).all(|w| w[1] > w[0]), "{spread:?}");
    assert!(num(&plus["spread_growth"]) > 3.0);
    assert!(num(&plus["perturbation_growth"]) > 3.0);
    // K- (eigenvalues -1, -2): amplification max(|1 - 0.1|, |1 - 0.2|) = 0.9; the points
    // collapse, the spread shrinking at every layer.
    let minus = network(&s, "K-");
    assert!((num(&minus["forward_euler_amplification"]) - 0.9).abs() < 1e-6);
    let spread = numbers(&minus["spread"]);
    assert!(spread.windows(2).all(|w| w[1] < w[0]), "{spread:?}");
    assert!(num(&minus["spread_growth"]) < 0.6);
    assert!(num(&minus["perturbation_growth"]) < 0.6);
    // K0 (eigenvalues ±i): amplification √(1 + h²), the spread kept within 10%.
    let zero = network(&s, "K0");
    assert!((num(&zero["forward_euler_amplification"]) - 1.01f64.sqrt()).abs() < 1e-6);
    for eig in zero["eigenvalues"].as_array().unwrap() {
        let [re, im] = [num(&eig[0]), num(&eig[1])];
        assert!(re.abs() < 1e-6 && (im.abs() - 1.0).abs() < 1e-6);
    }
    assert!((0.9..1.1).contains(&num(&zero["spread_growth"])));
    assert!((0.9..1.1).contains(&num(&zero["perturbation_growth"])));

    // Every problem, architecture and depth of the multi-level schedule is reported: the depth
    // doubles and h = T / layers halves from level to level, training lowers the loss on every
    // level, and the accuracies are fractions.
    let problems = s["classification"].as_array().unwrap();
    let names: Vec<&str> = problems
        .iter()
        .map(|p| p["dataset"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ellipses", "swiss_roll", "peaks"]);
    let depths = numbers(&s["training"]["depths"]);
    assert_eq!(depths, [4.0, 8.0]);
    for p in problems {
        let name = p["dataset"].as_str().unwrap();
        let t = num(&p["final_time"]);
        let runs = p["runs"].as_array().unwrap();
        let architectures: Vec<&str> = runs
            .iter()
            .map(|r| r["architecture"].as_str().unwrap())
            .collect();
        assert_eq!(architectures, ["standard", "antisymmetric", "verlet"]);
        for r in runs {
            let levels = r["levels"].as_array().unwrap();
            assert_eq!(levels.len(), depths.len());
            for (level, &layers) in levels.iter().zip(&depths) {
                assert_eq!(num(&level["layers"]), layers, "{name}");
                assert!((num(&level["step"]) - t / layers).abs() < 1e-12, "{name}");
                assert!(
                    num(&level["final_loss"]) < num(&level["initial_loss"]),
                    "{name}: {level}"
                );
                for key in [
                    "train_accuracy",
                    "validation_accuracy",
                    "prolonged_validation_accuracy",
                ] {
                    assert!((0.0..=1.0).contains(&num(&level[key])), "{name}: {level}");
                }
                assert!(num(&level["prolongation_logit_change"]).is_finite());
            }
            assert_eq!(num(&levels[0]["prolongation_logit_change"]), 0.0);
        }
    }
    // Even the quick schedule (80 Adam steps in all) separates the ellipses (the best
    // architecture above 95%, every one above 80%), and learns the swiss roll and the five peaks
    // classes far above guessing (50% and 42% for the largest class).
    let deepest_validation = |p: &Value| -> Vec<f64> {
        p["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| num(&r["levels"][depths.len() - 1]["validation_accuracy"]))
            .collect()
    };
    let best = |p: &Value| deepest_validation(p).into_iter().fold(0.0, f64::max);
    assert!(best(&problems[0]) > 0.95, "{}", problems[0]);
    assert!(
        deepest_validation(&problems[0]).iter().all(|&a| a > 0.8),
        "{}",
        problems[0]
    );
    assert!(best(&problems[1]) > 0.75, "{}", problems[1]);
    assert!(best(&problems[2]) > 0.7, "{}", problems[2]);

    // The key numbers: per problem the best validation accuracy, and each architecture's at the
    // deepest level; no MNIST folder was given, so that run says it was skipped.
    let key_numbers = s["key_numbers"].as_array().unwrap();
    assert_eq!(key_numbers.len(), 3 * 4);
    assert_eq!(s["mnist"]["status"], "skipped");
    assert!(s["mnist"]["reason"].as_str().unwrap().contains("--mnist"));

    let figures: Vec<&str> = s["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for stem in [
        "stability_trajectories",
        "spread_vs_depth",
        "decision_boundaries_ellipses",
        "decision_boundaries_swiss_roll",
        "decision_boundaries_peaks",
    ] {
        for ext in ["svg", "png"] {
            let name = format!("{stem}.{ext}");
            assert!(figures.contains(&name.as_str()), "{name} not listed");
            let bytes = std::fs::read(out.join(&name)).unwrap();
            assert!(bytes.len() > 1000, "{name} is {} bytes", bytes.len());
            if ext == "png" {
                assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
            }
        }
    }
    assert_eq!(num(&s["figure_points_skipped"]), 0.0);
    assert_eq!(returned.stability.len(), 3);
    assert_eq!(s["trained"], true);

    // An interrupted invocation: one run never started, another lost its last checkpoint.
    // `--resume` trains the first from the beginning and the second from step 0 again, loads
    // the others, and reproduces every number.
    let runs = out.join("run");
    std::fs::remove_dir_all(runs.join("peaks-verlet-8layers")).unwrap();
    std::fs::remove_dir_all(runs.join("swiss_roll-standard-4layers/checkpoints/step-40")).unwrap();
    let resumed_out = dir.path().join("resumed");
    let resumed = Options {
        out_dir: resumed_out.clone(),
        resume: Some(runs.clone()),
        ..options
    };
    run(&resumed).unwrap();
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(resumed_out.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(r["classification"], s["classification"]);
    assert_eq!(r["key_numbers"], s["key_numbers"]);
    assert!(
        runs.join("peaks-verlet-8layers/checkpoints/step-40")
            .is_dir()
    );
}

#[test]
fn bad_arguments_are_typed_errors() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // Bad command lines are clap's usage errors (exit status 2), naming what is wrong.
    let err = Options::from_args(&args(&["--backend", "cuda"])).unwrap_err();
    assert!(err.to_string().contains("unknown backend `cuda`"), "{err}");
    let err = Options::from_args(&args(&["--frobnicate"])).unwrap_err();
    assert!(
        err.to_string()
            .contains("unexpected argument '--frobnicate'"),
        "{err}"
    );
    assert_eq!(err.exit_code(), 2);
    let err = Options::from_args(&args(&["--out"])).unwrap_err();
    assert!(err.to_string().contains("'--out <DIR>'"), "{err}");
    let err = Options::from_args(&args(&["--mnist"])).unwrap_err();
    assert!(err.to_string().contains("'--mnist <DIR>'"), "{err}");
    // `--load` / `--resume` name the `run` folder of an earlier output.
    let o = Options::from_args(&args(&["--resume", "ckpt"])).unwrap();
    assert_eq!(o.resume.as_deref(), Some(std::path::Path::new("ckpt")));
    let err = Options::from_args(&args(&["--load", "a", "--resume", "b"])).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    // `--seed` moves every seed: the datasets' and the networks'.
    let o = Options::from_args(&args(&["--seed", "7"])).unwrap();
    assert_eq!(o.seed, 7);
    assert_ne!(
        o.network_seed(),
        Options::from_args(&[]).unwrap().network_seed()
    );
    assert_eq!(Options::from_args(&[]).unwrap().network_seed(), 2017);
    let o = Options::from_args(&args(&["--mnist", "digits"])).unwrap();
    assert_eq!(o.mnist_dir.as_deref(), Some(std::path::Path::new("digits")));
    // A folder without the IDX files is a typed error, not a skipped run.
    let missing = Options {
        out_dir: std::env::temp_dir().join("stable-resnets-no-mnist-out"),
        quick: true,
        device: DeviceSpec::new(Backend::Flex, Precision::F32),
        mnist_dir: Some(std::env::temp_dir().join("stable-resnets-no-such-mnist")),
        seed: 42,
        quiet: true,
        load: None,
        resume: None,
    };
    let err = run(&missing).unwrap_err();
    assert!(err.to_string().contains("train-images-idx3-ubyte"), "{err}");
    let o = Options::from_args(&args(&["--quick", "--out=somewhere"])).unwrap();
    assert!(o.quick);
    assert_eq!(o.out_dir, std::path::Path::new("somewhere"));
    let options = Options {
        out_dir: std::env::temp_dir().join("stable-resnets-never-written"),
        quick: true,
        device: DeviceSpec::new(Backend::Wgpu, Precision::F64),
        mnist_dir: None,
        seed: 42,
        quiet: true,
        load: None,
        resume: None,
    };
    assert!(run(&options).is_err());
    assert!(!options.out_dir.exists());
    // A `--resume` or `--load` folder that does not exist is a typed error before any work.
    for (load, resume) in [(None, Some("no-such-runs")), (Some("no-such-runs"), None)] {
        let missing_runs = Options {
            out_dir: std::env::temp_dir().join("stable-resnets-no-runs-out"),
            device: DeviceSpec::new(Backend::Flex, Precision::F32),
            load: load.map(|d| std::env::temp_dir().join(d)),
            resume: resume.map(|d| std::env::temp_dir().join(d)),
            ..options.clone()
        };
        let err = run(&missing_runs).unwrap_err();
        assert!(
            matches!(err, stable_resnets::ExampleError::NoRunFolder { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("no such folder"), "{err}");
        assert!(!missing_runs.out_dir.exists());
    }
}
