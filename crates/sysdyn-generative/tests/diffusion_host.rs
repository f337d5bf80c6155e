//! The host-engine path of diffusion (diffusion/host.rs) computes what the tensor path
//! computes: the DDPM step's loss and parameter gradient (read back from one SGD step with
//! learning rate 1, `g = θ_before − θ_after`), and ancestral sampling's samples, in f64 to
//! 1e-10 (flex) and in f32 to 1e-5 (ndarray: burn fixes one default float dtype per backend and
//! process), relative to the largest entry, for each prediction target.

use std::sync::OnceLock;

use burn::optim::SgdConfig;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::diffusion::{
    AncestralVariance, DdpmConfig, DdpmStep, EpsNet, EpsNetConfig, EpsPredictor, NoiseSchedule,
    Prediction, sample_ancestral,
};
use sysdyn_train::{Optim, StepContext, TrainConfig, TrainStep};

fn device(spec: &'static str) -> SysDevice {
    static DEVICES: OnceLock<std::sync::Mutex<Vec<(&'static str, SysDevice)>>> = OnceLock::new();
    let devices = DEVICES.get_or_init(Default::default);
    let mut devices = devices.lock().unwrap();
    if let Some((_, d)) = devices.iter().find(|(s, _)| *s == spec) {
        return d.clone();
    }
    let mut d: SysDevice = spec.parse::<DeviceSpec>().unwrap().init().unwrap();
    d.configure_defaults().unwrap();
    devices.push((spec, d.clone()));
    d
}

/// W3's shape with narrower hidden layers (two of 32), embedding 32.
fn net(device: &SysDevice, classes: usize) -> EpsNet {
    let mut config = EpsNetConfig::w3().with_classes(classes);
    config.hidden = vec![32, 32];
    config.init_seeded(device, 7).unwrap()
}

/// Every parameter of the network's layers, flat.
fn params(net: &EpsNet) -> Vec<f64> {
    let mut out = Vec::new();
    for layer in net.network().layers() {
        out.extend(
            layer
                .weight
                .val()
                .into_data()
                .convert::<f64>()
                .try_to_vec::<f64>()
                .unwrap(),
        );
        if let Some(b) = &layer.bias {
            out.extend(
                b.val()
                    .into_data()
                    .convert::<f64>()
                    .try_to_vec::<f64>()
                    .unwrap(),
            );
        }
    }
    out
}

/// Loss and gradient of one step (`host`: on the engine or the tensor path).
fn step(spec: &'static str, prediction: Prediction, host: bool) -> (f64, Vec<f64>) {
    let device = device(spec);
    let network = net(&device, 0);
    let before = params(&network);
    let mut step = DdpmStep::new(
        device,
        network,
        Optim::new(SgdConfig::new().build()),
        NoiseSchedule::ddpm_linear(),
        DdpmConfig::new(64)
            .with_prediction(prediction)
            .with_ema_decay(None),
        Box::new(|rng: &mut SeededRng, rows| {
            (0..rows)
                .flat_map(|_| {
                    let angle = rng.uniform() * std::f64::consts::TAU;
                    [2.0 * angle.cos(), 2.0 * angle.sin()]
                })
                .collect()
        }),
    )
    .unwrap()
    .with_host_engine(host);
    let config = TrainConfig::new(10);
    let mut ctx = StepContext::new(&config, 0);
    ctx.lr = 1.0;
    let report = step.step(&mut ctx).unwrap();
    let after = params(step.network());
    let grad = before.iter().zip(&after).map(|(b, a)| b - a).collect();
    (report.loss, grad)
}

fn assert_close(what: &str, got: &[f64], want: &[f64], rtol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(scale > 0.0, "{what}: all zero");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= rtol * scale,
            "{what}[{i}]: {g} vs {w} (scale {scale})"
        );
    }
}

#[test]
fn the_host_step_has_the_tensor_steps_loss_and_gradient() {
    for (spec, rtol) in [("flex:f64:autodiff", 1e-10), ("ndarray:f32:autodiff", 1e-5)] {
        for prediction in [Prediction::Epsilon, Prediction::Data, Prediction::Velocity] {
            let (loss_host, grad_host) = step(spec, prediction, true);
            let (loss_tensor, grad_tensor) = step(spec, prediction, false);
            let what = format!("{spec} {prediction:?}");
            assert!(
                (loss_host - loss_tensor).abs() <= rtol * loss_tensor.abs(),
                "{what} loss: {loss_host} vs {loss_tensor}"
            );
            assert_close(&format!("{what} gradient"), &grad_host, &grad_tensor, rtol);
        }
    }
}

#[test]
fn host_sampling_matches_the_tensor_path() {
    let schedule = NoiseSchedule::linear(50, 1e-3, 0.2).unwrap();
    for (spec, rtol) in [("flex:f64", 1e-10), ("ndarray:f32", 1e-5)] {
        let device = device(spec);
        let network = net(&device, 0);
        let mut samples = Vec::new();
        for host in [true, false] {
            let mut predictor = if host {
                EpsPredictor::new(&network)
            } else {
                EpsPredictor::tensor_path(&network)
            };
            assert_eq!(predictor.uses_host_engine(), host);
            let mut rng = SeededRng::new(11);
            let start = device.randn(&mut rng, [128, 2]);
            let x = sample_ancestral(
                &schedule,
                &mut predictor,
                start,
                AncestralVariance::Beta,
                &mut rng,
            )
            .unwrap();
            samples.push(x.into_data().convert::<f64>().try_to_vec::<f64>().unwrap());
        }
        assert_close(&format!("{spec} samples"), &samples[0], &samples[1], rtol);
    }
}

#[test]
fn conditional_networks_and_autodiff_inputs_keep_the_tensor_path() {
    let device = device("flex:f64:autodiff");
    let conditional = net(&device, 3);
    assert!(!EpsPredictor::new(&conditional).uses_host_engine());
    // An unconditional network on an autodiff device: the engine serves inputs without graph
    // only; an input with graph goes through the tensor path and keeps its graph.
    let network = net(&device, 0);
    let host = sysdyn_generative::diffusion::HostEpsNet::new(&network).unwrap();
    let x = device.randn(&mut SeededRng::new(1), [4, 2]).require_grad();
    assert!(host.predict(&x, 3).is_none());
    let plain = x.clone().inner();
    let via_host = host.predict(&plain, 3).unwrap();
    let via_tensor = network.forward(x, &[3; 4], None).unwrap().inner();
    let a = via_host.into_data().try_to_vec::<f64>().unwrap();
    let b = via_tensor.into_data().try_to_vec::<f64>().unwrap();
    assert_close("ε̂ at t = 3", &a, &b, 1e-12);
}
