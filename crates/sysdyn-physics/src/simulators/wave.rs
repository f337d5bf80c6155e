//! The damped wave equation of APHYNITY (Yin et al., ICLR 2021, §4; yuan-yin/APHYNITY
//! `datasets/wave.py`):
//!
//! `w_tt − c² Δw + k w_t = 0`, `c = 330`, `k = 50`, on a 64 × 64 grid of spacing 1 with the
//! fourth-order Laplacian, as the first-order system `(w, w_t)`; state `[2, n, n]`.
//! Initial condition: a Gaussian bump `w = exp(−|x − m|² / s)`, `w_t = 0`, with `s` uniform in
//! `[10, 100)` and the centre `m` drawn from `{20, …, 39}²`; RK4 with step `1e-3`, 25 outputs
//! `1e-3` apart (the code's `seq_len` and `dt`).
//!
//! Boundary: APHYNITY's code sets the Laplacian to zero on the two outermost rows and columns;
//! we use a zero-flux (Neumann, mirror) boundary with the same fourth-order formula up to the
//! edge, which reflects waves without the artificial layer. The bumps start ≥ 20 cells from the
//! edge, so the two agree until a wave reaches it.

use burn::tensor::Tensor;
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::RK4;

use crate::error::PhysicsError;
use crate::model::{
    PhysicalModel, check_parameter_count, check_state, check_tensor_input, columns, non_negative,
    param_column, uniform_times,
};
use crate::simulators::{Dataset, simulated_dataset, uniform_in};
use crate::stencil::{Boundary, Laplacian2d, LaplacianKind};

/// The damped wave equation with `(c, k)` (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct DampedWave {
    params: [f64; 2],
    n: usize,
    lap: Laplacian2d,
    scratch: Vec<f64>,
}

const NAMES: &[&str] = &["c", "k"];

impl DampedWave {
    /// APHYNITY's wave: 64 × 64, spacing 1, `c = 330`, `k = 50`.
    pub fn aphynity() -> Self {
        Self::new(64, 1.0, [330.0, 50.0]).expect("a 64 × 64 grid fits the fourth-order stencil")
    }

    /// An `n × n` grid of spacing `h` with wave speed `c ≥ 0` and damping `k ≥ 0`.
    pub fn new(n: usize, h: f64, params: [f64; 2]) -> Result<Self, PhysicsError> {
        let lap = Laplacian2d::new(
            LaplacianKind::FourthOrder,
            Boundary::Neumann,
            (n, n),
            (h, h),
        )?;
        let mut m = DampedWave {
            params: [0.0; 2],
            n,
            lap,
            scratch: vec![0.0; n * n],
        };
        m.set_parameters(&params)?;
        Ok(m)
    }

    /// The discrete energy `½ Σ (w_t² − c² w Δw)` (per unit cell area). Where the Laplacian
    /// matrix is symmetric (a wave away from the edges; the mirror rows at the edges are not)
    /// `dE/dt = −k Σ w_t² ≤ 0`: conserved without damping, decaying with it.
    pub fn energy(&self, y: &[f64]) -> Result<f64, PhysicsError> {
        let n = self.n * self.n;
        crate::stencil::check_len("state", 2 * n, y.len())?;
        let mut lap = vec![0.0; n];
        self.lap.apply(&y[..n], &mut lap)?;
        let c2 = self.params[0] * self.params[0];
        Ok((0..n)
            .map(|i| 0.5 * (y[n + i] * y[n + i] - c2 * y[i] * lap[i]))
            .sum())
    }

    /// `count` trajectories of 25 states `1e-3` apart from APHYNITY's Gaussian bumps (RK4).
    pub fn dataset(&self, count: usize, seed: u64) -> Result<Dataset, PhysicsError> {
        let times = uniform_times(0.025, 1e-3)?;
        let n = self.n;
        simulated_dataset(
            self,
            count,
            seed,
            &times,
            &RK4,
            SolveConfig::fixed(1e-3),
            |_, rng| {
                let s = uniform_in(rng, 10.0, 100.0);
                let (mx, my) = (20.0 + rng.below(20) as f64, 20.0 + rng.below(20) as f64);
                let mut y0 = vec![0.0; 2 * n * n];
                for i in 0..n {
                    for j in 0..n {
                        let r2 = (i as f64 - mx).powi(2) + (j as f64 - my).powi(2);
                        y0[i * n + j] = (-r2 / s).exp();
                    }
                }
                Ok(y0)
            },
        )
    }
}

impl PhysicalModel for DampedWave {
    fn name(&self) -> &'static str {
        "damped wave"
    }

    fn state_shape(&self) -> Vec<usize> {
        vec![2, self.n, self.n]
    }

    fn parameter_names(&self) -> &'static [&'static str] {
        NAMES
    }

    fn parameters(&self) -> Vec<f64> {
        self.params.to_vec()
    }

    fn set_parameters(&mut self, values: &[f64]) -> Result<(), PhysicsError> {
        check_parameter_count(NAMES, values)?;
        let c = non_negative("c", values[0])?;
        let k = non_negative("k", values[1])?;
        self.params = [c, k];
        Ok(())
    }

    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), PhysicsError> {
        let n = self.n * self.n;
        check_state(2 * n, y, dy)?;
        let [c, k] = self.params;
        let (w, wt) = y.split_at(n);
        self.lap.apply(w, &mut self.scratch)?;
        let (dw, dwt) = dy.split_at_mut(n);
        dw.copy_from_slice(wt);
        for i in 0..n {
            dwt[i] = c * c * self.scratch[i] - k * wt[i];
        }
        Ok(())
    }

    fn jacobian_pattern(&self) -> Option<Vec<(usize, usize)>> {
        let n = self.n * self.n;
        let mut entries = Vec::new();
        for (i, row) in self.lap.rows().iter().enumerate() {
            entries.push((i, n + i));
            entries.push((n + i, n + i));
            entries.extend(row.iter().map(|&(j, _)| (n + i, j)));
        }
        Some(entries)
    }

    fn rhs_tensor(
        &self,
        _t: f64,
        y: Tensor<2>,
        params: Tensor<2>,
    ) -> Result<Tensor<2>, PhysicsError> {
        check_tensor_input(self, &y, &params)?;
        let n = self.n * self.n;
        let w = columns(&y, 0, n);
        let wt = columns(&y, n, n);
        let c = param_column(&params, 0);
        let k = param_column(&params, 1);
        let acc = c.clone() * c * self.lap.apply_tensor(w) - k * wt.clone();
        Ok(Tensor::cat(vec![wt, acc], 1))
    }
}
