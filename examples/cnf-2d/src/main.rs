//! `cargo run -p cnf-2d --release -- [--quick] [--out DIR] [--backend NAME] [--iterations N]`
//! (`--help` lists every option).
//!
//! Everything happens in the library (`cnf_2d::run`); this binary parses the command line (a bad
//! one exits with status 2 and clap's message) and turns errors into a message and a non-zero
//! exit status.

use std::process::ExitCode;

use clap::Parser;
use cnf_2d::Cli;

fn main() -> ExitCode {
    // burn's CPU backends and the MLP engine parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match cnf_2d::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                for d in &summary.datasets {
                    eprintln!(
                        "[cnf-2d] {}: test NLL {:.3} vs single Gaussian {:.3} (margin {:.3} nats)",
                        d.dataset, d.test_nll, d.gaussian_test_nll, d.margin_over_gaussian
                    );
                }
                eprintln!(
                    "[cnf-2d] done in {:.1} s; results in {}",
                    summary.wall_s, summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cnf-2d: error: {e}");
            ExitCode::FAILURE
        }
    }
}
