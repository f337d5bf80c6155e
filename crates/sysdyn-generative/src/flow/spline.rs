//! Rational-quadratic neural spline coupling (Durkan et al. 2019): half of the dimensions pass
//! through a monotone rational-quadratic spline whose knots an MLP computes from the other half.
//!
//! # The spline
//!
//! `K` bins cover `[−B, B]` in both input and output. From `3K − 1` unconstrained numbers per
//! dimension: bin widths and heights are `w = w_min + (1 − K w_min)·softmax(·)` (times `2B`), so
//! every bin is at least `2B·w_min` wide; the `K − 1` interior knot derivatives are
//! `δ = δ_min + softplus(·)`; the two boundary derivatives are 1 so the spline joins the
//! identity tails (`y = x`, `log-derivative 0` outside `[−B, B]`) with a continuous slope.
//!
//! In bin `k` (knots `(x_k, y_k)`, width `w_k`, height `h_k`, slope `s_k = h_k/w_k`,
//! derivatives `δ_k, δ_{k+1}`) with `ξ = (x − x_k)/w_k ∈ [0, 1]`:
//!
//! ```text
//! y = y_k + h_k [s_k ξ² + δ_k ξ(1−ξ)] / [s_k + (δ_{k+1} + δ_k − 2 s_k) ξ(1−ξ)]
//! dy/dx = s_k² [δ_{k+1} ξ² + 2 s_k ξ(1−ξ) + δ_k (1−ξ)²] / [s_k + (δ_{k+1} + δ_k − 2 s_k) ξ(1−ξ)]²
//! ```
//!
//! The inverse solves the quadratic `a ξ² + b ξ + c = 0` with `a = h_k(s_k − δ_k) + (y − y_k)θ`,
//! `b = h_k δ_k − (y − y_k)θ`, `c = −s_k (y − y_k)`, `θ = δ_{k+1} + δ_k − 2 s_k`, by the root
//! `ξ = 2c / (−b − √(b² − 4ac))`, which has no cancellation (the textbook
//! `(−b + √…)/2a` loses every digit when `a → 0`). `dy/dx > 0` everywhere, so the map is
//! strictly increasing.
//!
//! # The coupling
//!
//! Dimensions with index parity `1` (or `0` when `flip` is set) are transformed, the others
//! pass unchanged and, concatenated with the context, feed the conditioner MLP whose output
//! holds the `3K − 1` numbers of every transformed dimension. The Jacobian is triangular with
//! the spline derivatives on the transformed diagonal: `log|det| = Σ log dy/dx`.
//!
//! ```
//! use sysdyn_core::device::{Backend, DeviceSpec, Precision};
//! use sysdyn_generative::flow::Flow;
//! use sysdyn_generative::flow::spline::SplineCouplingConfig;
//!
//! let device = DeviceSpec::new(Backend::Flex, Precision::F64).init()?;
//! // 8 bins on [−3, 3], conditioner with one hidden layer of 16 units.
//! let layer = SplineCouplingConfig::new(2, vec![16], 8, 3.0).init(&device, 7)?;
//! let x = device.tensor(vec![0.5, -1.0, 2.0, 4.5], [2, 2])?; // 4.5 lies in the identity tail
//! let z = layer.forward(x.clone(), None)?;
//! let back = layer.inverse(z.value, None)?;
//! let error = (back.value - x).abs().max().into_scalar::<f64>();
//! assert!(error < 1e-12);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use burn::module::Module;
use burn::tensor::{Int, Tensor, TensorData};
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, Mlp, MlpConfig};

use super::rows::{check_context, check_rows};
use super::{Flow, Transformed};
use crate::error::GenerativeError;

/// The bins of a rational-quadratic spline and its floors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplineSettings {
    /// Number of bins `K` (≥ 2; one bin with unit end slopes is the identity).
    pub bins: usize,
    /// The half-width `B` of the interval `[−B, B]` the spline covers (> 0).
    pub bound: f64,
    /// The smallest bin width as a fraction of `2B` (`0 ≤ w_min` and `K·w_min < 1`).
    pub min_bin_width: f64,
    /// The smallest bin height as a fraction of `2B` (`0 ≤ h_min` and `K·h_min < 1`).
    pub min_bin_height: f64,
    /// The smallest knot derivative (> 0).
    pub min_derivative: f64,
}

impl SplineSettings {
    /// `bins` bins on `[−bound, bound]`, with the floors `10⁻³` of Durkan et al.
    pub fn new(bins: usize, bound: f64) -> Self {
        SplineSettings {
            bins,
            bound,
            min_bin_width: 1e-3,
            min_bin_height: 1e-3,
            min_derivative: 1e-3,
        }
    }

    /// The number of unconstrained parameters per dimension, `3K − 1`.
    pub fn parameters_per_dimension(&self) -> usize {
        3 * self.bins - 1
    }

    /// `Ok` when the settings describe a valid spline.
    pub fn check(&self) -> Result<(), GenerativeError> {
        if self.bins < 2 {
            return Err(GenerativeError::InvalidParameter {
                name: "SplineSettings::bins",
                value: self.bins as f64,
                requirement: "must be ≥ 2 (one bin with unit end slopes is the identity)",
            });
        }
        crate::error::check_positive("SplineSettings::bound", self.bound)?;
        crate::error::check_positive("SplineSettings::min_derivative", self.min_derivative)?;
        let k = self.bins as f64;
        for (name, value) in [
            ("SplineSettings::min_bin_width", self.min_bin_width),
            ("SplineSettings::min_bin_height", self.min_bin_height),
        ] {
            if !(value.is_finite() && value >= 0.0 && value * k < 1.0) {
                return Err(GenerativeError::InvalidParameter {
                    name,
                    value,
                    requirement: "must be ≥ 0 with bins × value < 1",
                });
            }
        }
        Ok(())
    }

    /// The knots of one spline per `[batch, dims]` entry from the unconstrained parameters
    /// `[batch, dims, 3K − 1]` (widths, heights, interior derivatives, in that order).
    pub fn knots(&self, unconstrained: Tensor<3>) -> Result<SplineKnots, GenerativeError> {
        self.check()?;
        let [batch, dims, p] = unconstrained.dims();
        if p != self.parameters_per_dimension() {
            return Err(GenerativeError::ShapeMismatch {
                what: "spline parameters (3K − 1 per dimension)",
                left: vec![batch, dims, p],
                right: vec![batch, dims, self.parameters_per_dimension()],
            });
        }
        let k = self.bins;
        let b = self.bound;
        let positions = |raw: Tensor<3>, min: f64| {
            let fractions = burn::tensor::activation::softmax(raw, 2)
                .mul_scalar(1.0 - min * k as f64)
                .add_scalar(min);
            let cumulative = fractions.cumsum(2).mul_scalar(2.0 * b).sub_scalar(b);
            let start = Tensor::<3>::full(
                [batch, dims, 1],
                -b,
                (&cumulative.device(), cumulative.dtype()),
            );
            // The last knot is B by construction; fix it so rounding cannot leave a gap.
            let end = start.clone().neg();
            Tensor::cat(
                vec![start, cumulative.slice([0..batch, 0..dims, 0..k - 1]), end],
                2,
            )
        };
        let xs = positions(
            unconstrained.clone().slice([0..batch, 0..dims, 0..k]),
            self.min_bin_width,
        );
        let ys = positions(
            unconstrained.clone().slice([0..batch, 0..dims, k..2 * k]),
            self.min_bin_height,
        );
        let interior = burn::tensor::activation::softplus(
            unconstrained.slice([0..batch, 0..dims, 2 * k..3 * k - 1]),
            1.0,
        )
        .add_scalar(self.min_derivative);
        let one = Tensor::<3>::ones([batch, dims, 1], (&interior.device(), interior.dtype()));
        let derivatives = Tensor::cat(vec![one.clone(), interior, one], 2);
        Ok(SplineKnots {
            xs,
            ys,
            derivatives,
            bins: k,
            bound: b,
        })
    }
}

/// The knots `(x_k, y_k, δ_k)`, `k = 0..=K`, of a batch of splines, `[batch, dims, K + 1]`
/// each.
#[derive(Debug, Clone)]
pub struct SplineKnots {
    /// Input knots, from `−B` to `B`.
    pub xs: Tensor<3>,
    /// Output knots, from `−B` to `B`.
    pub ys: Tensor<3>,
    /// Derivatives at the knots (1 at both ends).
    pub derivatives: Tensor<3>,
    bins: usize,
    bound: f64,
}

/// Which way a spline is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplineDirection {
    /// `x ↦ y`.
    Forward,
    /// `y ↦ x`.
    Inverse,
}

impl SplineKnots {
    /// Applies the splines elementwise to `inputs` (`[batch, dims]`): the outputs and
    /// `log|dout/din|` of every entry. Outside `[−B, B]` the map is the identity. The inputs
    /// must have the knots' `[batch, dims]`.
    pub fn apply(
        &self,
        inputs: Tensor<2>,
        direction: SplineDirection,
    ) -> Result<(Tensor<2>, Tensor<2>), GenerativeError> {
        let [batch, dims] = inputs.dims();
        let [knot_batch, knot_dims, _] = self.xs.dims();
        if [batch, dims] != [knot_batch, knot_dims] {
            return Err(GenerativeError::ShapeMismatch {
                what: "spline inputs and knots",
                left: vec![batch, dims],
                right: vec![knot_batch, knot_dims],
            });
        }
        let (k, b) = (self.bins, self.bound);
        let inside = inputs
            .clone()
            .greater_equal_elem(-b)
            .bool_and(inputs.clone().lower_equal_elem(b));
        let clamped = inputs.clone().clamp(-b, b);
        let search = match direction {
            SplineDirection::Forward => &self.xs,
            SplineDirection::Inverse => &self.ys,
        };
        // Bin index: the number of interior knots at or below the input.
        let interior = search.clone().slice([0..batch, 0..dims, 1..k]);
        let bin = interior
            .lower_equal(
                clamped
                    .clone()
                    .reshape([batch, dims, 1])
                    .expand([batch, dims, k - 1]),
            )
            .int()
            .sum_dim(2);
        let pick =
            |t: &Tensor<3>, idx: Tensor<3, Int>| t.clone().gather(2, idx).reshape([batch, dims]);
        let next = bin.clone().add_scalar(1);
        let (x_k, x_k1) = (pick(&self.xs, bin.clone()), pick(&self.xs, next.clone()));
        let (y_k, y_k1) = (pick(&self.ys, bin.clone()), pick(&self.ys, next.clone()));
        let (d_k, d_k1) = (pick(&self.derivatives, bin), pick(&self.derivatives, next));
        let width = x_k1 - x_k.clone();
        let height = y_k1 - y_k.clone();
        let slope = height.clone() / width.clone();
        let theta = d_k1.clone() + d_k.clone() - slope.clone().mul_scalar(2.0);
        let (xi, value) = match direction {
            SplineDirection::Forward => {
                let xi = (clamped - x_k) / width;
                let xi1 = xi.clone() * xi.clone().neg().add_scalar(1.0);
                let numerator =
                    height * (slope.clone() * xi.clone().square() + d_k.clone() * xi1.clone());
                let denominator = slope.clone() + theta.clone() * xi1;
                (xi, y_k + numerator / denominator)
            }
            SplineDirection::Inverse => {
                let dy = clamped - y_k;
                let a = height.clone() * (slope.clone() - d_k.clone()) + dy.clone() * theta.clone();
                let bq = height * d_k.clone() - dy.clone() * theta.clone();
                let c = (slope.clone() * dy).neg();
                let discriminant =
                    (bq.clone().square() - a * c.clone().mul_scalar(4.0)).clamp_min(0.0);
                let xi = c.mul_scalar(2.0) / (bq.neg() - discriminant.sqrt());
                (xi.clone(), xi * width + x_k)
            }
        };
        let xi1 = xi.clone() * xi.clone().neg().add_scalar(1.0);
        let denominator = slope.clone() + theta * xi1.clone();
        let numerator = slope.clone().square()
            * (d_k1 * xi.clone().square()
                + slope.mul_scalar(2.0) * xi1
                + d_k * xi.neg().add_scalar(1.0).square());
        let log_derivative = numerator.log() - denominator.square().log();
        let log_derivative = match direction {
            SplineDirection::Forward => log_derivative,
            SplineDirection::Inverse => log_derivative.neg(),
        };
        let outputs = inputs.clone().mask_where(inside.clone(), value);
        let log_abs_det = inputs.zeros_like().mask_where(inside, log_derivative);
        Ok((outputs, log_abs_det))
    }
}

/// Size and masking of a [`SplineCoupling`].
#[derive(Debug, Clone, PartialEq)]
pub struct SplineCouplingConfig {
    /// The input dimension (≥ 2).
    pub features: usize,
    /// The conditioner's hidden widths.
    pub hidden: Vec<usize>,
    /// Width of the context (0: unconditional).
    pub context: usize,
    /// The spline's bins, interval and floors.
    pub spline: SplineSettings,
    /// Transform the even dimensions (and condition on the odd ones) instead of the reverse.
    pub flip: bool,
    /// The conditioner's activation.
    pub activation: Activation,
}

impl SplineCouplingConfig {
    /// A coupling over `features` dimensions with a conditioner of `hidden` widths and a spline
    /// of `bins` bins on `[−bound, bound]`.
    pub fn new(features: usize, hidden: Vec<usize>, bins: usize, bound: f64) -> Self {
        SplineCouplingConfig {
            features,
            hidden,
            context: 0,
            spline: SplineSettings::new(bins, bound),
            flip: false,
            activation: Activation::Tanh,
        }
    }

    /// Sets the context width.
    pub fn with_context(mut self, context: usize) -> Self {
        self.context = context;
        self
    }

    /// Transforms the other parity.
    pub fn with_flip(mut self, flip: bool) -> Self {
        self.flip = flip;
        self
    }

    /// Replaces the spline settings.
    pub fn with_spline(mut self, spline: SplineSettings) -> Self {
        self.spline = spline;
        self
    }

    /// The layer, its conditioner drawn from `seed`.
    pub fn init(&self, device: &SysDevice, seed: u64) -> Result<SplineCoupling, GenerativeError> {
        self.spline.check()?;
        if self.features < 2 {
            return Err(GenerativeError::InvalidParameter {
                name: "SplineCouplingConfig::features",
                value: self.features as f64,
                requirement: "must be ≥ 2 (a coupling conditions half the dimensions on the other half)",
            });
        }
        let parity = usize::from(!self.flip);
        let (transformed, identity): (Vec<usize>, Vec<usize>) =
            (0..self.features).partition(|i| i % 2 == parity);
        let mut widths = vec![identity.len() + self.context];
        widths.extend(&self.hidden);
        widths.push(transformed.len() * self.spline.parameters_per_dimension());
        let conditioner = MlpConfig::new(widths)
            .with_activation(self.activation)
            .init_seeded(device, seed)?;
        let mut order = identity.clone();
        order.extend(&transformed);
        let mut restore = vec![0; self.features];
        for (position, &dim) in order.iter().enumerate() {
            restore[dim] = position;
        }
        Ok(SplineCoupling {
            conditioner,
            spline: self.spline,
            identity,
            transformed,
            restore,
            features: self.features,
            context: self.context,
        })
    }
}

/// A rational-quadratic spline coupling layer.
#[derive(Module, Debug)]
pub struct SplineCoupling {
    /// The MLP from the unchanged half (and context) to the spline parameters.
    pub conditioner: Mlp,
    #[module(skip)]
    spline: SplineSettings,
    #[module(skip)]
    identity: Vec<usize>,
    #[module(skip)]
    transformed: Vec<usize>,
    #[module(skip)]
    restore: Vec<usize>,
    #[module(skip)]
    features: usize,
    #[module(skip)]
    context: usize,
}

fn indices(values: &[usize], like: &Tensor<2>) -> Tensor<1, Int> {
    let data: Vec<i64> = values.iter().map(|&v| v as i64).collect();
    Tensor::<1, Int>::from_data(TensorData::new(data, [values.len()]), &like.device())
}

impl SplineCoupling {
    /// The spline settings.
    pub fn spline(&self) -> SplineSettings {
        self.spline
    }

    /// The dimensions the spline transforms.
    pub fn transformed(&self) -> &[usize] {
        &self.transformed
    }

    fn apply(
        &self,
        input: Tensor<2>,
        context: Option<&Tensor<2>>,
        direction: SplineDirection,
    ) -> Result<Transformed<2>, GenerativeError> {
        let batch = check_rows("spline coupling input", &input, self.features)?;
        let context = check_context("spline coupling context", context, self.context, batch)?;
        let fixed = input.clone().select(1, indices(&self.identity, &input));
        let moving = input.clone().select(1, indices(&self.transformed, &input));
        let conditioner_input = match context {
            Some(c) => Tensor::cat(vec![fixed.clone(), c.clone()], 1),
            None => fixed.clone(),
        };
        let n = self.transformed.len();
        let raw = self.conditioner.forward(conditioner_input)?.reshape([
            batch,
            n,
            self.spline.parameters_per_dimension(),
        ]);
        let knots = self.spline.knots(raw)?;
        let (moved, log_abs_det) = knots.apply(moving, direction)?;
        let value = Tensor::cat(vec![fixed, moved], 1).select(1, indices(&self.restore, &input));
        Ok(Transformed {
            value,
            log_det: log_abs_det.sum_dim(1).reshape([batch]),
        })
    }
}

impl Flow<2> for SplineCoupling {
    fn forward(
        &self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        self.apply(x, context, SplineDirection::Forward)
    }

    fn inverse(
        &self,
        z: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        self.apply(z, context, SplineDirection::Inverse)
    }
}
