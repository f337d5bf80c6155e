//! Diagonally implicit Runge–Kutta methods as data.
//!
//! Stage `i` solves `Y_i = y + h Σ_{j<i} a_ij k_j + h γ k_i` with `k_i = f(t + c_i h, Y_i)`: one
//! nonlinear system of the size of the state per stage, all with the same matrix `I - h γ J` when
//! the diagonal is constant (singly diagonally implicit), so one LU factorisation serves every
//! stage. An explicit first stage (`a_00 = 0`, "ESDIRK") reuses `f(t, y)`; a stiffly accurate
//! method (`b` equal to the last row of `a`) ends on its last stage, so `y1` is the solution of a
//! nonlinear system and stiff components are damped (L-stability).

use thiserror::Error;

/// A diagonally implicit Runge–Kutta method with an optional embedded error estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DirkTableau {
    /// Short name, e.g. `"trbdf2"`.
    pub name: &'static str,
    /// Order of the propagated solution.
    pub order: u32,
    /// Order of the embedded solution (`None` without an error estimate).
    pub embedded_order: Option<u32>,
    /// Nodes.
    pub c: &'static [f64],
    /// Lower-triangular coefficients including the diagonal: row `i` has `i + 1` entries.
    pub a: &'static [&'static [f64]],
    /// Weights of the propagated solution.
    pub b: &'static [f64],
    /// Error weights `b - b̂` (they sum to zero): the error estimate is `h Σ_i e_i k_i`.
    pub error: Option<&'static [f64]>,
}

/// A property a DIRK tableau violates.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DirkTableauError {
    /// Arrays of inconsistent length, or a varying diagonal.
    #[error("{method}: {what}")]
    Structure {
        /// The method.
        method: &'static str,
        /// What is wrong.
        what: String,
    },
    /// An order condition (or row sum) fails.
    #[error("{method}: {condition} = {value}, expected {expected}")]
    Condition {
        /// The method.
        method: &'static str,
        /// The condition, e.g. `"Σ b c² (order 3)"`.
        condition: String,
        /// The computed value.
        value: f64,
        /// The required value.
        expected: f64,
    },
}

impl DirkTableau {
    /// Number of stages.
    pub fn stages(&self) -> usize {
        self.c.len()
    }

    /// Entry `a_ij` of the full matrix (zero above the diagonal).
    pub fn a_ij(&self, i: usize, j: usize) -> f64 {
        self.a[i].get(j).copied().unwrap_or(0.0)
    }

    /// Whether the first stage is explicit (`a_00 = 0`): it is `f(t, y)`, known from the last step.
    pub fn explicit_first_stage(&self) -> bool {
        self.a[0][0] == 0.0
    }

    /// The diagonal entry `γ` shared by the implicit stages.
    pub fn gamma(&self) -> f64 {
        self.a[self.stages() - 1][self.stages() - 1]
    }

    /// Stiffly accurate: `b` is the last row of `a`, so `y1` is the last stage.
    pub fn stiffly_accurate(&self) -> bool {
        let s = self.stages();
        self.a[s - 1] == self.b && self.c[s - 1] == 1.0
    }

    /// The order that governs step-size control: that of the lower of the two solutions.
    pub fn error_order(&self) -> Option<u32> {
        self.error
            .and(self.embedded_order)
            .map(|e| e.min(self.order))
    }

    /// The stability function `R(z) = 1 + z bᵀ (I - z A)⁻¹ 1` at a complex `z = (re, im)`: a step
    /// of `y' = λ y` multiplies `y` by `R(hλ)`. A-stable: `|R| ≤ 1` on the left half plane;
    /// L-stable: also `R(z) → 0` as `z → -∞`.
    pub fn stability_function(&self, z: (f64, f64)) -> (f64, f64) {
        let mul = |a: (f64, f64), b: (f64, f64)| (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0);
        let div = |a: (f64, f64), b: (f64, f64)| {
            let d = b.0 * b.0 + b.1 * b.1;
            ((a.0 * b.0 + a.1 * b.1) / d, (a.1 * b.0 - a.0 * b.1) / d)
        };
        let s = self.stages();
        // Forward substitution: (1 - z a_ii) u_i = 1 + z Σ_{j<i} a_ij u_j.
        let mut u: Vec<(f64, f64)> = Vec::with_capacity(s);
        for i in 0..s {
            let mut acc = (0.0, 0.0);
            for (j, uj) in u.iter().enumerate() {
                let a = self.a_ij(i, j);
                acc = (acc.0 + a * uj.0, acc.1 + a * uj.1);
            }
            let rhs = mul(z, acc);
            let diag = (1.0 - z.0 * self.a_ij(i, i), -z.1 * self.a_ij(i, i));
            u.push(div((1.0 + rhs.0, rhs.1), diag));
        }
        let sum = u.iter().zip(self.b).fold((0.0, 0.0), |acc, (ui, b)| {
            (acc.0 + b * ui.0, acc.1 + b * ui.1)
        });
        let zr = mul(z, sum);
        (1.0 + zr.0, zr.1)
    }

    /// Checks the structure (shapes, lower-triangular rows, one diagonal value for every implicit
    /// stage, row sums equal to `c`, error weights summing to zero) and the order conditions of
    /// the propagated and embedded solutions, to `tol`. Order conditions are written out up to
    /// order 4, which covers every method in [`crate::implicit`].
    pub fn check(&self, tol: f64) -> Result<(), DirkTableauError> {
        let s = self.stages();
        let structure = |what: String| DirkTableauError::Structure {
            method: self.name,
            what,
        };
        if s == 0 || self.a.len() != s || self.b.len() != s {
            return Err(structure(format!(
                "{} nodes, {} rows of a, {} weights",
                s,
                self.a.len(),
                self.b.len()
            )));
        }
        for (i, row) in self.a.iter().enumerate() {
            if row.len() != i + 1 {
                return Err(structure(format!(
                    "row {i} of a has {} entries, expected {} (lower triangle with diagonal)",
                    row.len(),
                    i + 1
                )));
            }
        }
        let gamma = self.gamma();
        let first = usize::from(self.explicit_first_stage());
        if let Some(i) = (first..s).find(|&i| self.a[i][i] != gamma) {
            return Err(structure(format!(
                "diagonal entry a[{i}][{i}] = {} differs from γ = {gamma}: only singly \
                 diagonally implicit methods share one factorisation across stages",
                self.a[i][i]
            )));
        }
        if gamma <= 0.0 {
            return Err(structure(format!("γ = {gamma} must be positive")));
        }
        let cond = |condition: String, value: f64, expected: f64| {
            if (value - expected).abs() > tol {
                Err(DirkTableauError::Condition {
                    method: self.name,
                    condition,
                    value,
                    expected,
                })
            } else {
                Ok(())
            }
        };
        for i in 0..s {
            cond(
                format!("row sum {i} of a"),
                self.a[i].iter().sum(),
                self.c[i],
            )?;
        }
        self.check_order(self.b, self.order, "b", tol)?;
        if let Some(e) = self.error {
            if e.len() != s {
                return Err(structure(format!(
                    "{} error weights for {s} stages",
                    e.len()
                )));
            }
            cond("Σ e".into(), e.iter().sum(), 0.0)?;
            if let Some(p) = self.embedded_order {
                let b_hat: Vec<f64> = self.b.iter().zip(e).map(|(b, e)| b - e).collect();
                self.check_order(&b_hat, p, "b̂", tol)?;
            }
        }
        Ok(())
    }

    /// The order conditions of the weights `w` up to `order` (at most 4).
    fn check_order(
        &self,
        w: &[f64],
        order: u32,
        which: &str,
        tol: f64,
    ) -> Result<(), DirkTableauError> {
        if order > 4 {
            return Err(DirkTableauError::Structure {
                method: self.name,
                what: format!("order {order} claimed, but conditions are only written to order 4"),
            });
        }
        let s = self.stages();
        let c = self.c;
        let a_times = |v: &[f64]| -> Vec<f64> {
            (0..s)
                .map(|i| (0..=i).map(|j| self.a_ij(i, j) * v[j]).sum())
                .collect()
        };
        let dot = |x: &[f64]| -> f64 { w.iter().zip(x).map(|(a, b)| a * b).sum() };
        let c2: Vec<f64> = c.iter().map(|v| v * v).collect();
        let c3: Vec<f64> = c.iter().map(|v| v * v * v).collect();
        let ac = a_times(c);
        let ac2 = a_times(&c2);
        let aac = a_times(&ac);
        let c_ac: Vec<f64> = c.iter().zip(&ac).map(|(x, y)| x * y).collect();
        let ones = vec![1.0; s];
        let conditions: [(u32, &str, f64, f64); 8] = [
            (1, "Σ w", dot(&ones), 1.0),
            (2, "Σ w c", dot(c), 1.0 / 2.0),
            (3, "Σ w c²", dot(&c2), 1.0 / 3.0),
            (3, "Σ w A c", dot(&ac), 1.0 / 6.0),
            (4, "Σ w c³", dot(&c3), 1.0 / 4.0),
            (4, "Σ w c (A c)", dot(&c_ac), 1.0 / 8.0),
            (4, "Σ w A c²", dot(&ac2), 1.0 / 12.0),
            (4, "Σ w A A c", dot(&aac), 1.0 / 24.0),
        ];
        for (p, name, value, expected) in conditions {
            if p <= order && (value - expected).abs() > tol {
                return Err(DirkTableauError::Condition {
                    method: self.name,
                    condition: format!("{} (order {p}, w = {which})", name),
                    value,
                    expected,
                });
            }
        }
        Ok(())
    }
}
