//! SINDy: sparse identification of nonlinear dynamics (Brunton, Proctor & Kutz 2016).
//!
//! Given samples `X` (`m × n`) of a trajectory at times `t`, SINDy estimates `Ẋ` with a
//! [`Differentiator`], evaluates a [`Library`] `Θ(X)` (of the states, and of control inputs
//! `U` when there are any: `Θ([X U])`) and solves the sparse regression `Ẋ ≈ Θ Ξᵀ` with an
//! [`Optimizer`]. The identified model is `ẋ = Ξ Θ(x, u)`, one equation per state, printed as
//! `x' = -10.000 x + 10.000 y` and simulated with sysdyn-solvers' Dormand–Prince 5(4).
//!
//! The three parts are data (PySINDy's `SINDy(feature_library, differentiation_method,
//! optimizer)`):
//!
//! ```
//! use sysdyn_core::linalg::Matrix;
//! use sysdyn_physics::discovery::{Library, Sindy, Trajectory};
//!
//! // x' = -2 x sampled exactly: x = e^{-2t}.
//! let t: Vec<f64> = (0..200).map(|i| 0.005 * i as f64).collect();
//! let x = Matrix::from_row_major(200, 1, t.iter().map(|t| (-2.0 * t).exp()).collect())?;
//! let model = Sindy { library: Library::polynomial(2), ..Sindy::default() }
//!     .fit(&[Trajectory::new(&x, &t)])?;
//! assert_eq!(model.equations(3), ["x0' = -2.000 x0"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use sysdyn_core::linalg::Matrix;
use sysdyn_solvers::{SaveAt, SolveConfig, methods::DOPRI5, solve};

use super::derivative::Differentiator;
use super::library::Library;
use super::regression::{Optimizer, check_system};
use crate::PhysicsError;

/// One trajectory: states `x` (`m × n`, samples in rows) at times `t`, and optionally the
/// control inputs `u` (`m × c`) applied at those times.
#[derive(Debug, Clone, Copy)]
pub struct Trajectory<'a> {
    /// The states, one sample per row.
    pub x: &'a Matrix,
    /// The sample times.
    pub t: &'a [f64],
    /// The control inputs, one sample per row.
    pub u: Option<&'a Matrix>,
}

impl<'a> Trajectory<'a> {
    /// An autonomous trajectory.
    pub fn new(x: &'a Matrix, t: &'a [f64]) -> Self {
        Trajectory { x, t, u: None }
    }

    /// A trajectory driven by the inputs `u`.
    pub fn with_control(x: &'a Matrix, t: &'a [f64], u: &'a Matrix) -> Self {
        Trajectory { x, t, u: Some(u) }
    }
}

/// A SINDy model before fitting: the library, the derivative estimate, the optimizer and the
/// variables' names.
#[derive(Debug, Clone)]
pub struct Sindy {
    /// The candidate functions.
    pub library: Library,
    /// How `ẋ` is estimated from the samples.
    pub differentiator: Differentiator,
    /// The sparse regression.
    pub optimizer: Optimizer,
    /// The states' names (`x0, x1, …` when `None`).
    pub state_names: Option<Vec<String>>,
    /// The control inputs' names (`u0, u1, …` when `None`).
    pub control_names: Option<Vec<String>>,
}

impl Default for Sindy {
    /// PySINDy's defaults: polynomials up to degree 2, finite differences, STLSQ(0.1, 0.05).
    fn default() -> Self {
        Sindy {
            library: Library::polynomial(2),
            differentiator: Differentiator::FiniteDifference,
            optimizer: Optimizer::default(),
            state_names: None,
            control_names: None,
        }
    }
}

/// An identified model `ẋ = Ξ Θ(x, u)`.
#[derive(Debug, Clone)]
pub struct FittedSindy {
    library: Library,
    differentiator: Differentiator,
    coefficients: Matrix,
    inclusion: Option<Matrix>,
    state_names: Vec<String>,
    control_names: Vec<String>,
    feature_names: Vec<String>,
}

fn names(given: &Option<Vec<String>>, prefix: &str, n: usize) -> Result<Vec<String>, PhysicsError> {
    match given {
        Some(v) if v.len() != n => Err(PhysicsError::SizeMismatch {
            what: "variable names (one per column)",
            expected: n,
            got: v.len(),
        }),
        Some(v) => Ok(v.clone()),
        None => Ok((0..n).map(|i| format!("{prefix}{i}")).collect()),
    }
}

/// `[X U]`: the states and the inputs side by side.
fn join_columns(x: &Matrix, u: Option<&Matrix>) -> Result<Matrix, PhysicsError> {
    let Some(u) = u else {
        return Ok(x.clone());
    };
    if u.rows() != x.rows() {
        return Err(PhysicsError::SizeMismatch {
            what: "control samples (one row per state sample)",
            expected: x.rows(),
            got: u.rows(),
        });
    }
    let (n, c) = (x.cols(), u.cols());
    let mut out = Matrix::zeros(x.rows(), n + c);
    for i in 0..x.rows() {
        for j in 0..n {
            out[(i, j)] = x[(i, j)];
        }
        for j in 0..c {
            out[(i, n + j)] = u[(i, j)];
        }
    }
    Ok(out)
}

/// Rows of several matrices stacked.
fn stack(parts: &[Matrix]) -> Result<Matrix, PhysicsError> {
    let cols = parts.first().map_or(0, Matrix::cols);
    let mut data = Vec::new();
    for p in parts {
        data.extend_from_slice(p.as_slice());
    }
    let rows = data.len() / cols.max(1);
    Matrix::from_row_major(rows, cols, data).map_err(|e| PhysicsError::Linalg(e.to_string()))
}

/// The coefficient of determination, averaged uniformly over the columns (scikit-learn's
/// `r2_score`): `R² = 1 − Σ (y − ŷ)² / Σ (y − ȳ)²` per column.
pub fn r2_score(y_true: &Matrix, y_pred: &Matrix) -> Result<f64, PhysicsError> {
    if y_true.rows() != y_pred.rows() || y_true.cols() != y_pred.cols() {
        return Err(PhysicsError::SizeMismatch {
            what: "R² operands (entries)",
            expected: y_true.rows() * y_true.cols(),
            got: y_pred.rows() * y_pred.cols(),
        });
    }
    if y_true.rows() == 0 || y_true.cols() == 0 {
        return Err(PhysicsError::Empty {
            what: "R² data",
            unit: "sample",
        });
    }
    let (m, k) = (y_true.rows(), y_true.cols());
    let mut total = 0.0;
    for j in 0..k {
        let mean = (0..m).map(|i| y_true[(i, j)]).sum::<f64>() / m as f64;
        let ss_tot: f64 = (0..m).map(|i| (y_true[(i, j)] - mean).powi(2)).sum();
        let ss_res: f64 = (0..m)
            .map(|i| (y_true[(i, j)] - y_pred[(i, j)]).powi(2))
            .sum();
        total += if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else if ss_res == 0.0 {
            1.0
        } else {
            0.0
        };
    }
    Ok(total / k as f64)
}

/// One equation `lhs' = c₁ θ₁ + c₂ θ₂ …` with `precision` decimals; terms that round to zero
/// are left out.
pub(crate) fn format_equation(
    lhs: &str,
    coefficients: &[f64],
    names: &[String],
    precision: usize,
) -> String {
    let mut out = format!("{lhs} =");
    let mut first = true;
    for (c, name) in coefficients.iter().zip(names) {
        let magnitude = format!("{:.*}", precision, c.abs());
        if c.abs() == 0.0 || magnitude.chars().all(|ch| ch == '0' || ch == '.') {
            continue;
        }
        let body = if name == "1" {
            magnitude
        } else {
            format!("{magnitude} {name}")
        };
        let sign = match (first, *c < 0.0) {
            (true, true) => " -",
            (true, false) => " ",
            (false, true) => " - ",
            (false, false) => " + ",
        };
        out.push_str(sign);
        out.push_str(&body);
        first = false;
    }
    if first {
        out.push_str(&format!(" {:.*}", precision, 0.0));
    }
    out
}

impl Sindy {
    /// Fits the model to one or more trajectories (their samples are stacked after each is
    /// differentiated on its own).
    pub fn fit(&self, data: &[Trajectory<'_>]) -> Result<FittedSindy, PhysicsError> {
        let Some(first) = data.first() else {
            return Err(PhysicsError::Empty {
                what: "SINDy training data",
                unit: "trajectory",
            });
        };
        let n = first.x.cols();
        let c = first.u.map_or(0, Matrix::cols);
        let mut xs = Vec::with_capacity(data.len());
        let mut dxs = Vec::with_capacity(data.len());
        let mut us = Vec::with_capacity(data.len());
        for traj in data {
            if traj.x.cols() != n {
                return Err(PhysicsError::SizeMismatch {
                    what: "states per trajectory",
                    expected: n,
                    got: traj.x.cols(),
                });
            }
            if traj.u.map_or(0, Matrix::cols) != c {
                return Err(PhysicsError::SizeMismatch {
                    what: "control inputs per trajectory",
                    expected: c,
                    got: traj.u.map_or(0, Matrix::cols),
                });
            }
            dxs.push(self.differentiator.differentiate_columns(traj.x, traj.t)?);
            xs.push(self.differentiator.smooth_columns(traj.x)?);
            if let Some(u) = traj.u {
                us.push(u.clone());
            }
        }
        let x = stack(&xs)?;
        let dx = stack(&dxs)?;
        let u = if c > 0 { Some(stack(&us)?) } else { None };
        self.fit_with_derivatives(&x, &dx, u.as_ref())
    }

    /// Fits the model to states `x`, their known derivatives `x_dot` and optional inputs `u`.
    pub fn fit_with_derivatives(
        &self,
        x: &Matrix,
        x_dot: &Matrix,
        u: Option<&Matrix>,
    ) -> Result<FittedSindy, PhysicsError> {
        if x.cols() != x_dot.cols() {
            return Err(PhysicsError::SizeMismatch {
                what: "derivative columns (one per state)",
                expected: x.cols(),
                got: x_dot.cols(),
            });
        }
        let state_names = names(&self.state_names, "x", x.cols())?;
        let control_names = names(&self.control_names, "u", u.map_or(0, Matrix::cols))?;
        let inputs = join_columns(x, u)?;
        let all: Vec<&str> = state_names
            .iter()
            .chain(&control_names)
            .map(String::as_str)
            .collect();
        let feature_names = self.library.feature_names(&all)?;
        let theta = self.library.transform(&inputs)?;
        check_system(&theta, x_dot)?;
        let (coefficients, inclusion) = match &self.optimizer {
            Optimizer::Ensemble(ensemble) => {
                let fit = ensemble.fit_ensemble(&theta, x_dot)?;
                (fit.coefficients, Some(fit.inclusion))
            }
            other => (other.fit(&theta, x_dot)?, None),
        };
        Ok(FittedSindy {
            library: self.library.clone(),
            differentiator: self.differentiator,
            coefficients,
            inclusion,
            state_names,
            control_names,
            feature_names,
        })
    }
}

impl FittedSindy {
    /// The coefficients `Ξ`, one row per state and one column per feature (PySINDy's
    /// `coefficients()`).
    pub fn coefficients(&self) -> &Matrix {
        &self.coefficients
    }

    /// For an ensemble optimizer, the fraction of the bagged models that keep each coefficient
    /// (same layout as [`FittedSindy::coefficients`]); `None` for a single fit.
    pub fn inclusion_probabilities(&self) -> Option<&Matrix> {
        self.inclusion.as_ref()
    }

    /// The names of the library's features, in the order of the coefficients' columns.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// The states' names.
    pub fn state_names(&self) -> &[String] {
        &self.state_names
    }

    /// The identified equations, `x' = -10.000 x + 10.000 y`, with `precision` decimals.
    pub fn equations(&self, precision: usize) -> Vec<String> {
        let p = self.coefficients.cols();
        self.state_names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let row = &self.coefficients.as_slice()[i * p..(i + 1) * p];
                format_equation(&format!("{name}'"), row, &self.feature_names, precision)
            })
            .collect()
    }

    /// The model's derivative `Ξ Θ(x, u)` at every sample.
    pub fn predict(&self, x: &Matrix, u: Option<&Matrix>) -> Result<Matrix, PhysicsError> {
        self.check_inputs(x, u)?;
        let theta = self.library.transform(&join_columns(x, u)?)?;
        let xi_t = self.coefficients.transpose();
        theta
            .matmul(&xi_t)
            .map_err(|e| PhysicsError::Linalg(e.to_string()))
    }

    fn check_inputs(&self, x: &Matrix, u: Option<&Matrix>) -> Result<(), PhysicsError> {
        if x.cols() != self.state_names.len() {
            return Err(PhysicsError::SizeMismatch {
                what: "state columns",
                expected: self.state_names.len(),
                got: x.cols(),
            });
        }
        if u.map_or(0, Matrix::cols) != self.control_names.len() {
            return Err(PhysicsError::SizeMismatch {
                what: "control columns",
                expected: self.control_names.len(),
                got: u.map_or(0, Matrix::cols),
            });
        }
        Ok(())
    }

    /// R² of the model's derivative against the derivative estimated from the data with the
    /// model's differentiator (PySINDy's `score`).
    pub fn score(&self, data: &Trajectory<'_>) -> Result<f64, PhysicsError> {
        let dx = self.differentiator.differentiate_columns(data.x, data.t)?;
        let x = self.differentiator.smooth_columns(data.x)?;
        let predicted = self.predict(&x, data.u)?;
        r2_score(&dx, &predicted)
    }

    /// Integrates the identified autonomous model from `x0` and returns its states at the times
    /// `t` (one row each), solved adaptively by Dormand–Prince 5(4) with tolerances `rtol`,
    /// `atol`.
    pub fn simulate(
        &self,
        x0: &[f64],
        t: &[f64],
        rtol: f64,
        atol: f64,
    ) -> Result<Matrix, PhysicsError> {
        self.simulate_with_control(x0, t, |_| Vec::new(), rtol, atol)
    }

    /// Like [`FittedSindy::simulate`], with the inputs `u(t)` given as a function of time.
    pub fn simulate_with_control(
        &self,
        x0: &[f64],
        t: &[f64],
        u: impl Fn(f64) -> Vec<f64>,
        rtol: f64,
        atol: f64,
    ) -> Result<Matrix, PhysicsError> {
        let n = self.state_names.len();
        let c = self.control_names.len();
        if x0.len() != n {
            return Err(PhysicsError::SizeMismatch {
                what: "initial state",
                expected: n,
                got: x0.len(),
            });
        }
        if t.len() < 2 {
            return Err(PhysicsError::GridTooSmall {
                what: "simulation times",
                got: t.len(),
                needed: 2,
            });
        }
        if let Some(index) = t.iter().position(|v| !v.is_finite()) {
            return Err(PhysicsError::NonFinite {
                what: "simulation times",
                index,
            });
        }
        let u0 = u(t[0]);
        if u0.len() != c {
            return Err(PhysicsError::SizeMismatch {
                what: "control inputs returned by u(t)",
                expected: c,
                got: u0.len(),
            });
        }
        let p = self.coefficients.cols();
        let xi = self.coefficients.as_slice();
        let mut field = |time: f64, y: &Vec<f64>| -> Vec<f64> {
            let mut input = y.clone();
            input.extend(u(time));
            // A wrong input length can only come from `u` changing its length: the NaNs make
            // the solver stop with its non-finite error instead of panicking.
            match self.library.evaluate_row(&input) {
                Ok(theta) if theta.len() == p => (0..n)
                    .map(|i| {
                        xi[i * p..(i + 1) * p]
                            .iter()
                            .zip(&theta)
                            .map(|(a, b)| a * b)
                            .sum()
                    })
                    .collect(),
                _ => vec![f64::NAN; n],
            }
        };
        let config = SolveConfig::adaptive(rtol, atol).save_at(SaveAt::Times(t.to_vec()));
        let solution = solve(
            &mut field,
            &DOPRI5,
            (t[0], t[t.len() - 1]),
            x0.to_vec(),
            &config,
        )?;
        let rows: Vec<Vec<f64>> = solution.ys;
        Matrix::from_rows(&rows).map_err(|e| PhysicsError::Linalg(e.to_string()))
    }
}

impl fmt::Display for FittedSindy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in self.equations(3) {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}
