//! `cargo run -p gan-2d --release -- [--quick | --full] [--out DIR] [--backend NAME] [--iterations N]`
//! (`--help` lists every option).
//!
//! Everything happens in the library (`gan_2d::run`); this binary parses the command line (a bad
//! one exits with status 2 and clap's message) and turns errors into a message and a non-zero
//! exit status.

use std::process::ExitCode;

use clap::Parser;
use gan_2d::Cli;

fn main() -> ExitCode {
    // burn's CPU backends and the MLP engine parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match gan_2d::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                for r in &summary.results {
                    eprintln!(
                        "[gan-2d] {} {}: modes {:.1} ± {:.1} of {}, within 3σ {:.2} ± {:.2}",
                        r.data,
                        r.objective,
                        r.modes_mean,
                        r.modes_std,
                        r.modes_total,
                        r.high_quality_mean,
                        r.high_quality_std
                    );
                }
                eprintln!(
                    "[gan-2d] done in {:.1} s; results in {}",
                    summary.wall_s, summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gan-2d: error: {e}");
            ExitCode::FAILURE
        }
    }
}
