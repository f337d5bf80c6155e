//! `cargo run -p equation-discovery --release -- [--quick] [--out DIR] [--seed N]`
//! (`--help` lists every option).
//!
//! Everything happens in the library (`equation_discovery::run`); this binary parses the
//! command line (a bad one exits with status 2 and clap's message) and turns errors into a
//! message and a non-zero exit status.

use std::process::ExitCode;

use clap::Parser;
use equation_discovery::Cli;

fn main() -> ExitCode {
    // burn's CPU backends parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match equation_discovery::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                for c in &summary.cases {
                    eprintln!(
                        "[equation-discovery] {} ({}): clean mean error {:.3}%{}",
                        c.system,
                        c.method,
                        100.0 * c.clean.mean_relative_error,
                        c.noisy_mean_error
                            .map(|[m, s]| format!(
                                ", 1% noise {:.2} ± {:.2}% ({} of {} seeds with the right terms)",
                                100.0 * m,
                                100.0 * s,
                                c.noisy_pattern_correct,
                                c.noisy.len()
                            ))
                            .unwrap_or_default()
                    );
                }
                eprintln!(
                    "[equation-discovery] done in {:.1} s; results in {}",
                    summary.wall_s, summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("equation-discovery: error: {e}");
            ExitCode::FAILURE
        }
    }
}
