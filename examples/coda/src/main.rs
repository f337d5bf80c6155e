//! `cargo run -p coda --release -- [--quick] [--full] [--out DIR] [--steps N] [--seeds N]`
//! (`--help` lists every option).
//!
//! Everything happens in the library (`coda::run`); this binary parses the command line (a bad
//! one exits with status 2 and clap's message) and turns errors into a message and a non-zero
//! exit status.

use std::process::ExitCode;

use clap::Parser;
use coda::Cli;

fn main() -> ExitCode {
    // burn's CPU backends parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match coda::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                let r = &summary.results;
                eprintln!(
                    "[coda] training environments: test MSE {:.3e} ± {:.3e}",
                    r.coda_train_envs.mean, r.coda_train_envs.std
                );
                eprintln!(
                    "[coda] new environments, context only: {:.3e} ± {:.3e}; One-For-All \
                     fine-tuned: {:.3e} ± {:.3e}",
                    r.coda_adapted.mean,
                    r.coda_adapted.std,
                    r.one_for_all_finetuned.mean,
                    r.one_for_all_finetuned.std
                );
                eprintln!(
                    "[coda] done in {:.1} s; results in {}",
                    summary.wall_s, summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("coda: error: {e}");
            ExitCode::FAILURE
        }
    }
}
