//! `cargo xtask bench`: the benchmark workloads of `bench/WORKLOADS.md` (at the repository's
//! root, with the fixtures they load in `bench/fixtures/`), run on the plain-f64 path and on
//! every compiled burn backend, so that sysdyn's figures can be set next to the reference medians
//! measured with diffrax, torchdiffeq, scipy, PyTorch and JAX on the same kind of machine.
//!
//! # Protocol (WORKLOADS.md, "Common protocol")
//!
//! - **Two worker threads.** Before any device exists, `RAYON_NUM_THREADS` (burn's CPU backends
//!   and gemm use rayon's global pool) and `LP_NUM_THREADS` (lavapipe, the software Vulkan
//!   behind wgpu in CI) are set to 2 unless the caller set them; the values in force are printed
//!   and written with the results.
//! - **Warm-up, then timing.** Each measurement first makes a few untimed calls (shader
//!   compilation, autotuning, allocator warm-up), then times single calls until both a minimum
//!   count *and* a time budget are reached, and reports the median, min and max. `--quick`
//!   shrinks both for a CI smoke run; its figures are not for reporting.
//! - **A timed call ends with its result on the host**: a tensor solve includes reading the final
//!   state back, so an asynchronous device cannot return before its work is done.
//! - **Output**: one JSON object per measurement with the fields of WORKLOADS.md (`workload`,
//!   `impl`, `metric`, `median`, `min`, `max`, `unit`, `extra`) in `bench.jsonl` (JSON Lines) and
//!   `bench.json` (an array), plus a readable table on stdout and in `bench.md` with the ratio of
//!   every median to the reference medians. A measurement that fails (a backend that panics, a
//!   solve that errs, a missing fixture) is reported as a failure and the bench goes on; at the
//!   end, with every output written, the bench exits non-zero naming the failures, so CI and
//!   scripts cannot take a partial run for a complete one.
//!
//! # Adding a workload
//!
//! Write `bench/wN.rs` with a `pub const WN: Workload` (its id, title, reference medians, the
//! `extra` fields its table shows, and a `run(&mut Bench)` that calls [`Bench::time`] and
//! [`Bench::record`]), declare the module below and add `&wN::WN` to [`WORKLOADS`]. Fixtures are
//! found under [`Bench::bench_dir`]: the repository's `bench/` (a copy of the shared bench folder
//! with `WORKLOADS.md` and `fixtures/`, checked against `fixtures/checksums.json` on every load),
//! or `<DIR>/bench` with `--shared DIR` / `SYSDYN_SHARED`.

mod ddpm;
mod gan;
mod handwritten_dopri5;
mod node_cnf;
mod npz;
mod physics;
mod pinn;
mod realnvp;
mod robertson_gbm;
mod stiff_sde;
mod vae;
mod w1;
mod w2_w6;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;
use serde_json::{Map, Value};
use sysdyn_core::device::{Backend, DeviceSpec, Precision, SysDevice};
use sysdyn_core::fs::write_atomic;
use sysdyn_train::{StepContext, TrainConfig, TrainStep};

/// Every workload the bench knows, in the order they run.
const WORKLOADS: &[&Workload] = &[
    &w1::W1,
    &w2_w6::W2,
    &w2_w6::W2_MEMORY,
    &ddpm::W3,
    &realnvp::W4,
    &pinn::W5,
    &w2_w6::W6,
    &stiff_sde::ROBERTSON,
    &stiff_sde::GBM,
    &gan::GAN,
    &vae::VAE,
    &physics::FHN_DATASET,
    &physics::STLSQ,
];

/// Worker threads of the protocol.
const THREADS: &str = "2";
/// Thread-count variables the protocol pins: rayon's global pool (burn-flex, burn-ndarray, gemm)
/// and lavapipe's compute threads (wgpu in CI).
const THREAD_VARS: [&str; 2] = ["RAYON_NUM_THREADS", "LP_NUM_THREADS"];
/// Environment variable locating a shared folder whose `bench/` replaces the repository's.
const ENV_SHARED: &str = "SYSDYN_SHARED";

/// `cargo xtask bench [options]`: runs the workloads of bench/WORKLOADS.md on the plain-f64 path
/// and on every compiled burn backend; writes bench.jsonl, bench.json and bench.md and prints a
/// table. Exits non-zero when any measurement failed.
///
/// Final figures come from `cargo xtask bench` (release profile); `cargo run -p xtask -- bench
/// --quick` is the quick development run.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct BenchArgs {
    /// Few repetitions (CI smoke run; figures not for reporting)
    #[arg(long)]
    pub quick: bool,

    /// Run only these workloads (comma-separated, repeatable) [default: all]
    #[arg(
        long = "workload",
        visible_alias = "workloads",
        value_name = "W1[,W2]",
        value_delimiter = ',',
        value_parser = parse_workload
    )]
    pub workloads: Vec<String>,

    /// Comma-separated backends, e.g. flex,ndarray,wgpu [default: all compiled]
    #[arg(
        long = "backends",
        visible_alias = "backend",
        value_name = "LIST",
        value_delimiter = ',',
        value_parser = sysdyn_core::cli::parse_backend
    )]
    pub backends: Vec<Backend>,

    /// Run only implementations whose name contains TEXT (W2, W2-memory, W3, W4, W5, W6, gan-2d,
    /// vae-mlp; e.g. `--impl flex-rk4-taped` to profile one of them)
    #[arg(long = "impl", value_name = "TEXT")]
    pub implementation_filter: Option<String>,

    /// Output folder [default: REPO/target/bench]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// A folder whose bench/ (WORKLOADS.md, fixtures/) replaces the repository's own bench/
    /// [default: REPO/bench]
    #[arg(long, value_name = "DIR", env = ENV_SHARED)]
    pub shared: Option<PathBuf>,
}

/// A workload id of [`WORKLOADS`], in its canonical spelling.
fn parse_workload(text: &str) -> Result<String, String> {
    let id = text.trim();
    WORKLOADS
        .iter()
        .find(|w| w.id.eq_ignore_ascii_case(id))
        .map(|w| w.id.to_string())
        .ok_or_else(|| {
            let known: Vec<_> = WORKLOADS.iter().map(|w| w.id).collect();
            format!(
                "unknown workload `{id}`; this bench implements {}",
                known.join(", ")
            )
        })
}

/// One benchmark workload of WORKLOADS.md.
pub struct Workload {
    /// Its id in WORKLOADS.md, e.g. `"W1"`.
    pub id: &'static str,
    /// A one-line title.
    pub title: &'static str,
    /// The reference medians of WORKLOADS.md, for the ratio columns.
    pub references: &'static [Reference],
    /// `extra` fields shown as table columns: (key, column header).
    pub table_extras: &'static [(&'static str, &'static str)],
    /// Runs the workload's measurements.
    pub run: fn(&mut Bench) -> Result<(), String>,
}

/// A reference median from WORKLOADS.md.
pub struct Reference {
    /// The metric it belongs to.
    pub metric: &'static str,
    /// The reference implementation, e.g. `"diffrax"`.
    pub name: &'static str,
    /// Its median, in the metric's unit.
    pub median: f64,
}

/// One measurement, in the JSON layout of WORKLOADS.md.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    /// Workload id.
    pub workload: String,
    /// What was measured, e.g. `sysdyn-flex-f64`.
    #[serde(rename = "impl")]
    pub implementation: String,
    /// What the numbers are, e.g. `time_per_solve`.
    pub metric: String,
    /// Median over the timed calls.
    pub median: f64,
    /// Fastest timed call.
    pub min: f64,
    /// Slowest timed call.
    pub max: f64,
    /// Unit of median, min and max.
    pub unit: String,
    /// Everything else (NFE, errors, precision, repetitions, ...).
    pub extra: Map<String, Value>,
}

/// How many calls are made and timed.
#[derive(Debug, Clone, Copy)]
pub struct Protocol {
    /// Untimed calls before timing.
    pub warmup_calls: usize,
    /// Timed calls at least.
    pub min_calls: usize,
    /// Timed for at least this long.
    pub budget: Duration,
}

impl Protocol {
    const FULL: Protocol = Protocol {
        warmup_calls: 3,
        min_calls: 10,
        budget: Duration::from_secs(2),
    };
    const QUICK: Protocol = Protocol {
        warmup_calls: 1,
        min_calls: 3,
        budget: Duration::from_millis(20),
    };

    /// The protocol of a `--quick` run or of a full one.
    pub fn of_run(quick: bool) -> Protocol {
        if quick {
            Protocol::QUICK
        } else {
            Protocol::FULL
        }
    }
}

/// Median, min and max of the timed calls, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Median.
    pub median_ms: f64,
    /// Minimum.
    pub min_ms: f64,
    /// Maximum.
    pub max_ms: f64,
    /// Number of timed calls.
    pub calls: usize,
}

impl Timing {
    fn from_samples(mut samples_ms: Vec<f64>) -> Timing {
        samples_ms.sort_by(f64::total_cmp);
        let n = samples_ms.len();
        let median_ms = if n % 2 == 1 {
            samples_ms[n / 2]
        } else {
            0.5 * (samples_ms[n / 2 - 1] + samples_ms[n / 2])
        };
        Timing {
            median_ms,
            min_ms: samples_ms[0],
            max_ms: samples_ms[n - 1],
            calls: n,
        }
    }

    /// A measurement in milliseconds with these timings; `extra` gets the call count.
    pub fn measurement(
        &self,
        workload: &str,
        implementation: impl Into<String>,
        metric: &str,
        mut extra: Map<String, Value>,
    ) -> Measurement {
        extra.insert("timed_calls".into(), self.calls.into());
        Measurement {
            workload: workload.to_string(),
            implementation: implementation.into(),
            metric: metric.to_string(),
            median: self.median_ms,
            min: self.min_ms,
            max: self.max_ms,
            unit: "ms".to_string(),
            extra,
        }
    }
}

/// The state of a bench run that workloads use: options, and where results go.
pub struct Bench {
    protocol: Protocol,
    quick: bool,
    backends: Vec<Backend>,
    implementation_filter: Option<String>,
    bench_dir: PathBuf,
    measurements: Vec<Measurement>,
    /// Lines shown under a workload's tables (goals, failures, remarks), per workload.
    notes: Vec<(String, String)>,
    /// What failed, as `workload: what: why`; any makes the run exit non-zero.
    failures: Vec<String>,
    current: &'static str,
}

impl Bench {
    /// The backends to measure, in the order given.
    pub fn backends(&self) -> &[Backend] {
        &self.backends
    }

    /// How a goal line reads: met or not in a full release run; a `--quick` or dev-profile
    /// run (few calls, unoptimised sysdyn code) only shows the figure.
    pub fn verdict(&self, met: bool) -> &'static str {
        if self.quick || cfg!(debug_assertions) {
            "not judged (--quick or dev-profile run)"
        } else if met {
            "met"
        } else {
            "NOT met"
        }
    }

    /// Whether `--impl` selects this implementation (all do without it).
    pub fn selects(&self, implementation: &str) -> bool {
        self.implementation_filter
            .as_deref()
            .is_none_or(|f| implementation.contains(f))
    }

    /// Whether this is a `--quick` run (workloads may shrink their problem; they say so in a
    /// note).
    pub fn is_quick(&self) -> bool {
        self.quick
    }

    /// The bench folder (`WORKLOADS.md`, `fixtures/`).
    pub fn bench_dir(&self) -> &Path {
        &self.bench_dir
    }

    /// Warms up, then times `call` until the protocol's minimum count and budget are both
    /// reached. Returns the timings and the last call's result.
    pub fn time<T>(&self, call: impl FnMut() -> Result<T, String>) -> Result<(Timing, T), String> {
        let (samples, last) = time_calls(self.protocol, call)?.into_samples_and_last();
        Ok((Timing::from_samples(samples), last))
    }

    /// Times one runtime step of `step` per call at learning rate `lr` (step indices from 0);
    /// returns the timing and the first step's loss (NaN if no step ran).
    pub fn time_train_step(
        &self,
        step: &mut impl TrainStep,
        lr: f64,
    ) -> Result<(Timing, f64), String> {
        let config = TrainConfig::new(u64::MAX);
        let mut index = 0;
        let mut first = None;
        let (timing, _) = self.time(|| {
            let mut ctx = StepContext::new(&config, index);
            ctx.lr = lr;
            index += 1;
            let report = step.step(&mut ctx).map_err(|e| e.to_string())?;
            first.get_or_insert(report.loss);
            Ok(report.loss)
        })?;
        Ok((timing, first.unwrap_or(f64::NAN)))
    }

    /// Records a measurement and prints it as one line.
    pub fn record(&mut self, m: Measurement) {
        println!(
            "  {:<34} {:<22} median {:>12} {}  (min {}, max {}, {} calls)",
            m.implementation,
            m.metric,
            format_value(m.median),
            m.unit,
            format_value(m.min),
            format_value(m.max),
            m.extra.get("timed_calls").map_or(Value::Null, Value::clone),
        );
        self.measurements.push(m);
    }

    /// Adds a line to the current workload's notes (printed now and under its tables).
    pub fn note(&mut self, line: impl Into<String>) {
        let line = line.into();
        println!("  note: {line}");
        self.notes.push((self.current.to_string(), line));
    }

    /// Records rows `(impl, metric, samples, extra)` made by a measuring module: the median, min
    /// and max of the samples (in ms, or in `extra.unit`). A row without samples is a failure
    /// note carrying `extra.failed`.
    pub fn file_rows(&mut self, id: &str, rows: Vec<(String, String, Vec<f64>, Value)>) {
        for (implementation, metric, samples, extra) in rows {
            let mut extra = match extra {
                Value::Object(map) => map,
                other => Map::from_iter([("value".to_string(), other)]),
            };
            extra.remove("workload");
            if samples.is_empty() {
                let why = extra.get("failed").map_or(Value::Null, Value::clone);
                self.fail(&implementation, &why.to_string());
                continue;
            }
            let unit = match extra.remove("unit") {
                Some(Value::String(unit)) => unit,
                _ => "ms".to_string(),
            };
            let mut m =
                Timing::from_samples(samples).measurement(id, implementation, &metric, extra);
            m.unit = unit;
            self.record(m);
        }
    }

    /// Runs `measure`, turning an error or a panic (a backend that cannot start, say) into a
    /// failure note, so one broken measurement does not stop the others.
    pub fn guarded(&mut self, what: &str, measure: impl FnOnce(&mut Bench) -> Result<(), String>) {
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| measure(&mut *self)));
        let failure = match outcome {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(panic) => panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panicked".to_string()),
        };
        self.fail(what, &failure);
    }

    /// Notes a failed measurement and remembers it for the exit status.
    fn fail(&mut self, what: &str, why: &str) {
        self.note(format!("FAILED {what}: {why}"));
        self.failures
            .push(format!("{}: {what}: {why}", self.current));
    }
}

/// What [`time_calls`] measured.
pub struct Timed<T> {
    /// Timed calls, ms.
    pub samples: Vec<f64>,
    /// The first call's result (a warm-up call): a training run's first loss, say.
    pub first: T,
    /// The last call's result, when there was more than one call.
    pub last: Option<T>,
    /// Calls made, warm-up included.
    pub calls: usize,
    /// Growth of the peak resident set over all calls, MiB; `None` where `/proc` does not give
    /// it. Host memory: tensors on a GPU do not show here.
    pub peak_rss_growth_mib: Option<f64>,
}

impl<T> Timed<T> {
    /// The last call's result.
    pub fn last(&self) -> &T {
        self.last.as_ref().unwrap_or(&self.first)
    }

    /// The timed samples (ms) and the last call's result.
    pub fn into_samples_and_last(self) -> (Vec<f64>, T) {
        (self.samples, self.last.unwrap_or(self.first))
    }
}

/// The protocol's warm-up calls, then timed calls of `call` until its minimum count and budget
/// are both reached; keeps the first and last results and the peak memory growth.
pub fn time_calls<T>(
    protocol: Protocol,
    mut call: impl FnMut() -> Result<T, String>,
) -> Result<Timed<T>, String> {
    release_free_memory();
    let before = rss_mib().map(|(rss, _)| rss);
    let peak_reset = reset_peak_rss();
    let first = call()?;
    let mut last = None;
    let mut calls = 1;
    for _ in 1..protocol.warmup_calls {
        last = Some(call()?);
        calls += 1;
    }
    let mut samples = Vec::new();
    let started = Instant::now();
    while samples.len() < protocol.min_calls.max(1) || started.elapsed() < protocol.budget {
        let t = Instant::now();
        let out = call()?;
        samples.push(t.elapsed().as_secs_f64() * 1e3);
        last = Some(out);
        calls += 1;
    }
    let peak = rss_mib().map(|(_, peak)| peak);
    let peak_rss_growth_mib = match (before, peak, peak_reset) {
        (Some(before), Some(peak), true) => Some(peak - before),
        _ => None,
    };
    Ok(Timed {
        samples,
        first,
        last,
        calls,
        peak_rss_growth_mib,
    })
}

/// Resident-set figures of this process from `/proc/self/status`, in MiB: `(VmRSS, VmHWM)`.
pub fn rss_mib() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |key: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Resets the peak resident set (`VmHWM`) to the current one (Linux 4.0+).
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn release_free_memory() {
    unsafe extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: glibc's malloc_trim only returns free heap pages to the system.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() {}

/// A device for `backend` at `precision`.
pub fn device(backend: Backend, precision: Precision) -> Result<SysDevice, String> {
    DeviceSpec::new(backend, precision)
        .init()
        .map_err(|e| format!("{backend}:{precision}: {e}"))
}

/// The options with their defaults filled in.
struct Options {
    quick: bool,
    workloads: Vec<String>,
    implementation_filter: Option<String>,
    backends: Vec<Backend>,
    out: PathBuf,
    bench_dir: PathBuf,
}

fn repo_root() -> PathBuf {
    // xtask/ sits at the repository root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The repository's own bench folder: WORKLOADS.md and fixtures/, copied from the shared bench
/// folder so that a clone alone can run every workload.
pub fn repo_bench_dir() -> PathBuf {
    repo_root().join("bench")
}

impl BenchArgs {
    fn options(&self) -> Options {
        let mut backends = Vec::new();
        for &backend in &self.backends {
            if !backends.contains(&backend) {
                backends.push(backend);
            }
        }
        if backends.is_empty() {
            backends = Backend::compiled();
        }
        Options {
            quick: self.quick,
            workloads: self.workloads.clone(),
            implementation_filter: self.implementation_filter.clone(),
            backends,
            out: self
                .out
                .clone()
                .unwrap_or_else(|| repo_root().join("target").join("bench")),
            bench_dir: self
                .shared
                .as_ref()
                .map_or_else(repo_bench_dir, |shared| shared.join("bench")),
        }
    }
}

/// Pins the thread counts of the protocol, unless the caller set them, and returns what is in
/// force.
fn pin_threads() -> Vec<(String, String)> {
    THREAD_VARS
        .iter()
        .map(|&var| {
            let value = match std::env::var(var) {
                Ok(v) => v,
                Err(_) => {
                    // SAFETY: called at the start of `run`, before any device, thread pool or other
                    // thread exists, so nothing can read the environment concurrently.
                    unsafe { std::env::set_var(var, THREADS) };
                    THREADS.to_string()
                }
            };
            (var.to_string(), value)
        })
        .collect()
}

/// Runs the benchmarks; an error when the output cannot be written or any measurement failed.
pub fn run(args: &BenchArgs) -> Result<(), String> {
    let threads = pin_threads();
    let opts = args.options();
    let selected: Vec<&Workload> = WORKLOADS
        .iter()
        .copied()
        .filter(|w| opts.workloads.is_empty() || opts.workloads.iter().any(|id| id == w.id))
        .collect();

    let mut header = String::new();
    let profile = if cfg!(debug_assertions) {
        "dev"
    } else {
        "release"
    };
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let threads_line: Vec<String> = threads.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let backends: Vec<&str> = opts.backends.iter().map(|b| b.name()).collect();
    let _ = writeln!(header, "# sysdyn bench");
    let _ = writeln!(header);
    let _ = writeln!(
        header,
        "- profile: {profile}{}; protocol: {}",
        if cfg!(debug_assertions) {
            " (debug assertions on: development figures, not for reporting)"
        } else {
            ""
        },
        if opts.quick {
            "--quick (smoke run)"
        } else {
            "full"
        }
    );
    let _ = writeln!(
        header,
        "- threads: {} (machine: {cores} cores)",
        threads_line.join(", ")
    );
    let _ = writeln!(header, "- backends: {}", backends.join(", "));
    let _ = writeln!(
        header,
        "- ratio columns: our median / reference median (below 1 = faster than the reference)"
    );
    let _ = writeln!(
        header,
        "- fixtures: {}",
        opts.bench_dir.join("fixtures").display()
    );
    print!("{header}");
    if !opts.bench_dir.join("fixtures").is_dir() {
        println!(
            "- no fixtures/ in {} (--shared DIR or {ENV_SHARED} must name a folder holding \
             bench/fixtures); workloads with fixtures will fail",
            opts.bench_dir.display()
        );
    }

    let mut bench = Bench {
        protocol: Protocol::of_run(opts.quick),
        quick: opts.quick,
        backends: opts.backends.clone(),
        implementation_filter: opts.implementation_filter.clone(),
        bench_dir: opts.bench_dir.clone(),
        measurements: Vec::new(),
        notes: Vec::new(),
        failures: Vec::new(),
        current: "",
    };
    let mut report = header;
    for workload in &selected {
        println!("\n## {} {}", workload.id, workload.title);
        bench.current = workload.id;
        let id = workload.id;
        bench.guarded(id, workload.run);
        let tables = workload_tables(workload, &bench);
        println!("\n{tables}");
        report.push('\n');
        report.push_str(&tables);
    }

    write_outputs(&opts.out, &bench, &threads, profile, &report)?;
    println!("results: {}", opts.out.display());
    if bench.failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} measurement(s) failed:\n  {}",
            bench.failures.len(),
            bench.failures.join("\n  ")
        ))
    }
}

fn write_outputs(
    out: &Path,
    bench: &Bench,
    threads: &[(String, String)],
    profile: &str,
    report: &str,
) -> Result<(), String> {
    // A reader (CI, a comparison script) never sees a half-written result file.
    let write = |name: &str, text: String| {
        write_atomic(&out.join(name), text.as_bytes()).map_err(|e| e.to_string())
    };
    // Every measurement carries the conditions it was taken under.
    let measurements: Vec<Measurement> = bench
        .measurements
        .iter()
        .cloned()
        .map(|mut m| {
            for (k, v) in threads {
                m.extra.insert(k.to_lowercase(), Value::String(v.clone()));
            }
            m.extra.insert("profile".into(), profile.into());
            m.extra.insert("quick".into(), bench.quick.into());
            m
        })
        .collect();
    let mut lines = String::new();
    for m in &measurements {
        let line = serde_json::to_string(m).map_err(|e| e.to_string())?;
        lines.push_str(&line);
        lines.push('\n');
    }
    write("bench.jsonl", lines)?;
    let array = serde_json::to_string_pretty(&measurements).map_err(|e| e.to_string())?;
    write("bench.json", array + "\n")?;
    write("bench.md", report.to_string())
}

/// Markdown tables of one workload's measurements, one per metric, with ratio columns for the
/// reference medians of that metric, followed by its notes.
fn workload_tables(workload: &Workload, bench: &Bench) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "## {} {}", workload.id, workload.title);
    let ours: Vec<&Measurement> = bench
        .measurements
        .iter()
        .filter(|m| m.workload == workload.id)
        .collect();
    let mut metrics: Vec<&str> = Vec::new();
    for m in &ours {
        if !metrics.contains(&m.metric.as_str()) {
            metrics.push(&m.metric);
        }
    }
    for metric in metrics {
        let rows: Vec<&&Measurement> = ours.iter().filter(|m| m.metric == metric).collect();
        let unit = rows.first().map_or("", |m| m.unit.as_str());
        let refs: Vec<&Reference> = workload
            .references
            .iter()
            .filter(|r| r.metric == metric)
            .collect();
        let _ = writeln!(text, "\n### {metric} ({unit})\n");
        let mut head = vec![
            "impl".to_string(),
            "median".into(),
            "min".into(),
            "max".into(),
        ];
        head.extend(workload.table_extras.iter().map(|(_, h)| h.to_string()));
        head.extend(
            refs.iter()
                .map(|r| format!("÷ {} {}", r.name, format_value(r.median))),
        );
        let mut table = vec![head];
        for m in rows {
            let mut row = vec![
                m.implementation.clone(),
                format_value(m.median),
                format_value(m.min),
                format_value(m.max),
            ];
            row.extend(workload.table_extras.iter().map(|(key, _)| {
                m.extra.get(*key).map_or_else(String::new, |v| match v {
                    Value::Number(n) => n
                        .as_u64()
                        .map(|u| u.to_string())
                        .unwrap_or_else(|| format_value(n.as_f64().unwrap_or(f64::NAN))),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            }));
            row.extend(refs.iter().map(|r| format_value(m.median / r.median)));
            table.push(row);
        }
        text.push_str(&markdown_table(&table));
    }
    let notes: Vec<&String> = bench
        .notes
        .iter()
        .filter(|(id, _)| id == workload.id)
        .map(|(_, line)| line)
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(text);
        for line in notes {
            let _ = writeln!(text, "- {line}");
        }
    }
    text
}

fn markdown_table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |row: &[String]| {
        let cells: Vec<String> = (0..columns)
            .map(|c| {
                let cell = row.get(c).map_or("", String::as_str);
                format!("{cell:<width$}", width = widths[c])
            })
            .collect();
        format!("| {} |\n", cells.join(" | "))
    };
    let mut text = String::new();
    if let Some((head, body)) = rows.split_first() {
        text.push_str(&line(head));
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        text.push_str(&format!("|-{}-|\n", rule.join("-|-")));
        for row in body {
            text.push_str(&line(row));
        }
    }
    text
}

/// Four significant digits, switching to scientific notation for very small or large values.
pub fn format_value(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs().log10().floor() as i32;
    if (-3..6).contains(&magnitude) {
        let decimals = (3 - magnitude).max(0) as usize;
        format!("{v:.decimals$}")
    } else {
        format!("{v:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn median_of_even_and_odd_counts() {
        let t = Timing::from_samples(vec![3.0, 1.0, 2.0]);
        assert_eq!(
            (t.median_ms, t.min_ms, t.max_ms, t.calls),
            (2.0, 1.0, 3.0, 3)
        );
        let t = Timing::from_samples(vec![4.0, 1.0, 2.0, 3.0]);
        assert_eq!(t.median_ms, 2.5);
    }

    fn parse(args: &[&str]) -> Result<BenchArgs, clap::Error> {
        let cli = crate::Cli::try_parse_from(["xtask", "bench"].iter().chain(args))?;
        match cli.command {
            crate::Command::Bench(args) => Ok(args),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn options_parse_and_reject_unknown_names() {
        let args = parse(&["--quick", "--workload=w1", "--backends", "flex"]).unwrap();
        assert!(args.quick);
        assert_eq!(args.workloads, vec!["W1".to_string()]);
        let opts = args.options();
        assert_eq!(opts.backends, vec![Backend::Flex]);
        // Repeated and comma-separated workloads add up; repeated backends count once.
        let args = parse(&[
            "--workload",
            "W2,w6",
            "--workloads",
            "gbm",
            "--backend=flex,flex",
        ]);
        let args = args.unwrap();
        assert_eq!(args.workloads, ["W2", "W6", "gbm"]);
        assert_eq!(args.options().backends, vec![Backend::Flex]);
        let err = parse(&["--workload", "W9"]).unwrap_err();
        assert!(err.to_string().contains("unknown workload `W9`"), "{err}");
        assert_eq!(err.exit_code(), 2);
        assert!(parse(&["--backends", "cuda"]).is_err());
        assert_eq!(parse(&["--frobnicate"]).unwrap_err().exit_code(), 2);
        assert!(parse(&["--out"]).is_err());
        let help = parse(&["--help"]).unwrap_err();
        assert_eq!(help.exit_code(), 0);
        for flag in [
            "--quick",
            "--workload",
            "--backends",
            "--impl",
            "--out",
            "--shared",
        ] {
            assert!(
                help.to_string().contains(flag),
                "{flag} missing from\n{help}"
            );
        }
    }

    #[test]
    fn fixtures_default_to_the_repository_and_shared_overrides_them() {
        let opts = parse(&["--shared", "/elsewhere"]).unwrap().options();
        assert_eq!(opts.bench_dir, Path::new("/elsewhere/bench"));
        if std::env::var_os(ENV_SHARED).is_none() {
            let opts = parse(&[]).unwrap().options();
            assert_eq!(opts.bench_dir, repo_bench_dir());
            assert!(opts.bench_dir.join("WORKLOADS.md").is_file());
            assert!(opts.bench_dir.join("fixtures/checksums.json").is_file());
            assert_eq!(opts.out, repo_root().join("target/bench"));
            assert_eq!(opts.backends, Backend::compiled());
        }
    }

    #[test]
    fn measurements_serialise_with_the_workloads_field_names() {
        let t = Timing::from_samples(vec![1.0, 2.0, 3.0]);
        let m = t.measurement("W1", "sysdyn-plain-f64", "time_per_solve", Map::new());
        let v: Value = serde_json::to_value(&m).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        for key in [
            "workload", "impl", "metric", "median", "min", "max", "unit", "extra",
        ] {
            assert!(keys.contains(&key), "missing {key} in {v}");
        }
        assert_eq!(v["impl"], "sysdyn-plain-f64");
        assert_eq!(v["extra"]["timed_calls"], 3);
    }

    #[test]
    fn values_format_with_four_significant_digits() {
        assert_eq!(format_value(0.1334), "0.1334");
        assert_eq!(format_value(10.7), "10.70");
        assert_eq!(format_value(182.0), "182.0");
        assert_eq!(format_value(3.3e-7), "3.300e-7");
    }
}
