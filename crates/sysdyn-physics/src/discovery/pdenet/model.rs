//! PDE-Net 2.0's δt-block and its rollout (Long, Lu & Dong 2019, §2.3):
//!
//! `u_{n+1} = u_n + δt · SymNet(u_n, q_{10} ⊛ u_n, q_{01} ⊛ u_n, q_{20} ⊛ u_n, …)`,
//!
//! the derivatives from moment-constrained filters on the periodically padded field
//! ([`super::derivatives`]) and the right-hand side a SymNet ([`super::symnet`]), the same
//! parameters in every block. The learned PDE is the SymNet's polynomial,
//! `u_t = Σ c_m m(u, u_x, …)`.

use burn::module::Module;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;

use super::derivatives::FilterBank;
use super::moment::Derivative;
use super::symnet::{Polynomial, SymNet};
use crate::PhysicsError;

/// The settings of a [`PdeNet`].
#[derive(Debug, Clone, PartialEq)]
pub struct PdeNetConfig {
    /// The highest total order of the derivatives fed to SymNet (all `∂^{α+β}`, `1 ≤ α + β ≤`
    /// this, as in the paper).
    pub max_order: usize,
    /// The accuracy order each filter keeps by its frozen moments.
    pub accuracy: usize,
    /// The filter size `k` (odd, `≥ max_order + accuracy`).
    pub filter_size: usize,
    /// SymNet's hidden product layers.
    pub hidden: usize,
    /// The standard deviation of SymNet's initial weights.
    pub init_scale: f64,
    /// The time step `δt` of a block.
    pub dt: f64,
    /// The grid spacings `(h_x, h_y)`.
    pub spacing: (f64, f64),
}

impl PdeNetConfig {
    /// Derivatives up to order 2, accuracy 2, `5 × 5` filters, two product layers, initial
    /// weights of scale 0.01.
    pub fn new(dt: f64, spacing: (f64, f64)) -> Self {
        PdeNetConfig {
            max_order: 2,
            accuracy: 2,
            filter_size: 5,
            hidden: 2,
            init_scale: 0.01,
            dt,
            spacing,
        }
    }

    /// Checks the settings (the filter constraints are checked when the filters are built).
    pub fn validate(&self) -> Result<(), PhysicsError> {
        for (name, value) in [
            ("dt", self.dt),
            ("h_x", self.spacing.0),
            ("h_y", self.spacing.1),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(PhysicsError::InvalidParameter {
                    name,
                    value,
                    requirement: "must be finite and > 0",
                });
            }
        }
        if self.max_order == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "max_order",
                value: 0.0,
                requirement: "must be at least 1 (a PDE needs a spatial derivative)",
            });
        }
        if !(self.init_scale.is_finite() && self.init_scale >= 0.0) {
            return Err(PhysicsError::InvalidParameter {
                name: "init_scale",
                value: self.init_scale,
                requirement: "must be finite and ≥ 0",
            });
        }
        Ok(())
    }

    /// The network on `device`, SymNet's weights drawn from `rng`, the filters starting from
    /// the classical stencils.
    pub fn init(&self, device: &SysDevice, rng: &mut SeededRng) -> Result<PdeNet, PhysicsError> {
        self.validate()?;
        let derivatives = Derivative::up_to(self.max_order);
        let filters = FilterBank::new(&derivatives, self.accuracy, self.filter_size, device)?;
        let names: Vec<String> = std::iter::once("u".to_string())
            .chain(derivatives.iter().map(|d| d.name("u")))
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let symnet = SymNet::new(&names, self.hidden, self.init_scale, rng, device)?;
        Ok(PdeNet {
            filters,
            symnet,
            dt: self.dt,
            spacing: self.spacing,
        })
    }
}

/// PDE-Net 2.0 (module docs): fields `[batch, nx, ny]`.
#[derive(Module, Debug)]
pub struct PdeNet {
    filters: FilterBank,
    symnet: SymNet,
    #[module(skip)]
    dt: f64,
    #[module(skip)]
    spacing: (f64, f64),
}

impl PdeNet {
    /// A network from its parts.
    pub fn from_parts(
        filters: FilterBank,
        symnet: SymNet,
        dt: f64,
        spacing: (f64, f64),
    ) -> Result<Self, PhysicsError> {
        for (name, value) in [("dt", dt), ("h_x", spacing.0), ("h_y", spacing.1)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(PhysicsError::InvalidParameter {
                    name,
                    value,
                    requirement: "must be finite and > 0",
                });
            }
        }
        let expected = filters.filters().len() + 1;
        if symnet.names().len() != expected {
            return Err(PhysicsError::SizeMismatch {
                what: "SymNet inputs (u and one per filter)",
                expected,
                got: symnet.names().len(),
            });
        }
        Ok(PdeNet {
            filters,
            symnet,
            dt,
            spacing,
        })
    }

    /// The filters.
    pub fn filters(&self) -> &FilterBank {
        &self.filters
    }

    /// The right-hand side network.
    pub fn symnet(&self) -> &SymNet {
        &self.symnet
    }

    /// `δt`.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// Refuses fields that are not `[batch, nx, ny]` on a grid at least as large as the filters.
    pub fn check_field(&self, u: &Tensor<3>) -> Result<(), PhysicsError> {
        let [_, nx, ny] = u.dims();
        self.filters.check_grid(nx, ny)
    }

    /// The right-hand side `SymNet(u, ∂u, …)`, `[batch, nx, ny]`.
    pub fn rhs(&self, u: Tensor<3>) -> Tensor<3> {
        let [batch, nx, ny] = u.dims();
        let (hx, hy) = self.spacing;
        let derivatives = self.filters.apply(u.clone(), hx, hy);
        let features = Tensor::cat(vec![u.unsqueeze_dim::<4>(1), derivatives], 1);
        let width = features.dims()[1];
        let rows = features
            .permute([0, 2, 3, 1])
            .reshape([batch * nx * ny, width]);
        self.symnet.forward(rows).reshape([batch, nx, ny])
    }

    /// One δt-block, `u + δt · SymNet(u, ∂u, …)` (grid assumed checked by
    /// [`PdeNet::check_field`]).
    pub fn block(&self, u: Tensor<3>) -> Tensor<3> {
        u.clone() + self.rhs(u).mul_scalar(self.dt)
    }

    /// Refuses fields with a NaN or infinite value (one read back to the host: a boolean, and
    /// the values only when one is bad).
    pub fn check_finite(u: &Tensor<3>) -> Result<(), PhysicsError> {
        let bad = u
            .clone()
            .is_finite()
            .bool_not()
            .any()
            .try_into_scalar::<bool>()
            .map_err(|e| PhysicsError::HostRead {
                what: "finiteness of a PDE-Net field",
                reason: format!("{e:?}"),
            })?;
        if !bad {
            return Ok(());
        }
        let values =
            u.clone()
                .detach()
                .try_into_vec_as::<f64>()
                .map_err(|e| PhysicsError::HostRead {
                    what: "PDE-Net field",
                    reason: format!("{e:?}"),
                })?;
        Err(PhysicsError::NonFinite {
            what: "PDE-Net field",
            index: values.iter().position(|v| !v.is_finite()).unwrap_or(0),
        })
    }

    /// `steps` blocks from `u0`: the fields `u_1 … u_steps`. Refuses a grid smaller than the
    /// filters and a non-finite `u0`.
    pub fn rollout(&self, u0: Tensor<3>, steps: usize) -> Result<Vec<Tensor<3>>, PhysicsError> {
        self.check_field(&u0)?;
        Self::check_finite(&u0)?;
        Ok(self.rollout_unchecked(u0, steps))
    }

    /// [`PdeNet::rollout`] without the checks (the training step's data are checked once).
    pub(crate) fn rollout_unchecked(&self, u0: Tensor<3>, steps: usize) -> Vec<Tensor<3>> {
        let mut u = u0;
        let mut out = Vec::with_capacity(steps);
        for _ in 0..steps {
            u = self.block(u);
            out.push(u.clone());
        }
        out
    }

    /// `Σ |free moments|` over every filter: PDE-Net 2.0's penalty on the filters.
    pub fn moment_l1(&self) -> Tensor<1> {
        // A bank is never empty (FilterBank::new refuses it); the zero only keeps this total.
        self.filters
            .filters()
            .iter()
            .map(|f| f.free_moments().abs().sum())
            .reduce(|a, b| a + b)
            .unwrap_or_else(|| self.symnet.weight_l1().mul_scalar(0.0))
    }

    /// The learned PDE's right-hand side, multiplied out, without the monomials whose
    /// `|coefficient| < threshold`: `u_t = …`.
    pub fn equation(&self, threshold: f64) -> Result<Polynomial, PhysicsError> {
        Ok(self.symnet.expand()?.pruned(threshold))
    }
}
