//! Command-line options shared by programs built on sysdyn (every example uses them): the output
//! folder, a reduced `--quick` run, the device flags of [`DeviceSpec`] (`--backend`,
//! `--precision`, and the `SYSDYN_BACKEND` / `SYSDYN_PRECISION` variables), and the program's own
//! flags through a callback, so each program states only what is particular to it.
//!
//! ```
//! use sysdyn_core::cli::{parse_run_options, Flag};
//!
//! let args: Vec<String> = ["--quick", "--iterations=50", "--out", "figs"]
//!     .map(String::from)
//!     .to_vec();
//! let mut iterations = 1000usize;
//! let options = parse_run_options(&args, "out/demo", |flag: &mut Flag| {
//!     match flag.name() {
//!         "--iterations" => iterations = flag.parse("a count")?,
//!         _ => return Ok(false),
//!     }
//!     Ok(true)
//! })
//! .unwrap();
//! assert!(options.quick);
//! assert_eq!(iterations, 50);
//! assert_eq!(options.out_dir, std::path::PathBuf::from("figs"));
//! ```

use std::path::PathBuf;
use std::str::FromStr;

use thiserror::Error;

use crate::device::DeviceSpec;
use crate::error::CoreError;

/// Why the command line was refused.
#[derive(Debug, Error)]
pub enum CliError {
    /// A device or precision that this build or the device policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// A flag the program does not know, or a flag without its value or with a bad one.
    #[error("{0}")]
    Usage(String),
}

/// The options every sysdyn program takes.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// Where figures and the summary go (`--out DIR`).
    pub out_dir: PathBuf,
    /// A reduced run (`--quick`): fewer steps, every output still written.
    pub quick: bool,
    /// Backend and precision (`--backend`, `--precision`, or the environment).
    pub device: DeviceSpec,
}

/// One program-specific flag being parsed: its name and, on request, its value (`--flag=v` or
/// the next argument).
pub struct Flag<'a> {
    name: String,
    inline: Option<String>,
    rest: &'a mut dyn Iterator<Item = String>,
}

impl Flag<'_> {
    /// The flag as written, e.g. `"--iterations"`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The flag's value as text; `what` names the expected value in the error.
    pub fn value(&mut self, what: &str) -> Result<String, CliError> {
        self.inline
            .take()
            .or_else(|| self.rest.next())
            .ok_or_else(|| CliError::Usage(format!("{} needs {what}", self.name)))
    }

    /// The flag's value parsed as `T`; `what` names the expected value in the error.
    pub fn parse<T: FromStr>(&mut self, what: &str) -> Result<T, CliError> {
        let text = self.value(what)?;
        text.parse()
            .map_err(|_| CliError::Usage(format!("{}: `{text}` is not {what}", self.name)))
    }
}

/// Parses `args` (without the program name): `--quick`, `--out DIR` (default `default_out`), the
/// device flags over the environment and the build's default, and every other flag through
/// `extra`, which returns `Ok(true)` for a flag it took and `Ok(false)` for one it does not know.
pub fn parse_run_options(
    args: &[String],
    default_out: &str,
    mut extra: impl FnMut(&mut Flag) -> Result<bool, CliError>,
) -> Result<RunOptions, CliError> {
    let (device, rest) = DeviceSpec::default_for_build()?
        .override_from_env()?
        .override_from_args(args.iter().cloned())?;
    let mut options = RunOptions {
        out_dir: PathBuf::from(default_out),
        quick: false,
        device,
    };
    let mut rest = rest.into_iter();
    while let Some(arg) = rest.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (arg.clone(), None),
        };
        let mut flag = Flag {
            name,
            inline,
            rest: &mut rest,
        };
        match flag.name() {
            "--quick" => options.quick = true,
            "--out" => options.out_dir = PathBuf::from(flag.value("a folder")?),
            _ => {
                if !extra(&mut flag)? {
                    return Err(CliError::Usage(format!("unknown argument `{arg}`")));
                }
            }
        }
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn no_extra(_: &mut Flag) -> Result<bool, CliError> {
        Ok(false)
    }

    #[test]
    fn defaults_and_common_flags() {
        let o = parse_run_options(&[], "out/x", no_extra).unwrap();
        assert_eq!(o.out_dir, PathBuf::from("out/x"));
        assert!(!o.quick);
        let o = parse_run_options(&args(&["--out=a/b", "--quick"]), "out/x", no_extra).unwrap();
        assert_eq!(o.out_dir, PathBuf::from("a/b"));
        assert!(o.quick);
    }

    #[test]
    fn program_flags_take_inline_or_next_values() {
        let mut seen = Vec::new();
        let o = parse_run_options(
            &args(&["--steps", "7", "--rate=0.5", "--quick"]),
            "out",
            |flag| {
                match flag.name() {
                    "--steps" => seen.push(flag.parse::<f64>("a count")?),
                    "--rate" => seen.push(flag.parse::<f64>("a number")?),
                    _ => return Ok(false),
                }
                Ok(true)
            },
        )
        .unwrap();
        assert_eq!(seen, vec![7.0, 0.5]);
        assert!(o.quick);
    }

    #[test]
    fn bad_flags_and_values_are_usage_errors() {
        let unknown = parse_run_options(&args(&["--nope"]), "out", no_extra).unwrap_err();
        assert!(unknown.to_string().contains("unknown argument `--nope`"));
        let missing = parse_run_options(&args(&["--out"]), "out", no_extra).unwrap_err();
        assert!(missing.to_string().contains("--out needs a folder"));
        let bad = parse_run_options(&args(&["--steps=x"]), "out", |flag| {
            flag.parse::<usize>("a count").map(|_| true)
        })
        .unwrap_err();
        assert!(bad.to_string().contains("`x` is not a count"), "{bad}");
        let device = parse_run_options(&args(&["--backend", "tpu"]), "out", no_extra);
        assert!(matches!(device, Err(CliError::Device(_))));
    }
}
