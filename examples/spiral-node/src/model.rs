//! The model: `f(y) = W₂ tanh(W₁ y³ + b₁) + b₂` with 50 hidden units, as in the original neural
//! ODE paper. Any burn module is a vector field once it implements [`NeuralField::field`];
//! its vector–Jacobian products then come from burn's autodiff on one evaluation.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_nodes::NeuralField;

/// Hidden width.
pub const HIDDEN: usize = 50;

/// An MLP applied to the cube of the state.
#[derive(Module, Debug)]
pub struct CubicMlp {
    /// `2 → 50`.
    pub hidden: Linear,
    /// `50 → 2`.
    pub output: Linear,
}

impl NeuralField for CubicMlp {
    fn field(&self, _t: f64, y: Tensor<2>) -> Tensor<2> {
        let cube = y.clone() * y.clone() * y;
        self.output.forward(self.hidden.forward(cube).tanh())
    }
}

fn layer(device: &SysDevice, rng: &mut SeededRng, fan_in: usize, fan_out: usize) -> Linear {
    // Weights N(0, 0.1²), biases zero (the original demo's initialisation).
    let weights: Vec<f64> = rng
        .normals(fan_in * fan_out)
        .iter()
        .map(|v| 0.1 * v)
        .collect();
    Linear {
        weight: Param::from_tensor(
            device
                .tensor(weights, [fan_in, fan_out])
                .expect("value count matches the shape"),
        ),
        bias: Some(Param::from_tensor(device.zeros([fan_out]))),
    }
}

impl CubicMlp {
    /// A network drawn from `rng` on `device` (its precision).
    pub fn init(device: &SysDevice, rng: &mut SeededRng) -> Self {
        CubicMlp {
            hidden: layer(device, rng, 2, HIDDEN),
            output: layer(device, rng, HIDDEN, 2),
        }
    }
}
