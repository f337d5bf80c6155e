//! `cargo run -p optim-dynamics -- [--quick] [--out DIR] [--backend NAME] [--precision f32|f64]`
//!
//! Everything happens in the library (`optim_dynamics::run`); this binary parses the command line
//! and turns errors into a message and a non-zero exit status.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}", optim_dynamics::USAGE);
        return ExitCode::SUCCESS;
    }
    let result = optim_dynamics::Options::from_args(&args).and_then(|o| optim_dynamics::run(&o));
    match result {
        Ok(summary) => {
            eprintln!(
                "[optim-dynamics] done in {:.2} s; results in {}",
                summary.wall_s, summary.out_dir
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("optim-dynamics: error: {e}");
            ExitCode::FAILURE
        }
    }
}
