//! `Activation::forward` on burn tensors: on `flex` the engine's kernels with their own backward
//! pass (a burn backend extension), elsewhere burn's operations. Checked against burn's own
//! activations on `ndarray` (values and gradients, every activation, odd shapes, f32 and f64),
//! against central finite differences, and for not writing into a tensor the caller still holds.
#![allow(deprecated)] // burn's `ndarray` backend is the independent reference here.

use burn::tensor::activation::{relu, sigmoid, softplus};
use burn::tensor::{DType, Device, Tensor, TensorData};
use sysdyn_mlp::Activation;

/// σ from burn's elementwise operations, written independently of the crate's dispatch. burn's
/// `sigmoid` and `softplus` compute in f32 whatever the dtype, so the f64 reference spells them
/// out (the test values are in [-6, 6], where neither form overflows).
fn reference<const D: usize>(activation: Activation, z: Tensor<D>) -> Tensor<D> {
    let exact_sigmoid = |z: Tensor<D>| z.neg().exp().add_scalar(1.0).recip();
    let f64 = z.dtype() == DType::F64;
    match activation {
        Activation::Identity => z,
        Activation::Tanh => z.tanh(),
        Activation::Sigmoid if f64 => exact_sigmoid(z),
        Activation::Sigmoid => sigmoid(z),
        Activation::Softplus if f64 => z.exp().log1p(),
        Activation::Softplus => softplus(z, 1.0),
        Activation::Silu if f64 => z.clone() * exact_sigmoid(z),
        Activation::Silu => z.clone() * sigmoid(z),
        Activation::Sin => z.sin(),
        Activation::Relu => relu(z),
    }
}

/// Values spread over [-6, 6] (both tails of tanh and sigmoid), with an exact zero.
fn values(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            if i == n / 2 {
                0.0
            } else {
                6.0 * ((i as f64 * 0.754_877_666).fract() * 2.0 - 1.0)
            }
        })
        .collect()
}

fn tensor<const D: usize>(
    data: &[f64],
    shape: [usize; D],
    device: &Device,
    dtype: DType,
) -> Tensor<D> {
    Tensor::from_data(TensorData::new(data.to_vec(), shape), (device, dtype))
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().to_vec::<f64>().unwrap()
}

fn assert_close(got: &[f64], want: &[f64], rel: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= rel * (1.0 + w.abs()),
            "{what}[{i}]: {g} vs burn's {w} (tolerance {rel} relative)"
        );
    }
}

/// Tolerances of the issue: f32 1e-5 relative, f64 1e-12.
fn tolerance(dtype: DType) -> f64 {
    if dtype == DType::F64 { 1e-12 } else { 1e-5 }
}

const SHAPES: [[usize; 2]; 5] = [[1, 1], [1, 3], [7, 1], [7, 65], [64, 64]];

#[test]
fn values_equal_burns_activations_on_every_activation_and_odd_shape() {
    let flex = Device::flex();
    let ndarray = Device::ndarray();
    for dtype in [DType::F32, DType::F64] {
        for activation in Activation::ALL {
            for shape in SHAPES {
                let data = values(shape[0] * shape[1]);
                let got = host(activation.forward(tensor(&data, shape, &flex, dtype)));
                let want = host(reference(activation, tensor(&data, shape, &ndarray, dtype)));
                assert_close(
                    &got,
                    &want,
                    tolerance(dtype),
                    &format!("{activation:?} {dtype:?} {shape:?}"),
                );
            }
        }
    }
}

#[test]
fn gradients_equal_burns_autodiff_on_every_activation() {
    let flex = Device::flex().autodiff();
    let ndarray = Device::ndarray().autodiff();
    for dtype in [DType::F32, DType::F64] {
        for activation in Activation::ALL {
            for shape in [[1, 1], [7, 3], [7, 65]] {
                let n = shape[0] * shape[1];
                let data = values(n);
                let weights: Vec<f64> = (0..n).map(|i| 0.5 + (i % 5) as f64 * 0.25).collect();
                let grad_on = |device: &Device, ours: bool| {
                    let z = tensor(&data, shape, device, dtype).require_grad();
                    let w = tensor(&weights, shape, device, dtype);
                    let y = if ours {
                        activation.forward(z.clone())
                    } else {
                        reference(activation, z.clone())
                    };
                    let grads = (y * w).sum().backward();
                    host(z.grad(&grads).expect("z is tracked"))
                };
                assert_close(
                    &grad_on(&flex, true),
                    &grad_on(&ndarray, false),
                    tolerance(dtype),
                    &format!("gradient of {activation:?} {dtype:?} {shape:?}"),
                );
            }
        }
    }
}

#[test]
fn f64_gradients_match_central_differences() {
    let device = Device::flex().autodiff();
    let data = values(33);
    let h = 1e-6;
    for activation in Activation::ALL {
        let z = tensor(&data, [33], &device, DType::F64).require_grad();
        let grads = activation.forward(z.clone()).sum().backward();
        let analytic = host(z.grad(&grads).unwrap());
        let at = |shift: f64| {
            let shifted: Vec<f64> = data.iter().map(|x| x + shift).collect();
            host(activation.forward(tensor(&shifted, [33], &Device::flex(), DType::F64)))
        };
        let (plus, minus) = (at(h), at(-h));
        for i in 0..33 {
            // ReLU's kink at the exact zero has no derivative; burn and we report 0 there.
            if activation == Activation::Relu && data[i] == 0.0 {
                continue;
            }
            let fd = (plus[i] - minus[i]) / (2.0 * h);
            assert!(
                (analytic[i] - fd).abs() < 1e-7,
                "{activation:?} at {}: {} vs central difference {fd}",
                data[i],
                analytic[i]
            );
        }
    }
}

#[test]
fn a_tensor_the_caller_still_holds_is_not_overwritten() {
    let device = Device::flex();
    let data = values(12);
    for activation in Activation::ALL {
        let z = tensor(&data, [3, 4], &device, DType::F32);
        let _ = activation.forward(z.clone());
        assert_close(
            &host(z),
            &host(tensor(&data, [3, 4], &device, DType::F32)),
            0.0,
            "input",
        );
    }
}

#[test]
fn strided_views_and_higher_ranks_are_computed_in_logical_order() {
    let flex = Device::flex();
    let ndarray = Device::ndarray();
    let data = values(2 * 3 * 5);
    for activation in [Activation::Tanh, Activation::Silu] {
        let on = |device: &Device, ours: bool| {
            let z: Tensor<3> = tensor(&data, [2, 3, 5], device, DType::F32).swap_dims(0, 2);
            let sliced = z.slice([1..4, 0..3, 0..2]);
            host(if ours {
                activation.forward(sliced)
            } else {
                reference(activation, sliced)
            })
        };
        assert_close(&on(&flex, true), &on(&ndarray, false), 1e-5, "strided view");
    }
}

#[test]
fn half_precision_is_computed_in_single_and_rounded_back() {
    let device = Device::flex();
    let data = values(9);
    let z = tensor(&data, [9], &device, DType::F16);
    let y = Activation::Tanh.forward(z);
    assert_eq!(y.dtype(), DType::F16);
    let want: Vec<f64> = data.iter().map(|x| x.tanh()).collect();
    assert_close(&host(y), &want, 2e-3, "f16 tanh");
}

#[test]
fn other_backends_keep_burns_operations() {
    // ndarray takes burn's path (the extension is only routed on flex): same results as burn.
    let device = Device::ndarray();
    let data = values(10);
    for activation in Activation::ALL {
        let got = host(activation.forward(tensor(&data, [10], &device, DType::F32)));
        let want = host(reference(
            activation,
            tensor(&data, [10], &device, DType::F32),
        ));
        assert_close(&got, &want, 0.0, &format!("{activation:?} on ndarray"));
    }
}
