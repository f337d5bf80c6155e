//! An MLP with one set of weights per environment, evaluated for every environment at once.
//!
//! Layer `l` of environment `e` is `h ↦ σ(h W_{e,l} + b_{e,l})` (no activation after the last
//! layer), with the weights of all environments stacked, `W_l: [E, in, out]`, `b_l: [E, 1, out]`.
//! A batch `x: [E, B, in]` (row block `e` belongs to environment `e`) goes through each layer as
//! one batched matrix product `[E, B, in] × [E, in, out]`, so `E` networks cost one pass, not a
//! loop over environments. With `E = 1` the network is shared: a batch of any number of
//! environments is flattened to `[1, E·B, in]`.
//!
//! The activation is Swish, `σ(z) = z · sigmoid(z)` (LEADS uses a Swish with a learned slope
//! divided by 1.1; the fixed slope is a simplification).

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::Activation;
use sysdyn_core::rng::SeededRng;

use crate::error::PhysicsError;

/// The shape and initialisation of an [`EnvMlp`].
#[derive(Debug, Clone, PartialEq)]
pub struct EnvMlpConfig {
    /// Environments `E` (1: one network shared by all).
    pub envs: usize,
    /// Layer widths from input to output, e.g. `[2, 64, 64, 64, 2]` (LEADS's four layers).
    pub widths: Vec<usize>,
    /// The standard deviation of the normal initial weights; `None`: `1/√fan_in`. Biases
    /// start at 0. (LEADS: 0.05 for Lotka–Volterra.)
    pub init_std: Option<f64>,
}

impl EnvMlpConfig {
    /// `envs` networks of `depth` layers (`depth ≥ 1`), hidden width `width`, from and to
    /// `state_len` components.
    pub fn new(envs: usize, state_len: usize, width: usize, depth: usize) -> Self {
        let mut widths = vec![state_len];
        widths.extend(std::iter::repeat_n(width, depth.saturating_sub(1)));
        widths.push(state_len);
        EnvMlpConfig {
            envs,
            widths,
            init_std: None,
        }
    }

    /// With the initial weights' standard deviation.
    pub fn with_init_std(mut self, std: Option<f64>) -> Self {
        self.init_std = std;
        self
    }

    /// Checks the settings: at least one environment, one layer, no zero width, a positive
    /// finite `init_std`.
    pub fn validate(&self) -> Result<(), PhysicsError> {
        if self.envs == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "envs",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        if self.widths.len() < 2 {
            return Err(PhysicsError::Empty {
                what: "the network's layers (widths needs an input and an output)",
                unit: "layer",
            });
        }
        if self.widths.contains(&0) {
            return Err(PhysicsError::InvalidParameter {
                name: "width",
                value: 0.0,
                requirement: "every layer width must be at least 1",
            });
        }
        if let Some(std) = self.init_std
            && !(std.is_finite() && std > 0.0)
        {
            return Err(PhysicsError::InvalidParameter {
                name: "init_std",
                value: std,
                requirement: "must be positive and finite",
            });
        }
        Ok(())
    }

    /// The network, weights drawn from `rng` on `device`.
    pub fn init(&self, device: &SysDevice, rng: &mut SeededRng) -> Result<EnvMlp, PhysicsError> {
        self.validate()?;
        let e = self.envs;
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for w in self.widths.windows(2) {
            let (fan_in, fan_out) = (w[0], w[1]);
            let std = self.init_std.unwrap_or(1.0 / (fan_in as f64).sqrt());
            let values: Vec<f64> = rng
                .normals(e * fan_in * fan_out)
                .into_iter()
                .map(|z| z * std)
                .collect();
            let weight = tensor(device, values, [e, fan_in, fan_out])?;
            weights.push(Param::from_tensor(weight));
            biases.push(Param::from_tensor(device.zeros([e, 1, fan_out])));
        }
        Ok(EnvMlp { weights, biases })
    }
}

pub(crate) fn tensor<const D: usize>(
    device: &SysDevice,
    values: Vec<f64>,
    shape: [usize; D],
) -> Result<Tensor<D>, PhysicsError> {
    let got = values.len();
    device
        .tensor(values, shape)
        .map_err(|_| PhysicsError::SizeMismatch {
            what: "tensor values against the shape",
            expected: shape.iter().product(),
            got,
        })
}

/// `E` MLPs with stacked weights (see the module docs).
#[derive(Module, Debug)]
pub struct EnvMlp {
    /// `W_l: [E, in, out]` per layer.
    pub weights: Vec<Param<Tensor<3>>>,
    /// `b_l: [E, 1, out]` per layer.
    pub biases: Vec<Param<Tensor<3>>>,
}

/// The batched forward pass with explicit parameters: `layers[l] = (W_l: [E, in, out],
/// b_l: [E, 1, out])`, `x: [E, B, in]`; Swish between layers. [`EnvMlp::forward`] and CoDA's
/// generated parameters both go through it.
pub fn env_mlp_forward(layers: &[(Tensor<3>, Tensor<3>)], x: Tensor<3>) -> Tensor<3> {
    let last = layers.len().saturating_sub(1);
    let mut h = x;
    for (l, (w, b)) in layers.iter().enumerate() {
        h = h.matmul(w.clone()) + b.clone();
        if l < last {
            h = Activation::Silu.forward(h);
        }
    }
    h
}

impl EnvMlp {
    /// Environments `E`.
    pub fn envs(&self) -> usize {
        self.weights.first().map_or(0, |w| w.dims()[0])
    }

    /// Layer widths, input to output.
    pub fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.weights.iter().map(|w| w.dims()[1]).collect();
        if let Some(w) = self.weights.last() {
            widths.push(w.dims()[2]);
        }
        widths
    }

    /// The layers' `(W, b)`.
    pub fn layers(&self) -> Vec<(Tensor<3>, Tensor<3>)> {
        self.weights
            .iter()
            .zip(&self.biases)
            .map(|(w, b)| (w.val(), b.val()))
            .collect()
    }

    /// The output for `x: [E', B, in]`: for `E' = E` environment `e`'s network on row block
    /// `e`, for a shared network (`E = 1`) the one network on every row. Errors: another `E'`
    /// or input width.
    pub fn forward(&self, x: Tensor<3>) -> Result<Tensor<3>, PhysicsError> {
        let [e, b, d] = x.dims();
        let widths = self.widths();
        if widths.first() != Some(&d) {
            return Err(PhysicsError::SizeMismatch {
                what: "the input width of the network",
                expected: widths.first().copied().unwrap_or(0),
                got: d,
            });
        }
        let envs = self.envs();
        if envs == e {
            return Ok(env_mlp_forward(&self.layers(), x));
        }
        if envs == 1 {
            let out = env_mlp_forward(&self.layers(), x.reshape([1, e * b, d]));
            let width = out.dims()[2];
            return Ok(out.reshape([e, b, width]));
        }
        Err(PhysicsError::SizeMismatch {
            what: "environments of the network against environments of the input",
            expected: envs,
            got: e,
        })
    }

    /// Environment `env`'s network alone on `x: [B, in]`, with two-dimensional products (the
    /// reference the batched pass is tested against).
    pub fn forward_env(&self, env: usize, x: Tensor<2>) -> Result<Tensor<2>, PhysicsError> {
        let envs = self.envs();
        if env >= envs {
            return Err(PhysicsError::SizeMismatch {
                what: "an environment index against the network's environments",
                expected: envs,
                got: env + 1,
            });
        }
        let last = self.weights.len().saturating_sub(1);
        let mut h = x;
        for (l, (w, b)) in self.layers().into_iter().enumerate() {
            let [_, fan_in, fan_out] = w.dims();
            let w = w.narrow(0, env, 1).reshape([fan_in, fan_out]);
            let b = b.narrow(0, env, 1).reshape([1, fan_out]);
            h = h.matmul(w) + b;
            if l < last {
                h = Activation::Silu.forward(h);
            }
        }
        Ok(h)
    }

    /// The number of parameters of one environment's network.
    pub fn params_per_env(&self) -> usize {
        self.widths().windows(2).map(|w| w[0] * w[1] + w[1]).sum()
    }
}

impl EnvMlp {
    /// [`EnvMlp::forward`] without the shape checks, for callers that checked `x` once (the
    /// training step checks the data against the model before its rollout).
    pub(crate) fn apply(&self, x: Tensor<3>) -> Tensor<3> {
        let [e, b, d] = x.dims();
        if self.envs() == 1 && e != 1 {
            let out = env_mlp_forward(&self.layers(), x.reshape([1, e * b, d]));
            let width = out.dims()[2];
            out.reshape([e, b, width])
        } else {
            env_mlp_forward(&self.layers(), x)
        }
    }
}
