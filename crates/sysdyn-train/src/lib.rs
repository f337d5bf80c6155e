//! # sysdyn-train
//!
//! The one training runtime of sysdyn. A model supplies a **step function** ([`TrainStep`]):
//! it owns its models and any number of optimizers (a GAN's generator and critic, APHYNITY's λ
//! update, CoDA's frozen-context adaptation) and computes its gradients however it likes
//! (backpropagation, an adjoint solve registered into a `GradientsParams`). The runtime
//! ([`Trainer`]) does the rest:
//!
//! - a budget in steps, epochs and wall-clock seconds; evaluation every k steps; early stopping
//!   ([`EarlyStopping`]);
//! - learning-rate schedules ([`LrSchedule`]: constant, step, cosine, warm-up), gradient
//!   clipping by global norm ([`clip_grad_norm`], over all parameters, not burn's per-tensor
//!   clipping), an exponential moving average of parameters ([`Ema`]);
//! - seeded randomness: each step gets a fresh [`SeededRng`](sysdyn_core::rng::SeededRng)
//!   derived from the seed and the step index, so nothing but the seed and the step needs
//!   saving;
//! - metrics as JSON lines in `<run_dir>/metrics.jsonl` ([`MetricsLine`]);
//! - **checkpoints** in `<run_dir>/checkpoints/step-<n>/`, written atomically (a temporary
//!   folder, fsync, rename, fsync of the parent), the last k kept: models through burn's own
//!   persistence (`.bpk`), optimizer state through [`Optim`], the schedule, seed, step and
//!   early-stopping state as JSON, and the [`TrainConfig`] (a burn `Config`) beside them.
//!   Running again in the same run directory resumes the run, bit for bit;
//! - **divergence**: a NaN or infinite loss or parameter, or a loss above a multiple of the best,
//!   ends the run with [`TrainError::Diverged`] naming the step and the value, after loading
//!   the last good checkpoint (left intact on disk) back into the step;
//! - progress with `indicatif`: a bar on a terminal, plain lines in CI logs, or quiet
//!   ([`ProgressMode`]).
//!
//! A first use: least squares for `y = 2x + 1` with Adam, then the trained model loaded back
//! from the run directory without retraining.
//!
//! ```
//! use std::path::Path;
//!
//! use burn::module::{Module, Param};
//! use burn::optim::{Adam, AdamConfig, GradientsParams};
//! use burn::tensor::Tensor;
//! use sysdyn_core::device::{DeviceSpec, SysDevice};
//! use sysdyn_train::{
//!     Checkpointable, LrSchedule, Optim, ProgressMode, StepContext, StepReport, TrainConfig,
//!     TrainError, TrainStep, Trainer, BoxError, load_module, save_module,
//! };
//!
//! #[derive(Module, Debug)]
//! struct Line {
//!     a: Param<Tensor<1>>,
//!     b: Param<Tensor<1>>,
//! }
//!
//! struct Fit {
//!     device: SysDevice,
//!     model: Line,
//!     adam: Optim<Adam>,
//! }
//!
//! impl Checkpointable for Fit {
//!     fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
//!         save_module(&self.model, dir, "model")?;
//!         self.adam.save(dir, "adam")
//!     }
//!     fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
//!         self.model = load_module(self.model.clone(), dir, "model")?;
//!         self.adam.load(dir, "adam", &self.model)
//!     }
//! }
//!
//! impl TrainStep for Fit {
//!     fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
//!         let xs: Vec<f64> = (0..8).map(|_| ctx.rng.uniform()).collect();
//!         let ys: Vec<f64> = xs.iter().map(|x| 2.0 * x + 1.0).collect();
//!         let x = self.device.tensor(xs, [8])?;
//!         let y = self.device.tensor(ys, [8])?;
//!         let pred = x * self.model.a.val() + self.model.b.val();
//!         let loss = (pred - y).square().mean();
//!         let value = loss.clone().into_scalar::<f64>();
//!         let grads = GradientsParams::from_grads(loss.backward(), &self.model);
//!         self.model = self.adam.step(ctx.lr, self.model.clone(), grads);
//!         Ok(StepReport::new(value))
//!     }
//! }
//!
//! let mut device: SysDevice = "flex:f64:autodiff".parse::<DeviceSpec>()?.init()?;
//! device.configure_defaults()?;
//! let line = |device: &SysDevice| Line {
//!     a: Param::from_tensor(device.zeros([1])),
//!     b: Param::from_tensor(device.zeros([1])),
//! };
//! let mut fit = Fit { model: line(&device), device: device.clone(), adam: Optim::new(AdamConfig::new().build()) };
//!
//! let run_dir = std::env::temp_dir().join(format!("sysdyn-train-doc-{}", std::process::id()));
//! let _ = std::fs::remove_dir_all(&run_dir);
//! let config = TrainConfig::new(400)
//!     .with_schedule(LrSchedule::Cosine { lr: 0.1, min_lr: 0.0, steps: 400 })
//!     .with_checkpoint_every(Some(100))
//!     .with_progress(ProgressMode::Quiet);
//! let summary = Trainer::new(config, &run_dir).run(&mut fit)?;
//! assert_eq!(summary.steps, 400);
//! assert!(summary.last_loss.unwrap() < 1e-3, "{summary:?}");
//!
//! // Later, elsewhere: the trained line, loaded from the newest checkpoint.
//! let (step, dir) = sysdyn_train::Checkpoints::new(&run_dir).latest()?.unwrap();
//! let trained = load_module(line(&device), &dir, "model")?;
//! assert_eq!(step, 400);
//! let a = trained.a.val().try_into_vec_as::<f64>().unwrap()[0];
//! assert!((a - 2.0).abs() < 1e-2, "slope {a}");
//! # std::fs::remove_dir_all(&run_dir).unwrap();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `docs/training-runtime.md` in the repository explains what was taken from burn-train and what
//! was not.

#![warn(missing_docs)]

pub mod checkpoint;
mod ema;
mod error;
pub mod metrics;
mod optim;
mod params;
mod progress;
mod schedule;
mod session;
mod trainer;

pub use checkpoint::{
    Checkpointable, Checkpoints, load_config, load_json, load_module, load_rng, save_config,
    save_json, save_module, save_rng, write_atomic,
};
pub use ema::Ema;
pub use error::{Divergence, TrainError};
pub use metrics::{MetricsLine, read_metrics};
pub use optim::Optim;
pub use params::{NonFinite, clip_grad_norm, find_non_finite, global_grad_norm, scale_grads};
pub use progress::ProgressMode;
pub use schedule::LrSchedule;
pub use session::{RunSet, Session};
pub use trainer::{
    BoxError, EarlyStopping, RunState, StepContext, StepReport, StopReason, TrainConfig, TrainStep,
    TrainSummary, Trainer, restore_latest,
};
