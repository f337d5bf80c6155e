//! GAN losses on the discriminator's **logits** `l = D(x)` (before any sigmoid), each the mean
//! over the batch. Wherever a logarithm of a sigmoid appears it is written with a stable
//! softplus, `log σ(l) = −softplus(−l)` and `log(1 − σ(l)) = −softplus(l)`, with
//! `softplus(l) = max(l, 0) + log(1 + e^{−|l|})`: a saturated discriminator (`|l| = 100`) gives
//! a large finite loss and a finite gradient, never `log 0`.
//!
//! The discriminator (or critic) *minimises* its loss; so does the generator.

use burn::tensor::Tensor;
use burn::tensor::activation::relu;

use crate::error::GenerativeError;

pub use crate::stable::stable_softplus;

fn mean<const D: usize>(t: Tensor<D>) -> Tensor<1> {
    t.mean()
}

fn check_batch<const D: usize>(what: &'static str, t: &Tensor<D>) -> Result<(), GenerativeError> {
    if t.shape().num_elements() == 0 {
        Err(GenerativeError::EmptyBatch { what })
    } else {
        Ok(())
    }
}

fn check_pair<const D: usize>(real: &Tensor<D>, fake: &Tensor<D>) -> Result<(), GenerativeError> {
    check_batch("real logits", real)?;
    check_batch("fake logits", fake)
}

/// The discriminator's loss of the original GAN (Goodfellow et al. 2014), the binary
/// cross-entropy of real against fake:
/// `L_D = −E[log D(x)] − E[log(1 − D(G(z)))] = E[softplus(−l_real)] + E[softplus(l_fake)]`.
/// Shared by the minimax and the non-saturating generator losses.
pub fn cross_entropy_discriminator<const D: usize>(
    real_logits: Tensor<D>,
    fake_logits: Tensor<D>,
) -> Result<Tensor<1>, GenerativeError> {
    check_pair(&real_logits, &fake_logits)?;
    Ok(mean(stable_softplus(real_logits.neg())) + mean(stable_softplus(fake_logits)))
}

/// The generator's loss of the original minimax game: `L_G = E[log(1 − D(G(z)))] =
/// −E[softplus(l_fake)]`. It saturates: when the discriminator rejects the fakes confidently
/// (`l_fake ≪ 0`) its gradient vanishes, which is why the non-saturating loss is used in practice.
pub fn minimax_generator<const D: usize>(
    fake_logits: Tensor<D>,
) -> Result<Tensor<1>, GenerativeError> {
    check_batch("fake logits", &fake_logits)?;
    Ok(mean(stable_softplus(fake_logits)).neg())
}

/// The non-saturating generator loss: `L_G = −E[log D(G(z))] = E[softplus(−l_fake)]`; its
/// gradient is largest exactly when the discriminator rejects the fakes.
pub fn non_saturating_generator<const D: usize>(
    fake_logits: Tensor<D>,
) -> Result<Tensor<1>, GenerativeError> {
    check_batch("fake logits", &fake_logits)?;
    Ok(mean(stable_softplus(fake_logits.neg())))
}

/// The target values of least-squares GAN (Mao et al. 2017): the discriminator pushes fakes to
/// `a` and real data to `b`; the generator pushes its samples to `c`. The default `(0, 1, 1)`;
/// `(−1, 1, 0)` is the paper's other choice (`b − c = 1`, `b − a = 2`: the Pearson χ² divergence).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LsganTargets {
    /// The discriminator's target for fakes.
    pub a: f64,
    /// The discriminator's target for real data.
    pub b: f64,
    /// The generator's target for its samples.
    pub c: f64,
}

impl Default for LsganTargets {
    fn default() -> Self {
        LsganTargets {
            a: 0.0,
            b: 1.0,
            c: 1.0,
        }
    }
}

/// The least-squares discriminator loss on raw outputs:
/// `L_D = ½ E[(D(x) − b)²] + ½ E[(D(G(z)) − a)²]`.
pub fn least_squares_discriminator<const D: usize>(
    real_outputs: Tensor<D>,
    fake_outputs: Tensor<D>,
    targets: LsganTargets,
) -> Result<Tensor<1>, GenerativeError> {
    check_pair(&real_outputs, &fake_outputs)?;
    let real = mean(real_outputs.sub_scalar(targets.b).square());
    let fake = mean(fake_outputs.sub_scalar(targets.a).square());
    Ok((real + fake).mul_scalar(0.5))
}

/// The least-squares generator loss: `L_G = ½ E[(D(G(z)) − c)²]`.
pub fn least_squares_generator<const D: usize>(
    fake_outputs: Tensor<D>,
    targets: LsganTargets,
) -> Result<Tensor<1>, GenerativeError> {
    check_batch("fake outputs", &fake_outputs)?;
    Ok(mean(fake_outputs.sub_scalar(targets.c).square()).mul_scalar(0.5))
}

/// The hinge discriminator loss (Lim & Ye 2017; Miyato et al. 2018):
/// `L_D = E[max(0, 1 − l_real)] + E[max(0, 1 + l_fake)]`.
pub fn hinge_discriminator<const D: usize>(
    real_logits: Tensor<D>,
    fake_logits: Tensor<D>,
) -> Result<Tensor<1>, GenerativeError> {
    check_pair(&real_logits, &fake_logits)?;
    let real = mean(relu(real_logits.neg().add_scalar(1.0)));
    let fake = mean(relu(fake_logits.add_scalar(1.0)));
    Ok(real + fake)
}

/// The hinge generator loss: `L_G = −E[l_fake]`.
pub fn hinge_generator<const D: usize>(
    fake_logits: Tensor<D>,
) -> Result<Tensor<1>, GenerativeError> {
    check_batch("fake logits", &fake_logits)?;
    Ok(mean(fake_logits).neg())
}

/// The Wasserstein critic loss (Arjovsky et al. 2017), the negated Kantorovich–Rubinstein
/// estimate: `L_D = E[D(G(z))] − E[D(x)]`. The critic must be kept (about) 1-Lipschitz: weight
/// clipping, a gradient penalty ([`crate::gan::penalty`]) or spectral normalisation.
pub fn wasserstein_critic<const D: usize>(
    real_scores: Tensor<D>,
    fake_scores: Tensor<D>,
) -> Result<Tensor<1>, GenerativeError> {
    check_pair(&real_scores, &fake_scores)?;
    Ok(mean(fake_scores) - mean(real_scores))
}

/// The Wasserstein generator loss: `L_G = −E[D(G(z))]`.
pub fn wasserstein_generator<const D: usize>(
    fake_scores: Tensor<D>,
) -> Result<Tensor<1>, GenerativeError> {
    check_batch("fake scores", &fake_scores)?;
    Ok(mean(fake_scores).neg())
}

/// A GAN objective: the pair of losses one training scheme uses. The discriminator's outputs
/// are logits for the cross-entropy and hinge objectives, raw scores for least squares and
/// Wasserstein.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GanLoss {
    /// Cross-entropy discriminator, saturating generator `E[log(1 − D(G(z)))]`.
    Minimax,
    /// Cross-entropy discriminator, non-saturating generator `−E[log D(G(z))]`.
    NonSaturating,
    /// Least squares with targets `a`, `b`, `c`.
    LeastSquares(LsganTargets),
    /// Hinge.
    Hinge,
    /// Wasserstein (critic).
    Wasserstein,
}

impl GanLoss {
    /// The discriminator's (critic's) loss on a batch of real and one of fake outputs.
    pub fn discriminator<const D: usize>(
        self,
        real: Tensor<D>,
        fake: Tensor<D>,
    ) -> Result<Tensor<1>, GenerativeError> {
        match self {
            GanLoss::Minimax | GanLoss::NonSaturating => cross_entropy_discriminator(real, fake),
            GanLoss::LeastSquares(targets) => least_squares_discriminator(real, fake, targets),
            GanLoss::Hinge => hinge_discriminator(real, fake),
            GanLoss::Wasserstein => wasserstein_critic(real, fake),
        }
    }

    /// The generator's loss on the discriminator's outputs for its samples.
    pub fn generator<const D: usize>(self, fake: Tensor<D>) -> Result<Tensor<1>, GenerativeError> {
        match self {
            GanLoss::Minimax => minimax_generator(fake),
            GanLoss::NonSaturating => non_saturating_generator(fake),
            GanLoss::LeastSquares(targets) => least_squares_generator(fake, targets),
            GanLoss::Hinge => hinge_generator(fake),
            GanLoss::Wasserstein => wasserstein_generator(fake),
        }
    }

    /// The discriminator's accuracy on one real and one fake batch of outputs: the fraction of
    /// rows on the right side of the loss's decision threshold, `(#{real > t} + #{fake < t}) /
    /// (n_real + n_fake)`. The threshold `t` is 0 for the logit and hinge losses, `(a + b)/2`
    /// for least squares; a Wasserstein critic's scores have no fixed origin, so there `t` is
    /// the midpoint of the two batches' mean scores. 1 means the discriminator separates the
    /// batches completely, ½ that it cannot tell them apart.
    pub fn discriminator_accuracy(
        self,
        real: &[f64],
        fake: &[f64],
    ) -> Result<f64, GenerativeError> {
        if real.is_empty() || fake.is_empty() {
            return Err(GenerativeError::EmptyBatch {
                what: "discriminator outputs",
            });
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let threshold = match self {
            GanLoss::Minimax | GanLoss::NonSaturating | GanLoss::Hinge => 0.0,
            GanLoss::LeastSquares(t) => (t.a + t.b) / 2.0,
            GanLoss::Wasserstein => (mean(real) + mean(fake)) / 2.0,
        };
        let right = real.iter().filter(|&&s| s > threshold).count()
            + fake.iter().filter(|&&s| s < threshold).count();
        Ok(right as f64 / (real.len() + fake.len()) as f64)
    }

    /// A short name for tables and figures.
    pub fn name(self) -> &'static str {
        match self {
            GanLoss::Minimax => "minimax",
            GanLoss::NonSaturating => "ns-gan",
            GanLoss::LeastSquares(_) => "lsgan",
            GanLoss::Hinge => "hinge",
            GanLoss::Wasserstein => "wgan",
        }
    }
}
