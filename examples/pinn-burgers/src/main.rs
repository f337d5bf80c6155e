//! `cargo run -p pinn-burgers --release -- [PROBLEM…] [--quick | --full] [--out DIR]`
//! (`--help` lists every option).
//!
//! Everything happens in the library (`pinn_burgers::run`); this binary parses the command line
//! (a bad one exits with status 2 and clap's message) and turns errors into a message and a
//! non-zero exit status.

use std::process::ExitCode;

use clap::Parser;
use pinn_burgers::Cli;

fn main() -> ExitCode {
    // burn's CPU backends parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match pinn_burgers::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                for k in &summary.key_numbers {
                    eprintln!("[pinn-burgers] {}: {:.4e}", k.name, k.value);
                }
                eprintln!(
                    "[pinn-burgers] done in {:.1} s; results in {}",
                    summary.wall_s, summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pinn-burgers: error: {e}");
            ExitCode::FAILURE
        }
    }
}
