//! Two-player differentiable games (GANs are one): each player descends its own loss.
//!
//! Player 1 holds `x` and minimises `L₁(x, y)`; player 2 holds `y` and minimises `L₂(x, y)`.
//! A zero-sum game `min_x max_y f` is `L₁ = f`, `L₂ = -f`, and "gradient descent-ascent" is
//! gradient descent on both losses. The *game vector field* is
//! `V(x, y) = (∇ₓL₁, ∇ᵧL₂)`; its Jacobian's eigenvalues decide the local behaviour of the
//! schemes ([`GameScheme`]). For `min_x max_y xy`, `V = (y, -x)` is a pure rotation
//! (eigenvalues `±i`): simultaneous steps spiral out by `√(1+η²)` per step, alternating steps
//! cycle, extragradient and optimistic steps converge.
//!
//! - [`plain`]: the schemes on `f64` vectors, for analysis;
//! - `GameOptimizer` (feature `burn`): the same schemes on a pair of burn modules, each player
//!   updated by its own burn optimizer.

pub mod plain;

#[cfg(feature = "burn")]
mod modules;

#[cfg(feature = "burn")]
pub use modules::GameOptimizer;
pub use plain::{BilinearGame, ClosureGame, Game, GamePlay, GameTrajectory, play, play_with_rules};

/// One of the two players.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Player {
    /// The player holding `x` (the generator, the minimiser of `f`).
    First,
    /// The player holding `y` (the discriminator or critic, the maximiser of `f`).
    Second,
}

/// How the two players' updates are interleaved. With `g = V(x, y)` the game vector field and
/// `η` each player's learning rate (updates written for plain gradient steps):
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GameScheme {
    /// Both step from the same point: `(x, y) ← (x, y) - η V(x, y)`.
    Simultaneous,
    /// The first player steps, then the second answers the new `x`:
    /// `x ← x - η ∇ₓL₁(x, y)`, then `y ← y - η ∇ᵧL₂(x_new, y)`.
    Alternating,
    /// Korpelevich's extragradient: a look-ahead step, then a step from the original point with
    /// the look-ahead gradient: `z½ = z - η V(z)`, `z ← z - η V(z½)`.
    Extragradient,
    /// Optimistic gradient (Popov; Daskalakis et al.): `z ← z - η (2 V(z_k) - V(z_{k-1}))`, the
    /// first step using `V(z_{-1}) = V(z_0)`. One gradient per step, like simultaneous play.
    Optimistic,
}

impl GameScheme {
    /// All schemes, for sweeps.
    pub const ALL: [GameScheme; 4] = [
        GameScheme::Simultaneous,
        GameScheme::Alternating,
        GameScheme::Extragradient,
        GameScheme::Optimistic,
    ];

    /// Short name for tables and plots.
    pub fn name(self) -> &'static str {
        match self {
            GameScheme::Simultaneous => "simultaneous",
            GameScheme::Alternating => "alternating",
            GameScheme::Extragradient => "extragradient",
            GameScheme::Optimistic => "optimistic",
        }
    }
}
