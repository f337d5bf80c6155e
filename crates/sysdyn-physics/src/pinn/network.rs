//! PINN networks: an MLP (tanh or sin, Xavier-initialised as Raissi et al. do) on sysdyn-core's
//! jet-carrying [`Mlp`], optional Fourier-feature inputs `γ(x) = [sin 2πxB, cos 2πxB]`
//! (Tancik et al. 2020), and an optional hard-constraint output transform `u = T(x, N(x))`
//! (e.g. `u = sin(πx) + t·x(1 − x)·N(x, t)` meets `u(x, 0) = sin πx` and `u(0, t) = u(1, t) = 0`
//! exactly), written with [`FieldJet`] arithmetic so derivatives flow through it.

use std::f64::consts::PI;
use std::fmt;
use std::sync::Arc;

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, Jet, JetForward, Mlp};
use sysdyn_core::rng::SeededRng;

use super::field::FieldJet;
use crate::PhysicsError;

/// Anything a PINN problem can evaluate: the jet of `u` at points `x` (`[batch, d]`) with the
/// second derivatives of `pairs`.
pub trait PinnField {
    /// `u` and its derivatives at `x`.
    fn field_jet(&self, x: Tensor<2>, pairs: &[(usize, usize)]) -> Result<FieldJet, PhysicsError>;

    /// The field as a plain MLP `u = N(x)` (no feature map, no output transform), when it is
    /// one: then [`super::PinnStep`] can evaluate its jets on the host engine
    /// ([`super::host`]). `None` (the default) keeps the tensor path.
    fn plain_mlp(&self) -> Option<&Mlp> {
        None
    }
}

/// A field given as a formula on coordinate jets: exact solutions for tests and references,
/// evaluated through the same residual code as a network.
pub struct ExactField<F>(pub F);

impl<F> PinnField for ExactField<F>
where
    F: Fn(&Tensor<2>, &[(usize, usize)]) -> Result<FieldJet, PhysicsError>,
{
    fn field_jet(&self, x: Tensor<2>, pairs: &[(usize, usize)]) -> Result<FieldJet, PhysicsError> {
        (self.0)(&x, pairs)
    }
}

/// Random Fourier features `γ(x) = [sin(2π x B), cos(2π x B)]` with a fixed `B` (`[d, m]`,
/// entries `N(0, σ²)`); not trained.
#[derive(Debug, Clone, PartialEq)]
pub struct FourierFeatures {
    inputs: usize,
    features: usize,
    matrix: Vec<f64>,
}

impl FourierFeatures {
    /// `m` features of `d` inputs with `B_ij ~ N(0, σ²)` drawn from `seed`.
    pub fn gaussian(d: usize, m: usize, sigma: f64, seed: u64) -> Result<Self, PhysicsError> {
        if d == 0 || m == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "Fourier feature inputs and features",
                value: d.min(m) as f64,
                requirement: "both must be at least 1",
            });
        }
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(PhysicsError::InvalidParameter {
                name: "Fourier feature scale sigma",
                value: sigma,
                requirement: "must be finite and > 0 (1 to 10 is typical)",
            });
        }
        let mut rng = SeededRng::new(seed);
        let matrix = rng.normals(d * m).into_iter().map(|z| sigma * z).collect();
        Ok(FourierFeatures {
            inputs: d,
            features: m,
            matrix,
        })
    }

    /// The output width `2m`.
    pub fn width(&self) -> usize {
        2 * self.features
    }

    /// The jet through `γ`: one affine map `x [2πB, 2πB] + [0, π/2]` and `sin` (cos z = sin(z +
    /// π/2)).
    fn forward_jet(&self, jet: Jet) -> Result<Jet, sysdyn_core::jet::JetError> {
        let like = jet.value();
        let (d, m) = (self.inputs, self.features);
        let mut w = vec![0.0; d * 2 * m];
        for i in 0..d {
            for j in 0..m {
                let b = 2.0 * PI * self.matrix[i * m + j];
                w[i * 2 * m + j] = b;
                w[i * 2 * m + m + j] = b;
            }
        }
        let bias: Vec<f64> = (0..2 * m)
            .map(|j| if j < m { 0.0 } else { PI / 2.0 })
            .collect();
        let dtype = like.dtype();
        let device = like.device();
        let weight = Tensor::<2>::from_data(
            burn::tensor::TensorData::new(w, [d, 2 * m]).convert_dtype(dtype),
            (&device, dtype),
        );
        let bias = Tensor::<1>::from_data(
            burn::tensor::TensorData::new(bias, [2 * m]).convert_dtype(dtype),
            (&device, dtype),
        );
        Ok(jet.affine(weight, Some(bias))?.activate(Activation::Sin))
    }
}

/// The output transform signature: `(x, N) ↦ u`.
pub type TransformFn = dyn Fn(&Tensor<2>, FieldJet) -> Result<FieldJet, PhysicsError> + Send + Sync;

/// A hard-constraint output transform `u = T(x, N(x))`, built with [`FieldJet`] arithmetic and
/// [`FieldJet::coordinate`] so that the residual sees its exact derivatives.
#[derive(Clone)]
pub struct HardConstraint(Arc<TransformFn>);

impl HardConstraint {
    /// The transform `f(x, N)`.
    pub fn new<F>(f: F) -> Self
    where
        F: Fn(&Tensor<2>, FieldJet) -> Result<FieldJet, PhysicsError> + Send + Sync + 'static,
    {
        HardConstraint(Arc::new(f))
    }
}

impl fmt::Debug for HardConstraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HardConstraint(..)")
    }
}

/// A PINN network: optional Fourier features, an MLP, an optional hard constraint.
#[derive(Module, Debug)]
pub struct PinnNetwork {
    mlp: Mlp,
    #[module(skip)]
    fourier: Option<FourierFeatures>,
    #[module(skip)]
    constraint: Option<HardConstraint>,
}

/// The widths, activation and seed of a [`PinnNetwork`].
#[derive(Debug, Clone, PartialEq)]
pub struct PinnNetworkConfig {
    /// Input columns `d` (the domain's dimension).
    pub inputs: usize,
    /// Hidden layer widths, e.g. `[20; 8]` for Raissi's Burgers network.
    pub hidden: Vec<usize>,
    /// Output width (1 for a scalar field).
    pub outputs: usize,
    /// The hidden activation (tanh or sin for PINNs: both have σ'' ≠ 0).
    pub activation: Activation,
    /// Seed of the Xavier draws.
    pub seed: u64,
}

impl PinnNetworkConfig {
    /// A tanh network `inputs → hidden… → outputs`, seed 0.
    pub fn new(inputs: usize, hidden: Vec<usize>, outputs: usize) -> Self {
        PinnNetworkConfig {
            inputs,
            hidden,
            outputs,
            activation: Activation::Tanh,
            seed: 0,
        }
    }

    /// With the activation.
    pub fn with_activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// With the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Xavier-normal weights (`N(0, 2/(fan_in + fan_out))`, Glorot & Bengio 2010, as Raissi
    /// et al.), zero biases, on `device`; `fourier` replaces the raw input by its features.
    pub fn init(
        &self,
        device: &SysDevice,
        fourier: Option<FourierFeatures>,
    ) -> Result<PinnNetwork, PhysicsError> {
        if self.inputs == 0 || self.outputs == 0 || self.hidden.contains(&0) {
            return Err(PhysicsError::InvalidParameter {
                name: "PINN network width",
                value: 0.0,
                requirement: "inputs, outputs and every hidden width must be at least 1",
            });
        }
        if let Some(f) = &fourier
            && f.inputs != self.inputs
        {
            return Err(PhysicsError::SizeMismatch {
                what: "Fourier feature inputs (the network's input columns)",
                expected: self.inputs,
                got: f.inputs,
            });
        }
        let first = fourier.as_ref().map_or(self.inputs, FourierFeatures::width);
        let mut widths = vec![first];
        widths.extend(&self.hidden);
        widths.push(self.outputs);
        let mut rng = SeededRng::new(self.seed);
        let layers = widths
            .windows(2)
            .map(|w| {
                let std = (2.0 / (w[0] + w[1]) as f64).sqrt();
                let weights: Vec<f64> = rng.normals(w[0] * w[1]).iter().map(|z| std * z).collect();
                let weight = device.tensor(weights, [w[0], w[1]]).map_err(|_| {
                    PhysicsError::SizeMismatch {
                        what: "Xavier weights",
                        expected: w[0] * w[1],
                        got: 0,
                    }
                })?;
                Ok(Linear {
                    weight: Param::from_tensor(weight),
                    bias: Some(Param::from_tensor(device.zeros([w[1]]))),
                })
            })
            .collect::<Result<Vec<_>, PhysicsError>>()?;
        Ok(PinnNetwork {
            mlp: Mlp::new(layers, self.activation)?,
            fourier,
            constraint: None,
        })
    }
}

impl PinnNetwork {
    /// The network with its output passed through `constraint`.
    pub fn with_constraint(mut self, constraint: HardConstraint) -> Self {
        self.constraint = Some(constraint);
        self
    }

    /// The MLP.
    pub fn mlp(&self) -> &Mlp {
        &self.mlp
    }

    /// `u(x)`, `[batch, outputs]` (the transform included).
    pub fn forward(&self, x: Tensor<2>) -> Result<Tensor<2>, PhysicsError> {
        if self.fourier.is_none() && self.constraint.is_none() {
            return Ok(self.mlp.forward(x)?);
        }
        Ok(self.field_jet(x, &[])?.value())
    }

    /// The raw network `N(x)` (Fourier features and MLP, no transform) as a sysdyn-core jet.
    pub fn raw_jet(&self, jet: Jet) -> Result<Jet, PhysicsError> {
        let jet = match &self.fourier {
            Some(f) => f.forward_jet(jet)?,
            None => jet,
        };
        Ok(self.mlp.forward_jet(jet)?)
    }
}

impl PinnField for PinnNetwork {
    fn field_jet(&self, x: Tensor<2>, pairs: &[(usize, usize)]) -> Result<FieldJet, PhysicsError> {
        let seed = super::field::seed(x.clone(), pairs)?;
        let raw = FieldJet::from_jet(self.raw_jet(seed)?, pairs)?;
        match &self.constraint {
            Some(HardConstraint(t)) => t(&x, raw),
            None => Ok(raw),
        }
    }

    fn plain_mlp(&self) -> Option<&Mlp> {
        (self.fourier.is_none() && self.constraint.is_none()).then_some(&self.mlp)
    }
}

impl PinnField for Mlp {
    fn field_jet(&self, x: Tensor<2>, pairs: &[(usize, usize)]) -> Result<FieldJet, PhysicsError> {
        FieldJet::from_network(self, x, pairs)
    }

    fn plain_mlp(&self) -> Option<&Mlp> {
        Some(self)
    }
}

/// `JetForward` for the raw network, so the core's Jacobian and Laplacian helpers apply.
impl JetForward for PinnNetwork {
    fn input_width(&self) -> usize {
        self.fourier
            .as_ref()
            .map_or_else(|| self.mlp.input_width(), |f| f.inputs)
    }

    fn output_width(&self) -> usize {
        self.mlp.output_width()
    }

    fn forward_jet(&self, jet: Jet) -> Result<Jet, sysdyn_core::jet::JetError> {
        let jet = match &self.fourier {
            Some(f) => f.forward_jet(jet)?,
            None => jet,
        };
        self.mlp.forward_jet(jet)
    }
}
