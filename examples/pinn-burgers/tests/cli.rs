//! The built binary as a user meets it (`--help`, bad flags, refused checkpoint flags), the
//! options, and the quick run end to end: every problem runs, the summary's numbers are finite,
//! the inverse run moves `λ₁` up from its start at 0, and every figure is written. (The
//! accuracy targets need the default run's budget; the library tests check the methods.)

use serde_json::Value;
use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_pinn-burgers"), "pinn-burgers")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&["--full", "--adam", "--lbfgs", "--collocation", "--seeds"]);
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    binary().assert_bad_flags_exit_2();
    let out = binary().run(&["wave"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = binary().run(&["--quick", "--full"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn unsupported_checkpoint_flags_exit_2_before_any_work() {
    binary().assert_checkpoint_flags_refused();
}

#[test]
fn options_pick_problems_budgets_and_precision() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let all = pinn_burgers::Options::from_args(&args(&["--backend", "flex"])).unwrap();
    assert_eq!(all.problems, pinn_burgers::Problem::ALL.to_vec());
    assert_eq!(all.collocation(), 2000);
    assert_eq!(all.device.precision.to_string(), "f64");
    assert_eq!(all.burgers_budget(false).lbfgs, 5000);
    assert_eq!(all.burgers_budget(true).lbfgs, 8000);
    let quick = pinn_burgers::Options::from_args(&args(&["--quick", "--backend", "flex"])).unwrap();
    assert_eq!(quick.device.precision.to_string(), "f32");
    let full = pinn_burgers::Options::from_args(&args(&[
        "--full",
        "--backend",
        "flex",
        "inverse",
        "forward",
    ]))
    .unwrap();
    assert_eq!(
        full.problems,
        vec![
            pinn_burgers::Problem::Forward,
            pinn_burgers::Problem::Inverse
        ]
    );
    assert_eq!(full.collocation(), 10_000);
    assert_eq!(full.burgers_budget(false).lbfgs, 50_000);
    assert_eq!(full.device.precision.to_string(), "f64");
}

#[test]
fn scaled_time_maps_the_interval_onto_minus_one_one_with_its_chain_rule_factor() {
    use pinn_burgers::problems::TimeInput;
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let raw = pinn_burgers::Options::from_args(&args(&["--backend", "flex"])).unwrap();
    assert_eq!(raw.time, TimeInput::Raw);
    let scaled =
        pinn_burgers::Options::from_args(&args(&["--scaled-time", "--backend", "flex"])).unwrap();
    assert_eq!(scaled.time, TimeInput::Scaled);
    for time in [TimeInput::Raw, TimeInput::Scaled] {
        // dτ/dt, which multiplies u_τ in the residual, is the map's slope.
        let h = 0.125;
        assert_eq!(
            (time.of(0.5 + h) - time.of(0.5 - h)) / (2.0 * h),
            time.rate()
        );
    }
    assert_eq!(
        (TimeInput::Scaled.of(0.0), TimeInput::Scaled.of(1.0)),
        (-1.0, 1.0)
    );
    // The evaluation grid in the network's coordinates: x untouched, t mapped.
    let grid = pinn_burgers::problems::BurgersGrid {
        xs: vec![-1.0, 1.0],
        ts: vec![0.0, 0.25],
        u: vec![0.0; 4],
    };
    let points = grid.points_in(TimeInput::Scaled).unwrap();
    assert_eq!(
        points.values(),
        &[-1.0, -1.0, 1.0, -1.0, -1.0, -0.5, 1.0, -0.5]
    );
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn the_quick_run_writes_a_consistent_summary_and_every_figure() {
    let dir = std::env::temp_dir().join(format!("pinn-burgers-quick-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out_text = dir.display().to_string();
    let out = binary().run(&[
        "--quick",
        "--quiet",
        "--backend",
        "flex",
        "--out",
        &out_text,
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["example"], "pinn-burgers");
    assert_eq!(s["quick"], true);
    assert_eq!(s["forward"].as_array().unwrap().len(), 1);
    assert_eq!(s["inverse"].as_array().unwrap().len(), 2);
    for name in ["heat", "poisson", "lagaris"] {
        assert_eq!(s[name].as_array().unwrap().len(), 1, "{name}");
        let e = num(&s[name][0]["error"]);
        assert!(e.is_finite() && e < 1.0, "{name}: {e}");
    }
    let forward = num(&s["forward"][0]["relative_l2"]);
    assert!(forward.is_finite() && forward < 2.0, "{forward}");
    // λ₁ starts at 0: a few Adam and L-BFGS steps on the clean data move it up.
    let lambda1 = num(&s["inverse"][0]["lambdas"][0]);
    assert!(lambda1 > 0.0, "{lambda1}");
    for k in s["key_numbers"].as_array().unwrap() {
        assert!(num(&k["value"]).is_finite(), "{k}");
    }
    let figures = s["figures"].as_array().unwrap();
    assert!(figures.len() >= 8, "{figures:?}");
    for f in figures {
        let path = dir.join(f.as_str().unwrap());
        assert!(path.exists(), "{}", path.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
