//! `cargo run -p flows-images --release -- [--quick | --full] [--out DIR] [--mnist DIR]`
//! (`--help` lists every option).
//!
//! Everything happens in the library (`flows_images::run`); this binary parses the command
//! line (a bad one exits with status 2 and clap's message) and turns errors into a message and
//! a non-zero exit status.

use std::process::ExitCode;

use clap::Parser;
use flows_images::Cli;

fn main() -> ExitCode {
    // burn's CPU backends parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match flows_images::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                eprintln!(
                    "[flows-images] held-out bits/dim {:.3} ± {:.3} over {} seed(s); done in {:.1} s; results in {}",
                    summary.bits_per_dim_mean,
                    summary.bits_per_dim_std,
                    summary.bits_per_dim.len(),
                    summary.wall_s,
                    summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("flows-images: error: {e}");
            ExitCode::FAILURE
        }
    }
}
