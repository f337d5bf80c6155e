//! The game schemes on a pair of burn modules.

use std::fmt;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::Tensor;

use super::{GameScheme, Player};
use crate::error::{OptimError, check_learning_rate};
use crate::rules::UpdateRule;

/// Plays a two-player game on a pair of burn modules.
///
/// Each player has its own burn optimizer (plain gradient steps by default; RMSProp for a WGAN
/// critic, Adam, heavy-ball... through [`GameOptimizer::with_optimizers`]) and learning rate. The
/// scheme decides at which points the gradients are taken and in what order the players move
/// (see [`GameScheme`]); gradients come from a closure `grads(player, &first, &second)` that
/// returns the gradient of that player's own loss with respect to that player's parameters,
/// typically `GradientsParams::from_grads(loss.backward(), module)`.
///
/// With stateful base optimizers the schemes are generalised as follows: extragradient takes
/// its look-ahead step with a throw-away copy of each optimizer, so only the real step advances
/// the optimizer state; optimistic play feeds `2 g_k - g_{k-1}` to the optimizer in place of
/// `g_k`. With plain gradient steps both reduce to the textbook schemes, and the iterates equal
/// those of [`play`](super::play) (tested).
pub struct GameOptimizer {
    scheme: GameScheme,
    lr: [f64; 2],
    optimizers: [ModuleOptimizer; 2],
    previous: [Option<GradientsParams>; 2],
}

impl fmt::Debug for GameOptimizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GameOptimizer")
            .field("scheme", &self.scheme)
            .field("lr", &self.lr)
            .finish_non_exhaustive()
    }
}

fn index(player: Player) -> usize {
    match player {
        Player::First => 0,
        Player::Second => 1,
    }
}

/// `2 g_k - g_{k-1}` for every parameter of a module (just `g_k` where no `g_{k-1}` exists).
struct Optimism<'a> {
    current: &'a GradientsParams,
    previous: Option<&'a GradientsParams>,
    out: GradientsParams,
}

impl ModuleVisitor for Optimism<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(g) = self.current.get::<D>(param.id) else {
            return;
        };
        let extrapolated = match self.previous.and_then(|p| p.get::<D>(param.id)) {
            Some(p) => g.mul_scalar(2.0) - p,
            None => g,
        };
        self.out.register(param.id, extrapolated);
    }
}

impl GameOptimizer {
    /// Plain gradient steps for both players with learning rates `lr = [η₁, η₂]` (both > 0).
    pub fn new(scheme: GameScheme, lr: [f64; 2]) -> Result<Self, OptimError> {
        Self::with_optimizers(scheme, lr, SgdConfig::new().init(), SgdConfig::new().init())
    }

    /// Each player updated by one of our update rules (`rules[0]` for the first player), the
    /// burn counterpart of [`GamePlay::with_rules`](super::GamePlay::with_rules).
    pub fn with_rules<R: UpdateRule>(
        scheme: GameScheme,
        rules: [R; 2],
        lr: [f64; 2],
    ) -> Result<Self, OptimError> {
        let [first, second] = rules;
        Self::with_optimizers(
            scheme,
            lr,
            first.module_optimizer(),
            second.module_optimizer(),
        )
    }

    /// Each player updated by its own burn optimizer, e.g. `RmsProp::wgan().module_optimizer()`
    /// or any optimizer burn provides.
    pub fn with_optimizers(
        scheme: GameScheme,
        lr: [f64; 2],
        first: ModuleOptimizer,
        second: ModuleOptimizer,
    ) -> Result<Self, OptimError> {
        check_learning_rate(lr[0])?;
        check_learning_rate(lr[1])?;
        Ok(GameOptimizer {
            scheme,
            lr,
            optimizers: [first, second],
            previous: [None, None],
        })
    }

    /// The scheme.
    pub fn scheme(&self) -> GameScheme {
        self.scheme
    }

    /// A player's optimizer, e.g. to save its state with `to_record`.
    pub fn optimizer(&self, player: Player) -> &ModuleOptimizer {
        &self.optimizers[index(player)]
    }

    fn update<M: Module>(&mut self, player: Player, module: M, grads: GradientsParams) -> M {
        let i = index(player);
        self.optimizers[i].step(self.lr[i], module, grads)
    }

    fn optimistic<M: Module>(&mut self, player: Player, module: M, grads: GradientsParams) -> M {
        let i = index(player);
        let mut optimism = Optimism {
            current: &grads,
            previous: self.previous[i].as_ref(),
            out: GradientsParams::new(),
        };
        module.visit(&mut optimism);
        let extrapolated = optimism.out;
        let module = self.update(player, module, extrapolated);
        self.previous[i] = Some(grads);
        module
    }

    /// One step of the scheme; returns the updated players.
    pub fn step<A, B, F>(&mut self, first: A, second: B, mut grads: F) -> (A, B)
    where
        A: Module,
        B: Module,
        F: FnMut(Player, &A, &B) -> GradientsParams,
    {
        match self.scheme {
            GameScheme::Simultaneous => {
                let ga = grads(Player::First, &first, &second);
                let gb = grads(Player::Second, &first, &second);
                let first = self.update(Player::First, first, ga);
                let second = self.update(Player::Second, second, gb);
                (first, second)
            }
            GameScheme::Alternating => {
                let ga = grads(Player::First, &first, &second);
                let first = self.update(Player::First, first, ga);
                let gb = grads(Player::Second, &first, &second);
                let second = self.update(Player::Second, second, gb);
                (first, second)
            }
            GameScheme::Extragradient => {
                let ga = grads(Player::First, &first, &second);
                let gb = grads(Player::Second, &first, &second);
                // The look-ahead uses copies: only the real step advances optimizer state.
                let first_half = self.optimizers[0]
                    .clone()
                    .step(self.lr[0], first.clone(), ga);
                let second_half = self.optimizers[1]
                    .clone()
                    .step(self.lr[1], second.clone(), gb);
                let ga = grads(Player::First, &first_half, &second_half);
                let gb = grads(Player::Second, &first_half, &second_half);
                let first = self.update(Player::First, first, ga);
                let second = self.update(Player::Second, second, gb);
                (first, second)
            }
            GameScheme::Optimistic => {
                let ga = grads(Player::First, &first, &second);
                let gb = grads(Player::Second, &first, &second);
                let first = self.optimistic(Player::First, first, ga);
                let second = self.optimistic(Player::Second, second, gb);
                (first, second)
            }
        }
    }
}
