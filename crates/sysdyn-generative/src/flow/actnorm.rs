//! Glow's activation normalisation (Kingma & Dhariwal 2018): a per-channel (per-feature)
//! affine map `y = (x + b) ⊙ exp(s)`, with `log|det J| = Σ_c s_c` for vectors and
//! `H · W · Σ_c s_c` for images; inverse `x = y ⊙ exp(−s) − b`.
//!
//! Data-dependent initialisation ([`Flow::initialise`]): on a first batch, `b = −mean` and
//! `s = −log std` per channel (over the batch, and the pixels of an image), so that this batch
//! leaves the layer with zero mean and unit variance. A channel with zero spread gives no
//! scale and is refused with a typed error.

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;

use crate::error::GenerativeError;
use crate::flow::checks::{broadcast_rows, check_input, no_context};
use crate::flow::{Flow, Transformed};
use crate::host::{host_tensor, host_values};

/// Per-channel affine normalisation with learned bias `b` and log-scale `s` (`[channels]`).
#[derive(Module, Debug)]
pub struct ActNorm {
    /// `b`.
    pub bias: Param<Tensor<1>>,
    /// `s`.
    pub log_scale: Param<Tensor<1>>,
}

const CONTEXT: &str = "a context for ActNorm (it has no conditioner)";

fn zero_scale(value: f64) -> GenerativeError {
    GenerativeError::InvalidParameter {
        name: "ActNorm scale (a channel's standard deviation on the first batch, or a given scale)",
        value,
        requirement: "must be finite and > 0: initialise on a batch in which every channel \
                      varies, or pass positive scales",
    }
}

impl ActNorm {
    /// The identity (`b = 0`, `s = 0`) over `channels ≥ 1` channels, to be initialised on data.
    pub fn new(device: &SysDevice, channels: usize) -> Result<Self, GenerativeError> {
        if channels == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "ActNorm channels",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        Ok(ActNorm {
            bias: Param::from_tensor(device.zeros([channels])),
            log_scale: Param::from_tensor(device.zeros([channels])),
        })
    }

    /// `y = (x + bias) ⊙ scale` with given biases and positive scales.
    pub fn from_scale(
        device: &SysDevice,
        bias: &[f64],
        scale: &[f64],
    ) -> Result<Self, GenerativeError> {
        if bias.len() != scale.len() || bias.is_empty() {
            return Err(GenerativeError::ShapeMismatch {
                what: "ActNorm biases and scales",
                left: vec![bias.len()],
                right: vec![scale.len()],
            });
        }
        if let Some(bad) = scale.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(zero_scale(*bad));
        }
        if let Some(bad) = bias.iter().find(|b| !b.is_finite()) {
            return Err(GenerativeError::InvalidParameter {
                name: "ActNorm bias",
                value: *bad,
                requirement: "must be finite",
            });
        }
        let n = bias.len();
        let log_scale: Vec<f64> = scale.iter().map(|s| s.ln()).collect();
        Ok(ActNorm {
            bias: Param::from_tensor(
                device
                    .tensor(bias.to_vec(), [n])
                    .expect("n = bias.len() values"),
            ),
            log_scale: Param::from_tensor(
                device
                    .tensor(log_scale, [n])
                    .expect("scale.len() = n, checked above"),
            ),
        })
    }

    /// The number of channels.
    pub fn channels(&self) -> usize {
        self.bias.dims()[0]
    }

    /// Sets `b = −mean`, `s = −log std` from a batch laid out as `[rows, channels]` after
    /// moving the channels last (`values` row-major), keeping the parameters' identities.
    fn initialise_from(self, values: &[f64]) -> Result<Self, GenerativeError> {
        let c = self.channels();
        let rows = values.len() / c;
        let mut mean = vec![0.0; c];
        for row in values.chunks(c) {
            mean.iter_mut()
                .zip(row)
                .for_each(|(m, v)| *m += v / rows as f64);
        }
        let mut var = vec![0.0; c];
        for row in values.chunks(c) {
            for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (v - m) * (v - m) / rows as f64;
            }
        }
        let mut log_scale = Vec::with_capacity(c);
        for (v, m) in var.iter().zip(&mean) {
            let std = v.sqrt();
            // A spread at rounding level of the channel's mean is no spread.
            if !(std.is_finite() && std > 1e-12 * (1.0 + m.abs())) {
                return Err(zero_scale(std));
            }
            log_scale.push(-std.ln());
        }
        let like = self.bias.val();
        let bias = host_tensor(mean.iter().map(|m| -m).collect(), [c], &like);
        let log_scale = host_tensor(log_scale, [c], &like);
        Ok(ActNorm {
            bias: Param::initialized(self.bias.id, bias).set_require_grad(true),
            log_scale: Param::initialized(self.log_scale.id, log_scale).set_require_grad(true),
        })
    }
}

impl Flow<2> for ActNorm {
    fn forward(
        &self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        no_context(context, CONTEXT)?;
        check_input("ActNorm input", &x, self.channels())?;
        let s = self.log_scale.val();
        let batch = x.dims()[0];
        Ok(Transformed {
            value: (x + self.bias.val().unsqueeze_dim::<2>(0))
                * s.clone().exp().unsqueeze_dim::<2>(0),
            log_det: broadcast_rows(s.sum(), batch),
        })
    }

    fn inverse(
        &self,
        z: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        no_context(context, CONTEXT)?;
        check_input("ActNorm input", &z, self.channels())?;
        let s = self.log_scale.val();
        let batch = z.dims()[0];
        Ok(Transformed {
            value: z * s.clone().neg().exp().unsqueeze_dim::<2>(0)
                - self.bias.val().unsqueeze_dim::<2>(0),
            log_det: broadcast_rows(s.sum().neg(), batch),
        })
    }

    fn initialise(
        self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Self, GenerativeError> {
        no_context(context, CONTEXT)?;
        check_input("ActNorm initial batch", &x, self.channels())?;
        let values = host_values(x, "ActNorm initial batch")?;
        self.initialise_from(&values)
    }
}

/// `[c]` as `[1, c, 1, 1]`.
fn per_channel(t: Tensor<1>) -> Tensor<4> {
    let c = t.dims()[0];
    t.reshape([1, c, 1, 1])
}

impl Flow<4> for ActNorm {
    fn forward(
        &self,
        x: Tensor<4>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<4>, GenerativeError> {
        no_context(context, CONTEXT)?;
        check_input("ActNorm input", &x, self.channels())?;
        let [batch, _, h, w] = x.dims();
        let s = self.log_scale.val();
        Ok(Transformed {
            value: (x + per_channel(self.bias.val())) * per_channel(s.clone().exp()),
            log_det: broadcast_rows(s.sum().mul_scalar((h * w) as f64), batch),
        })
    }

    fn inverse(
        &self,
        z: Tensor<4>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<4>, GenerativeError> {
        no_context(context, CONTEXT)?;
        check_input("ActNorm input", &z, self.channels())?;
        let [batch, _, h, w] = z.dims();
        let s = self.log_scale.val();
        Ok(Transformed {
            value: z * per_channel(s.clone().neg().exp()) - per_channel(self.bias.val()),
            log_det: broadcast_rows(s.sum().mul_scalar(-((h * w) as f64)), batch),
        })
    }

    fn initialise(
        self,
        x: Tensor<4>,
        context: Option<&Tensor<2>>,
    ) -> Result<Self, GenerativeError> {
        no_context(context, CONTEXT)?;
        check_input("ActNorm initial batch", &x, self.channels())?;
        let [b, c, h, w] = x.dims();
        let rows = x.permute([0, 2, 3, 1]).reshape([b * h * w, c]);
        let values = host_values(rows, "ActNorm initial batch")?;
        self.initialise_from(&values)
    }
}
