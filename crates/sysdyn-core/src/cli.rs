//! Command-line options shared by programs built on sysdyn (every example and `cargo xtask`),
//! defined once with [clap]: the output folder, a reduced `--quick` run, the device flags of
//! [`DeviceSpec`] (`--backend`, `--precision`, with the `SYSDYN_BACKEND` / `SYSDYN_PRECISION`
//! environment variables as fallbacks), `--seed`, `--quiet`, and `--load` / `--resume` for
//! training checkpoints. A program flattens [`RunArgs`] into its own `clap::Parser` next to its
//! own flags, then [`RunArgs::resolve`]s them against its [`Program`] defaults.
//!
//! ```
//! use clap::Parser;
//! use sysdyn_core::cli::{Program, RunArgs, parse_from};
//!
//! /// A demo program.
//! #[derive(Parser)]
//! #[command(name = "demo")]
//! struct Cli {
//!     #[command(flatten)]
//!     run: RunArgs,
//!     /// Optimizer steps
//!     #[arg(long, value_name = "N")]
//!     iterations: Option<usize>,
//! }
//!
//! const DEMO: Program = Program {
//!     default_out: "out/demo",
//!     default_seed: Some(2018),
//!     checkpoints: false,
//! };
//!
//! let cli: Cli = parse_from(&["--quick", "--iterations=50", "--out", "figs"]).unwrap();
//! let run = cli.run.resolve(&DEMO).map_err(|e| e.into_clap::<Cli>()).unwrap();
//! assert!(run.quick);
//! assert_eq!(run.seed, 2018);
//! assert_eq!(cli.iterations, Some(50));
//! assert_eq!(run.out_dir, std::path::PathBuf::from("figs"));
//!
//! // A flag the program does not know is clap's usage error (exit status 2 in `main`).
//! let err = parse_from::<Cli>(&["--frobnicate"]).err().unwrap();
//! assert_eq!(err.exit_code(), 2);
//! ```

use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser};
use thiserror::Error;

use crate::device::{Backend, DeviceSpec, ENV_BACKEND, ENV_PRECISION, Precision};
use crate::error::CoreError;

/// The options every sysdyn program takes, for `#[command(flatten)]` into its parser.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
#[command(next_help_heading = "Common options")]
pub struct RunArgs {
    /// Folder for the figures and summary.json [default: out/PROGRAM, PROGRAM being the example]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Reduced run (CI smoke run): fewer steps and samples; every file is still written
    #[arg(long)]
    pub quick: bool,

    /// Backend: ndarray, flex or wgpu [default: flex, else the first compiled in]
    #[arg(long, value_name = "NAME", env = ENV_BACKEND, value_parser = parse_backend)]
    pub backend: Option<Backend>,

    /// Float precision of the tensors: f32 or f64 (f64 on CPU backends only) [default: f32]
    #[arg(long, value_name = "P", env = ENV_PRECISION, value_parser = parse_precision)]
    pub precision: Option<Precision>,

    /// Seed of everything random (data, initial weights, noise) [default: the program's own, in
    /// its README]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Print only errors: no progress lines, no closing summary line
    #[arg(long, short)]
    pub quiet: bool,

    /// Start training from the model saved in checkpoint folder DIR
    #[arg(long, value_name = "DIR", conflicts_with = "resume")]
    pub load: Option<PathBuf>,

    /// Continue the interrupted training run whose checkpoints are in DIR
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
}

/// What a program puts behind the shared options: its defaults, and which of them it supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Program {
    /// Output folder without `--out`, e.g. `"out/lotka-volterra"`.
    pub default_out: &'static str,
    /// Seed without `--seed`; `None` for a program without randomness, which refuses `--seed`
    /// rather than ignore it.
    pub default_seed: Option<u64>,
    /// Whether the program can `--load` and `--resume` checkpoints; one that cannot refuses the
    /// flags rather than ignore them.
    pub checkpoints: bool,
}

/// The shared options resolved against a [`Program`]'s defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    /// Where figures and the summary go.
    pub out_dir: PathBuf,
    /// A reduced run.
    pub quick: bool,
    /// Backend and precision (flag, else environment, else the build's default); autodiff from
    /// `SYSDYN_AUTODIFF`, which a training program switches on itself.
    pub device: DeviceSpec,
    /// The seed (0 for a program without randomness).
    pub seed: u64,
    /// Print only errors.
    pub quiet: bool,
    /// `--load DIR`, for a program that supports checkpoints.
    pub load: Option<PathBuf>,
    /// `--resume DIR`, for a program that supports checkpoints.
    pub resume: Option<PathBuf>,
}

/// Why options that parsed were refused.
#[derive(Debug, Error)]
pub enum CliError {
    /// A device or precision that this build or the device policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// `--load` or `--resume` for a program whose training cannot use checkpoints yet.
    #[error(
        "`{flag}` is not supported yet by this example: its training cannot save or load \
         checkpoints yet; run without it"
    )]
    NotSupported {
        /// The flag, `"--load"` or `"--resume"`.
        flag: &'static str,
    },
    /// `--seed` for a program without randomness.
    #[error("`--seed` has no effect on this example: it uses no randomness; run without it")]
    NothingToSeed,
}

impl CliError {
    /// clap's usage error for program `P`: `error: …`, the usage line and a pointer to `--help`;
    /// `main` ends with exit status 2 through [`clap::Error::exit`], as for a bad flag.
    pub fn into_clap<P: CommandFactory>(self) -> clap::Error {
        let kind = match self {
            CliError::Device(_) => ErrorKind::ValueValidation,
            CliError::NotSupported { .. } | CliError::NothingToSeed => ErrorKind::ArgumentConflict,
        };
        P::command().error(kind, self)
    }
}

impl RunArgs {
    /// The options with `program`'s defaults filled in, refusing what the program or the device
    /// policy does not allow (`--load` where the program cannot load, f64 on `wgpu`) before any
    /// work starts.
    pub fn resolve(&self, program: &Program) -> Result<RunOptions, CliError> {
        if !program.checkpoints {
            if self.load.is_some() {
                return Err(CliError::NotSupported { flag: "--load" });
            }
            if self.resume.is_some() {
                return Err(CliError::NotSupported { flag: "--resume" });
            }
        }
        let seed = match (self.seed, program.default_seed) {
            (Some(seed), Some(_)) => seed,
            (None, Some(default)) => default,
            (None, None) => 0,
            (Some(_), None) => return Err(CliError::NothingToSeed),
        };
        Ok(RunOptions {
            out_dir: self
                .out
                .clone()
                .unwrap_or_else(|| PathBuf::from(program.default_out)),
            quick: self.quick,
            device: self.device()?,
            seed,
            quiet: self.quiet,
            load: self.load.clone(),
            resume: self.resume.clone(),
        })
    }

    /// Backend and precision from the flags (clap has already put the `SYSDYN_BACKEND` /
    /// `SYSDYN_PRECISION` values there when a flag is absent) over the build's default, with
    /// `SYSDYN_AUTODIFF`; checked against the precision policy.
    pub fn device(&self) -> Result<DeviceSpec, CoreError> {
        let mut spec = DeviceSpec::default_for_build()?.override_from_env()?;
        if let Some(backend) = self.backend {
            spec.backend = backend;
        }
        if let Some(precision) = self.precision {
            spec.precision = precision;
        }
        if spec.precision == Precision::F64 && !spec.backend.supports_f64() {
            return Err(CoreError::PrecisionUnsupported {
                backend: spec.backend.to_string(),
            });
        }
        Ok(spec)
    }
}

/// Parses `args` without the program name (as a test or a library caller has them) into `P`,
/// with `P`'s own name in messages; `P::parse()` is the same for `std::env::args`.
pub fn parse_from<P: Parser>(args: &[impl AsRef<str>]) -> Result<P, clap::Error> {
    let name = P::command().get_name().to_string();
    P::try_parse_from(std::iter::once(name).chain(args.iter().map(|a| a.as_ref().to_string())))
}

/// A backend name that this build has; one that is not compiled in is refused while parsing
/// (clap's `value_parser` for any flag naming a backend).
pub fn parse_backend(text: &str) -> Result<Backend, CoreError> {
    let backend: Backend = text.parse()?;
    if backend.is_compiled() {
        Ok(backend)
    } else {
        Err(CoreError::BackendNotCompiled {
            backend: backend.to_string(),
            compiled: Backend::compiled()
                .iter()
                .map(|b| b.name())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

fn parse_precision(text: &str) -> Result<Precision, CoreError> {
    text.parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Parser)]
    #[command(name = "demo")]
    struct Demo {
        #[command(flatten)]
        run: RunArgs,
        #[arg(long)]
        steps: Option<usize>,
    }

    const DEMO: Program = Program {
        default_out: "out/demo",
        default_seed: Some(7),
        checkpoints: false,
    };

    fn parse(args: &[&str]) -> Result<Demo, clap::Error> {
        parse_from(args)
    }

    // Tests that read or depend on SYSDYN_BACKEND / SYSDYN_PRECISION run only when the variables
    // are unset, so a developer's environment cannot make them fail.
    fn device_env_unset() -> bool {
        [ENV_BACKEND, ENV_PRECISION, crate::device::ENV_AUTODIFF]
            .iter()
            .all(|v| std::env::var_os(v).is_none())
    }

    #[test]
    fn defaults_and_common_flags() {
        let o = parse(&[]).unwrap().run.resolve(&DEMO).unwrap();
        assert_eq!(o.out_dir, PathBuf::from("out/demo"));
        assert!(!o.quick && !o.quiet);
        assert_eq!(o.seed, 7);
        if device_env_unset() {
            assert_eq!(o.device, DeviceSpec::default_for_build().unwrap());
        }
        let d = parse(&["--out=a/b", "--quick", "--seed", "99", "-q", "--steps", "3"]).unwrap();
        assert_eq!(d.steps, Some(3));
        let o = d.run.resolve(&DEMO).unwrap();
        assert_eq!(o.out_dir, PathBuf::from("a/b"));
        assert!(o.quick && o.quiet);
        assert_eq!(o.seed, 99);
    }

    #[test]
    fn device_flags_are_parsed_and_checked_against_the_policy() {
        let compiled = Backend::compiled();
        let Some(&cpu) = compiled.iter().find(|b| b.supports_f64()) else {
            return;
        };
        let o = parse(&["--backend", cpu.name(), "--precision=f64"])
            .unwrap()
            .run
            .resolve(&DEMO)
            .unwrap();
        assert_eq!(o.device.backend, cpu);
        assert_eq!(o.device.precision, Precision::F64);
        let err = parse(&["--backend", "tpu"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ValueValidation);
        assert!(err.to_string().contains("unknown backend `tpu`"), "{err}");
        let err = parse(&["--precision", "f16"]).unwrap_err();
        assert!(err.to_string().contains("unknown precision `f16`"), "{err}");
        if Backend::Wgpu.is_compiled() {
            let args = parse(&["--backend", "wgpu", "--precision", "f64"]).unwrap();
            let err = args.run.resolve(&DEMO).unwrap_err();
            assert!(matches!(
                err,
                CliError::Device(CoreError::PrecisionUnsupported { .. })
            ));
            let clap_err = err.into_clap::<Demo>();
            assert_eq!(clap_err.exit_code(), 2);
            assert!(
                clap_err
                    .to_string()
                    .contains("f64 is not supported on `wgpu`")
            );
        }
    }

    #[test]
    fn bad_flags_and_values_are_clap_usage_errors() {
        let unknown = parse(&["--nope"]).unwrap_err();
        assert_eq!(unknown.kind(), ErrorKind::UnknownArgument);
        assert_eq!(unknown.exit_code(), 2);
        let missing = parse(&["--out"]).unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::InvalidValue);
        let bad = parse(&["--seed", "-1"]).unwrap_err();
        assert_eq!(bad.exit_code(), 2);
        let bad = parse(&["--steps=x"]).unwrap_err();
        assert_eq!(bad.kind(), ErrorKind::ValueValidation);
        let both = parse(&["--load", "a", "--resume", "b"]).unwrap_err();
        assert_eq!(both.kind(), ErrorKind::ArgumentConflict);
        let help = parse(&["--help"]).unwrap_err();
        assert_eq!(help.kind(), ErrorKind::DisplayHelp);
        assert_eq!(help.exit_code(), 0);
        let text = help.to_string();
        for flag in [
            "--out",
            "--quick",
            "--backend",
            "--precision",
            "--seed",
            "--quiet",
            "--load",
            "--resume",
            "--steps",
        ] {
            assert!(text.contains(flag), "help lacks {flag}:\n{text}");
        }
    }

    #[test]
    fn unsupported_shared_flags_are_refused_not_ignored() {
        for (args, flag) in [
            (&["--load", "ckpt"][..], "--load"),
            (&["--resume", "ckpt"][..], "--resume"),
        ] {
            let err = parse(args).unwrap().run.resolve(&DEMO).unwrap_err();
            assert!(
                matches!(err, CliError::NotSupported { flag: f } if f == flag),
                "{err}"
            );
            let clap_err = err.into_clap::<Demo>();
            assert_eq!(clap_err.exit_code(), 2);
            let text = clap_err.to_string();
            assert!(text.contains("not supported yet by this example"), "{text}");
            assert!(text.contains("Usage: demo"), "{text}");
        }
        let with_checkpoints = Program {
            checkpoints: true,
            ..DEMO
        };
        let o = parse(&["--resume", "ckpt"])
            .unwrap()
            .run
            .resolve(&with_checkpoints)
            .unwrap();
        assert_eq!(o.resume, Some(PathBuf::from("ckpt")));
        let no_randomness = Program {
            default_seed: None,
            ..DEMO
        };
        let err = parse(&["--seed", "3"])
            .unwrap()
            .run
            .resolve(&no_randomness)
            .unwrap_err();
        assert!(matches!(err, CliError::NothingToSeed));
        assert_eq!(err.into_clap::<Demo>().exit_code(), 2);
        let o = parse(&[]).unwrap().run.resolve(&no_randomness).unwrap();
        assert_eq!(o.seed, 0);
    }
}
