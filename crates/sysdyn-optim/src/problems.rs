//! Test objectives with known minimisers: an ill-conditioned quadratic and Rosenbrock's valley.

use crate::analysis::Matrix;
use crate::error::{OptimError, positive, same_len};

/// A smooth objective with a known minimiser.
pub trait Objective {
    /// Number of parameters.
    fn dim(&self) -> usize;
    /// `L(x)`.
    fn value(&self, x: &[f64]) -> f64;
    /// `∇L(x)`.
    fn gradient(&self, x: &[f64]) -> Vec<f64>;
    /// The minimiser `x*`.
    fn minimizer(&self) -> Vec<f64>;

    /// Euclidean distance from `x` to the minimiser.
    fn distance_to_minimizer(&self, x: &[f64]) -> f64 {
        x.iter()
            .zip(self.minimizer())
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt()
    }
}

/// `L(x) = ½ (x - x*)ᵀ A (x - x*)` with `A` symmetric positive definite and its extreme
/// eigenvalues `μ`, `L` known.
#[derive(Debug, Clone, PartialEq)]
pub struct Quadratic {
    hessian: Matrix,
    center: Vec<f64>,
    mu: f64,
    l: f64,
}

impl Quadratic {
    /// A diagonal quadratic with the given positive curvatures, minimised at the origin.
    pub fn diagonal(curvatures: &[f64]) -> Result<Self, OptimError> {
        if curvatures.is_empty() {
            return Err(OptimError::DimensionMismatch {
                context: "quadratic curvatures (need at least one)",
                expected: 1,
                got: 0,
            });
        }
        for &c in curvatures {
            positive("quadratic curvature", c)?;
        }
        Ok(Quadratic {
            hessian: Matrix::from_diagonal(curvatures),
            center: vec![0.0; curvatures.len()],
            mu: curvatures.iter().copied().fold(f64::INFINITY, f64::min),
            l: curvatures.iter().copied().fold(0.0, f64::max),
        })
    }

    /// A 2-D quadratic with curvatures `mu <= l` along axes rotated by `angle` (radians),
    /// minimised at `center`: tilted, elongated level sets for contour plots.
    pub fn rotated_2d(mu: f64, l: f64, angle: f64, center: [f64; 2]) -> Result<Self, OptimError> {
        positive("quadratic curvature mu", mu)?;
        positive("quadratic curvature L", l)?;
        let (s, c) = angle.sin_cos();
        // R diag(l, mu) Rᵀ with R the rotation by `angle`.
        let a = l * c * c + mu * s * s;
        let b = (l - mu) * c * s;
        let d = l * s * s + mu * c * c;
        Ok(Quadratic {
            hessian: Matrix::from_rows(&[[a, b], [b, d]])?,
            center: center.to_vec(),
            mu: mu.min(l),
            l: mu.max(l),
        })
    }

    /// Moves the minimiser to `center`.
    pub fn with_center(mut self, center: Vec<f64>) -> Result<Self, OptimError> {
        same_len("quadratic centre", self.center.len(), center.len())?;
        self.center = center;
        Ok(self)
    }

    /// The Hessian `A`.
    pub fn hessian(&self) -> &Matrix {
        &self.hessian
    }

    /// Smallest curvature `μ`.
    pub fn mu(&self) -> f64 {
        self.mu
    }

    /// Largest curvature `L`.
    pub fn l(&self) -> f64 {
        self.l
    }

    /// Condition number `κ = L/μ`.
    pub fn condition_number(&self) -> f64 {
        self.l / self.mu
    }

    fn offset(&self, x: &[f64]) -> Vec<f64> {
        x.iter().zip(&self.center).map(|(a, b)| a - b).collect()
    }
}

impl Objective for Quadratic {
    fn dim(&self) -> usize {
        self.center.len()
    }

    fn value(&self, x: &[f64]) -> f64 {
        let d = self.offset(x);
        let ad = self.gradient(x);
        0.5 * d.iter().zip(&ad).map(|(a, b)| a * b).sum::<f64>()
    }

    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        let d = self.offset(x);
        let n = d.len();
        (0..n)
            .map(|i| (0..n).map(|j| self.hessian[(i, j)] * d[j]).sum())
            .collect()
    }

    fn minimizer(&self) -> Vec<f64> {
        self.center.clone()
    }
}

/// Rosenbrock's function `(a - x)² + b (y - x²)²`, minimised at `(a, a²)` at the bottom of a
/// curved, flat valley.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rosenbrock {
    /// Position parameter (1 in the classic form).
    pub a: f64,
    /// Valley steepness (100 in the classic form).
    pub b: f64,
}

impl Default for Rosenbrock {
    fn default() -> Self {
        Rosenbrock { a: 1.0, b: 100.0 }
    }
}

impl Objective for Rosenbrock {
    fn dim(&self) -> usize {
        2
    }

    fn value(&self, x: &[f64]) -> f64 {
        (self.a - x[0]).powi(2) + self.b * (x[1] - x[0] * x[0]).powi(2)
    }

    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        let r = x[1] - x[0] * x[0];
        vec![
            -2.0 * (self.a - x[0]) - 4.0 * self.b * x[0] * r,
            2.0 * self.b * r,
        ]
    }

    fn minimizer(&self) -> Vec<f64> {
        vec![self.a, self.a * self.a]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::jacobian_fd;

    fn check_gradient(obj: &dyn Objective, x: &[f64]) {
        let g = obj.gradient(x);
        let fd = jacobian_fd(|z| vec![obj.value(z)], x).unwrap();
        for (j, gj) in g.iter().enumerate() {
            assert!(
                (fd[(0, j)] - gj).abs() < 1e-7 * gj.abs().max(1.0),
                "{j}: {gj} vs fd"
            );
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let q = Quadratic::rotated_2d(1.0, 50.0, 0.4, [0.5, -1.0]).unwrap();
        check_gradient(&q, &[1.5, 2.0]);
        check_gradient(&Rosenbrock::default(), &[-1.2, 1.0]);
        let d = Quadratic::diagonal(&[1.0, 4.0, 9.0]).unwrap();
        check_gradient(&d, &[1.0, -1.0, 0.5]);
    }

    #[test]
    fn minimisers_and_curvatures() {
        let q = Quadratic::rotated_2d(2.0, 20.0, 0.7, [1.0, 3.0]).unwrap();
        assert!(q.gradient(&q.minimizer()).iter().all(|g| g.abs() < 1e-14));
        let eig = q.hessian().eigenvalues().unwrap();
        assert!((eig[0].re - 20.0).abs() < 1e-12 && (eig[1].re - 2.0).abs() < 1e-12);
        assert_eq!(q.condition_number(), 10.0);
        let r = Rosenbrock::default();
        assert_eq!(r.gradient(&r.minimizer()), vec![0.0, 0.0]);
        assert_eq!(r.value(&r.minimizer()), 0.0);
        assert!(Quadratic::diagonal(&[1.0, -1.0]).is_err());
        assert!(Quadratic::diagonal(&[]).is_err());
    }
}
