//! `cargo run -p stable-resnets -- [--quick] [--out DIR] [--backend NAME] [--precision f32|f64]`
//!
//! Everything happens in the library (`stable_resnets::run`); this binary parses the command line
//! and turns errors into a message and a non-zero exit status.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}", stable_resnets::USAGE);
        return ExitCode::SUCCESS;
    }
    let result = stable_resnets::Options::from_args(&args).and_then(|o| stable_resnets::run(&o));
    match result {
        Ok(summary) => {
            eprintln!(
                "[stable-resnets] done in {:.2} s; results in {}",
                summary.wall_s, summary.out_dir
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("stable-resnets: error: {e}");
            ExitCode::FAILURE
        }
    }
}
