//! `cargo run -p spiral-node --release -- [--quick] [--out DIR] [--backend NAME] ...`
//! (`--help` lists every option).
//!
//! Everything happens in the library (`spiral_node::run`); this binary parses the command line (a
//! bad one exits with status 2 and clap's message) and turns errors into a message and a
//! non-zero exit status.

use std::process::ExitCode;

use clap::Parser;
use spiral_node::Cli;

fn main() -> ExitCode {
    // burn's CPU backends and the MLP engine parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match spiral_node::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                eprintln!(
                    "[spiral-node] trajectory MSE {:.3e} (untrained {:.3e}); done in {:.1} s; \
                     results in {}",
                    summary.trajectory_mse,
                    summary.initial_trajectory_mse,
                    summary.wall_s,
                    summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("spiral-node: error: {e}");
            ExitCode::FAILURE
        }
    }
}
