//! The engine against burn's generic path on `flex`: the forward pass (burn's `Linear` stack),
//! parameter and input gradients (burn autodiff), and the jets (sysdyn-core's forward-mode
//! jets, whose own tests check them against finite differences), with the trace's VJP through
//! burn autodiff of the jet divergence. Every activation, odd widths (1, 3, 65), batches 1, 7
//! and one large enough to be split across workers, in f64 (to 1e-12) and f32 (to 1e-5),
//! relative to the largest entry of each result. `SYSDYN_MLP_REPORT=1` prints every error
//! (run with `--nocapture`).

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::Tensor;
use sysdyn_core::State;
use sysdyn_core::device::{Backend, DeviceSpec, Precision, SysDevice};
use sysdyn_core::jet::{JetForward, Mlp as JetMlp};
use sysdyn_core::rng::SeededRng;
use sysdyn_mlp::burn::{BurnFloat, is_cpu_device, is_flex_device, to_host};
use sysdyn_mlp::{Activation, Float, Mlp};

/// `(widths, batch)`: the network's input is `[z, extra…]` and its output has the width of
/// `z`, so the trace over the first `output` columns is defined.
const CASES: [(&[usize], usize); 6] = [
    (&[3, 65, 65, 2], 7),
    (&[3, 65, 65, 2], 200),
    (&[2, 1, 2], 1),
    (&[2, 1, 2], 7),
    (&[1, 3, 3, 1], 7),
    (&[4, 3], 7),
];

fn device(precision: Precision, autodiff: bool) -> SysDevice {
    DeviceSpec::new(Backend::Flex, precision)
        .with_autodiff(autodiff)
        .init()
        .unwrap()
}

/// `max |got - want| ≤ tol · max |want|` (exactly equal when `want` is all zeros).
#[track_caller]
fn assert_close<E: Float>(what: &str, got: &[E], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a.to_f64() - b).abs())
        .fold(0.0f64, f64::max);
    if std::env::var_os("SYSDYN_MLP_REPORT").is_some() {
        eprintln!(
            "{what}: relative error {:.1e} (max |value| {scale:.2e})",
            err / scale.max(f64::MIN_POSITIVE)
        );
    }
    assert!(
        err <= tol * scale,
        "{what}: max error {err:e} against max |value| {scale:e} (tolerance {tol:e} relative)"
    );
}

/// Random parameters `(weight [in·out], bias [out])` per layer, weights in ±1.5/√fan_in so
/// that the activations are well inside their nonlinear range.
fn random_params(widths: &[usize], seed: u64) -> Vec<(Vec<f64>, Vec<f64>)> {
    let mut rng = SeededRng::new(seed);
    widths
        .windows(2)
        .map(|w| {
            let bound = 1.5 / (w[0] as f64).sqrt();
            let weight = rng
                .uniforms(w[0] * w[1])
                .into_iter()
                .map(|u| bound * (2.0 * u - 1.0))
                .collect();
            let bias = rng.uniforms(w[1]).into_iter().map(|u| u - 0.5).collect();
            (weight, bias)
        })
        .collect()
}

fn burn_mlp(
    device: &SysDevice,
    widths: &[usize],
    params: &[(Vec<f64>, Vec<f64>)],
    activation: Activation,
) -> JetMlp {
    let layers: Vec<Linear> = widths
        .windows(2)
        .zip(params)
        .map(|(w, (weight, bias))| Linear {
            weight: Param::from_tensor(device.tensor(weight.clone(), [w[0], w[1]]).unwrap()),
            bias: Some(Param::from_tensor(
                device.tensor(bias.clone(), [w[1]]).unwrap(),
            )),
        })
        .collect();
    JetMlp::new(layers, activation).unwrap()
}

/// burn's parameter gradients flattened in the engine's order (per layer weight, then bias);
/// a parameter outside the graph (e.g. the output bias of a trace) has gradient zero.
fn burn_param_grads(mlp: &JetMlp, grads: &burn::tensor::Gradients) -> Vec<f64> {
    let mut flat = Vec::new();
    for layer in mlp.layers() {
        let weight = layer.weight.val();
        let n = weight.dims().iter().product();
        flat.extend(weight.grad(grads).map_or(vec![0.0; n], |g| g.to_f64_vec()));
        let bias = layer.bias.as_ref().unwrap().val();
        let n = bias.dims()[0];
        flat.extend(bias.grad(grads).map_or(vec![0.0; n], |g| g.to_f64_vec()));
    }
    flat
}

fn run_case<E: BurnFloat>(precision: Precision, tol: f64, activation: Activation, case: usize) {
    let (widths, batch) = CASES[case];
    let context = format!("{activation:?} {widths:?} batch {batch} {}", E::NAME);
    let d = widths[widths.len() - 1];
    let input = widths[0];
    let plain = device(precision, false);
    let grad_device = device(precision, true);
    let params = random_params(widths, 11 + case as u64);
    let reference = burn_mlp(&plain, widths, &params, activation);
    let host = Mlp::<E>::from_linears(reference.layers(), reference.activation()).unwrap();
    let mut rng = SeededRng::new(5 + case as u64);
    let xs: Vec<f64> = rng
        .uniforms(batch * input)
        .into_iter()
        .map(|u| 3.0 * u - 1.5)
        .collect();
    let x = plain.tensor(xs.clone(), [batch, input]).unwrap();
    // The engine reads the same (rounded) values burn holds.
    let (x_host, _) = to_host::<E, 2>(x.clone()).unwrap();
    let cot: Vec<f64> = rng
        .uniforms(batch * d)
        .into_iter()
        .map(|u| u - 0.5)
        .collect();
    let cot_trace: Vec<f64> = rng.uniforms(batch).into_iter().map(|u| u + 0.5).collect();
    let cot_host: Vec<E> = cot.iter().map(|&v| E::from_f64(v)).collect();
    let cot_trace_host: Vec<E> = cot_trace.iter().map(|&v| E::from_f64(v)).collect();

    // Forward.
    let want = reference.forward(x.clone()).unwrap().to_f64_vec();
    assert_close(
        &format!("{context}: forward"),
        &host.forward(&x_host, batch).unwrap(),
        &want,
        tol,
    );

    // Backward: the gradient of Σ c ⊙ y.
    let (y, tape) = host.forward_taped(&x_host, batch).unwrap();
    assert_close(&format!("{context}: taped forward"), &y, &want, tol);
    let grads = host.backward(&tape, &cot_host).unwrap();
    let trained = burn_mlp(&grad_device, widths, &params, activation);
    let x_ad = grad_device
        .tensor(xs.clone(), [batch, input])
        .unwrap()
        .require_grad();
    let c = grad_device.tensor(cot.clone(), [batch, d]).unwrap();
    let loss = (trained.forward(x_ad.clone()).unwrap() * c.clone()).sum();
    let g = loss.backward();
    assert_close(
        &format!("{context}: input VJP"),
        &grads.input,
        &x_ad.grad(&g).unwrap().to_f64_vec(),
        tol,
    );
    assert_close(
        &format!("{context}: parameter VJP"),
        &grads.params,
        &burn_param_grads(&trained, &g),
        tol,
    );

    // Jets against sysdyn-core's.
    let jac = reference.jacobian(x.clone(), ..).unwrap().to_f64_vec();
    assert_close(
        &format!("{context}: Jacobian"),
        &host.jacobian(&x_host, batch, ..).unwrap(),
        &jac,
        tol,
    );
    let div = reference.divergence(x.clone(), ..d).unwrap().to_f64_vec();
    assert_close(
        &format!("{context}: trace"),
        &host.trace(&x_host, batch, ..d).unwrap(),
        &div,
        tol,
    );
    let lap = reference.laplacian(x.clone(), ..d).unwrap().to_f64_vec();
    assert_close(
        &format!("{context}: Laplacian"),
        &host.laplacian(&x_host, batch, ..d).unwrap(),
        &lap,
        tol,
    );
    if input > 1 {
        // A column range that does not start at 0.
        let jac_tail = reference.jacobian(x.clone(), 1..).unwrap().to_f64_vec();
        assert_close(
            &format!("{context}: Jacobian of columns 1.."),
            &host.jacobian(&x_host, batch, 1..).unwrap(),
            &jac_tail,
            tol,
        );
        let lap_tail = reference.laplacian(x.clone(), 1..).unwrap().to_f64_vec();
        assert_close(
            &format!("{context}: Laplacian of columns 1.."),
            &host.laplacian(&x_host, batch, 1..).unwrap(),
            &lap_tail,
            tol,
        );
    }

    // (y, tr) and their VJP: burn autodiff through the jet divergence.
    let (both, trace_tape) = host.forward_trace_taped(&x_host, batch, ..d).unwrap();
    assert_close(
        &format!("{context}: value with trace"),
        &both.value,
        &want,
        tol,
    );
    assert_close(
        &format!("{context}: trace with value"),
        &both.trace,
        &div,
        tol,
    );
    let vjp = host
        .backward_trace(&trace_tape, &cot_host, &cot_trace_host)
        .unwrap();
    let x_ad = grad_device
        .tensor(xs.clone(), [batch, input])
        .unwrap()
        .require_grad();
    let ct = grad_device.tensor(cot_trace.clone(), [batch, 1]).unwrap();
    let loss = (trained.forward(x_ad.clone()).unwrap() * c).sum()
        + (trained.divergence(x_ad.clone(), ..d).unwrap() * ct).sum();
    let g = loss.backward();
    assert_close(
        &format!("{context}: parameter VJP of (y, tr)"),
        &vjp.params,
        &burn_param_grads(&trained, &g),
        tol,
    );
    // The input is in the graph only through the network (always, here).
    let x_grad = x_ad
        .grad(&g)
        .map_or(vec![0.0; batch * input], |t| t.to_f64_vec());
    assert_close(
        &format!("{context}: input VJP of (y, tr)"),
        &vjp.input,
        &x_grad,
        tol,
    );
}

fn run_all<E: BurnFloat>(precision: Precision, tol: f64, activation: Activation) {
    for case in 0..CASES.len() {
        run_case::<E>(precision, tol, activation, case);
    }
}

macro_rules! activation_tests {
    ($($name:ident: $act:expr,)*) => {
        mod f64_agrees_with_burn {
            use super::*;
            $(#[test] fn $name() { run_all::<f64>(Precision::F64, 1e-12, $act); })*
        }
        mod f32_agrees_with_burn {
            use super::*;
            $(#[test] fn $name() { run_all::<f32>(Precision::F32, 1e-5, $act); })*
        }
    };
}

activation_tests! {
    tanh: Activation::Tanh,
    identity: Activation::Identity,
    relu: Activation::Relu,
    silu: Activation::Silu,
    softplus: Activation::Softplus,
    sin: Activation::Sin,
    sigmoid: Activation::Sigmoid,
}

#[test]
fn cpu_devices_are_recognised_through_burns_dispatch_device() {
    let flex = burn::tensor::Device::flex();
    assert!(is_cpu_device(&flex) && is_flex_device(&flex));
    let flex_ad = flex.clone().autodiff();
    assert!(is_cpu_device(&flex_ad) && is_flex_device(&flex_ad));
    #[allow(deprecated)]
    let ndarray = burn::tensor::Device::ndarray();
    assert!(is_cpu_device(&ndarray) && !is_flex_device(&ndarray));
    assert!(is_cpu_device(&ndarray.autodiff()));
    let gpu = burn::tensor::Device::wgpu(burn::tensor::DeviceKind::DefaultDevice);
    assert!(!is_cpu_device(&gpu) && !is_flex_device(&gpu));
}

#[test]
fn a_tensor_of_the_wrong_precision_is_a_typed_error() {
    let plain = device(Precision::F32, false);
    let x = plain.tensor(vec![1.0, 2.0], [1, 2]).unwrap();
    assert!(matches!(
        to_host::<f64, 2>(x.clone()),
        Err(sysdyn_mlp::MlpError::DType { .. })
    ));
    let mlp = Mlp::<f64>::from_flat(&[2, 1], &[1.0, 1.0, 0.0], true, Activation::Tanh).unwrap();
    assert!(mlp.forward_tensor(x.clone()).is_err());
    let mlp32 = Mlp::<f32>::from_flat(&[2, 1], &[1.0, 1.0, 0.5], true, Activation::Tanh).unwrap();
    let y: Tensor<2> = mlp32.forward_tensor(x).unwrap();
    assert_eq!(y.to_f64_vec(), vec![3.5]);
}

#[test]
fn layers_without_bias_agree_with_burn() {
    let plain = device(Precision::F64, false);
    let grad_device = device(Precision::F64, true);
    let widths = [3usize, 5, 2];
    let params = random_params(&widths, 3);
    let build = |device: &SysDevice| {
        let layers: Vec<Linear> = widths
            .windows(2)
            .zip(&params)
            .map(|(w, (weight, _))| Linear {
                weight: Param::from_tensor(device.tensor(weight.clone(), [w[0], w[1]]).unwrap()),
                bias: None,
            })
            .collect();
        JetMlp::new(layers, Activation::Softplus).unwrap()
    };
    let reference = build(&plain);
    let host = Mlp::<f64>::from_linears(reference.layers(), reference.activation()).unwrap();
    assert_eq!(host.num_params(), 3 * 5 + 5 * 2);
    assert!(host.layers().iter().all(|l| l.bias().is_none()));
    let xs = vec![0.3, -0.2, 1.1, -0.7, 0.5, 0.05];
    let x = plain.tensor(xs.clone(), [2, 3]).unwrap();
    let want = reference.forward(x).unwrap().to_f64_vec();
    let (y, tape) = host.forward_taped(&xs, 2).unwrap();
    assert_close("no-bias forward", &y, &want, 1e-12);
    let cot = [1.0, -0.5, 0.25, 2.0];
    let grads = host.backward(&tape, &cot).unwrap();
    let trained = build(&grad_device);
    let x_ad = grad_device.tensor(xs, [2, 3]).unwrap().require_grad();
    let c = grad_device.tensor(cot.to_vec(), [2, 2]).unwrap();
    let g = (trained.forward(x_ad.clone()).unwrap() * c)
        .sum()
        .backward();
    let mut want_params = Vec::new();
    for layer in trained.layers() {
        want_params.extend(layer.weight.val().grad(&g).unwrap().to_f64_vec());
    }
    assert_close("no-bias parameter VJP", &grads.params, &want_params, 1e-12);
    assert_close(
        "no-bias input VJP",
        &grads.input,
        &x_ad.grad(&g).unwrap().to_f64_vec(),
        1e-12,
    );
}
