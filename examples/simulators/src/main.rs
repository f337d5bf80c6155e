//! `cargo run -p simulators --release -- [--quick] [--out DIR] [--seed N]` (`--help` lists
//! every option).
//!
//! Everything happens in the library (`simulators::run`); this binary parses the command line
//! (a bad one exits with status 2 and clap's message) and turns errors into a message and a
//! non-zero exit status.

use std::process::ExitCode;

use clap::Parser;
use simulators::Cli;

fn main() -> ExitCode {
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match simulators::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                for g in &summary.simulators {
                    eprintln!(
                        "[simulators] {}: {} trajectories in {:.3} s; {}",
                        g.name, g.trajectories, g.generate_s, g.check
                    );
                }
                eprintln!(
                    "[simulators] done in {:.1} s; results in {}",
                    summary.wall_s, summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("simulators: error: {e}");
            ExitCode::FAILURE
        }
    }
}
