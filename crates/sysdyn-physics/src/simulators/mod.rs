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
use sysdyn_core::linalg::Matrix;
use sysdyn_core::rng::{CounterRng, SeededRng};
use sysdyn_solvers::methods::DOPRI5;
use sysdyn_solvers::{OdeMethod, SolveConfig};

use crate::error::PhysicsError;
use crate::model::{ModelField, PhysicalModel, simulate};

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

/// A single-environment data set: `count` trajectories of `model` on `times`, trajectory `i`
/// starting from `initial(&mut model_i, rng_i)` (`model_i` a clone of `model`, for models that
/// keep scratch space; `rng_i` as in [`generate`]) and solved by `method` with `config` (its
/// output times become `times`). Every simulator's generator is this with its own initial
/// condition, method and tolerances.
pub fn simulated_dataset<M, S, I>(
    model: &M,
    count: usize,
    seed: u64,
    times: &[f64],
    method: &S,
    config: SolveConfig<Vec<f64>>,
    initial: I,
) -> Result<Dataset, PhysicsError>
where
    M: PhysicalModel + Clone + Sync,
    S: OdeMethod<Vec<f64>> + Sync,
    I: Fn(&mut M, &mut SeededRng) -> Result<Vec<f64>, PhysicsError> + Sync,
{
    let trajectories = generate(count, seed, |_, rng| {
        let mut own = model.clone();
        let y0 = initial(&mut own, rng)?;
        let mut field = ModelField::dense(own);
        let states = simulate(&mut field, method, y0, times, config.clone())?;
        Ok(Trajectory { env: 0, states })
    })?;
    Ok(Dataset {
        name: model.name(),
        state_shape: model.state_shape(),
        times: times.to_vec(),
        env_parameters: vec![model.parameters()],
        trajectories,
    })
}

/// One reference trajectory of `model` from `y0`, sampled at `times`: Dopri5 at
/// `rtol = atol = 1e-10` (up to 10⁷ steps), the accuracy equation-discovery data need.
pub fn reference_trajectory<M: PhysicalModel>(
    model: M,
    y0: &[f64],
    times: &[f64],
) -> Result<Vec<Vec<f64>>, PhysicsError> {
    let config = SolveConfig::adaptive(1e-10, 1e-10).max_steps(10_000_000);
    simulate(
        &mut ModelField::dense(model),
        &DOPRI5,
        y0.to_vec(),
        times,
        config,
    )
}

/// `u(x, t)` sampled on the grid `xs × ts` as a matrix with one row per time (PDE-FIND's
/// layout), e.g. from [`burgers::BurgersShocks::exact`] or [`kdv::two_soliton`].
pub fn space_time_grid(u: impl Fn(f64, f64) -> f64, xs: &[f64], ts: &[f64]) -> Matrix {
    let mut out = Matrix::zeros(ts.len(), xs.len());
    for (i, &t) in ts.iter().enumerate() {
        for (j, &x) in xs.iter().enumerate() {
            out[(i, j)] = u(x, t);
        }
    }
    out
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
