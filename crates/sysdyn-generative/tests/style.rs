//! Adaptive instance normalisation: exact target statistics, style transfer of statistics, the
//! styled layer's gradients against finite differences, typed errors.

use burn::module::Param;
use burn::tensor::{DType, Tensor, TensorData};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::style::{
    AdaInConfig, adaptive_instance_norm, channel_statistics, transfer_statistics,
};

fn device(spec: &str) -> SysDevice {
    spec.parse::<DeviceSpec>().unwrap().init().unwrap()
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

fn images(d: &SysDevice, shape: [usize; 4], seed: u64, offset: f64, spread: f64) -> Tensor<4> {
    let n: usize = shape.iter().product();
    let values: Vec<f64> = SeededRng::new(seed)
        .normals(n)
        .iter()
        .enumerate()
        .map(|(i, z)| offset + spread * z + 0.3 * ((i % 7) as f64))
        .collect();
    d.tensor(values, shape).unwrap()
}

#[test]
fn adain_output_has_the_target_channel_statistics() {
    for (spec, epsilon, tol) in [("flex:f64", 1e-12, 1e-10), ("flex:f32", 1e-8, 1e-5)] {
        let d = device(spec);
        let x = images(&d, [3, 4, 8, 8], 1, 2.0, 3.0);
        let scales: Vec<f64> = (0..12).map(|k| 0.5 + 0.25 * k as f64).collect();
        let biases: Vec<f64> = (0..12).map(|k| -3.0 + 0.5 * k as f64).collect();
        let y = adaptive_instance_norm(
            x,
            d.tensor(scales.clone(), [3, 4]).unwrap(),
            d.tensor(biases.clone(), [3, 4]).unwrap(),
            epsilon,
        )
        .unwrap();
        let (mean, std) = channel_statistics(y, 0.0).unwrap();
        for (k, (m, s)) in host(mean).iter().zip(host(std)).enumerate() {
            assert!(
                (m - biases[k]).abs() < tol * (1.0 + biases[k].abs()),
                "{spec} mean {k}: {m}"
            );
            assert!(
                (s - scales[k]).abs() < tol * scales[k],
                "{spec} std {k}: {s}"
            );
        }
    }
}

#[test]
fn style_transfer_moves_the_statistics_and_keeps_the_content() {
    let d = device("flex:f64");
    let content = images(&d, [2, 3, 6, 5], 2, 0.0, 1.0);
    let style = images(&d, [2, 3, 9, 9], 3, 5.0, 0.2); // another size, other statistics
    let out = transfer_statistics(content.clone(), style.clone(), 1e-12).unwrap();
    let (m_out, s_out) = channel_statistics(out.clone(), 0.0).unwrap();
    let (m_style, s_style) = channel_statistics(style, 0.0).unwrap();
    for (a, b) in host(m_out).iter().zip(host(m_style)) {
        assert!((a - b).abs() < 1e-10, "{a} vs {b}");
    }
    for (a, b) in host(s_out).iter().zip(host(s_style)) {
        assert!((a - b).abs() < 1e-10, "{a} vs {b}");
    }
    // The content survives as an affine map per channel: normalising both gives the same maps.
    let unit = |t: Tensor<4>| {
        let [n, c, _, _] = t.dims();
        let ones = d.tensor(vec![1.0; n * c], [n, c]).unwrap();
        let zeros = d.tensor(vec![0.0; n * c], [n, c]).unwrap();
        host(adaptive_instance_norm(t, ones, zeros, 1e-12).unwrap())
    };
    for (a, b) in unit(out).iter().zip(unit(content)) {
        assert!((a - b).abs() < 1e-9);
    }
}

#[test]
fn the_styled_layer_sets_statistics_from_the_code_and_its_gradients_match_finite_differences() {
    let d = device("flex:f64:autodiff");
    let mut layer = AdaInConfig::new(3, 2).init(d.device()).unwrap();
    // f64 parameters, so finite differences are meaningful.
    let weight: Vec<f64> = SeededRng::new(4)
        .normals(12)
        .iter()
        .map(|z| 0.3 * z)
        .collect();
    layer.style.weight = Param::from_tensor(d.tensor(weight.clone(), [3, 4]).unwrap());
    layer.style.bias = Some(Param::from_tensor(
        d.tensor(vec![1.0, 1.5, 0.0, -1.0], [4]).unwrap(),
    ));
    layer.epsilon = 1e-12;
    let x = images(&d, [2, 2, 4, 4], 5, 1.0, 2.0);
    let w = d
        .tensor(vec![0.2, -0.4, 0.7, -1.0, 0.3, 0.5], [2, 3])
        .unwrap();
    // The statistics are the affine map of w.
    let y = layer.forward(x.clone(), w.clone()).unwrap();
    let styles = host(layer.style.forward(w.clone()));
    let (mean, std) = channel_statistics(y.clone(), 0.0).unwrap();
    let (mean, std) = (host(mean), host(std));
    for n in 0..2 {
        for c in 0..2 {
            assert!((std[n * 2 + c] - styles[n * 4 + c].abs()).abs() < 1e-9);
            assert!((mean[n * 2 + c] - styles[n * 4 + 2 + c]).abs() < 1e-9);
        }
    }
    // A weighted sum of the output, differentiated with respect to A's weight.
    let probe: Vec<f64> = SeededRng::new(6).normals(64);
    let loss = |layer: &sysdyn_generative::style::AdaIn| {
        let y = layer.forward(x.clone(), w.clone()).unwrap();
        (y * d.tensor(probe.clone(), [2, 2, 4, 4]).unwrap()).sum()
    };
    let grads = loss(&layer).backward();
    let analytic = host(layer.style.weight.grad(&grads).unwrap());
    for index in [0, 5, 11] {
        let nudged = |delta: f64| {
            let mut l = layer.clone();
            let mut values = weight.clone();
            values[index] += delta;
            l.style.weight = Param::from_tensor(Tensor::from_data(
                TensorData::new(values, [3, 4]),
                (d.device(), DType::F64),
            ));
            loss(&l).into_scalar::<f64>()
        };
        let fd = (nudged(1e-6) - nudged(-1e-6)) / 2e-6;
        assert!(
            (analytic[index] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
            "{index}: {} vs {fd}",
            analytic[index]
        );
    }
}

#[test]
fn mismatched_shapes_are_typed_errors() {
    let d = device("flex:f32");
    let x = images(&d, [2, 3, 4, 4], 1, 0.0, 1.0);
    let wrong = d.tensor(vec![1.0; 4], [2, 2]).unwrap();
    assert!(matches!(
        adaptive_instance_norm(x.clone(), wrong.clone(), wrong, 1e-5),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        transfer_statistics(x, images(&d, [2, 4, 4, 4], 2, 0.0, 1.0), 1e-5),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        AdaInConfig::new(0, 3).init(d.device()),
        Err(GenerativeError::InvalidParameter { .. })
    ));
}
