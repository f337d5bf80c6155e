//! A VAE training step (not in WORKLOADS.md's W1–W7; issue 17's bench): the MLP VAE of many
//! MNIST tutorials, 784-400-20 with ReLU (`MlpVaeConfig::relu_mnist()`), a Bernoulli decoder on
//! logits, the one-sample ELBO, batch 128 of dynamically binarised 28×28 procedural digits,
//! Adam 1e-3, f32, on every backend. The timed call is one `VaeStep::step`: drawing and
//! binarising the batch on the host, uploading it, the forward pass, backward pass and Adam
//! update, and the loss read back to the host. The PyTorch step of the same size (the
//! `examples/vae` of pytorch/examples) is not in the shared peer scripts.

use std::sync::Arc;

use burn::optim::AdamConfig;
use serde_json::{Map, Value};
use sysdyn_core::device::{DeviceSpec, Precision};
use sysdyn_core::rng::SeededRng;
use sysdyn_data::images::DigitsConfig;
use sysdyn_generative::vae::{MlpVaeConfig, VaeConfig, VaeStep};
use sysdyn_train::Optim;

use super::{Bench, Workload};

const STEP: &str = "time_per_train_step";
/// Rows per step.
const BATCH: usize = 128;
/// Digits the batches are drawn from.
const DIGITS: usize = 1024;

/// The VAE step.
pub const VAE: Workload = Workload {
    id: "vae-mlp",
    title: "VAE ELBO step: MLP 784-400-20 ReLU, Bernoulli decoder, batch 128, Adam, f32",
    references: &[],
    table_extras: &[("first_loss", "first loss (nats)")],
    run,
};

fn run(bench: &mut Bench) -> Result<(), String> {
    let digits = Arc::new(
        DigitsConfig::default()
            .generate(DIGITS, 0)
            .map_err(|e| e.to_string())?
            .pixels,
    );
    for backend in bench.backends().to_vec() {
        let implementation = format!("sysdyn-{backend}-vae");
        if !bench.selects(&implementation) {
            continue;
        }
        let spec = DeviceSpec::new(backend, Precision::F32).with_autodiff(true);
        let device = spec.init().map_err(|e| e.to_string())?;
        let vae = MlpVaeConfig::relu_mnist()
            .init(&device, 1)
            .map_err(|e| e.to_string())?;
        let pixels = Arc::clone(&digits);
        // Dynamic binarisation: each draw picks digits and samples every pixel ~ Bernoulli(grey).
        let sampler = Box::new(move |rng: &mut SeededRng, rows: usize| {
            let mut batch = Vec::with_capacity(rows * 784);
            for _ in 0..rows {
                let i = rng.below(DIGITS as u64) as usize;
                for &p in &pixels[i * 784..(i + 1) * 784] {
                    batch.push(if rng.uniform() < p { 1.0 } else { 0.0 });
                }
            }
            batch
        });
        let mut step = VaeStep::new(
            device.clone(),
            vae,
            Optim::new(AdamConfig::new().build()),
            VaeConfig::new(BATCH),
            sampler,
        )
        .map_err(|e| e.to_string())?;
        let (timing, first) = bench.time_train_step(&mut step, 1e-3)?;
        let mut extra = Map::new();
        extra.insert("first_loss".into(), Value::from(first));
        extra.insert("backend".into(), Value::from(backend.to_string()));
        extra.insert("batch".into(), Value::from(BATCH));
        let m = timing.measurement("vae-mlp", implementation, STEP, extra);
        bench.record(m);
    }
    Ok(())
}
