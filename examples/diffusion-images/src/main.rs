//! `cargo run -p diffusion-images --release -- [--quick] [--full] [--out DIR] [--backend NAME]
//! [--steps N] [--mnist DIR]` (`--help` lists every option).
//!
//! Everything happens in the library (`diffusion_images::run`); this binary parses the command
//! line (a bad one exits with status 2 and clap's message) and turns errors into a message and a
//! non-zero exit status.

use std::process::ExitCode;

use clap::Parser;
use diffusion_images::Cli;

fn main() -> ExitCode {
    // burn's CPU backends parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match diffusion_images::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                for r in &summary.results {
                    eprintln!(
                        "[diffusion-images] {}: class accuracy {:.3} ± {:.3}, Fréchet {:.2} ± {:.2}",
                        r.name, r.accuracy_mean, r.accuracy_std, r.frechet_mean, r.frechet_std
                    );
                }
                eprintln!(
                    "[diffusion-images] bits/dim {:.3} ± {:.3}; done in {:.1} s; results in {}",
                    summary.bits_per_dim_mean,
                    summary.bits_per_dim_std,
                    summary.wall_s,
                    summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("diffusion-images: error: {e}");
            ExitCode::FAILURE
        }
    }
}
