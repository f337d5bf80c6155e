//! Sparse Jacobians for implicit methods (feature `sparse`, with [faer]'s sparse LU).
//!
//! A discretised PDE has thousands of unknowns but each equation couples only a few of them: its
//! Jacobian `∂f/∂y` is sparse. The dense Newton matrices of [`crate::implicit`] would cost `n²`
//! memory and `n³` work there; with a [`SparsityPattern`] the Newton matrix `I − hγJ` is stored
//! in compressed sparse columns and factorised by faer's sparse LU: the symbolic analysis
//! (fill-reducing ordering, elimination structure) once per solve, a numeric refactorisation
//! only when `J` or `hγ` changes.
//!
//! The problem says what it knows, as SciML's `jac_prototype` and diffrax's separation of
//! problem and solver have it; the method and [`crate::solve()`] are unchanged:
//!
//! - [`WithSparsity`]: the field and only its pattern. The values are computed by finite
//!   differences with column colouring: columns that share no row are perturbed together, so a
//!   Jacobian costs one evaluation per colour (a handful for a stencil), not one per unknown.
//! - [`WithSparseJacobian`]: the field, its pattern and a closure writing the values through a
//!   [`JacobianValues`] view.
//!
//! ```
//! use sysdyn_solvers::implicit::TRBDF2;
//! use sysdyn_solvers::sparse::{SparsityPattern, WithSparsity};
//! use sysdyn_solvers::{SolveConfig, solve};
//!
//! // Heat equation u' = (u[i-1] - 2u[i] + u[i+1]) / dx² on 50 cells with zero ends: a
//! // tridiagonal Jacobian.
//! let n = 50;
//! let dx2 = (1.0 / (n + 1) as f64).powi(2);
//! let field = move |_t: f64, u: &Vec<f64>| -> Vec<f64> {
//!     (0..n)
//!         .map(|i| {
//!             let left = if i > 0 { u[i - 1] } else { 0.0 };
//!             let right = if i + 1 < n { u[i + 1] } else { 0.0 };
//!             (left - 2.0 * u[i] + right) / dx2
//!         })
//!         .collect()
//! };
//! let pattern = SparsityPattern::from_entries(
//!     n,
//!     (0..n).flat_map(|i| [i.saturating_sub(1), i, (i + 1).min(n - 1)].map(|j| (i, j))),
//! )?;
//! assert_eq!(pattern.colours(), 3);
//! let mut problem = WithSparsity::new(field, pattern);
//! let u0: Vec<f64> = (0..n).map(|i| (std::f64::consts::PI * (i + 1) as f64 / (n + 1) as f64).sin()).collect();
//! let sol = solve(&mut problem, &TRBDF2, (0.0, 0.1), u0, &SolveConfig::adaptive(1e-6, 1e-9))?;
//! // The first sine mode decays like exp(-π² t) (up to the discretisation error).
//! let decay = sol.last()[n / 2] / (std::f64::consts::PI * 0.5 * (n + 1) as f64 / (n + 1) as f64).sin();
//! assert!((decay - (-std::f64::consts::PI.powi(2) * 0.1).exp()).abs() < 1e-3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;

use faer::prelude::Solve;
use faer::sparse::linalg::solvers::{Lu, SymbolicLu};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMat};
use sysdyn_core::State;
use thiserror::Error;

use crate::term::VectorField;

/// Why a sparse Jacobian or a sparse factorisation was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SparseJacobianError {
    /// The pattern is for a system of another size than the state.
    #[error(
        "the sparsity pattern is {pattern}×{pattern} but the state has {state} components; give a \
         pattern with one row and one column per component of the state (row-major order)"
    )]
    PatternShape {
        /// The size of the pattern.
        pattern: usize,
        /// The number of components of the state.
        state: usize,
    },
    /// An entry of the pattern lies outside the `n × n` matrix.
    #[error(
        "sparsity pattern entry ({row}, {col}) is outside the {n}×{n} matrix; rows and columns \
         are component indices 0..{n}"
    )]
    EntryOutOfRange {
        /// Its row.
        row: usize,
        /// Its column.
        col: usize,
        /// The size of the matrix.
        n: usize,
    },
    /// A Jacobian closure wrote an entry that the pattern does not have.
    #[error(
        "the Jacobian closure wrote entry ({row}, {col}), which is not in the sparsity pattern; \
         add it to the pattern"
    )]
    OutsidePattern {
        /// Its row.
        row: usize,
        /// Its column.
        col: usize,
    },
    /// A vector or a value array has the wrong length.
    #[error("{context}: expected length {expected}, got {got}")]
    Length {
        /// What was given.
        context: &'static str,
        /// The required length.
        expected: usize,
        /// The given length.
        got: usize,
    },
    /// The matrix is singular (structurally, or numerically to working precision).
    #[error(
        "the {n}×{n} sparse matrix is singular to working precision{}",
        if let Some(c) = condition { format!(" (condition number at least {c:e})") } else { String::new() }
    )]
    Singular {
        /// The size of the matrix.
        n: usize,
        /// A lower bound of the ∞-norm condition number, when the factorisation went through.
        condition: Option<f64>,
    },
    /// faer could not allocate or analyse the matrix.
    #[error("sparse factorisation failed: {0}")]
    Factorisation(String),
}

/// Which entries of an `n × n` matrix may be non-zero, in compressed sparse columns (sorted, no
/// duplicates). Entry `(i, j)` is `∂f_i/∂y_j`, indices row-major over the state's components.
///
/// A pattern is cheap to clone (shared). It carries a column colouring for finite differences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SparsityPattern {
    inner: Arc<PatternData>,
}

#[derive(Debug, PartialEq, Eq)]
struct PatternData {
    n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    /// Colour of each column: columns of one colour share no row.
    colour: Vec<usize>,
    colours: usize,
}

impl SparsityPattern {
    /// The pattern of the `(row, col)` entries of an `n × n` matrix (any order; duplicates are
    /// merged). An entry outside the matrix is [`SparseJacobianError::EntryOutOfRange`].
    pub fn from_entries(
        n: usize,
        entries: impl IntoIterator<Item = (usize, usize)>,
    ) -> Result<Self, SparseJacobianError> {
        let mut columns: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (row, col) in entries {
            if row >= n || col >= n {
                return Err(SparseJacobianError::EntryOutOfRange { row, col, n });
            }
            columns[col].push(row);
        }
        let mut col_ptr = Vec::with_capacity(n + 1);
        let mut row_idx = Vec::new();
        col_ptr.push(0);
        for mut rows in columns {
            rows.sort_unstable();
            rows.dedup();
            row_idx.extend(rows);
            col_ptr.push(row_idx.len());
        }
        Ok(Self::from_csc_sorted(n, col_ptr, row_idx))
    }

    /// A dense `n × n` pattern (every entry), for comparisons with the dense solvers.
    pub fn dense(n: usize) -> Self {
        let col_ptr = (0..=n).map(|j| j * n).collect();
        let row_idx = (0..n).flat_map(|_| 0..n).collect();
        Self::from_csc_sorted(n, col_ptr, row_idx)
    }

    fn from_csc_sorted(n: usize, col_ptr: Vec<usize>, row_idx: Vec<usize>) -> Self {
        let (colour, colours) = colour_columns(n, &col_ptr, &row_idx);
        SparsityPattern {
            inner: Arc::new(PatternData {
                n,
                col_ptr,
                row_idx,
                colour,
                colours,
            }),
        }
    }

    /// The size `n` of the (square) matrix.
    pub fn n(&self) -> usize {
        self.inner.n
    }

    /// Number of entries.
    pub fn nnz(&self) -> usize {
        self.inner.row_idx.len()
    }

    /// Column pointers: the entries of column `j` are `col_ptr[j]..col_ptr[j + 1]`.
    pub fn col_ptr(&self) -> &[usize] {
        &self.inner.col_ptr
    }

    /// Row of each entry, column by column, increasing within a column.
    pub fn row_idx(&self) -> &[usize] {
        &self.inner.row_idx
    }

    /// Position of entry `(row, col)` in the value array, if the pattern has it.
    pub fn position(&self, row: usize, col: usize) -> Option<usize> {
        if col >= self.n() {
            return None;
        }
        let (start, end) = (self.inner.col_ptr[col], self.inner.col_ptr[col + 1]);
        self.inner.row_idx[start..end]
            .binary_search(&row)
            .ok()
            .map(|k| start + k)
    }

    /// Number of colours of the column colouring: the vector-field evaluations a
    /// finite-difference Jacobian costs.
    pub fn colours(&self) -> usize {
        self.inner.colours
    }

    /// Colour of each column (columns of one colour share no row).
    pub fn column_colours(&self) -> &[usize] {
        &self.inner.colour
    }

    /// The pattern with every diagonal entry added (that of `I − hγJ`), and for each entry of
    /// `self` its position in it, and the position of each diagonal entry.
    fn with_diagonal(&self) -> (SparsityPattern, Vec<usize>, Vec<usize>) {
        let n = self.n();
        let mut col_ptr = Vec::with_capacity(n + 1);
        let mut row_idx = Vec::with_capacity(self.nnz() + n);
        let mut map = Vec::with_capacity(self.nnz());
        let mut diag = Vec::with_capacity(n);
        col_ptr.push(0);
        for j in 0..n {
            let rows = &self.inner.row_idx[self.inner.col_ptr[j]..self.inner.col_ptr[j + 1]];
            let start = row_idx.len();
            let mut merged = rows.to_vec();
            if let Err(k) = merged.binary_search(&j) {
                merged.insert(k, j);
            }
            // (Every search below finds its row: `merged` holds `rows` and `j`.)
            let at = |i: usize| start + merged.binary_search(&i).unwrap_or_else(|k| k);
            map.extend(rows.iter().map(|&i| at(i)));
            diag.push(at(j));
            row_idx.extend_from_slice(&merged);
            col_ptr.push(row_idx.len());
        }
        (Self::from_csc_sorted(n, col_ptr, row_idx), map, diag)
    }
}

/// Greedy distance-2 colouring of the columns: two columns that have an entry in the same row get
/// different colours (Curtis, Powell & Reid).
fn colour_columns(n: usize, col_ptr: &[usize], row_idx: &[usize]) -> (Vec<usize>, usize) {
    // Columns of each row.
    let mut row_ptr = vec![0usize; n + 1];
    for &i in row_idx {
        row_ptr[i + 1] += 1;
    }
    for i in 0..n {
        row_ptr[i + 1] += row_ptr[i];
    }
    let mut fill = row_ptr.clone();
    let mut col_of = vec![0usize; row_idx.len()];
    for j in 0..n {
        for &i in &row_idx[col_ptr[j]..col_ptr[j + 1]] {
            col_of[fill[i]] = j;
            fill[i] += 1;
        }
    }
    let mut colour = vec![usize::MAX; n];
    let mut forbidden_by = vec![usize::MAX; n + 1];
    let mut colours = 0;
    for j in 0..n {
        for &i in &row_idx[col_ptr[j]..col_ptr[j + 1]] {
            for &k in &col_of[row_ptr[i]..row_ptr[i + 1]] {
                if colour[k] != usize::MAX {
                    forbidden_by[colour[k]] = j;
                }
            }
        }
        let c = (0..).find(|&c| forbidden_by[c] != j).unwrap_or(0);
        colour[j] = c;
        colours = colours.max(c + 1);
    }
    // A column with no entries still gets colour 0; colours stay ≤ n.
    (colour, colours)
}

/// The values of a sparse Jacobian being written, in the order of its [`SparsityPattern`].
///
/// [`set`](Self::set) writes by `(row, col)`; [`values_mut`](Self::values_mut) gives the raw
/// array (compressed sparse columns) for speed. Writing an entry outside the pattern is not
/// lost silently: the solve ends with [`SparseJacobianError::OutsidePattern`].
#[derive(Debug)]
pub struct JacobianValues<'a> {
    pattern: &'a SparsityPattern,
    values: &'a mut [f64],
    outside: Option<(usize, usize)>,
}

impl<'a> JacobianValues<'a> {
    /// A view of `values` (zeroed by the caller) laid out as `pattern`.
    pub fn new(
        pattern: &'a SparsityPattern,
        values: &'a mut [f64],
    ) -> Result<Self, SparseJacobianError> {
        if values.len() != pattern.nnz() {
            return Err(SparseJacobianError::Length {
                context: "Jacobian values",
                expected: pattern.nnz(),
                got: values.len(),
            });
        }
        Ok(JacobianValues {
            pattern,
            values,
            outside: None,
        })
    }

    /// The pattern.
    pub fn pattern(&self) -> &SparsityPattern {
        self.pattern
    }

    /// Sets entry `(row, col)` (`∂f_row/∂y_col`).
    pub fn set(&mut self, row: usize, col: usize, value: f64) {
        match self.pattern.position(row, col) {
            Some(k) => self.values[k] = value,
            None => {
                self.outside.get_or_insert((row, col));
            }
        }
    }

    /// Adds `value` to entry `(row, col)`.
    pub fn add(&mut self, row: usize, col: usize, value: f64) {
        match self.pattern.position(row, col) {
            Some(k) => self.values[k] += value,
            None => {
                self.outside.get_or_insert((row, col));
            }
        }
    }

    /// The values, column by column in the pattern's order.
    pub fn values_mut(&mut self) -> &mut [f64] {
        self.values
    }

    /// The first entry written outside the pattern, if any.
    pub fn outside_pattern(&self) -> Option<(usize, usize)> {
        self.outside
    }
}

/// A vector field with the sparsity pattern of its Jacobian: implicit methods fill the values by
/// finite differences with column colouring and factorise sparsely.
#[derive(Debug, Clone)]
pub struct WithSparsity<F> {
    /// `f(t, y)`.
    pub field: F,
    /// Where `∂f/∂y` may be non-zero.
    pub pattern: SparsityPattern,
}

impl<F> WithSparsity<F> {
    /// Pairs a field with its Jacobian's pattern.
    pub fn new(field: F, pattern: SparsityPattern) -> Self {
        WithSparsity { field, pattern }
    }
}

impl<S: State, F: FnMut(f64, &S) -> S> VectorField<S> for WithSparsity<F> {
    #[inline]
    fn eval(&mut self, t: f64, y: &S) -> S {
        (self.field)(t, y)
    }

    fn sparsity(&self) -> Option<&SparsityPattern> {
        Some(&self.pattern)
    }
}

/// A vector field with its analytic sparse Jacobian.
///
/// ```
/// use sysdyn_solvers::sparse::{SparsityPattern, WithSparseJacobian};
///
/// // y0' = -y0, y1' = y0 - 2 y1.
/// let pattern = SparsityPattern::from_entries(2, [(0, 0), (1, 0), (1, 1)])?;
/// let field = WithSparseJacobian::new(
///     |_t: f64, y: &[f64; 2]| [-y[0], y[0] - 2.0 * y[1]],
///     pattern,
///     |_t: f64, _y: &[f64; 2], jac: &mut sysdyn_solvers::sparse::JacobianValues| {
///         jac.set(0, 0, -1.0);
///         jac.set(1, 0, 1.0);
///         jac.set(1, 1, -2.0);
///     },
/// );
/// # let _ = field;
/// # Ok::<(), sysdyn_solvers::sparse::SparseJacobianError>(())
/// ```
#[derive(Debug, Clone)]
pub struct WithSparseJacobian<F, J> {
    /// `f(t, y)`.
    pub field: F,
    /// Where `∂f/∂y` may be non-zero.
    pub pattern: SparsityPattern,
    /// Writes `∂f/∂y (t, y)` into the (zeroed) values.
    pub jacobian: J,
}

impl<F, J> WithSparseJacobian<F, J> {
    /// Pairs a field with its pattern and Jacobian.
    pub fn new(field: F, pattern: SparsityPattern, jacobian: J) -> Self {
        WithSparseJacobian {
            field,
            pattern,
            jacobian,
        }
    }
}

impl<S, F, J> VectorField<S> for WithSparseJacobian<F, J>
where
    S: State,
    F: FnMut(f64, &S) -> S,
    J: FnMut(f64, &S, &mut JacobianValues<'_>),
{
    #[inline]
    fn eval(&mut self, t: f64, y: &S) -> S {
        (self.field)(t, y)
    }

    fn sparsity(&self) -> Option<&SparsityPattern> {
        Some(&self.pattern)
    }

    fn sparse_jacobian(&mut self, t: f64, y: &S, jac: &mut JacobianValues<'_>) -> bool {
        (self.jacobian)(t, y, jac);
        true
    }
}

/// Checks a field's pattern (if it has one) against the state's size.
pub(crate) fn check_pattern<S: State, F: VectorField<S>>(
    f: &F,
    y0: &S,
) -> Result<(), SparseJacobianError> {
    match f.sparsity() {
        Some(p) if p.n() != y0.num_components() => Err(SparseJacobianError::PatternShape {
            pattern: p.n(),
            state: y0.num_components(),
        }),
        _ => Ok(()),
    }
}

/// A square sparse matrix of a fixed pattern, factorised by faer's sparse LU: the symbolic
/// analysis is done once ([`SparseLu::new`]), each [`factor`](Self::factor) is a numeric
/// refactorisation of new values.
#[derive(Debug, Clone)]
pub struct SparseLu {
    pattern: SparsityPattern,
    symbolic_matrix: SymbolicSparseColMat<usize>,
    symbolic: SymbolicLu<usize>,
    numeric: Option<Lu<usize, f64>>,
}

impl SparseLu {
    /// The symbolic analysis of `pattern` (ordering and elimination structure).
    pub fn new(pattern: &SparsityPattern) -> Result<Self, SparseJacobianError> {
        let n = pattern.n();
        // The pattern is sorted and duplicate-free by construction, so faer's checks pass.
        let symbolic_matrix = SymbolicSparseColMat::new_checked(
            n,
            n,
            pattern.col_ptr().to_vec(),
            None,
            pattern.row_idx().to_vec(),
        );
        let symbolic = SymbolicLu::try_new(symbolic_matrix.as_ref())
            .map_err(|e| SparseJacobianError::Factorisation(format!("{e:?}")))?;
        Ok(SparseLu {
            pattern: pattern.clone(),
            symbolic_matrix,
            symbolic,
            numeric: None,
        })
    }

    /// The pattern.
    pub fn pattern(&self) -> &SparsityPattern {
        &self.pattern
    }

    /// Factorises the matrix with these values (laid out as the pattern). A singular matrix is
    /// [`SparseJacobianError::Singular`], and the previous factorisation is dropped.
    pub fn factor(&mut self, values: &[f64]) -> Result<(), SparseJacobianError> {
        let n = self.pattern.n();
        self.numeric = None;
        if values.len() != self.pattern.nnz() {
            return Err(SparseJacobianError::Length {
                context: "sparse matrix values",
                expected: self.pattern.nnz(),
                got: values.len(),
            });
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(SparseJacobianError::Singular { n, condition: None });
        }
        let matrix = SparseColMatRef::new(self.symbolic_matrix.as_ref(), values);
        let lu = match Lu::try_new_with_symbolic(self.symbolic.clone(), matrix) {
            Ok(lu) => lu,
            Err(faer::sparse::linalg::LuError::SymbolicSingular { .. }) => {
                return Err(SparseJacobianError::Singular { n, condition: None });
            }
            Err(e) => return Err(SparseJacobianError::Factorisation(format!("{e:?}"))),
        };
        // faer divides by a zero pivot without complaint: probe with x = A⁻¹ 1, whose size
        // bounds the condition number from below (‖A‖∞ ‖A⁻¹ 1‖∞ ≤ κ∞(A)).
        let mut probe = vec![1.0; n];
        lu.solve_in_place(faer::ColMut::from_slice_mut(&mut probe));
        let mut row_sums = vec![0.0f64; n];
        for (&i, v) in self.pattern.row_idx().iter().zip(values) {
            row_sums[i] += v.abs();
        }
        let norm = row_sums.iter().fold(0.0f64, |m, v| m.max(*v));
        let inverse = probe.iter().fold(0.0f64, |m, v| {
            if v.is_finite() {
                m.max(v.abs())
            } else {
                f64::INFINITY
            }
        });
        let condition = norm * inverse;
        if !condition.is_finite() || condition * n.max(1) as f64 * f64::EPSILON >= 1.0 {
            return Err(SparseJacobianError::Singular {
                n,
                condition: condition.is_finite().then_some(condition),
            });
        }
        self.numeric = Some(lu);
        Ok(())
    }

    /// Solves `A x = b` in place with the last factorisation.
    pub fn solve_in_place(&self, b: &mut [f64]) -> Result<(), SparseJacobianError> {
        let n = self.pattern.n();
        if b.len() != n {
            return Err(SparseJacobianError::Length {
                context: "right-hand side",
                expected: n,
                got: b.len(),
            });
        }
        let lu = self
            .numeric
            .as_ref()
            .ok_or(SparseJacobianError::Singular { n, condition: None })?;
        lu.solve_in_place(faer::ColMut::from_slice_mut(b));
        Ok(())
    }
}

/// The sparse Newton machinery of an implicit solve: `J`'s values, the pattern of `I − hγJ` and
/// its factorisation.
#[derive(Debug, Clone)]
pub(crate) struct SparseNewton {
    /// The pattern of `J`.
    pub jac_pattern: SparsityPattern,
    /// `J`'s values.
    pub jac: Vec<f64>,
    /// Position in the Newton matrix of each entry of `J`.
    map: Vec<usize>,
    /// Position in the Newton matrix of each diagonal entry.
    diag: Vec<usize>,
    /// Values of `I − hγJ`.
    matrix: Vec<f64>,
    /// Its factorisation.
    pub lu: SparseLu,
    /// Whether `jac` holds a Jacobian.
    pub evaluated: bool,
    /// The `hγ` of the current factorisation (`None`: not factorised).
    pub factored_hg: Option<f64>,
}

impl SparseNewton {
    /// The symbolic analysis for `pattern`.
    pub fn new(pattern: &SparsityPattern) -> Result<Self, SparseJacobianError> {
        let (newton_pattern, map, diag) = pattern.with_diagonal();
        let lu = SparseLu::new(&newton_pattern)?;
        Ok(SparseNewton {
            jac_pattern: pattern.clone(),
            jac: vec![0.0; pattern.nnz()],
            map,
            diag,
            matrix: vec![0.0; newton_pattern.nnz()],
            lu,
            evaluated: false,
            factored_hg: None,
        })
    }

    /// Factorises `I − hγJ` with the current `J`.
    pub fn factor(&mut self, hg: f64) -> Result<(), SparseJacobianError> {
        self.matrix.fill(0.0);
        for &d in &self.diag {
            self.matrix[d] = 1.0;
        }
        for (&m, &v) in self.map.iter().zip(&self.jac) {
            self.matrix[m] -= hg * v;
        }
        self.lu.factor(&self.matrix)
    }

    /// Finite-difference `J` at `(t, y)` with column colouring: one evaluation per colour.
    #[allow(clippy::too_many_arguments)]
    pub fn finite_difference<S: State, F: VectorField<S>>(
        &mut self,
        f: &mut F,
        t: f64,
        y: &S,
        y_host: &[f64],
        f0: &[f64],
        unit_roundoff: f64,
        nfe: &mut usize,
    ) {
        let n = y_host.len();
        let pattern = &self.jac_pattern;
        let colour = pattern.column_colours();
        let mut shifted = y_host.to_vec();
        let mut steps = vec![0.0; n];
        for c in 0..pattern.colours() {
            let mut any = false;
            for j in (0..n).filter(|&j| colour[j] == c) {
                let delta = (unit_roundoff * y_host[j].abs().max(1e-5)).sqrt();
                shifted[j] = y_host[j] + delta;
                steps[j] = delta;
                any = true;
            }
            if !any {
                continue;
            }
            let probe = y.with_components(&shifted);
            let stored = probe.to_f64_vec();
            *nfe += 1;
            let fc = f.eval(t, &probe).to_f64_vec();
            for j in (0..n).filter(|&j| colour[j] == c) {
                let s = stored[j] - y_host[j];
                let step = if s != 0.0 { s } else { steps[j] };
                for k in pattern.col_ptr()[j]..pattern.col_ptr()[j + 1] {
                    let i = pattern.row_idx()[k];
                    self.jac[k] = (fc[i] - f0[i]) / step;
                }
                shifted[j] = y_host[j];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newton_pattern_gains_the_diagonal_and_maps_entries() {
        // Column 0: rows 1, 2 (no diagonal); column 1: row 1; column 2: rows 0, 2.
        let p = SparsityPattern::from_entries(3, [(2, 0), (1, 0), (1, 1), (0, 2), (2, 2)])
            .expect("valid pattern");
        let (m, map, diag) = p.with_diagonal();
        assert_eq!(m.col_ptr(), &[0, 3, 4, 6]);
        assert_eq!(m.row_idx(), &[0, 1, 2, 1, 0, 2]);
        assert_eq!(map, vec![1, 2, 3, 4, 5]);
        assert_eq!(diag, vec![0, 3, 5]);
    }

    #[test]
    fn colouring_separates_columns_that_share_a_row() {
        let n = 10;
        let p = SparsityPattern::from_entries(
            n,
            (0..n).flat_map(|i| [(i, i), (i, (i + 1) % n), (i, (i + n - 1) % n)]),
        )
        .expect("valid pattern");
        let colour = p.column_colours();
        for i in 0..n {
            let cols = [i, (i + 1) % n, (i + n - 1) % n];
            for a in cols {
                for b in cols {
                    assert!(a == b || colour[a] != colour[b], "row {i}");
                }
            }
        }
        assert!(p.colours() <= 4, "{}", p.colours());
    }
}
