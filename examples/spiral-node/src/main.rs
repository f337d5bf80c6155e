//! `cargo run -p spiral-node --release -- [--quick] [--out DIR] [--backend NAME] ...`
//!
//! Everything happens in the library (`spiral_node::run`); this binary parses the command line
//! and turns errors into a message and a non-zero exit status.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}", spiral_node::USAGE);
        return ExitCode::SUCCESS;
    }
    let result = spiral_node::Options::from_args(&args).and_then(|o| spiral_node::run(&o));
    match result {
        Ok(summary) => {
            eprintln!(
                "[spiral-node] trajectory MSE {:.3e} (untrained {:.3e}); done in {:.1} s; results in {}",
                summary.trajectory_mse,
                summary.initial_trajectory_mse,
                summary.wall_s,
                summary.out_dir
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("spiral-node: error: {e}");
            ExitCode::FAILURE
        }
    }
}
