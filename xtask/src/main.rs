//! `cargo xtask <command>`: project automation written in Rust.
//!
//! - `cargo xtask bench [options]`: the benchmark workloads of `shared/bench/WORKLOADS.md` on the
//!   plain-f64 path and on every compiled backend; writes JSON and a table.
//! - `cargo xtask tour [options]`: runs every example, collects their figures and JSON, and
//!   writes a report.
//!
//! Run `cargo xtask <command> --help` for the options.

mod bench;
mod tour;

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    let result = match command.as_deref() {
        Some("bench") => bench::run(&rest),
        Some("tour") => tour::run(&rest),
        _ => {
            eprintln!(
                "usage: cargo xtask <bench|tour> [options]\n\
                 \n  bench   benchmark workloads (shared/bench/WORKLOADS.md) across backends\
                 \n  tour    run every example, collect figures and a report"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
