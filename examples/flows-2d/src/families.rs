//! The flow families, each built as one [`Chain`] of [`VectorLayer`]s over `ℝ²` (the CNF as a
//! [`CnfFlow`] of its own type), with the sizes of the example.

use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, MlpConfig};
use sysdyn_generative::GenerativeError;
use sysdyn_generative::flow::actnorm::ActNorm;
use sysdyn_generative::flow::chain::{Chain, VectorLayer};
use sysdyn_generative::flow::cnf::{CnfFlow, CnfSolver};
use sysdyn_generative::flow::conv1x1::InvertibleConv1x1;
use sysdyn_generative::flow::coupling::{
    AdditiveCoupling, AffineCoupling, DiagonalScaling, Parity, ScaleBound,
};
use sysdyn_generative::flow::iaf::Iaf;
use sysdyn_generative::flow::made::{InputOrder, MadeConfig};
use sysdyn_generative::flow::maf::Maf;
use sysdyn_generative::flow::permutation::Permutation;
use sysdyn_generative::flow::residual::{LogDetEstimator, ResidualFlowConfig};
use sysdyn_generative::flow::revnet::RevNetBlock;
use sysdyn_generative::flow::spline::SplineCouplingConfig;
use sysdyn_generative::flow::spline::SplineSettings;
use sysdyn_generative::flow::spline_autoregressive::SplineAutoregressive;
use sysdyn_nodes::{MlpField, TraceEstimator};
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::RK4;

/// A family of flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// NICE: additive couplings and a final diagonal scaling.
    Nice,
    /// RealNVP: affine couplings with alternating masks.
    RealNvp,
    /// Glow-style steps: ActNorm, an LU-parametrised linear map, an affine coupling.
    Glow,
    /// Masked autoregressive flow layers with reversals between them.
    Maf,
    /// Inverse autoregressive flow layers with reversals between them.
    Iaf,
    /// RevNet additive blocks (volume preserving) after one ActNorm.
    RevNet,
    /// Rational-quadratic spline couplings.
    Spline,
    /// Autoregressive rational-quadratic splines.
    SplineAr,
    /// Invertible residual blocks (spectrally normalised, exact power-series log-det).
    Residual,
    /// A continuous normalizing flow (RK4, exact trace).
    Cnf,
}

impl Family {
    /// Every family, in the order of the tables.
    pub const ALL: [Family; 10] = [
        Family::Nice,
        Family::RealNvp,
        Family::Glow,
        Family::Maf,
        Family::Iaf,
        Family::RevNet,
        Family::Spline,
        Family::SplineAr,
        Family::Residual,
        Family::Cnf,
    ];

    /// The family's name on the command line and in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Family::Nice => "nice",
            Family::RealNvp => "realnvp",
            Family::Glow => "glow",
            Family::Maf => "maf",
            Family::Iaf => "iaf",
            Family::RevNet => "revnet",
            Family::Spline => "spline",
            Family::SplineAr => "spline-ar",
            Family::Residual => "residual",
            Family::Cnf => "cnf",
        }
    }

    /// The family of a name (`--families`).
    pub fn parse(text: &str) -> Result<Family, String> {
        Family::ALL
            .into_iter()
            .find(|f| f.name() == text)
            .ok_or_else(|| {
                format!(
                    "unknown flow family `{text}`; one of {}",
                    Family::ALL.map(Family::name).join(", ")
                )
            })
    }

    /// What the family is, in words (the README's table).
    pub fn description(self) -> &'static str {
        match self {
            Family::Nice => "6 additive couplings + diagonal scaling",
            Family::RealNvp => "8 affine couplings (tanh-bounded scale)",
            Family::Glow => "4 × (ActNorm, LU linear, affine coupling)",
            Family::Maf => "5 MAF layers, reversals between",
            Family::Iaf => "5 IAF layers, reversals between",
            Family::RevNet => "ActNorm + 6 RevNet blocks (volume preserving)",
            Family::Spline => "4 RQ-spline couplings, 8 bins on [−4, 4]",
            Family::SplineAr => "2 autoregressive RQ splines, 8 bins",
            Family::Residual => "ActNorm + 6 residual blocks, c = 0.8",
            Family::Cnf => "CNF, RK4 with 8 steps, exact trace",
        }
    }
}

/// The network sizes: `hidden` widths of every conditioner (the quick run uses smaller ones).
#[derive(Debug, Clone, PartialEq)]
pub struct Sizes {
    /// Hidden widths of every MLP.
    pub hidden: Vec<usize>,
    /// The number of couplings of RealNVP and of layers of MAF (default 8 and 5; 10 for the
    /// tabular MAF(10) and RealNVP(10)).
    pub depth: Option<usize>,
}

/// The family as a chain of vector layers, weights drawn from `seed` (every family but the
/// CNF, which [`cnf`] builds).
pub fn chain(
    device: &SysDevice,
    family: Family,
    dim: usize,
    sizes: &Sizes,
    seed: u64,
) -> Result<Chain<VectorLayer>, GenerativeError> {
    let hidden = sizes.hidden.as_slice();
    let s = |k: usize| seed.wrapping_mul(1000).wrapping_add(k as u64);
    let reverse = || Permutation::reverse(dim).map(VectorLayer::Permutation);
    let made = |k: usize| {
        MadeConfig::new(dim, hidden.to_vec())
            .with_order(InputOrder::Natural)
            .init(device, s(k))
    };
    let mut layers = Vec::new();
    match family {
        Family::Nice => {
            let mut parity = Parity::Even;
            for k in 0..6 {
                layers.push(VectorLayer::Additive(AdditiveCoupling::new(
                    device,
                    dim,
                    hidden,
                    parity,
                    0,
                    s(k),
                )?));
                parity = parity.flipped();
            }
            layers.push(VectorLayer::Scaling(DiagonalScaling::new(
                device,
                &vec![0.0; dim],
            )?));
        }
        Family::RealNvp => {
            let mut parity = Parity::Even;
            for k in 0..sizes.depth.unwrap_or(8) {
                layers.push(VectorLayer::Affine(AffineCoupling::new(
                    device,
                    dim,
                    hidden,
                    parity,
                    ScaleBound::Tanh { bound: 2.0 },
                    0,
                    s(k),
                )?));
                parity = parity.flipped();
            }
        }
        Family::Glow => {
            for k in 0..4 {
                layers.push(VectorLayer::ActNorm(ActNorm::new(device, dim)?));
                layers.push(VectorLayer::Linear(InvertibleConv1x1::new(
                    device,
                    dim,
                    s(2 * k),
                )?));
                layers.push(VectorLayer::Affine(AffineCoupling::new(
                    device,
                    dim,
                    hidden,
                    Parity::Even,
                    ScaleBound::Tanh { bound: 2.0 },
                    0,
                    s(2 * k + 1),
                )?));
            }
        }
        Family::Maf | Family::Iaf => {
            for k in 0..sizes.depth.unwrap_or(5) {
                if k > 0 {
                    layers.push(reverse()?);
                }
                let made = made(k)?;
                layers.push(if family == Family::Maf {
                    VectorLayer::Maf(Maf::new(made))
                } else {
                    VectorLayer::Iaf(Iaf::new(made))
                });
            }
        }
        Family::RevNet => {
            layers.push(VectorLayer::ActNorm(ActNorm::new(device, dim)?));
            for k in 0..6 {
                if k > 0 {
                    layers.push(reverse()?);
                }
                layers.push(VectorLayer::RevNet(RevNetBlock::new(
                    device,
                    dim,
                    hidden,
                    0,
                    s(k),
                )?));
            }
        }
        Family::Spline => {
            for k in 0..4 {
                layers.push(VectorLayer::Spline(
                    SplineCouplingConfig::new(dim, hidden.to_vec(), 8, 4.0)
                        .with_flip(k % 2 == 1)
                        .init(device, s(k))?,
                ));
            }
        }
        Family::SplineAr => {
            for k in 0..2 {
                if k > 0 {
                    layers.push(reverse()?);
                }
                layers.push(VectorLayer::SplineAutoregressive(
                    SplineAutoregressive::init(
                        &MadeConfig::new(dim, hidden.to_vec()),
                        SplineSettings::new(8, 4.0),
                        device,
                        s(k),
                    )?,
                ));
            }
        }
        Family::Residual => {
            layers.push(VectorLayer::ActNorm(ActNorm::new(device, dim)?));
            for k in 0..6 {
                layers.push(VectorLayer::Residual(
                    ResidualFlowConfig::new(dim, hidden.to_vec(), 0.8)
                        .with_log_det(LogDetEstimator::ExactTrace { terms: 8 })
                        .with_fixed_point(sysdyn_generative::flow::residual::FixedPoint {
                            tolerance: 1e-6,
                            max_iterations: 500,
                        })
                        .init(device, s(k))?,
                ));
            }
        }
        Family::Cnf => {
            return Err(GenerativeError::Unsupported {
                what: "the CNF as a chain of vector layers: build it with families::cnf",
            });
        }
    }
    Ok(Chain::new(layers))
}

/// RK4 steps of the CNF over `[0, 1]`.
pub const CNF_STEPS: usize = 8;

/// The CNF: an MLP field `f([z, t])` (tanh) integrated by RK4 over `[0, 1]`, exact trace.
pub fn cnf(
    device: &SysDevice,
    dim: usize,
    sizes: &Sizes,
    seed: u64,
) -> Result<CnfFlow<MlpField>, GenerativeError> {
    let mut widths = vec![dim + 1];
    widths.extend(&sizes.hidden);
    widths.push(dim);
    let mlp = MlpConfig::new(widths)
        .with_activation(Activation::Tanh)
        .init_seeded(device, seed.wrapping_mul(1000))?;
    CnfFlow::new(
        MlpField::time_dependent(mlp),
        CnfSolver {
            method: RK4,
            config: SolveConfig::fixed(1.0 / CNF_STEPS as f64),
            estimator: TraceEstimator::Exact,
            flow_time: 1.0,
            seed,
        },
    )
}
