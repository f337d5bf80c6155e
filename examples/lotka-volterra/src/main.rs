//! `cargo run -p lotka-volterra -- [--quick] [--out DIR] [--backend NAME] [--precision f32|f64]`
//!
//! Everything happens in the library (`lotka_volterra::run`); this binary parses the command line
//! and turns errors into a message and a non-zero exit status.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}", lotka_volterra::USAGE);
        return ExitCode::SUCCESS;
    }
    let result = lotka_volterra::Options::from_args(&args).and_then(|o| lotka_volterra::run(&o));
    match result {
        Ok(summary) => {
            eprintln!(
                "[lotka-volterra] done in {:.2} s; results in {}",
                summary.wall_s, summary.out_dir
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lotka-volterra: error: {e}");
            ExitCode::FAILURE
        }
    }
}
