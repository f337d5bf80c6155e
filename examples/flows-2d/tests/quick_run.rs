//! The example end to end in quick mode: every family on every data set gives a finite test
//! NLL and a density whose integral over the quick run's 60 × 60 grid of `[−4, 4]²` is 1 up to
//! the midpoint rule's error on that grid (2e-2) and the mass a barely trained flow leaves
//! outside the square (up to 0.2), the reverse-KL fits report an ESS in (0, 1], the tabular part says it did not
//! run, and every figure is written.

use flows_2d::{Options, run};

#[test]
fn quick_run_scores_every_family_and_writes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = Options::from_args(&[
        "--quick".to_string(),
        "--quiet".to_string(),
        "--backend".to_string(),
        "flex".to_string(),
    ])
    .unwrap();
    options.out_dir = dir.path().join("flows");
    let summary = run(&options).unwrap();
    assert_eq!(summary.results.len(), 4 * 10);
    for r in &summary.results {
        assert!(r.nll_mean.is_finite(), "{} {}", r.data, r.family);
        assert!(
            r.grid_mass < 1.02 && r.grid_mass > 0.8,
            "{} {}: ∫q = {}",
            r.data,
            r.family,
            r.grid_mass
        );
    }
    for r in &summary.reverse_kl {
        assert!(
            r.ess > 0.0 && r.ess <= 1.0 + 1e-12,
            "{} {}",
            r.target,
            r.family
        );
        assert!(r.kl.is_finite() && r.log_z.is_finite());
    }
    assert!(summary.tabular.is_empty());
    assert!(summary.tabular_note.contains("--power"));
    let text = std::fs::read_to_string(dir.path().join("flows/summary.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["example"], "flows-2d");
    assert!(summary.figures.len() >= 5);
    for figure in &summary.figures {
        assert!(dir.path().join("flows").join(figure).exists(), "{figure}");
    }
}
