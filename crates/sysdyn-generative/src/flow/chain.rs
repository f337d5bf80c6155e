//! Composition of flows. For `f = f_K ∘ … ∘ f_1`,
//! `log|det ∂f/∂x| = Σₖ log|det ∂fₖ/∂x_{k−1}|` (the layers' log-determinants add, each at its
//! own input), and `f⁻¹ = f_1⁻¹ ∘ … ∘ f_K⁻¹` runs the layers in reverse order.
//!
//! A [`Chain`] holds layers of one type. Layers of different kinds compose through the enums
//! [`VectorLayer`] (`Flow<2>`) and [`ImageLayer`] (`Flow<4>`), burn modules whose variants are
//! the crate's layers: every vector family (couplings, ActNorm, LU linear maps, RevNet blocks,
//! MAF/IAF, spline couplings and autoregressive splines, residual blocks) composes in one
//! `Chain<VectorLayer>`. A flow of another type (the CNF, generic over its vector field)
//! composes as the layer type of its own `Chain`, or as one layer of a chain of chains.

use burn::module::{Module, ModuleDisplay};
use burn::tensor::Tensor;

use crate::error::GenerativeError;
use crate::flow::actnorm::ActNorm;
use crate::flow::checks::{context_for, zero_log_det};
use crate::flow::conv1x1::InvertibleConv1x1;
use crate::flow::coupling::{
    AdditiveCoupling, AffineCoupling, ConvAffineCoupling, DiagonalScaling, SplitAffineCoupling,
};
use crate::flow::iaf::Iaf;
use crate::flow::maf::Maf;
use crate::flow::permutation::Permutation;
use crate::flow::residual::ResidualFlow;
use crate::flow::revnet::RevNetBlock;
use crate::flow::spline::SplineCoupling;
use crate::flow::spline_autoregressive::SplineAutoregressive;
use crate::flow::squeeze::Squeeze;
use crate::flow::{Flow, Transformed};

/// Flows applied one after another (`layers[0]` first in the data → latent direction).
#[derive(Module, Debug)]
pub struct Chain<L> {
    layers: Vec<L>,
}

impl<L: Module + ModuleDisplay> Chain<L> {
    /// The composition of `layers` (none: the identity).
    pub fn new(layers: Vec<L>) -> Self {
        Chain { layers }
    }

    /// The layers, first applied first.
    pub fn layers(&self) -> &[L] {
        &self.layers
    }

    /// The layers, mutably (for updates outside the optimizer, such as a residual block's
    /// power iteration after each step).
    pub fn layers_mut(&mut self) -> &mut [L] {
        &mut self.layers
    }

    /// The number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether the chain is the identity.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl<const D: usize, L: Flow<D> + ModuleDisplay> Flow<D> for Chain<L> {
    fn forward(
        &self,
        x: Tensor<D>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<D>, GenerativeError> {
        self.check_context(context)?;
        let log_det = zero_log_det(&x);
        self.layers
            .iter()
            .try_fold(Transformed { value: x, log_det }, |acc, layer| {
                let out = layer.forward(acc.value, context_for(layer, context))?;
                Ok(Transformed {
                    value: out.value,
                    log_det: acc.log_det + out.log_det,
                })
            })
    }

    fn inverse(
        &self,
        z: Tensor<D>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<D>, GenerativeError> {
        self.check_context(context)?;
        let log_det = zero_log_det(&z);
        self.layers
            .iter()
            .rev()
            .try_fold(Transformed { value: z, log_det }, |acc, layer| {
                let out = layer.inverse(acc.value, context_for(layer, context))?;
                Ok(Transformed {
                    value: out.value,
                    log_det: acc.log_det + out.log_det,
                })
            })
    }

    fn context_width(&self) -> usize {
        self.layers
            .iter()
            .map(Flow::context_width)
            .max()
            .unwrap_or(0)
    }

    fn initialise(
        self,
        x: Tensor<D>,
        context: Option<&Tensor<2>>,
    ) -> Result<Self, GenerativeError> {
        self.check_context(context)?;
        let mut layers = Vec::with_capacity(self.layers.len());
        let mut h = x.detach();
        for layer in self.layers {
            let own = context_for(&layer, context);
            let layer = layer.initialise(h.clone(), own)?;
            h = layer
                .forward(h, context_for(&layer, context))?
                .value
                .detach();
            layers.push(layer);
        }
        Ok(Chain { layers })
    }
}

impl<L: Module + ModuleDisplay> Chain<L> {
    /// Refuses a context when no layer takes one.
    fn check_context<const D: usize>(
        &self,
        context: Option<&Tensor<2>>,
    ) -> Result<(), GenerativeError>
    where
        L: Flow<D>,
    {
        if context.is_some() && Flow::<D>::context_width(self) == 0 {
            return Err(GenerativeError::Unsupported {
                what: "a context for a composition without conditional layers: build its \
                       couplings with a context width > 0 to condition it",
            });
        }
        Ok(())
    }
}

/// Dispatches the `Flow` methods of an enum of layers to its variants.
macro_rules! dispatch_flow {
    ($enum:ident, $rank:literal, $($variant:ident),+) => {
        impl Flow<$rank> for $enum {
            fn forward(
                &self,
                x: Tensor<$rank>,
                context: Option<&Tensor<2>>,
            ) -> Result<Transformed<$rank>, GenerativeError> {
                match self {
                    $($enum::$variant(layer) => layer.forward(x, context),)+
                }
            }

            fn inverse(
                &self,
                z: Tensor<$rank>,
                context: Option<&Tensor<2>>,
            ) -> Result<Transformed<$rank>, GenerativeError> {
                match self {
                    $($enum::$variant(layer) => layer.inverse(z, context),)+
                }
            }

            fn context_width(&self) -> usize {
                match self {
                    $($enum::$variant(layer) => Flow::<$rank>::context_width(layer),)+
                }
            }

            fn initialise(
                self,
                x: Tensor<$rank>,
                context: Option<&Tensor<2>>,
            ) -> Result<Self, GenerativeError> {
                Ok(match self {
                    $($enum::$variant(layer) => $enum::$variant(layer.initialise(x, context)?),)+
                })
            }
        }
    };
}

/// A layer of a flow over vectors (`[batch, features]`).
#[derive(Module, Debug)]
pub enum VectorLayer {
    /// A fixed permutation of the features.
    Permutation(Permutation),
    /// A learned invertible linear map in LU form.
    Linear(InvertibleConv1x1),
    /// NICE's additive coupling.
    Additive(AdditiveCoupling),
    /// NICE's diagonal scaling.
    Scaling(DiagonalScaling),
    /// RealNVP's affine coupling.
    Affine(AffineCoupling),
    /// RealNVP's affine coupling with separate scale and shift networks.
    SplitAffine(SplitAffineCoupling),
    /// Glow's activation normalisation.
    ActNorm(ActNorm),
    /// A RevNet additive reversible block.
    RevNet(RevNetBlock),
    /// A masked autoregressive flow layer (parallel density, sequential sampling).
    Maf(Maf),
    /// An inverse autoregressive flow layer (parallel sampling, sequential density).
    Iaf(Iaf),
    /// A rational-quadratic spline coupling.
    Spline(SplineCoupling),
    /// An autoregressive rational-quadratic spline layer.
    SplineAutoregressive(SplineAutoregressive),
    /// An invertible residual block `x + g(x)`, `Lip(g) < 1`.
    Residual(ResidualFlow),
}

dispatch_flow!(
    VectorLayer,
    2,
    Permutation,
    Linear,
    Additive,
    Scaling,
    Affine,
    SplitAffine,
    ActNorm,
    RevNet,
    Maf,
    Iaf,
    Spline,
    SplineAutoregressive,
    Residual
);

impl Chain<VectorLayer> {
    /// One power iteration in every residual block of the chain
    /// ([`ResidualFlow::power_iteration`]): call it after each optimizer update, so that every
    /// block's spectral estimate follows its weights and `Lip(g) < 1` stays true.
    pub fn power_iteration(&mut self) {
        for layer in &mut self.layers {
            if let VectorLayer::Residual(block) = layer {
                block.power_iteration();
            }
        }
    }
}

/// A layer of a flow over images (`[batch, channels, height, width]`).
#[derive(Module, Debug)]
pub enum ImageLayer {
    /// A fixed permutation of the channels.
    Permutation(Permutation),
    /// Glow's invertible 1×1 convolution.
    Conv1x1(InvertibleConv1x1),
    /// RealNVP's affine coupling with a checkerboard or channel-wise mask.
    Affine(ConvAffineCoupling),
    /// Glow's activation normalisation, per channel.
    ActNorm(ActNorm),
    /// The 2×2 squeeze (space to channels).
    Squeeze(Squeeze),
}

dispatch_flow!(
    ImageLayer,
    4,
    Permutation,
    Conv1x1,
    Affine,
    ActNorm,
    Squeeze
);
