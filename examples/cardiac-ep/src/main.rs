//! `cargo run -p cardiac-ep --release -- [--quick] [--seeds N] [--steps N] [--out DIR]`
//! (`--help` lists every option).
//!
//! Everything happens in the library (`cardiac_ep::run`); this binary parses the command line (a
//! bad one exits with status 2 and clap's message) and turns errors into a message and a
//! non-zero exit status.

use std::process::ExitCode;

use cardiac_ep::Cli;
use clap::Parser;

fn main() -> ExitCode {
    // burn's CPU backends parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match cardiac_ep::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                eprintln!("{}", cardiac_ep::table(&summary));
                eprintln!(
                    "[cardiac-ep] done in {:.1} s; results in {}",
                    summary.wall_s, summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cardiac-ep: error: {e}");
            ExitCode::FAILURE
        }
    }
}
