//! W2 (node-train) and W6 (cnf-2d) of `bench/WORKLOADS.md`: neural-ODE and CNF training
//! steps with the fixture weights and data, on every compiled backend.
//!
//! - **W2**: `f(x) = L2(tanh(L1(tanh(L0(x)))))` (2 → 64 → 64 → 2), the 512 points of
//!   `node.npz`, loss `mean((x(1) - target)²)`, one Adam step (lr 1e-3, eps 1e-8) per call.
//!   Implementations: RK4 with 20 steps and (a) backprop through the solver by burn's autodiff
//!   (`rk4-backprop`) and by sysdyn's taped reverse sweep with the MLP's hand-written VJP
//!   (`rk4-taped`; same gradient), (b) the backsolve adjoint with the same method and step
//!   backwards (`rk4-adjoint`), (e) Dormand–Prince rtol 1e-5, atol 1e-6 with both backprops.
//!   `extra`: forward and backward NFE, the first loss against the reference 1.75416.
//! - **W2 memory**: the peak resident-set growth of one training step at 20, 200 and 2000 RK4
//!   steps for the backsolve adjoint, backprop with checkpoints every 20 steps, taped backprop,
//!   burn backprop, and burn backprop with burn's own `Balanced` gradient checkpointing (flex),
//!   metric `peak_rss_increase` in MiB (in the samples field).
//! - **W6**: the exact-trace CNF on `cnf.npz` (input `[z, t]`, 3 → 64 → 64 → 2), RK4 with 20
//!   steps, loss `-mean log p(x)`, backprop (burn), taped backprop and the backsolve adjoint.
//!   `extra`: NFE and the first loss against the reference 2.5774658.
//!
//! Each function appends `(impl, metric, samples, extra)` rows (samples in ms, or MiB where
//! `extra.unit` says so), timed by the bench protocol; [`super::w2_w6`] files them under the
//! workload registry. Training goes on across calls: each call is the next optimizer step.

use std::time::Instant;

use serde_json::{Value, json};
use sysdyn_core::burn::module::{Module, ModuleMapper, Param};
use sysdyn_core::burn::nn::Linear;
use sysdyn_core::burn::optim::AdamConfig;
use sysdyn_core::burn::tensor::{GradientCheckpointingStrategy, Tensor};
use sysdyn_core::device::{Backend, DeviceSpec, Precision, SysDevice};
use sysdyn_core::jet::{Activation, Mlp};
use sysdyn_core::rng::SeededRng;
use sysdyn_nodes::{
    AdjointOptions, Cnf, MlpField, NeuralOde, Sensitivity, TraceEstimator, negative_log_likelihood,
};
use sysdyn_solvers::methods::{DOPRI5, RK4};
use sysdyn_solvers::{SolveConfig, tableau::ButcherTableau};

use super::npz::{Array, load_fixture};
use super::{Bench, Timed, release_free_memory, reset_peak_rss, rss_mib, time_calls};

/// One measurement: implementation, metric, timed samples (ms), extra fields.
pub type Measurement = (String, String, Vec<f64>, Value);

/// First loss of W2 with the fixture weights (WORKLOADS.md).
const W2_FIRST_LOSS: f64 = 1.75416;
/// First loss of W6 with the fixture weights (WORKLOADS.md).
const W6_FIRST_LOSS: f64 = 2.5774658;
const LEARNING_RATE: f64 = 1e-3;

/// The selected backends in f32 with autodiff, as W2 and W6 run; a backend that cannot start
/// is a failed row rather than a silent gap.
fn devices(backends: &[Backend], workload: &str, out: &mut Vec<Measurement>) -> Vec<SysDevice> {
    let mut devices = Vec::new();
    for &backend in backends {
        match DeviceSpec::new(backend, Precision::F32)
            .with_autodiff(true)
            .init()
        {
            Ok(device) => devices.push(device),
            Err(e) => out.push(failed(
                workload,
                format!("sysdyn-{backend}"),
                "time_per_train_step",
                e.to_string(),
            )),
        }
    }
    devices
}

fn array<'a>(
    arrays: &'a std::collections::BTreeMap<String, Array>,
    name: &str,
) -> Result<&'a Array, String> {
    arrays.get(name).ok_or(format!("fixture lacks `{name}`"))
}

/// The fixture's MLP `L0..L{n-1}` (PyTorch layout `(out, in)`, transposed to burn's `[in, out]`)
/// with `activation` between its layers.
pub(crate) fn fixture_mlp(
    device: &SysDevice,
    arrays: &std::collections::BTreeMap<String, Array>,
    layers: usize,
    activation: Activation,
) -> Result<Mlp, String> {
    let mut linears = Vec::with_capacity(layers);
    for l in 0..layers {
        let w = array(arrays, &format!("L{l}.weight"))?;
        let b = array(arrays, &format!("L{l}.bias"))?;
        let (out, inp) = (w.shape[0], w.shape[1]);
        let mut transposed = vec![0.0; out * inp];
        for o in 0..out {
            for i in 0..inp {
                transposed[i * out + o] = w.values[o * inp + i];
            }
        }
        let weight = device
            .tensor(transposed, [inp, out])
            .map_err(|e| e.to_string())?;
        let bias = device
            .tensor(b.values.clone(), [out])
            .map_err(|e| e.to_string())?;
        linears.push(Linear {
            weight: Param::from_tensor(weight),
            bias: Some(Param::from_tensor(bias)),
        });
    }
    Mlp::new(linears, activation).map_err(|e| e.to_string())
}

fn matrix(device: &SysDevice, a: &Array) -> Result<Tensor<2>, String> {
    device
        .tensor(a.values.clone(), [a.shape[0], a.shape[1]])
        .map_err(|e| e.to_string())
}

fn scalar(t: Tensor<1>) -> f64 {
    t.into_data()
        .try_into_vec_as::<f64>()
        .map_or(f64::NAN, |v| v[0])
}

fn adam() -> sysdyn_core::burn::optim::ModuleOptimizer {
    AdamConfig::new()
        .with_beta_1(0.9)
        .with_beta_2(0.999)
        .with_epsilon(1e-8)
        .init()
}

/// One W2 training step's figures.
struct StepResult {
    loss: f64,
    nfe_forward: usize,
    nfe_backward: usize,
}

fn w2_step(
    node: &mut NeuralOde<MlpField, ButcherTableau>,
    optimizer: &mut sysdyn_core::burn::optim::ModuleOptimizer,
    x0: &Tensor<2>,
    target: &Tensor<2>,
) -> Result<StepResult, String> {
    let trajectory = node
        .solve(x0.clone(), &[0.0, 1.0])
        .map_err(|e| e.to_string())?;
    let nfe_forward = trajectory.stats().nfe;
    let loss = (trajectory.last().clone() - target.clone()).square().mean();
    let value = scalar(loss.clone());
    let grads = trajectory.backward(&loss).map_err(|e| e.to_string())?;
    node.field = optimizer.step(LEARNING_RATE, node.field.clone(), grads.params);
    Ok(StepResult {
        loss: value,
        nfe_forward,
        nfe_backward: grads.nfe_backward,
    })
}

/// The row of a timed training run: NFE of the last step, the first loss (made with the
/// fixture weights) against WORKLOADS.md's `reference_first_loss`, and the peak memory growth.
fn training_row(
    workload: &str,
    reference_first_loss: f64,
    implementation: String,
    device: &SysDevice,
    method: &str,
    timed: Timed<StepResult>,
) -> Measurement {
    let first = timed.first.loss;
    let last = Some(timed.last());
    let extra = json!({
        "workload": workload,
        "device": device.spec().to_string(),
        "method": method,
        "nfe_forward": last.map(|r| r.nfe_forward),
        "nfe_backward": last.map(|r| r.nfe_backward),
        "first_loss": first,
        "reference_first_loss": reference_first_loss,
        "first_loss_rel_error": ((first - reference_first_loss) / reference_first_loss).abs(),
        "last_loss": last.map(|r| r.loss),
        "steps_trained": timed.calls,
        "peak_rss_growth_mib": timed.peak_rss_growth_mib,
    });
    (
        implementation,
        "time_per_train_step".into(),
        timed.samples,
        extra,
    )
}

/// W2 training steps on each backend: RK4 (backprop, taped, backsolve adjoint) and Dopri5.
pub(crate) fn w2(bench: &Bench, out: &mut Vec<Measurement>) -> Result<(), String> {
    let arrays = load_fixture(bench.bench_dir(), "node")?;
    let variants: [(&str, ButcherTableau, SolveConfig<Tensor<2>>, Sensitivity); 5] = [
        (
            "rk4-backprop",
            RK4,
            SolveConfig::fixed(0.05),
            Sensitivity::Backprop,
        ),
        (
            "rk4-taped",
            RK4,
            SolveConfig::fixed(0.05),
            Sensitivity::TapedBackprop,
        ),
        (
            "rk4-adjoint",
            RK4,
            SolveConfig::fixed(0.05),
            Sensitivity::BacksolveAdjoint(AdjointOptions::default()),
        ),
        (
            "dopri5-backprop",
            DOPRI5,
            SolveConfig::adaptive(1e-5, 1e-6),
            Sensitivity::Backprop,
        ),
        (
            "dopri5-taped",
            DOPRI5,
            SolveConfig::adaptive(1e-5, 1e-6),
            Sensitivity::TapedBackprop,
        ),
    ];
    for device in devices(bench.backends(), "W2", out) {
        let backend = device.spec().backend;
        let x0 = matrix(&device, array(&arrays, "x0")?)?;
        let target = matrix(&device, array(&arrays, "target")?)?;
        for (name, method, config, sensitivity) in variants.iter().cloned() {
            let implementation = format!("sysdyn-{backend}-{name}");
            if !bench.selects(&implementation) {
                continue;
            }
            let field = MlpField::autonomous(fixture_mlp(&device, &arrays, 3, Activation::Tanh)?);
            let mut node = NeuralOde::new(field, method, config).with_sensitivity(sensitivity);
            let mut optimizer = adam();
            match time_calls(bench.protocol, || {
                w2_step(&mut node, &mut optimizer, &x0, &target)
            }) {
                Ok(timed) => out.push(training_row(
                    "W2",
                    W2_FIRST_LOSS,
                    implementation,
                    &device,
                    name,
                    timed,
                )),
                Err(e) => out.push(failed("W2", implementation, "time_per_train_step", e)),
            }
        }
    }
    Ok(())
}

/// A tensor carrying burn's `Balanced` gradient-checkpointing strategy.
fn balanced<const D: usize>(t: Tensor<D>) -> Tensor<D> {
    t.with_gradient_checkpointing_strategy(GradientCheckpointingStrategy::Balanced)
}

/// Gives every parameter burn's `Balanced` gradient-checkpointing strategy.
struct BalancedCheckpointing;

impl ModuleMapper for BalancedCheckpointing {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(balanced)
    }
}

/// Peak resident-set growth of one W2 training step at 20, 200 (and 2000) RK4 steps, per
/// gradient method, on flex.
pub(crate) fn w2_memory(bench: &Bench, out: &mut Vec<Measurement>) -> Result<(), String> {
    let arrays = load_fixture(bench.bench_dir(), "node")?;
    let device = DeviceSpec::new(Backend::Flex, Precision::F32)
        .with_autodiff(true)
        .init()
        .map_err(|e| e.to_string())?;
    let x0 = matrix(&device, array(&arrays, "x0")?)?;
    let target = matrix(&device, array(&arrays, "target")?)?;
    let steps_list: &[usize] = if bench.quick {
        &[20, 200]
    } else {
        &[20, 200, 2000]
    };
    for (name, sensitivity) in [
        (
            "rk4-adjoint",
            Sensitivity::BacksolveAdjoint(AdjointOptions::default()),
        ),
        (
            "rk4-checkpointed-backprop",
            Sensitivity::CheckpointedBackprop {
                steps_per_segment: 20,
            },
        ),
        ("rk4-taped", Sensitivity::TapedBackprop),
        ("rk4-backprop", Sensitivity::Backprop),
        ("rk4-backprop-burn-checkpointing", Sensitivity::Backprop),
    ] {
        // burn's own gradient checkpointing (`Balanced`: memory-bound ops are recomputed in the
        // backward pass, compute-bound ones such as matmuls keep their outputs).
        let burn_checkpointing = name.ends_with("burn-checkpointing");
        let (x0, target) = if burn_checkpointing {
            (balanced(x0.clone()), balanced(target.clone()))
        } else {
            (x0.clone(), target.clone())
        };
        for &steps in steps_list {
            let implementation = format!("sysdyn-flex-{name}-{steps}-steps");
            if !bench.selects(&implementation) {
                continue;
            }
            let mlp = fixture_mlp(&device, &arrays, 3, Activation::Tanh)?;
            let mlp = if burn_checkpointing {
                mlp.map(&mut BalancedCheckpointing)
            } else {
                mlp
            };
            let field = MlpField::autonomous(mlp);
            let mut node = NeuralOde::new(field, RK4, SolveConfig::fixed(1.0 / steps as f64))
                .with_sensitivity(sensitivity.clone());
            let mut optimizer = adam();
            // One step first, so the optimizer state and caches exist before measuring.
            w2_step(&mut node, &mut optimizer, &x0, &target)?;
            release_free_memory();
            let (before, _) = rss_mib().ok_or("no /proc/self/status")?;
            if !reset_peak_rss() {
                return Err("cannot reset the peak RSS (/proc/self/clear_refs)".into());
            }
            let started = Instant::now();
            let result = w2_step(&mut node, &mut optimizer, &x0, &target)?;
            let ms = started.elapsed().as_secs_f64() * 1e3;
            let (_, peak) = rss_mib().ok_or("no /proc/self/status")?;
            out.push((
                implementation,
                "peak_rss_increase".into(),
                vec![peak - before],
                json!({
                    "workload": "W2",
                    "unit": "MiB",
                    "steps": steps,
                    "sensitivity": name,
                    "rss_before_mib": before,
                    "peak_rss_mib": peak,
                    "step_ms": ms,
                    "nfe_forward": result.nfe_forward,
                    "nfe_backward": result.nfe_backward,
                }),
            ));
            drop(node);
            release_free_memory();
        }
    }
    Ok(())
}

/// W6 training steps on each backend: exact-trace CNF, RK4, backprop, taped and adjoint.
pub(crate) fn w6(bench: &Bench, out: &mut Vec<Measurement>) -> Result<(), String> {
    let arrays = load_fixture(bench.bench_dir(), "cnf")?;
    for device in devices(bench.backends(), "W6", out) {
        let backend = device.spec().backend;
        let x = matrix(&device, array(&arrays, "x")?)?;
        for (name, sensitivity) in [
            ("rk4-backprop", Sensitivity::Backprop),
            ("rk4-taped", Sensitivity::TapedBackprop),
            (
                "rk4-adjoint",
                Sensitivity::BacksolveAdjoint(AdjointOptions::default()),
            ),
        ] {
            let implementation = format!("sysdyn-{backend}-{name}");
            if !bench.selects(&implementation) {
                continue;
            }
            let field =
                MlpField::time_dependent(fixture_mlp(&device, &arrays, 3, Activation::Tanh)?);
            let mut cnf = Cnf::new(field, TraceEstimator::Exact, RK4, SolveConfig::fixed(0.05))
                .with_sensitivity(sensitivity);
            let mut optimizer = adam();
            let mut rng = SeededRng::new(0);
            let step = || -> Result<StepResult, String> {
                let pass = cnf
                    .log_density(x.clone(), &mut rng)
                    .map_err(|e| e.to_string())?;
                let nfe_forward = pass.nfe();
                let loss = negative_log_likelihood(&pass);
                let value = scalar(loss.clone());
                let grads = pass.backward(&loss).map_err(|e| e.to_string())?;
                let field = optimizer.step(LEARNING_RATE, cnf.field().clone(), grads.params);
                cnf.set_field(field);
                Ok(StepResult {
                    loss: value,
                    nfe_forward,
                    nfe_backward: grads.nfe_backward,
                })
            };
            match time_calls(bench.protocol, step) {
                Ok(timed) => out.push(training_row(
                    "W6",
                    W6_FIRST_LOSS,
                    implementation,
                    &device,
                    name,
                    timed,
                )),
                Err(e) => out.push(failed("W6", implementation, "time_per_train_step", e)),
            }
        }
    }
    Ok(())
}

fn failed(workload: &str, implementation: String, metric: &str, error: String) -> Measurement {
    (
        implementation,
        metric.into(),
        Vec::new(),
        json!({"workload": workload, "failed": error}),
    )
}
