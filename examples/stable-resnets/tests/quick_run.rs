//! The example end to end in quick mode: the stability networks behave as the signs of their
//! spectra say, the trained classifiers separate the ellipses, and every figure is written.

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

    // Each architecture learns to separate the inner ellipse from the ring.
    let results = s["classification"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for r in results {
        let name = r["architecture"].as_str().unwrap();
        assert!(
            num(&r["final_loss"]) < 0.3 * num(&r["initial_loss"]),
            "{name}: {r}"
        );
        assert!(num(&r["train_accuracy"]) > 0.95, "{name}: {r}");
        assert!(num(&r["validation_accuracy"]) > 0.95, "{name}: {r}");
    }

    // Multi-level: the prolonged network has twice the layers and, trained further, classifies.
    let ml = &s["multilevel"];
    assert_eq!(num(&ml["fine_layers"]), 2.0 * num(&ml["coarse_layers"]));
    assert!(num(&ml["max_logit_change"]).is_finite());
    assert!(num(&ml["fine_validation_accuracy"]) > 0.95, "{ml}");

    let figures: Vec<&str> = s["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for stem in [
        "stability_trajectories",
        "spread_vs_depth",
        "decision_boundaries",
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
}

#[test]
fn bad_arguments_are_typed_errors() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let err = Options::from_args(&args(&["--backend", "cuda"])).unwrap_err();
    assert!(err.to_string().contains("unknown backend `cuda`"), "{err}");
    let err = Options::from_args(&args(&["--frobnicate"])).unwrap_err();
    assert!(err.to_string().contains("unknown argument `--frobnicate`"));
    let err = Options::from_args(&args(&["--out"])).unwrap_err();
    assert!(err.to_string().contains("--out needs a folder"));
    let o = Options::from_args(&args(&["--quick", "--out=somewhere"])).unwrap();
    assert!(o.quick);
    assert_eq!(o.out_dir, std::path::Path::new("somewhere"));
    let options = Options {
        out_dir: std::env::temp_dir().join("stable-resnets-never-written"),
        quick: true,
        device: DeviceSpec::new(Backend::Wgpu, Precision::F64),
    };
    assert!(run(&options).is_err());
    assert!(!options.out_dir.exists());
}
