//! `cargo run -p stable-resnets -- [--quick] [--out DIR] [--mnist DIR] [--backend NAME] ...`
//! (`--help` lists every option).
//!
//! Everything happens in the library (`stable_resnets::run`); this binary parses the command line
//! (a bad one exits with status 2 and clap's message) and turns errors into a message and a
//! non-zero exit status.

use std::process::ExitCode;

use clap::Parser;
use stable_resnets::Cli;

fn main() -> ExitCode {
    // burn's CPU backends and the MLP engine parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match stable_resnets::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                eprintln!(
                    "[stable-resnets] done in {:.2} s; results in {}",
                    summary.wall_s, summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("stable-resnets: error: {e}");
            ExitCode::FAILURE
        }
    }
}
