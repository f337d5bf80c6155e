//! The GAN training step of the `gan-2d` example (not in WORKLOADS.md's W1–W7): one
//! non-saturating GAN step — a discriminator update and a generator update — with the example's
//! players (generator 2-128-128-2, discriminator 2-128-128-1, ReLU), batch 256 of eight
//! Gaussians, Adam β = (0.5, 0.999), f32, on every backend. A PyTorch step of the same size is
//! not in the shared peer scripts; the closing note of the GAN work gives one where it could be
//! measured.

use burn::optim::AdamConfig;
use serde_json::{Map, Value};
use sysdyn_core::device::{DeviceSpec, Precision};
use sysdyn_core::jet::{Activation, MlpConfig};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::gan::{GanConfig, GanLoss, GanStep};
use sysdyn_train::Optim;

use super::{Bench, Workload};

const STEP: &str = "time_per_train_step";

/// The NS-GAN step of `gan-2d`.
pub const GAN: Workload = Workload {
    id: "gan-2d",
    title: "gan-2d NS-GAN step: G 2-128-128-2, D 2-128-128-1 ReLU, batch 256, Adam, f32",
    references: &[],
    table_extras: &[("first_generator_loss", "first G loss")],
    run,
};

fn eight_gaussians(rng: &mut SeededRng, rows: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(2 * rows);
    for _ in 0..rows {
        let angle = 2.0 * std::f64::consts::PI * rng.below(8) as f64 / 8.0;
        out.push(2.0 * angle.cos() + 0.02 * rng.normal());
        out.push(2.0 * angle.sin() + 0.02 * rng.normal());
    }
    out
}

fn run(bench: &mut Bench) -> Result<(), String> {
    for backend in bench.backends().to_vec() {
        let implementation = format!("sysdyn-{backend}-ns-gan");
        if !bench.selects(&implementation) {
            continue;
        }
        let spec = DeviceSpec::new(backend, Precision::F32).with_autodiff(true);
        let device = spec.init().map_err(|e| e.to_string())?;
        let mlp = |widths: Vec<usize>, seed| {
            MlpConfig::new(widths)
                .with_activation(Activation::Relu)
                .init_seeded(&device, seed)
                .map_err(|e| e.to_string())
        };
        let adam = || Optim::new(AdamConfig::new().with_beta_1(0.5).build());
        let mut step = GanStep::new(
            device.clone(),
            mlp(vec![2, 128, 128, 2], 1)?,
            mlp(vec![2, 128, 128, 1], 2)?,
            adam(),
            adam(),
            GanConfig::new(GanLoss::NonSaturating, 256),
            2,
            Box::new(eight_gaussians),
        )
        .map_err(|e| e.to_string())?;
        let (timing, first) = bench.time_train_step(&mut step, 2e-4)?;
        let mut extra = Map::new();
        extra.insert("first_generator_loss".into(), Value::from(first));
        extra.insert("backend".into(), Value::from(backend.to_string()));
        let m = timing.measurement("gan-2d", implementation, STEP, extra);
        bench.record(m);
    }
    Ok(())
}
