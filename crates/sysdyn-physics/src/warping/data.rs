//! Frame sequences for the warping forecaster: the synthetic tracer of
//! [`crate::simulators::tracer`] (with its true motion field) and windows of `k + 1`
//! consecutive frames drawn from any sequences, e.g. SST-like arrays read from an `.npz` file.

use burn::tensor::{Device, Tensor, TensorData};
use sysdyn_core::rng::SeededRng;

use crate::error::PhysicsError;
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::DOPRI5;

use crate::model::{ModelField, simulate, uniform_times};
use crate::simulators::generate;
use crate::simulators::tracer::{CellularFlow, Tracer};

/// Sequences of frames on one grid: `sequences[s][t]` is frame `t` of sequence `s`, `rows ×
/// cols` row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameSequences {
    /// Frame rows `H`.
    pub rows: usize,
    /// Frame columns `W`.
    pub cols: usize,
    /// The frames.
    pub sequences: Vec<Vec<Vec<f64>>>,
}

impl FrameSequences {
    /// Checks the sizes and values. Errors: no sequence, a frame of the wrong size, a NaN.
    pub fn new(
        rows: usize,
        cols: usize,
        sequences: Vec<Vec<Vec<f64>>>,
    ) -> Result<Self, PhysicsError> {
        if sequences.is_empty() {
            return Err(PhysicsError::Empty {
                what: "frame sequences",
                unit: "sequence",
            });
        }
        let mut index = 0;
        for sequence in &sequences {
            for frame in sequence {
                crate::stencil::check_len("frame (rows × cols)", rows * cols, frame.len())?;
                if let Some(i) = frame.iter().position(|v| !v.is_finite()) {
                    return Err(PhysicsError::NonFinite {
                        what: "frames",
                        index: index + i,
                    });
                }
                index += frame.len();
            }
        }
        Ok(FrameSequences {
            rows,
            cols,
            sequences,
        })
    }

    /// From one array `[sequences, time, rows, cols]` (row-major), e.g. an `.npz` array.
    pub fn from_array(shape: &[usize], values: &[f64]) -> Result<Self, PhysicsError> {
        let [n, t, rows, cols] = match *shape {
            [n, t, r, c] => [n, t, r, c],
            [t, r, c] => [1, t, r, c],
            _ => {
                return Err(PhysicsError::SizeMismatch {
                    what: "array dimensions ([sequences, time, rows, cols] or [time, rows, cols])",
                    expected: 4,
                    got: shape.len(),
                });
            }
        };
        crate::stencil::check_len("array values", n * t * rows * cols, values.len())?;
        let frame = rows * cols;
        let sequences = (0..n)
            .map(|s| {
                (0..t)
                    .map(|k| values[(s * t + k) * frame..(s * t + k + 1) * frame].to_vec())
                    .collect()
            })
            .collect();
        Self::new(rows, cols, sequences)
    }

    /// The array `name` of the `.npz` at `path`, `[sequences, time, rows, cols]` or `[time,
    /// rows, cols]` (e.g. SST patches saved with `numpy.savez`). Errors: an unreadable file or
    /// missing array ([`PhysicsError::Data`]), other dimensions, a NaN (land masks must be
    /// filled first).
    pub fn from_npz(path: &std::path::Path, name: &str) -> Result<Self, PhysicsError> {
        let array = sysdyn_data::npz::read_npz_array(path, name)?;
        Self::from_array(&array.shape, &array.values)
    }

    /// The windows `(sequence, first frame)` of `history + 1` consecutive frames.
    pub fn windows(&self, history: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for (s, sequence) in self.sequences.iter().enumerate() {
            for start in 0..(sequence.len() + 1).saturating_sub(history + 1) {
                out.push((s, start));
            }
        }
        out
    }

    /// The batch of `windows`: inputs `[batch, history, H, W]` and targets `[batch, 1, H, W]`
    /// in `device`'s default float type. Errors: a window past a sequence's end.
    pub fn batch(
        &self,
        windows: &[(usize, usize)],
        history: usize,
        device: &Device,
    ) -> Result<(Tensor<4>, Tensor<4>), PhysicsError> {
        let frame = self.rows * self.cols;
        let mut inputs = Vec::with_capacity(windows.len() * history * frame);
        let mut targets = Vec::with_capacity(windows.len() * frame);
        for &(s, start) in windows {
            let sequence = self.sequences.get(s).ok_or(PhysicsError::SizeMismatch {
                what: "sequence index (below the number of sequences)",
                expected: self.sequences.len(),
                got: s,
            })?;
            if start + history >= sequence.len() {
                return Err(PhysicsError::SizeMismatch {
                    what: "window end (below the sequence's length)",
                    expected: sequence.len(),
                    got: start + history + 1,
                });
            }
            for k in 0..history {
                inputs.extend_from_slice(&sequence[start + k]);
            }
            targets.extend_from_slice(&sequence[start + history]);
        }
        let b = windows.len();
        let shape_in = [b, history, self.rows, self.cols];
        let shape_out = [b, 1, self.rows, self.cols];
        Ok((
            Tensor::from_data(TensorData::new(inputs, shape_in), device),
            Tensor::from_data(TensorData::new(targets, shape_out), device),
        ))
    }

    /// `count` windows drawn uniformly (with replacement) from `windows`.
    pub fn draw(
        windows: &[(usize, usize)],
        count: usize,
        rng: &mut SeededRng,
    ) -> Vec<(usize, usize)> {
        (0..count)
            .map(|_| windows[rng.below(windows.len() as u64) as usize])
            .collect()
    }
}

/// The synthetic tracer data set: the simulator's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TracerConfig {
    /// Grid side `n`.
    pub side: usize,
    /// Diffusion `D`.
    pub diffusion: f64,
    /// The velocity.
    pub flow: CellularFlow,
    /// Time between frames `Δt`.
    pub frame_dt: f64,
    /// Frames per sequence.
    pub frames: usize,
    /// Gaussian blobs in each initial tracer.
    pub blobs: usize,
    /// Whether each sequence draws its own flow around `flow` ([`TracerConfig::flow_of`]);
    /// otherwise every sequence moves in `flow`.
    pub random_flows: bool,
}

impl TracerConfig {
    /// An `n × n` tracer whose frames look the same in cells whatever `n`: two-by-two
    /// Taylor–Green cells (`k = 1`) of amplitude 1 with a drift `(0.5, −0.3)` (each sequence
    /// drawing its own flow around it, see [`TracerConfig::flow_of`]), frames every
    /// `Δt = 6.4 / n` (up to 1.5 cells per frame for the mean flow, 1.7 for the drawn ones), `D = 1.28 / n` (a kernel variance of 0.415
    /// cells² per frame), 12 frames of 6 blobs. `n = 64`: `Δt = 0.1`, `D = 0.02`.
    pub fn on_grid(side: usize) -> Self {
        let scale = 64.0 / side.max(1) as f64;
        TracerConfig {
            side,
            diffusion: 0.02 * scale,
            flow: CellularFlow {
                amplitude: 1.0,
                wavenumber: 1.0,
                drift: [0.5, -0.3],
                phase: [0.0, 0.0],
            },
            frame_dt: 0.1 * scale,
            frames: 12,
            blobs: 6,
            random_flows: true,
        }
    }

    /// The simulator of the mean flow.
    pub fn tracer(&self) -> Result<Tracer, PhysicsError> {
        Tracer::new(self.side, self.diffusion, self.flow)
    }

    /// The flow of one sequence: with `random_flows`, amplitude `A · U[0.5, 1.2]`, each drift
    /// component `U[−0.5, 0.5]`, the cells offset by `U[0, 2π)²`, drawn from `rng`; otherwise
    /// `flow`.
    pub fn flow_of(&self, rng: &mut SeededRng) -> CellularFlow {
        if !self.random_flows {
            return self.flow;
        }
        let mut draw = |lo: f64, hi: f64| lo + (hi - lo) * rng.uniform();
        let tau = std::f64::consts::TAU;
        CellularFlow {
            amplitude: self.flow.amplitude * draw(0.5, 1.2),
            wavenumber: self.flow.wavenumber,
            drift: [draw(-0.5, 0.5), draw(-0.5, 0.5)],
            phase: [draw(0.0, tau), draw(0.0, tau)],
        }
    }

    /// `count` sequences of `frames` frames (sequence `i` from its own stream of `seed`: its
    /// flow, then its blobs), and the true motion of each, `[2, n, n]` in cells per frame.
    pub fn generate(
        &self,
        count: usize,
        seed: u64,
    ) -> Result<(FrameSequences, Vec<Vec<f64>>), PhysicsError> {
        let times = uniform_times(self.frame_dt * self.frames as f64, self.frame_dt)?;
        let runs = generate(count, seed, |_, rng| {
            let tracer = Tracer::new(self.side, self.diffusion, self.flow_of(rng))?;
            let y0 = tracer.random_blobs(self.blobs, rng);
            let mut field = ModelField::dense(tracer.clone());
            let states = simulate(
                &mut field,
                &DOPRI5,
                y0,
                &times,
                SolveConfig::adaptive(1e-7, 1e-7),
            )?;
            Ok((states, tracer.displacement_cells(self.frame_dt)))
        })?;
        let (sequences, motions): (Vec<_>, Vec<_>) = runs.into_iter().unzip();
        Ok((
            FrameSequences::new(self.side, self.side, sequences)?,
            motions,
        ))
    }

    /// The kernel variance of one frame step in cells², `2 D Δt / h²`.
    pub fn kernel_variance(&self) -> f64 {
        let h = std::f64::consts::TAU / self.side as f64;
        2.0 * self.diffusion * self.frame_dt / (h * h)
    }
}
