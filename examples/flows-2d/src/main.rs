//! `cargo run -p flows-2d --release -- [--quick | --full] [--out DIR] [--families LIST]
//! [--power FILE --gas FILE]` (`--help` lists every option).
//!
//! Everything happens in the library (`flows_2d::run`); this binary parses the command line (a
//! bad one exits with status 2 and clap's message) and turns errors into a message and a
//! non-zero exit status.

use std::process::ExitCode;

use clap::Parser;
use flows_2d::Cli;

fn main() -> ExitCode {
    // burn's CPU backends and the MLP engine parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match flows_2d::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                for r in &summary.results {
                    eprintln!(
                        "[flows-2d] {} {}: test NLL {:.3} ± {:.3} nats, {:.1} s per run",
                        r.data, r.family, r.nll_mean, r.nll_std, r.train_s_mean
                    );
                }
                eprintln!(
                    "[flows-2d] done in {:.1} s; results in {}",
                    summary.wall_s, summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("flows-2d: error: {e}");
            ExitCode::FAILURE
        }
    }
}
