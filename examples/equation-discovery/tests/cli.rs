//! The built binary as a user meets it: `--help`, bad flags, refused checkpoint flags, and a
//! `--quick` run whose summary holds the identified equations and their errors.

use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(
        env!("CARGO_BIN_EXE_equation-discovery"),
        "equation-discovery",
    )
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&["--pdenet-steps"]);
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    binary().assert_bad_flags_exit_2();
}

#[test]
fn checkpoint_flags_are_refused() {
    binary().assert_checkpoint_flags_refused();
}

#[test]
fn a_quick_run_identifies_every_system() {
    let out = std::env::temp_dir().join(format!("equation-discovery-quick-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = binary().run(&[
        "--quick",
        "--quiet",
        "--backend",
        "flex",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = summary["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let clean = &case["clean"];
        // Clean data: exactly the true terms, each within 1 % (the bar).
        assert_eq!(clean["pattern_correct"], true, "{case}");
        assert!(
            clean["max_relative_error"].as_f64().unwrap() < 0.01,
            "{case}"
        );
        assert_eq!(case["noisy"].as_array().unwrap().len(), 3);
    }
    let burgers = cases.iter().find(|c| c["system"] == "Burgers").unwrap();
    assert!(burgers["noisy_mean_error"][0].as_f64().unwrap() < 0.05);
    for figure in summary["figures"].as_array().unwrap() {
        assert!(out.join(figure.as_str().unwrap()).is_file(), "{figure}");
    }
    let _ = std::fs::remove_dir_all(&out);
}
