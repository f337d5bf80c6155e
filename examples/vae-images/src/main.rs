//! `cargo run -p vae-images --release -- [--quick | --full] [--out DIR] [--backend NAME]
//! [--steps N] [--mnist DIR]` (`--help` lists every option).
//!
//! Everything happens in the library (`vae_images::run`); this binary parses the command line
//! (a bad one exits with status 2 and clap's message) and turns errors into a message and a
//! non-zero exit status.

use std::process::ExitCode;

use clap::Parser;
use vae_images::Cli;

fn main() -> ExitCode {
    // burn's CPU backends parallelise over rayon's pool: this thread works in it.
    sysdyn_core::threads::join_global_pool();
    let options = Cli::parse().options().unwrap_or_else(|e| e.exit());
    match vae_images::run(&options) {
        Ok(summary) => {
            if !options.quiet {
                for r in &summary.vaes {
                    eprintln!(
                        "[vae-images] {}: NLL {:.2} ± {:.2} nats, {:.4} ± {:.4} bits/dim (k = {})",
                        r.model,
                        r.nll_nats.mean,
                        r.nll_nats.std,
                        r.bits_per_dim.mean,
                        r.bits_per_dim.std,
                        summary.eval_k
                    );
                }
                let vq = &summary.vq;
                for r in [&vq.restart, &vq.plain] {
                    eprintln!(
                        "[vae-images] VQ-VAE {}: MSE {:.5} ± {:.5}, perplexity {:.1} ± {:.1}, \
                         codes used {:?} of {}",
                        if r.restart {
                            "with restarts"
                        } else {
                            "without restarts"
                        },
                        r.mse.mean,
                        r.mse.std,
                        r.perplexity.mean,
                        r.perplexity.std,
                        r.codes_used,
                        vq.codes
                    );
                }
                for g in &vq.gaussian {
                    eprintln!(
                        "[vae-images] Gaussian VAE ({} latents, {}): MSE {:.5} ± {:.5}, KL {:.1} \
                         ± {:.1} nats",
                        g.latent, g.decoder, g.mse.mean, g.mse.std, g.kl_nats.mean, g.kl_nats.std
                    );
                }
                eprintln!(
                    "[vae-images] done in {:.1} s; results in {}",
                    summary.wall_s, summary.out_dir
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vae-images: error: {e}");
            ExitCode::FAILURE
        }
    }
}
