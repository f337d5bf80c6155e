//! The autoregressive rational-quadratic spline flow (RQ-NSF (AR), Durkan et al. 2019): every
//! dimension passes through its own monotone spline ([`super::spline`]) whose knots a [`Made`]
//! computes from the dimensions before it in the order, `y_i = s(x_i; θ_i(x_{<i}))`.
//!
//! As with [`super::maf`], density (data → latent) is one parallel pass — the Jacobian is
//! triangular in the order with diagonal `∂y_i/∂x_i`, so `log|det| = Σ_i log s'(x_i; θ_i)` —
//! and sampling inverts one dimension at a time: `D` passes, pass `k` fixing the dimension of
//! degree `k` by the spline's inverse, the last pass giving `log|det ∂x/∂y| = −Σ_i log s'`.
//! Outside `[−B, B]` each spline is the identity.

use burn::module::Module;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;

use super::made::{Made, MadeConfig};
use super::spline::{SplineDirection, SplineSettings};
use super::{Flow, Transformed};
use crate::error::GenerativeError;

/// An autoregressive spline layer: parallel density, sequential sampling.
#[derive(Module, Debug)]
pub struct SplineAutoregressive {
    /// The conditioner: `3K − 1` knot parameters per dimension.
    pub made: Made,
    #[module(skip)]
    spline: SplineSettings,
}

impl SplineAutoregressive {
    /// A layer whose MADE has `made`'s size, order and context (its outputs per dimension are
    /// set to the spline's `3K − 1`), weights drawn from `seed`.
    pub fn init(
        made: &MadeConfig,
        spline: SplineSettings,
        device: &SysDevice,
        seed: u64,
    ) -> Result<Self, GenerativeError> {
        spline.check()?;
        let made = made
            .clone()
            .with_outputs_per_dimension(spline.parameters_per_dimension())
            .init(device, seed)?;
        Ok(SplineAutoregressive { made, spline })
    }

    /// The spline settings.
    pub fn spline(&self) -> SplineSettings {
        self.spline
    }

    /// The splines of every row and dimension conditioned on `given`, applied to `input`.
    fn apply(
        &self,
        given: Tensor<2>,
        input: Tensor<2>,
        context: Option<&Tensor<2>>,
        direction: SplineDirection,
    ) -> Result<(Tensor<2>, Tensor<2>), GenerativeError> {
        let knots = self
            .spline
            .knots(self.made.forward_parameters(given, context)?)?;
        knots.apply(input, direction)
    }
}

impl Flow<2> for SplineAutoregressive {
    fn forward(
        &self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        let (z, log_derivative) = self.apply(x.clone(), x, context, SplineDirection::Forward)?;
        let [batch, _] = z.dims();
        Ok(Transformed {
            value: z,
            log_det: log_derivative.sum_dim(1).reshape([batch]),
        })
    }

    fn inverse(
        &self,
        z: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        // Pass k makes the dimension of degree k exact: its knots depend only on degrees < k.
        let mut x = z.zeros_like();
        let mut log_derivative = z.zeros_like();
        for _ in 0..self.made.features() {
            let (next, ld) = self.apply(x, z.clone(), context, SplineDirection::Inverse)?;
            x = next;
            log_derivative = ld;
        }
        let [batch, _] = x.dims();
        Ok(Transformed {
            value: x,
            log_det: log_derivative.sum_dim(1).reshape([batch]),
        })
    }
}
