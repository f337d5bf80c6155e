//! `summary.json`: the measured numbers next to what theory predicts.

use serde::Serialize;

/// The whole summary.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Always `"optim-dynamics"`.
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// Whether the MLPs were trained (fresh or resumed) in this run; false with `--load`.
    pub trained: bool,
    /// Backend of the burn part.
    pub backend: String,
    /// Precision of the burn part.
    pub precision: String,
    /// Output folder.
    pub out_dir: String,
    /// Linear rates on quadratics.
    pub rates: Vec<RateSummary>,
    /// Final distances to the minimiser in the momentum study.
    pub momentum: Vec<ProblemSummary>,
    /// The bilinear game.
    pub game: GameSummary,
    /// Gradient descent against gradient flow; heavy-ball against its ODE.
    pub flow: FlowSummary,
    /// The optimizers training the MLP on the chosen backend.
    pub training: Vec<TrainingSummary>,
    /// Figures written, relative to the output folder.
    pub figures: Vec<String>,
    /// Wall time in seconds.
    pub wall_s: f64,
}

/// Rates on one condition number.
#[derive(Debug, Clone, Serialize)]
pub struct RateSummary {
    /// Condition number κ.
    pub kappa: f64,
    /// Measured GD rate.
    pub gd_measured: f64,
    /// `(κ-1)/(κ+1)`.
    pub gd_theory: f64,
    /// `|measured - theory| / theory`.
    pub gd_relative_error: f64,
    /// Measured heavy-ball rate.
    pub heavy_ball_measured: f64,
    /// `(√κ-1)/(√κ+1)`.
    pub heavy_ball_theory: f64,
    /// `|measured - theory| / theory`.
    pub heavy_ball_relative_error: f64,
}

/// Final distance per method on one problem.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemSummary {
    /// Problem.
    pub problem: String,
    /// Iterations.
    pub steps: usize,
    /// `(method label, final distance to the minimiser)`.
    pub final_distance: Vec<(String, f64)>,
}

/// The bilinear game `min_x max_y xy`.
#[derive(Debug, Clone, Serialize)]
pub struct GameSummary {
    /// Step size.
    pub eta: f64,
    /// Jacobian eigenvalues as `[re, im]`.
    pub jacobian_eigenvalues: Vec<[f64; 2]>,
    /// `√(1+η²)`.
    pub simultaneous_growth_theory: f64,
    /// Spectral radius of `I - ηJ` from the eigenvalue routine.
    pub simultaneous_growth_eigen: f64,
    /// Mean measured growth factor per step.
    pub simultaneous_growth_measured: f64,
    /// Largest per-step deviation from `√(1+η²)`.
    pub simultaneous_growth_max_error: f64,
    /// Steps of the alternating run.
    pub alternating_steps: usize,
    /// Largest distance to the equilibrium over the alternating run.
    pub alternating_max_distance: f64,
    /// Smallest distance to the equilibrium over the alternating run.
    pub alternating_min_distance: f64,
    /// Steps of the extragradient and optimistic runs.
    pub converge_steps: usize,
    /// Extragradient's final distance.
    pub extragradient_final_distance: f64,
    /// Extragradient's measured rate.
    pub extragradient_rate_measured: f64,
    /// `√(1-η²+η⁴)`.
    pub extragradient_rate_theory: f64,
    /// Optimistic play's final distance.
    pub optimistic_final_distance: f64,
    /// Largest difference between the game on burn modules (chosen backend) and the f64 game.
    pub modules_vs_plain_max_difference: f64,
}

/// The continuous-time limit.
#[derive(Debug, Clone, Serialize)]
pub struct FlowSummary {
    /// GD step sizes.
    pub etas: Vec<f64>,
    /// `max_k |θ_k - θ(kη)|` on `[0, T]`.
    pub gaps: Vec<f64>,
    /// Slope of log gap against log η (theory: 1).
    pub slope: f64,
    /// Damping of the heavy-ball ODE.
    pub heavy_ball_damping: f64,
    /// Heavy-ball step sizes (`γ = 1 - b√η`).
    pub heavy_ball_etas: Vec<f64>,
    /// Heavy-ball gaps to the ODE.
    pub heavy_ball_gaps: Vec<f64>,
    /// Slope of log gap against log √η (theory: 1).
    pub heavy_ball_slope: f64,
}

/// One optimizer training the MLP.
#[derive(Debug, Clone, Serialize)]
pub struct TrainingSummary {
    /// Optimizer.
    pub optimizer: String,
    /// Learning rate.
    pub lr: f64,
    /// Steps trained: the step of the checkpoint evaluated.
    pub steps: u64,
    /// Full-batch loss before training.
    pub initial_loss: f64,
    /// Full-batch loss after training.
    pub final_loss: f64,
    /// The run directory holding the rule's checkpoints and `metrics.jsonl`.
    pub run_dir: Option<String>,
}
