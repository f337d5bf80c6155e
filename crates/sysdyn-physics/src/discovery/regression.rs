//! Sparse regression `Y ≈ Θ Ξ` (PySINDy's `optimizers`): sequentially thresholded least
//! squares, SR3 and ensemble (bagged) SINDy.
//!
//! `Θ` is `m × p` (samples × candidate functions), `Y` is `m × k` (samples × targets); the
//! coefficients come back as a `k × p` matrix, one row per target (PySINDy's `coef_`).
//!
//! - [`Stlsq`] (Brunton, Proctor & Kutz 2016): ridge regression
//!   `ξ = argmin ‖y − Θ_S ξ‖² + α ‖ξ‖²` on the support `S`, then every `|ξᵢ| < threshold` is
//!   dropped from `S`; repeated until the support stops changing (or `max_iter`). With
//!   `normalize_columns` the columns of `Θ` are scaled to unit ℓ2 norm first, so the threshold
//!   applies to the normalised coefficients. With `unbias`, the last support is refitted by plain
//!   least squares (PySINDy's default), removing the ridge's shrinkage.
//! - [`Sr3`] (Zheng et al. 2019; Champion et al. 2020): the relaxed problem
//!   `min ½‖Y − ΘΞ‖² + λ R(W) + ‖Ξ − W‖² / (2ν)`, alternating
//!   `Ξ ← (ΘᵀΘ + I/ν)⁻¹ (ΘᵀY + W/ν)` and `W ← prox_{λνR}(Ξ)`. As in PySINDy, `threshold` is the
//!   level of the proximal step: hard thresholding at `threshold` for ℓ0 (`λ = threshold²/(2ν)`),
//!   soft thresholding by `threshold` for ℓ1 (`λ = threshold/ν`). The sparse `W` is returned.
//! - [`Ensemble`] (Fasel et al. 2022): the base optimizer on `n_models` bootstrap resamples of
//!   the rows (seeded, [`sysdyn_core::rng`]); the coefficients are the entrywise median and the
//!   inclusion probability of a term is the fraction of models that keep it.
//!
//! **Normal equations, Cholesky.** Every solve works on the Gram matrix `G = ΘᵀΘ` (`p × p`) and
//! `ΘᵀY` (`p × k`), formed once with faer's matrix product in `O(m p²)`; each STLSQ iteration
//! then costs `O(|S|³)` by Cholesky on the support's sub-block, whatever the number of samples
//! (a QR of `Θ_S` would cost `O(m |S|²)` per iteration and target). SR3 factorises
//! `ΘᵀΘ + I/ν` once for all its iterations. The price is squaring the condition number of `Θ`;
//! with `normalize_columns` or a positive `α` that is harmless for the libraries SINDy uses (the
//! same choice as scikit-learn's ridge solver behind PySINDy). If the Gram sub-block is
//! singular (collinear features, no ridge), the solve falls back to column-pivoted QR of it.
//!
//! ```
//! use sysdyn_core::linalg::Matrix;
//! use sysdyn_physics::discovery::{Stlsq, stlsq};
//!
//! // y = 2 a − 3 c on four samples of three candidates.
//! let theta = Matrix::from_rows(&[[1.0, 0.0, 2.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [2.0, 0.5, 1.0]])?;
//! let y = Matrix::from_rows(&[[-4.0], [-3.0], [2.0], [1.0]])?;
//! let xi = stlsq(&theta, &y, &Stlsq::default())?;
//! assert!((xi[(0, 0)] - 2.0).abs() < 1e-12 && xi[(0, 1)] == 0.0 && (xi[(0, 2)] + 3.0).abs() < 1e-12);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use faer::Mat;
use rayon::prelude::*;
use sysdyn_core::linalg::Matrix;
use sysdyn_core::rng::SeededRng;

use super::dense::{solve_spd, to_matrix, view};
use crate::PhysicsError;

/// Sequentially thresholded least squares (PySINDy's `STLSQ`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stlsq {
    /// Coefficients below this magnitude are dropped (≥ 0).
    pub threshold: f64,
    /// Ridge weight `α ≥ 0` of `‖y − Θξ‖² + α‖ξ‖²`.
    pub alpha: f64,
    /// The most threshold–refit rounds (≥ 1).
    pub max_iter: usize,
    /// Whether the columns of `Θ` are scaled to unit norm (the threshold then applies to the
    /// normalised coefficients).
    pub normalize_columns: bool,
    /// Whether the final support is refitted by ordinary least squares.
    pub unbias: bool,
}

impl Default for Stlsq {
    /// PySINDy's defaults: threshold 0.1, α = 0.05, 20 iterations, no normalisation, unbiased.
    fn default() -> Self {
        Stlsq {
            threshold: 0.1,
            alpha: 0.05,
            max_iter: 20,
            normalize_columns: false,
            unbias: true,
        }
    }
}

/// The regulariser `R` of [`Sr3`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sr3Regularizer {
    /// `R(W) = ‖W‖₀`: hard thresholding.
    #[default]
    L0,
    /// `R(W) = ‖W‖₁`: soft thresholding.
    L1,
}

/// Sparse relaxed regularised regression (PySINDy's `SR3`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sr3 {
    /// The level of the proximal step (≥ 0, see the module docs).
    pub threshold: f64,
    /// The relaxation `ν > 0` coupling `Ξ` and `W`.
    pub nu: f64,
    /// ℓ0 or ℓ1.
    pub regularizer: Sr3Regularizer,
    /// The most iterations (≥ 1).
    pub max_iter: usize,
    /// Stop when no entry of `W` moves more than this.
    pub tol: f64,
    /// Whether the columns of `Θ` are scaled to unit norm first.
    pub normalize_columns: bool,
    /// Whether the support of `W` is refitted by ordinary least squares.
    pub unbias: bool,
}

impl Default for Sr3 {
    /// PySINDy's defaults: threshold 0.1, ν = 1, ℓ0, 30 iterations, tolerance 1e-5.
    fn default() -> Self {
        Sr3 {
            threshold: 0.1,
            nu: 1.0,
            regularizer: Sr3Regularizer::L0,
            max_iter: 30,
            tol: 1e-5,
            normalize_columns: false,
            unbias: true,
        }
    }
}

/// Ensemble SINDy: bagging over rows (PySINDy's `EnsembleOptimizer(bagging=True)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Ensemble {
    /// The optimizer fitted to each resample.
    pub base: Box<Optimizer>,
    /// The number of resamples (≥ 1).
    pub n_models: usize,
    /// Rows per resample, drawn with replacement; `None`: as many as the data has.
    pub n_subset: Option<usize>,
    /// The seed of the resampling.
    pub seed: u64,
}

/// The result of an ensemble fit.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsembleFit {
    /// The entrywise median of the models' coefficients (`k × p`).
    pub coefficients: Matrix,
    /// The fraction of models in which each coefficient is non-zero (`k × p`).
    pub inclusion: Matrix,
    /// Every model's coefficients.
    pub models: Vec<Matrix>,
}

/// A sparse regression method, as data.
#[derive(Debug, Clone, PartialEq)]
pub enum Optimizer {
    /// Sequentially thresholded least squares.
    Stlsq(Stlsq),
    /// Sparse relaxed regularised regression.
    Sr3(Sr3),
    /// Bagged ensembles of another optimizer.
    Ensemble(Ensemble),
}

impl Default for Optimizer {
    fn default() -> Self {
        Optimizer::Stlsq(Stlsq::default())
    }
}

/// `ΘᵀΘ` and `ΘᵀY`: all the regressions need of the data.
#[derive(Debug, Clone)]
pub(crate) struct NormalEquations {
    g: Mat<f64>,
    b: Mat<f64>,
}

impl NormalEquations {
    pub(crate) fn new(theta: &Matrix, y: &Matrix) -> Self {
        let t = view(theta);
        NormalEquations {
            g: t.transpose() * t,
            b: t.transpose() * view(y),
        }
    }

    /// The normal equations of the rows taken `counts[r]` times each.
    fn weighted(theta: &Matrix, y: &Matrix, counts: &[u32]) -> Self {
        let rows: Vec<usize> = (0..theta.rows()).filter(|&r| counts[r] > 0).collect();
        let t = Mat::from_fn(rows.len(), theta.cols(), |i, j| {
            f64::from(counts[rows[i]]).sqrt() * theta[(rows[i], j)]
        });
        let v = Mat::from_fn(rows.len(), y.cols(), |i, j| {
            f64::from(counts[rows[i]]).sqrt() * y[(rows[i], j)]
        });
        NormalEquations {
            g: t.transpose() * &t,
            b: t.transpose() * &v,
        }
    }

    fn p(&self) -> usize {
        self.g.nrows()
    }

    fn k(&self) -> usize {
        self.b.ncols()
    }

    /// The column scales `1/‖θᵢ‖` (1 for a zero column) and the normalised equations.
    fn normalised(&self) -> (Vec<f64>, NormalEquations) {
        let p = self.p();
        let d: Vec<f64> = (0..p)
            .map(|i| {
                let n = self.g[(i, i)].sqrt();
                if n > 0.0 { 1.0 / n } else { 1.0 }
            })
            .collect();
        let g = Mat::from_fn(p, p, |i, j| d[i] * self.g[(i, j)] * d[j]);
        let b = Mat::from_fn(p, self.k(), |i, j| d[i] * self.b[(i, j)]);
        (d, NormalEquations { g, b })
    }

    /// `ξ_S = (G_SS + α I)⁻¹ b_S` for target `target`.
    fn solve_support(
        &self,
        support: &[usize],
        target: usize,
        alpha: f64,
    ) -> Result<Vec<f64>, PhysicsError> {
        let s = support.len();
        let g = Mat::from_fn(s, s, |i, j| {
            self.g[(support[i], support[j])] + if i == j { alpha } else { 0.0 }
        });
        let b = Mat::from_fn(s, 1, |i, _| self.b[(support[i], target)]);
        let x = solve_spd(g.as_ref(), b.as_ref())?;
        Ok((0..s).map(|i| x[(i, 0)]).collect())
    }
}

fn check_threshold(name: &'static str, value: f64) -> Result<(), PhysicsError> {
    if !(value >= 0.0 && value.is_finite()) {
        return Err(PhysicsError::InvalidParameter {
            name,
            value,
            requirement: "must be finite and ≥ 0",
        });
    }
    Ok(())
}

fn check_iterations(value: usize) -> Result<(), PhysicsError> {
    if value == 0 {
        return Err(PhysicsError::InvalidParameter {
            name: "max_iter",
            value: 0.0,
            requirement: "at least one iteration",
        });
    }
    Ok(())
}

/// Checks `Θ` and `Y`: non-empty, finite, same rows, at least as many rows as candidates.
pub(crate) fn check_system(theta: &Matrix, y: &Matrix) -> Result<(), PhysicsError> {
    if theta.cols() == 0 {
        return Err(PhysicsError::Empty {
            what: "candidate library Θ",
            unit: "candidate function (column)",
        });
    }
    if y.cols() == 0 {
        return Err(PhysicsError::Empty {
            what: "regression targets",
            unit: "target (column)",
        });
    }
    if theta.rows() != y.rows() {
        return Err(PhysicsError::SizeMismatch {
            what: "rows of Θ and of the targets (one per sample)",
            expected: theta.rows(),
            got: y.rows(),
        });
    }
    if theta.rows() < theta.cols() {
        return Err(PhysicsError::GridTooSmall {
            what: "sparse regression (samples must be at least the candidate functions)",
            got: theta.rows(),
            needed: theta.cols(),
        });
    }
    if let Some((r, c)) = theta.first_non_finite() {
        return Err(PhysicsError::NonFinite {
            what: "candidate library Θ",
            index: r * theta.cols() + c,
        });
    }
    if let Some((r, c)) = y.first_non_finite() {
        return Err(PhysicsError::NonFinite {
            what: "regression targets",
            index: r * y.cols() + c,
        });
    }
    Ok(())
}

impl Stlsq {
    fn validate(&self) -> Result<(), PhysicsError> {
        check_threshold("threshold", self.threshold)?;
        check_threshold("alpha", self.alpha)?;
        check_iterations(self.max_iter)
    }

    /// STLSQ on prepared normal equations; `k × p` coefficients.
    pub(crate) fn solve(&self, eq: &NormalEquations) -> Result<Matrix, PhysicsError> {
        self.validate()?;
        let (scale, eq) = if self.normalize_columns {
            let (d, n) = eq.normalised();
            (d, std::borrow::Cow::Owned(n))
        } else {
            (vec![1.0; eq.p()], std::borrow::Cow::Borrowed(eq))
        };
        let (p, k) = (eq.p(), eq.k());
        let mut xi = Matrix::zeros(k, p);
        for target in 0..k {
            let mut support: Vec<usize> = (0..p).collect();
            let mut coef = vec![0.0; p];
            for _ in 0..self.max_iter {
                coef.fill(0.0);
                for (&i, v) in support
                    .iter()
                    .zip(eq.solve_support(&support, target, self.alpha)?)
                {
                    coef[i] = v;
                }
                let kept: Vec<usize> = support
                    .iter()
                    .copied()
                    .filter(|&i| coef[i].abs() >= self.threshold)
                    .collect();
                let converged = kept.len() == support.len();
                for &i in &support {
                    if coef[i].abs() < self.threshold {
                        coef[i] = 0.0;
                    }
                }
                support = kept;
                if converged || support.is_empty() {
                    break;
                }
            }
            if self.unbias && !support.is_empty() {
                for (&i, v) in support.iter().zip(eq.solve_support(&support, target, 0.0)?) {
                    coef[i] = v;
                }
            }
            for i in 0..p {
                xi[(target, i)] = coef[i] * scale[i];
            }
        }
        Ok(xi)
    }
}

/// Runs [`Stlsq`] on `Θ` (`m × p`) and `Y` (`m × k`): the `k × p` sparse coefficients.
///
/// The fast path for large data: `ΘᵀΘ` and `ΘᵀY` are formed once (faer's matrix product,
/// `O(m p²)`), and every iteration solves a `|S| × |S|` system by Cholesky (see the module
/// docs).
pub fn stlsq(theta: &Matrix, y: &Matrix, config: &Stlsq) -> Result<Matrix, PhysicsError> {
    config.validate()?;
    check_system(theta, y)?;
    config.solve(&NormalEquations::new(theta, y))
}

impl Sr3 {
    fn validate(&self) -> Result<(), PhysicsError> {
        check_threshold("threshold", self.threshold)?;
        check_threshold("tol", self.tol)?;
        check_iterations(self.max_iter)?;
        if !(self.nu > 0.0 && self.nu.is_finite()) {
            return Err(PhysicsError::InvalidParameter {
                name: "nu",
                value: self.nu,
                requirement: "the relaxation must be positive and finite",
            });
        }
        Ok(())
    }

    fn prox(&self, v: f64) -> f64 {
        match self.regularizer {
            Sr3Regularizer::L0 => {
                if v.abs() >= self.threshold {
                    v
                } else {
                    0.0
                }
            }
            Sr3Regularizer::L1 => v.signum() * (v.abs() - self.threshold).max(0.0),
        }
    }

    pub(crate) fn solve(&self, eq: &NormalEquations) -> Result<Matrix, PhysicsError> {
        self.validate()?;
        let (scale, eq) = if self.normalize_columns {
            let (d, n) = eq.normalised();
            (d, std::borrow::Cow::Owned(n))
        } else {
            (vec![1.0; eq.p()], std::borrow::Cow::Borrowed(eq))
        };
        let (p, k) = (eq.p(), eq.k());
        // Start from the thresholded least-squares fit (PySINDy's initial guess).
        let all: Vec<usize> = (0..p).collect();
        let h = Mat::from_fn(p, p, |i, j| {
            eq.g[(i, j)] + if i == j { 1.0 / self.nu } else { 0.0 }
        });
        let mut w = Mat::<f64>::zeros(p, k);
        for target in 0..k {
            for (i, v) in eq.solve_support(&all, target, 0.0)?.into_iter().enumerate() {
                w[(i, target)] = self.prox(v);
            }
        }
        // Ξ = (G + I/ν)⁻¹ (b + W/ν) with one Cholesky of G + I/ν, reused for all iterations.
        let llt = h
            .llt(faer::Side::Lower)
            .map_err(|e| PhysicsError::Linalg(format!("SR3: ΘᵀΘ + I/ν is not positive: {e:?}")))?;
        for _ in 0..self.max_iter {
            let rhs = Mat::from_fn(p, k, |i, j| eq.b[(i, j)] + w[(i, j)] / self.nu);
            let xi = faer::linalg::solvers::Solve::solve(&llt, &rhs);
            let mut change: f64 = 0.0;
            for j in 0..k {
                for i in 0..p {
                    let next = self.prox(xi[(i, j)]);
                    change = change.max((next - w[(i, j)]).abs());
                    w[(i, j)] = next;
                }
            }
            if !change.is_finite() {
                return Err(PhysicsError::Linalg(
                    "SR3 diverged to a non-finite coefficient; normalise the columns".into(),
                ));
            }
            if change <= self.tol {
                break;
            }
        }
        let mut out = to_matrix(w.transpose());
        if self.unbias {
            for target in 0..k {
                let support: Vec<usize> = (0..p).filter(|&i| out[(target, i)] != 0.0).collect();
                if !support.is_empty() {
                    for (&i, v) in support.iter().zip(eq.solve_support(&support, target, 0.0)?) {
                        out[(target, i)] = v;
                    }
                }
            }
        }
        for target in 0..k {
            for (i, s) in scale.iter().enumerate() {
                out[(target, i)] *= s;
            }
        }
        Ok(out)
    }
}

/// The median of `values` (the mean of the two middle ones for an even count).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    }
}

impl Ensemble {
    /// Bagged fits: the median coefficients, the inclusion probabilities and every model.
    pub fn fit_ensemble(&self, theta: &Matrix, y: &Matrix) -> Result<EnsembleFit, PhysicsError> {
        check_system(theta, y)?;
        if self.n_models == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "n_models",
                value: 0.0,
                requirement: "at least one model",
            });
        }
        let m = theta.rows();
        let n_subset = self.n_subset.unwrap_or(m);
        if n_subset == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "n_subset",
                value: 0.0,
                requirement: "at least one row per resample",
            });
        }
        // Draw every resample up front from one seeded stream, so the result does not depend on
        // rayon's scheduling.
        let mut rng = SeededRng::new(self.seed);
        let draws: Vec<Vec<u32>> = (0..self.n_models)
            .map(|_| {
                let mut counts = vec![0u32; m];
                for _ in 0..n_subset {
                    counts[rng.below(m as u64) as usize] += 1;
                }
                counts
            })
            .collect();
        let models: Vec<Matrix> = draws
            .par_iter()
            .map(|counts| {
                let eq = NormalEquations::weighted(theta, y, counts);
                self.base.solve(&eq)
            })
            .collect::<Result<_, _>>()?;
        let (k, p) = (y.cols(), theta.cols());
        let mut coefficients = Matrix::zeros(k, p);
        let mut inclusion = Matrix::zeros(k, p);
        let mut column = vec![0.0; models.len()];
        for t in 0..k {
            for i in 0..p {
                for (c, model) in column.iter_mut().zip(&models) {
                    *c = model[(t, i)];
                }
                inclusion[(t, i)] =
                    column.iter().filter(|v| **v != 0.0).count() as f64 / models.len() as f64;
                coefficients[(t, i)] = median(&mut column);
            }
        }
        Ok(EnsembleFit {
            coefficients,
            inclusion,
            models,
        })
    }
}

impl Optimizer {
    pub(crate) fn solve(&self, eq: &NormalEquations) -> Result<Matrix, PhysicsError> {
        match self {
            Optimizer::Stlsq(s) => s.solve(eq),
            Optimizer::Sr3(s) => s.solve(eq),
            Optimizer::Ensemble(_) => Err(PhysicsError::InvalidParameter {
                name: "ensemble base",
                value: f64::NAN,
                requirement: "an ensemble's base optimizer must be STLSQ or SR3, not an ensemble",
            }),
        }
    }

    /// The `k × p` sparse coefficients of `Y ≈ Θ Ξᵀ` (one row per target).
    pub fn fit(&self, theta: &Matrix, y: &Matrix) -> Result<Matrix, PhysicsError> {
        match self {
            Optimizer::Ensemble(e) => Ok(e.fit_ensemble(theta, y)?.coefficients),
            other => {
                check_system(theta, y)?;
                other.solve(&NormalEquations::new(theta, y))
            }
        }
    }
}
