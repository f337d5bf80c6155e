//! `cargo run -p lotka-volterra -- [--quick] [--out DIR] [--backend NAME] [--precision f32|f64]`
//! (`--help` lists every option).
//!
//! Everything happens in the library (`lotka_volterra::run`); this binary parses the command line
//! (a bad one exits with status 2 and clap's message) and turns errors into a message and a
//! non-zero exit status.

use std::process::ExitCode;

use clap::Parser;
use lotka_volterra::Cli;

fn main() -> ExitCode {
    // burn's CPU backends and the MLP engine parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match lotka_volterra::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                eprintln!(
                    "[lotka-volterra] done in {:.2} s; results in {}",
                    summary.wall_s, summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lotka-volterra: error: {e}");
            ExitCode::FAILURE
        }
    }
}
