//! `cargo run -p sst-warping --release -- [--quick | --full] [--out DIR] [--backend NAME]
//! [--steps N] [--seeds N]` (`--help` lists every option).
//!
//! Everything happens in the library (`sst_warping::run`); this binary parses the command line
//! (a bad one exits with status 2 and clap's message) and turns errors into a message and a
//! non-zero exit status.

use std::process::ExitCode;

use clap::Parser;
use sst_warping::Cli;

fn main() -> ExitCode {
    // burn's CPU backends parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match sst_warping::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                for r in &summary.results {
                    eprintln!(
                        "[sst-warping] {}: test MSE {:.3e} ± {:.1e}",
                        r.model, r.mse_mean, r.mse_std
                    );
                }
                eprintln!(
                    "[sst-warping] motion correlation with the true velocity {:.3} ± {:.3}",
                    summary.motion_correlation_mean, summary.motion_correlation_std
                );
                eprintln!(
                    "[sst-warping] done in {:.1} s; results in {}",
                    summary.wall_s, summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sst-warping: error: {e}");
            ExitCode::FAILURE
        }
    }
}
