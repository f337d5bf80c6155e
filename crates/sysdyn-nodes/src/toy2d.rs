//! Two-dimensional toy densities for flows: two moons, eight Gaussians, a checkerboard.
//! Samples are drawn on the host from a [`SeededRng`] (the same points on every backend) and
//! returned row-major, `n × 2`.

use std::f64::consts::PI;

use sysdyn_core::rng::SeededRng;

/// A toy density to sample from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toy2d {
    /// Two interleaved half circles (as in scikit-learn's `make_moons`) with Gaussian noise of
    /// standard deviation 0.05.
    TwoMoons,
    /// Eight Gaussians of standard deviation 0.1 on a circle of radius 2.
    EightGaussians,
    /// Uniform on the black squares of a 4 × 4 checkerboard covering `[-2, 2]²`.
    Checkerboard,
}

impl Toy2d {
    /// Every toy density.
    pub const ALL: [Toy2d; 3] = [Toy2d::TwoMoons, Toy2d::EightGaussians, Toy2d::Checkerboard];

    /// A short name (`two-moons`, `eight-gaussians`, `checkerboard`).
    pub fn name(self) -> &'static str {
        match self {
            Toy2d::TwoMoons => "two-moons",
            Toy2d::EightGaussians => "eight-gaussians",
            Toy2d::Checkerboard => "checkerboard",
        }
    }

    /// `n` samples, row-major `n × 2`.
    pub fn sample(self, n: usize, rng: &mut SeededRng) -> Vec<f64> {
        let mut out = Vec::with_capacity(2 * n);
        for i in 0..n {
            let (x, y) = match self {
                Toy2d::TwoMoons => {
                    let angle = PI * rng.uniform();
                    let (x, y) = if i % 2 == 0 {
                        (angle.cos(), angle.sin())
                    } else {
                        (1.0 - angle.cos(), 0.5 - angle.sin())
                    };
                    (x + 0.05 * rng.normal(), y + 0.05 * rng.normal())
                }
                Toy2d::EightGaussians => {
                    let k = rng.below(8) as f64;
                    let angle = 2.0 * PI * k / 8.0;
                    (
                        2.0 * angle.cos() + 0.1 * rng.normal(),
                        2.0 * angle.sin() + 0.1 * rng.normal(),
                    )
                }
                Toy2d::Checkerboard => {
                    // Column and row of a black square, then a uniform point inside it.
                    let column = rng.below(4) as f64;
                    let row = 2.0 * rng.below(2) as f64 + (column as u64 % 2) as f64;
                    (-2.0 + column + rng.uniform(), -2.0 + row + rng.uniform())
                }
            };
            out.push(x);
            out.push(y);
        }
        out
    }
}

/// Mean negative log-likelihood of `test` (`n × 2`) under the single Gaussian (mean and full
/// covariance) fitted to `train` by maximum likelihood: the baseline a density model must beat.
pub fn gaussian_baseline_nll(train: &[f64], test: &[f64]) -> f64 {
    let n = (train.len() / 2) as f64;
    let mean = [
        train.iter().step_by(2).sum::<f64>() / n,
        train.iter().skip(1).step_by(2).sum::<f64>() / n,
    ];
    let mut cov = [0.0; 3]; // xx, xy, yy
    for p in train.chunks(2) {
        let (dx, dy) = (p[0] - mean[0], p[1] - mean[1]);
        cov[0] += dx * dx / n;
        cov[1] += dx * dy / n;
        cov[2] += dy * dy / n;
    }
    let det = cov[0] * cov[2] - cov[1] * cov[1];
    let m = (test.len() / 2) as f64;
    let quad: f64 = test
        .chunks(2)
        .map(|p| {
            let (dx, dy) = (p[0] - mean[0], p[1] - mean[1]);
            (cov[2] * dx * dx - 2.0 * cov[1] * dx * dy + cov[0] * dy * dy) / det
        })
        .sum::<f64>()
        / m;
    0.5 * quad + 0.5 * det.ln() + (2.0 * PI).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_baseline_of_gaussian_data_is_its_entropy() {
        // For N(0, diag(1, 4)) the expected NLL is the entropy: ln(2π) + ½ ln(4) + 1.
        let mut rng = SeededRng::new(3);
        let draw = |rng: &mut SeededRng, n: usize| -> Vec<f64> {
            (0..n)
                .flat_map(|_| [rng.normal(), 2.0 * rng.normal()])
                .collect()
        };
        let train = draw(&mut rng, 50_000);
        let test = draw(&mut rng, 50_000);
        let entropy = (2.0 * PI).ln() + 0.5 * 4f64.ln() + 1.0;
        assert!((gaussian_baseline_nll(&train, &test) - entropy).abs() < 0.02);
    }

    #[test]
    fn samples_lie_where_the_densities_live() {
        let mut rng = SeededRng::new(5);
        let moons = Toy2d::TwoMoons.sample(2000, &mut rng);
        // Distance to the moon's circle is at most a few noise standard deviations.
        for (i, p) in moons.chunks(2).enumerate() {
            let centre = if i % 2 == 0 { (0.0, 0.0) } else { (1.0, 0.5) };
            let r = ((p[0] - centre.0).powi(2) + (p[1] - centre.1).powi(2)).sqrt();
            assert!((r - 1.0).abs() < 0.3, "moon point {p:?}");
        }
        let gaussians = Toy2d::EightGaussians.sample(2000, &mut rng);
        for p in gaussians.chunks(2) {
            let r = (p[0] * p[0] + p[1] * p[1]).sqrt();
            assert!((r - 2.0).abs() < 0.6, "eight-Gaussians point {p:?}");
        }
        let board = Toy2d::Checkerboard.sample(2000, &mut rng);
        for p in board.chunks(2) {
            let (c, r) = ((p[0] + 2.0).floor() as i64, (p[1] + 2.0).floor() as i64);
            assert!((0..4).contains(&c) && (0..4).contains(&r));
            assert_eq!(
                (r - c).rem_euclid(2),
                0,
                "checkerboard point {p:?} on a white square"
            );
        }
    }
}
