//! The derivatives of a periodic field from a bank of moment-constrained filters: one
//! convolution of the periodically padded field with every filter at once,
//! `∂^{α+β}u ≈ q_{αβ} ⊛ pad(u)` (cross-correlation, as in [`super::moment`]).

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use sysdyn_core::device::SysDevice;

use super::moment::{Derivative, MomentConstraint, MomentFilter};
use crate::PhysicsError;

/// `u` (`[batch, nx, ny]`) padded periodically by `p` cells on each side of both axes:
/// `[batch, nx + 2p, ny + 2p]`.
pub fn periodic_pad(u: Tensor<3>, p: usize) -> Tensor<3> {
    if p == 0 {
        return u;
    }
    let [_, nx, ny] = u.dims();
    let along_x = Tensor::cat(
        vec![u.clone().narrow(1, nx - p, p), u.clone(), u.narrow(1, 0, p)],
        1,
    );
    Tensor::cat(
        vec![
            along_x.clone().narrow(2, ny - p, p),
            along_x.clone(),
            along_x.narrow(2, 0, p),
        ],
        2,
    )
}

/// Filters for a list of derivatives, all `k × k` with the same accuracy order.
#[derive(Module, Debug)]
pub struct FilterBank {
    filters: Vec<MomentFilter>,
    #[module(skip)]
    size: usize,
}

impl FilterBank {
    /// Filters for `derivatives`, each `size × size` of accuracy order `accuracy`, starting from
    /// the classical stencils (free moments zero).
    pub fn new(
        derivatives: &[Derivative],
        accuracy: usize,
        size: usize,
        device: &SysDevice,
    ) -> Result<Self, PhysicsError> {
        if derivatives.is_empty() {
            return Err(PhysicsError::Empty {
                what: "derivative list of a filter bank",
                unit: "derivative",
            });
        }
        let filters = derivatives
            .iter()
            .map(|&d| MomentFilter::stencil(MomentConstraint::new(d, accuracy, size)?, device))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FilterBank { filters, size })
    }

    /// The bank with other filters (e.g. with trained or chosen free moments), all of the
    /// bank's size.
    pub fn with_filters(mut self, filters: Vec<MomentFilter>) -> Result<Self, PhysicsError> {
        if filters.is_empty() {
            return Err(PhysicsError::Empty {
                what: "filters of a filter bank",
                unit: "filter",
            });
        }
        if let Some(f) = filters.iter().find(|f| f.constraint().size() != self.size) {
            return Err(PhysicsError::SizeMismatch {
                what: "filter size in a bank",
                expected: self.size,
                got: f.constraint().size(),
            });
        }
        self.filters = filters;
        Ok(self)
    }

    /// The filters.
    pub fn filters(&self) -> &[MomentFilter] {
        &self.filters
    }

    /// The derivatives, in the order of [`FilterBank::apply`]'s channels.
    pub fn derivatives(&self) -> Vec<Derivative> {
        self.filters
            .iter()
            .map(|f| f.constraint().derivative())
            .collect()
    }

    /// The filter size `k`.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Refuses a field whose grid is smaller than the filters (periodic padding would wrap a
    /// cell onto itself more than once).
    pub fn check_grid(&self, nx: usize, ny: usize) -> Result<(), PhysicsError> {
        let got = nx.min(ny);
        if got < self.size {
            return Err(PhysicsError::GridTooSmall {
                what: "PDE-Net filter bank on a periodic grid (each side ≥ the filter size)",
                got,
                needed: self.size,
            });
        }
        Ok(())
    }

    /// Every derivative of the periodic fields `u` (`[batch, nx, ny]`, spacings `hx`, `hy`):
    /// `[batch, derivatives, nx, ny]`. The grid is assumed checked by
    /// [`FilterBank::check_grid`].
    pub fn apply(&self, u: Tensor<3>, hx: f64, hy: f64) -> Tensor<4> {
        let k = self.size;
        let weight = Tensor::stack::<3>(self.filters.iter().map(|f| f.kernel(hx, hy)).collect(), 0)
            .unsqueeze_dim::<4>(1);
        let padded = periodic_pad(u, k / 2).unsqueeze_dim::<4>(1);
        conv2d(
            padded,
            weight,
            None,
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        )
    }
}
