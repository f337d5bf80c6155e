//! The Dirac-GAN (Mescheder, Geiger & Nowozin 2018): the smallest GAN, whose training dynamics
//! can be read off in closed form.
//!
//! Data is a point mass at 0, the generator a point mass at `θ`, the discriminator linear,
//! `D_ψ(x) = ψ x`. The game is `min_θ max_ψ L(θ, ψ) = f(ψθ) + f(0)` with
//! `f(t) = −softplus(−t) = log σ(t)` for the cross-entropy GAN and `f(t) = t` for the WGAN. Its
//! vector field is `V(θ, ψ) = (f'(ψθ) ψ, −f'(ψθ) θ)`; at the equilibrium `(0, 0)` its Jacobian is
//! `f'(0) [[0, 1], [−1, 0]]` (`f'(0) = ½` and `1`), a pure rotation. [`linearised_update`] turns
//! it into the Jacobian of one step of each update scheme, whose eigenvalues predict the
//! behaviour: simultaneous steps spiral out by `√(1 + (η f'(0))²)` per step, alternating steps
//! have eigenvalues on the unit circle (bounded cycles), extragradient steps contract by
//! `√(1 − a² + a⁴)`, `a = η f'(0)`.

use sysdyn_core::linalg::Matrix;
use sysdyn_optim::game::{Game, GameScheme, Player};

use crate::error::GenerativeError;
use crate::gan::loss::GanLoss;

/// Which `f` the Dirac-GAN uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiracObjective {
    /// `f(t) = log σ(t)`: the cross-entropy GAN (`f'(t) = σ(−t)`, `f'(0) = ½`).
    CrossEntropy,
    /// `f(t) = t`: the WGAN (`f' = 1`).
    Wasserstein,
}

impl DiracObjective {
    /// The objective of a [`GanLoss`]: cross-entropy for the minimax and non-saturating losses,
    /// Wasserstein for the Wasserstein loss; the others have no Dirac-GAN form of this kind.
    pub fn of(loss: GanLoss) -> Option<DiracObjective> {
        match loss {
            GanLoss::Minimax | GanLoss::NonSaturating => Some(DiracObjective::CrossEntropy),
            GanLoss::Wasserstein => Some(DiracObjective::Wasserstein),
            GanLoss::LeastSquares(_) | GanLoss::Hinge => None,
        }
    }

    /// `f'(t)`.
    pub fn derivative(self, t: f64) -> f64 {
        match self {
            DiracObjective::CrossEntropy => 1.0 / (1.0 + t.exp()),
            DiracObjective::Wasserstein => 1.0,
        }
    }
}

/// The Dirac-GAN as a two-player game on `x = (θ)` and `y = (ψ)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiracGan {
    /// The objective `f`.
    pub objective: DiracObjective,
}

impl Game for DiracGan {
    fn dims(&self) -> (usize, usize) {
        (1, 1)
    }

    fn gradient(&self, player: Player, x: &[f64], y: &[f64]) -> Vec<f64> {
        let (theta, psi) = (x[0], y[0]);
        let slope = self.objective.derivative(psi * theta);
        match player {
            // The generator minimises L: ∂L/∂θ = f'(ψθ) ψ.
            Player::First => vec![slope * psi],
            // The discriminator maximises L, i.e. minimises −L: −∂L/∂ψ = −f'(ψθ) θ.
            Player::Second => vec![-slope * theta],
        }
    }
}

/// The Jacobian of one step of `scheme` (plain gradient steps with learning rates `lr`) at the
/// equilibrium `(x*, y*)` of `game`, from the game's Jacobian there. For
/// [`GameScheme::Optimistic`], which remembers the previous gradient, it is the `2n × 2n`
/// Jacobian of the map `(z_k, z_{k−1}) ↦ (z_{k+1}, z_k)`. Its spectral radius is the factor by
/// which the distance to the equilibrium changes per step, asymptotically.
pub fn linearised_update<G: Game>(
    game: &G,
    equilibrium: (&[f64], &[f64]),
    scheme: GameScheme,
    lr: [f64; 2],
) -> Result<Matrix, GenerativeError> {
    for (i, &eta) in lr.iter().enumerate() {
        if !(eta.is_finite() && eta > 0.0) {
            return Err(GenerativeError::InvalidParameter {
                name: if i == 0 {
                    "the first player's learning rate"
                } else {
                    "the second player's learning rate"
                },
                value: eta,
                requirement: "must be finite and > 0",
            });
        }
    }
    let (nx, ny) = game.dims();
    let jacobian = game
        .jacobian(equilibrium.0, equilibrium.1)
        .map_err(|e| GenerativeError::Game(e.to_string()))?;
    let n = nx + ny;
    let rates: Vec<f64> = (0..n).map(|i| if i < nx { lr[0] } else { lr[1] }).collect();
    let field = |z: &[f64]| -> Vec<f64> {
        (0..n)
            .map(|i| (0..n).map(|j| jacobian.as_slice()[i * n + j] * z[j]).sum())
            .collect()
    };
    let descend = |z: &[f64], v: &[f64], only: std::ops::Range<usize>| -> Vec<f64> {
        let mut out = z.to_vec();
        for i in only {
            out[i] -= rates[i] * v[i];
        }
        out
    };
    let step = |z: &[f64]| -> Vec<f64> {
        match scheme {
            GameScheme::Simultaneous | GameScheme::Optimistic => descend(z, &field(z), 0..n),
            GameScheme::Alternating => {
                let moved = descend(z, &field(z), 0..nx);
                descend(&moved, &field(&moved), nx..n)
            }
            GameScheme::Extragradient => {
                let half = descend(z, &field(z), 0..n);
                descend(z, &field(&half), 0..n)
            }
        }
    };
    let size = if scheme == GameScheme::Optimistic {
        2 * n
    } else {
        n
    };
    let mut columns = Vec::with_capacity(size);
    for k in 0..size {
        let mut basis = vec![0.0; size];
        basis[k] = 1.0;
        let column = if scheme == GameScheme::Optimistic {
            // z_{k+1} = z_k − η (2 V(z_k) − V(z_{k−1})), and z_k moves to the second half.
            let (current, previous) = basis.split_at(n);
            let (v_now, v_before) = (field(current), field(previous));
            let push: Vec<f64> = (0..n).map(|i| 2.0 * v_now[i] - v_before[i]).collect();
            let mut next = descend(current, &push, 0..n);
            next.extend_from_slice(current);
            next
        } else {
            step(&basis)
        };
        columns.push(column);
    }
    let mut data = vec![0.0; size * size];
    for (j, column) in columns.iter().enumerate() {
        for (i, value) in column.iter().enumerate() {
            data[i * size + j] = *value;
        }
    }
    Matrix::from_row_major(size, size, data).map_err(|e| GenerativeError::Game(e.to_string()))
}
