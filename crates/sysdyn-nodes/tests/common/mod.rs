//! Helpers shared by the integration tests: networks built from flat parameter vectors (so
//! finite differences can perturb one parameter), losses, and gradient read-out.

#![allow(dead_code)]

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::Linear;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, Mlp};
use sysdyn_core::rng::SeededRng;

/// Number of parameters of an MLP with these widths (weights and biases).
pub fn num_params(widths: &[usize]) -> usize {
    widths.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
}

/// Parameters uniform in ±scale/√fan_in, laid out as the module visits them: per layer the
/// weight `[in, out]` row-major, then the bias.
pub fn random_params(widths: &[usize], seed: u64, scale: f64) -> Vec<f64> {
    let mut rng = SeededRng::new(seed);
    let mut out = Vec::new();
    for w in widths.windows(2) {
        let bound = scale / (w[0] as f64).sqrt();
        for _ in 0..w[0] * w[1] + w[1] {
            out.push(bound * (2.0 * rng.uniform() - 1.0));
        }
    }
    out
}

/// An MLP whose parameters are `flat` (in visiting order).
pub fn mlp_from_flat(
    device: &SysDevice,
    widths: &[usize],
    flat: &[f64],
    activation: Activation,
) -> Mlp {
    let mut offset = 0;
    let layers = widths
        .windows(2)
        .map(|w| {
            let (fan_in, fan_out) = (w[0], w[1]);
            let weight = device
                .tensor(
                    flat[offset..offset + fan_in * fan_out].to_vec(),
                    [fan_in, fan_out],
                )
                .unwrap();
            offset += fan_in * fan_out;
            let bias = device
                .tensor(flat[offset..offset + fan_out].to_vec(), [fan_out])
                .unwrap();
            offset += fan_out;
            Linear {
                weight: Param::from_tensor(weight),
                bias: Some(Param::from_tensor(bias)),
            }
        })
        .collect();
    assert_eq!(offset, flat.len());
    Mlp::new(layers, activation).unwrap()
}

/// The gradients of `module`'s parameters as one flat vector in visiting order (zeros where a
/// parameter has none).
pub fn flat_gradient<M: Module>(module: &M, grads: &GradientsParams) -> Vec<f64> {
    struct Reader<'a> {
        grads: &'a GradientsParams,
        out: Vec<f64>,
    }
    impl ModuleVisitor for Reader<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            match self.grads.get::<D>(param.id) {
                Some(g) => self.out.extend(g.try_to_vec_as::<f64>().unwrap()),
                None => self
                    .out
                    .extend(std::iter::repeat_n(0.0, param.val().shape().num_elements())),
            }
        }
    }
    let mut reader = Reader {
        grads,
        out: Vec::new(),
    };
    module.visit(&mut reader);
    reader.out
}

/// `‖a - b‖ / ‖b‖`.
pub fn relative_error(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let diff: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
    let norm: f64 = b.iter().map(|y| y * y).sum();
    (diff / norm).sqrt()
}

/// A scalar as f64.
pub fn scalar<const D: usize>(t: Tensor<D>) -> f64 {
    t.try_to_vec_as::<f64>().unwrap()[0]
}

/// A tensor's values as f64.
pub fn values<const D: usize>(t: &Tensor<D>) -> Vec<f64> {
    t.try_to_vec_as::<f64>().unwrap()
}
