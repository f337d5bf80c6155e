//! The optimizers on burn modules, on the chosen backend: training the MLP with mini-batches,
//! and the bilinear game played by a pair of modules.

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::{ShapeMismatch, State};
use sysdyn_optim::game::{BilinearGame, GameScheme, play};
use sysdyn_optim::sampler::EpochSampler;
use sysdyn_optim::{
    Adam, GameOptimizer, GradientDescent, HeavyBall, Nesterov, Player, RmsProp, UpdateRule,
};

use crate::ExampleError;
use crate::model::Mlp;

/// Training data: `y = sin(1.5 x)` on `POINTS` evenly spaced `x ∈ [-2, 2]`.
pub const POINTS: usize = 128;
/// Mini-batch size.
pub const BATCH: usize = 16;
/// Hidden width.
pub const HIDDEN: usize = 32;

/// One optimizer's training run.
#[derive(Debug, Clone)]
pub struct TrainingRun {
    /// Rule name.
    pub name: &'static str,
    /// Learning rate.
    pub lr: f64,
    /// Steps at which the full-batch loss was evaluated.
    pub steps: Vec<f64>,
    /// The full-batch loss at those steps.
    pub losses: Vec<f64>,
}

fn target(x: f64) -> f64 {
    (1.5 * x).sin()
}

fn inputs() -> Vec<f64> {
    (0..POINTS)
        .map(|i| -2.0 + 4.0 * i as f64 / (POINTS - 1) as f64)
        .collect()
}

fn mse(model: &Mlp, device: &SysDevice, xs: &[f64]) -> Result<Tensor<1>, ShapeMismatch> {
    let n = xs.len();
    let x = device.tensor(xs.to_vec(), [n, 1])?;
    let y = device.tensor(xs.iter().map(|&x| target(x)).collect::<Vec<_>>(), [n, 1])?;
    Ok((model.forward(x) - y).square().mean())
}

fn train_one<R: UpdateRule>(
    rule: &R,
    lr: f64,
    device: &SysDevice,
    steps: usize,
    eval_every: usize,
    seed: u64,
) -> Result<TrainingRun, ExampleError> {
    let xs = inputs();
    // Every optimizer starts from the same weights and sees the same batches. The sampler's
    // offset keeps the default seed's published numbers (weights from 5, batches from 17).
    let mut model = Mlp::new(device, HIDDEN, seed);
    let mut optimizer = rule.module_optimizer();
    let mut sampler = EpochSampler::new(POINTS, BATCH, seed.wrapping_add(12))?;
    let mut run = TrainingRun {
        name: rule.name(),
        lr,
        steps: Vec::new(),
        losses: Vec::new(),
    };
    for step in 0..=steps {
        if step % eval_every == 0 || step == steps {
            run.steps.push(step as f64);
            run.losses.push(mse(&model, device, &xs)?.to_f64_vec()[0]);
        }
        if step == steps {
            break;
        }
        let batch: Vec<f64> = sampler.next_batch().iter().map(|&i| xs[i]).collect();
        let loss = mse(&model, device, &batch)?;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(lr, model, grads);
    }
    Ok(run)
}

/// Trains a fresh MLP, drawn from `seed`, with each optimizer on `device` (an autodiff device).
pub fn train_all(
    device: &SysDevice,
    steps: usize,
    seed: u64,
) -> Result<Vec<TrainingRun>, ExampleError> {
    let every = (steps / 50).max(1);
    Ok(vec![
        train_one(&GradientDescent, 0.05, device, steps, every, seed)?,
        train_one(&HeavyBall::new(0.9)?, 0.01, device, steps, every, seed)?,
        train_one(&Nesterov::new(0.9)?, 0.01, device, steps, every, seed)?,
        train_one(&RmsProp::wgan(), 0.002, device, steps, every, seed)?,
        train_one(&Adam::default(), 0.01, device, steps, every, seed)?,
    ])
}

/// One player of the bilinear game as a burn module.
#[derive(Module, Debug)]
struct Scalar {
    value: Param<Tensor<1>>,
}

/// Largest difference between the module game (on `device`) and the plain f64 game, over every
/// scheme and `steps` steps with step `eta`.
pub fn game_on_device(device: &SysDevice, eta: f64, steps: usize) -> Result<f64, ExampleError> {
    let (x0, y0) = crate::experiments::GAME_START;
    let mut worst: f64 = 0.0;
    for scheme in GameScheme::ALL {
        let reference = play(&BilinearGame::scalar(), scheme, [eta, eta], &x0, &y0, steps)?;
        let mut optimizer = GameOptimizer::new(scheme, [eta, eta])?;
        let mut x = Scalar {
            value: Param::from_tensor(device.tensor(x0, [1])?),
        };
        let mut y = Scalar {
            value: Param::from_tensor(device.tensor(y0, [1])?),
        };
        // min_x max_y xy: player 1 descends xy, player 2 descends -xy.
        let mut grads = |player: Player, x: &Scalar, y: &Scalar| {
            let f = (x.value.val() * y.value.val()).sum();
            match player {
                Player::First => GradientsParams::from_grads(f.backward(), x),
                Player::Second => GradientsParams::from_grads(f.neg().backward(), y),
            }
        };
        for k in 1..=steps {
            (x, y) = optimizer.step(x, y, &mut grads);
            let got = [x.value.val().to_f64_vec()[0], y.value.val().to_f64_vec()[0]];
            let expected = [reference.xs[k][0], reference.ys[k][0]];
            for (g, e) in got.iter().zip(expected) {
                worst = worst.max((g - e).abs());
            }
        }
    }
    Ok(worst)
}
