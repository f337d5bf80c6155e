//! `cargo run -p cnf-2d --release -- [--quick] [--out DIR] [--backend NAME] [--iterations N]`
//!
//! Everything happens in the library (`cnf_2d::run`); this binary parses the command line and
//! turns errors into a message and a non-zero exit status.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}", cnf_2d::USAGE);
        return ExitCode::SUCCESS;
    }
    let result = cnf_2d::Options::from_args(&args).and_then(|o| cnf_2d::run(&o));
    match result {
        Ok(summary) => {
            for d in &summary.datasets {
                eprintln!(
                    "[cnf-2d] {}: test NLL {:.3} vs single Gaussian {:.3} (margin {:.3} nats)",
                    d.dataset, d.test_nll, d.gaussian_test_nll, d.margin_over_gaussian
                );
            }
            eprintln!(
                "[cnf-2d] done in {:.1} s; results in {}",
                summary.wall_s, summary.out_dir
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cnf-2d: error: {e}");
            ExitCode::FAILURE
        }
    }
}
