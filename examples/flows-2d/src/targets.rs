//! The unnormalised 2-D energy targets of the flow literature, `log p̃(z) = −U(z)`, written in
//! tensor operations so that reverse-KL gradients flow through them.
//!
//! Rezende & Mohamed (2015), Table 1, with `w₁(z) = sin(2π z₁ / 4)`,
//! `w₂(z) = 3 exp(−½ ((z₁ − 1)/0.6)²)`, `w₃(z) = 3 σ((z₁ − 1)/0.3)`:
//!
//! - `U₁(z) = ½ ((‖z‖ − 2)/0.4)² − log(e^{−½((z₁−2)/0.6)²} + e^{−½((z₁+2)/0.6)²})`
//!   (the "two moons" energy: a ring cut into two arcs);
//! - `U₂(z) = ½ ((z₂ − w₁)/0.4)²`;
//! - `U₃(z) = −log(e^{−½((z₂−w₁)/0.35)²} + e^{−½((z₂−w₁+w₂)/0.35)²})`;
//! - `U₄(z) = −log(e^{−½((z₂−w₁)/0.4)²} + e^{−½((z₂−w₁+w₃)/0.35)²})`.
//!
//! `U₂`–`U₄` do not depend on `z₁` far from the origin, so `e^{−U}` is not integrable on `ℝ²`;
//! the paper draws them on `[−4, 4]²`, and we confine them there with a soft wall
//! `½ (max(|z₁| − 4, 0)/0.1)²` (zero inside the box). A ring (radius 2, width 0.2) and a
//! mixture of four Gaussians (σ = 0.3 at `(±2, ±2)`, known normaliser) complete the set.
//! The normaliser `log Z` of each target is computed on a fine grid ([`log_normaliser`]), so
//! the reverse-KL loss gives `KL(q ‖ p) = loss + log Z`.

use std::f64::consts::PI;

use burn::tensor::Tensor;

/// One energy target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Rezende & Mohamed's `U₁` (two-moons energy).
    U1,
    /// `U₂` (a sine wave), inside the box.
    U2,
    /// `U₃` (two sine branches), inside the box.
    U3,
    /// `U₄` (a sine and a step), inside the box.
    U4,
    /// A ring of radius 2 and width 0.2.
    Ring,
    /// Four Gaussians of σ = 0.3 at `(±2, ±2)`.
    Mixture,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 6] = [
        Target::U1,
        Target::U2,
        Target::U3,
        Target::U4,
        Target::Ring,
        Target::Mixture,
    ];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Target::U1 => "U1",
            Target::U2 => "U2",
            Target::U3 => "U3",
            Target::U4 => "U4",
            Target::Ring => "ring",
            Target::Mixture => "mixture",
        }
    }

    /// `log p̃(z)` per row of `z` (`[n, 2]`), `[n]`.
    pub fn log_density(self, z: &Tensor<2>) -> Tensor<1> {
        let n = z.dims()[0];
        let z1 = z.clone().narrow(1, 0, 1);
        let z2 = z.clone().narrow(1, 1, 1);
        let gauss = |t: Tensor<2>, s: f64| t.div_scalar(s).powi_scalar(2).mul_scalar(-0.5);
        let w1 = z1.clone().mul_scalar(PI / 2.0).sin();
        let wall = || gauss(z1.clone().abs().sub_scalar(4.0).clamp_min(0.0), 0.1);
        let out = match self {
            Target::U1 => {
                let r = radius(z);
                gauss(r.sub_scalar(2.0), 0.4)
                    + log_add_exp(
                        gauss(z1.clone().sub_scalar(2.0), 0.6),
                        gauss(z1.clone().add_scalar(2.0), 0.6),
                    )
            }
            Target::U2 => gauss(z2 - w1, 0.4) + wall(),
            Target::U3 => {
                let w2 = gauss(z1.clone().sub_scalar(1.0), 0.6).exp().mul_scalar(3.0);
                let d = z2 - w1;
                log_add_exp(gauss(d.clone(), 0.35), gauss(d + w2, 0.35)) + wall()
            }
            Target::U4 => {
                let w3 =
                    burn::tensor::activation::sigmoid(z1.clone().sub_scalar(1.0).div_scalar(0.3))
                        .mul_scalar(3.0);
                let d = z2 - w1;
                log_add_exp(gauss(d.clone(), 0.4), gauss(d + w3, 0.35)) + wall()
            }
            Target::Ring => gauss(radius(z).sub_scalar(2.0), 0.2),
            Target::Mixture => {
                let bump = |a: f64, b: f64| {
                    gauss(z1.clone().sub_scalar(a), 0.3) + gauss(z2.clone().sub_scalar(b), 0.3)
                };
                log_add_exp(
                    log_add_exp(bump(2.0, 2.0), bump(-2.0, 2.0)),
                    log_add_exp(bump(2.0, -2.0), bump(-2.0, -2.0)),
                )
            }
        };
        out.reshape([n])
    }
}

/// `‖z‖` per row, `[n, 1]` (the `1e-12` keeps its gradient finite at the origin).
fn radius(z: &Tensor<2>) -> Tensor<2> {
    z.clone().powi_scalar(2).sum_dim(1).add_scalar(1e-12).sqrt()
}

/// `log(eᵃ + eᵇ) = max(a, b) + log(1 + e^{−|a − b|})`, without overflow.
fn log_add_exp(a: Tensor<2>, b: Tensor<2>) -> Tensor<2> {
    let gap = (a.clone() - b.clone()).abs();
    let max = (a + b + gap.clone()).mul_scalar(0.5);
    max + gap.neg().exp().add_scalar(1.0).log()
}

/// `log ∫ p̃` by the midpoint rule on `[−lim, lim]²` with `n × n` cells, from the log-density
/// values at the cell centres (row-major as [`crate::grid::Grid::points`] lays them out).
pub fn log_normaliser(log_values: &[f64], cell_area: f64) -> f64 {
    let max = log_values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = log_values.iter().map(|l| (l - max).exp()).sum();
    max + (sum * cell_area).ln()
}
