//! W3 (ddpm-2d): DDPM on the eight Gaussians of `fixtures/ddpm.npz`, f32, on every backend, with
//! the library's pieces — [`NoiseSchedule::ddpm_linear`] (β linear 1e-4 … 0.02, T = 1000), the
//! ε-network of [`EpsNetConfig::w3`] ([x, sinusoidal emb(t) of dim 32] 34-128-128-128-2 SiLU)
//! built from the fixture's `L0..L3` — and two timed calls:
//!
//! (a) one [`DdpmStep`] on all 1024 rows of `x0`: `t ~ U{0 … 999}` and `ε ~ N(0, I)` per row
//! drawn inside the step, `x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε`, `loss = mean((ε̂(x_t, t) − ε)²)`,
//! backward, Adam 1e-3 (no moving average of the weights: WORKLOADS.md's step has none);
//!
//! (b) [`sample_ancestral`] of 1024 points from `N(0, I)` with the fixture weights, `σ_t² = β_t`,
//! 1000 network evaluations on a device without autodiff (no gradients).
//!
//! Each on the tensor path (burn ops, burn autodiff: any module) and, on the CPU backends, on the
//! MLP host engine (`-host` rows: [`EpsPredictor`] and the step's default, the same mathematics;
//! sysdyn-generative's `diffusion_host` test checks they agree).
//!
//! WORKLOADS.md gives no first loss for W3 (its loss depends on the random `t` and `ε`), so the
//! rows carry the first loss for reading, and the check is the network's: its first loss on the
//! fixture data must lie near 1, the loss of predicting `ε̂ = 0` (an untrained net predicts small
//! values; far from 1 means the weights or the embedding were read wrong).

use burn::optim::AdamConfig;
use serde_json::{Map, Value};
use sysdyn_core::device::{Backend, DeviceSpec, Precision, SysDevice};
use sysdyn_core::jet::Activation;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::diffusion::{
    AncestralVariance, DdpmConfig, DdpmStep, EpsNet, EpsNetConfig, EpsPredictor, NoiseSchedule,
    TimeEmbedding, sample_ancestral,
};
use sysdyn_train::Optim;

use super::node_cnf::fixture_mlp;
use super::npz::{Array, load_fixture};
use super::{Bench, Reference, Workload};

const STEP: &str = "time_per_train_step";
const SAMPLE: &str = "time_per_sample_1024";
/// Points of `x0`, and points sampled.
const POINTS: usize = 1024;
/// The first loss must lie within this of 1 (the loss of `ε̂ = 0`), see the module comment.
const FIRST_LOSS_BAND: f64 = 0.5;

/// W3: the DDPM training step and ancestral sampling.
pub const W3: Workload = Workload {
    id: "W3",
    title: "ddpm-2d: eps-net [x, emb32] 34-128-128-128-2 SiLU, 1024 points, T=1000, Adam / \
            ancestral sampling of 1024 points, f32",
    references: &[
        Reference {
            metric: STEP,
            name: "torch",
            median: 2.95,
        },
        Reference {
            metric: STEP,
            name: "JAX",
            median: 2.80,
        },
        Reference {
            metric: SAMPLE,
            name: "torch",
            median: 790.0,
        },
        Reference {
            metric: SAMPLE,
            name: "JAX",
            median: 640.0,
        },
    ],
    table_extras: &[
        ("first_loss", "first loss"),
        ("nfe", "NFE"),
        ("sample_radius", "mean ‖x‖ of samples"),
    ],
    run,
};

/// The fixture's ε-network on `device`.
fn fixture_net(
    device: &SysDevice,
    arrays: &std::collections::BTreeMap<String, Array>,
) -> Result<EpsNet, String> {
    let config = EpsNetConfig::w3();
    let mlp = fixture_mlp(device, arrays, config.hidden.len() + 1, Activation::Silu)?;
    let embedding = TimeEmbedding::new(config.embedding_dim).map_err(|e| e.to_string())?;
    EpsNet::from_mlp(mlp, embedding).map_err(|e| e.to_string())
}

fn run(bench: &mut Bench) -> Result<(), String> {
    let arrays = load_fixture(bench.bench_dir(), "ddpm")?;
    let x0 = arrays
        .get("x0")
        .ok_or("fixture ddpm lacks `x0`")?
        .values
        .clone();
    if x0.len() != 2 * POINTS {
        return Err(format!(
            "fixture ddpm: x0 has {} values, W3 needs {POINTS}×2",
            x0.len()
        ));
    }
    for backend in bench.backends().to_vec() {
        // The host engine runs where the tensors live in host memory (flex, ndarray).
        let engines: &[bool] = match backend {
            Backend::Flex | Backend::Ndarray => &[false, true],
            _ => &[false],
        };
        for &host in engines {
            let suffix = if host { "-host" } else { "" };
            let implementation = format!("sysdyn-{backend}-ddpm-step{suffix}");
            if bench.selects(&implementation) {
                train_step(bench, backend, &arrays, &x0, implementation, host)?;
            }
            let implementation = format!("sysdyn-{backend}-ddpm-ancestral{suffix}");
            if bench.selects(&implementation) {
                sample(bench, backend, &arrays, implementation, host)?;
            }
        }
    }
    Ok(())
}

fn train_step(
    bench: &mut Bench,
    backend: sysdyn_core::device::Backend,
    arrays: &std::collections::BTreeMap<String, Array>,
    x0: &[f64],
    implementation: String,
    host: bool,
) -> Result<(), String> {
    let device = DeviceSpec::new(backend, Precision::F32)
        .with_autodiff(true)
        .init()
        .map_err(|e| e.to_string())?;
    let net = fixture_net(&device, arrays)?;
    let data = x0.to_vec();
    let mut step = DdpmStep::new(
        device,
        net,
        Optim::new(AdamConfig::new().with_epsilon(1e-8).build()),
        NoiseSchedule::ddpm_linear(),
        DdpmConfig::new(POINTS).with_ema_decay(None),
        // Every step trains on all of x0 (WORKLOADS.md's step has no minibatching).
        Box::new(move |_: &mut SeededRng, _| data.clone()),
    )
    .map_err(|e| e.to_string())?
    .with_host_engine(host);
    let (timing, first) = bench.time_train_step(&mut step, 1e-3)?;
    // NaN fails the band too.
    let in_band = (first - 1.0).abs() <= FIRST_LOSS_BAND;
    if !in_band {
        bench.note(format!(
            "FIRST LOSS OUT OF BAND {implementation}: {first} (expected 1 ± {FIRST_LOSS_BAND}, \
             the loss of ε̂ = 0)"
        ));
    }
    let mut extra = Map::new();
    extra.insert("first_loss".into(), Value::from(first));
    extra.insert("backend".into(), Value::from(backend.to_string()));
    let m = timing.measurement("W3", implementation, STEP, extra);
    bench.record(m);
    Ok(())
}

fn sample(
    bench: &mut Bench,
    backend: sysdyn_core::device::Backend,
    arrays: &std::collections::BTreeMap<String, Array>,
    implementation: String,
    host: bool,
) -> Result<(), String> {
    let device = DeviceSpec::new(backend, Precision::F32)
        .init()
        .map_err(|e| e.to_string())?;
    let net = fixture_net(&device, arrays)?;
    let schedule = NoiseSchedule::ddpm_linear();
    let mut rng = SeededRng::new(3);
    let mut radius = f64::NAN;
    let (timing, _) = bench.time(|| {
        // The host copy of the weights is made once per sampling run, inside the timing.
        let mut predictor = if host {
            EpsPredictor::new(&net)
        } else {
            EpsPredictor::tensor_path(&net)
        };
        if predictor.uses_host_engine() != host {
            return Err(format!(
                "{implementation}: the host engine does not take this network"
            ));
        }
        let start = device.randn(&mut rng, [POINTS, 2]);
        let samples = sample_ancestral(
            &schedule,
            &mut predictor,
            start,
            AncestralVariance::Beta,
            &mut rng,
        )
        .map_err(|e| e.to_string())?;
        // Reading the samples back ends the call, as the peers' sampling loops block on theirs.
        let values: Vec<f32> = samples
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| format!("{e:?}"))?;
        radius = values
            .chunks(2)
            .map(|p| f64::from(p[0]).hypot(f64::from(p[1])))
            .sum::<f64>()
            / POINTS as f64;
        Ok(())
    })?;
    let mut extra = Map::new();
    extra.insert("nfe".into(), Value::from(schedule.steps()));
    extra.insert("sample_radius".into(), Value::from(radius));
    extra.insert("backend".into(), Value::from(backend.to_string()));
    let m = timing.measurement("W3", implementation, SAMPLE, extra);
    bench.record(m);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ε-network as WORKLOADS.md writes it, on the host from the fixture's PyTorch-layout
    /// arrays: `[x, sin(t·f), cos(t·f)]`, `f_i = exp(−ln(10000)·i/16)`, `y = x Wᵀ + b`, SiLU.
    fn host_eps(
        arrays: &std::collections::BTreeMap<String, Array>,
        x: [f64; 2],
        t: usize,
    ) -> Vec<f64> {
        let freqs: Vec<f64> = (0..16)
            .map(|i| (-(10000f64).ln() * i as f64 / 16.0).exp())
            .collect();
        let mut h: Vec<f64> = x.to_vec();
        h.extend(freqs.iter().map(|f| (t as f64 * f).sin()));
        h.extend(freqs.iter().map(|f| (t as f64 * f).cos()));
        for l in 0..4 {
            let w = &arrays[&format!("L{l}.weight")];
            let b = &arrays[&format!("L{l}.bias")];
            let (out, inp) = (w.shape[0], w.shape[1]);
            assert_eq!(inp, h.len());
            h = (0..out)
                .map(|o| {
                    let z =
                        b.values[o] + (0..inp).map(|i| w.values[o * inp + i] * h[i]).sum::<f64>();
                    if l < 3 { z / (1.0 + (-z).exp()) } else { z }
                })
                .collect();
        }
        h
    }

    #[test]
    fn the_fixture_network_is_the_workloads_eps_network() {
        let arrays = load_fixture(&crate::bench::repo_bench_dir(), "ddpm").unwrap();
        let device = DeviceSpec::new(Backend::Flex, Precision::F64)
            .init()
            .unwrap();
        let net = fixture_net(&device, &arrays).unwrap();
        let points = [[0.3, -0.7], [2.0, 0.1], [-1.4, 1.4]];
        for t in [0, 1, 500, 999] {
            let x = device
                .tensor(
                    points.iter().flatten().copied().collect::<Vec<f64>>(),
                    [3, 2],
                )
                .unwrap();
            let got: Vec<f64> = net
                .forward(x, &[t; 3], None)
                .unwrap()
                .into_data()
                .try_to_vec::<f64>()
                .unwrap();
            for (row, point) in points.iter().enumerate() {
                let want = host_eps(&arrays, *point, t);
                for (k, w) in want.iter().enumerate() {
                    let g = got[2 * row + k];
                    assert!((g - w).abs() < 1e-9, "t {t} row {row}: {g} vs {w}");
                }
            }
        }
    }
}
