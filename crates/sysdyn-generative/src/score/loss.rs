//! Score models and time-continuous denoising score matching (Vincent 2011; Song et al. 2021).
//!
//! For `t ~ U(ε, 1)`, `z ~ N(0, I)` and `x_t = m(t) x_0 + s(t) z`, the conditional score is
//! `∇ log p(x_t | x_0) = −z / s(t)`, and
//!
//! `L(θ) = E_t E_{x_0, z} [ ½ λ(t) ‖s_θ(x_t, t) + z / s(t)‖² ]`
//!
//! differs from `E ½ λ ‖s_θ − ∇ log p_t‖²` by a constant, so its minimiser is the true score of
//! the noisy marginals. `λ(t) = s(t)²` ([`Weighting::Variance`]) makes every time's term of
//! order one; `λ(t) = g(t)²` ([`Weighting::Likelihood`]) makes the loss a bound on the negative
//! log-likelihood of the probability-flow and reverse-SDE models (Song, Durkan et al. 2021).

use burn::module::Module;
use burn::tensor::Tensor;
use sysdyn_core::jet::{JetForward, Mlp};
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::inputs::check_width;
use crate::score::host_tensor;
use crate::score::sde::{ForwardSde, check_epsilon};

/// A time-conditional score network `s_θ(x, t) ≈ ∇ₓ log p_t(x)`.
pub trait ScoreModel: Module {
    /// The width `d` of a data row.
    fn data_width(&self) -> usize;

    /// The scores of the rows of `x` (`[batch, d]`) at the times `t` (`[batch, 1]`).
    fn score(&self, x: Tensor<2>, t: Tensor<2>) -> Result<Tensor<2>, GenerativeError>;

    /// The exact divergence `∇ₓ·s(x, t)`, `[batch, 1]`, when the model computes it itself
    /// (forward-mode jets: one pass, no autodiff device needed), or `None`.
    fn score_divergence(
        &self,
        x: Tensor<2>,
        t: Tensor<2>,
    ) -> Option<Result<Tensor<2>, GenerativeError>> {
        let _ = (x, t);
        None
    }
}

/// A noise-conditional score network `s_θ(x, σ) ≈ ∇ₓ log p_σ(x)` (NCSN), with
/// `p_σ = p_data ∗ N(0, σ² I)`.
pub trait NoiseConditionalScoreModel: Module {
    /// The width `d` of a data row.
    fn data_width(&self) -> usize;

    /// The scores of the rows of `x` (`[batch, d]`) at the noise levels `sigma` (`[batch, 1]`).
    fn noise_score(&self, x: Tensor<2>, sigma: Tensor<2>) -> Result<Tensor<2>, GenerativeError>;
}

/// An MLP of input width `d + 1` and output width `d` on `[x, t]`.
impl ScoreModel for Mlp {
    fn data_width(&self) -> usize {
        self.widths().last().copied().unwrap_or(0)
    }

    fn score(&self, x: Tensor<2>, t: Tensor<2>) -> Result<Tensor<2>, GenerativeError> {
        check_width(
            "score model input [x, t]",
            x.dims()[1] + 1,
            self.widths()[0],
        )?;
        Ok(self.forward(Tensor::cat(vec![x, t], 1))?)
    }

    /// `Σᵢ ∂sᵢ/∂xᵢ` from the core's jets, seeding the `x` columns of `[x, t]`.
    fn score_divergence(
        &self,
        x: Tensor<2>,
        t: Tensor<2>,
    ) -> Option<Result<Tensor<2>, GenerativeError>> {
        let width = x.dims()[1];
        if let Err(e) = check_width("score model input [x, t]", width + 1, self.widths()[0]) {
            return Some(Err(e));
        }
        Some(
            self.divergence(Tensor::cat(vec![x, t], 1), ..width)
                .map_err(GenerativeError::from),
        )
    }
}

/// An MLP of input width `d + 1` and output width `d` on `[x, ln σ]`, its output divided by
/// `σ` (Song & Ermon 2020's parametrisation: the score's scale `1/σ` is built in).
impl NoiseConditionalScoreModel for Mlp {
    fn data_width(&self) -> usize {
        self.widths().last().copied().unwrap_or(0)
    }

    fn noise_score(&self, x: Tensor<2>, sigma: Tensor<2>) -> Result<Tensor<2>, GenerativeError> {
        check_width(
            "score model input [x, ln σ]",
            x.dims()[1] + 1,
            self.widths()[0],
        )?;
        let out = self.forward(Tensor::cat(vec![x, sigma.clone().log()], 1))?;
        Ok(out / sigma)
    }
}

/// A score function the samplers call at one time for the whole batch: any
/// `FnMut(Tensor<2>, f64) -> Result<Tensor<2>, GenerativeError>` closure (an exact score), or a
/// model through [`ModelScore`].
pub trait ScoreFn {
    /// `∇ₓ log p_t(x)` for the rows of `x` at time (or noise level) `t`.
    fn eval(&mut self, x: Tensor<2>, t: f64) -> Result<Tensor<2>, GenerativeError>;

    /// The exact divergence `∇ₓ·s`, `[batch, 1]`, when the score computes it itself (a model
    /// with jets), or `None`: the probability flow then takes it by reverse passes.
    fn divergence(&mut self, x: Tensor<2>, t: f64) -> Option<Result<Tensor<2>, GenerativeError>> {
        let _ = (x, t);
        None
    }
}

impl<F: FnMut(Tensor<2>, f64) -> Result<Tensor<2>, GenerativeError>> ScoreFn for F {
    fn eval(&mut self, x: Tensor<2>, t: f64) -> Result<Tensor<2>, GenerativeError> {
        self(x, t)
    }
}

/// A [`ScoreModel`] as a [`ScoreFn`]: the time broadcast to a column.
#[derive(Debug)]
pub struct ModelScore<'a, M>(pub &'a M);

impl<M: ScoreModel> ScoreFn for ModelScore<'_, M> {
    fn eval(&mut self, x: Tensor<2>, t: f64) -> Result<Tensor<2>, GenerativeError> {
        let [rows, width] = x.dims();
        check_width("score model data", width, self.0.data_width())?;
        let column = Tensor::full([rows, 1], t, (&x.device(), x.dtype()));
        self.0.score(x, column)
    }

    fn divergence(&mut self, x: Tensor<2>, t: f64) -> Option<Result<Tensor<2>, GenerativeError>> {
        let rows = x.dims()[0];
        let column = Tensor::full([rows, 1], t, (&x.device(), x.dtype()));
        self.0.score_divergence(x, column)
    }
}

/// A [`NoiseConditionalScoreModel`] as a [`ScoreFn`] of the noise level `σ`.
#[derive(Debug)]
pub struct ModelNoiseScore<'a, M>(pub &'a M);

impl<M: NoiseConditionalScoreModel> ScoreFn for ModelNoiseScore<'_, M> {
    fn eval(&mut self, x: Tensor<2>, sigma: f64) -> Result<Tensor<2>, GenerativeError> {
        let [rows, width] = x.dims();
        check_width("score model data", width, self.0.data_width())?;
        let column = Tensor::full([rows, 1], sigma, (&x.device(), x.dtype()));
        self.0.noise_score(x, column)
    }
}

/// The time weighting `λ(t)` of the loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weighting {
    /// `λ(t) = s(t)²`: each time's term of order one (Song et al.'s default).
    Variance,
    /// `λ(t) = g(t)²`: the likelihood weighting, a bound on the model's NLL.
    Likelihood,
}

/// Time-continuous denoising score matching for a forward SDE, with `t ~ U(ε, 1)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DenoisingScoreMatching {
    /// The forward SDE.
    pub sde: ForwardSde,
    /// `λ(t)`.
    pub weighting: Weighting,
    /// The smallest time drawn, `ε ∈ (0, 1)` (Song et al.: 1e-5).
    pub epsilon: f64,
}

/// One draw of the DSM loss: the per-row terms and the times drawn.
#[derive(Debug, Clone)]
pub struct DsmDraw {
    /// `½ λ(tᵢ) ‖s(xᵢ, tᵢ) + zᵢ/s(tᵢ)‖²`, `[batch]`.
    pub rows: Tensor<1>,
    /// The times `tᵢ`.
    pub times: Vec<f64>,
}

impl DenoisingScoreMatching {
    /// DSM for `sde`, validated (`ε ∈ (0, 1)`).
    pub fn new(
        sde: ForwardSde,
        weighting: Weighting,
        epsilon: f64,
    ) -> Result<Self, GenerativeError> {
        sde.validate()?;
        check_epsilon(epsilon)?;
        Ok(DenoisingScoreMatching {
            sde,
            weighting,
            epsilon,
        })
    }

    /// `λ(t)`.
    pub fn weight(&self, t: f64) -> f64 {
        match self.weighting {
            Weighting::Variance => self.sde.marginal(t).1.powi(2),
            Weighting::Likelihood => self.sde.diffusion(t).powi(2),
        }
    }

    /// The per-row terms for the data rows `x0` (`[batch, d]`) with the score `score(x_t, t)`
    /// (`t` a `[batch, 1]` column); times and noise drawn from `rng`.
    pub fn draw<F>(
        &self,
        mut score: F,
        x0: Tensor<2>,
        rng: &mut SeededRng,
    ) -> Result<DsmDraw, GenerativeError>
    where
        F: FnMut(Tensor<2>, Tensor<2>) -> Result<Tensor<2>, GenerativeError>,
    {
        let [rows, width] = x0.dims();
        if rows == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "denoising score matching",
            });
        }
        let times: Vec<f64> = rng
            .uniforms(rows)
            .into_iter()
            .map(|u| self.epsilon + (1.0 - self.epsilon) * u)
            .collect();
        let (mut means, mut stds, mut weights) = (vec![], vec![], vec![]);
        for &t in &times {
            let (m, s) = self.sde.marginal(t);
            means.push(m);
            stds.push(s);
            weights.push(self.weight(t));
        }
        let column = |v: Vec<f64>| host_tensor(v, [rows, 1], &x0);
        let z = host_tensor(rng.normals(rows * width), [rows, width], &x0);
        let (m, s, lambda) = (column(means), column(stds), column(weights));
        let t = column(times.clone());
        let xt = x0 * m + z.clone() * s.clone();
        let predicted = score(xt, t)?;
        check_width("score output", predicted.dims()[1], width)?;
        let residual = predicted + z / s;
        let terms = (residual.powf_scalar(2.0).sum_dim(1) * lambda * 0.5).reshape([rows]);
        Ok(DsmDraw { rows: terms, times })
    }

    /// The loss (mean over the rows of [`DenoisingScoreMatching::draw`]) of a model.
    pub fn loss<M: ScoreModel>(
        &self,
        model: &M,
        x0: Tensor<2>,
        rng: &mut SeededRng,
    ) -> Result<Tensor<1>, GenerativeError> {
        check_width("data rows", x0.dims()[1], model.data_width())?;
        Ok(self.draw(|x, t| model.score(x, t), x0, rng)?.rows.mean())
    }
}
