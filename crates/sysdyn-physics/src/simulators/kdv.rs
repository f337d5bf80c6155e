//! The Korteweg–de Vries equation on a periodic interval, pseudo-spectral:
//!
//! `u_t + a u u_x + b u_xxx = 0`, classically `a = 6`, `b = 1`.
//!
//! The third derivative makes the semi-discrete system stiff (eigenvalues `i b k³`), so
//! [`KdV::integrate`] uses the integrating-factor fourth-order Runge–Kutta scheme (Trefethen,
//! *Spectral Methods in MATLAB*, program 27): the linear part is solved exactly in Fourier
//! space, `v̂ = e^{−i b k³ t} û`, and RK4 steps the dealiased nonlinear term `−(a/2) i k (u²)^`.
//!
//! [`two_soliton`] is the exact two-soliton solution of `u_t + 6 u u_x + u_xxx = 0` (Hirota):
//! `u = 2 ∂²_x ln τ`, `τ = 1 + e^{η1} + e^{η2} + A e^{η1 + η2}`, `η_i = k_i (x − x_i) − k_i³ t`,
//! `A = ((k1 − k2)/(k1 + k2))²`; each soliton alone is `(k²/2) sech²(η/2)`, moving at speed `k²`.

use burn::tensor::Tensor;
use sysdyn_core::spectral::{Complex64, Spectral1d};

use crate::error::PhysicsError;
use crate::model::{
    PhysicalModel, check_parameter_count, check_state, check_tensor_input, finite, host_tensor,
    param_column, positive,
};
use crate::simulators::{Dataset, Trajectory, generate, uniform_in};
use crate::stencil::{operator_matrix, spectral_derivative_matrix};

/// KdV on `n` points of `[x0, x0 + L)` with `(a, b)`.
#[derive(Debug, Clone)]
pub struct KdV {
    params: [f64; 2],
    x0: f64,
    ops: Spectral1d,
    scratch: (Vec<f64>, Vec<f64>, Vec<f64>),
}

const NAMES: &[&str] = &["a", "b"];

impl KdV {
    /// `n ≥ 3` points on `[x0, x0 + length)`, `u_t + 6 u u_x + u_xxx = 0`.
    pub fn new(n: usize, x0: f64, length: f64) -> Result<Self, PhysicsError> {
        if n < 3 {
            return Err(PhysicsError::GridTooSmall {
                what: "pseudo-spectral KdV",
                got: n,
                needed: 3,
            });
        }
        finite("x0", x0)?;
        Ok(KdV {
            params: [6.0, 1.0],
            x0,
            ops: Spectral1d::new(n, positive("length", length)?)?,
            scratch: (vec![0.0; n], vec![0.0; n], vec![0.0; n]),
        })
    }

    /// The grid points.
    pub fn grid(&self) -> Vec<f64> {
        let n = self.ops.n();
        let h = self.ops.length() / n as f64;
        (0..n).map(|i| self.x0 + i as f64 * h).collect()
    }

    /// `count` two-soliton trajectories on `times` (integrating-factor RK4, step `dt`), for
    /// `u_t + 6 u u_x + u_xxx = 0`: wavenumbers `k_1, k_2` uniform in `[0.5, 1.5)` and centres
    /// uniform in the left half of the domain (away from its ends by a quarter of its length).
    pub fn dataset(
        &self,
        count: usize,
        seed: u64,
        times: &[f64],
        dt: f64,
    ) -> Result<Dataset, PhysicsError> {
        let grid = self.grid();
        let length = self.ops.length();
        let trajectories = generate(count, seed, |_, rng| {
            let k = (uniform_in(rng, 0.5, 1.5), uniform_in(rng, 0.5, 1.5));
            let lo = self.x0 + 0.25 * length;
            let hi = self.x0 + 0.5 * length;
            let centres = (uniform_in(rng, lo, hi), uniform_in(rng, lo, hi));
            let u0: Vec<f64> = grid
                .iter()
                .map(|&x| two_soliton(x, 0.0, k, centres))
                .collect();
            let states = self.clone().integrate(&u0, times, dt)?;
            Ok(Trajectory { env: 0, states })
        })?;
        Ok(Dataset {
            name: self.name(),
            state_shape: self.state_shape(),
            times: times.to_vec(),
            env_parameters: vec![self.parameters()],
            trajectories,
        })
    }

    /// Integrates from `u0` at `times[0]` with integrating-factor RK4 steps of at most `dt`
    /// (each output interval split into equal steps) and returns the states at `times`
    /// (increasing).
    pub fn integrate(
        &mut self,
        u0: &[f64],
        times: &[f64],
        dt: f64,
    ) -> Result<Vec<Vec<f64>>, PhysicsError> {
        let n = self.ops.n();
        crate::stencil::check_len("initial state", n, u0.len())?;
        positive("dt", dt)?;
        if let Some(index) = u0.iter().position(|v| !v.is_finite()) {
            return Err(PhysicsError::NonFinite {
                what: "initial state",
                index,
            });
        }
        let [a, b] = self.params;
        let k: Vec<f64> = self.ops.wavenumbers().to_vec();
        let length = self.ops.length();
        // Modes kept by the 2/3 rule (the Nyquist mode among the removed ones).
        let kept: Vec<bool> = k
            .iter()
            .map(|&kk| 3.0 * (kk * length / std::f64::consts::TAU).abs().round() < n as f64)
            .collect();
        let mut u_hat = vec![Complex64::default(); n];
        self.ops.forward(u0, &mut u_hat)?;
        for (c, &keep) in u_hat.iter_mut().zip(&kept) {
            if !keep {
                *c = Complex64::default();
            }
        }
        let mut out = Vec::with_capacity(times.len());
        let mut real = vec![0.0; n];
        let mut spec = vec![Complex64::default(); n];
        // N(û) = −(a/2) i k F[(F⁻¹ û)²], dealiased.
        let mut nonlinear = |ops: &mut Spectral1d,
                             uh: &[Complex64],
                             res: &mut [Complex64]|
         -> Result<(), PhysicsError> {
            ops.inverse(uh, &mut real)?;
            for r in real.iter_mut() {
                *r *= *r;
            }
            ops.forward(&real, &mut spec)?;
            for m in 0..n {
                res[m] = if kept[m] {
                    spec[m] * Complex64::new(0.0, -0.5 * a * k[m])
                } else {
                    Complex64::default()
                };
            }
            Ok(())
        };
        let mut t = match times.first() {
            Some(&t) => t,
            None => {
                return Err(PhysicsError::Empty {
                    what: "output times",
                    unit: "time",
                });
            }
        };
        let (mut k1, mut k2, mut k3, mut k4) = (
            vec![Complex64::default(); n],
            vec![Complex64::default(); n],
            vec![Complex64::default(); n],
            vec![Complex64::default(); n],
        );
        let mut stage = vec![Complex64::default(); n];
        for &t_out in times {
            let span = t_out - t;
            if span < 0.0 {
                return Err(PhysicsError::InvalidParameter {
                    name: "times",
                    value: t_out,
                    requirement: "output times must be increasing",
                });
            }
            let steps = (span / dt).ceil() as usize;
            let h = if steps > 0 { span / steps as f64 } else { 0.0 };
            // e^{L h/2} with L = i b k³.
            let e: Vec<Complex64> = k
                .iter()
                .map(|&kk| Complex64::from_polar(1.0, 0.5 * b * kk * kk * kk * h))
                .collect();
            for _ in 0..steps {
                nonlinear(&mut self.ops, &u_hat, &mut k1)?;
                for m in 0..n {
                    stage[m] = e[m] * (u_hat[m] + k1[m] * (0.5 * h));
                }
                nonlinear(&mut self.ops, &stage, &mut k2)?;
                for m in 0..n {
                    stage[m] = e[m] * u_hat[m] + k2[m] * (0.5 * h);
                }
                nonlinear(&mut self.ops, &stage, &mut k3)?;
                for m in 0..n {
                    stage[m] = e[m] * e[m] * u_hat[m] + e[m] * k3[m] * h;
                }
                nonlinear(&mut self.ops, &stage, &mut k4)?;
                for m in 0..n {
                    let e2 = e[m] * e[m];
                    u_hat[m] = e2 * u_hat[m]
                        + (e2 * k1[m] + e[m] * (k2[m] + k3[m]) * 2.0 + k4[m]) * (h / 6.0);
                }
            }
            t = t_out;
            let mut u = vec![0.0; n];
            self.ops.inverse(&u_hat, &mut u)?;
            if let Some(index) = u.iter().position(|v| !v.is_finite()) {
                return Err(PhysicsError::NonFinite {
                    what: "KdV state (reduce dt)",
                    index,
                });
            }
            out.push(u);
        }
        Ok(out)
    }
}

/// The exact two-soliton solution of `u_t + 6 u u_x + u_xxx = 0` at `(x, t)` for wavenumbers
/// `k = (k1, k2)` and initial centres `centres = (x1, x2)` (see the module docs).
pub fn two_soliton(x: f64, t: f64, k: (f64, f64), centres: (f64, f64)) -> f64 {
    let (k1, k2) = k;
    let eta1 = k1 * (x - centres.0) - k1.powi(3) * t;
    let eta2 = k2 * (x - centres.1) - k2.powi(3) * t;
    let a = ((k1 - k2) / (k1 + k2)).powi(2);
    // Divide τ and its derivatives by the largest exponential to avoid overflow.
    let big = 0.0f64.max(eta1).max(eta2).max(eta1 + eta2 + a.ln());
    let e0 = (-big).exp();
    let e1 = (eta1 - big).exp();
    let e2 = (eta2 - big).exp();
    let e12 = (eta1 + eta2 - big).exp() * a;
    let tau = e0 + e1 + e2 + e12;
    let tau_x = k1 * e1 + k2 * e2 + (k1 + k2) * e12;
    let tau_xx = k1 * k1 * e1 + k2 * k2 * e2 + (k1 + k2).powi(2) * e12;
    2.0 * (tau_xx * tau - tau_x * tau_x) / (tau * tau)
}

impl PhysicalModel for KdV {
    fn name(&self) -> &'static str {
        "Korteweg-de Vries"
    }

    fn state_shape(&self) -> Vec<usize> {
        vec![self.ops.n()]
    }

    fn parameter_names(&self) -> &'static [&'static str] {
        NAMES
    }

    fn parameters(&self) -> Vec<f64> {
        self.params.to_vec()
    }

    fn set_parameters(&mut self, values: &[f64]) -> Result<(), PhysicsError> {
        check_parameter_count(NAMES, values)?;
        let a = finite("a", values[0])?;
        let b = finite("b", values[1])?;
        self.params = [a, b];
        Ok(())
    }

    /// `−(a/2) (u²)_x − b u_xxx`, the product dealiased.
    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), PhysicsError> {
        let n = self.ops.n();
        check_state(n, y, dy)?;
        let [a, b] = self.params;
        let (s0, s1, s2) = &mut self.scratch;
        for (s, u) in s0.iter_mut().zip(y) {
            *s = u * u;
        }
        self.ops.dealias(s0, s1)?;
        self.ops.derivative(s1, s0)?;
        self.ops.derivative(y, s1)?;
        self.ops.derivative(s1, s2)?;
        self.ops.derivative(s2, s1)?;
        for i in 0..n {
            dy[i] = -0.5 * a * s0[i] - b * s1[i];
        }
        Ok(())
    }

    fn rhs_tensor(
        &self,
        _t: f64,
        y: Tensor<2>,
        params: Tensor<2>,
    ) -> Result<Tensor<2>, PhysicsError> {
        check_tensor_input(self, &y, &params)?;
        let n = self.ops.n();
        let length = self.ops.length();
        let mut ops = self.ops.clone();
        let d1 = spectral_derivative_matrix(n, length, 1)?;
        let d3 = spectral_derivative_matrix(n, length, 3)?;
        let dealias = operator_matrix(n, |u, o| Ok(ops.dealias(u, o)?))?;
        let like = y.clone();
        let apply = |u: Tensor<2>, m: Vec<f64>| u.matmul(host_tensor(m, [n, n], &like).transpose());
        let flux = apply(apply(y.clone() * y.clone(), dealias), d1);
        Ok(param_column(&params, 0).mul_scalar(-0.5) * flux
            - param_column(&params, 1) * apply(y, d3))
    }
}
