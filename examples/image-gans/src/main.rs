//! `cargo run -p image-gans --release -- [--quick | --full] [--out DIR] [--backend NAME] [--steps N]
//! [--mnist DIR]` (`--help` lists every option).
//!
//! Everything happens in the library (`image_gans::run`); this binary parses the command line (a
//! bad one exits with status 2 and clap's message) and turns errors into a message and a
//! non-zero exit status.

use std::process::ExitCode;

use clap::Parser;
use image_gans::Cli;

fn main() -> ExitCode {
    // burn's CPU backends parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match image_gans::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                for r in &summary.results {
                    eprintln!(
                        "[image-gans] {}: Fréchet {:.3} ± {:.3} (blurred baseline {:.3}, \
                         held-out floor {:.3}){}",
                        r.variant,
                        r.frechet_mean,
                        r.frechet_std,
                        summary.frechet_blurred,
                        summary.frechet_held_out,
                        match (r.class_accuracy_mean, r.class_accuracy_std) {
                            (Some(m), Some(s)) => format!(", class accuracy {m:.3} ± {s:.3}"),
                            _ => String::new(),
                        }
                    );
                }
                eprintln!(
                    "[image-gans] done in {:.1} s; results in {}",
                    summary.wall_s, summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("image-gans: error: {e}");
            ExitCode::FAILURE
        }
    }
}
