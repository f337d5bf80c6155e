//! Haber & Ruthotto's stability illustration: three forward Euler networks on the plane with
//! `h = 0.1`, `σ = tanh`, `b = 0` and 10 layers sharing one matrix `K`, pushing three points.
//!
//! - `K+ = [[2, −2], [0, 2]]`: eigenvalues 2, 2 (positive real part): the points fly apart;
//! - `K− = [[−2, 0], [2, −1]]`: eigenvalues −2, −1: the points collapse together;
//! - `K0 = [[0, −1], [1, 0]]`: eigenvalues ±i: the points rotate, keeping their spread.

use serde::Serialize;
use sysdyn_core::State;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::Activation;
use sysdyn_nodes::resnet::{
    BlockScheme, ResNet, WeightForm, forward_euler_amplification, layer_spectra,
    perturbation_growth, spread,
};

use crate::ExampleError;

/// Step size.
pub const H: f64 = 0.1;
/// Number of layers.
pub const LAYERS: usize = 10;
/// The three points (rows).
pub const POINTS: [[f64; 2]; 3] = [[0.2, 0.3], [-0.2, 0.1], [0.1, -0.3]];
/// The three layer matrices, row-major (the layer is `Y ← Y + h tanh(Y K)`).
pub const MATRICES: [(&str, [f64; 4]); 3] = [
    ("K+", [2.0, -2.0, 0.0, 2.0]),
    ("K-", [-2.0, 0.0, 2.0, -1.0]),
    ("K0", [0.0, -1.0, 1.0, 0.0]),
];

/// One network's behaviour through depth.
#[derive(Debug, Clone, Serialize)]
pub struct StabilityRun {
    /// `K+`, `K-` or `K0`.
    pub name: &'static str,
    /// The layer matrix, row-major.
    pub matrix: [f64; 4],
    /// Its eigenvalues as `[re, im]`.
    pub eigenvalues: Vec<[f64; 2]>,
    /// `max |1 + h λ|`.
    pub forward_euler_amplification: f64,
    /// Spread (RMS distance from the mean) of the points after each layer, `Y_0 … Y_N`.
    pub spread: Vec<f64>,
    /// `spread(Y_N) / spread(Y_0)`.
    pub spread_growth: f64,
    /// Growth of a small input perturbation through the whole network.
    pub perturbation_growth: f64,
    /// The points after each layer: `trajectories[point][layer] = [x, y]`.
    pub trajectories: Vec<Vec<[f64; 2]>>,
}

/// Runs the three networks on `device`.
pub fn run(device: &SysDevice) -> Result<Vec<StabilityRun>, ExampleError> {
    let flat: Vec<f64> = POINTS.iter().flatten().copied().collect();
    let y0 = device.tensor(flat, [POINTS.len(), 2])?;
    let delta = device.tensor(vec![1e-3, 0.0, 0.0, 1e-3, -1e-3, 1e-3], [3, 2])?;
    MATRICES
        .iter()
        .map(|&(name, matrix)| {
            let k = device
                .tensor(matrix.to_vec(), [1, 2, 2])?
                .repeat_dim(0, LAYERS);
            let net = ResNet::new(
                k,
                device.zeros([LAYERS, 2]),
                H,
                Activation::Tanh,
                BlockScheme::ForwardEuler,
                WeightForm::Free,
            )?;
            let spectrum = layer_spectra(&net)?.swap_remove(0);
            let states = net.trajectory(y0.clone())?;
            let spreads: Vec<f64> = states.iter().map(spread).collect();
            let values: Vec<Vec<f64>> = states.iter().map(|s| s.to_f64_vec()).collect();
            let trajectories = (0..POINTS.len())
                .map(|p| values.iter().map(|v| [v[2 * p], v[2 * p + 1]]).collect())
                .collect();
            let growth = perturbation_growth(&net, y0.clone(), delta.clone())?;
            Ok(StabilityRun {
                name,
                matrix,
                eigenvalues: spectrum.iter().map(|l| [l.re, l.im]).collect(),
                forward_euler_amplification: forward_euler_amplification(&spectrum, H),
                spread_growth: spreads[LAYERS] / spreads[0],
                spread: spreads,
                perturbation_growth: *growth.last().expect("one entry per layer"),
                trajectories,
            })
        })
        .collect()
}
