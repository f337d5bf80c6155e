//! `cargo xtask bench`: the benchmark workloads of `shared/bench/WORKLOADS.md`, run on the
//! plain-f64 path and on every compiled burn backend, so that sysdyn's figures can be set next to
//! the reference medians measured with diffrax, torchdiffeq, scipy, PyTorch and JAX on the same
//! kind of machine.
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
//!   solve that errs) is reported as a failure and the bench goes on.
//!
//! # Adding a workload
//!
//! Write `bench/wN.rs` with a `pub const WN: Workload` (its id, title, reference medians, the
//! `extra` fields its table shows, and a `run(&mut Bench)` that calls [`Bench::time`] and
//! [`Bench::record`]), declare the module below and add `&wN::WN` to [`WORKLOADS`]. Fixtures are
//! found under [`Bench::shared`] (`<repo>/../shared`, or `--shared` / `SYSDYN_SHARED`).

mod handwritten_dopri5;
mod node_cnf;
mod npz;
mod robertson_gbm;
mod stiff_sde;
mod w1;
mod w2_w6;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Map, Value};
use sysdyn_core::device::{Backend, DeviceSpec, Precision, SysDevice};

/// Every workload the bench knows, in the order they run.
const WORKLOADS: &[&Workload] = &[
    &w1::W1,
    &w2_w6::W2,
    &w2_w6::W2_MEMORY,
    &w2_w6::W6,
    &stiff_sde::ROBERTSON,
    &stiff_sde::GBM,
];

/// Worker threads of the protocol.
const THREADS: &str = "2";
/// Thread-count variables the protocol pins: rayon's global pool (burn-flex, burn-ndarray, gemm)
/// and lavapipe's compute threads (wgpu in CI).
const THREAD_VARS: [&str; 2] = ["RAYON_NUM_THREADS", "LP_NUM_THREADS"];
/// Environment variable locating the shared folder (fixtures, WORKLOADS.md).
const ENV_SHARED: &str = "SYSDYN_SHARED";

const USAGE: &str = "\
usage: cargo xtask bench [options]

Runs the workloads of shared/bench/WORKLOADS.md on the plain-f64 path and on every compiled
burn backend; writes bench.jsonl, bench.json and bench.md and prints a table.

options:
  --quick               few repetitions (CI smoke run; figures not for reporting)
  --workload W1[,W2]    run only these workloads (repeatable; default: all)
  --backends LIST       comma-separated backends, e.g. flex,ndarray,wgpu (default: all compiled)
  --impl TEXT           run only implementations whose name contains TEXT (W2, W2-memory, W6;
                        e.g. `--impl flex-rk4-taped` to profile one of them)
  --out DIR             output folder (default: <repo>/target/bench)
  --shared DIR          shared folder with bench/fixtures (default: $SYSDYN_SHARED, else
                        <repo>/../shared)
  -h, --help            this text

Final figures come from `cargo xtask bench` (release profile); `cargo run -p xtask -- bench
--quick` is the quick development run.";

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
    shared: PathBuf,
    measurements: Vec<Measurement>,
    /// Lines shown under a workload's tables (goals, failures, remarks), per workload.
    notes: Vec<(String, String)>,
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

    /// The shared folder (`bench/fixtures`, `bench/WORKLOADS.md`).
    pub fn shared(&self) -> &Path {
        &self.shared
    }

    /// Warms up, then times `call` until the protocol's minimum count and budget are both
    /// reached. Returns the timings and the last call's result.
    pub fn time<T>(&self, call: impl FnMut() -> Result<T, String>) -> Result<(Timing, T), String> {
        let (samples, last) = time_calls(self.protocol, call)?.into_samples_and_last();
        Ok((Timing::from_samples(samples), last))
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
                self.note(format!("FAILED {implementation}: {why}"));
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
        self.note(format!("FAILED {what}: {failure}"));
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

/// Parsed command-line options.
struct Options {
    quick: bool,
    workloads: Vec<String>,
    implementation_filter: Option<String>,
    backends: Vec<Backend>,
    out: PathBuf,
    shared: PathBuf,
}

fn repo_root() -> PathBuf {
    // xtask/ sits at the repository root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn parse_options(args: &[String]) -> Result<Option<Options>, String> {
    let mut opts = Options {
        quick: false,
        workloads: Vec::new(),
        implementation_filter: None,
        backends: Backend::compiled(),
        out: repo_root().join("target").join("bench"),
        shared: std::env::var_os(ENV_SHARED)
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("..").join("shared")),
    };
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| iter.next().cloned())
                .ok_or_else(|| format!("{flag} needs a value\n\n{USAGE}"))
        };
        match flag {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            "--quick" => opts.quick = true,
            "--workload" | "--workloads" => {
                for id in value()?.split(',').filter(|s| !s.trim().is_empty()) {
                    let id = id.trim();
                    let Some(workload) = WORKLOADS.iter().find(|w| w.id.eq_ignore_ascii_case(id))
                    else {
                        let known: Vec<_> = WORKLOADS.iter().map(|w| w.id).collect();
                        return Err(format!(
                            "unknown workload `{id}`; this bench implements {}",
                            known.join(", ")
                        ));
                    };
                    opts.workloads.push(workload.id.to_string());
                }
            }
            "--backends" | "--backend" => {
                let mut backends = Vec::new();
                for name in value()?.split(',').filter(|s| !s.trim().is_empty()) {
                    let backend: Backend = name.parse().map_err(|e| format!("--backends: {e}"))?;
                    if !backend.is_compiled() {
                        return Err(format!(
                            "--backends: `{backend}` is not compiled into xtask (compiled: {:?})",
                            Backend::compiled()
                        ));
                    }
                    if !backends.contains(&backend) {
                        backends.push(backend);
                    }
                }
                opts.backends = backends;
            }
            "--out" => opts.out = PathBuf::from(value()?),
            "--impl" => opts.implementation_filter = Some(value()?),
            "--shared" => opts.shared = PathBuf::from(value()?),
            _ => return Err(format!("unknown option `{arg}`\n\n{USAGE}")),
        }
    }
    Ok(Some(opts))
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

/// Runs the benchmarks.
pub fn run(args: &[String]) -> Result<(), String> {
    let threads = pin_threads();
    let Some(opts) = parse_options(args)? else {
        return Ok(());
    };
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
    print!("{header}");
    if !opts.shared.join("bench").is_dir() {
        println!(
            "- shared folder {} not found (set --shared or {ENV_SHARED}); workloads with fixtures \
             will fail",
            opts.shared.display()
        );
    }

    let mut bench = Bench {
        protocol: Protocol::of_run(opts.quick),
        quick: opts.quick,
        backends: opts.backends.clone(),
        implementation_filter: opts.implementation_filter.clone(),
        shared: opts.shared.clone(),
        measurements: Vec::new(),
        notes: Vec::new(),
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
    Ok(())
}

fn write_outputs(
    out: &Path,
    bench: &Bench,
    threads: &[(String, String)],
    profile: &str,
    report: &str,
) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let write = |name: &str, text: String| {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))
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

    #[test]
    fn options_parse_and_reject_unknown_names() {
        let args = |s: &[&str]| s.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        let opts = parse_options(&args(&["--quick", "--workload=w1", "--backends", "flex"]))
            .unwrap()
            .unwrap();
        assert!(opts.quick);
        assert_eq!(opts.workloads, vec!["W1".to_string()]);
        assert_eq!(opts.backends, vec![Backend::Flex]);
        assert!(parse_options(&args(&["--workload", "W9"])).is_err());
        assert!(parse_options(&args(&["--backends", "cuda"])).is_err());
        assert!(parse_options(&args(&["--frobnicate"])).is_err());
        assert!(parse_options(&args(&["--out"])).is_err());
        assert!(parse_options(&args(&["--help"])).unwrap().is_none());
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
