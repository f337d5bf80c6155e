//! # The simulators of sysdyn-physics
//!
//! A gallery: every simulator's data-set generator with the paper's parameters (timed), its
//! trajectories or snapshots as figures, and the check each system admits — a conservation
//! law, an exact solution or an energy that must decay:
//!
//! - damped pendulum (APHYNITY): phase portraits; small-swing energy decay `e^{−αt}`;
//! - Lotka–Volterra (LEADS's ten environments): orbits; the invariant `V` conserved;
//! - Lorenz-63: the attractor (no invariant: the check is the attractor's mean height);
//! - FitzHugh–Nagumo (APHYNITY, 32 × 32): activator snapshots; states stay finite;
//! - Gray–Scott (LEADS's three environments, 32 × 32): patterns; concentrations stay in [0, 1];
//! - damped wave (APHYNITY, 64 × 64): snapshots; energy never increases;
//! - 2-D Navier–Stokes (LEADS's forcing, 32 × 32): vorticity; the Taylor–Green decay rate;
//! - viscous Burgers: space–time plot and error against the Cole–Hopf solution;
//! - KdV: space–time plot and error against the two-soliton solution;
//! - Aliev–Panfilov and Mitchell–Schaeffer: action potentials (duration against the estimate
//!   `τ_close ln(τ_out / 4τ_in)`) and a tissue wave.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;
use serde::Serialize;
use sysdyn_core::CoreError;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_physics::PhysicsError;
use sysdyn_physics::model::{ModelField, PhysicalModel, simulate};
use sysdyn_physics::simulators::Dataset;
use sysdyn_physics::simulators::burgers::{Burgers, BurgersSine};
use sysdyn_physics::simulators::cardiac::{AlievPanfilov, MitchellSchaeffer};
use sysdyn_physics::simulators::fitzhugh_nagumo::FitzHughNagumo;
use sysdyn_physics::simulators::gray_scott::GrayScott;
use sysdyn_physics::simulators::kdv::{KdV, two_soliton};
use sysdyn_physics::simulators::lorenz::Lorenz63;
use sysdyn_physics::simulators::lotka_volterra::LotkaVolterra;
use sysdyn_physics::simulators::navier_stokes::NavierStokes2d;
use sysdyn_physics::simulators::pendulum::DampedPendulum;
use sysdyn_physics::simulators::wave::DampedWave;
use sysdyn_plot::{Colormap, Figure, Heatmap, Legend, PlotError, Series, Subplots, palette};
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::{DOP853, DOPRI5};
use thiserror::Error;

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// A simulation failed.
    #[error(transparent)]
    Physics(#[from] PhysicsError),
    /// A figure could not be drawn or written.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// The summary could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The summary could not be serialised.
    #[error("cannot serialise the summary: {0}")]
    Json(#[from] serde_json::Error),
}

/// A gallery of the physics simulators with their checks and timings.
#[derive(Debug, Clone, Parser)]
#[command(name = "simulators", version)]
pub struct Cli {
    // Last: its help heading ("Common options") applies to every flag after it.
    /// The options every sysdyn program shares.
    #[command(flatten)]
    pub run: RunArgs,
}

/// The shared options' defaults: seed 0, no checkpoints.
pub const PROGRAM: Program = Program {
    default_out: Options::DEFAULT_OUT,
    default_seed: Some(0),
    checkpoints: false,
};

impl Cli {
    /// The options to run with, or clap's usage error (exit status 2).
    pub fn options(&self) -> Result<Options, clap::Error> {
        let run = self
            .run
            .resolve(&PROGRAM)
            .map_err(CliError::into_clap::<Cli>)?;
        Ok(Options {
            out_dir: run.out_dir,
            quick: run.quick,
            seed: run.seed,
            quiet: run.quiet,
        })
    }
}

/// What to run and where to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Output folder.
    pub out_dir: PathBuf,
    /// Reduced run: fewer trajectories per generator.
    pub quick: bool,
    /// Seed of every data set.
    pub seed: u64,
    /// No progress lines.
    pub quiet: bool,
}

impl Options {
    /// Default output folder.
    pub const DEFAULT_OUT: &'static str = "out/simulators";

    /// Options from command-line arguments (without the program name).
    pub fn from_args(args: &[String]) -> Result<Self, clap::Error> {
        parse_from::<Cli>(args)?.options()
    }
}

/// One simulator in the gallery.
#[derive(Debug, Clone, Serialize)]
pub struct GalleryEntry {
    /// The simulator.
    pub name: &'static str,
    /// The data set that was timed (paper setting).
    pub dataset: String,
    /// Trajectories generated.
    pub trajectories: usize,
    /// Seconds to generate them (rayon over trajectories).
    pub generate_s: f64,
    /// What the check measures.
    pub check: String,
    /// The check's number.
    pub check_value: f64,
    /// Whether the check holds (its bound is in `check`).
    pub check_passed: bool,
}

/// One highlighted number.
#[derive(Debug, Clone, Serialize)]
pub struct KeyNumber {
    /// What it is.
    pub name: String,
    /// Its value.
    pub value: f64,
}

/// Everything the example measured.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `"simulators"`.
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// Output folder.
    pub out_dir: String,
    /// rayon's threads.
    pub threads: usize,
    /// One entry per simulator.
    pub simulators: Vec<GalleryEntry>,
    /// Figure files.
    pub figures: Vec<String>,
    /// Highlights.
    pub key_numbers: Vec<KeyNumber>,
    /// Seconds for the whole run.
    pub wall_s: f64,
}

fn timed<T>(f: impl FnOnce() -> Result<T, PhysicsError>) -> Result<(T, f64), PhysicsError> {
    let start = Instant::now();
    let out = f()?;
    Ok((out, start.elapsed().as_secs_f64()))
}

fn component(states: &[Vec<f64>], j: usize) -> Vec<f64> {
    states.iter().map(|s| s[j]).collect()
}

/// A square field (the first `n²` values of `state`) as a heatmap panel.
fn field_panel(title: &str, state: &[f64], n: usize, colormap: Colormap) -> Figure {
    let axis: Vec<f64> = (0..n).map(|i| i as f64).collect();
    Figure::new(title)
        .heatmap(Heatmap::new(&axis, &axis, &state[..n * n]).colormap(colormap))
        .size(420.0, 380.0)
}

/// Snapshots (first and last frame of the first trajectories) in one row of panels.
fn snapshots(
    dir: &Path,
    stem: &str,
    title: &str,
    panels: Vec<(String, Vec<f64>)>,
    n: usize,
    colormap: Colormap,
) -> Result<Vec<String>, ExampleError> {
    let mut grid = Subplots::new(title, 1, panels.len()).panel_size(420.0, 380.0);
    for (name, state) in panels {
        grid = grid.panel(field_panel(&name, &state, n, colormap));
    }
    Ok(grid.save(dir.join(stem))?.names_relative_to(dir))
}

fn spatial_std(values: &[f64]) -> f64 {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn last_state(d: &Dataset, i: usize) -> Vec<f64> {
    d.trajectories[i].states[d.times.len() - 1].clone()
}

/// Runs the gallery and writes its files; returns the summary it wrote.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let dir = options.out_dir.as_path();
    let seed = options.seed;
    let q = options.quick;
    let mut entries = Vec::new();
    let mut figures = Vec::new();
    let say = |text: String| {
        if !options.quiet {
            eprintln!("[simulators] {text}");
        }
    };

    // Damped pendulum.
    let pendulum = DampedPendulum::aphynity();
    let (data, secs) = timed(|| pendulum.aphynity_train_test(seed).map(|(a, _)| a))?;
    let fine: Vec<f64> = (0..=400).map(|i| i as f64 * 0.05).collect();
    let orbits = pendulum.dataset_on(if q { 4 } else { 10 }, seed, &fine)?;
    let mut fig = Figure::new("Damped pendulum (APHYNITY: ω0 = 2π/6, α = 0.2): phase portraits")
        .x_label("θ")
        .y_label("dθ/dt")
        .size(800.0, 600.0);
    for (k, tr) in orbits.trajectories.iter().enumerate() {
        fig = fig.series(
            Series::line("", &component(&tr.states, 0), &component(&tr.states, 1))
                .color(palette(k)),
        );
    }
    figures.extend(fig.save(dir.join("pendulum_phase"))?.names_relative_to(dir));
    let [w0, alpha] = [pendulum.parameters()[0], pendulum.parameters()[1]];
    let td = std::f64::consts::TAU / (w0 * w0 - alpha * alpha / 4.0).sqrt();
    let small = simulate(
        &mut ModelField::dense(pendulum),
        &DOP853,
        vec![1e-3, 0.0],
        &[0.0, 3.0 * td],
        SolveConfig::adaptive(1e-12, 1e-14),
    )?;
    let ratio = pendulum.energy(&small[1]) / pendulum.energy(&small[0]);
    let deviation = (ratio / (-3.0 * alpha * td).exp() - 1.0).abs();
    entries.push(GalleryEntry {
        name: "damped pendulum",
        dataset: "APHYNITY training set: 25 trajectories, horizon 20, step 0.5, DOP853 rtol 1e-10"
            .into(),
        trajectories: data.trajectories.len(),
        generate_s: secs,
        check: "small swing: |E(3 T_d)/E(0) / e^{-3 α T_d} - 1| (< 1e-5)".into(),
        check_value: deviation,
        check_passed: deviation < 1e-5,
    });
    say(format!("pendulum: energy-decay deviation {deviation:.2e}"));

    // Lotka–Volterra.
    let (data, secs) = timed(|| LotkaVolterra::leads_dataset(if q { 1 } else { 4 }, seed))?;
    let mut fig = Figure::new("Lotka–Volterra, LEADS's environments (one orbit each)")
        .x_label("prey x")
        .y_label("predator y")
        .legend(Legend::Outside)
        .size(900.0, 600.0);
    let per_env = data.trajectories.len() / data.env_parameters.len();
    let mut drift: f64 = 0.0;
    for (e, p) in data.env_parameters.iter().enumerate() {
        let model = LotkaVolterra::new(p[0], p[1], p[2], p[3])?;
        for tr in &data.trajectories[e * per_env..(e + 1) * per_env] {
            let v0 = model.invariant(&tr.states[0]);
            for s in &tr.states {
                drift = drift.max((model.invariant(s) - v0).abs());
            }
        }
        let orbit = model_orbit(&model, &data.trajectories[e * per_env].states[0])?;
        fig = fig.series(
            Series::line(
                &format!("α = {}, γ = {}", p[0], p[2]),
                &component(&orbit, 0),
                &component(&orbit, 1),
            )
            .color(palette(e)),
        );
    }
    figures.extend(fig.save(dir.join("lotka_volterra"))?.names_relative_to(dir));
    entries.push(GalleryEntry {
        name: "Lotka-Volterra",
        dataset: format!(
            "LEADS: 10 environments × {per_env}, horizon 10, step 0.5, Dopri5 rtol 1e-10"
        ),
        trajectories: data.trajectories.len(),
        generate_s: secs,
        check: "largest |V(t) - V(0)| of the invariant over every trajectory (< 1e-7)".into(),
        check_value: drift,
        check_passed: drift < 1e-7,
    });
    say(format!("Lotka-Volterra: invariant drift {drift:.2e}"));

    // Lorenz-63.
    let times: Vec<f64> = (0..=if q { 1000 } else { 5000 })
        .map(|i| i as f64 * 0.01)
        .collect();
    let lorenz = Lorenz63::default();
    let (data, secs) = timed(|| lorenz.dataset(if q { 2 } else { 8 }, seed, &times))?;
    let tr = &data.trajectories[0].states;
    let fig = Figure::new("Lorenz-63 (σ = 10, ρ = 28, β = 8/3): the attractor")
        .x_label("x")
        .y_label("z")
        .size(800.0, 600.0)
        .series(Series::line("", &component(tr, 0), &component(tr, 2)).width(0.6));
    figures.extend(
        fig.save(dir.join("lorenz_attractor"))?
            .names_relative_to(dir),
    );
    // On the attractor the time average of z is ρ − 1 minus a small correction (≈ 23.5);
    // the check is that it lies within [22, 25] after the transient.
    let zs: Vec<f64> = data
        .trajectories
        .iter()
        .flat_map(|t| t.states[times.len() / 5..].iter().map(|s| s[2]))
        .collect();
    let mean_z = zs.iter().sum::<f64>() / zs.len() as f64;
    entries.push(GalleryEntry {
        name: "Lorenz-63",
        dataset: format!(
            "{} trajectories from (-8, 7, 27) + N(0, I), horizon {}, step 0.01, Dopri5 rtol 1e-10",
            data.trajectories.len(),
            times[times.len() - 1]
        ),
        trajectories: data.trajectories.len(),
        generate_s: secs,
        check: "time-mean of z on the attractor (no invariant; expected about 23.5, in [22, 25])"
            .into(),
        check_value: mean_z,
        check_passed: (22.0..=25.0).contains(&mean_z),
    });
    say(format!("Lorenz: mean z {mean_z:.2}"));

    // FitzHugh–Nagumo.
    let fhn = FitzHughNagumo::aphynity();
    let count = if q { 4 } else { 32 };
    let (data, secs) = timed(|| fhn.dataset(count, seed))?;
    let n = 32;
    let first = &data.trajectories[0].states[0];
    let last = last_state(&data, 0);
    figures.extend(snapshots(
        dir,
        "fitzhugh_nagumo",
        "FitzHugh–Nagumo (APHYNITY), activator u at t = 0 and t = 3",
        vec![
            ("u, t = 0".into(), first.clone()),
            ("u, t = 3".into(), last.clone()),
            ("v, t = 3".into(), last[n * n..].to_vec()),
        ],
        n,
        Colormap::Viridis,
    )?);
    // No invariant: the check is that every state stays finite; the number is how much of
    // the spatial spread of u after the first output step is left at t = 3, measured, with
    // no bound.
    let early = spatial_std(&data.trajectories[0].states[1][..n * n]);
    let late = spatial_std(&last[..n * n]);
    let finite = data
        .trajectories
        .iter()
        .all(|t| t.states.iter().flatten().all(|v| v.is_finite()));
    entries.push(GalleryEntry {
        name: "FitzHugh-Nagumo",
        dataset: format!(
            "APHYNITY: 32 × 32 on [-1, 1)², a = 1e-3, b = 5e-3, k = 5e-3, horizon 3, step 0.1, {count} trajectories (the bench times 1600)"
        ),
        trajectories: count,
        generate_s: secs,
        check: "every state finite; value: spatial std of u at t = 3 over that at t = 0.1 \
                (measured, no bound)"
            .into(),
        check_value: late / early,
        check_passed: finite,
    });
    say(format!("FitzHugh-Nagumo: spread ratio {:.2}", late / early));

    // Gray–Scott.
    let (data, secs) = timed(|| GrayScott::leads_dataset(1, seed))?;
    let panels = (0..data.env_parameters.len())
        .map(|e| {
            let p = &data.env_parameters[e];
            (
                format!("v, F = {}, k = {}", p[2], p[3]),
                last_state(&data, e)[n * n..].to_vec(),
            )
        })
        .collect();
    figures.extend(snapshots(
        dir,
        "gray_scott",
        "Gray–Scott (LEADS's environments), v at t = 400",
        panels,
        n,
        Colormap::Blues,
    )?);
    let (lo, hi) = data
        .trajectories
        .iter()
        .flat_map(|t| t.states.iter().flatten())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    entries.push(GalleryEntry {
        name: "Gray-Scott",
        dataset: "LEADS: 3 environments × 1, 32 × 32, horizon 400, step 40".into(),
        trajectories: data.trajectories.len(),
        generate_s: secs,
        check: format!(
            "concentrations stay in [0, 1] (min {lo:.3}, max {hi:.3}); value: max - min"
        ),
        check_value: hi - lo,
        check_passed: lo >= -1e-9 && hi <= 1.0 + 1e-9,
    });
    say(format!("Gray-Scott: range [{lo:.3}, {hi:.3}]"));

    // Damped wave.
    let wave = DampedWave::aphynity();
    let (data, secs) = timed(|| wave.dataset(if q { 1 } else { 4 }, seed))?;
    let tr = &data.trajectories[0].states;
    figures.extend(snapshots(
        dir,
        "wave",
        "Damped wave (APHYNITY: c = 330, k = 50, 64 × 64), u at t = 0 and t = 0.024",
        vec![
            ("u, t = 0".into(), tr[0].clone()),
            ("u, t = 0.024".into(), tr[tr.len() - 1].clone()),
        ],
        64,
        Colormap::Viridis,
    )?);
    let energies: Vec<f64> = tr
        .iter()
        .map(|s| wave.energy(s))
        .collect::<Result<_, _>>()?;
    let monotone = energies.windows(2).all(|w| w[1] <= w[0] * (1.0 + 1e-9));
    entries.push(GalleryEntry {
        name: "damped wave",
        dataset: "APHYNITY: 64 × 64, 25 states 1e-3 apart, RK4".into(),
        trajectories: data.trajectories.len(),
        generate_s: secs,
        check: "energy E(t_end)/E(0), never increasing".into(),
        check_value: energies[energies.len() - 1] / energies[0],
        check_passed: monotone,
    });
    say(format!(
        "wave: energy ratio {:.3}",
        energies[energies.len() - 1] / energies[0]
    ));

    // Navier–Stokes.
    let (data, secs) = timed(|| NavierStokes2d::leads_dataset(1, seed))?;
    figures.extend(snapshots(
        dir,
        "navier_stokes",
        "2-D Navier–Stokes (LEADS's forcings), vorticity at t = 0 and t = 10 (environment 0)",
        vec![
            ("ω, t = 0".into(), data.trajectories[0].states[0].clone()),
            ("ω, t = 10".into(), last_state(&data, 0)),
            ("ω, t = 10, env 3".into(), last_state(&data, 3)),
        ],
        32,
        Colormap::Viridis,
    )?);
    let tg = taylor_green()?;
    entries.push(GalleryEntry {
        name: "Navier-Stokes 2D",
        dataset: "LEADS: 4 forcings × 1, 32 × 32 on [0, 1)², ν = 1e-3, horizon 10, step 1".into(),
        trajectories: data.trajectories.len(),
        generate_s: secs,
        check: "Taylor–Green vortex (k = 2, ν = 0.05, t = 2): max error against ω0 e^{-2νk²t}, relative to the amplitude (< 1e-8)".into(),
        check_value: tg,
        check_passed: tg < 1e-8,
    });
    say(format!("Navier-Stokes: Taylor-Green error {tg:.2e}"));

    // Burgers against Cole–Hopf.
    let nu = 0.05;
    let model = Burgers::new(128, nu)?;
    let grid = model.grid();
    let u0 = model.sine_initial_condition();
    let bt: Vec<f64> = (0..=50).map(|i| i as f64 * 0.02).collect();
    let (states, secs) = timed(|| {
        simulate(
            &mut ModelField::new(model.clone())?,
            &DOPRI5,
            u0.clone(),
            &bt,
            SolveConfig::adaptive(1e-10, 1e-12),
        )
    })?;
    let exact = BurgersSine::new(nu, 1024)?;
    let errors: Vec<Vec<f64>> = states
        .iter()
        .zip(&bt)
        .map(|(s, &t)| {
            grid.iter()
                .zip(s)
                .map(|(&x, u)| (u - exact.exact(x, t)).abs())
                .collect()
        })
        .collect();
    let burgers_error = errors.iter().flatten().copied().fold(0.0, f64::max);
    figures.extend(space_time(
        dir,
        "burgers",
        "Burgers u_t + u u_x = 0.05 u_xx from -sin(πx), 128 modes",
        &grid,
        &bt,
        &states,
        &errors,
    )?);
    entries.push(GalleryEntry {
        name: "Burgers",
        dataset: "one trajectory, 128 modes, ν = 0.05, t ∈ [0, 1], Dopri5 rtol 1e-10".into(),
        trajectories: 1,
        generate_s: secs,
        check: "max |u - u_Cole-Hopf| over the space-time grid (< 1e-6)".into(),
        check_value: burgers_error,
        check_passed: burgers_error < 1e-6,
    });
    say(format!("Burgers: max error {burgers_error:.2e}"));

    // KdV against the two-soliton solution.
    let mut kdv = KdV::new(256, -30.0, 60.0)?;
    let grid = kdv.grid();
    let (k, centres) = ((1.0, 1.5), (-10.0, -18.0));
    let u0: Vec<f64> = grid
        .iter()
        .map(|&x| two_soliton(x, 0.0, k, centres))
        .collect();
    let kt: Vec<f64> = (0..=60).map(|i| i as f64 * 0.1).collect();
    let (states, secs) = timed(|| kdv.integrate(&u0, &kt, 2e-3))?;
    let errors: Vec<Vec<f64>> = states
        .iter()
        .zip(&kt)
        .map(|(s, &t)| {
            grid.iter()
                .zip(s)
                .map(|(&x, u)| (u - two_soliton(x, t, k, centres)).abs())
                .collect()
        })
        .collect();
    let kdv_error = errors.iter().flatten().copied().fold(0.0, f64::max);
    figures.extend(space_time(
        dir,
        "kdv",
        "KdV two solitons (k = 1, 1.5), 256 modes, integrating-factor RK4",
        &grid,
        &kt,
        &states,
        &errors,
    )?);
    let kdv_data_times: Vec<f64> = (0..=20).map(|i| i as f64 * 0.5).collect();
    let (data, kdv_data_s) =
        timed(|| kdv.dataset(if q { 2 } else { 8 }, seed, &kdv_data_times, 2e-3))?;
    entries.push(GalleryEntry {
        name: "KdV",
        dataset: format!(
            "{} random two-soliton trajectories, 256 modes on [-30, 30), horizon 10, step 0.5 (the figure's solve: {secs:.3} s)",
            data.trajectories.len()
        ),
        trajectories: data.trajectories.len(),
        generate_s: kdv_data_s,
        check: "max |u - u_two-soliton| over t ∈ [0, 6] (< 1e-5)".into(),
        check_value: kdv_error,
        check_passed: kdv_error < 1e-5,
    });
    say(format!("KdV: max error {kdv_error:.2e}"));

    // Cardiac cells and tissue.
    let ap_t: Vec<f64> = (0..=400).map(|i| i as f64).collect();
    let ap = simulate(
        &mut ModelField::dense(AlievPanfilov::cell()),
        &DOPRI5,
        vec![0.2, 0.0],
        &ap_t,
        SolveConfig::adaptive(1e-8, 1e-10),
    )?;
    let ms_cell = MitchellSchaeffer::cell();
    let ms_t: Vec<f64> = (0..=5000).map(|i| i as f64 * 0.1).collect();
    let ms = simulate(
        &mut ModelField::dense(ms_cell.clone()),
        &DOPRI5,
        vec![0.2, 1.0],
        &ms_t,
        SolveConfig::adaptive(1e-8, 1e-10).step_bounds(0.0, 0.5),
    )?;
    let apd = ms_t
        .iter()
        .zip(&ms)
        .skip_while(|(_, s)| s[0] < 0.13)
        .find(|(_, s)| s[0] < 0.13)
        .map_or(f64::NAN, |(t, _)| *t);
    let ap_fig = Figure::new(
        "Action potentials: Aliev–Panfilov (dimensionless time) and Mitchell–Schaeffer (ms)",
    )
    .x_label("t")
    .y_label("voltage")
    .legend(Legend::Outside)
    .size(1000.0, 420.0)
    .series(Series::line("Aliev–Panfilov u (t)", &ap_t, &component(&ap, 0)).color(palette(0)))
    .series(
        Series::line(
            "Mitchell–Schaeffer v (t / 1.25 ms)",
            &ms_t.iter().map(|t| t / 1.25).collect::<Vec<_>>(),
            &component(&ms, 0),
        )
        .color(palette(1)),
    );
    figures.extend(
        ap_fig
            .save(dir.join("action_potentials"))?
            .names_relative_to(dir),
    );
    let tissue = AlievPanfilov::tissue(32, 32, 0.5)?;
    let tissue_t: Vec<f64> = (0..=8).map(|i| i as f64 * 5.0).collect();
    let (data, secs) = timed(|| tissue.dataset(if q { 1 } else { 4 }, seed, &tissue_t))?;
    let tr = &data.trajectories[0].states;
    figures.extend(snapshots(
        dir,
        "cardiac_tissue",
        "Aliev–Panfilov tissue (32 × 32, h = 0.5): u at t = 0, 10, 20, 40",
        vec![
            ("u, t = 0".into(), tr[0].clone()),
            ("u, t = 10".into(), tr[2].clone()),
            ("u, t = 20".into(), tr[4].clone()),
            ("u, t = 40".into(), tr[8].clone()),
        ],
        32,
        Colormap::Greys,
    )?);
    let estimate = ms_cell.max_apd();
    entries.push(GalleryEntry {
        name: "cardiac (Aliev-Panfilov tissue, Mitchell-Schaeffer cell)",
        dataset: format!(
            "Aliev–Panfilov tissue 32 × 32, h = 0.5, {} trajectories, horizon 40, step 5",
            data.trajectories.len()
        ),
        trajectories: data.trajectories.len(),
        generate_s: secs,
        check: format!(
            "Mitchell–Schaeffer action potential duration over τ_close ln(τ_out/4τ_in) = {estimate:.0} ms (in [1, 1.25])"
        ),
        check_value: apd / estimate,
        check_passed: (1.0..=1.25).contains(&(apd / estimate)),
    });
    say(format!(
        "cardiac: APD {apd:.0} ms vs estimate {estimate:.0} ms"
    ));

    let key_numbers = entries
        .iter()
        .map(|e| KeyNumber {
            name: format!("{}: generation s", e.name),
            value: e.generate_s,
        })
        .collect();
    let summary = Summary {
        example: "simulators",
        quick: q,
        out_dir: dir.display().to_string(),
        threads: rayon_threads(),
        simulators: entries,
        figures,
        key_numbers,
        wall_s: start.elapsed().as_secs_f64(),
    };
    write_atomic(
        &dir.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    Ok(summary)
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A fine orbit of `model` from `y0` over one LEADS horizon, for drawing.
fn model_orbit(model: &LotkaVolterra, y0: &[f64]) -> Result<Vec<Vec<f64>>, PhysicsError> {
    let t: Vec<f64> = (0..=500).map(|i| i as f64 * 0.02).collect();
    simulate(
        &mut ModelField::dense(*model),
        &DOPRI5,
        y0.to_vec(),
        &t,
        SolveConfig::adaptive(1e-10, 1e-10),
    )
}

/// The Taylor–Green vortex `ω = 2k cos(kx) cos(ky)`, `k = 2`, `ν = 0.05` on `[0, 2π)²`:
/// the largest error at `t = 2` against `ω0 e^{−2νk²t}`, relative to the initial amplitude.
fn taylor_green() -> Result<f64, PhysicsError> {
    let (n, nu, kw) = (32, 0.05, 2.0);
    let tau = std::f64::consts::TAU;
    let model = NavierStokes2d::new(n, tau, nu)?;
    let w0: Vec<f64> = (0..n * n)
        .map(|c| {
            let (x, y) = (
                tau * (c / n) as f64 / n as f64,
                tau * (c % n) as f64 / n as f64,
            );
            2.0 * kw * (kw * x).cos() * (kw * y).cos()
        })
        .collect();
    let t1 = 2.0;
    let states = simulate(
        &mut ModelField::new(model)?,
        &DOPRI5,
        w0.clone(),
        &[0.0, t1],
        SolveConfig::adaptive(1e-10, 1e-12),
    )?;
    let decay = (-2.0 * nu * kw * kw * t1).exp();
    let expected: Vec<f64> = w0.iter().map(|w| w * decay).collect();
    Ok(max_abs_diff(&states[1], &expected) / (2.0 * kw))
}

/// `u(x, t)` and its error as two space–time panels.
fn space_time(
    dir: &Path,
    stem: &str,
    title: &str,
    xs: &[f64],
    ts: &[f64],
    states: &[Vec<f64>],
    errors: &[Vec<f64>],
) -> Result<Vec<String>, ExampleError> {
    let u: Vec<f64> = states.iter().flatten().copied().collect();
    let e: Vec<f64> = errors.iter().flatten().map(|v| v.max(1e-16)).collect();
    let grid = Subplots::new(title, 1, 2)
        .panel_size(520.0, 420.0)
        .panel(
            Figure::new("u(x, t)")
                .x_label("x")
                .y_label("t")
                .heatmap(Heatmap::new(xs, ts, &u).colormap(Colormap::Viridis)),
        )
        .panel(
            Figure::new("|u - exact| (log colour)")
                .x_label("x")
                .y_label("t")
                .heatmap(
                    Heatmap::new(xs, ts, &e)
                        .colormap(Colormap::Blues)
                        .log_color(),
                ),
        );
    Ok(grid.save(dir.join(stem))?.names_relative_to(dir))
}
