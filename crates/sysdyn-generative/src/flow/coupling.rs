//! Coupling layers: half of the coordinates (those a binary mask `m` keeps) pass unchanged and
//! condition an invertible map of the other half, so the Jacobian is triangular and its
//! determinant the product of the transformed half's diagonal.
//!
//! - NICE's additive coupling (Dinh et al. 2015): `y = x + (1 − m) ⊙ t(m ⊙ x)`,
//!   `log|det J| = 0`; inverse `x = y − (1 − m) ⊙ t(m ⊙ y)`.
//! - NICE's diagonal scaling: `y = exp(s) ⊙ x`, `log|det J| = Σᵢ sᵢ`.
//! - RealNVP's affine coupling (Dinh et al. 2017): with `s = (1 − m) ⊙ b(ŝ(m ⊙ x))` and
//!   `t = (1 − m) ⊙ t̂(m ⊙ x)`, `y = x ⊙ exp(s) + t`, `log|det J| = Σᵢ sᵢ`; inverse
//!   `x = (y − t) ⊙ exp(−s)` with `s, t` computed from `m ⊙ y = m ⊙ x`. The bound `b` is the
//!   identity (`exp(s)` as in RealNVP, [`ScaleBound::Exp`]) or `b(ŝ) = β tanh(ŝ / β)`
//!   ([`ScaleBound::Tanh`]), which keeps every scale in `[e^{−β}, e^{β}]`.
//!
//! Vectors use alternating masks ([`Parity`]: even or odd features kept) and an MLP conditioner
//! ([`AdditiveCoupling`], [`AffineCoupling`]), or — RealNVP's split form,
//! [`SplitAffineCoupling`] — separate scale and shift networks `S`, `T` on the kept features
//! alone: `y_o = x_o ⊙ exp(b(S(x_c))) + T(x_c)`, `y_c = x_c` (W4's layer); images ([`ConvAffineCoupling`]) a checkerboard
//! or a channel-wise mask and a small convolutional conditioner (3×3 convolutions, tanh). A
//! conditional layer appends its context to the conditioner's input (as constant channels for
//! images), so `s` and `t` depend on it while the map stays invertible in `x`.

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, Mlp, MlpConfig};
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::flow::checks::{broadcast_rows, check_context, check_input, no_context, row_sum};
use crate::flow::{Flow, Transformed};
use crate::host::host_tensor;

/// Which alternate coordinates a mask keeps (conditions on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parity {
    /// Even indices (even `row + col` on a checkerboard, the first half of the channels).
    Even,
    /// Odd indices (odd `row + col`, the second half of the channels).
    Odd,
}

impl Parity {
    /// The other parity (the next coupling layer's, so that every coordinate is transformed).
    pub fn flipped(self) -> Parity {
        match self {
            Parity::Even => Parity::Odd,
            Parity::Odd => Parity::Even,
        }
    }

    fn keeps(self, index: usize) -> bool {
        index.is_multiple_of(2) == (self == Parity::Even)
    }
}

/// How an affine coupling bounds its log-scale `s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScaleBound {
    /// `s = ŝ` (RealNVP's `exp(s)`).
    Exp,
    /// `s = β tanh(ŝ / β)`, `|s| < β`.
    Tanh {
        /// `β > 0`.
        bound: f64,
    },
}

impl ScaleBound {
    fn validate(self) -> Result<(), GenerativeError> {
        match self {
            ScaleBound::Exp => Ok(()),
            ScaleBound::Tanh { bound } => crate::error::check_positive("tanh scale bound", bound),
        }
    }

    fn apply<const D: usize>(self, raw: Tensor<D>) -> Tensor<D> {
        match self {
            ScaleBound::Exp => raw,
            ScaleBound::Tanh { bound } => raw.div_scalar(bound).tanh().mul_scalar(bound),
        }
    }
}

fn alternating_mask(features: usize, parity: Parity) -> Vec<f64> {
    (0..features)
        .map(|i| f64::from(u8::from(parity.keeps(i))))
        .collect()
}

fn check_features(features: usize) -> Result<(), GenerativeError> {
    if features < 2 {
        return Err(GenerativeError::InvalidParameter {
            name: "coupling features",
            value: features as f64,
            requirement: "must be at least 2 (one half conditions the other)",
        });
    }
    Ok(())
}

/// The MLP conditioner `[m ⊙ x, context] ↦ outputs` with tanh hidden layers, drawn from `seed`.
fn conditioner(
    device: &SysDevice,
    input: usize,
    hidden: &[usize],
    output: usize,
    seed: u64,
) -> Result<Mlp, GenerativeError> {
    let mut widths = vec![input];
    widths.extend_from_slice(hidden);
    widths.push(output);
    Ok(MlpConfig::new(widths)
        .with_activation(Activation::Tanh)
        .init_seeded(device, seed)?)
}

/// `[x ⊙ m, context]` (the conditioner's input) and `1 − m`, as `[1, features]` rows.
fn masked_input(
    x: &Tensor<2>,
    mask: &[f64],
    context: Option<&Tensor<2>>,
) -> (Tensor<2>, Tensor<2>) {
    let m = host_tensor(mask.to_vec(), [1, mask.len()], x);
    let complement = m.clone().neg().add_scalar(1.0);
    let kept = x.clone() * m;
    let input = match context {
        Some(c) => Tensor::cat(vec![kept, c.clone()], 1),
        None => kept,
    };
    (input, complement)
}

/// NICE's additive coupling over vectors, `y = x + (1 − m) ⊙ t(m ⊙ x)`.
#[derive(Module, Debug)]
pub struct AdditiveCoupling {
    net: Mlp,
    #[module(skip)]
    mask: Vec<f64>,
    #[module(skip)]
    context_width: usize,
}

impl AdditiveCoupling {
    /// A coupling of `features ≥ 2` features keeping those of `parity`, with a tanh MLP
    /// conditioner of `hidden` widths drawn from `seed`, conditioned on a context of
    /// `context_width` (0: unconditional).
    pub fn new(
        device: &SysDevice,
        features: usize,
        hidden: &[usize],
        parity: Parity,
        context_width: usize,
        seed: u64,
    ) -> Result<Self, GenerativeError> {
        check_features(features)?;
        Ok(AdditiveCoupling {
            net: conditioner(device, features + context_width, hidden, features, seed)?,
            mask: alternating_mask(features, parity),
            context_width,
        })
    }

    fn shift(
        &self,
        x: &Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Tensor<2>, GenerativeError> {
        check_input("additive coupling input", x, self.mask.len())?;
        check_context(
            "additive coupling context",
            context,
            x.dims()[0],
            self.context_width,
        )?;
        let (input, complement) = masked_input(x, &self.mask, context);
        Ok(self.net.forward(input)? * complement)
    }
}

impl Flow<2> for AdditiveCoupling {
    fn context_width(&self) -> usize {
        self.context_width
    }

    fn forward(
        &self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        let t = self.shift(&x, context)?;
        let log_det = crate::flow::checks::zero_log_det(&x);
        Ok(Transformed {
            value: x + t,
            log_det,
        })
    }

    fn inverse(
        &self,
        z: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        let t = self.shift(&z, context)?;
        let log_det = crate::flow::checks::zero_log_det(&z);
        Ok(Transformed {
            value: z - t,
            log_det,
        })
    }
}

/// NICE's diagonal scaling `y = exp(s) ⊙ x` with learned `s` (`[features]`, starting at 0).
#[derive(Module, Debug)]
pub struct DiagonalScaling {
    /// `s`.
    pub log_scale: Param<Tensor<1>>,
}

impl DiagonalScaling {
    /// The scaling with `s = log_scale` (finite values, at least one).
    pub fn new(device: &SysDevice, log_scale: &[f64]) -> Result<Self, GenerativeError> {
        if log_scale.is_empty() {
            return Err(GenerativeError::InvalidParameter {
                name: "diagonal scaling features",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        if let Some(bad) = log_scale.iter().find(|v| !v.is_finite()) {
            return Err(GenerativeError::InvalidParameter {
                name: "diagonal scaling log-scale",
                value: *bad,
                requirement: "must be finite (a scale exp(s) in (0, ∞))",
            });
        }
        let s = device
            .tensor(log_scale.to_vec(), [log_scale.len()])
            .expect("the shape is [log_scale.len()] for log_scale's values");
        Ok(DiagonalScaling {
            log_scale: Param::from_tensor(s),
        })
    }

    fn features(&self) -> usize {
        self.log_scale.dims()[0]
    }
}

const SCALING_CONTEXT: &str = "a context for a diagonal scaling (it has no conditioner)";

impl Flow<2> for DiagonalScaling {
    fn forward(
        &self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        no_context(context, SCALING_CONTEXT)?;
        check_input("diagonal scaling input", &x, self.features())?;
        let s = self.log_scale.val();
        let batch = x.dims()[0];
        Ok(Transformed {
            value: x * s.clone().exp().unsqueeze_dim::<2>(0),
            log_det: broadcast_rows(s.sum(), batch),
        })
    }

    fn inverse(
        &self,
        z: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        no_context(context, SCALING_CONTEXT)?;
        check_input("diagonal scaling input", &z, self.features())?;
        let s = self.log_scale.val();
        let batch = z.dims()[0];
        Ok(Transformed {
            value: z * s.clone().neg().exp().unsqueeze_dim::<2>(0),
            log_det: broadcast_rows(s.sum().neg(), batch),
        })
    }
}

/// RealNVP's affine coupling over vectors with an alternating mask and an MLP conditioner.
#[derive(Module, Debug)]
pub struct AffineCoupling {
    net: Mlp,
    #[module(skip)]
    mask: Vec<f64>,
    #[module(skip)]
    context_width: usize,
    #[module(skip)]
    bound: ScaleBound,
}

impl AffineCoupling {
    /// A coupling of `features ≥ 2` features keeping those of `parity`, the log-scale bounded
    /// by `bound`, with a tanh MLP conditioner of `hidden` widths (outputs `[ŝ, t̂]`) drawn
    /// from `seed`, conditioned on a context of `context_width` (0: unconditional).
    pub fn new(
        device: &SysDevice,
        features: usize,
        hidden: &[usize],
        parity: Parity,
        bound: ScaleBound,
        context_width: usize,
        seed: u64,
    ) -> Result<Self, GenerativeError> {
        check_features(features)?;
        bound.validate()?;
        Ok(AffineCoupling {
            net: conditioner(device, features + context_width, hidden, 2 * features, seed)?,
            mask: alternating_mask(features, parity),
            context_width,
            bound,
        })
    }

    /// `(s, t)`, zero on the kept features.
    fn scale_shift(
        &self,
        x: &Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<(Tensor<2>, Tensor<2>), GenerativeError> {
        let features = self.mask.len();
        check_input("affine coupling input", x, features)?;
        check_context(
            "affine coupling context",
            context,
            x.dims()[0],
            self.context_width,
        )?;
        let (input, complement) = masked_input(x, &self.mask, context);
        let out = self.net.forward(input)?;
        let s = self.bound.apply(out.clone().narrow(1, 0, features)) * complement.clone();
        let t = out.narrow(1, features, features) * complement;
        Ok((s, t))
    }
}

impl Flow<2> for AffineCoupling {
    fn context_width(&self) -> usize {
        self.context_width
    }

    fn forward(
        &self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        let (s, t) = self.scale_shift(&x, context)?;
        Ok(Transformed {
            value: x * s.clone().exp() + t,
            log_det: row_sum(s),
        })
    }

    fn inverse(
        &self,
        z: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        let (s, t) = self.scale_shift(&z, context)?;
        Ok(Transformed {
            value: (z - t) * s.clone().neg().exp(),
            log_det: row_sum(s).neg(),
        })
    }
}

/// `x[:, columns]`, in the order given.
fn columns(x: &Tensor<2>, columns: &[usize]) -> Tensor<2> {
    Tensor::cat(
        columns.iter().map(|&i| x.clone().narrow(1, i, 1)).collect(),
        1,
    )
}

/// RealNVP's affine coupling in split form: the kept features `x_c` pass unchanged and feed two
/// separate networks, `s = b(S(x_c, context))` and `t = T(x_c, context)`, and the other
/// features become `y_o = x_o ⊙ exp(s) + t`; `log|det J| = Σ s`.
#[derive(Module, Debug)]
pub struct SplitAffineCoupling {
    scale: Mlp,
    shift: Mlp,
    /// The kept features `c`, increasing.
    #[module(skip)]
    kept: Vec<usize>,
    /// The transformed features `o`, increasing.
    #[module(skip)]
    transformed: Vec<usize>,
    #[module(skip)]
    context_width: usize,
    #[module(skip)]
    bound: ScaleBound,
}

impl SplitAffineCoupling {
    /// A coupling of `features ≥ 2` features keeping those of `parity`, with scale and shift
    /// networks of `hidden` widths and `activation` drawn from `seed`, the log-scale bounded by
    /// `bound`, conditioned on a context of `context_width` (0: unconditional).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        device: &SysDevice,
        features: usize,
        hidden: &[usize],
        activation: Activation,
        parity: Parity,
        bound: ScaleBound,
        context_width: usize,
        seed: u64,
    ) -> Result<Self, GenerativeError> {
        check_features(features)?;
        let kept = (0..features).filter(|&i| parity.keeps(i)).count();
        let net = |seed: u64| -> Result<Mlp, GenerativeError> {
            let mut widths = vec![kept + context_width];
            widths.extend_from_slice(hidden);
            widths.push(features - kept);
            Ok(MlpConfig::new(widths)
                .with_activation(activation)
                .init_seeded(device, seed)?)
        };
        Self::from_networks(
            net(seed)?,
            net(seed.wrapping_add(1))?,
            features,
            parity,
            bound,
            context_width,
        )
    }

    /// The coupling with given scale and shift networks, each from `kept + context_width`
    /// inputs to `transformed` outputs (e.g. a fixture's weights).
    pub fn from_networks(
        scale: Mlp,
        shift: Mlp,
        features: usize,
        parity: Parity,
        bound: ScaleBound,
        context_width: usize,
    ) -> Result<Self, GenerativeError> {
        check_features(features)?;
        bound.validate()?;
        let (kept, transformed): (Vec<usize>, Vec<usize>) =
            (0..features).partition(|&i| parity.keeps(i));
        for (what, net) in [("scale network", &scale), ("shift network", &shift)] {
            let widths = net.widths();
            let ends = [widths[0], widths[widths.len() - 1]];
            if ends != [kept.len() + context_width, transformed.len()] {
                return Err(GenerativeError::ShapeMismatch {
                    what,
                    left: ends.to_vec(),
                    right: vec![kept.len() + context_width, transformed.len()],
                });
            }
        }
        Ok(SplitAffineCoupling {
            scale,
            shift,
            kept,
            transformed,
            context_width,
            bound,
        })
    }

    fn features(&self) -> usize {
        self.kept.len() + self.transformed.len()
    }

    /// The scale and shift networks, the kept and transformed features, the bound and the
    /// context width: what the host engine runs ([`crate::flow::host`]).
    pub(crate) fn parts(&self) -> (&Mlp, &Mlp, &[usize], &[usize], ScaleBound, usize) {
        (
            &self.scale,
            &self.shift,
            &self.kept,
            &self.transformed,
            self.bound,
            self.context_width,
        )
    }

    /// `(x_c, s, x_o, t)` of a batch.
    fn split(
        &self,
        x: &Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<(Tensor<2>, Tensor<2>, Tensor<2>, Tensor<2>), GenerativeError> {
        check_input("split affine coupling input", x, self.features())?;
        check_context(
            "split affine coupling context",
            context,
            x.dims()[0],
            self.context_width,
        )?;
        let kept = columns(x, &self.kept);
        let input = match context {
            Some(c) => Tensor::cat(vec![kept.clone(), c.clone()], 1),
            None => kept.clone(),
        };
        let s = self.bound.apply(self.scale.forward(input.clone())?);
        let t = self.shift.forward(input)?;
        Ok((kept, s, columns(x, &self.transformed), t))
    }

    /// `[kept, transformed]` back in the features' order.
    fn join(&self, kept: Tensor<2>, transformed: Tensor<2>) -> Tensor<2> {
        let mut parts = Vec::with_capacity(self.features());
        let (mut c, mut o) = (0, 0);
        for i in 0..self.features() {
            if self.kept.get(c) == Some(&i) {
                parts.push(kept.clone().narrow(1, c, 1));
                c += 1;
            } else {
                parts.push(transformed.clone().narrow(1, o, 1));
                o += 1;
            }
        }
        Tensor::cat(parts, 1)
    }
}

impl Flow<2> for SplitAffineCoupling {
    fn context_width(&self) -> usize {
        self.context_width
    }

    fn forward(
        &self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        let (kept, s, changed, t) = self.split(&x, context)?;
        let log_det = row_sum(s.clone());
        Ok(Transformed {
            value: self.join(kept, changed * s.exp() + t),
            log_det,
        })
    }

    fn inverse(
        &self,
        z: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        let (kept, s, changed, t) = self.split(&z, context)?;
        let log_det = row_sum(s.clone()).neg();
        Ok(Transformed {
            value: self.join(kept, (changed - t) * s.neg().exp()),
            log_det,
        })
    }
}

/// The mask of an image coupling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageMask {
    /// Pixels with `(row + col)` of the parity are kept, in every channel.
    Checkerboard(Parity),
    /// The first (`Even`) or second (`Odd`) half of the channels is kept; the channel count
    /// must be even.
    Channel(Parity),
}

/// A stack of 3×3 convolutions (padding 1, so the size is kept) with tanh between them.
#[derive(Module, Debug)]
pub struct ConvNet {
    kernels: Vec<Param<Tensor<4>>>,
    biases: Vec<Param<Tensor<1>>>,
}

impl ConvNet {
    /// Channels `widths[0] → … → widths[last]`, weights uniform in `±1/√fan_in` from `seed`.
    pub fn new(device: &SysDevice, widths: &[usize], seed: u64) -> Result<Self, GenerativeError> {
        if widths.len() < 2 || widths.contains(&0) {
            return Err(GenerativeError::InvalidParameter {
                name: "convolutional conditioner widths",
                value: widths.len() as f64,
                requirement: "needs at least an input and an output width, none of them 0",
            });
        }
        let mut rng = SeededRng::new(seed);
        let mut kernels = Vec::new();
        let mut biases = Vec::new();
        for w in widths.windows(2) {
            let (input, output) = (w[0], w[1]);
            let bound = 1.0 / ((input * 9) as f64).sqrt();
            let mut draw = |n: usize| -> Vec<f64> {
                rng.uniforms(n)
                    .into_iter()
                    .map(|u| bound * (2.0 * u - 1.0))
                    .collect()
            };
            let kernel = device
                .tensor(draw(output * input * 9), [output, input, 3, 3])
                .expect("output × input × 3 × 3 values were drawn");
            let bias = device
                .tensor(draw(output), [output])
                .expect("output values were drawn");
            kernels.push(Param::from_tensor(kernel));
            biases.push(Param::from_tensor(bias));
        }
        Ok(ConvNet { kernels, biases })
    }

    /// The network on `[batch, widths[0], h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let last = self.kernels.len() - 1;
        let options = || ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        self.kernels
            .iter()
            .zip(&self.biases)
            .enumerate()
            .fold(x, |h, (index, (kernel, bias))| {
                let out = conv2d(h, kernel.val(), Some(bias.val()), options());
                if index == last { out } else { out.tanh() }
            })
    }
}

/// RealNVP's affine coupling over images with a checkerboard or channel-wise mask and a
/// convolutional conditioner.
#[derive(Module, Debug)]
pub struct ConvAffineCoupling {
    net: ConvNet,
    #[module(skip)]
    mask: ImageMask,
    #[module(skip)]
    channels: usize,
    #[module(skip)]
    context_width: usize,
    #[module(skip)]
    bound: ScaleBound,
}

impl ConvAffineCoupling {
    /// A coupling of images with `channels` channels (even for a channel-wise mask), the
    /// log-scale bounded by `bound`, with a conditioner of `hidden` 3×3 convolution widths drawn
    /// from `seed`, conditioned on a context of `context_width` (0: unconditional).
    pub fn new(
        device: &SysDevice,
        channels: usize,
        hidden: &[usize],
        mask: ImageMask,
        bound: ScaleBound,
        context_width: usize,
        seed: u64,
    ) -> Result<Self, GenerativeError> {
        bound.validate()?;
        let (input, transformed) = match mask {
            ImageMask::Checkerboard(_) => {
                if channels == 0 {
                    return Err(GenerativeError::InvalidParameter {
                        name: "coupling channels",
                        value: 0.0,
                        requirement: "must be at least 1",
                    });
                }
                (channels, channels)
            }
            ImageMask::Channel(_) => {
                if channels < 2 || !channels.is_multiple_of(2) {
                    return Err(GenerativeError::InvalidParameter {
                        name: "channels of a channel-wise coupling",
                        value: channels as f64,
                        requirement: "must be even (half the channels condition the other \
                                      half): use a checkerboard mask or squeeze first",
                    });
                }
                (channels / 2, channels / 2)
            }
        };
        let mut widths = vec![input + context_width];
        widths.extend_from_slice(hidden);
        widths.push(2 * transformed);
        Ok(ConvAffineCoupling {
            net: ConvNet::new(device, &widths, seed)?,
            mask,
            channels,
            context_width,
            bound,
        })
    }

    /// The conditioner's output on `kept` (`[b, c', h, w]`) with the context as constant
    /// channels: `(s, t)` each with half its channels.
    fn conditioner(&self, kept: Tensor<4>, context: Option<&Tensor<2>>) -> (Tensor<4>, Tensor<4>) {
        let [b, _, h, w] = kept.dims();
        let input = match context {
            Some(c) => {
                let channels = c.clone().reshape([b, self.context_width, 1, 1]).expand([
                    b,
                    self.context_width,
                    h,
                    w,
                ]);
                Tensor::cat(vec![kept, channels], 1)
            }
            None => kept,
        };
        let out = self.net.forward(input);
        let half = out.dims()[1] / 2;
        (
            self.bound.apply(out.clone().narrow(1, 0, half)),
            out.narrow(1, half, half),
        )
    }

    fn check(&self, x: &Tensor<4>, context: Option<&Tensor<2>>) -> Result<(), GenerativeError> {
        check_input("image coupling input", x, self.channels)?;
        check_context(
            "image coupling context",
            context,
            x.dims()[0],
            self.context_width,
        )
    }

    /// `y = x ⊙ exp(s) + t` (or, `inverse`, `x = (y − t) ⊙ exp(−s)`) under the mask.
    fn apply(
        &self,
        x: Tensor<4>,
        context: Option<&Tensor<2>>,
        inverse: bool,
    ) -> Result<Transformed<4>, GenerativeError> {
        self.check(&x, context)?;
        let [b, c, h, w] = x.dims();
        match self.mask {
            ImageMask::Checkerboard(parity) => {
                let mask = host_tensor(
                    (0..h * w)
                        .map(|k| f64::from(u8::from(parity.keeps(k / w + k % w))))
                        .collect(),
                    [1, 1, h, w],
                    &x,
                );
                let complement = mask.clone().neg().add_scalar(1.0).expand([b, c, h, w]);
                let (s, t) = self.conditioner(x.clone() * mask.expand([b, c, h, w]), context);
                let s = s * complement.clone();
                let t = t * complement;
                let log_det = row_sum(s.clone());
                Ok(if inverse {
                    Transformed {
                        value: (x - t) * s.neg().exp(),
                        log_det: log_det.neg(),
                    }
                } else {
                    Transformed {
                        value: x * s.exp() + t,
                        log_det,
                    }
                })
            }
            ImageMask::Channel(parity) => {
                let half = c / 2;
                let first = x.clone().narrow(1, 0, half);
                let second = x.narrow(1, half, half);
                let (kept, changed) = match parity {
                    Parity::Even => (first, second),
                    Parity::Odd => (second, first),
                };
                let (s, t) = self.conditioner(kept.clone(), context);
                let log_det = row_sum(s.clone());
                let (changed, log_det) = if inverse {
                    ((changed - t) * s.neg().exp(), log_det.neg())
                } else {
                    (changed * s.exp() + t, log_det)
                };
                let value = match parity {
                    Parity::Even => Tensor::cat(vec![kept, changed], 1),
                    Parity::Odd => Tensor::cat(vec![changed, kept], 1),
                };
                Ok(Transformed { value, log_det })
            }
        }
    }
}

impl Flow<4> for ConvAffineCoupling {
    fn context_width(&self) -> usize {
        self.context_width
    }

    fn forward(
        &self,
        x: Tensor<4>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<4>, GenerativeError> {
        self.apply(x, context, false)
    }

    fn inverse(
        &self,
        z: Tensor<4>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<4>, GenerativeError> {
        self.apply(z, context, true)
    }
}
