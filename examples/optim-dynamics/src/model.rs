//! The burn model the optimizers train: a one-hidden-layer tanh MLP.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;

/// `x ↦ W₂ tanh(W₁ x + b₁) + b₂` for scalar inputs and outputs.
#[derive(Module, Debug)]
pub struct Mlp {
    hidden: Linear,
    output: Linear,
}

impl Mlp {
    /// Weights drawn on the host from `seed` (the same network on every backend), scaled by
    /// `1/√fan_in`; zero biases. Tensors carry the device's precision.
    pub fn new(device: &SysDevice, hidden: usize, seed: u64) -> Self {
        let mut rng = SeededRng::new(seed);
        let layer = |rng: &mut SeededRng, d_in: usize, d_out: usize| Linear {
            weight: Param::from_tensor(
                device
                    .randn(rng, [d_in, d_out])
                    .mul_scalar(1.0 / (d_in as f64).sqrt()),
            ),
            bias: Some(Param::from_tensor(device.zeros([d_out]))),
        };
        Mlp {
            hidden: layer(&mut rng, 1, hidden),
            output: layer(&mut rng, hidden, 1),
        }
    }

    /// Predictions for inputs of shape `[n, 1]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.output.forward(self.hidden.forward(x).tanh())
    }
}
