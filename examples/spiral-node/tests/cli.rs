//! The built binary's command line, as a user meets it: `--help` shows the usage with every
//! option and exits 0; a bad flag, or a shared flag this example does not support yet, exits 2
//! with clap's message before any work is done.

use std::path::PathBuf;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spiral-node"))
        .args(args)
        // The device variables are fallbacks of the flags; a developer's setting must not change
        // what these tests see.
        .env_remove("SYSDYN_BACKEND")
        .env_remove("SYSDYN_PRECISION")
        .output()
        .expect("the example binary starts")
}

fn scratch(test: &str) -> PathBuf {
    std::env::temp_dir().join(format!("spiral-node-cli-{test}-{}", std::process::id()))
}

#[test]
fn help_shows_the_usage_and_every_option() {
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Usage: spiral-node"), "{text}");
    for flag in [
        "--out",
        "--quick",
        "--backend",
        "--precision",
        "--seed",
        "--quiet",
        "--load",
        "--resume",
        "--iterations",
        "--sensitivity",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}:\n{text}");
    }
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    let out = run(&["--frobnicate"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("unexpected argument '--frobnicate'"),
        "{text}"
    );
    assert!(text.contains("Usage: spiral-node"), "{text}");
    let out = run(&["--backend", "cuda"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown backend `cuda`"));
}

#[test]
fn unsupported_checkpoint_flags_exit_2_before_any_work() {
    for flag in ["--load", "--resume"] {
        let out_dir = scratch(&flag[2..]);
        let out_text = out_dir.display().to_string();
        let out = run(&[flag, "checkpoints", "--out", &out_text, "--quick"]);
        assert_eq!(out.status.code(), Some(2), "{flag}: {out:?}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(
            text.contains(&format!("`{flag}` is not supported yet by this example")),
            "{text}"
        );
        assert!(!out_dir.exists(), "{flag}: the example started working");
    }
}

#[test]
fn seed_replaces_the_default_seed() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let default = spiral_node::Options::from_args(&[]).unwrap();
    assert_eq!(default.seed, 2018);
    assert_eq!(spiral_node::PROGRAM.default_seed, Some(2018));
    let seeded = spiral_node::Options::from_args(&args(&["--seed", "99"])).unwrap();
    assert_eq!(seeded.seed, 99);
    let err = spiral_node::Options::from_args(&args(&["--seed", "minus-one"])).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}
