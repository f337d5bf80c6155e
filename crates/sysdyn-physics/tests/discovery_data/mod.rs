//! Data for the equation-discovery tests, generated exactly or by tightly solved ODEs.
#![allow(dead_code)]

use sysdyn_core::linalg::Matrix;
use sysdyn_core::rng::SeededRng;
use sysdyn_solvers::{SaveAt, SolveConfig, methods::DOPRI5, solve};

/// `n` uniform times `0, dt, …`.
pub fn times(n: usize, dt: f64) -> Vec<f64> {
    (0..n).map(|i| i as f64 * dt).collect()
}

/// `y' = f(y)` from `y0`, solved by Dopri5 at rtol = atol = 1e-10, sampled at `t`.
pub fn integrate(f: impl Fn(&[f64]) -> Vec<f64>, y0: &[f64], t: &[f64]) -> Matrix {
    let mut field = |_t: f64, y: &Vec<f64>| f(y);
    let config = SolveConfig::adaptive(1e-10, 1e-10)
        .save_at(SaveAt::Times(t.to_vec()))
        .max_steps(10_000_000);
    let sol = solve(
        &mut field,
        &DOPRI5,
        (t[0], t[t.len() - 1]),
        y0.to_vec(),
        &config,
    )
    .expect("the reference solve succeeds");
    Matrix::from_rows(&sol.ys).expect("rows of equal length")
}

/// Lorenz-63 with σ = 10, ρ = 28, β = 8/3.
pub fn lorenz(y: &[f64]) -> Vec<f64> {
    vec![
        10.0 * (y[1] - y[0]),
        y[0] * (28.0 - y[2]) - y[1],
        y[0] * y[1] - 8.0 / 3.0 * y[2],
    ]
}

/// Lotka–Volterra `x' = a x − b x y`, `y' = d x y − g y` with a = 1, b = 0.5, d = 0.2, g = 0.8.
pub fn lotka_volterra(y: &[f64]) -> Vec<f64> {
    vec![
        1.0 * y[0] - 0.5 * y[0] * y[1],
        0.2 * y[0] * y[1] - 0.8 * y[1],
    ]
}

/// `x` plus Gaussian noise of `level` times each column's standard deviation.
pub fn add_noise(x: &Matrix, level: f64, seed: u64) -> Matrix {
    let mut rng = SeededRng::new(seed);
    let (m, n) = (x.rows(), x.cols());
    let mut out = x.clone();
    for j in 0..n {
        let mean = (0..m).map(|i| x[(i, j)]).sum::<f64>() / m as f64;
        let std = ((0..m).map(|i| (x[(i, j)] - mean).powi(2)).sum::<f64>() / m as f64).sqrt();
        for i in 0..m {
            out[(i, j)] += level * std * rng.normal();
        }
    }
    out
}
