//! The example end to end in quick mode: the numbers in `summary.json` are checked against the
//! mathematics (rates against theory, the game's growth factor, convergence of extragradient,
//! the flow limit's slope, agreement of the module game with the f64 game, training progress),
//! and every figure is written.

use optim_dynamics::{Options, run};
use serde_json::Value;
use sysdyn_core::device::{Backend, DeviceSpec, Precision};

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn quick_run_writes_a_consistent_summary_and_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("optim");
    let options = Options {
        out_dir: out.clone(),
        quick: true,
        device: DeviceSpec::new(Backend::Flex, Precision::F64),
        seed: optim_dynamics::PROGRAM.default_seed.unwrap_or(0),
        quiet: true,
        load: None,
        resume: None,
    };
    let returned = run(&options).unwrap();
    let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let s: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(s["example"], "optim-dynamics");
    assert_eq!(s["quick"], true);
    assert_eq!(s["backend"], "flex");
    assert_eq!(s["precision"], "f64");

    // Rates within 5% of (κ-1)/(κ+1) and (√κ-1)/(√κ+1).
    let rates = s["rates"].as_array().unwrap();
    assert!(!rates.is_empty());
    for r in rates {
        assert!(num(&r["gd_relative_error"]) < 0.05, "{r}");
        assert!(num(&r["heavy_ball_relative_error"]) < 0.05, "{r}");
        assert!(num(&r["heavy_ball_measured"]) < num(&r["gd_measured"]));
    }

    // Momentum beats gradient descent on both problems.
    for p in s["momentum"].as_array().unwrap() {
        let d = p["final_distance"].as_array().unwrap();
        let gd = num(&d[0][1]);
        assert!(num(&d[1][1]) < gd && num(&d[2][1]) < gd, "{p}");
    }

    // The game: exact growth, bounded alternation, converging extragradient.
    let g = &s["game"];
    let eta = num(&g["eta"]);
    assert!((num(&g["simultaneous_growth_theory"]) - (1.0 + eta * eta).sqrt()).abs() < 1e-15);
    assert!(num(&g["simultaneous_growth_max_error"]) < 1e-12);
    assert!(
        (num(&g["simultaneous_growth_eigen"]) - num(&g["simultaneous_growth_theory"])).abs()
            < 1e-12
    );
    let eig = g["jacobian_eigenvalues"].as_array().unwrap();
    assert_eq!(eig.len(), 2);
    assert!(num(&eig[0][0]).abs() < 1e-15 && (num(&eig[0][1]) - 1.0).abs() < 1e-15);
    let d0 = (1.25f64).sqrt();
    assert!(num(&g["alternating_max_distance"]) < 1.2 * d0);
    assert!(num(&g["alternating_min_distance"]) > 0.8 * d0);
    assert!(num(&g["extragradient_final_distance"]) < 1e-6);
    assert!(
        (num(&g["extragradient_rate_measured"]) - num(&g["extragradient_rate_theory"])).abs()
            < 1e-9
    );
    assert!(num(&g["optimistic_final_distance"]) < 1e-6);
    assert!(num(&g["modules_vs_plain_max_difference"]) < 1e-12);

    // Flow limits: gaps shrink linearly in η (GD) and in √η (heavy-ball).
    let f = &s["flow"];
    assert!((num(&f["slope"]) - 1.0).abs() < 0.15, "{f}");
    assert!((num(&f["heavy_ball_slope"]) - 1.0).abs() < 0.15, "{f}");

    // Training: every optimizer at least halves the loss in the quick run.
    let t = s["training"].as_array().unwrap();
    assert_eq!(t.len(), 5);
    for r in t {
        assert!(num(&r["final_loss"]) < 0.5 * num(&r["initial_loss"]), "{r}");
    }

    // Every figure, in both formats, non-empty.
    for stem in [
        "momentum_error",
        "momentum_contour",
        "bilinear_game",
        "flow_vs_gd",
        "training_loss",
    ] {
        for ext in ["svg", "png"] {
            let path = out.join(format!("{stem}.{ext}"));
            let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            assert!(len > 1000, "{} missing or empty", path.display());
        }
    }
    assert_eq!(returned.figures.len(), 10);
}

#[test]
fn bad_arguments_are_reported() {
    let err = Options::from_args(&["--frobnicate".to_string()]).unwrap_err();
    assert!(err.to_string().contains("unexpected argument"), "{err}");
    assert_eq!(err.exit_code(), 2);
    // f64 on wgpu is refused by the device policy while parsing, before any work.
    let err = Options::from_args(&[
        "--backend".into(),
        "wgpu".into(),
        "--precision".into(),
        "f64".into(),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("f64"), "{err}");
    let o = Options::from_args(&["--load".into(), "ckpt".into()]).unwrap();
    assert_eq!(o.load.as_deref(), Some(std::path::Path::new("ckpt")));
    let o = Options::from_args(&["--resume".into(), "out/run".into()]).unwrap();
    assert_eq!(o.resume.as_deref(), Some(std::path::Path::new("out/run")));
    let o = Options::from_args(&["--quick".into(), "--out=x/y".into()]).unwrap();
    assert!(o.quick && o.out_dir.ends_with("x/y"));
    assert_eq!(o.seed, 5);
    let o = Options::from_args(&["--seed".into(), "11".into()]).unwrap();
    assert_eq!(o.seed, 11);
}
