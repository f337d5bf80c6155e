//! The example end to end in quick mode: the numbers in `summary.json` are checked against the
//! mathematics (error levels of the methods, conservation of the invariant, agreement of the
//! batched tensor solve with the plain f64 path), and every figure is written.

use lotka_volterra::{Options, run};
use serde_json::Value;
use sysdyn_core::device::{Backend, DeviceSpec, Precision};

fn method<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["method"] == name)
        .unwrap_or_else(|| panic!("no method {name} in the summary"))
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn quick_run_writes_a_consistent_summary_and_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        out_dir: dir.path().join("lv"),
        quick: true,
        device: DeviceSpec::new(Backend::Flex, Precision::F64),
        quiet: true,
    };
    let returned = run(&options).unwrap();
    let text = std::fs::read_to_string(dir.path().join("lv/summary.json")).unwrap();
    let s: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(s["example"], "lotka-volterra");
    assert_eq!(s["quick"], true);
    assert_eq!(s["backend"], "flex");
    assert_eq!(s["precision"], "f64");

    // The DOP853 reference reproduces the published final state.
    assert!(num(&s["reference"]["error_vs_published"]) < 1e-10);

    // Adaptive methods at rtol = atol = 1e-8 land within a small multiple of the tolerance (the
    // third-order Bogacki–Shampine pair a little further out).
    for (name, bound) in [
        ("dopri5", 1e-6),
        ("tsit5", 1e-6),
        ("dop853", 1e-6),
        ("bosh3", 1e-5),
    ] {
        let m = method(&s, name);
        let err = num(&m["final_error"]);
        assert!(err < bound, "{name}: final error {err}");
        assert!(num(&m["trajectory_error"]) < 10.0 * bound, "{name}");
        assert!(num(&m["invariant_drift"]) < bound, "{name}");
        assert!(num(&m["nfe"]) > 0.0 && num(&m["accepted"]) > 0.0);
        assert_eq!(m["step"]["kind"], "adaptive");
    }
    // The statistics that the workload W1 documents for Dopri5 (NFE 1832) within a few percent:
    // the same algorithm, so the same step sequence up to round-off.
    let dopri5_nfe = num(&method(&s, "dopri5")["nfe"]);
    assert!((dopri5_nfe - 1832.0).abs() <= 0.05 * 1832.0, "{dopri5_nfe}");
    // Higher order needs fewer evaluations at the same tolerance.
    assert!(num(&method(&s, "dop853")["nfe"]) < dopri5_nfe);
    assert!(num(&method(&s, "bosh3")["nfe"]) > dopri5_nfe);

    // Fixed steps h = 0.01: Euler (order 1) visibly drifts, RK4 (order 4) does not; the
    // second-order methods sit in between.
    let euler = method(&s, "euler");
    let rk4 = method(&s, "rk4");
    let heun = method(&s, "heun");
    assert!(num(&euler["invariant_drift"]) > 1e-2);
    assert!(num(&rk4["invariant_drift"]) < 1e-6);
    let heun_drift = num(&heun["invariant_drift"]);
    assert!(
        heun_drift < num(&euler["invariant_drift"]) && heun_drift > num(&rk4["invariant_drift"])
    );
    // 1500 steps of one stage each (the first reuses the initial derivative).
    assert_eq!(num(&euler["nfe"]), 1500.0);
    assert_eq!(num(&rk4["nfe"]), 4.0 * 1500.0);
    assert!(num(&rk4["final_error"]) < 1e-6);

    // Work–precision: tightening the tolerance from 1e-3 to 1e-12 lowers each adaptive method's
    // error by many orders of magnitude and costs more evaluations.
    let curves = s["work_precision"].as_array().unwrap();
    assert_eq!(curves.len(), 5);
    for curve in curves.iter().filter(|c| c["method"] != "rk4 (fixed step)") {
        let points = curve["points"].as_array().unwrap();
        let (first, last) = (&points[0], &points[points.len() - 1]);
        assert!(
            num(&last["error"]) < 1e-5 * num(&first["error"]),
            "{}",
            curve["method"]
        );
        assert!(num(&last["nfe"]) > num(&first["nfe"]));
    }
    // RK4 with h = 0.1 and h = 0.01: error ratio about 10⁴ (fourth order).
    let rk4_curve = curves
        .iter()
        .find(|c| c["method"] == "rk4 (fixed step)")
        .unwrap();
    let p = rk4_curve["points"].as_array().unwrap();
    let order = (num(&p[0]["error"]) / num(&p[1]["error"])).log10();
    assert!((order - 4.0).abs() < 0.3, "observed RK4 order {order}");

    // The batched tensor solve (f64 on flex) is as accurate as solving each orbit separately:
    // sharing one step size across the batch does not cost accuracy beyond a small factor.
    let b = &s["batched"];
    assert_eq!(num(&b["orbits"]), 4.0);
    let batched_err = num(&b["max_error_vs_reference"]);
    let plain_err = num(&b["plain_max_error_vs_reference"]);
    assert!(plain_err < 1e-4, "{plain_err}");
    assert!(
        batched_err < 3.0 * plain_err,
        "batched {batched_err} vs plain {plain_err}"
    );
    assert!(num(&b["max_deviation_vs_f64"]) <= batched_err + plain_err + 1e-15);

    // Every figure in both formats, listed in the summary; key numbers for the tour.
    let figures: Vec<&str> = s["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for stem in ["phase_portrait", "time_series", "error_vs_nfe"] {
        for ext in ["svg", "png"] {
            let name = format!("{stem}.{ext}");
            assert!(figures.contains(&name.as_str()), "{name} not listed");
            let bytes = std::fs::read(dir.path().join("lv").join(&name)).unwrap();
            assert!(bytes.len() > 1000, "{name} is {} bytes", bytes.len());
            if ext == "png" {
                assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
            }
        }
    }
    assert_eq!(num(&s["figure_points_skipped"]), 0.0);
    assert!(s["key_numbers"].as_array().unwrap().len() >= 5);
    assert_eq!(returned.methods.len(), 9);
}

#[test]
fn bad_arguments_are_typed_errors() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // Bad command lines are clap's usage errors (exit status 2), naming what is wrong.
    let err = Options::from_args(&args(&["--backend", "cuda"])).unwrap_err();
    assert!(err.to_string().contains("unknown backend `cuda`"), "{err}");
    assert_eq!(err.exit_code(), 2);
    let err = Options::from_args(&args(&["--frobnicate"])).unwrap_err();
    assert!(
        err.to_string()
            .contains("unexpected argument '--frobnicate'"),
        "{err}"
    );
    let err = Options::from_args(&args(&["--out"])).unwrap_err();
    assert!(err.to_string().contains("'--out <DIR>'"), "{err}");
    // The example is deterministic and trains nothing: `--seed`, `--load` and `--resume` are
    // refused, not ignored.
    for (flag, why) in [
        ("--seed=3", "no randomness"),
        ("--load=ckpt", "not supported yet by this example"),
        ("--resume=ckpt", "not supported yet by this example"),
    ] {
        let err = Options::from_args(&args(&[flag])).unwrap_err();
        assert!(err.to_string().contains(why), "{err}");
        assert_eq!(err.exit_code(), 2);
    }
    // f64 on wgpu is refused on the command line, before any work.
    let err = Options::from_args(&args(&["--backend=wgpu", "--precision=f64"])).unwrap_err();
    assert!(
        err.to_string().contains("f64 is not supported on `wgpu`"),
        "{err}"
    );
    let o =
        Options::from_args(&args(&["--quick", "--out=somewhere", "--precision", "f64"])).unwrap();
    assert!(o.quick);
    assert_eq!(o.out_dir, std::path::Path::new("somewhere"));
    assert_eq!(o.device.precision, Precision::F64);
    assert!(!o.quiet);
    assert!(Options::from_args(&args(&["-q"])).unwrap().quiet);
    // A library caller's f64 on wgpu is refused by the device policy before any work.
    let options = Options {
        out_dir: std::env::temp_dir().join("lv-never-written"),
        quick: true,
        device: DeviceSpec::new(Backend::Wgpu, Precision::F64),
        quiet: true,
    };
    let err = run(&options).unwrap_err();
    assert!(
        err.to_string().contains("f64 is not supported on `wgpu`"),
        "{err}"
    );
    assert!(!options.out_dir.exists());
}
