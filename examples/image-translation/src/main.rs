//! `cargo run -p image-translation --release -- [--quick | --full] [--out DIR] [--backend NAME]
//! [--pix2pix-steps N] [--cyclegan-steps N]` (`--help` lists every option).
//!
//! Everything happens in the library (`image_translation::run`); this binary parses the command line (a
//! bad one exits with status 2 and clap's message) and turns errors into a message and a
//! non-zero exit status.

use std::process::ExitCode;

use clap::Parser;
use image_translation::Cli;

fn main() -> ExitCode {
    // burn's CPU backends parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match image_translation::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                for line in summary.lines() {
                    eprintln!("[image-translation] {line}");
                }
                eprintln!(
                    "[image-translation] done in {:.1} s; results in {}",
                    summary.wall_s, summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("image-translation: error: {e}");
            ExitCode::FAILURE
        }
    }
}
