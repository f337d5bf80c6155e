//! Base distributions of a flow: the density `p_Z` its latents follow, with `log p_Z(z)` per
//! row and seeded, reparametrised sampling.
//!
//! - [`StandardNormal`]: `log p(z) = −½ Σᵢ zᵢ² − (D/2) log 2π`;
//! - [`DiagonalGaussian`]: `log p(z) = −Σᵢ [(zᵢ − μᵢ)² / (2σᵢ²) + log σᵢ] − (D/2) log 2π`,
//!   with `μ` and `log σ` learned; sampled as `z = μ + σ ⊙ ε`, so gradients reach `μ` and `σ`;
//! - [`StandardLogistic`]: `log p(z) = Σᵢ −zᵢ − 2 log(1 + e^{−zᵢ})`, written
//!   `−|zᵢ| − 2 log(1 + e^{−|zᵢ|})` (the density is even) so that it never overflows; sampled as
//!   `z = log u − log(1 − u)` (NICE's prior).
//!
//! A latent of any rank (`[batch, features]` or an image `[batch, c, h, w]`) is scored as its
//! flattened rows; the noise is drawn on the host from the crate's seeded streams, so one seed
//! gives the same draws on every backend.

use std::f64::consts::PI;

use burn::module::{Module, ModuleDisplay, Param};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::host::host_tensor;

/// A base distribution over flattened latents of a fixed width.
pub trait BaseDistribution: Module + ModuleDisplay {
    /// The width of a flattened latent row.
    fn features(&self) -> usize;

    /// `log p(z)` of each row of `z` (`[batch, features]`), `[batch]`.
    fn log_prob_rows(&self, z: Tensor<2>) -> Tensor<1>;

    /// `rows` draws, `[rows, features]`, on `device` (reparametrised where the distribution
    /// has parameters).
    fn sample_rows(&self, device: &SysDevice, rows: usize, rng: &mut SeededRng) -> Tensor<2>;

    /// `log p(z)` per row of a latent of any rank, flattened after the batch axis; a row of
    /// the wrong width is a [`GenerativeError::ShapeMismatch`].
    fn log_prob<const D: usize>(&self, z: Tensor<D>) -> Result<Tensor<1>, GenerativeError> {
        let dims = z.dims();
        let rest: usize = dims[1..].iter().product();
        if D < 2 || rest != self.features() {
            return Err(GenerativeError::ShapeMismatch {
                what: "latent row width and the base distribution's",
                left: dims.to_vec(),
                right: vec![dims[0], self.features()],
            });
        }
        if dims[0] == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "latents scored by the base distribution",
            });
        }
        Ok(self.log_prob_rows(z.reshape([dims[0], rest])))
    }
}

fn check_features(features: usize) -> Result<(), GenerativeError> {
    if features == 0 {
        return Err(GenerativeError::InvalidParameter {
            name: "base distribution features",
            value: 0.0,
            requirement: "must be at least 1",
        });
    }
    Ok(())
}

/// `−(D/2) log 2π`.
fn gaussian_constant(features: usize) -> f64 {
    -0.5 * features as f64 * (2.0 * PI).ln()
}

/// `N(0, I)` over `features` dimensions.
#[derive(Module, Debug)]
pub struct StandardNormal {
    #[module(skip)]
    features: usize,
}

impl StandardNormal {
    /// The standard normal over `features ≥ 1` dimensions.
    pub fn new(features: usize) -> Result<Self, GenerativeError> {
        check_features(features)?;
        Ok(StandardNormal { features })
    }
}

impl BaseDistribution for StandardNormal {
    fn features(&self) -> usize {
        self.features
    }

    fn log_prob_rows(&self, z: Tensor<2>) -> Tensor<1> {
        let rows = z.dims()[0];
        z.powi_scalar(2)
            .sum_dim(1)
            .reshape([rows])
            .mul_scalar(-0.5)
            .add_scalar(gaussian_constant(self.features))
    }

    fn sample_rows(&self, device: &SysDevice, rows: usize, rng: &mut SeededRng) -> Tensor<2> {
        device.randn(rng, [rows, self.features])
    }
}

/// `N(μ, diag σ²)` with learned `μ` and `log σ` (`[features]` each).
#[derive(Module, Debug)]
pub struct DiagonalGaussian {
    /// The mean `μ`.
    pub mean: Param<Tensor<1>>,
    /// The log standard deviation `log σ`.
    pub log_std: Param<Tensor<1>>,
}

impl DiagonalGaussian {
    /// `N(0, I)` as a starting point, in `device`'s float type.
    pub fn new(device: &SysDevice, features: usize) -> Result<Self, GenerativeError> {
        check_features(features)?;
        Ok(DiagonalGaussian {
            mean: Param::from_tensor(device.zeros([features])),
            log_std: Param::from_tensor(device.zeros([features])),
        })
    }

    /// From given means and log standard deviations (of the same length, finite).
    pub fn from_values(
        device: &SysDevice,
        mean: &[f64],
        log_std: &[f64],
    ) -> Result<Self, GenerativeError> {
        check_features(mean.len())?;
        if mean.len() != log_std.len() {
            return Err(GenerativeError::ShapeMismatch {
                what: "means and log standard deviations",
                left: vec![mean.len()],
                right: vec![log_std.len()],
            });
        }
        if let Some(bad) = mean.iter().chain(log_std).find(|v| !v.is_finite()) {
            return Err(GenerativeError::InvalidParameter {
                name: "diagonal Gaussian parameter",
                value: *bad,
                requirement: "means and log standard deviations must be finite",
            });
        }
        let tensor = |v: &[f64]| {
            device
                .tensor(v.to_vec(), [v.len()])
                .expect("the shape is [v.len()] for v's values")
        };
        Ok(DiagonalGaussian {
            mean: Param::from_tensor(tensor(mean)),
            log_std: Param::from_tensor(tensor(log_std)),
        })
    }
}

impl BaseDistribution for DiagonalGaussian {
    fn features(&self) -> usize {
        self.mean.dims()[0]
    }

    fn log_prob_rows(&self, z: Tensor<2>) -> Tensor<1> {
        let rows = z.dims()[0];
        let mean = self.mean.val().unsqueeze_dim::<2>(0);
        let log_std = self.log_std.val().unsqueeze_dim::<2>(0);
        let standardised = (z - mean) * log_std.clone().neg().exp();
        (standardised.powi_scalar(2).mul_scalar(0.5) + log_std)
            .sum_dim(1)
            .reshape([rows])
            .neg()
            .add_scalar(gaussian_constant(self.features()))
    }

    fn sample_rows(&self, _device: &SysDevice, rows: usize, rng: &mut SeededRng) -> Tensor<2> {
        // The noise goes where the parameters are, in their float type.
        let mean = self.mean.val();
        let epsilon = host_tensor(
            rng.normals(rows * self.features()),
            [rows, self.features()],
            &mean,
        );
        epsilon * self.log_std.val().exp().unsqueeze_dim::<2>(0) + mean.unsqueeze_dim::<2>(0)
    }
}

/// The standard logistic over `features` dimensions, density `e^{−z} / (1 + e^{−z})²` per
/// coordinate.
#[derive(Module, Debug)]
pub struct StandardLogistic {
    #[module(skip)]
    features: usize,
}

impl StandardLogistic {
    /// The standard logistic over `features ≥ 1` dimensions.
    pub fn new(features: usize) -> Result<Self, GenerativeError> {
        check_features(features)?;
        Ok(StandardLogistic { features })
    }
}

impl BaseDistribution for StandardLogistic {
    fn features(&self) -> usize {
        self.features
    }

    fn log_prob_rows(&self, z: Tensor<2>) -> Tensor<1> {
        let rows = z.dims()[0];
        let magnitude = z.abs();
        // log(1 + e^{−|z|}) with e^{−|z|} ≤ 1: no overflow.
        let softplus = magnitude.clone().neg().exp().add_scalar(1.0).log();
        (magnitude + softplus.mul_scalar(2.0))
            .sum_dim(1)
            .reshape([rows])
            .neg()
    }

    fn sample_rows(&self, device: &SysDevice, rows: usize, rng: &mut SeededRng) -> Tensor<2> {
        // u in (0, 1): the two tails stay finite (|z| ≤ 36.7 in f64).
        let values = rng
            .uniforms(rows * self.features)
            .into_iter()
            .map(|u| {
                let u = u.clamp(1e-16, 1.0 - 1e-16);
                u.ln() - (1.0 - u).ln()
            })
            .collect::<Vec<_>>();
        device
            .tensor(values, [rows, self.features])
            .expect("rows × features values were drawn")
    }
}
