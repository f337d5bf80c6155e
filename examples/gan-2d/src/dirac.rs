//! The Dirac-GAN under each update scheme: trajectories, measured rates, predicted rates.

use sysdyn_generative::gan::{DiracGan, DiracObjective, linearised_update};
use sysdyn_optim::game::{GameScheme, play};

use crate::{DiracResult, ExampleError};

/// The learning rate of both players.
pub const LEARNING_RATE: f64 = 0.1;
/// The start `(θ, ψ)`: small, so that the linearisation governs.
pub const START: (f64, f64) = (0.05, 0.0);

/// One scheme's play.
#[derive(Debug, Clone)]
pub struct DiracRun {
    /// The scheme.
    pub scheme: GameScheme,
    /// `θ` (generator) at every step.
    pub theta: Vec<f64>,
    /// `ψ` (discriminator) at every step.
    pub psi: Vec<f64>,
    /// Distance to the equilibrium at every step.
    pub distance: Vec<f64>,
    /// Spectral radius of the linearised update.
    pub predicted_rate: f64,
}

impl DiracRun {
    /// The measured factor per step over the second half of the play, next to the prediction.
    pub fn result(&self) -> DiracResult {
        let n = self.distance.len() - 1;
        let from = n / 2;
        let measured_rate = (self.distance[n] / self.distance[from]).powf(1.0 / (n - from) as f64);
        DiracResult {
            scheme: self.scheme.name(),
            predicted_rate: self.predicted_rate,
            measured_rate,
            distance_first_last: [self.distance[0], self.distance[n]],
        }
    }
}

/// Plays the cross-entropy Dirac-GAN for `steps` steps with every scheme.
pub fn play_all(steps: usize) -> Result<Vec<DiracRun>, ExampleError> {
    let game = DiracGan {
        objective: DiracObjective::CrossEntropy,
    };
    GameScheme::ALL
        .iter()
        .map(|&scheme| {
            let lr = [LEARNING_RATE, LEARNING_RATE];
            let trajectory = play(&game, scheme, lr, &[START.0], &[START.1], steps)
                .map_err(|e| ExampleError::Sample(e.to_string()))?;
            let predicted_rate = linearised_update(&game, (&[0.0], &[0.0]), scheme, lr)?
                .spectral_radius()
                .map_err(|e| ExampleError::Sample(e.to_string()))?;
            Ok(DiracRun {
                scheme,
                theta: trajectory.xs.iter().map(|x| x[0]).collect(),
                psi: trajectory.ys.iter().map(|y| y[0]).collect(),
                distance: trajectory.distances_to(&[0.0], &[0.0]),
                predicted_rate,
            })
        })
        .collect()
}
