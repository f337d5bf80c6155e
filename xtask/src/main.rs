//! `cargo xtask <command>`: project automation written in Rust.
//!
//! - `cargo xtask bench [options]`: the benchmark workloads of `bench/WORKLOADS.md` on the plain
//!   f64 path and on every compiled backend; writes JSON and a table.
//! - `cargo xtask tour [options]`: runs every example, collects their figures and JSON, and
//!   writes a report.
//!
//! Run `cargo xtask <command> --help` for the options. A bad command line exits with status 2
//! and clap's message; a run that fails (an example, a benchmark measurement) with status 1.

mod bench;
mod tour;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Project automation for sysdyn: benchmarks and the tour of the examples.
#[derive(Debug, Parser)]
#[command(name = "xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Benchmark workloads (bench/WORKLOADS.md) across backends; exits non-zero when any
    /// measurement fails
    Bench(bench::BenchArgs),
    /// Run every example, collect figures and a report (out/report.md)
    Tour(tour::TourArgs),
}

fn main() -> ExitCode {
    // The bench measures what a program gets with its thread in the pool (see the function).
    sysdyn_core::threads::join_global_pool();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Bench(args) => bench::run(args),
        Command::Tour(args) => tour::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
