//! Candidate-function libraries Θ(x) for sparse regression (PySINDy's `feature_library`).
//!
//! A library maps one sample `x ∈ ℝⁿ` to a row of candidate functions
//! `Θ(x) = [θ₁(x), …, θ_p(x)]`; stacking the rows of `m` samples gives the `m × p` matrix that
//! SINDy regresses the derivatives on, `Ẋ ≈ Θ(X) Ξ`. Libraries are data ([`Library`]) and
//! compose:
//!
//! - [`Library::Polynomial`]: every monomial `x₁^{a₁} ⋯ xₙ^{aₙ}` with `1 ≤ Σ aᵢ ≤ p`, plus the
//!   constant `1` when `include_bias` (PySINDy's `PolynomialLibrary`, same order: by degree, then
//!   lexicographically as `combinations_with_replacement`);
//! - [`Library::Fourier`]: `sin(k xᵢ)` and `cos(k xᵢ)` for `k = 1..=K` (PySINDy's
//!   `FourierLibrary`, same order: frequency, then variable, sine before cosine);
//! - [`Library::Custom`]: named closures `f(x_{i₁}, …, x_{i_r})` applied to every combination of
//!   `r` distinct variables (PySINDy's `CustomLibrary`);
//! - [`Library::Concat`]: the columns of several libraries side by side (PySINDy's `lib1 + lib2`);
//! - [`Library::Tensor`]: every product `θᵢ(x) φⱼ(x)` of the features of two libraries (PySINDy's
//!   `lib1 * lib2`).
//!
//! ```
//! use sysdyn_physics::discovery::Library;
//!
//! let lib = Library::polynomial(2);
//! let names = lib.feature_names(&["x", "y"])?;
//! assert_eq!(names, ["1", "x", "y", "x^2", "x y", "y^2"]);
//! let row = lib.evaluate_row(&[2.0, 3.0])?;
//! assert_eq!(row, [1.0, 2.0, 3.0, 4.0, 6.0, 9.0]);
//! # Ok::<(), sysdyn_physics::PhysicsError>(())
//! ```

use std::fmt;
use std::sync::Arc;

use rayon::prelude::*;
use sysdyn_core::linalg::Matrix;

use crate::PhysicsError;

/// The function of a [`CustomFunction`]: its arguments' values to the feature's value.
pub type CustomFn = Arc<dyn Fn(&[f64]) -> f64 + Send + Sync>;
/// The name of a [`CustomFunction`]: its arguments' names to the feature's name.
pub type CustomName = Arc<dyn Fn(&[&str]) -> String + Send + Sync>;

/// A named function of `arity` variables, applied to every combination of `arity` distinct
/// inputs (in increasing index order).
#[derive(Clone)]
pub struct CustomFunction {
    arity: usize,
    function: CustomFn,
    name: CustomName,
}

impl CustomFunction {
    /// A function of `arity ≥ 1` variables and how to name it from its arguments' names.
    ///
    /// ```
    /// use sysdyn_physics::discovery::{CustomFunction, Library};
    ///
    /// let exp = CustomFunction::new(1, |x| x[0].exp(), |n| format!("exp({})", n[0]));
    /// let lib = Library::Custom(vec![exp]);
    /// assert_eq!(lib.feature_names(&["x", "y"])?, ["exp(x)", "exp(y)"]);
    /// # Ok::<(), sysdyn_physics::PhysicsError>(())
    /// ```
    pub fn new(
        arity: usize,
        function: impl Fn(&[f64]) -> f64 + Send + Sync + 'static,
        name: impl Fn(&[&str]) -> String + Send + Sync + 'static,
    ) -> Self {
        CustomFunction {
            arity,
            function: Arc::new(function),
            name: Arc::new(name),
        }
    }

    /// The number of arguments.
    pub fn arity(&self) -> usize {
        self.arity
    }
}

impl fmt::Debug for CustomFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: Vec<String> = (0..self.arity).map(|i| format!("x{i}")).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        write!(f, "CustomFunction({})", (self.name)(&args))
    }
}

/// A library of candidate functions (see the [module docs](self)).
#[derive(Debug, Clone)]
pub enum Library {
    /// Monomials of total degree `1..=degree`, and the constant when `include_bias`.
    Polynomial {
        /// The highest total degree.
        degree: usize,
        /// Whether the constant feature `1` comes first.
        include_bias: bool,
        /// Whether products of different variables (`x y`, `x² z`) are included; without,
        /// only the powers `xᵢᵈ` (PySINDy's `include_interaction`).
        include_interaction: bool,
    },
    /// `sin(k xᵢ)`, `cos(k xᵢ)` for `k = 1..=frequencies`.
    Fourier {
        /// The number of frequencies `K`.
        frequencies: usize,
        /// Whether the sines are included.
        include_sin: bool,
        /// Whether the cosines are included.
        include_cos: bool,
    },
    /// Named functions applied to every combination of their arity of distinct inputs.
    Custom(Vec<CustomFunction>),
    /// The features of each library in turn.
    Concat(Vec<Library>),
    /// The products `θᵢ φⱼ` of the features of two libraries (`i` slow, `j` fast).
    Tensor(Box<Library>, Box<Library>),
}

/// Every multiset of `degree` indices out of `0..n`, in lexicographic order
/// (`combinations_with_replacement`).
fn multisets(n: usize, degree: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut current = Vec::with_capacity(degree);
    fn rec(n: usize, left: usize, start: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if left == 0 {
            out.push(cur.clone());
            return;
        }
        for i in start..n {
            cur.push(i);
            rec(n, left - 1, i, cur, out);
            cur.pop();
        }
    }
    rec(n, degree, 0, &mut current, &mut out);
    out
}

/// Every set of `k` distinct indices out of `0..n`, in lexicographic order (`combinations`).
fn combinations(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut current = Vec::with_capacity(k);
    fn rec(n: usize, left: usize, start: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if left == 0 {
            out.push(cur.clone());
            return;
        }
        for i in start..n {
            cur.push(i);
            rec(n, left - 1, i + 1, cur, out);
            cur.pop();
        }
    }
    rec(n, k, 0, &mut current, &mut out);
    out
}

/// The name of a monomial given as a multiset of variable indices: `x^2 y`.
fn monomial_name(indices: &[usize], names: &[&str]) -> String {
    let mut parts = Vec::new();
    let mut k = 0;
    while k < indices.len() {
        let var = indices[k];
        let mut power = 0;
        while k < indices.len() && indices[k] == var {
            power += 1;
            k += 1;
        }
        parts.push(if power == 1 {
            names[var].to_string()
        } else {
            format!("{}^{power}", names[var])
        });
    }
    parts.join(" ")
}

impl Library {
    /// Monomials up to `degree` with the constant (PySINDy's `PolynomialLibrary(degree)`).
    pub fn polynomial(degree: usize) -> Self {
        Library::Polynomial {
            degree,
            include_bias: true,
            include_interaction: true,
        }
    }

    /// The monomials of degree `1..=degree` of the chosen kind, as multisets of variable indices.
    fn monomials(n: usize, degree: usize, interaction: bool) -> Vec<Vec<usize>> {
        (1..=degree)
            .flat_map(|d| {
                if interaction {
                    multisets(n, d)
                } else {
                    (0..n).map(|i| vec![i; d]).collect()
                }
            })
            .collect()
    }

    /// `sin(k x)` and `cos(k x)` for `k = 1..=frequencies` (PySINDy's `FourierLibrary`).
    pub fn fourier(frequencies: usize) -> Self {
        Library::Fourier {
            frequencies,
            include_sin: true,
            include_cos: true,
        }
    }

    /// The features of `self` followed by those of `other` (PySINDy's `+`).
    pub fn concat(self, other: Library) -> Self {
        match self {
            Library::Concat(mut parts) => {
                parts.push(other);
                Library::Concat(parts)
            }
            first => Library::Concat(vec![first, other]),
        }
    }

    /// Every product of a feature of `self` and one of `other` (PySINDy's `*`).
    pub fn tensor(self, other: Library) -> Self {
        Library::Tensor(Box::new(self), Box::new(other))
    }

    /// The number of features for `n_inputs` inputs (without checking that it is positive).
    pub fn n_features(&self, n_inputs: usize) -> usize {
        match self {
            Library::Polynomial {
                degree,
                include_bias,
                include_interaction,
            } => {
                usize::from(*include_bias)
                    + Self::monomials(n_inputs, *degree, *include_interaction).len()
            }
            Library::Fourier {
                frequencies,
                include_sin,
                include_cos,
            } => frequencies * n_inputs * (usize::from(*include_sin) + usize::from(*include_cos)),
            Library::Custom(functions) => functions
                .iter()
                .map(|f| {
                    if f.arity == 0 {
                        0
                    } else {
                        combinations(n_inputs, f.arity).len()
                    }
                })
                .sum(),
            Library::Concat(parts) => parts.iter().map(|p| p.n_features(n_inputs)).sum(),
            Library::Tensor(a, b) => a.n_features(n_inputs) * b.n_features(n_inputs),
        }
    }

    /// Checks that the library has at least one feature for `n_inputs ≥ 1` inputs.
    fn check(&self, n_inputs: usize) -> Result<usize, PhysicsError> {
        if n_inputs == 0 {
            return Err(PhysicsError::Empty {
                what: "library input",
                unit: "state variable (column)",
            });
        }
        let p = self.n_features(n_inputs);
        if p == 0 {
            return Err(PhysicsError::Empty {
                what: "candidate library",
                unit: "candidate function (a degree ≥ 1, a frequency, a custom function)",
            });
        }
        Ok(p)
    }

    /// The features' names given the inputs' names (`"x y"`, `"sin(2 x)"`).
    pub fn feature_names(&self, inputs: &[&str]) -> Result<Vec<String>, PhysicsError> {
        self.check(inputs.len())?;
        Ok(self.names_unchecked(inputs))
    }

    fn names_unchecked(&self, inputs: &[&str]) -> Vec<String> {
        let n = inputs.len();
        match self {
            Library::Polynomial {
                degree,
                include_bias,
                include_interaction,
            } => {
                let mut names = Vec::new();
                if *include_bias {
                    names.push("1".to_string());
                }
                names.extend(
                    Self::monomials(n, *degree, *include_interaction)
                        .iter()
                        .map(|m| monomial_name(m, inputs)),
                );
                names
            }
            Library::Fourier {
                frequencies,
                include_sin,
                include_cos,
            } => {
                let mut names = Vec::new();
                for k in 1..=*frequencies {
                    for name in inputs {
                        if *include_sin {
                            names.push(format!("sin({k} {name})"));
                        }
                        if *include_cos {
                            names.push(format!("cos({k} {name})"));
                        }
                    }
                }
                names
            }
            Library::Custom(functions) => {
                let mut names = Vec::new();
                for f in functions.iter().filter(|f| f.arity > 0) {
                    for combo in combinations(n, f.arity) {
                        let args: Vec<&str> = combo.iter().map(|&i| inputs[i]).collect();
                        names.push((f.name)(&args));
                    }
                }
                names
            }
            Library::Concat(parts) => parts
                .iter()
                .flat_map(|p| p.names_unchecked(inputs))
                .collect(),
            Library::Tensor(a, b) => {
                let (na, nb) = (a.names_unchecked(inputs), b.names_unchecked(inputs));
                let mut names = Vec::with_capacity(na.len() * nb.len());
                for x in &na {
                    for y in &nb {
                        names.push(match (x.as_str(), y.as_str()) {
                            ("1", other) | (other, "1") => other.to_string(),
                            _ => format!("{x} {y}"),
                        });
                    }
                }
                names
            }
        }
    }

    /// Appends the features of one sample to `out`.
    fn push_row(&self, x: &[f64], out: &mut Vec<f64>) {
        match self {
            Library::Polynomial {
                degree,
                include_bias,
                include_interaction,
            } => {
                if *include_bias {
                    out.push(1.0);
                }
                // The products in `multisets` order, built without allocating: the hot loop of
                // `transform` on large data.
                fn push_monomials(
                    x: &[f64],
                    left: usize,
                    start: usize,
                    prod: f64,
                    out: &mut Vec<f64>,
                ) {
                    if left == 0 {
                        out.push(prod);
                        return;
                    }
                    for i in start..x.len() {
                        push_monomials(x, left - 1, i, prod * x[i], out);
                    }
                }
                for d in 1..=*degree {
                    if *include_interaction {
                        push_monomials(x, d, 0, 1.0, out);
                    } else {
                        out.extend(x.iter().map(|v| v.powi(d as i32)));
                    }
                }
            }
            Library::Fourier {
                frequencies,
                include_sin,
                include_cos,
            } => {
                for k in 1..=*frequencies {
                    for &v in x {
                        let (s, c) = (k as f64 * v).sin_cos();
                        if *include_sin {
                            out.push(s);
                        }
                        if *include_cos {
                            out.push(c);
                        }
                    }
                }
            }
            Library::Custom(functions) => {
                let mut args = Vec::new();
                for f in functions.iter().filter(|f| f.arity > 0) {
                    for combo in combinations(x.len(), f.arity) {
                        args.clear();
                        args.extend(combo.iter().map(|&i| x[i]));
                        out.push((f.function)(&args));
                    }
                }
            }
            Library::Concat(parts) => {
                for p in parts {
                    p.push_row(x, out);
                }
            }
            Library::Tensor(a, b) => {
                let (mut ra, mut rb) = (Vec::new(), Vec::new());
                a.push_row(x, &mut ra);
                b.push_row(x, &mut rb);
                for u in &ra {
                    out.extend(rb.iter().map(|v| u * v));
                }
            }
        }
    }

    /// The features of one sample, `Θ(x)`.
    pub fn evaluate_row(&self, x: &[f64]) -> Result<Vec<f64>, PhysicsError> {
        let p = self.check(x.len())?;
        let mut out = Vec::with_capacity(p);
        self.push_row(x, &mut out);
        Ok(out)
    }

    /// The library matrix `Θ(X)` of the samples in the rows of `x` (`m × n` → `m × p`),
    /// computed in parallel over rows.
    pub fn transform(&self, x: &Matrix) -> Result<Matrix, PhysicsError> {
        let p = self.check(x.cols())?;
        if x.rows() == 0 {
            return Err(PhysicsError::Empty {
                what: "library input",
                unit: "sample (row)",
            });
        }
        if let Some((r, c)) = x.first_non_finite() {
            return Err(PhysicsError::NonFinite {
                what: "library input",
                index: r * x.cols() + c,
            });
        }
        let mut data = vec![0.0; x.rows() * p];
        data.par_chunks_mut(p)
            .zip(x.as_slice().par_chunks(x.cols()))
            .for_each_init(
                || Vec::with_capacity(p),
                |row, (dst, src)| {
                    row.clear();
                    self.push_row(src, row);
                    dst.copy_from_slice(row);
                },
            );
        Matrix::from_row_major(x.rows(), p, data).map_err(|e| PhysicsError::Linalg(e.to_string()))
    }
}
