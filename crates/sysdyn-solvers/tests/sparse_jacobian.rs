//! Sparse Jacobians (feature `sparse`): the 2D Brusselator with diffusion on a periodic grid,
//! solved by the implicit methods with a sparse Newton matrix (faer's sparse LU), against the
//! dense solvers on a small grid and against tight references on a 32×32×2 = 2048-unknown grid;
//! typed errors for a pattern of the wrong size, entries outside the pattern and singular
//! matrices.

#![cfg(feature = "sparse")]

use sysdyn_solvers::implicit::{Dirk, ESDIRK4, NewtonOptions, TRBDF2};
use sysdyn_solvers::jacobian::WithJacobian;
use sysdyn_solvers::linalg::Matrix;
use sysdyn_solvers::methods::DOPRI5;
use sysdyn_solvers::sparse::{
    JacobianValues, SparseJacobianError, SparseLu, SparsityPattern, WithSparseJacobian,
    WithSparsity,
};
use sysdyn_solvers::{SolveConfig, SolveError, solve};

/// `u' = A + u²v − (B+1)u + α Δu`, `v' = Bu − u²v + α Δv` on the periodic unit square, `N × N`
/// cells, the two species interleaved: component `2 (i N + j) + s`.
#[derive(Debug, Clone, Copy)]
struct Brusselator {
    n: usize,
    a: f64,
    b: f64,
    alpha: f64,
}

impl Brusselator {
    fn new(n: usize) -> Self {
        Brusselator {
            n,
            a: 1.0,
            b: 3.0,
            alpha: 0.02,
        }
    }

    fn len(&self) -> usize {
        2 * self.n * self.n
    }

    fn idx(&self, i: usize, j: usize, s: usize) -> usize {
        2 * (i * self.n + j) + s
    }

    /// The four periodic neighbours of cell (i, j).
    fn neighbours(&self, i: usize, j: usize) -> [(usize, usize); 4] {
        let n = self.n;
        [
            ((i + n - 1) % n, j),
            ((i + 1) % n, j),
            (i, (j + n - 1) % n),
            (i, (j + 1) % n),
        ]
    }

    fn diffusion(&self) -> f64 {
        self.alpha * (self.n * self.n) as f64
    }

    fn field(&self, y: &[f64]) -> Vec<f64> {
        let d = self.diffusion();
        let mut out = vec![0.0; self.len()];
        for i in 0..self.n {
            for j in 0..self.n {
                let (ku, kv) = (self.idx(i, j, 0), self.idx(i, j, 1));
                let (u, v) = (y[ku], y[kv]);
                let mut lap = [-4.0 * u, -4.0 * v];
                for (ni, nj) in self.neighbours(i, j) {
                    lap[0] += y[self.idx(ni, nj, 0)];
                    lap[1] += y[self.idx(ni, nj, 1)];
                }
                out[ku] = self.a + u * u * v - (self.b + 1.0) * u + d * lap[0];
                out[kv] = self.b * u - u * u * v + d * lap[1];
            }
        }
        out
    }

    /// Calls `put(row, col, value)` for every entry of the Jacobian (a coupled neighbour entry
    /// may come twice on tiny grids, hence "add").
    fn jacobian_entries(&self, y: &[f64], mut put: impl FnMut(usize, usize, f64)) {
        let d = self.diffusion();
        for i in 0..self.n {
            for j in 0..self.n {
                let (ku, kv) = (self.idx(i, j, 0), self.idx(i, j, 1));
                let (u, v) = (y[ku], y[kv]);
                put(ku, ku, 2.0 * u * v - (self.b + 1.0) - 4.0 * d);
                put(ku, kv, u * u);
                put(kv, ku, self.b - 2.0 * u * v);
                put(kv, kv, -u * u - 4.0 * d);
                for (ni, nj) in self.neighbours(i, j) {
                    put(ku, self.idx(ni, nj, 0), d);
                    put(kv, self.idx(ni, nj, 1), d);
                }
            }
        }
    }

    fn pattern(&self) -> SparsityPattern {
        let mut entries = Vec::new();
        self.jacobian_entries(&vec![0.0; self.len()], |r, c, _| entries.push((r, c)));
        SparsityPattern::from_entries(self.len(), entries).expect("entries inside the grid")
    }

    /// A smooth non-uniform initial state.
    fn initial(&self) -> Vec<f64> {
        let mut y = vec![0.0; self.len()];
        let tau = std::f64::consts::TAU;
        for i in 0..self.n {
            for j in 0..self.n {
                let (x, z) = (i as f64 / self.n as f64, j as f64 / self.n as f64);
                y[self.idx(i, j, 0)] = 1.0 + 0.5 * (tau * x).sin() * (tau * z).cos();
                y[self.idx(i, j, 1)] = 3.0 + 0.3 * (tau * (x + z)).cos();
            }
        }
        y
    }

    fn plain(self) -> impl FnMut(f64, &Vec<f64>) -> Vec<f64> {
        move |_t, y| self.field(y)
    }

    fn with_sparsity(self) -> WithSparsity<impl FnMut(f64, &Vec<f64>) -> Vec<f64>> {
        WithSparsity::new(self.plain(), self.pattern())
    }

    fn with_sparse_jacobian(self) -> WithSparseJacobian<Field, SparseJac> {
        WithSparseJacobian::new(
            Box::new(self.plain()),
            self.pattern(),
            Box::new(move |_t, y: &Vec<f64>, jac: &mut JacobianValues<'_>| {
                self.jacobian_entries(y, |r, c, v| jac.add(r, c, v));
            }),
        )
    }

    fn with_dense_jacobian(self) -> WithJacobian<Field, DenseJac> {
        WithJacobian::new(
            Box::new(self.plain()),
            Box::new(move |_t, y: &Vec<f64>, jac: &mut Matrix| {
                self.jacobian_entries(y, |r, c, v| jac[(r, c)] += v);
            }),
        )
    }
}

type Field = Box<dyn FnMut(f64, &Vec<f64>) -> Vec<f64>>;
type SparseJac = Box<dyn FnMut(f64, &Vec<f64>, &mut JacobianValues<'_>)>;
type DenseJac = Box<dyn FnMut(f64, &Vec<f64>, &mut Matrix)>;

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn the_analytic_jacobian_matches_finite_differences() {
    let p = Brusselator::new(5);
    let y = p.initial();
    let pattern = p.pattern();
    let mut analytic = vec![0.0; pattern.nnz()];
    let mut values = JacobianValues::new(&pattern, &mut analytic).expect("lengths agree");
    p.jacobian_entries(&y, |r, c, v| values.add(r, c, v));
    assert_eq!(values.outside_pattern(), None);
    let f0 = p.field(&y);
    for col in 0..p.len() {
        let mut shifted = y.clone();
        shifted[col] += 1e-7;
        let f1 = p.field(&shifted);
        for row in 0..p.len() {
            let fd = (f1[row] - f0[row]) / 1e-7;
            let exact = pattern.position(row, col).map_or(0.0, |k| analytic[k]);
            assert!(
                (fd - exact).abs() < 1e-4 * (1.0 + exact.abs()),
                "({row}, {col})"
            );
        }
    }
    // A 5-point stencil with two species: one Jacobian costs a dozen evaluations or fewer, not
    // 50.
    assert!(pattern.colours() <= 12, "{} colours", pattern.colours());
}

#[test]
fn sparse_and_dense_newton_matrices_give_the_same_solution_on_a_small_grid() {
    let p = Brusselator::new(8);
    let y0 = p.initial();
    let span = (0.0, 1.0);
    // Fixed steps: the same step sequence, so only the linear algebra differs.
    let fixed = SolveConfig::fixed(0.02);
    let dense = solve(
        &mut p.with_dense_jacobian(),
        &TRBDF2,
        span,
        y0.clone(),
        &fixed,
    )
    .expect("dense solve");
    let sparse = solve(
        &mut p.with_sparse_jacobian(),
        &TRBDF2,
        span,
        y0.clone(),
        &fixed,
    )
    .expect("sparse solve");
    let diff = max_abs_diff(dense.last(), sparse.last());
    assert!(diff < 1e-10, "fixed TRBDF2: {diff:e}");

    // Adaptive ESDIRK4 with analytic Jacobians.
    let adaptive = SolveConfig::adaptive(1e-7, 1e-9);
    let dense = solve(
        &mut p.with_dense_jacobian(),
        &ESDIRK4,
        span,
        y0.clone(),
        &adaptive,
    )
    .expect("dense solve");
    let sparse = solve(
        &mut p.with_sparse_jacobian(),
        &ESDIRK4,
        span,
        y0.clone(),
        &adaptive,
    )
    .expect("sparse solve");
    assert_eq!(dense.stats.accepted, sparse.stats.accepted);
    let diff = max_abs_diff(dense.last(), sparse.last());
    assert!(diff < 1e-10, "adaptive ESDIRK4: {diff:e}");

    // Finite differences: column colouring gives the dense difference quotients exactly (the
    // columns perturbed together share no row), for far fewer evaluations.
    let dense_fd =
        solve(&mut p.plain(), &ESDIRK4, span, y0.clone(), &adaptive).expect("dense solve");
    let sparse_fd =
        solve(&mut p.with_sparsity(), &ESDIRK4, span, y0, &adaptive).expect("sparse solve");
    let diff = max_abs_diff(dense_fd.last(), sparse_fd.last());
    assert!(diff < 1e-10, "finite differences: {diff:e}");
    // The same steps and Jacobians, each for `colours` evaluations instead of 128.
    assert_eq!(dense_fd.stats.accepted, sparse_fd.stats.accepted);
    let saved = p.len() - p.pattern().colours();
    let extra = dense_fd.stats.nfe - sparse_fd.stats.nfe;
    assert!(
        extra >= saved && extra % saved == 0,
        "coloured {} vs dense {} evaluations ({} colours)",
        sparse_fd.stats.nfe,
        dense_fd.stats.nfe,
        p.pattern().colours()
    );
}

#[test]
fn a_2048_unknown_grid_solves_sparsely_to_a_tight_reference() {
    let p = Brusselator::new(32);
    assert_eq!(p.len(), 2048);
    let y0 = p.initial();
    let span = (0.0, 1.0);
    // Reference 1: a tight explicit solve (the diffusion is only mildly stiff at α = 0.02, so
    // Dopri5's steps are set by accuracy).
    let reference = solve(
        &mut p.plain(),
        &DOPRI5,
        span,
        y0.clone(),
        &SolveConfig::adaptive(1e-11, 1e-13),
    )
    .expect("reference solve");
    // Reference 2: a tight implicit solve with the analytic sparse Jacobian.
    let tight = solve(
        &mut p.with_sparse_jacobian(),
        &ESDIRK4,
        span,
        y0.clone(),
        &SolveConfig::adaptive(1e-10, 1e-12),
    )
    .expect("tight sparse solve");
    let diff = max_abs_diff(tight.last(), reference.last());
    assert!(diff < 1e-8, "tight ESDIRK4 vs Dopri5: {diff:e}");

    // The everyday solve: only the pattern, finite differences with colouring.
    let solver = Dirk::new(ESDIRK4).with_newton(NewtonOptions::DEFAULT);
    let coarse = solve(
        &mut p.with_sparsity(),
        &solver,
        span,
        y0.clone(),
        &SolveConfig::adaptive(1e-6, 1e-8),
    )
    .expect("sparse solve");
    let err = max_abs_diff(coarse.last(), reference.last());
    assert!(err < 5e-5, "rtol 1e-6 ESDIRK4: {err:e}");
    assert!(err > 0.0);
    // Per step, the Jacobian costs a dozen evaluations, not 2048.
    assert!(
        coarse.stats.nfe < 100 * coarse.stats.steps(),
        "{} evaluations in {} steps",
        coarse.stats.nfe,
        coarse.stats.steps()
    );

    // TRBDF2 with fixed steps, the same grid, against the reference (second order, h = 0.01).
    let fixed = solve(
        &mut p.with_sparse_jacobian(),
        &TRBDF2,
        span,
        y0,
        &SolveConfig::fixed(0.01),
    )
    .expect("fixed sparse solve");
    let err = max_abs_diff(fixed.last(), reference.last());
    assert!(err < 5e-5, "fixed TRBDF2: {err:e}");
}

#[test]
fn a_pattern_of_the_wrong_size_is_a_typed_error() {
    let p = Brusselator::new(4);
    let small = Brusselator::new(3).pattern();
    let mut problem = WithSparsity::new(p.plain(), small);
    let err = solve(
        &mut problem,
        &ESDIRK4,
        (0.0, 1.0),
        p.initial(),
        &SolveConfig::adaptive(1e-6, 1e-8),
    )
    .unwrap_err();
    assert_eq!(
        err,
        SolveError::SparseJacobian(SparseJacobianError::PatternShape {
            pattern: 18,
            state: 32
        })
    );
    assert!(err.to_string().contains("18×18"), "{err}");

    // Entries outside the matrix are refused when the pattern is built.
    assert_eq!(
        SparsityPattern::from_entries(3, [(0, 0), (1, 3)]).unwrap_err(),
        SparseJacobianError::EntryOutOfRange {
            row: 1,
            col: 3,
            n: 3
        }
    );
}

#[test]
fn a_jacobian_written_outside_its_pattern_is_a_typed_error() {
    let pattern = SparsityPattern::from_entries(2, [(0, 0), (1, 1)]).expect("diagonal");
    let mut problem = WithSparseJacobian::new(
        |_t: f64, y: &[f64; 2]| [-y[0] + y[1], -y[1]],
        pattern,
        |_t: f64, _y: &[f64; 2], jac: &mut JacobianValues<'_>| {
            jac.set(0, 0, -1.0);
            jac.set(0, 1, 1.0);
            jac.set(1, 1, -1.0);
        },
    );
    let err = solve(
        &mut problem,
        &ESDIRK4,
        (0.0, 1.0),
        [1.0, 1.0],
        &SolveConfig::adaptive(1e-6, 1e-8),
    )
    .unwrap_err();
    assert_eq!(
        err,
        SolveError::SparseJacobian(SparseJacobianError::OutsidePattern { row: 0, col: 1 })
    );
}

#[test]
fn a_singular_matrix_is_a_typed_error() {
    // The factorisation itself: [[1, 2], [2, 4]] is singular.
    let full = SparsityPattern::dense(2);
    let mut lu = SparseLu::new(&full).expect("symbolic analysis");
    // Column-major values: column 0 = (1, 2), column 1 = (2, 4).
    let err = lu.factor(&[1.0, 2.0, 2.0, 4.0]).unwrap_err();
    assert!(
        matches!(err, SparseJacobianError::Singular { n: 2, .. }),
        "{err:?}"
    );
    let mut b = [1.0, 1.0];
    assert!(lu.solve_in_place(&mut b).is_err());
    // A regular matrix of the same pattern factorises and solves.
    lu.factor(&[2.0, 1.0, 1.0, 3.0]).expect("regular");
    lu.solve_in_place(&mut b).expect("solve");
    assert!((2.0 * b[0] + b[1] - 1.0).abs() < 1e-15 && (b[0] + 3.0 * b[1] - 1.0).abs() < 1e-15);
    assert!(matches!(
        lu.solve_in_place(&mut [1.0; 3]),
        Err(SparseJacobianError::Length {
            expected: 2,
            got: 3,
            ..
        })
    ));

    // In a solve: y' = 10 y with backward Euler and h = 0.1 needs (1 - 10 h) Δ = r, singular.
    let pattern = SparsityPattern::from_entries(3, (0..3).map(|i| (i, i))).expect("diagonal");
    let mut problem = WithSparseJacobian::new(
        |_t: f64, y: &[f64; 3]| y.map(|v| 10.0 * v),
        pattern,
        |_t: f64, _y: &[f64; 3], jac: &mut JacobianValues<'_>| {
            for i in 0..3 {
                jac.set(i, i, 10.0);
            }
        },
    );
    let err = solve(
        &mut problem,
        &sysdyn_solvers::implicit::BACKWARD_EULER,
        (0.0, 1.0),
        [1.0, 2.0, 3.0],
        &SolveConfig::fixed(0.1),
    )
    .unwrap_err();
    assert!(
        matches!(err, SolveError::SingularNewtonMatrix { t, h } if t == 0.0 && h == 0.1),
        "{err:?}"
    );
    // An adaptive solve steps around it.
    let sol = solve(
        &mut problem,
        &sysdyn_solvers::implicit::BACKWARD_EULER,
        (0.0, 0.2),
        [1.0, 2.0, 3.0],
        &SolveConfig::adaptive(1e-3, 1e-6).first_step(0.1),
    )
    .expect("adaptive solve");
    let exact = 2.0f64.exp();
    assert!(
        (sol.last()[0] / exact - 1.0).abs() < 0.05,
        "{}",
        sol.last()[0]
    );
}
