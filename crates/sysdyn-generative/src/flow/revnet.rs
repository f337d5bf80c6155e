//! The RevNet additive reversible block (Gomez et al. 2017) on vectors split into halves
//! `x = [x₁, x₂]`:
//!
//! `y₁ = x₁ + F(x₂)`, `y₂ = x₂ + G(y₁)`; inverse `x₂ = y₂ − G(y₁)`, `x₁ = y₁ − F(x₂)`.
//!
//! Both steps are additive couplings (unit triangular Jacobians), so `log|det J| = 0`: the
//! block preserves volume. `F` and `G` are tanh MLPs; a context, if any, is appended to their
//! inputs.

use burn::module::Module;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, Mlp, MlpConfig};

use crate::error::GenerativeError;
use crate::flow::checks::{check_context, check_input, zero_log_det};
use crate::flow::{Flow, Transformed};

/// `y₁ = x₁ + F(x₂)`, `y₂ = x₂ + G(y₁)` with `x₁` the first `⌊D/2⌋` features.
#[derive(Module, Debug)]
pub struct RevNetBlock {
    f: Mlp,
    g: Mlp,
    #[module(skip)]
    features: usize,
    #[module(skip)]
    context_width: usize,
}

fn with_context(h: Tensor<2>, context: Option<&Tensor<2>>) -> Tensor<2> {
    match context {
        Some(c) => Tensor::cat(vec![h, c.clone()], 1),
        None => h,
    }
}

impl RevNetBlock {
    /// A block over `features ≥ 2` features with residual functions of `hidden` widths drawn
    /// from `seed`, conditioned on a context of `context_width` (0: unconditional).
    pub fn new(
        device: &SysDevice,
        features: usize,
        hidden: &[usize],
        context_width: usize,
        seed: u64,
    ) -> Result<Self, GenerativeError> {
        if features < 2 {
            return Err(GenerativeError::InvalidParameter {
                name: "RevNet features",
                value: features as f64,
                requirement: "must be at least 2 (two halves)",
            });
        }
        let first = features / 2;
        let second = features - first;
        let net = |input: usize, output: usize, seed: u64| -> Result<Mlp, GenerativeError> {
            let mut widths = vec![input + context_width];
            widths.extend_from_slice(hidden);
            widths.push(output);
            Ok(MlpConfig::new(widths)
                .with_activation(Activation::Tanh)
                .init_seeded(device, seed)?)
        };
        Ok(RevNetBlock {
            f: net(second, first, seed)?,
            g: net(first, second, seed.wrapping_add(1))?,
            features,
            context_width,
        })
    }

    fn halves(
        &self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<(Tensor<2>, Tensor<2>), GenerativeError> {
        check_input("RevNet block input", &x, self.features)?;
        check_context(
            "RevNet block context",
            context,
            x.dims()[0],
            self.context_width,
        )?;
        let first = self.features / 2;
        Ok((
            x.clone().narrow(1, 0, first),
            x.narrow(1, first, self.features - first),
        ))
    }
}

impl Flow<2> for RevNetBlock {
    fn context_width(&self) -> usize {
        self.context_width
    }

    fn forward(
        &self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        let log_det = zero_log_det(&x);
        let (x1, x2) = self.halves(x, context)?;
        let y1 = x1 + self.f.forward(with_context(x2.clone(), context))?;
        let y2 = x2 + self.g.forward(with_context(y1.clone(), context))?;
        Ok(Transformed {
            value: Tensor::cat(vec![y1, y2], 1),
            log_det,
        })
    }

    fn inverse(
        &self,
        z: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        let log_det = zero_log_det(&z);
        let (y1, y2) = self.halves(z, context)?;
        let x2 = y2 - self.g.forward(with_context(y1.clone(), context))?;
        let x1 = y1 - self.f.forward(with_context(x2.clone(), context))?;
        Ok(Transformed {
            value: Tensor::cat(vec![x1, x2], 1),
            log_det,
        })
    }
}
