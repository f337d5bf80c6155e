//! Explicit Runge–Kutta methods as data: a Butcher tableau, its orders, its error estimate and its
//! continuous extension. A method file in [`crate::methods`] is one `pub const` of
//! [`ButcherTableau`]; [`ButcherTableau::check`] verifies it.

/// How an embedded method estimates the local error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ErrorEstimate {
    /// No estimate: fixed-step use only.
    None,
    /// One embedded solution: `err = h * Σ_j e_j k_j` with `e = b - b̂` (the weights sum to zero).
    Embedded(&'static [f64]),
    /// Hairer's DOP853 estimator, which blends a 5th-order estimate `e5` and a 3rd-order estimate
    /// `e3`: `err = n5² / sqrt(n5² + 0.01 n3²)` with `n5`, `n3` the weighted norms of
    /// `h Σ e5_j k_j` and `h Σ e3_j k_j`.
    Blended {
        /// Weights of the 5th-order difference.
        e5: &'static [f64],
        /// Weights of the 3rd-order difference.
        e3: &'static [f64],
    },
}

/// A continuous extension (dense output) of a step: `y(t0 + θh) = y0 + h Σ_j b_j(θ) k_j` with
/// `b_j(θ) = Σ_m weights[j][m] θ^(m+1)`.
///
/// Some methods need extra stages for their interpolant (DOP853): `extra_c[i]` and `extra_a[i]`
/// define stage `s + i` exactly like ordinary stages, with `extra_a[i]` covering all earlier
/// stages (including the FSAL stage and previous extra stages). They are only evaluated when an
/// output time falls inside the step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interpolant {
    /// Order of accuracy of the interpolated values.
    pub order: u32,
    /// Polynomial coefficients per stage (ordinary stages first, then the extra stages).
    pub weights: &'static [&'static [f64]],
    /// Nodes of the extra stages.
    pub extra_c: &'static [f64],
    /// Rows of the extra stages.
    pub extra_a: &'static [&'static [f64]],
}

/// An explicit Runge–Kutta method.
///
/// Stage `i` is `k_i = f(t + c_i h, y + h Σ_{j<i} a[i][j] k_j)` and the step is
/// `y1 = y + h Σ_i b_i k_i`. Rows of `a` are stored without their zero upper part: `a[i]` has
/// `i` entries (`a[0]` is empty).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ButcherTableau {
    /// Short name, e.g. `"dopri5"`.
    pub name: &'static str,
    /// Order of the propagated solution.
    pub order: u32,
    /// Order of the embedded solution used for error control (`None` if there is none).
    pub embedded_order: Option<u32>,
    /// Nodes.
    pub c: &'static [f64],
    /// Strictly lower-triangular coefficients, row `i` of length `i`.
    pub a: &'static [&'static [f64]],
    /// Weights of the propagated solution.
    pub b: &'static [f64],
    /// The error estimate.
    pub error: ErrorEstimate,
    /// The method's own continuous extension; without one, dense output uses cubic Hermite
    /// interpolation between the step's end points (3rd order).
    pub interpolant: Option<Interpolant>,
}

/// A property a tableau violates.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableauError {
    /// Arrays of inconsistent length.
    #[error("{method}: {what}")]
    Shape {
        /// The method.
        method: &'static str,
        /// What is inconsistent.
        what: String,
    },
    /// A row sum of `a` differs from its node.
    #[error("{method}: row {row} of a sums to {sum}, but c[{row}] = {c}")]
    RowSum {
        /// The method.
        method: &'static str,
        /// The row.
        row: usize,
        /// The row's sum.
        sum: f64,
        /// The node.
        c: f64,
    },
    /// A weight vector does not sum to what it must.
    #[error("{method}: {what} sum to {sum}, expected {expected}")]
    WeightSum {
        /// The method.
        method: &'static str,
        /// Which weights.
        what: &'static str,
        /// Their sum.
        sum: f64,
        /// The required sum.
        expected: f64,
    },
    /// An order condition fails.
    #[error(
        "{method}: order condition for tree {tree} fails: Σ b Φ = {value}, expected {expected}"
    )]
    OrderCondition {
        /// The method.
        method: &'static str,
        /// The rooted tree, in bracket notation.
        tree: String,
        /// The computed value.
        value: f64,
        /// 1 / γ(tree).
        expected: f64,
    },
}

impl ButcherTableau {
    /// Number of stages of a step (without interpolation stages).
    pub fn stages(&self) -> usize {
        self.c.len()
    }

    /// First-same-as-last: the last stage is evaluated at `(t + h, y1)`, so it is the first stage
    /// of the next step.
    pub fn is_fsal(&self) -> bool {
        let s = self.stages();
        s > 1
            && self.c[s - 1] == 1.0
            && self.b[s - 1] == 0.0
            && self.a[s - 1].len() == s - 1
            && self.a[s - 1]
                .iter()
                .zip(self.b)
                .all(|(a, b)| (a - b).abs() <= 1e-15 * (1.0 + b.abs()))
    }

    /// The order that governs step-size control: that of the lower of the two solutions.
    pub fn error_order(&self) -> Option<u32> {
        self.embedded_order.map(|e| e.min(self.order))
    }

    /// Entry `a[i][j]` of the full matrix (zero on and above the diagonal).
    pub fn a_ij(&self, i: usize, j: usize) -> f64 {
        self.a[i].get(j).copied().unwrap_or(0.0)
    }

    /// Checks consistency: shapes, row sums `Σ_j a_ij = c_i`, weights summing to one, error weights
    /// summing to zero, and the order conditions (rooted trees) of the stated orders, all to
    /// `tol`.
    pub fn check(&self, tol: f64) -> Result<(), TableauError> {
        let s = self.stages();
        let shape = |what: String| TableauError::Shape {
            method: self.name,
            what,
        };
        if self.a.len() != s || self.b.len() != s {
            return Err(shape(format!(
                "{} nodes, {} rows of a, {} weights",
                s,
                self.a.len(),
                self.b.len()
            )));
        }
        for (i, row) in self.a.iter().enumerate() {
            if row.len() != i {
                return Err(shape(format!("row {i} of a has {} entries", row.len())));
            }
            let sum: f64 = row.iter().sum();
            if (sum - self.c[i]).abs() > tol {
                return Err(TableauError::RowSum {
                    method: self.name,
                    row: i,
                    sum,
                    c: self.c[i],
                });
            }
        }
        let sum_to = |what: &'static str, w: &[f64], expected: f64| {
            let sum: f64 = w.iter().sum();
            if w.len() != s {
                Err(shape(format!(
                    "{what} has {} entries, expected {s}",
                    w.len()
                )))
            } else if (sum - expected).abs() > tol {
                Err(TableauError::WeightSum {
                    method: self.name,
                    what,
                    sum,
                    expected,
                })
            } else {
                Ok(())
            }
        };
        sum_to("weights b", self.b, 1.0)?;
        match self.error {
            ErrorEstimate::None => {}
            ErrorEstimate::Embedded(e) => sum_to("error weights", e, 0.0)?,
            ErrorEstimate::Blended { e5, e3 } => {
                sum_to("5th-order error weights", e5, 0.0)?;
                sum_to("3rd-order error weights", e3, 0.0)?;
            }
        }
        self.check_order_conditions(self.b, self.order, tol)?;
        if let (Some(p), ErrorEstimate::Embedded(e)) = (self.embedded_order, self.error) {
            let b_hat: Vec<f64> = self.b.iter().zip(e).map(|(b, e)| b - e).collect();
            self.check_order_conditions(&b_hat, p, tol)?;
        }
        Ok(())
    }

    /// Checks `Σ_i w_i Φ_i(τ) = 1/γ(τ)` for every rooted tree τ with at most `order` nodes.
    pub fn check_order_conditions(
        &self,
        weights: &[f64],
        order: u32,
        tol: f64,
    ) -> Result<(), TableauError> {
        for tree in crate::trees::rooted_trees(order as usize) {
            let phi = tree.elementary_weights(self);
            let value: f64 = weights.iter().zip(&phi).map(|(w, p)| w * p).sum();
            let expected = 1.0 / tree.density() as f64;
            if (value - expected).abs() > tol {
                return Err(TableauError::OrderCondition {
                    method: self.name,
                    tree: tree.to_string(),
                    value,
                    expected,
                });
            }
        }
        Ok(())
    }
}
