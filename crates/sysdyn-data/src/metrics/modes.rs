//! Mode coverage and high-quality fraction of samples from a Gaussian mixture.

use std::f64::consts::PI;

use crate::error::{DataError, rows_of};
use crate::toy2d::log_sum_exp;

/// The modes of an equally weighted mixture of isotropic Gaussians with a common standard
/// deviation: the reference for [`mode_coverage`] (from [`crate::Toy2d::modes`], or built for
/// any dimension).
#[derive(Debug, Clone, PartialEq)]
pub struct Modes {
    centres: Vec<f64>,
    dim: usize,
    std: f64,
}

impl Modes {
    /// Modes at `centres` (row-major `k × dim`, `k ≥ 1`), each a Gaussian of standard deviation
    /// `std > 0`.
    pub fn new(centres: Vec<f64>, dim: usize, std: f64) -> Result<Self, DataError> {
        rows_of("mode centres", &centres, dim, 1)?;
        if !(std > 0.0 && std.is_finite()) {
            return Err(DataError::InvalidArgument {
                context: "mode standard deviation",
                reason: format!("{std} is not a positive finite number"),
            });
        }
        Ok(Modes { centres, dim, std })
    }

    /// Number of modes.
    pub fn len(&self) -> usize {
        self.centres.len() / self.dim
    }

    /// Always false: a mixture has at least one mode.
    pub fn is_empty(&self) -> bool {
        self.centres.is_empty()
    }

    /// Dimension of the space.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Common standard deviation of the modes.
    pub fn std(&self) -> f64 {
        self.std
    }

    /// Centres, row-major `k × dim`.
    pub fn centres(&self) -> &[f64] {
        &self.centres
    }

    /// Log-density of the equally weighted mixture at `point` (`dim` values).
    pub(crate) fn mixture_log_density(&self, point: &[f64]) -> f64 {
        let s2 = self.std * self.std;
        let norm = -0.5 * self.dim as f64 * (2.0 * PI * s2).ln() - (self.len() as f64).ln();
        let terms: Vec<f64> = self
            .centres
            .chunks_exact(self.dim)
            .map(|c| norm - 0.5 * squared_distance(point, c) / s2)
            .collect();
        log_sum_exp(&terms)
    }

    /// Index of the nearest centre and the squared distance to it.
    fn nearest(&self, point: &[f64]) -> (usize, f64) {
        self.centres
            .chunks_exact(self.dim)
            .map(|c| squared_distance(point, c))
            .enumerate()
            .fold(
                (0, f64::INFINITY),
                |best, (i, d)| {
                    if d < best.1 { (i, d) } else { best }
                },
            )
    }
}

pub(crate) fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// How samples cover the modes of a mixture.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeReport {
    /// High-quality samples nearest each mode.
    pub counts: Vec<usize>,
    /// Modes with at least the required number of high-quality samples.
    pub covered: usize,
    /// Fraction of samples within `3σ` (Euclidean distance) of their nearest mode.
    pub high_quality_fraction: f64,
}

/// Mode coverage and high-quality fraction of `samples` (row-major `n × dim`, `n ≥ 1`).
///
/// A sample is *high quality* when its Euclidean distance to the nearest mode is at most three
/// standard deviations; a mode is *covered* when at least `min_count` high-quality samples have
/// it as their nearest mode (a `min_count` of 0 counts as 1), the convention of the unrolled-GAN
/// and VEEGAN papers.
///
/// ```
/// use sysdyn_core::rng::SeededRng;
/// use sysdyn_data::{Toy2d, metrics::mode_coverage};
///
/// let samples = Toy2d::EightGaussians.sample(2000, &mut SeededRng::new(1));
/// let report = mode_coverage(&samples, &Toy2d::EightGaussians.modes()?, 20)?;
/// assert_eq!(report.covered, 8);
/// assert!(report.high_quality_fraction > 0.98);
/// # Ok::<(), sysdyn_data::DataError>(())
/// ```
pub fn mode_coverage(
    samples: &[f64],
    modes: &Modes,
    min_count: usize,
) -> Result<ModeReport, DataError> {
    let n = rows_of("mode coverage samples", samples, modes.dim, 1)?;
    let radius2 = 9.0 * modes.std * modes.std;
    let mut counts = vec![0usize; modes.len()];
    let mut good = 0usize;
    for point in samples.chunks_exact(modes.dim) {
        let (mode, d2) = modes.nearest(point);
        if d2 <= radius2 {
            counts[mode] += 1;
            good += 1;
        }
    }
    let covered = counts.iter().filter(|&&c| c >= min_count.max(1)).count();
    Ok(ModeReport {
        counts,
        covered,
        high_quality_fraction: good as f64 / n as f64,
    })
}
