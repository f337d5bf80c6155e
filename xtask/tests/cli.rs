//! `cargo xtask` as a user meets it, through the built binary: `--help` everywhere, clap's usage
//! error (exit status 2) for a bad command line, and a bench that fails (exit status 1) when a
//! workload cannot run, here because its fixtures are missing.

use std::path::PathBuf;
use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        // The override of the fixtures' folder must come from the arguments alone.
        .env_remove("SYSDYN_SHARED")
        .output()
        .expect("the xtask binary starts")
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-cli-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn help_is_shown_for_xtask_and_each_command() {
    for (args, flags) in [
        (&["--help"][..], &["bench", "tour"][..]),
        (
            &["bench", "--help"],
            &[
                "--quick",
                "--workload",
                "--backends",
                "--impl",
                "--out",
                "--shared",
            ],
        ),
        (
            &["tour", "--help"],
            &["--quick", "--profile", "--backend", "--only", "--out"],
        ),
    ] {
        let out = xtask(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage: cargo xtask"), "{args:?}:\n{text}");
        for flag in flags {
            assert!(text.contains(flag), "{args:?} lacks {flag}:\n{text}");
        }
    }
}

#[test]
fn a_bad_command_line_exits_2_with_clap_message() {
    for (args, says) in [
        (&[][..], "Usage: cargo xtask"),
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (
            &["bench", "--frobnicate"],
            "unexpected argument '--frobnicate'",
        ),
        (&["bench", "--workload", "W9"], "unknown workload `W9`"),
        (&["tour", "--backend", "cuda"], "unknown backend `cuda`"),
        (&["tour", "--profile"], "'--profile <NAME>'"),
    ] {
        let out = xtask(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(text.contains(says), "{args:?}:\n{text}");
    }
}

#[test]
fn the_bench_exits_non_zero_when_a_workload_fails() {
    // A shared folder whose bench/fixtures is empty: W2 cannot load node.npz.
    let dir = scratch("empty-fixtures");
    std::fs::create_dir_all(dir.join("shared/bench/fixtures")).unwrap();
    let shared = dir.join("shared").display().to_string();
    let results = dir.join("results");
    let out_dir = results.display().to_string();
    let out = xtask(&[
        "bench",
        "--quick",
        "--workload",
        "W2",
        "--backends",
        "flex",
        "--shared",
        &shared,
        "--out",
        &out_dir,
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("FAILED"), "{stdout}");
    assert!(
        stderr.contains("failed") && stderr.contains("node.npz"),
        "{stderr}"
    );
    // The results are still written, failures noted, before the non-zero exit.
    let report = std::fs::read_to_string(results.join("bench.md")).unwrap();
    assert!(report.contains("FAILED"), "{report}");
    std::fs::remove_dir_all(&dir).unwrap();
}
