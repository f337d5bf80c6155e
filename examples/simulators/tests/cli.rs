//! The built binary as a user meets it: `--help`, bad flags, refused checkpoint flags, and a
//! `--quick` run whose every check holds and whose figures exist.

use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_simulators"), "simulators")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&[]);
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
fn a_quick_run_passes_every_check() {
    let out = std::env::temp_dir().join(format!("simulators-quick-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = binary().run(&["--quick", "--quiet", "--out", out.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entries = summary["simulators"].as_array().unwrap();
    assert_eq!(entries.len(), 10);
    for e in entries {
        assert_eq!(e["check_passed"], true, "{e}");
        assert!(e["generate_s"].as_f64().unwrap() >= 0.0);
    }
    for figure in summary["figures"].as_array().unwrap() {
        assert!(out.join(figure.as_str().unwrap()).is_file(), "{figure}");
    }
    let _ = std::fs::remove_dir_all(&out);
}
