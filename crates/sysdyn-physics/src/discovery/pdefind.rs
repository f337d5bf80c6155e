//! PDE-FIND: sparse identification of partial differential equations (Rudy, Brunton, Proctor &
//! Kutz 2017, "Data-driven discovery of partial differential equations", Sci. Adv. 3).
//!
//! Given `u(x, t)` on a uniform grid, PDE-FIND estimates `u_t` and the spatial derivatives
//! `∂ᵈu/∂xᵈ`, builds the library of products `uᵖ · ∂ᵈu` (`p = 0..=P`, `d = 0..=D`, with
//! `∂⁰u = 1`, so the first column is the constant; Rudy's `build_linear_system` order:
//! `1, u_x, u_xx, …, u, u u_x, …, u^2, …`) and finds a sparse `ξ` with `u_t ≈ Θ ξ` by
//! TrainSTRidge.
//!
//! **Derivatives** ([`PdeDerivatives`]):
//! - finite differences: second-order central stencils (`u_t`, `u_x`, `u_xx`, `u_xxx`, `u_xxxx`),
//!   evaluated where the stencil fits (the outer points are dropped, never one-sided);
//! - polynomial interpolation, for noisy data: at each point a polynomial of degree `degree` is
//!   fitted by least squares to the `2w + 1` samples around it along `x` (and along `t`), and
//!   differentiated (Rudy's `PolyDiff`). On a uniform grid the fit's value and derivatives at the
//!   centre are fixed linear filters, the Savitzky–Golay weights, so each derivative is one
//!   convolution. The value `u` in the library is the fitted polynomial's value too, which
//!   removes most of the noise from the regressors.
//!
//! **TrainSTRidge** ([`TrainStRidge`]): the rows are split at random into training (80 %) and
//! test sets; for a tolerance `tol`, STRidge fits ridge regression (`λ`) on unit-norm columns and
//! drops normalised coefficients below `tol` until the support is stable, then refits by least
//! squares. The tolerance is searched (Rudy's Algorithm 2): start at `d_tol`; when the test
//! error `‖u_t − Θ ξ‖² + η ‖ξ‖₀` does not increase, keep `ξ` and raise `tol` by `d_tol`;
//! otherwise step back (`tol ← max(0, tol − 2 d_tol)`), refine `d_tol ← 2 d_tol / (it_max − it)`
//! and move on by the new `d_tol`. The ℓ0 penalty defaults to `η = 10⁻³ κ(Θ)` (the 2-norm
//! condition number), as in the paper's code.

use sysdyn_core::linalg::Matrix;
use sysdyn_core::rng::SeededRng;

use super::dense::view;
use super::derivative::savitzky_golay_weights;
use super::regression::{NormalEquations, Stlsq};
use super::sindy::format_equation;
use crate::PhysicsError;

/// How `u_t` and the spatial derivatives are estimated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PdeDerivatives {
    /// Second-order central finite differences (clean data).
    FiniteDifference,
    /// Local polynomial fits (noisy data).
    Polynomial {
        /// The degree of the fitted polynomials (≥ the highest derivative order).
        degree: usize,
        /// The half-width `w` of the fit along `x` (`2w + 1` points).
        width_x: usize,
        /// The half-width of the fit along `t`.
        width_t: usize,
    },
}

/// TrainSTRidge's options (Rudy et al.'s `TrainSTRidge(R, Ut, lam, d_tol)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainStRidge {
    /// The ridge weight `λ ≥ 0` (on unit-norm columns).
    pub lambda: f64,
    /// The first tolerance and its initial increment (> 0).
    pub d_tol: f64,
    /// The number of tolerances tried.
    pub max_it: usize,
    /// STRidge's threshold–refit rounds per tolerance.
    pub str_iters: usize,
    /// The ℓ0 penalty `η`; `None`: `10⁻³ κ(Θ)`.
    pub l0_penalty: Option<f64>,
    /// The fraction of rows used for training, in (0, 1).
    pub split: f64,
    /// The seed of the train/test split.
    pub seed: u64,
}

impl Default for TrainStRidge {
    /// The paper's code defaults: λ = 10⁻⁵, d_tol = 1, 25 tolerances, 10 STRidge rounds, 80 %
    /// training rows.
    fn default() -> Self {
        TrainStRidge {
            lambda: 1e-5,
            d_tol: 1.0,
            max_it: 25,
            str_iters: 10,
            l0_penalty: None,
            split: 0.8,
            seed: 0,
        }
    }
}

/// The PDE-FIND method: the library's extent, the derivative estimate and the regression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PdeFind {
    /// The highest power `P` of `u` in the library.
    pub max_power: usize,
    /// The highest spatial derivative order `D` (at most 4 with finite differences).
    pub max_derivative: usize,
    /// How derivatives are estimated.
    pub derivatives: PdeDerivatives,
    /// The sparse regression.
    pub trainer: TrainStRidge,
}

impl Default for PdeFind {
    /// Powers up to `u²`, derivatives up to `u_xxx`, finite differences, TrainSTRidge defaults.
    fn default() -> Self {
        PdeFind {
            max_power: 2,
            max_derivative: 3,
            derivatives: PdeDerivatives::FiniteDifference,
            trainer: TrainStRidge::default(),
        }
    }
}

/// The regression problem `u_t ≈ Θ ξ` PDE-FIND builds from the data.
#[derive(Debug, Clone)]
pub struct PdeSystem {
    /// `u_t` at the points used, in the row order of `theta`.
    pub u_t: Matrix,
    /// The library, one row per point and one column per term.
    pub theta: Matrix,
    /// The terms' names (`"u u_x"`).
    pub names: Vec<String>,
}

/// An identified PDE `u_t = Σ ξᵢ θᵢ`.
#[derive(Debug, Clone)]
pub struct PdeModel {
    /// The coefficients, one per library term.
    pub coefficients: Vec<f64>,
    /// The terms' names.
    pub names: Vec<String>,
    /// The tolerance TrainSTRidge selected.
    pub tolerance: f64,
}

impl PdeModel {
    /// The coefficient of the term named `name` (`"u u_x"`), if the library has it.
    pub fn coefficient(&self, name: &str) -> Option<f64> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| self.coefficients[i])
    }

    /// The names of the terms with non-zero coefficients.
    pub fn active_terms(&self) -> Vec<&str> {
        self.names
            .iter()
            .zip(&self.coefficients)
            .filter(|(_, c)| **c != 0.0)
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// The PDE, `u_t = -1.000 u u_x + 0.003 u_xx`, with `precision` decimals.
    pub fn equation(&self, precision: usize) -> String {
        format_equation("u_t", &self.coefficients, &self.names, precision)
    }
}

/// The central finite-difference stencil of `∂ᵈ/∂xᵈ` (`d ≤ 4`), second order, unit spacing,
/// as offsets `-r..=r`.
fn central_stencil(d: usize) -> &'static [f64] {
    match d {
        0 => &[1.0],
        1 => &[-0.5, 0.0, 0.5],
        2 => &[1.0, -2.0, 1.0],
        3 => &[-0.5, 1.0, 0.0, -1.0, 0.5],
        _ => &[1.0, -4.0, 6.0, -4.0, 1.0],
    }
}

/// The name of `uᵖ ∂ᵈu`.
fn term_name(p: usize, d: usize) -> String {
    let power = match p {
        0 => String::new(),
        1 => "u".to_string(),
        _ => format!("u^{p}"),
    };
    let derivative = if d == 0 {
        String::new()
    } else {
        format!("u_{}", "x".repeat(d))
    };
    match (power.is_empty(), derivative.is_empty()) {
        (true, true) => "1".to_string(),
        (false, true) => power,
        (true, false) => derivative,
        (false, false) => format!("{power} {derivative}"),
    }
}

impl PdeFind {
    fn validate(&self) -> Result<(), PhysicsError> {
        let tr = &self.trainer;
        if !(tr.lambda >= 0.0 && tr.lambda.is_finite()) {
            return Err(PhysicsError::InvalidParameter {
                name: "lambda",
                value: tr.lambda,
                requirement: "the ridge weight must be finite and ≥ 0",
            });
        }
        if !(tr.d_tol > 0.0 && tr.d_tol.is_finite()) {
            return Err(PhysicsError::InvalidParameter {
                name: "d_tol",
                value: tr.d_tol,
                requirement: "the tolerance step must be positive and finite",
            });
        }
        if !(tr.split > 0.0 && tr.split < 1.0) {
            return Err(PhysicsError::InvalidParameter {
                name: "split",
                value: tr.split,
                requirement: "the training fraction must lie in (0, 1)",
            });
        }
        if let Some(eta) = tr.l0_penalty
            && !(eta >= 0.0 && eta.is_finite())
        {
            return Err(PhysicsError::InvalidParameter {
                name: "l0_penalty",
                value: eta,
                requirement: "the ℓ0 penalty must be finite and ≥ 0",
            });
        }
        match self.derivatives {
            PdeDerivatives::FiniteDifference if self.max_derivative > 4 => {
                Err(PhysicsError::InvalidParameter {
                    name: "max_derivative",
                    value: self.max_derivative as f64,
                    requirement: "finite differences go up to the fourth derivative",
                })
            }
            PdeDerivatives::Polynomial { degree, .. } if degree < self.max_derivative.max(1) => {
                Err(PhysicsError::InvalidParameter {
                    name: "degree",
                    value: degree as f64,
                    requirement: "the polynomial degree must reach the highest derivative order",
                })
            }
            PdeDerivatives::Polynomial {
                degree,
                width_x,
                width_t,
            } if 2 * width_x.min(width_t) < degree => Err(PhysicsError::InvalidParameter {
                name: "width",
                value: width_x.min(width_t) as f64,
                requirement: "a fit needs more points (2w + 1) than the polynomial degree",
            }),
            _ => Ok(()),
        }
    }

    /// Builds `u_t ≈ Θ ξ` from `u` (`nt × nx`: row `i` is the snapshot at `t = i·dt`, column
    /// `j` the point `x = j·dx`).
    pub fn build_system(&self, u: &Matrix, dt: f64, dx: f64) -> Result<PdeSystem, PhysicsError> {
        self.validate()?;
        for (name, value) in [("dt", dt), ("dx", dx)] {
            if !(value > 0.0 && value.is_finite()) {
                return Err(PhysicsError::InvalidParameter {
                    name,
                    value,
                    requirement: "grid spacings must be positive and finite",
                });
            }
        }
        if let Some((r, c)) = u.first_non_finite() {
            return Err(PhysicsError::NonFinite {
                what: "u(x, t)",
                index: r * u.cols() + c,
            });
        }
        let (nt, nx) = (u.rows(), u.cols());
        let dmax = self.max_derivative;
        // The filters along x (value and derivatives 1..=D) and along t (first derivative),
        // centred, with their reach.
        let (x_filters, t_filter, rx, rt): (Vec<Vec<f64>>, Vec<f64>, usize, usize) =
            match self.derivatives {
                PdeDerivatives::FiniteDifference => {
                    let rx = if dmax <= 2 { 1 } else { 2 };
                    let filters = (0..=dmax)
                        .map(|d| {
                            let s = central_stencil(d);
                            let pad = rx - s.len() / 2;
                            let mut f = vec![0.0; 2 * rx + 1];
                            f[pad..pad + s.len()].copy_from_slice(s);
                            f.iter().map(|w| w / dx.powi(d as i32)).collect()
                        })
                        .collect();
                    (filters, vec![-0.5 / dt, 0.0, 0.5 / dt], rx, 1)
                }
                PdeDerivatives::Polynomial {
                    degree,
                    width_x,
                    width_t,
                } => {
                    let filters = (0..=dmax)
                        .map(|d| {
                            savitzky_golay_weights(2 * width_x + 1, degree, d, width_x)
                                .map(|w| w.into_iter().map(|v| v / dx.powi(d as i32)).collect())
                        })
                        .collect::<Result<_, _>>()?;
                    let tf = savitzky_golay_weights(2 * width_t + 1, degree, 1, width_t)?
                        .into_iter()
                        .map(|v| v / dt)
                        .collect();
                    (filters, tf, width_x, width_t)
                }
            };
        if nx < 2 * rx + 1 {
            return Err(PhysicsError::GridTooSmall {
                what: "PDE-FIND space grid",
                got: nx,
                needed: 2 * rx + 1,
            });
        }
        if nt < 2 * rt + 1 {
            return Err(PhysicsError::GridTooSmall {
                what: "PDE-FIND time grid",
                got: nt,
                needed: 2 * rt + 1,
            });
        }
        let (it_range, ix_range) = (rt..nt - rt, rx..nx - rx);
        let rows = it_range.len() * ix_range.len();
        let p_terms = (self.max_power + 1) * (dmax + 1);
        let mut theta = Vec::with_capacity(rows * p_terms);
        let mut u_t = Vec::with_capacity(rows);
        let mut derivs = vec![0.0; dmax + 1];
        for it in it_range {
            let row = &u.as_slice()[it * nx..(it + 1) * nx];
            for ix in ix_range.clone() {
                let window = &row[ix - rx..=ix + rx];
                for (d, f) in x_filters.iter().enumerate() {
                    derivs[d] = f.iter().zip(window).map(|(a, b)| a * b).sum();
                }
                u_t.push(
                    t_filter
                        .iter()
                        .enumerate()
                        .map(|(k, w)| w * u[(it + k - rt, ix)])
                        .sum(),
                );
                let value = derivs[0];
                let mut power = 1.0;
                for _ in 0..=self.max_power {
                    theta.push(power);
                    for dv in &derivs[1..] {
                        theta.push(power * dv);
                    }
                    power *= value;
                }
            }
        }
        let names = (0..=self.max_power)
            .flat_map(|p| (0..=dmax).map(move |d| term_name(p, d)))
            .collect();
        let to_err = |e: sysdyn_core::linalg::LinalgError| PhysicsError::Linalg(e.to_string());
        Ok(PdeSystem {
            u_t: Matrix::from_row_major(rows, 1, u_t).map_err(to_err)?,
            theta: Matrix::from_row_major(rows, p_terms, theta).map_err(to_err)?,
            names,
        })
    }

    /// Identifies the PDE from `u` (`nt × nx`, see [`PdeFind::build_system`]).
    pub fn fit(&self, u: &Matrix, dt: f64, dx: f64) -> Result<PdeModel, PhysicsError> {
        let system = self.build_system(u, dt, dx)?;
        self.trainer.fit(&system)
    }
}

/// The rows of `m` listed in `rows`.
fn select_rows(m: &Matrix, rows: &[usize]) -> Matrix {
    let c = m.cols();
    let mut data = Vec::with_capacity(rows.len() * c);
    for &r in rows {
        data.extend_from_slice(&m.as_slice()[r * c..(r + 1) * c]);
    }
    // The length is rows.len() · c by construction.
    Matrix::from_row_major(rows.len(), c, data).unwrap_or_else(|_| Matrix::zeros(0, c))
}

impl TrainStRidge {
    /// `‖y − Θ ξ‖² + η ‖ξ‖₀` on the test rows.
    fn test_error(theta: &Matrix, y: &Matrix, xi: &[f64], eta: f64) -> f64 {
        let p = theta.cols();
        let residual: f64 = theta
            .as_slice()
            .chunks(p)
            .zip(y.as_slice())
            .map(|(row, y)| {
                let fit: f64 = row.iter().zip(xi).map(|(a, b)| a * b).sum();
                (y - fit).powi(2)
            })
            .sum();
        residual + eta * xi.iter().filter(|v| **v != 0.0).count() as f64
    }

    /// Runs TrainSTRidge on a built system.
    pub fn fit(&self, system: &PdeSystem) -> Result<PdeModel, PhysicsError> {
        let (theta, y) = (&system.theta, &system.u_t);
        super::regression::check_system(theta, y)?;
        let m = theta.rows();
        if m < 2 {
            return Err(PhysicsError::GridTooSmall {
                what: "TrainSTRidge (a training and a test row at least)",
                got: m,
                needed: 2,
            });
        }
        let mut order: Vec<usize> = (0..m).collect();
        SeededRng::new(self.seed).shuffle(&mut order);
        let n_train = ((m as f64 * self.split) as usize).clamp(1, m - 1);
        let (train, test) = order.split_at(n_train);
        let (train_theta, train_y) = (select_rows(theta, train), select_rows(y, train));
        let (test_theta, test_y) = (select_rows(theta, test), select_rows(y, test));
        let eta = match self.l0_penalty {
            Some(eta) => eta,
            None => {
                let s = view(theta)
                    .singular_values()
                    .map_err(|e| PhysicsError::Linalg(format!("SVD of Θ: {e:?}")))?;
                let (max, min) = (s[0], s[s.len() - 1]);
                1e-3 * if min > 0.0 { max / min } else { f64::INFINITY }
            }
        };
        let eq = NormalEquations::new(&train_theta, &train_y);
        let stridge = |tol: f64| -> Result<Vec<f64>, PhysicsError> {
            let config = Stlsq {
                threshold: tol,
                alpha: self.lambda,
                max_iter: self.str_iters.max(1),
                normalize_columns: true,
                unbias: true,
            };
            Ok(config.solve(&eq)?.as_slice().to_vec())
        };
        // Least squares on every term (tolerance 0, no ridge) is the first candidate.
        let mut w_best = Stlsq {
            threshold: 0.0,
            alpha: 0.0,
            max_iter: 1,
            normalize_columns: true,
            unbias: false,
        }
        .solve(&eq)?
        .as_slice()
        .to_vec();
        let mut err_best = Self::test_error(&test_theta, &test_y, &w_best, eta);
        let (mut tol, mut d_tol, mut tol_best) = (self.d_tol, self.d_tol, 0.0);
        for iter in 0..self.max_it {
            let w = stridge(tol)?;
            let err = Self::test_error(&test_theta, &test_y, &w, eta);
            if err <= err_best {
                err_best = err;
                w_best = w;
                tol_best = tol;
                tol += d_tol;
            } else {
                tol = (tol - 2.0 * d_tol).max(0.0);
                d_tol = 2.0 * d_tol / (self.max_it - iter) as f64;
                tol += d_tol;
            }
        }
        Ok(PdeModel {
            coefficients: w_best,
            names: system.names.clone(),
            tolerance: tol_best,
        })
    }
}
