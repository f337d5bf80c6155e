//! The encoder and decoder interfaces, and the [`Vae`] that joins them with a likelihood
//! (the networks: [`crate::vae::mlp`] and [`crate::vae::conv`]).
//!
//! Data are rows `[batch, D]` (images flattened channel-major, `D = C·H·W`); codes are rows
//! `[batch, latent]`. An encoder returns `q(z|x)` as a [`DiagonalGaussian`] (its network
//! outputs `[μ, log σ²]`, `2·latent` wide); a decoder returns the raw parameters of
//! `p(x|z)`, whose meaning the [`Likelihood`] gives. A conditional model (`classes > 0`)
//! concatenates the label's one-hot vector to the encoder's input (as constant image planes
//! for the convolutional encoder) and to the decoder's input (Sohn et al. 2015).
use burn::module::{Module, ModuleDisplay, Param};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::host::{host_tensor, host_values};
use crate::inputs::check_labels;
use crate::vae::bound::{FreeBits, LogMeanExp, check_samples, log_mean_exp};
use crate::vae::likelihood::Likelihood;
use crate::vae::posterior::{
    DiagonalGaussian, latent_width_error, standard_normal_like, standard_normal_log_prob,
};

/// `q(z|x)`: data rows to a diagonal Gaussian over codes.
pub trait Encoder: Module + ModuleDisplay {
    /// The data's width `D`.
    fn data_width(&self) -> usize;
    /// The code's width.
    fn latent_width(&self) -> usize;
    /// The number of classes of a conditional encoder (0: unconditional).
    fn classes(&self) -> usize {
        0
    }
    /// `q(z|x)` for the rows of `x` (`[batch, D]`), of the class of each row for a
    /// conditional encoder.
    fn encode(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<DiagonalGaussian, GenerativeError>;
}

/// `p(x|z)`'s parameters from codes.
pub trait Decoder: Module + ModuleDisplay {
    /// The code's width.
    fn latent_width(&self) -> usize;
    /// The width of the output (the likelihood's parameters per row).
    fn output_width(&self) -> usize;
    /// The number of classes of a conditional decoder (0: unconditional).
    fn classes(&self) -> usize {
        0
    }
    /// The likelihood's parameters for the codes `z` (`[batch, latent]`).
    fn decode(&self, z: Tensor<2>, labels: Option<&[usize]>) -> Result<Tensor<2>, GenerativeError>;
}

/// The one-hot rows of `labels` (`[rows, classes]`) on the device and in the dtype of `like`,
/// after checking there is one label per row, each below `classes`.
pub fn one_hot_like(
    labels: &[usize],
    classes: usize,
    rows: usize,
    like: &Tensor<2>,
) -> Result<Tensor<2>, GenerativeError> {
    if labels.len() != rows {
        return Err(GenerativeError::ShapeMismatch {
            what: "rows and labels",
            left: vec![rows],
            right: vec![labels.len()],
        });
    }
    let mut values = vec![0.0; rows * classes];
    for (row, &label) in labels.iter().enumerate() {
        if label >= classes {
            return Err(GenerativeError::InvalidParameter {
                name: "label",
                value: label as f64,
                requirement: "labels must be below the model's number of classes",
            });
        }
        values[row * classes + label] = 1.0;
    }
    Ok(host_tensor(values, [rows, classes], like))
}

/// `[x, onehot(y)]` for a conditional network, `x` unchanged otherwise.
pub(crate) fn with_labels(
    x: Tensor<2>,
    classes: usize,
    labels: Option<&[usize]>,
) -> Result<Tensor<2>, GenerativeError> {
    check_labels(classes, labels)?;
    match labels {
        Some(labels) => {
            let [rows, _] = x.dims();
            let one_hot = one_hot_like(labels, classes, rows, &x)?;
            Ok(Tensor::cat(vec![x, one_hot], 1))
        }
        None => Ok(x),
    }
}

pub(crate) fn check_width(
    what: &'static str,
    x: &Tensor<2>,
    expected: usize,
) -> Result<(), GenerativeError> {
    let [_, width] = x.dims();
    if width == expected {
        Ok(())
    } else {
        Err(GenerativeError::ShapeMismatch {
            what,
            left: vec![width],
            right: vec![expected],
        })
    }
}

/// The reconstruction and KL terms of the ELBO per row.
#[derive(Debug, Clone)]
pub struct ElboTerms {
    /// `E_q[log p(x|z)]` averaged over the samples, `[rows]`.
    pub reconstruction: Tensor<1>,
    /// `KL(q(z|x) ‖ N(0, I))`, `[rows]`.
    pub kl: Tensor<1>,
    /// The KL per latent dimension, `[rows, latent]`.
    pub kl_per_dimension: Tensor<2>,
}

impl ElboTerms {
    /// The ELBO per row, `reconstruction − kl`.
    pub fn bound(&self) -> Tensor<1> {
        self.reconstruction.clone() - self.kl.clone()
    }

    /// The loss to minimise, shape `[1]`: `−mean(reconstruction) + β·K`, with `K` the mean KL,
    /// or with free bits `Σⱼ max(λ, mean KLⱼ)`.
    pub fn loss(&self, beta: f64, free_bits: Option<FreeBits>) -> Tensor<1> {
        let kl = match free_bits {
            Some(free) => free.kl_term(self.kl_per_dimension.clone()),
            None => self.kl.clone().mean(),
        };
        self.reconstruction.clone().mean().neg() + kl.mul_scalar(beta)
    }
}

/// A variational autoencoder: an encoder `q(z|x)`, a decoder with its likelihood `p(x|z)`,
/// and the prior `N(0, I)`. With [`crate::vae::Variance::Shared`] it also holds the shared
/// decoder log-variance as a trained parameter (starting at 0, `σ² = 1`).
#[derive(Module, Debug)]
pub struct Vae<E: Encoder, D: Decoder> {
    /// `q(z|x)`.
    pub encoder: E,
    /// `p(x|z)`'s parameters.
    pub decoder: D,
    /// The shared `log σ²` of a Gaussian decoder with [`crate::vae::Variance::Shared`].
    pub log_var: Option<Param<Tensor<1>>>,
    #[module(skip)]
    likelihood: Likelihood,
}

impl<E: Encoder, D: Decoder> Vae<E, D> {
    /// Joins `encoder` and `decoder` (their code widths and classes must agree, and the
    /// decoder's output must be `likelihood.output_width(D)`); `device` holds the shared
    /// variance when there is one.
    pub fn new(
        encoder: E,
        decoder: D,
        likelihood: Likelihood,
        device: &SysDevice,
    ) -> Result<Self, GenerativeError> {
        likelihood.validate()?;
        if encoder.latent_width() == 0 || decoder.latent_width() == 0 {
            return Err(latent_width_error());
        }
        let pairs = [
            (
                "encoder's and decoder's code widths",
                encoder.latent_width(),
                decoder.latent_width(),
            ),
            (
                "encoder's and decoder's classes",
                encoder.classes(),
                decoder.classes(),
            ),
            (
                "decoder's output width and the likelihood's for the data",
                decoder.output_width(),
                likelihood.output_width(encoder.data_width()),
            ),
        ];
        for (what, left, right) in pairs {
            if left != right {
                return Err(GenerativeError::ShapeMismatch {
                    what,
                    left: vec![left],
                    right: vec![right],
                });
            }
        }
        let log_var = likelihood
            .has_shared_variance()
            .then(|| Param::from_tensor(device.zeros([1])));
        Ok(Vae {
            encoder,
            decoder,
            log_var,
            likelihood,
        })
    }

    /// The likelihood.
    pub fn likelihood(&self) -> Likelihood {
        self.likelihood
    }

    /// The data's width.
    pub fn data_width(&self) -> usize {
        self.encoder.data_width()
    }

    /// The code's width.
    pub fn latent_width(&self) -> usize {
        self.encoder.latent_width()
    }

    /// The number of classes (0: unconditional).
    pub fn classes(&self) -> usize {
        self.encoder.classes()
    }

    /// The shared decoder variance `σ²`, when the likelihood has one.
    pub fn shared_variance(&self) -> Option<f64> {
        self.log_var
            .as_ref()
            .map(|p| p.val().into_scalar::<f64>().exp())
    }

    /// `q(z|x)`.
    pub fn encode(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<DiagonalGaussian, GenerativeError> {
        self.encoder.encode(x, labels)
    }

    /// `p(x|z)`'s parameters.
    pub fn decode(
        &self,
        z: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        self.decoder.decode(z, labels)
    }

    /// The mean of `p(x|z)` (see [`Likelihood::mean`]).
    pub fn decode_mean(
        &self,
        z: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        Ok(self.likelihood.mean(self.decode(z, labels)?))
    }

    /// `log p(x|z)` per row for the decoder's `output` at `z`.
    pub fn log_likelihood(
        &self,
        x: Tensor<2>,
        output: Tensor<2>,
    ) -> Result<Tensor<1>, GenerativeError> {
        self.likelihood
            .log_prob(x, output, self.log_var.as_ref().map(Param::val))
    }

    /// The ELBO's terms with `samples` reparametrised draws of `z` per row.
    pub fn elbo(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
        samples: usize,
        rng: &mut SeededRng,
    ) -> Result<ElboTerms, GenerativeError> {
        check_samples(samples)?;
        let [rows, _] = x.dims();
        let posterior = self.encode(x.clone(), labels)?;
        let z = posterior.repeat(samples).sample(rng);
        let tiled = tile(labels, samples);
        let output = self.decode(z, tiled.as_deref())?;
        let log_px = self.log_likelihood(x.repeat_dim(0, samples), output)?;
        let reconstruction = log_px.reshape([samples, rows]).mean_dim(0).reshape([rows]);
        Ok(ElboTerms {
            reconstruction,
            kl: posterior.kl_to_standard_normal(),
            kl_per_dimension: posterior.kl_per_dimension(),
        })
    }

    /// The log importance weights `log p(x|zₛ) + log p(zₛ) − log q(zₛ|x)` of `samples` draws
    /// per row, `[samples, rows]`.
    pub fn log_weights(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
        samples: usize,
        rng: &mut SeededRng,
    ) -> Result<Tensor<2>, GenerativeError> {
        check_samples(samples)?;
        let posterior = self.encode(x.clone(), labels)?;
        self.log_weights_of(&posterior, x, labels, samples, rng)
    }

    fn log_weights_of(
        &self,
        posterior: &DiagonalGaussian,
        x: Tensor<2>,
        labels: Option<&[usize]>,
        samples: usize,
        rng: &mut SeededRng,
    ) -> Result<Tensor<2>, GenerativeError> {
        let [rows, _] = x.dims();
        let stacked = posterior.repeat(samples);
        let eps = standard_normal_like(&stacked.mean(), rng);
        let z = stacked.sample_with(eps)?;
        let tiled = tile(labels, samples);
        let output = self.decode(z.clone(), tiled.as_deref())?;
        let log_px = self.log_likelihood(x.repeat_dim(0, samples), output)?;
        let log_w = log_px + standard_normal_log_prob(z.clone()) - stacked.log_prob(z)?;
        Ok(log_w.reshape([samples, rows]))
    }

    /// The IWAE bound `log (1/k) Σₛ wₛ` per row with `k = samples` (differentiable).
    pub fn iwae(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
        samples: usize,
        rng: &mut SeededRng,
    ) -> Result<Tensor<1>, GenerativeError> {
        Ok(log_mean_exp(self.log_weights(x, labels, samples, rng)?))
    }

    /// The IWAE estimate of `log p(x)` per row with `samples` draws, evaluated `chunk` draws
    /// at a time (so `k` = 5000 fits memory) and combined on the host; no graph is kept.
    pub fn importance_log_likelihood(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
        samples: usize,
        chunk: usize,
        rng: &mut SeededRng,
    ) -> Result<Vec<f64>, GenerativeError> {
        check_samples(samples)?;
        check_samples(chunk)?;
        let [rows, _] = x.dims();
        let posterior = self.encode(x.clone().detach(), labels)?;
        let mut total = LogMeanExp::new(rows);
        let mut done = 0;
        while done < samples {
            let now = chunk.min(samples - done);
            let log_w = self.log_weights_of(&posterior, x.clone(), labels, now, rng)?;
            total.add(&host_values(log_w, "importance log-weights")?, now)?;
            done += now;
        }
        Ok(total.value())
    }

    /// The decoder's mean at the posterior mean of each row: the reconstruction.
    pub fn reconstruct(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        let posterior = self.encode(x, labels)?;
        self.decode_mean(posterior.mean(), labels)
    }

    /// `rows` samples: codes from the prior `N(0, I)` drawn by `rng` on `device`, decoded to
    /// the decoder's mean (of the given classes for a conditional model).
    pub fn sample(
        &self,
        rows: usize,
        labels: Option<&[usize]>,
        device: &SysDevice,
        rng: &mut SeededRng,
    ) -> Result<Tensor<2>, GenerativeError> {
        let z = device.randn(rng, [rows, self.latent_width()]);
        self.decode_mean(z, labels)
    }
}

/// `labels` repeated `times` times, matching [`DiagonalGaussian::repeat`]'s row layout.
fn tile(labels: Option<&[usize]>, times: usize) -> Option<Vec<usize>> {
    labels.map(|l| l.repeat(times))
}
