//! The command line of an example binary as a user meets it, checked the same way for every
//! example: `--help` shows the usage with every option and exits 0; a bad flag or value exits 2
//! with clap's message; a shared flag the example does not support yet (`--load`, `--resume`)
//! exits 2 before any work is done.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The options every example shares (`sysdyn_core::cli::RunArgs`).
pub const SHARED_FLAGS: [&str; 8] = [
    "--out",
    "--quick",
    "--backend",
    "--precision",
    "--seed",
    "--quiet",
    "--load",
    "--resume",
];

/// A built example binary, from `env!("CARGO_BIN_EXE_<name>")` in the example's own tests.
pub struct ExampleBinary {
    exe: PathBuf,
    name: &'static str,
}

impl ExampleBinary {
    /// The binary at `exe`, whose usage line names it `name`.
    pub fn new(exe: &str, name: &'static str) -> Self {
        ExampleBinary {
            exe: PathBuf::from(exe),
            name,
        }
    }

    /// Runs the binary with `args`, without the device variables of the developer's
    /// environment (they are fallbacks of the flags and must not change what a test sees).
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.exe)
            .args(args)
            .env_remove("SYSDYN_BACKEND")
            .env_remove("SYSDYN_PRECISION")
            .output()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", self.exe.display()))
    }

    fn usage_line(&self) -> String {
        format!("Usage: {}", self.name)
    }

    /// `--help` exits 0 and lists the shared options and the example's `own_flags`.
    pub fn assert_help_lists(&self, own_flags: &[&str]) {
        let out = self.run(&["--help"]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(&self.usage_line()), "{text}");
        for flag in SHARED_FLAGS.iter().chain(own_flags) {
            assert!(text.contains(flag), "--help lacks {flag}:\n{text}");
        }
    }

    /// An unknown flag and an unknown backend exit 2 with clap's message and the usage.
    pub fn assert_bad_flags_exit_2(&self) {
        let out = self.run(&["--frobnicate"]);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(
            text.contains("unexpected argument '--frobnicate'"),
            "{text}"
        );
        assert!(text.contains(&self.usage_line()), "{text}");
        let out = self.run(&["--backend", "cuda"]);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(text.contains("unknown backend `cuda`"), "{text}");
    }

    /// `--load` and `--resume` exit 2 with a message saying the example does not support them
    /// yet, and the example writes nothing.
    pub fn assert_checkpoint_flags_refused(&self) {
        for flag in ["--load", "--resume"] {
            let out_dir = std::env::temp_dir().join(format!(
                "{}-cli-{}-{}",
                self.name,
                &flag[2..],
                std::process::id()
            ));
            let out_text = out_dir.display().to_string();
            let out = self.run(&[flag, "checkpoints", "--out", &out_text, "--quick"]);
            assert_eq!(out.status.code(), Some(2), "{flag}: {out:?}");
            let text = String::from_utf8_lossy(&out.stderr);
            assert!(
                text.contains(&format!("`{flag}` is not supported yet by this example")),
                "{text}"
            );
            assert!(!out_dir.exists(), "{flag}: the example started working");
        }
    }

    /// Training checkpoints reproduce the run: `args` (a quick training run) writes
    /// `A/summary.json` and its run directory `A/run`; `--load A/run` evaluates the saved model
    /// without training and `--resume A/run` continues the finished run (nothing left to train),
    /// and both write summaries whose values at the JSON `pointers` (e.g. `"/test_accuracy"`)
    /// equal the training run's bit for bit. A `--load` of a folder without checkpoints fails
    /// with a message naming it.
    pub fn assert_checkpoints_reproduce(&self, args: &[&str], pointers: &[&str]) {
        let base = std::env::temp_dir().join(format!("{}-ckpt-{}", self.name, std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let dir = |name: &str| base.join(name).display().to_string();
        let run_dir = base.join("trained").join("run").display().to_string();
        let summary = |name: &str| -> serde_json::Value {
            let path = base.join(name).join("summary.json");
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            serde_json::from_str(&text).unwrap()
        };
        let run_ok = |extra: &[&str]| {
            let all: Vec<&str> = args.iter().chain(extra).copied().collect();
            let out = self.run(&all);
            assert!(out.status.success(), "{all:?}: {out:?}");
        };
        run_ok(&["--out", &dir("trained")]);
        run_ok(&["--out", &dir("loaded"), "--load", &run_dir]);
        run_ok(&["--out", &dir("resumed"), "--resume", &run_dir]);
        let (trained, loaded, resumed) =
            (summary("trained"), summary("loaded"), summary("resumed"));
        for pointer in pointers {
            let value = trained
                .pointer(pointer)
                .unwrap_or_else(|| panic!("summary.json has no {pointer}: {trained}"));
            assert_eq!(
                loaded.pointer(pointer),
                Some(value),
                "--load changed {pointer}"
            );
            assert_eq!(
                resumed.pointer(pointer),
                Some(value),
                "--resume changed {pointer}"
            );
        }
        let (empty, bad) = (dir("empty"), dir("bad"));
        std::fs::create_dir_all(&empty).unwrap();
        let all: Vec<&str> = args
            .iter()
            .copied()
            .chain(["--out", &bad, "--load", &empty])
            .collect();
        let out = self.run(&all);
        assert!(!out.status.success(), "{out:?}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(text.contains("holds no checkpoint"), "{text}");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
