//! Residual networks on images whose layer operator is a 3×3 convolution over channels:
//! `Y_{j+1} = Y_j + h σ(K_j * Y_j + b_j)` for `Y: [batch, c, height, width]`, zero padding of
//! one pixel so the image keeps its size (the forward Euler step of `dY/dt = σ(K(t) * Y + b(t))`).
//!
//! With zero padding, the adjoint of the convolution `X ↦ K * X` (cross-correlation with kernel
//! `K[o, i, a, b]`) is the convolution with the kernel transposed in channels and flipped in
//! space, `Kᵀ[o, i, a, b] = K[i, o, 2 − a, 2 − b]`. The antisymmetric form
//! `K − Kᵀ − γ I` therefore is an antisymmetric operator shifted by `−γ`, like the dense
//! [`WeightForm::Antisymmetric`].

use burn::module::{Module, Param};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Tensor, TensorData};
use sysdyn_core::jet::Activation;

use super::error::{ResNetError, check_step, shape_error};
use super::network::WeightForm;

/// Side of the convolution kernels.
pub const KERNEL: usize = 3;

/// A residual network of `N` forward Euler blocks whose layer operators are 3×3 convolutions
/// with `c` input and `c` output channels.
#[derive(Module, Debug)]
pub struct ConvResNet {
    /// Trainable kernels `W_j`, stacked as `[N c, c, 3, 3]` (layer `j` is rows `j c .. (j+1) c`).
    pub kernels: Param<Tensor<4>>,
    /// Biases `b_j`, one per channel, `[N, c]`.
    pub biases: Param<Tensor<2>>,
    #[module(skip)]
    step: f64,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    form: WeightForm,
}

impl ConvResNet {
    /// A network from `kernels: [N c, c, 3, 3]` and `biases: [N, c]`.
    pub fn new(
        kernels: Tensor<4>,
        biases: Tensor<2>,
        step: f64,
        activation: Activation,
        form: WeightForm,
    ) -> Result<Self, ResNetError> {
        check_step(step)?;
        let [n_layers, channels] = biases.dims();
        if n_layers == 0 || channels == 0 {
            return Err(ResNetError::NoLayers);
        }
        if kernels.dims() != [n_layers * channels, channels, KERNEL, KERNEL] {
            return Err(shape_error(
                "kernels",
                format!(
                    "must be [N c, c, 3, 3] = [{}, {channels}, 3, 3] for biases [N, c] = \
                     [{n_layers}, {channels}]",
                    n_layers * channels
                ),
                kernels.dims().to_vec(),
            ));
        }
        if let WeightForm::Antisymmetric { gamma } = form
            && !(gamma.is_finite() && gamma >= 0.0)
        {
            return Err(ResNetError::Invalid {
                what: "damping γ",
                reason: format!("must be finite and non-negative, got {gamma}"),
            });
        }
        Ok(ConvResNet {
            kernels: Param::from_tensor(kernels),
            biases: Param::from_tensor(biases),
            step,
            activation,
            form,
        })
    }

    /// Number of layers `N`.
    pub fn layers(&self) -> usize {
        self.biases.dims()[0]
    }

    /// Number of channels `c`.
    pub fn channels(&self) -> usize {
        self.biases.dims()[1]
    }

    /// Step size `h`.
    pub fn step_size(&self) -> f64 {
        self.step
    }

    /// The kernel `K_j` layer `j` applies (after the [`WeightForm`]), `[c, c, 3, 3]`.
    pub fn layer_kernel(&self, j: usize) -> Tensor<4> {
        let c = self.channels();
        let w = self
            .kernels
            .val()
            .slice([j * c..(j + 1) * c, 0..c, 0..KERNEL, 0..KERNEL]);
        match self.form {
            WeightForm::Free => w,
            WeightForm::Antisymmetric { gamma } => {
                let adjoint = w.clone().swap_dims(0, 1).flip([2, 3]);
                w - adjoint - centre_identity(c, &self.kernels.val()) * gamma
            }
        }
    }

    /// The layer field `f_j(Y) = σ(K_j * Y + b_j)`.
    pub fn field(&self, j: usize, y: Tensor<4>) -> Tensor<4> {
        let c = self.channels();
        let bias = self.biases.val().slice([j..j + 1, 0..c]).reshape([c]);
        let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        self.activation
            .forward(conv2d(y, self.layer_kernel(j), Some(bias), options))
    }

    /// The states `Y_0, …, Y_N` of a batch `y0: [batch, c, height, width]`.
    pub fn trajectory(&self, y0: Tensor<4>) -> Result<Vec<Tensor<4>>, ResNetError> {
        if y0.dims()[1] != self.channels() {
            return Err(shape_error(
                "input",
                format!("must be [batch, {}, height, width]", self.channels()),
                y0.dims().to_vec(),
            ));
        }
        let mut states = vec![y0];
        for j in 0..self.layers() {
            let y = states[j].clone();
            states.push(y.clone() + self.field(j, y) * self.step);
        }
        Ok(states)
    }

    /// The output `Y_N`.
    pub fn forward(&self, y0: Tensor<4>) -> Result<Tensor<4>, ResNetError> {
        let mut states = self.trajectory(y0)?;
        Ok(states.pop().expect("a trajectory holds the input"))
    }
}

/// The kernel of the identity map, `[c, c, 3, 3]` with `δ_{oi}` at the centre tap, in the
/// dtype and on the device of `like`.
fn centre_identity(c: usize, like: &Tensor<4>) -> Tensor<4> {
    let mut values = vec![0.0; c * c * KERNEL * KERNEL];
    for i in 0..c {
        values[((i * c + i) * KERNEL + 1) * KERNEL + 1] = 1.0;
    }
    let dtype = like.dtype();
    Tensor::from_data(
        TensorData::new(values, [c, c, KERNEL, KERNEL]).convert_dtype(dtype),
        (&like.device(), dtype),
    )
}
