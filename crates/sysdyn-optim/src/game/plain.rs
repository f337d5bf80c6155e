//! The game schemes on plain `f64` vectors.

use super::{GameScheme, Player};
use crate::analysis::{Matrix, jacobian_fd};
use crate::error::{OptimError, check_learning_rate, same_len};
use crate::rules::{GradientDescent, UpdateRule};

/// A two-player game on `f64` vectors: each player's gradient of its own loss.
pub trait Game {
    /// `(dim x, dim y)`.
    fn dims(&self) -> (usize, usize);

    /// `∇ₓL₁(x, y)` for [`Player::First`], `∇ᵧL₂(x, y)` for [`Player::Second`].
    fn gradient(&self, player: Player, x: &[f64], y: &[f64]) -> Vec<f64>;

    /// The game vector field `V(z) = (∇ₓL₁, ∇ᵧL₂)` at `z = (x, y)` concatenated.
    fn vector_field(&self, z: &[f64]) -> Vec<f64> {
        let (x, y) = z.split_at(self.dims().0);
        let mut v = self.gradient(Player::First, x, y);
        v.extend(self.gradient(Player::Second, x, y));
        v
    }

    /// The Jacobian of [`Game::vector_field`] at `(x, y)`; by central differences unless the
    /// game knows it exactly.
    fn jacobian(&self, x: &[f64], y: &[f64]) -> Result<Matrix, OptimError> {
        let (nx, ny) = self.dims();
        same_len("first player's parameters", nx, x.len())?;
        same_len("second player's parameters", ny, y.len())?;
        let z: Vec<f64> = x.iter().chain(y).copied().collect();
        jacobian_fd(|z| self.vector_field(z), &z)
    }
}

/// The bilinear zero-sum game `min_x max_y xᵀAy`: `L₁ = xᵀAy`, `L₂ = -xᵀAy`, equilibrium at the
/// origin (unique when `A` is square and invertible).
#[derive(Debug, Clone, PartialEq)]
pub struct BilinearGame {
    a: Matrix,
}

impl BilinearGame {
    /// The game with coupling matrix `a` (`dim x = rows`, `dim y = cols`).
    pub fn new(a: Matrix) -> Self {
        BilinearGame { a }
    }

    /// `min_x max_y x·y` on scalars.
    pub fn scalar() -> Self {
        BilinearGame {
            a: Matrix::identity(1),
        }
    }

    /// The coupling matrix.
    pub fn coupling(&self) -> &Matrix {
        &self.a
    }
}

impl Game for BilinearGame {
    fn dims(&self) -> (usize, usize) {
        (self.a.rows(), self.a.cols())
    }

    fn gradient(&self, player: Player, x: &[f64], y: &[f64]) -> Vec<f64> {
        match player {
            // ∇ₓ(xᵀAy) = A y
            Player::First => (0..self.a.rows())
                .map(|i| (0..self.a.cols()).map(|j| self.a[(i, j)] * y[j]).sum())
                .collect(),
            // ∇ᵧ(-xᵀAy) = -Aᵀx
            Player::Second => (0..self.a.cols())
                .map(|j| {
                    -(0..self.a.rows())
                        .map(|i| self.a[(i, j)] * x[i])
                        .sum::<f64>()
                })
                .collect(),
        }
    }

    /// Exact: `[[0, A], [-Aᵀ, 0]]`, constant.
    fn jacobian(&self, x: &[f64], y: &[f64]) -> Result<Matrix, OptimError> {
        let (nx, ny) = self.dims();
        same_len("first player's parameters", nx, x.len())?;
        same_len("second player's parameters", ny, y.len())?;
        let mut j = Matrix::zeros(nx + ny, nx + ny);
        for r in 0..nx {
            for c in 0..ny {
                j[(r, nx + c)] = self.a[(r, c)];
                j[(nx + c, r)] = -self.a[(r, c)];
            }
        }
        Ok(j)
    }
}

/// A game from two gradient closures.
pub struct ClosureGame<F, G> {
    dims: (usize, usize),
    first: F,
    second: G,
}

impl<F, G> ClosureGame<F, G>
where
    F: Fn(&[f64], &[f64]) -> Vec<f64>,
    G: Fn(&[f64], &[f64]) -> Vec<f64>,
{
    /// `first(x, y) = ∇ₓL₁`, `second(x, y) = ∇ᵧL₂`, with `dims = (dim x, dim y)`.
    pub fn new(dims: (usize, usize), first: F, second: G) -> Self {
        ClosureGame {
            dims,
            first,
            second,
        }
    }
}

impl<F, G> Game for ClosureGame<F, G>
where
    F: Fn(&[f64], &[f64]) -> Vec<f64>,
    G: Fn(&[f64], &[f64]) -> Vec<f64>,
{
    fn dims(&self) -> (usize, usize) {
        self.dims
    }

    fn gradient(&self, player: Player, x: &[f64], y: &[f64]) -> Vec<f64> {
        match player {
            Player::First => (self.first)(x, y),
            Player::Second => (self.second)(x, y),
        }
    }
}

/// The iterates of a game.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GameTrajectory {
    /// First player's iterates, `x_0` first.
    pub xs: Vec<Vec<f64>>,
    /// Second player's iterates, `y_0` first.
    pub ys: Vec<Vec<f64>>,
}

impl GameTrajectory {
    /// Euclidean distance of each joint iterate `(x_k, y_k)` to `(x_star, y_star)`.
    pub fn distances_to(&self, x_star: &[f64], y_star: &[f64]) -> Vec<f64> {
        self.xs
            .iter()
            .zip(&self.ys)
            .map(|(x, y)| {
                let dx: f64 = x.iter().zip(x_star).map(|(a, b)| (a - b) * (a - b)).sum();
                let dy: f64 = y.iter().zip(y_star).map(|(a, b)| (a - b) * (a - b)).sum();
                (dx + dy).sqrt()
            })
            .collect()
    }
}

/// A game being played with one scheme: the current point, each player's update rule and its
/// state, and what the scheme remembers.
///
/// With [`GradientDescent`] (the default) the players take plain gradient steps and the schemes
/// are the textbook ones. Other rules generalise them as the burn
/// `GameOptimizer` (feature `burn`) does: extragradient takes its look-ahead step with a
/// copy of each rule's state, so only the real step advances it; optimistic play feeds
/// `2 g_k - g_{k-1}` to the rule.
#[derive(Debug, Clone, PartialEq)]
pub struct GamePlay<R: UpdateRule = GradientDescent> {
    scheme: GameScheme,
    rules: [R; 2],
    states: [R::State; 2],
    lr: [f64; 2],
    x: Vec<f64>,
    y: Vec<f64>,
    /// The previous vector field, for the optimistic scheme.
    previous: Option<(Vec<f64>, Vec<f64>)>,
}

impl GamePlay<GradientDescent> {
    /// Plain gradient steps from `(x0, y0)` with learning rates `lr = [η₁, η₂]` (both > 0).
    pub fn new<G: Game>(
        game: &G,
        scheme: GameScheme,
        lr: [f64; 2],
        x0: &[f64],
        y0: &[f64],
    ) -> Result<Self, OptimError> {
        Self::with_rules(game, scheme, [GradientDescent, GradientDescent], lr, x0, y0)
    }
}

impl<R: UpdateRule> GamePlay<R> {
    /// Each player updated by its own rule (`rules[0]` for `x`, `rules[1]` for `y`).
    pub fn with_rules<G: Game>(
        game: &G,
        scheme: GameScheme,
        rules: [R; 2],
        lr: [f64; 2],
        x0: &[f64],
        y0: &[f64],
    ) -> Result<Self, OptimError> {
        check_learning_rate(lr[0])?;
        check_learning_rate(lr[1])?;
        let (nx, ny) = game.dims();
        same_len("first player's start", nx, x0.len())?;
        same_len("second player's start", ny, y0.len())?;
        let states = [rules[0].init_state(nx), rules[1].init_state(ny)];
        Ok(GamePlay {
            scheme,
            rules,
            states,
            lr,
            x: x0.to_vec(),
            y: y0.to_vec(),
            previous: None,
        })
    }

    /// The first player's current parameters.
    pub fn x(&self) -> &[f64] {
        &self.x
    }

    /// The second player's current parameters.
    pub fn y(&self) -> &[f64] {
        &self.y
    }

    fn update_x(&mut self, grad: &[f64]) {
        self.rules[0].update(self.lr[0], &mut self.x, grad, &mut self.states[0]);
    }

    fn update_y(&mut self, grad: &[f64]) {
        self.rules[1].update(self.lr[1], &mut self.y, grad, &mut self.states[1]);
    }

    /// One step of the scheme.
    pub fn step<G: Game>(&mut self, game: &G) {
        match self.scheme {
            GameScheme::Simultaneous => {
                let gx = game.gradient(Player::First, &self.x, &self.y);
                let gy = game.gradient(Player::Second, &self.x, &self.y);
                self.update_x(&gx);
                self.update_y(&gy);
            }
            GameScheme::Alternating => {
                let gx = game.gradient(Player::First, &self.x, &self.y);
                self.update_x(&gx);
                let gy = game.gradient(Player::Second, &self.x, &self.y);
                self.update_y(&gy);
            }
            GameScheme::Extragradient => {
                let gx = game.gradient(Player::First, &self.x, &self.y);
                let gy = game.gradient(Player::Second, &self.x, &self.y);
                // Look-ahead with copies of the states: only the real step advances them.
                let (mut x_half, mut y_half) = (self.x.clone(), self.y.clone());
                let (mut sx, mut sy) = (self.states[0].clone(), self.states[1].clone());
                self.rules[0].update(self.lr[0], &mut x_half, &gx, &mut sx);
                self.rules[1].update(self.lr[1], &mut y_half, &gy, &mut sy);
                let gx = game.gradient(Player::First, &x_half, &y_half);
                let gy = game.gradient(Player::Second, &x_half, &y_half);
                self.update_x(&gx);
                self.update_y(&gy);
            }
            GameScheme::Optimistic => {
                let gx = game.gradient(Player::First, &self.x, &self.y);
                let gy = game.gradient(Player::Second, &self.x, &self.y);
                let (px, py) = self
                    .previous
                    .take()
                    .unwrap_or_else(|| (gx.clone(), gy.clone()));
                let ex: Vec<f64> = gx.iter().zip(&px).map(|(g, p)| 2.0 * g - p).collect();
                let ey: Vec<f64> = gy.iter().zip(&py).map(|(g, p)| 2.0 * g - p).collect();
                self.update_x(&ex);
                self.update_y(&ey);
                self.previous = Some((gx, gy));
            }
        }
    }
}

/// Plays `steps` steps of `scheme` from `(x0, y0)` with learning rates `lr = [η₁, η₂]` and
/// returns the `steps + 1` iterates.
///
/// ```
/// use sysdyn_optim::game::{BilinearGame, GameScheme, play};
///
/// // Simultaneous play on min_x max_y xy spirals out by √(1+η²) per step.
/// let eta = 0.1;
/// let t = play(&BilinearGame::scalar(), GameScheme::Simultaneous, [eta, eta], &[1.0], &[0.0], 10)?;
/// let d = t.distances_to(&[0.0], &[0.0]);
/// assert!((d[10] - (1.0 + eta * eta).powf(5.0)).abs() < 1e-12);
/// # Ok::<(), sysdyn_optim::OptimError>(())
/// ```
pub fn play<G: Game>(
    game: &G,
    scheme: GameScheme,
    lr: [f64; 2],
    x0: &[f64],
    y0: &[f64],
    steps: usize,
) -> Result<GameTrajectory, OptimError> {
    play_with_rules(
        game,
        scheme,
        [GradientDescent, GradientDescent],
        lr,
        x0,
        y0,
        steps,
    )
}

/// Like [`play`], with each player updated by its own rule (see [`GamePlay`]).
pub fn play_with_rules<G: Game, R: UpdateRule>(
    game: &G,
    scheme: GameScheme,
    rules: [R; 2],
    lr: [f64; 2],
    x0: &[f64],
    y0: &[f64],
    steps: usize,
) -> Result<GameTrajectory, OptimError> {
    let mut state = GamePlay::with_rules(game, scheme, rules, lr, x0, y0)?;
    let mut out = GameTrajectory {
        xs: Vec::with_capacity(steps + 1),
        ys: Vec::with_capacity(steps + 1),
    };
    out.xs.push(x0.to_vec());
    out.ys.push(y0.to_vec());
    for _ in 0..steps {
        state.step(game);
        out.xs.push(state.x.clone());
        out.ys.push(state.y.clone());
    }
    Ok(out)
}
