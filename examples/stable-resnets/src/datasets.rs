//! The three classification problems of Haber & Ruthotto (2017), generated in-project from
//! fixed seeds: concentric ellipses, the swiss roll (two interleaved spirals) and the level sets
//! of MATLAB's `peaks` function.

use sysdyn_core::rng::SeededRng;

/// Labelled points in the plane.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Points, row-major `[len, 2]`.
    pub points: Vec<f64>,
    /// Class of each point, `0..classes`.
    pub labels: Vec<usize>,
}

impl Dataset {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The first `train` points and the rest.
    fn split(self, train: usize) -> (Dataset, Dataset) {
        let validation = Dataset {
            points: self.points[2 * train..].to_vec(),
            labels: self.labels[train..].to_vec(),
        };
        let train = Dataset {
            points: self.points[..2 * train].to_vec(),
            labels: self.labels[..train].to_vec(),
        };
        (train, validation)
    }
}

/// A classification problem with the network settings the paper uses for it.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Short name (file names, summary).
    pub name: &'static str,
    /// Training points.
    pub train: Dataset,
    /// Validation points.
    pub validation: Dataset,
    /// Number of classes.
    pub classes: usize,
    /// Width `n` of the networks' state (the points are padded with zeros to it).
    pub width: usize,
    /// Width `m` of the Verlet network's companion stream.
    pub companion_width: usize,
    /// Final time `T` (the depth spacing is `h = T / layers`).
    pub final_time: f64,
    /// Regularisation weight α.
    pub alpha: f64,
    /// The figure's window: `[x_min, x_max]`, `[y_min, y_max]`.
    pub window: ([f64; 2], [f64; 2]),
}

/// Semi-axes of the ellipses.
pub const ELLIPSE_AXES: [f64; 2] = [1.5, 0.8];

/// 1200 points alternating between the inside of an ellipse (scaled radius in [0, 1)) and a
/// surrounding elliptic ring (scaled radius in [1.1, 1.8)); 1000 train, 200 validate.
pub fn concentric_ellipses(seed: u64) -> Problem {
    let (total, train) = (1200, 1000);
    let mut rng = SeededRng::new(seed);
    let mut data = Dataset {
        points: Vec::with_capacity(2 * total),
        labels: Vec::with_capacity(total),
    };
    for i in 0..total {
        let label = i % 2;
        // Inside: area-uniform radius; ring: uniform radius.
        let r = if label == 0 {
            rng.uniform().sqrt()
        } else {
            1.1 + 0.7 * rng.uniform()
        };
        let angle = std::f64::consts::TAU * rng.uniform();
        data.points.extend([
            ELLIPSE_AXES[0] * r * angle.cos(),
            ELLIPSE_AXES[1] * r * angle.sin(),
        ]);
        data.labels.push(label);
    }
    let (train, validation) = data.split(train);
    Problem {
        name: "ellipses",
        train,
        validation,
        classes: 2,
        width: 4,
        companion_width: 4,
        final_time: 20.0,
        alpha: 1e-3,
        window: ([-3.2, 3.2], [-2.0, 2.0]),
    }
}

/// Largest spiral angle of the swiss roll (1.25 turns after the first quarter turn).
pub const SWISS_ROLL_TURN: [f64; 2] = [0.5 * std::f64::consts::PI, 3.0 * std::f64::consts::PI];

/// 513 points on two interleaved spirals `r = θ / θ_max`, `θ ∈ [π/2, 3π]` (class 1 is class 0
/// turned by π), alternating between the classes with uniform random `θ`; 257 train, 256
/// validate.
pub fn swiss_roll(seed: u64) -> Problem {
    let (total, train) = (513, 257);
    let mut rng = SeededRng::new(seed);
    let mut data = Dataset {
        points: Vec::with_capacity(2 * total),
        labels: Vec::with_capacity(total),
    };
    let [theta_min, theta_max] = SWISS_ROLL_TURN;
    for i in 0..total {
        let label = i % 2;
        let theta = theta_min + (theta_max - theta_min) * rng.uniform();
        let r = theta / theta_max;
        let angle = theta + std::f64::consts::PI * label as f64;
        data.points.extend([r * angle.cos(), r * angle.sin()]);
        data.labels.push(label);
    }
    let (train, validation) = data.split(train);
    Problem {
        name: "swiss_roll",
        train,
        validation,
        classes: 2,
        width: 4,
        companion_width: 4,
        final_time: 20.0,
        alpha: 5e-3,
        window: ([-1.2, 1.2], [-1.2, 1.2]),
    }
}

/// MATLAB's `peaks` function.
pub fn peaks_function(x: f64, y: f64) -> f64 {
    3.0 * (1.0 - x).powi(2) * (-x * x - (y + 1.0).powi(2)).exp()
        - 10.0 * (x / 5.0 - x.powi(3) - y.powi(5)) * (-x * x - y * y).exp()
        - (-(x + 1.0).powi(2) - y * y).exp() / 3.0
}

/// The levels separating the five classes of [`peaks`]: class `k` holds the points whose
/// `peaks` value lies between level `k − 1` and level `k` (about 9, 12, 42, 18 and 18% of the
/// square).
pub const PEAKS_LEVELS: [f64; 4] = [-1.5, -0.25, 0.25, 1.5];

/// Class of a `peaks` value.
pub fn peaks_class(value: f64) -> usize {
    PEAKS_LEVELS.iter().filter(|&&level| value >= level).count()
}

/// 5000 points uniform on `[−3, 3]²`, classified by the level sets of `peaks`
/// ([`PEAKS_LEVELS`]); the last 20% validate.
pub fn peaks(seed: u64) -> Problem {
    let (total, train) = (5000, 4000);
    let mut rng = SeededRng::new(seed);
    let mut data = Dataset {
        points: Vec::with_capacity(2 * total),
        labels: Vec::with_capacity(total),
    };
    for _ in 0..total {
        let (x, y) = (6.0 * rng.uniform() - 3.0, 6.0 * rng.uniform() - 3.0);
        data.points.extend([x, y]);
        data.labels.push(peaks_class(peaks_function(x, y)));
    }
    let (train, validation) = data.split(train);
    Problem {
        name: "peaks",
        train,
        validation,
        classes: PEAKS_LEVELS.len() + 1,
        width: 8,
        companion_width: 8,
        final_time: 5.0,
        alpha: 5e-6,
        window: ([-3.0, 3.0], [-3.0, 3.0]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_splits_are_the_papers() {
        for (problem, train, validation) in [
            (concentric_ellipses(1), 1000, 200),
            (swiss_roll(1), 257, 256),
            (peaks(1), 4000, 1000),
        ] {
            assert_eq!(problem.train.len(), train, "{}", problem.name);
            assert_eq!(problem.validation.len(), validation, "{}", problem.name);
            assert_eq!(problem.train.points.len(), 2 * train);
            for data in [&problem.train, &problem.validation] {
                assert!(data.labels.iter().all(|&l| l < problem.classes));
                // Every class appears in both sets.
                for class in 0..problem.classes {
                    assert!(data.labels.contains(&class), "{} {class}", problem.name);
                }
            }
        }
        assert_eq!(swiss_roll(7).train, swiss_roll(7).train);
    }

    #[test]
    fn swiss_roll_points_lie_on_their_spiral() {
        let problem = swiss_roll(3);
        let [theta_min, theta_max] = SWISS_ROLL_TURN;
        for (p, &label) in problem.train.points.chunks(2).zip(&problem.train.labels) {
            let r = p[0].hypot(p[1]);
            let theta = r * theta_max;
            assert!((theta_min - 1e-9..=theta_max + 1e-9).contains(&theta));
            // The point's polar angle is θ (+π for class 1) modulo 2π.
            let angle = theta + std::f64::consts::PI * label as f64;
            assert!((p[0] - r * angle.cos()).abs() < 1e-12);
            assert!((p[1] - r * angle.sin()).abs() < 1e-12);
        }
    }

    #[test]
    fn peaks_matches_known_values_and_levels() {
        // peaks(0, 0) = 3e^{-1} - e^{-1}/3; the global maximum ≈ 8.106 near (-0.0093, 1.5814)
        // and the minimum ≈ -6.551 near (0.2283, -1.6255).
        let e1 = (-1.0f64).exp();
        assert!((peaks_function(0.0, 0.0) - (3.0 * e1 - e1 / 3.0)).abs() < 1e-14);
        assert!((peaks_function(-0.0093, 1.5814) - 8.1062).abs() < 1e-3);
        assert!((peaks_function(0.2283, -1.6255) + 6.5511).abs() < 1e-3);
        assert_eq!(peaks_class(-6.0), 0);
        assert_eq!(peaks_class(0.0), 2);
        assert_eq!(peaks_class(8.0), 4);
        let problem = peaks(5);
        for (p, &label) in problem.train.points.chunks(2).zip(&problem.train.labels) {
            assert!(p.iter().all(|c| (-3.0..3.0).contains(c)));
            assert_eq!(label, peaks_class(peaks_function(p[0], p[1])));
        }
    }
}
