//! Latent ODEs for irregularly sampled time series (Chen et al. 2018, Rubanova et al. 2019).
//!
//! A variational autoencoder whose latent dynamics are a neural ODE:
//!
//! ```text
//! q(z₀ | x) = N(μ, diag exp(log σ²))      encoder: a GRU run backwards over the observations
//! z(t) = z₀ + ∫ f_θ(z) dt                  latent neural ODE (backprop through the solver)
//! p(x_i | z(t_i)) = N(dec(z(t_i)), s² I)   decoder, known observation noise s
//! ELBO = E_q[Σ_observed log p(x_i | z(t_i))] − KL(q(z₀ | x) ‖ N(0, I))
//! ```
//!
//! The expectation is estimated with one reparametrised draw `z₀ = μ + exp(½ log σ²) ⊙ ε`, the
//! noise `ε` given by the caller (draw it with [`SysDevice::randn`] from a seeded
//! [`SeededRng`] so that runs are reproducible).
//!
//! Data: an [`IrregularSeries`] holds a batch of series on a shared grid of times (the union of
//! every sample's observation times) with a mask saying which sample is observed at which time,
//! so every sample may have its own irregular observation times.
//!
//! The encoder reads, for each observation, its value and the time gap to the next *observed*
//! point of the same sample (it runs from the last observation to the first), then one final
//! step carrying the state back to the grid's first time `t₀`, where `z₀` lives. Hence its
//! output depends only on the observed values and the gaps between them and to `t₀`: it is
//! unchanged by inserting unobserved grid times after `t₀`, or by shifting every time by a
//! constant; and each sample's posterior does not depend on the other samples of the batch.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Mlp, MlpConfig};
use sysdyn_core::rng::SeededRng;
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::RK4;
use sysdyn_solvers::tableau::ButcherTableau;

use crate::error::NodeError;
use crate::mlp_field::MlpField;
use crate::node::{NeuralOde, NodeMethod};
use crate::rnn::{GateWeights, Gru, RecurrentCell};

/// A batch of series observed at irregular times: values on a shared, strictly increasing grid
/// of times, with a mask of which sample is observed at which time.
#[derive(Debug, Clone, PartialEq)]
pub struct IrregularSeries {
    times: Vec<f64>,
    /// `[batch, times, dim]`, row-major; unobserved entries are stored as zero.
    values: Vec<f64>,
    /// `[batch, times]`.
    mask: Vec<bool>,
    batch: usize,
    dim: usize,
}

impl IrregularSeries {
    /// A batch from its grid `times` (strictly increasing, finite), `values` (`[batch, times,
    /// dim]` row-major) and `mask` (`[batch, times]`, true where observed). Values where the
    /// mask is false are ignored (they may be NaN); observed values must be finite.
    pub fn new(
        times: Vec<f64>,
        values: Vec<f64>,
        mask: Vec<bool>,
        dim: usize,
    ) -> Result<Self, NodeError> {
        check_increasing(&times)?;
        let bad = |reason: String| Err(NodeError::Observations { reason });
        if dim == 0 {
            return bad("the observation dimension is zero".into());
        }
        let steps = times.len();
        if mask.is_empty() || !mask.len().is_multiple_of(steps) {
            return bad(format!(
                "the mask has {} entries, not a positive multiple of the {steps} times",
                mask.len()
            ));
        }
        let batch = mask.len() / steps;
        if values.len() != batch * steps * dim {
            return bad(format!(
                "{} values given for {batch} samples × {steps} times × {dim} dimensions = {}",
                values.len(),
                batch * steps * dim
            ));
        }
        let mut values = values;
        for (cell, &observed) in mask.iter().enumerate() {
            let entries = &mut values[cell * dim..(cell + 1) * dim];
            if observed {
                if let Some(j) = entries.iter().position(|v| !v.is_finite()) {
                    return bad(format!(
                        "sample {} at times[{}] = {} has the non-finite value {} in component {j}",
                        cell / steps,
                        cell % steps,
                        times[cell % steps],
                        entries[j]
                    ));
                }
            } else {
                entries.fill(0.0);
            }
        }
        Ok(IrregularSeries {
            times,
            values,
            mask,
            batch,
            dim,
        })
    }

    /// The grid of times.
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// Number of samples.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Dimension of one observation.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Whether sample `b` is observed at grid index `k`.
    pub fn observed(&self, b: usize, k: usize) -> bool {
        self.mask[b * self.times.len() + k]
    }

    /// The value of sample `b` at grid index `k` (zeros where unobserved).
    pub fn value(&self, b: usize, k: usize) -> &[f64] {
        let at = (b * self.times.len() + k) * self.dim;
        &self.values[at..at + self.dim]
    }

    /// Number of observations of each sample.
    pub fn counts(&self) -> Vec<usize> {
        self.mask
            .chunks(self.times.len())
            .map(|m| m.iter().filter(|&&o| o).count())
            .collect()
    }

    /// Values as `[batch, times · dim]` (zeros where unobserved) and the matching 0/1 mask.
    pub fn flat_tensors(&self, device: &SysDevice) -> Result<(Tensor<2>, Tensor<2>), NodeError> {
        let width = self.times.len() * self.dim;
        let mask: Vec<f64> = self
            .mask
            .iter()
            .flat_map(|&o| std::iter::repeat_n(if o { 1.0 } else { 0.0 }, self.dim))
            .collect();
        Ok((
            device.tensor(self.values.clone(), [self.batch, width])?,
            device.tensor(mask, [self.batch, width])?,
        ))
    }
}

fn check_increasing(times: &[f64]) -> Result<(), NodeError> {
    let bad = |reason: String| Err(NodeError::Times { reason });
    if times.is_empty() {
        return bad("no times given".into());
    }
    if let Some(i) = times.iter().position(|t| !t.is_finite()) {
        return bad(format!("times[{i}] = {} is not finite", times[i]));
    }
    if let Some(i) = times.windows(2).position(|w| w[1] <= w[0]) {
        return bad(format!(
            "times[{i}] = {} and times[{}] = {} are not strictly increasing",
            times[i],
            i + 1,
            times[i + 1]
        ));
    }
    Ok(())
}

/// `KL(N(μ, diag exp(log σ²)) ‖ N(0, I)) = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²)` for each row.
pub fn kl_to_standard_normal(mean: Tensor<2>, logvar: Tensor<2>) -> Tensor<1> {
    let [batch, _] = mean.dims();
    (mean.square() + logvar.clone().exp() - logvar)
        .sub_scalar(1.0)
        .sum_dim(1)
        .mul_scalar(0.5)
        .reshape([batch])
}

/// `Σ_j m_j log N(x_j; x̂_j, s²) = Σ_j m_j (−½ log(2π s²) − (x_j − x̂_j)² / (2 s²))` for each row
/// of `predicted` (`x̂`), `observed` (`x`) and the 0/1 `mask` (`m`), all `[batch, n]`.
pub fn gaussian_log_likelihood(
    predicted: Tensor<2>,
    observed: Tensor<2>,
    mask: Tensor<2>,
    std: f64,
) -> Tensor<1> {
    let [batch, _] = predicted.dims();
    let variance = std * std;
    let normaliser = -0.5 * (2.0 * std::f64::consts::PI * variance).ln();
    let residual = (predicted - observed).square().div_scalar(2.0 * variance);
    (residual.neg().add_scalar(normaliser) * mask)
        .sum_dim(1)
        .reshape([batch])
}

/// The approximate posterior `q(z₀ | x) = N(mean, diag exp(logvar))`, each `[batch, latent]`.
#[derive(Debug, Clone)]
pub struct Posterior {
    /// Means.
    pub mean: Tensor<2>,
    /// Log-variances.
    pub logvar: Tensor<2>,
}

impl Posterior {
    /// The reparametrised draw `mean + exp(½ logvar) ⊙ noise` (`noise: [batch, latent]`).
    pub fn sample(&self, noise: Tensor<2>) -> Tensor<2> {
        self.mean.clone() + self.logvar.clone().mul_scalar(0.5).exp() * noise
    }
}

/// The recognition network: a GRU over `[observation, time gap]` run backwards in time, and
/// affine heads for the posterior mean and log-variance.
#[derive(Module, Debug)]
pub struct GruEncoder {
    /// The cell; its input is an observation followed by a time gap.
    pub gru: Gru,
    /// `hidden → latent` mean head.
    pub mean: Linear,
    /// `hidden → latent` log-variance head.
    pub logvar: Linear,
}

impl GruEncoder {
    /// Width of an observation.
    pub fn obs_dim(&self) -> usize {
        self.gru.input_size() - 1
    }

    /// The posterior of `z(t₀)` for every sample of `series` (`t₀ = series.times()[0]`).
    pub fn encode(
        &self,
        series: &IrregularSeries,
        device: &SysDevice,
    ) -> Result<Posterior, NodeError> {
        if series.dim() != self.obs_dim() {
            return Err(NodeError::Observations {
                reason: format!(
                    "observations have {} components but the encoder reads {}",
                    series.dim(),
                    self.obs_dim()
                ),
            });
        }
        let (batch, dim) = (series.batch(), series.dim());
        let times = series.times();
        let hidden = self.gru.hidden_size();
        let mut h = device.zeros([batch, hidden]);
        // Per sample: the time of the observation read last (the next one in time).
        let mut next_observed: Vec<Option<f64>> = vec![None; batch];
        for k in (0..times.len()).rev() {
            let mut input = Vec::with_capacity(batch * (dim + 1));
            let mut mask = Vec::with_capacity(batch);
            for (b, next) in next_observed.iter_mut().enumerate() {
                let observed = series.observed(b, k);
                input.extend_from_slice(series.value(b, k));
                input.push(next.map_or(0.0, |t| t - times[k]));
                mask.push(if observed { 1.0 } else { 0.0 });
                if observed {
                    *next = Some(times[k]);
                }
            }
            if mask.iter().all(|&m| m == 0.0) {
                continue;
            }
            let input = device.tensor(input, [batch, dim + 1])?;
            let updated = self.gru.step(h.clone(), input);
            if mask.iter().all(|&m| m == 1.0) {
                h = updated;
            } else {
                let mask = device.tensor(mask, [batch, 1])?;
                h = h.clone() + (updated - h) * mask;
            }
        }
        // Carry the state back to t₀ from each sample's first observation.
        let mut input = vec![0.0; batch * (dim + 1)];
        for (b, next) in next_observed.iter().enumerate() {
            input[b * (dim + 1) + dim] = next.map_or(0.0, |t| t - times[0]);
        }
        let h = self.gru.step(h, device.tensor(input, [batch, dim + 1])?);
        Ok(Posterior {
            mean: self.mean.forward(h.clone()),
            logvar: self.logvar.forward(h),
        })
    }
}

/// The trainable parts of a latent ODE: encoder, latent vector field and decoder.
#[derive(Module, Debug)]
pub struct LatentOdeModel {
    /// Recognition network.
    pub encoder: GruEncoder,
    /// Latent dynamics `dz/dt = f_θ(z)`.
    pub field: MlpField,
    /// `latent → observation` network.
    pub decoder: Mlp,
}

/// Sizes of a latent ODE and its observation noise.
#[derive(Debug, Clone, PartialEq)]
pub struct LatentOdeConfig {
    /// Dimension of an observation.
    pub obs_dim: usize,
    /// Dimension of the latent state.
    pub latent_dim: usize,
    /// GRU width of the encoder.
    pub encoder_hidden: usize,
    /// Hidden widths of the latent field's MLP (tanh).
    pub field_hidden: Vec<usize>,
    /// Hidden widths of the decoder's MLP (tanh).
    pub decoder_hidden: Vec<usize>,
    /// Known standard deviation of the observation noise.
    pub obs_std: f64,
}

impl LatentOdeConfig {
    fn check(&self) -> Result<(), NodeError> {
        let widths = [self.obs_dim, self.latent_dim, self.encoder_hidden];
        if widths.contains(&0) || self.field_hidden.contains(&0) || self.decoder_hidden.contains(&0)
        {
            return Err(NodeError::Option(format!(
                "latent ODE widths must be positive, got {self:?}"
            )));
        }
        if !(self.obs_std.is_finite() && self.obs_std > 0.0) {
            return Err(NodeError::Option(format!(
                "the observation noise must be positive and finite, got {}",
                self.obs_std
            )));
        }
        Ok(())
    }

    /// A model drawn from `seed` on the host in `device`'s precision (the same seed gives the
    /// same model on every backend): GRU and heads uniform in `±1/√fan_in`, the MLPs as
    /// [`MlpConfig::init_seeded`].
    pub fn init(&self, device: &SysDevice, seed: u64) -> Result<LatentOdeModel, NodeError> {
        self.check()?;
        let mut rng = SeededRng::new(seed);
        let (hidden, input) = (self.encoder_hidden, self.obs_dim + 1);
        let gru = seeded_gru(device, &mut rng, input, hidden)?;
        let head = |rng: &mut SeededRng| -> Result<Linear, NodeError> {
            Ok(Linear {
                weight: Param::from_tensor(uniform(
                    device,
                    rng,
                    [hidden, self.latent_dim],
                    hidden,
                )?),
                bias: Some(Param::from_tensor(uniform(
                    device,
                    rng,
                    [self.latent_dim],
                    hidden,
                )?)),
            })
        };
        let encoder = GruEncoder {
            gru,
            mean: head(&mut rng)?,
            logvar: head(&mut rng)?,
        };
        let widths = |first: usize, middle: &[usize], last: usize| {
            let mut w = vec![first];
            w.extend_from_slice(middle);
            w.push(last);
            w
        };
        let field = MlpConfig::new(widths(self.latent_dim, &self.field_hidden, self.latent_dim))
            .init_seeded(device, rng.next_u64())?;
        let decoder = MlpConfig::new(widths(self.latent_dim, &self.decoder_hidden, self.obs_dim))
            .init_seeded(device, rng.next_u64())?;
        Ok(LatentOdeModel {
            encoder,
            field: MlpField::autonomous(field),
            decoder,
        })
    }
}

/// A GRU with `input` inputs and `hidden` units drawn from `rng` on the host (the same draw on
/// every backend): weights and biases uniform in `±1/√hidden`.
pub fn seeded_gru(
    device: &SysDevice,
    rng: &mut SeededRng,
    input: usize,
    hidden: usize,
) -> Result<Gru, NodeError> {
    if input == 0 || hidden == 0 {
        return Err(NodeError::Option(format!(
            "GRU widths must be positive, got input {input}, hidden {hidden}"
        )));
    }
    let mut gate = || -> Result<GateWeights, NodeError> {
        Ok(GateWeights {
            recurrent: Param::from_tensor(uniform(device, rng, [hidden, hidden], hidden)?),
            input: Param::from_tensor(uniform(device, rng, [input, hidden], hidden)?),
            bias: Param::from_tensor(uniform(device, rng, [hidden], hidden)?),
        })
    };
    Ok(Gru {
        update: gate()?,
        reset: gate()?,
        candidate: gate()?,
    })
}

fn uniform<const D: usize>(
    device: &SysDevice,
    rng: &mut SeededRng,
    shape: [usize; D],
    fan_in: usize,
) -> Result<Tensor<D>, NodeError> {
    let bound = 1.0 / (fan_in as f64).sqrt();
    let n = shape.iter().product();
    let values: Vec<f64> = rng
        .uniforms(n)
        .into_iter()
        .map(|u| bound * (2.0 * u - 1.0))
        .collect();
    Ok(device.tensor(values, shape)?)
}

/// The ELBO of each sample and its two parts, `[batch]` each.
#[derive(Debug, Clone)]
pub struct ElboTerms {
    /// `log_likelihood − kl`.
    pub elbo: Tensor<1>,
    /// `Σ_observed log p(x_i | z(t_i))` at the drawn `z₀`.
    pub log_likelihood: Tensor<1>,
    /// `KL(q(z₀ | x) ‖ N(0, I))`.
    pub kl: Tensor<1>,
    /// The posterior the draw came from.
    pub posterior: Posterior,
}

impl ElboTerms {
    /// `−mean ELBO` over the batch: the loss to minimise.
    pub fn loss(&self) -> Tensor<1> {
        self.elbo.clone().mean().neg()
    }
}

/// A latent ODE: the model, its observation noise, and how the latent ODE is solved (gradients
/// by backpropagation through the solver).
#[derive(Debug, Clone)]
pub struct LatentOde<M = ButcherTableau> {
    /// The trainable parts (replace after an optimizer step).
    pub model: LatentOdeModel,
    /// Known standard deviation of the observation noise.
    pub obs_std: f64,
    method: M,
    forward: SolveConfig<Tensor<2>>,
}

impl LatentOde<ButcherTableau> {
    /// Classical RK4 with fixed steps `dt`.
    pub fn rk4(model: LatentOdeModel, obs_std: f64, dt: f64) -> Self {
        LatentOde::new(model, obs_std, RK4, SolveConfig::fixed(dt))
    }
}

impl<M: NodeMethod + Clone> LatentOde<M> {
    /// A latent ODE solved by `method` with the step policy of `forward`.
    pub fn new(
        model: LatentOdeModel,
        obs_std: f64,
        method: M,
        forward: SolveConfig<Tensor<2>>,
    ) -> Self {
        LatentOde {
            model,
            obs_std,
            method,
            forward,
        }
    }

    /// The posterior of `z(t₀)` for every sample.
    pub fn encode(
        &self,
        series: &IrregularSeries,
        device: &SysDevice,
    ) -> Result<Posterior, NodeError> {
        self.model.encoder.encode(series, device)
    }

    /// The latent states from `z0` (`[batch, latent]`, at `times[0]`) at every time of `times`
    /// (strictly increasing), each `[batch, latent]`.
    pub fn latent_path(&self, z0: Tensor<2>, times: &[f64]) -> Result<Vec<Tensor<2>>, NodeError> {
        check_increasing(times)?;
        if times.len() == 1 {
            use crate::field::NeuralField;
            self.model.field.check_state(&z0)?;
            return Ok(vec![z0]);
        }
        let node = NeuralOde::new(
            self.model.field.clone(),
            self.method.clone(),
            self.forward.clone(),
        );
        Ok(node.solve(z0, times)?.states().to_vec())
    }

    /// The decoded observations along the latent path from `z0` at `times`: `[batch,
    /// times · obs_dim]`, time-major within a row (the layout of
    /// [`IrregularSeries::flat_tensors`]).
    pub fn decode(&self, z0: Tensor<2>, times: &[f64]) -> Result<Tensor<2>, NodeError> {
        let [batch, _] = z0.dims();
        let states = self.latent_path(z0, times)?;
        let steps = states.len();
        let decoded = self.model.decoder.forward(Tensor::cat(states, 0))?;
        let [_, obs] = decoded.dims();
        Ok(decoded
            .reshape([steps, batch, obs])
            .swap_dims(0, 1)
            .reshape([batch, steps * obs]))
    }

    /// The one-draw ELBO of every sample of `series`, with `noise` (`[batch, latent]`, standard
    /// normal) for the reparametrised draw of `z₀`.
    pub fn elbo(
        &self,
        series: &IrregularSeries,
        noise: Tensor<2>,
        device: &SysDevice,
    ) -> Result<ElboTerms, NodeError> {
        let posterior = self.encode(series, device)?;
        if noise.dims() != posterior.mean.dims() {
            return Err(sysdyn_core::ShapeMismatch {
                context: "reparametrisation noise [batch, latent]".into(),
                expected: posterior.mean.dims().to_vec(),
                got: noise.dims().to_vec(),
            }
            .into());
        }
        let z0 = posterior.sample(noise);
        let predicted = self.decode(z0, series.times())?;
        let (observed, mask) = series.flat_tensors(device)?;
        let log_likelihood = gaussian_log_likelihood(predicted, observed, mask, self.obs_std);
        let kl = kl_to_standard_normal(posterior.mean.clone(), posterior.logvar.clone());
        Ok(ElboTerms {
            elbo: log_likelihood.clone() - kl.clone(),
            log_likelihood,
            kl,
            posterior,
        })
    }
}
