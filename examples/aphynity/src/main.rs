//! `cargo run -p aphynity --release -- [pendulum|rd|wave ...] [--quick | --full] [--out DIR]`
//! (`--help` lists every option).
//!
//! Everything happens in the library (`aphynity::run`); this binary parses the command line (a
//! bad one exits with status 2 and clap's message) and turns errors into a message and a
//! non-zero exit status.

use std::process::ExitCode;

use aphynity::Cli;
use clap::Parser;

fn main() -> ExitCode {
    // burn's CPU backends parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match aphynity::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                eprintln!("{}", aphynity::table(&summary));
                eprintln!(
                    "[aphynity] done in {:.1} s; results in {}",
                    summary.wall_s, summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("aphynity: error: {e}");
            ExitCode::FAILURE
        }
    }
}
