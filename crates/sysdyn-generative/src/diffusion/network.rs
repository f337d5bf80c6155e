//! W3's ε-network: `[x, emb(t)] → 34→128 SiLU → 128→128 SiLU → 128→128 SiLU → 128→2` for 2-D
//! data with the 32-dimensional sinusoidal step embedding, optionally class-conditioned.
//!
//! Class conditioning adds a learned vector `c(y)` to the step embedding, `[x, emb(t) + c(y)]`,
//! so the input width does not change. The table has one row more than there are classes: the
//! last row is the null class `∅` that classifier-free guidance evaluates `ε(x, ∅)` with and
//! that label dropout trains.

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, JetForward, Mlp, MlpConfig};
use sysdyn_core::rng::SeededRng;

use crate::diffusion::denoiser::Denoiser;
use crate::diffusion::embedding::TimeEmbedding;
use crate::error::GenerativeError;
use crate::host::host_tensor;

/// The shape of an [`EpsNet`].
#[derive(Debug, Clone, PartialEq)]
pub struct EpsNetConfig {
    /// The data's width (W3: 2).
    pub data_width: usize,
    /// The step embedding's dimension (W3: 32).
    pub embedding_dim: usize,
    /// Hidden widths, each followed by SiLU (W3: 128, 128, 128).
    pub hidden: Vec<usize>,
    /// Classes to condition on (0: unconditional).
    pub classes: usize,
}

impl EpsNetConfig {
    /// W3's network: 2-D data, embedding 32, three hidden layers of 128, unconditional.
    pub fn w3() -> Self {
        EpsNetConfig {
            data_width: 2,
            embedding_dim: 32,
            hidden: vec![128, 128, 128],
            classes: 0,
        }
    }

    /// With `classes` classes (and the null class) to condition on.
    pub fn with_classes(mut self, classes: usize) -> Self {
        self.classes = classes;
        self
    }

    /// A network with burn's default initialisation of the layers drawn from `seed`, and a
    /// class table drawn from N(0, 1).
    pub fn init_seeded(&self, device: &SysDevice, seed: u64) -> Result<EpsNet, GenerativeError> {
        let embedding = TimeEmbedding::new(self.embedding_dim)?;
        if self.data_width == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "ε-network data width",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        let mut widths = vec![self.data_width + self.embedding_dim];
        widths.extend(&self.hidden);
        widths.push(self.data_width);
        let net = MlpConfig::new(widths)
            .with_activation(Activation::Silu)
            .init_seeded(device, seed)?;
        let mut network = EpsNet::from_mlp(net, embedding)?;
        if self.classes > 0 {
            let mut rng = SeededRng::new(seed ^ 0x9e37_79b9_7f4a_7c15);
            let table = device.randn(&mut rng, [self.classes + 1, self.embedding_dim]);
            network.class_table = Some(Param::from_tensor(table));
            network.classes = self.classes;
        }
        Ok(network)
    }
}

/// The ε-network (module docs). Evaluate with [`EpsNet::forward`].
#[derive(Module, Debug)]
pub struct EpsNet {
    net: Mlp,
    /// `[classes + 1, embedding_dim]`, the last row the null class.
    class_table: Option<Param<Tensor<2>>>,
    #[module(skip)]
    embedding: TimeEmbedding,
    #[module(skip)]
    classes: usize,
}

impl EpsNet {
    /// An unconditional network from an MLP whose input is `[x, emb(t)]` and whose output is
    /// as wide as `x` (e.g. W3's fixture layers).
    pub fn from_mlp(net: Mlp, embedding: TimeEmbedding) -> Result<Self, GenerativeError> {
        let input = net.input_width();
        if input <= embedding.dim() || net.output_width() != input - embedding.dim() {
            return Err(GenerativeError::ShapeMismatch {
                what: "ε-network input width (data + embedding) and output width (data)",
                left: vec![input, net.output_width()],
                right: vec![net.output_width() + embedding.dim(), embedding.dim()],
            });
        }
        Ok(EpsNet {
            net,
            class_table: None,
            embedding,
            classes: 0,
        })
    }

    /// The data's width.
    pub fn data_width(&self) -> usize {
        self.net.output_width()
    }

    /// The classes it is conditioned on (0: unconditional).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The step embedding.
    pub fn embedding(&self) -> TimeEmbedding {
        self.embedding
    }

    /// The class table `[classes + 1, embedding_dim]` (the last row the null class), if
    /// conditional.
    pub fn class_table(&self) -> Option<Tensor<2>> {
        self.class_table.as_ref().map(|table| table.val())
    }

    /// The MLP.
    pub fn network(&self) -> &Mlp {
        &self.net
    }

    /// `ε̂(x, t, y)` for rows `x` (`[n, data_width]`), one step per row, and for a conditional
    /// network one label per row (`Some`) or the null class for every row (`None`, the
    /// unconditional `ε(x, ∅)` of classifier-free guidance). An unconditional network takes
    /// no labels.
    pub fn forward(
        &self,
        x: Tensor<2>,
        steps: &[usize],
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        self.predict_with_labels(x, steps, labels)
    }

    /// `ε̂` with class indices where `classes` (the network's count) is the null class.
    fn eps_classes(
        &self,
        x: Tensor<2>,
        steps: &[usize],
        classes: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        let [rows, width] = x.dims();
        if width != self.data_width() {
            return Err(GenerativeError::ShapeMismatch {
                what: "data width and the ε-network's",
                left: vec![width],
                right: vec![self.data_width()],
            });
        }
        if steps.len() != rows {
            return Err(GenerativeError::ShapeMismatch {
                what: "rows and diffusion steps (one step per row)",
                left: vec![rows],
                right: vec![steps.len()],
            });
        }
        let mut emb = self.embedding().tensor_like(steps, &x);
        if let (Some(table), Some(classes)) = (&self.class_table, classes) {
            if classes.len() != rows {
                return Err(GenerativeError::ShapeMismatch {
                    what: "rows and labels",
                    left: vec![rows],
                    right: vec![classes.len()],
                });
            }
            let width = self.classes + 1;
            let mut one_hot = vec![0.0; rows * width];
            for (row, &class) in classes.iter().enumerate() {
                one_hot[row * width + class] = 1.0;
            }
            let one_hot = host_tensor(one_hot, [rows, width], &x);
            emb = emb + one_hot.matmul(table.val());
        }
        Ok(self.net.forward(Tensor::cat(vec![x, emb], 1))?)
    }
}

impl Denoiser for EpsNet {
    fn data_width(&self) -> usize {
        self.net.output_width()
    }

    fn classes(&self) -> usize {
        self.classes
    }

    fn forward_classes(
        &self,
        x: Tensor<2>,
        steps: &[usize],
        classes: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        self.eps_classes(x, steps, classes)
    }

    fn as_eps_net(&self) -> Option<&EpsNet> {
        Some(self)
    }
}
