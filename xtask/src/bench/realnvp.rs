//! W4 (realnvp-2d): RealNVP on the two moons of `fixtures/realnvp.npz`, f32, on every backend,
//! with the library's pieces — eight [`SplitAffineCoupling`]s (layer `l` keeps feature
//! `c = l mod 2`, `s = tanh(S_l(x_c))`, `y_o = x_o·exp(s) + T_l(x_c)`, `S_l`, `T_l`
//! 1 → 64 → ReLU → 64 → ReLU → 1 from the fixture's `S{l}_{0,1,2}`, `T{l}_{0,1,2}`), the standard
//! normal base, and one timed [`FlowStep`] by maximum likelihood on all 1024 points of `x`:
//! `NLL = −mean(−½|z|² − log 2π + Σ_l logdet_l)`, backward, Adam 1e-3 (no moving average, no
//! data-dependent initialisation: the fixture's layers have none).
//!
//! On the CPU backends a `-host` row runs the same step wholly on the host: `FlowStep` with
//! sysdyn-optim's Adam keeps the weights and moments in host memory and runs the flow on the
//! MLP host engine ([`HostAffineChain`]; sysdyn-generative's `flow_host` tests check it against
//! burn autodiff and burn's Adam).
//!
//! The first loss must equal WORKLOADS.md's 2.5849168 to a relative 1e-4 (both f32 runs of one
//! computation); a mismatch is noted under the table, as for W2 and W6.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sysdyn_core::burn::module::Param;
use sysdyn_core::burn::nn::Linear;
use sysdyn_core::burn::optim::AdamConfig;
use sysdyn_core::device::{Backend, DeviceSpec, Precision, SysDevice};
use sysdyn_core::jet::{Activation, Mlp};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::flow::base::StandardNormal;
use sysdyn_generative::flow::chain::Chain;
use sysdyn_generative::flow::coupling::{Parity, ScaleBound, SplitAffineCoupling};
use sysdyn_generative::flow::host::HostAffineChain;
use sysdyn_generative::flow::model::FlowModel;
use sysdyn_generative::flow::step::{FlowConfig, FlowObjective, FlowStep};
use sysdyn_optim::UpdateRule;
use sysdyn_train::{Optim, TrainStep};

use super::npz::{Array, load_fixture};
use super::{Bench, Reference, Timing, Workload};

const STEP: &str = "time_per_train_step";
/// Points of `x`, all of them in every step.
const POINTS: usize = 1024;
/// Coupling layers.
const LAYERS: usize = 8;
/// WORKLOADS.md's first loss with the fixture weights.
const FIRST_LOSS: f64 = 2.5849168;
/// Relative difference allowed between our first loss and WORKLOADS.md's (f32 rounding).
const FIRST_LOSS_RTOL: f64 = 1e-4;

/// W4: one RealNVP maximum-likelihood training step.
pub const W4: Workload = Workload {
    id: "W4",
    title: "realnvp-2d: 8 affine couplings, S/T 1-64-64-1 ReLU, s = tanh, 1024 points, NLL, \
            Adam, f32",
    references: &[
        Reference {
            metric: STEP,
            name: "JAX",
            median: 6.3,
        },
        Reference {
            metric: STEP,
            name: "torch",
            median: 11.0,
        },
        Reference {
            metric: STEP,
            name: "zuko (own architecture)",
            median: 9.7,
        },
        Reference {
            metric: STEP,
            name: "normflows (own architecture)",
            median: 14.6,
        },
    ],
    table_extras: &[
        ("first_loss", "first loss"),
        ("first_loss_rel_error", "vs 2.5849168"),
    ],
    run,
};

/// The MLP `{prefix}_0 … {prefix}_2` of the fixture (PyTorch layout `y = x Wᵀ + b`) with
/// ReLU between its layers.
fn fixture_net(
    device: &SysDevice,
    arrays: &BTreeMap<String, Array>,
    prefix: &str,
) -> Result<Mlp, String> {
    let mut linears = Vec::with_capacity(3);
    for k in 0..3 {
        let get = |name: String| {
            arrays
                .get(&name)
                .ok_or(format!("fixture realnvp lacks `{name}`"))
        };
        let w = get(format!("{prefix}_{k}.weight"))?;
        let b = get(format!("{prefix}_{k}.bias"))?;
        let (out, inp) = (w.shape[0], w.shape[1]);
        let mut transposed = vec![0.0; out * inp];
        for o in 0..out {
            for i in 0..inp {
                transposed[i * out + o] = w.values[o * inp + i];
            }
        }
        linears.push(Linear {
            weight: Param::from_tensor(
                device
                    .tensor(transposed, [inp, out])
                    .map_err(|e| e.to_string())?,
            ),
            bias: Some(Param::from_tensor(
                device
                    .tensor(b.values.clone(), [out])
                    .map_err(|e| e.to_string())?,
            )),
        });
    }
    Mlp::new(linears, Activation::Relu).map_err(|e| e.to_string())
}

/// The fixture's RealNVP on `device`.
fn fixture_model(
    device: &SysDevice,
    arrays: &BTreeMap<String, Array>,
) -> Result<FlowModel<StandardNormal, Chain<SplitAffineCoupling>>, String> {
    let layers = (0..LAYERS)
        .map(|l| {
            let parity = if l % 2 == 0 {
                Parity::Even
            } else {
                Parity::Odd
            };
            SplitAffineCoupling::from_networks(
                fixture_net(device, arrays, &format!("S{l}"))?,
                fixture_net(device, arrays, &format!("T{l}"))?,
                2,
                parity,
                ScaleBound::Tanh { bound: 1.0 },
                0,
            )
            .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(FlowModel::new(
        StandardNormal::new(2).map_err(|e| e.to_string())?,
        Chain::new(layers),
    ))
}

fn fixture_points(arrays: &BTreeMap<String, Array>) -> Result<Vec<f64>, String> {
    let x = arrays
        .get("x")
        .ok_or("fixture realnvp lacks `x`")?
        .values
        .clone();
    if x.len() != 2 * POINTS {
        return Err(format!(
            "fixture realnvp: x has {} values, W4 needs {POINTS}×2",
            x.len()
        ));
    }
    Ok(x)
}

fn run(bench: &mut Bench) -> Result<(), String> {
    let arrays = load_fixture(bench.bench_dir(), "realnvp")?;
    let x = fixture_points(&arrays)?;
    for backend in bench.backends().to_vec() {
        let implementation = format!("sysdyn-{backend}-realnvp-step");
        if bench.selects(&implementation) {
            let timing = train_step(bench, backend, &arrays, &x)?;
            record(bench, backend, implementation, timing);
        }
        // The host engine runs where the tensors live in host memory (flex, ndarray).
        let implementation = format!("sysdyn-{backend}-realnvp-step-host");
        if matches!(backend, Backend::Flex | Backend::Ndarray) && bench.selects(&implementation) {
            let timing = host_train_step(bench, backend, &arrays, &x, &implementation)?;
            record(bench, backend, implementation, timing);
        }
    }
    Ok(())
}

fn train_step(
    bench: &mut Bench,
    backend: Backend,
    arrays: &BTreeMap<String, Array>,
    x: &[f64],
) -> Result<(Timing, f64), String> {
    let device = DeviceSpec::new(backend, Precision::F32)
        .with_autodiff(true)
        .init()
        .map_err(|e| e.to_string())?;
    let model = fixture_model(&device, arrays)?;
    let data = x.to_vec();
    let mut step = FlowStep::new(
        device,
        model,
        Optim::new(AdamConfig::new().with_epsilon(1e-8).build()),
        FlowConfig::new([POINTS, 2]).with_data_init(false),
        // Every step trains on all of x (WORKLOADS.md's batch is the 1024 points).
        FlowObjective::MaximumLikelihood(Box::new(move |_: &mut SeededRng, _| data.clone())),
    )
    .map_err(|e| e.to_string())?
    // This row measures the tensor path (burn autodiff); `-host` the engine.
    .with_host_engine(false);
    let (timing, first) = bench.time_train_step(&mut step, 1e-3)?;
    Ok((timing, first))
}

/// The same step on the host: `FlowStep` with sysdyn-optim's Adam keeps the networks' weights
/// and Adam's moments in host memory, so a step is the engine's NLL and gradient
/// ([`HostAffineChain`]), the gradient's global norm and the per-tensor Adam update on slices.
/// The model is read back once at the end (and checked against the tensor path's first loss).
fn host_train_step(
    bench: &mut Bench,
    backend: Backend,
    arrays: &BTreeMap<String, Array>,
    x: &[f64],
    implementation: &str,
) -> Result<(Timing, f64), String> {
    let device = DeviceSpec::new(backend, Precision::F32)
        .with_autodiff(true)
        .init()
        .map_err(|e| e.to_string())?;
    let model = fixture_model(&device, arrays)?;
    let data = x.to_vec();
    let adam = sysdyn_optim::Adam::new(0.9, 0.999, 1e-8).map_err(|e| e.to_string())?;
    let mut step = FlowStep::new(
        device,
        model,
        Optim::new(adam.burn_optimizer()),
        FlowConfig::new([POINTS, 2]).with_data_init(false),
        FlowObjective::MaximumLikelihood(Box::new(move |_: &mut SeededRng, _| data.clone())),
    )
    .map_err(|e| e.to_string())?;
    if HostAffineChain::new(&step.model().flow).is_none() {
        return Err(format!(
            "{implementation}: the host engine does not take this flow"
        ));
    }
    let (timing, first) = bench.time_train_step(&mut step, 1e-3)?;
    // The trained weights come back to burn intact.
    if step.non_finite_parameter().is_some() {
        return Err(format!(
            "{implementation}: non-finite parameters after training"
        ));
    }
    Ok((timing, first))
}

fn record(
    bench: &mut Bench,
    backend: Backend,
    implementation: String,
    (timing, first): (Timing, f64),
) {
    let error = (first - FIRST_LOSS).abs() / FIRST_LOSS;
    // NaN fails the check too.
    if error.is_nan() || error > FIRST_LOSS_RTOL {
        bench.note(format!(
            "FIRST LOSS MISMATCH {implementation}: {first} vs reference {FIRST_LOSS} (rel. \
             error {error:.2e})"
        ));
    }
    let mut extra = Map::new();
    extra.insert("first_loss".into(), Value::from(first));
    extra.insert("first_loss_rel_error".into(), Value::from(error));
    extra.insert("reference_first_loss".into(), Value::from(FIRST_LOSS));
    extra.insert("backend".into(), Value::from(backend.to_string()));
    let m = timing.measurement("W4", implementation, STEP, extra);
    bench.record(m);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixture's RealNVP computed on the host as WORKLOADS.md writes it, in f64.
    fn host_nll(arrays: &BTreeMap<String, Array>, x: &[f64]) -> f64 {
        let net = |prefix: &str, input: f64| -> f64 {
            let mut h = vec![input];
            for k in 0..3 {
                let w = &arrays[&format!("{prefix}_{k}.weight")];
                let b = &arrays[&format!("{prefix}_{k}.bias")];
                let (out, inp) = (w.shape[0], w.shape[1]);
                h = (0..out)
                    .map(|o| {
                        let z = b.values[o]
                            + (0..inp).map(|i| w.values[o * inp + i] * h[i]).sum::<f64>();
                        if k < 2 { z.max(0.0) } else { z }
                    })
                    .collect();
            }
            h[0]
        };
        let mut total = 0.0;
        for point in x.chunks(2) {
            let mut y = [point[0], point[1]];
            let mut log_det = 0.0;
            for l in 0..LAYERS {
                let (c, o) = (l % 2, 1 - l % 2);
                let s = net(&format!("S{l}"), y[c]).tanh();
                y[o] = y[o] * s.exp() + net(&format!("T{l}"), y[c]);
                log_det += s;
            }
            total +=
                -0.5 * (y[0] * y[0] + y[1] * y[1]) - (2.0 * std::f64::consts::PI).ln() + log_det;
        }
        -total / (x.len() / 2) as f64
    }

    #[test]
    fn the_fixture_flow_has_the_workloads_first_loss() {
        let arrays = load_fixture(&crate::bench::repo_bench_dir(), "realnvp").unwrap();
        let x = fixture_points(&arrays).unwrap();
        let device = DeviceSpec::new(Backend::Flex, Precision::F64)
            .init()
            .unwrap();
        let model = fixture_model(&device, &arrays).unwrap();
        let nll = -model
            .log_prob(device.tensor(x.clone(), [POINTS, 2]).unwrap(), None)
            .unwrap()
            .mean()
            .into_scalar::<f64>();
        let host = host_nll(&arrays, &x);
        assert!((nll - host).abs() < 1e-12, "{nll} vs the host's {host}");
        assert!(
            (nll - FIRST_LOSS).abs() / FIRST_LOSS < 1e-6,
            "{nll} vs WORKLOADS.md's {FIRST_LOSS}"
        );
    }
}
