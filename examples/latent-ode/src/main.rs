//! `cargo run -p latent-ode --release -- [--quick] [--out DIR] [--backend NAME] [--seed N] ...`
//! (`--help` lists every option).
//!
//! Everything happens in the library (`latent_ode::run`); this binary parses the command line (a
//! bad one exits with status 2 and clap's message) and turns errors into a message and a
//! non-zero exit status.

use std::process::ExitCode;

use clap::Parser;
use latent_ode::Cli;

fn main() -> ExitCode {
    // burn's CPU backends and the MLP engine parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match latent_ode::run(&options) {
        Ok(s) => {
            if !options.quiet {
                eprintln!(
                    "[latent-ode] extrapolation RMSE: latent ODE {:.3}, GRU {:.3}; interpolation: \
                     latent ODE {:.3}, GRU {:.3}; done in {:.1} s; results in {}",
                    s.latent_ode.extrapolation,
                    s.gru_baseline.extrapolation,
                    s.latent_ode.interpolation,
                    s.gru_baseline.interpolation,
                    s.wall_s,
                    s.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("latent-ode: error: {e}");
            ExitCode::FAILURE
        }
    }
}
