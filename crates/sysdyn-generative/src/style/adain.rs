//! Adaptive instance normalisation (AdaIN; Huang & Belongie 2017, the style layers of StyleGAN):
//! each channel of each image is normalised to zero mean and unit standard deviation over its
//! pixels, then given a new mean and standard deviation:
//!
//! `AdaIN(x, s, b)_{n,c} = s_{n,c} · (x_{n,c} − μ_{n,c}) / σ_{n,c} + b_{n,c}`,
//! `μ_{n,c}` and `σ_{n,c} = √(var_{n,c} + ε)` the statistics of channel `c` of image `n`.
//!
//! As style transfer, `s` and `b` are another image's channel statistics
//! ([`transfer_statistics`]); in a style-based generator they are a learned affine map of the
//! style code `w` ([`AdaIn`]).

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use crate::error::GenerativeError;

/// The per-channel mean and standard deviation `√(var + ε)` of images `[n, c, h, w]` over their
/// pixels, each `[n, c]` (population variance).
pub fn channel_statistics(
    x: Tensor<4>,
    epsilon: f64,
) -> Result<(Tensor<2>, Tensor<2>), GenerativeError> {
    let [n, c, h, w] = x.dims();
    if n == 0 || c == 0 || h * w == 0 {
        return Err(GenerativeError::EmptyBatch {
            what: "images for channel statistics",
        });
    }
    let flat = x.reshape([n, c, h * w]);
    let mean = flat.clone().mean_dim(2); // [n, c, 1]
    let variance = (flat - mean.clone()).square().mean_dim(2);
    let std = variance.add_scalar(epsilon).sqrt();
    Ok((mean.reshape([n, c]), std.reshape([n, c])))
}

/// `AdaIN(x, scale, bias)` for images `[n, c, h, w]` and per-image, per-channel `scale` and
/// `bias` (`[n, c]`).
pub fn adaptive_instance_norm(
    x: Tensor<4>,
    scale: Tensor<2>,
    bias: Tensor<2>,
    epsilon: f64,
) -> Result<Tensor<4>, GenerativeError> {
    let [n, c, _, _] = x.dims();
    for (what, t) in [("AdaIN scale", &scale), ("AdaIN bias", &bias)] {
        if t.dims() != [n, c] {
            return Err(GenerativeError::ShapeMismatch {
                what,
                left: t.dims().to_vec(),
                right: vec![n, c],
            });
        }
    }
    let (mean, std) = channel_statistics(x.clone(), epsilon)?;
    let normalised = (x - mean.reshape([n, c, 1, 1])) / std.reshape([n, c, 1, 1]);
    Ok(normalised * scale.reshape([n, c, 1, 1]) + bias.reshape([n, c, 1, 1]))
}

/// Style transfer of statistics: `content` (`[n, c, h, w]`) with the per-channel means and
/// standard deviations of `style` (`[n, c, h', w']`, any image size).
pub fn transfer_statistics(
    content: Tensor<4>,
    style: Tensor<4>,
    epsilon: f64,
) -> Result<Tensor<4>, GenerativeError> {
    let [n, c, _, _] = content.dims();
    let [ns, cs, _, _] = style.dims();
    if (n, c) != (ns, cs) {
        return Err(GenerativeError::ShapeMismatch {
            what: "content and style images (batch, channels)",
            left: vec![n, c],
            right: vec![ns, cs],
        });
    }
    let (mean, std) = channel_statistics(style, epsilon)?;
    adaptive_instance_norm(content, std, mean, epsilon)
}

/// An AdaIN layer of a style-based generator: the style code `w` (`[n, w_dim]`) sets each
/// channel's scale and bias through a learned affine map, `(s, b) = A w`.
#[derive(Module, Debug)]
pub struct AdaIn {
    /// `A`: `w_dim → 2 channels` (scales, then biases).
    pub style: Linear,
    /// The number of channels.
    pub channels: usize,
    /// `ε` of the instance statistics.
    pub epsilon: f64,
}

/// How to build an [`AdaIn`] layer.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaInConfig {
    /// Width of the style code `w`.
    pub w_dim: usize,
    /// Channels of the feature maps.
    pub channels: usize,
    /// `ε` of the instance statistics (1e-8 in StyleGAN's code, 1e-5 in most instance norms).
    pub epsilon: f64,
}

impl AdaInConfig {
    /// A layer for `channels` feature maps styled by codes of width `w_dim`, `ε = 1e-5`.
    pub fn new(w_dim: usize, channels: usize) -> Self {
        AdaInConfig {
            w_dim,
            channels,
            epsilon: 1e-5,
        }
    }

    /// The layer on `device`. The affine map starts near scale one and bias zero for every code
    /// (its biases one and zero, as StyleGAN initialises them, its weights a tenth of burn's
    /// default), so an untrained layer is close to plain instance normalisation.
    pub fn init(&self, device: &Device) -> Result<AdaIn, GenerativeError> {
        if self.w_dim == 0 || self.channels == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "AdaIN widths",
                value: 0.0,
                requirement: "w_dim and channels must be at least 1",
            });
        }
        crate::error::check_positive("AdaIN ε", self.epsilon)?;
        let mut style = LinearConfig::new(self.w_dim, 2 * self.channels).init(device);
        let weight = style.weight.val();
        style.weight = burn::module::Param::from_tensor(weight.mul_scalar(0.1).detach());
        if let Some(bias) = &style.bias {
            let b = bias.val();
            let ones = Tensor::<1>::ones([self.channels], (&b.device(), b.dtype()));
            let zeros = Tensor::<1>::zeros([self.channels], (&b.device(), b.dtype()));
            style.bias = Some(burn::module::Param::from_tensor(
                Tensor::cat(vec![ones, zeros], 0).detach(),
            ));
        }
        Ok(AdaIn {
            style,
            channels: self.channels,
            epsilon: self.epsilon,
        })
    }
}

impl AdaIn {
    /// The feature maps `x` (`[n, channels, h, w]`) styled by the codes `w` (`[n, w_dim]`).
    pub fn forward(&self, x: Tensor<4>, w: Tensor<2>) -> Result<Tensor<4>, GenerativeError> {
        let [n, _] = w.dims();
        let styles = self.style.forward(w); // [n, 2c]
        let scale = styles.clone().narrow(1, 0, self.channels);
        let bias = styles.narrow(1, self.channels, self.channels);
        if x.dims()[0] != n {
            return Err(GenerativeError::ShapeMismatch {
                what: "feature maps and style codes (batch)",
                left: vec![x.dims()[0]],
                right: vec![n],
            });
        }
        adaptive_instance_norm(x, scale, bias, self.epsilon)
    }
}
