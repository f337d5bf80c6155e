//! `cargo run -p leads --release -- [--quick] [--out DIR] [--steps N] [--seeds N]`
//! (`--help` lists every option).
//!
//! Everything happens in the library (`leads::run`); this binary parses the command line (a bad
//! one exits with status 2 and clap's message) and turns errors into a message and a non-zero
//! exit status.

use std::process::ExitCode;

use clap::Parser;
use leads::Cli;

fn main() -> ExitCode {
    // burn's CPU backends parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match leads::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                for r in &summary.results {
                    eprintln!(
                        "[leads] {}: test MSE {:.3e} ± {:.3e}",
                        r.method, r.test_mse.mean, r.test_mse.std
                    );
                }
                eprintln!(
                    "[leads] done in {:.1} s; results in {}",
                    summary.wall_s, summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("leads: error: {e}");
            ExitCode::FAILURE
        }
    }
}
