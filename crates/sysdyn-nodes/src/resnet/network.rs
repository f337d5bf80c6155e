//! Residual networks whose layers are steps of an ODE scheme on the layer field
//! `f_j(Y) = σ(Y K_j + b_j)` (rows of `Y` are samples, so `Y K` is `Kᵀ y` for each sample `y`).

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use sysdyn_core::jet::Activation;

use super::depth::{identity_like, layer_matrix, layer_row, prolong_rows, prolong_stack};
use super::error::{ResNetError, check_step, shape_error};

/// The ODE scheme one residual block applies to its layer's field `f_j`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockScheme {
    /// `Y_{j+1} = Y_j + h f_j(Y_j)`: the classical residual block.
    ForwardEuler,
    /// The explicit midpoint rule (RK2): `Y_{j+1} = Y_j + h f_j(Y_j + h/2 f_j(Y_j))`.
    Midpoint,
    /// The classical fourth-order Runge–Kutta step on `f_j`.
    Rk4,
    /// Two-step Adams–Bashforth: `Y_{j+1} = Y_j + h (3/2 f_j(Y_j) - 1/2 f_{j-1}(Y_{j-1}))`,
    /// started by one forward Euler block.
    AdamsBashforth2,
    /// The second-order leapfrog block for `Y'' = -f(Y)`:
    /// `Y_{j+1} = 2 Y_j - Y_{j-1} - h² f_j(Y_j)`, started at rest
    /// (`Y_1 = Y_0 - h²/2 f_0(Y_0)`, the Störmer–Verlet step with zero velocity).
    Leapfrog,
}

impl BlockScheme {
    /// Every scheme.
    pub const ALL: [BlockScheme; 5] = [
        BlockScheme::ForwardEuler,
        BlockScheme::Midpoint,
        BlockScheme::Rk4,
        BlockScheme::AdamsBashforth2,
        BlockScheme::Leapfrog,
    ];

    /// Short name (for reports).
    pub fn name(self) -> &'static str {
        match self {
            BlockScheme::ForwardEuler => "forward_euler",
            BlockScheme::Midpoint => "midpoint",
            BlockScheme::Rk4 => "rk4",
            BlockScheme::AdamsBashforth2 => "adams_bashforth2",
            BlockScheme::Leapfrog => "leapfrog",
        }
    }
}

/// How a layer's matrix `K_j` is made from its trainable parameter `W_j`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WeightForm {
    /// `K_j = W_j`.
    Free,
    /// `K_j = W_j - W_jᵀ - γ I` (Haber & Ruthotto 2017): the spectrum of `K_j` is `-γ` plus a
    /// purely imaginary part, so the continuous dynamics neither blow up nor collapse.
    Antisymmetric {
        /// Damping `γ ≥ 0` that moves the spectrum into the left half-plane, so that forward
        /// Euler (whose stability region misses the imaginary axis) is stable for small `h`.
        gamma: f64,
    },
}

/// A residual network of `N` blocks of one [`BlockScheme`] with step `h`: a discretisation of
/// `dY/dt = σ(Y K(t) + b(t))` over `t ∈ [0, N h]`.
#[derive(Module, Debug)]
pub struct ResNet {
    /// Trainable layer matrices `W_j`, `[N, n, n]` (see [`WeightForm`]).
    pub weights: Param<Tensor<3>>,
    /// Biases `b_j`, `[N, n]`.
    pub biases: Param<Tensor<2>>,
    #[module(skip)]
    step: f64,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    scheme: BlockScheme,
    #[module(skip)]
    form: WeightForm,
}

impl ResNet {
    /// A network from depth-stacked parameters `weights: [N, n, n]`, `biases: [N, n]`.
    pub fn new(
        weights: Tensor<3>,
        biases: Tensor<2>,
        step: f64,
        activation: Activation,
        scheme: BlockScheme,
        form: WeightForm,
    ) -> Result<Self, ResNetError> {
        check_step(step)?;
        let [n_layers, rows, cols] = weights.dims();
        if n_layers == 0 {
            return Err(ResNetError::NoLayers);
        }
        if rows != cols {
            return Err(shape_error(
                "weights",
                "must be [N, n, n]",
                weights.dims().to_vec(),
            ));
        }
        if biases.dims() != [n_layers, rows] {
            return Err(shape_error(
                "biases",
                format!("must be [N, n] = [{n_layers}, {rows}]"),
                biases.dims().to_vec(),
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
        Ok(ResNet {
            weights: Param::from_tensor(weights),
            biases: Param::from_tensor(biases),
            step,
            activation,
            scheme,
            form,
        })
    }

    /// Number of layers `N`.
    pub fn layers(&self) -> usize {
        self.weights.dims()[0]
    }

    /// Width `n` of the state.
    pub fn width(&self) -> usize {
        self.weights.dims()[1]
    }

    /// Step size `h` (depth spacing).
    pub fn step_size(&self) -> f64 {
        self.step
    }

    /// The block scheme.
    pub fn scheme(&self) -> BlockScheme {
        self.scheme
    }

    /// How `K_j` is made from `W_j`.
    pub fn weight_form(&self) -> WeightForm {
        self.form
    }

    /// The activation σ.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// The matrix `K_j` the layer applies (after the [`WeightForm`]).
    pub fn layer_matrix(&self, j: usize) -> Tensor<2> {
        let w = layer_matrix(&self.weights.val(), j);
        match self.form {
            WeightForm::Free => w,
            WeightForm::Antisymmetric { gamma } => {
                let n = self.width();
                w.clone() - w.transpose() - identity_like(n, &self.weights.val()) * gamma
            }
        }
    }

    /// The layer field `f_j(Y) = σ(Y K_j + b_j)`.
    pub fn field(&self, j: usize, y: Tensor<2>) -> Tensor<2> {
        let k = self.layer_matrix(j);
        let b = layer_row(&self.biases.val(), j);
        self.activation.forward(y.matmul(k) + b)
    }

    fn check_input(&self, y0: &Tensor<2>) -> Result<(), ResNetError> {
        if y0.dims()[1] != self.width() {
            return Err(shape_error(
                "input",
                format!("must be [batch, {}]", self.width()),
                y0.dims().to_vec(),
            ));
        }
        Ok(())
    }

    /// The states `Y_0, …, Y_N` of a batch `y0: [batch, n]` through the network.
    pub fn trajectory(&self, y0: Tensor<2>) -> Result<Vec<Tensor<2>>, ResNetError> {
        self.check_input(&y0)?;
        let h = self.step;
        let mut states = vec![y0];
        let mut previous_field: Option<Tensor<2>> = None;
        for j in 0..self.layers() {
            let y = states[j].clone();
            let next = match self.scheme {
                BlockScheme::ForwardEuler => y.clone() + self.field(j, y) * h,
                BlockScheme::Midpoint => {
                    let k1 = self.field(j, y.clone());
                    y.clone() + self.field(j, y + k1 * (0.5 * h)) * h
                }
                BlockScheme::Rk4 => {
                    let k1 = self.field(j, y.clone());
                    let k2 = self.field(j, y.clone() + k1.clone() * (0.5 * h));
                    let k3 = self.field(j, y.clone() + k2.clone() * (0.5 * h));
                    let k4 = self.field(j, y.clone() + k3.clone() * h);
                    y + (k1 + k4 + (k2 + k3) * 2.0) * (h / 6.0)
                }
                BlockScheme::AdamsBashforth2 => {
                    let f = self.field(j, y.clone());
                    let next = match previous_field.take() {
                        None => y + f.clone() * h,
                        Some(f_prev) => y + f.clone() * (1.5 * h) - f_prev * (0.5 * h),
                    };
                    previous_field = Some(f);
                    next
                }
                BlockScheme::Leapfrog => {
                    let f = self.field(j, y.clone());
                    if j == 0 {
                        y - f * (0.5 * h * h)
                    } else {
                        y.clone() * 2.0 - states[j - 1].clone() - f * (h * h)
                    }
                }
            };
            states.push(next);
        }
        Ok(states)
    }

    /// The output `Y_N` for a batch `y0: [batch, n]`.
    pub fn forward(&self, y0: Tensor<2>) -> Result<Tensor<2>, ResNetError> {
        let mut states = self.trajectory(y0)?;
        Ok(states.pop().expect("a trajectory holds the input"))
    }

    /// The same network on a depth grid twice as fine: `2N` layers with step `h/2`, parameters
    /// interpolated linearly in depth (the multi-level training step: train coarse, prolong,
    /// continue training fine). The new parameters are fresh leaves (detached from any autodiff
    /// graph of the old ones).
    pub fn prolong(&self) -> Self {
        ResNet {
            weights: Param::from_tensor(prolong_stack(self.weights.val()).detach()),
            biases: Param::from_tensor(prolong_rows(self.biases.val()).detach()),
            step: 0.5 * self.step,
            activation: self.activation,
            scheme: self.scheme,
            form: self.form,
        }
    }

    /// The depth-indexed parameters as `[N, a, b]` stacks (biases as `[N, 1, n]`).
    pub fn parameter_stacks(&self) -> Vec<Tensor<3>> {
        let [n_layers, n] = self.biases.dims();
        vec![
            self.weights.val(),
            self.biases.val().reshape([n_layers, 1, n]),
        ]
    }

    /// The layer matrices `K_j` (after the [`WeightForm`]).
    pub fn layer_matrices(&self) -> Vec<Tensor<2>> {
        (0..self.layers()).map(|j| self.layer_matrix(j)).collect()
    }
}
