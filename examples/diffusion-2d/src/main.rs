//! `cargo run -p diffusion-2d --release -- [--quick | --full] [--out DIR] [--backend NAME] [--seeds N]`
//! (`--help` lists every option).
//!
//! Everything happens in the library (`diffusion_2d::run`); this binary parses the command line
//! (a bad one exits with status 2 and clap's message) and turns errors into a message and a
//! non-zero exit status.

use std::process::ExitCode;

use clap::Parser;
use diffusion_2d::Cli;

fn main() -> ExitCode {
    // burn's CPU backends and the MLP engine parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match diffusion_2d::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                for r in summary.results.iter().filter(|r| r.main) {
                    eprintln!(
                        "[diffusion-2d] {} {}: SW {:.3} ± {:.3} at NFE {:.0}",
                        r.data,
                        r.sampler,
                        r.sliced_wasserstein.mean,
                        r.sliced_wasserstein.std,
                        r.nfe.mean
                    );
                }
                eprintln!(
                    "[diffusion-2d] done in {:.1} s; results in {}",
                    summary.wall_s, summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("diffusion-2d: error: {e}");
            ExitCode::FAILURE
        }
    }
}
