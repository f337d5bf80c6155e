//! `F_a` for 2-D fields: APHYNITY's small convolutional estimator (three 3 × 3 convolutions,
//! `channels → hidden → hidden → channels`, ReLU between), on flattened states
//! `[batch, channels·n·n]`.
//!
//! The padding follows the physics: wrap-around for periodic domains (FitzHugh–Nagumo), zeros
//! otherwise (the wave's closed box), so `F_a` sees the same neighbourhoods as the stencils of
//! `F_p`. Weights are drawn on the host from a seed (the same network on every backend), uniform
//! in `±gain/√(fan_in)`.

use burn::module::{Module, Param};
use burn::tensor::activation::relu;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor};
use sysdyn_core::rng::SeededRng;

use super::augmented::Augmentation;
use crate::error::PhysicsError;
use crate::model::host_tensor;

/// APHYNITY's convolutional `F_a` (see the module docs).
#[derive(Module, Debug)]
pub struct ConvAugmentation {
    kernels: Vec<Param<Tensor<4>>>,
    biases: Vec<Param<Tensor<1>>>,
    #[module(skip)]
    channels: usize,
    #[module(skip)]
    side: usize,
    #[module(skip)]
    periodic: bool,
}

impl ConvAugmentation {
    /// A network for `channels` fields on a `side × side` grid with `hidden` channels inside,
    /// periodic padding when `periodic`; weights scaled by `gain` (1: burn's default scale).
    pub fn new(
        channels: usize,
        side: usize,
        hidden: usize,
        periodic: bool,
        gain: f64,
        seed: u64,
        device: &Device,
    ) -> Result<Self, PhysicsError> {
        for (name, v) in [("channels", channels), ("side", side), ("hidden", hidden)] {
            if v == 0 {
                return Err(PhysicsError::InvalidParameter {
                    name,
                    value: 0.0,
                    requirement: "must be at least 1",
                });
            }
        }
        crate::model::positive("gain", gain)?;
        let mut rng = SeededRng::new(seed);
        let like: Tensor<2> = Tensor::zeros([1, 1], device);
        let widths = [channels, hidden, hidden, channels];
        let (mut kernels, mut biases) = (Vec::new(), Vec::new());
        for w in widths.windows(2) {
            let (fan_in, out) = (w[0] * 9, w[1]);
            let bound = gain / (fan_in as f64).sqrt();
            let mut draw = |n: usize| -> Vec<f64> {
                rng.uniforms(n)
                    .into_iter()
                    .map(|u| bound * (2.0 * u - 1.0))
                    .collect()
            };
            kernels.push(Param::from_tensor(host_tensor(
                draw(out * fan_in),
                [out, w[0], 3, 3],
                &like,
            )));
            biases.push(Param::from_tensor(host_tensor(draw(out), [out], &like)));
        }
        Ok(ConvAugmentation {
            kernels,
            biases,
            channels,
            side,
            periodic,
        })
    }

    /// Pads `[b, c, n, n]` by one cell on each side (wrap-around or zeros).
    fn pad(&self, x: Tensor<4>) -> Tensor<4> {
        let n = self.side;
        if self.periodic {
            let rows = Tensor::cat(
                vec![x.clone().narrow(2, n - 1, 1), x.clone(), x.narrow(2, 0, 1)],
                2,
            );
            Tensor::cat(
                vec![
                    rows.clone().narrow(3, n - 1, 1),
                    rows.clone(),
                    rows.narrow(3, 0, 1),
                ],
                3,
            )
        } else {
            let [b, c, _, _] = x.dims();
            let zr = Tensor::zeros([b, c, 1, n], (&x.device(), x.dtype()));
            let rows = Tensor::cat(vec![zr.clone(), x, zr], 2);
            let zc = Tensor::zeros([b, c, n + 2, 1], (&rows.device(), rows.dtype()));
            Tensor::cat(vec![zc.clone(), rows, zc], 3)
        }
    }
}

impl Augmentation for ConvAugmentation {
    fn field(&self, y: Tensor<2>) -> Result<Tensor<2>, PhysicsError> {
        let [b, len] = y.dims();
        let n = self.side;
        crate::stencil::check_len(
            "state columns of the conv augmentation",
            self.channels * n * n,
            len,
        )?;
        let valid = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
        let mut h: Tensor<4> = y.reshape([b, self.channels, n, n]);
        let last = self.kernels.len() - 1;
        for (i, (k, bias)) in self.kernels.iter().zip(&self.biases).enumerate() {
            h = conv2d(self.pad(h), k.val(), Some(bias.val()), valid.clone());
            if i < last {
                h = relu(h);
            }
        }
        Ok(h.reshape([b, len]))
    }
}
