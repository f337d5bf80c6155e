//! The simulators: one file per physical system, each with the parameters of the paper that
//! uses it as a documented default and a seeded data-set generator.
//!
//! Reproducibility: trajectory `i` draws its initial condition from its own stream,
//! `SeededRng::from_counter_rng(CounterRng::new(seed).fork(i))`, so a data set is a pure
//! function of the seed, bit for bit, whatever the number of rayon threads and the order in
//! which they run ([`generate`]).

pub mod burgers;
pub mod cardiac;
pub mod fitzhugh_nagumo;
pub mod gray_scott;
pub mod kdv;
pub mod lorenz;
pub mod lotka_volterra;
pub mod navier_stokes;
pub mod pendulum;
pub mod tracer;
pub mod wave;

use rayon::prelude::*;
use sysdyn_core::rng::{CounterRng, SeededRng};

use crate::error::PhysicsError;

/// One simulated trajectory.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// The environment (parameter set) it was simulated in; 0 for single-environment data.
    pub env: usize,
    /// The states at the data set's times, each flattened (`state_shape` row-major).
    pub states: Vec<Vec<f64>>,
}

/// A data set of trajectories on a common time grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The model's name.
    pub name: &'static str,
    /// The shape of one state.
    pub state_shape: Vec<usize>,
    /// The output times.
    pub times: Vec<f64>,
    /// The parameters of each environment (one row for single-environment data).
    pub env_parameters: Vec<Vec<f64>>,
    /// The trajectories.
    pub trajectories: Vec<Trajectory>,
}

/// The random stream of trajectory `index` for `seed`.
pub fn trajectory_rng(seed: u64, index: usize) -> SeededRng {
    SeededRng::from_counter_rng(CounterRng::new(seed).fork(index as u64))
}

/// Runs `simulate(i, rng_i)` for `i in 0..n` on rayon's current pool and returns the results
/// in index order; `rng_i` is [`trajectory_rng`]`(seed, i)`. The first error (in index order)
/// is returned.
pub fn generate<T, F>(n: usize, seed: u64, simulate: F) -> Result<Vec<T>, PhysicsError>
where
    T: Send,
    F: Fn(usize, &mut SeededRng) -> Result<T, PhysicsError> + Sync,
{
    (0..n)
        .into_par_iter()
        .map(|i| simulate(i, &mut trajectory_rng(seed, i)))
        .collect()
}

/// A uniform draw in `[lo, hi)`.
pub(crate) fn uniform_in(rng: &mut SeededRng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.uniform()
}

/// The Jacobian pattern of a two-species reaction–diffusion system `[u, v]` on the grid of
/// `lap`: each species couples to its stencil neighbours and to the other species in the same
/// cell.
pub(crate) fn two_species_pattern(lap: &crate::stencil::Laplacian2d) -> Vec<(usize, usize)> {
    let n = lap.rows().len();
    let mut entries = Vec::new();
    for (c, row) in lap.rows().iter().enumerate() {
        for &(j, _) in row {
            entries.push((c, j));
            entries.push((n + c, n + j));
        }
        entries.extend([(c, c), (c, n + c), (n + c, c), (n + c, n + c)]);
    }
    entries
}
