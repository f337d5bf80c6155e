//! Solver statistics (accepted and rejected steps, vector-field evaluations) of the reference
//! problems, frozen in `tests/snapshots/stats.json`: a change in step control, error estimation,
//! initial-step selection or evaluation reuse changes these numbers and fails this test.
//!
//! After an intended change, regenerate the file with `SYSDYN_UPDATE_SNAPSHOTS=1 cargo test -p
//! sysdyn-solvers --test snapshots` and review the diff. A missing file is written on the first
//! run (and is an error under CI, where the file must be committed).
//!
//! Before comparing, the counts are checked against how they must relate for each kind of method
//! (e.g. `nfe = 2 + (s - 1) × attempts` for first-same-as-last methods), so a frozen number is a
//! plausible one. For reference, scipy's `solve_ivp` (same controller and initial step) reports on
//! W1 at rtol = atol = 1e-8: RK45 284 steps / 1832 evaluations, DOP853 87 / 1442, RK23 4076 /
//! 12230, the numbers frozen here for Dopri5, DOP853 and Bosh3.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};
use sysdyn_solvers::methods::{BOSH3, DOP853, DOPRI5, HEUN, RK4, TSIT5};
use sysdyn_solvers::{ButcherTableau, SolveConfig, Stats, solve};
use sysdyn_testing::problems::{ExponentialDecay, HarmonicOscillator, LotkaVolterra};

const UPDATE_ENV: &str = "SYSDYN_UPDATE_SNAPSHOTS";

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/stats.json")
}

/// How the evaluation count of a solve must relate to its step counts.
enum Counting {
    /// First same as last, adaptive: one evaluation at t0, one for the initial step size, then
    /// `s - 1` per attempted step.
    FsalAdaptive,
    /// Not FSAL, adaptive: as above with `s - 1` per attempt, plus `f(t, y)` after every accepted
    /// step but the last.
    PlainAdaptive,
    /// Fixed steps: the first step reuses f(t0, y0), every later one costs `s`.
    Fixed,
}

fn expected_nfe(method: &ButcherTableau, counting: Counting, stats: &Stats) -> usize {
    let s = method.stages();
    match counting {
        Counting::FsalAdaptive => 2 + (s - 1) * stats.steps(),
        Counting::PlainAdaptive => 2 + (s - 1) * stats.steps() + stats.accepted - 1,
        Counting::Fixed => s * stats.accepted,
    }
}

/// Runs every case: its name, its statistics, and the evaluation count they imply.
fn cases() -> Vec<(String, Stats, usize)> {
    let mut out = Vec::new();
    let lv = LotkaVolterra::W1;
    let mut record = |name: String, method: &ButcherTableau, counting: Counting, stats: Stats| {
        let expected = expected_nfe(method, counting, &stats);
        out.push((name, stats, expected));
    };

    for method in [&DOPRI5, &TSIT5, &DOP853, &BOSH3] {
        for tol in [1e-8, 1e-6] {
            let stats = solve(
                &mut |_t, y: &[f64; 2]| lv.field(y),
                method,
                LotkaVolterra::W1_SPAN,
                LotkaVolterra::W1_Y0,
                &SolveConfig::adaptive(tol, tol),
            )
            .unwrap()
            .stats;
            let name = format!("w1 lotka-volterra, {}, rtol=atol={tol:e}", method.name);
            record(name, method, Counting::FsalAdaptive, stats);
        }
    }

    let oscillator = HarmonicOscillator { omega: 1.0 };
    for method in [&DOPRI5, &TSIT5, &DOP853] {
        let stats = solve(
            &mut |_t, y: &[f64; 2]| oscillator.field(y),
            method,
            (0.0, 20.0),
            [1.0, 0.0],
            &SolveConfig::adaptive(1e-8, 1e-10),
        )
        .unwrap()
        .stats;
        let name = format!(
            "harmonic oscillator t=0..20, {}, rtol=1e-8 atol=1e-10",
            method.name
        );
        record(name, method, Counting::FsalAdaptive, stats);
    }

    let decay = ExponentialDecay { lambda: -1.0 };
    for method in [&DOPRI5, &BOSH3] {
        let stats = solve(
            &mut |_t, y: &[f64; 1]| decay.field(y),
            method,
            (0.0, 10.0),
            [1.0],
            &SolveConfig::adaptive(1e-6, 1e-9),
        )
        .unwrap()
        .stats;
        let name = format!("decay t=0..10, {}, rtol=1e-6 atol=1e-9", method.name);
        record(name, method, Counting::FsalAdaptive, stats);
    }
    let stats = solve(
        &mut |_t, y: &[f64; 1]| decay.field(y),
        &HEUN,
        (0.0, 10.0),
        [1.0],
        &SolveConfig::adaptive(1e-6, 1e-9),
    )
    .unwrap()
    .stats;
    record(
        "decay t=0..10, heun, rtol=1e-6 atol=1e-9".into(),
        &HEUN,
        Counting::PlainAdaptive,
        stats,
    );

    let stats = solve(
        &mut |_t, y: &[f64; 2]| lv.field(y),
        &RK4,
        LotkaVolterra::W1_SPAN,
        LotkaVolterra::W1_Y0,
        &SolveConfig::fixed(0.01),
    )
    .unwrap()
    .stats;
    record(
        "w1 lotka-volterra, rk4, fixed dt=0.01".into(),
        &RK4,
        Counting::Fixed,
        stats,
    );
    out
}

fn to_json(stats: &Stats) -> Value {
    json!({ "accepted": stats.accepted, "rejected": stats.rejected, "nfe": stats.nfe })
}

#[test]
fn solver_statistics_match_the_snapshot() {
    let cases = cases();
    for (name, stats, expected_nfe) in &cases {
        assert_eq!(
            stats.nfe, *expected_nfe,
            "{name}: {stats:?} does not add up to the evaluations its method needs"
        );
    }
    let current: BTreeMap<String, Value> = cases
        .iter()
        .map(|(name, stats, _)| (name.clone(), to_json(stats)))
        .collect();

    let path = snapshot_path();
    let update = std::env::var(UPDATE_ENV).is_ok_and(|v| v == "1");
    if update || !path.exists() {
        assert!(
            update || std::env::var_os("CI").is_none(),
            "{} is missing; generate it with {UPDATE_ENV}=1 and commit it",
            path.display()
        );
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = serde_json::to_string_pretty(&current).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
        println!("wrote {}", path.display());
        return;
    }

    let text = std::fs::read_to_string(&path).unwrap();
    let stored: BTreeMap<String, Value> = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not a valid snapshot: {e}", path.display()));
    let mut differences = Vec::new();
    for (name, now) in &current {
        match stored.get(name) {
            None => differences.push(format!("new case {name}: {now}")),
            Some(before) if before != now => {
                differences.push(format!("{name}: snapshot {before}, now {now}"))
            }
            Some(_) => {}
        }
    }
    for name in stored.keys().filter(|name| !current.contains_key(*name)) {
        differences.push(format!("case {name} is in the snapshot but no longer run"));
    }
    assert!(
        differences.is_empty(),
        "solver statistics changed (if intended, rerun with {UPDATE_ENV}=1 and review the \
         diff):\n{}",
        differences.join("\n")
    );
}
