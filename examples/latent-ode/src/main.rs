//! `cargo run -p latent-ode --release -- [--quick] [--out DIR] [--backend NAME] ...`
//!
//! Everything happens in the library (`latent_ode::run`); this binary parses the command line
//! and turns errors into a message and a non-zero exit status.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}", latent_ode::USAGE);
        return ExitCode::SUCCESS;
    }
    let result = latent_ode::Options::from_args(&args).and_then(|o| latent_ode::run(&o));
    match result {
        Ok(s) => {
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
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("latent-ode: error: {e}");
            ExitCode::FAILURE
        }
    }
}
