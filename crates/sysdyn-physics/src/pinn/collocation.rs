//! Collocation points: uniform random, Latin hypercube, Sobol (Joe & Kuo's direction numbers),
//! points on a face of the box, and residual-based adaptive refinement (RAR, Lu et al. 2021:
//! add the candidates where `|residual|` is largest). Random samplers draw from a seeded
//! [`SeededRng`], so a seed fixes the set on every machine.

use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;

use super::domain::Domain;
use crate::PhysicsError;

/// A set of points, row-major `[len, dim]` on the host.
#[derive(Debug, Clone, PartialEq)]
pub struct Points {
    dim: usize,
    values: Vec<f64>,
}

impl Points {
    /// Points from row-major `values` of `dim` columns; an error for no points, a length that is
    /// not a multiple of `dim`, or a non-finite coordinate.
    pub fn new(dim: usize, values: Vec<f64>) -> Result<Self, PhysicsError> {
        if dim == 0 || values.is_empty() {
            return Err(PhysicsError::Empty {
                what: "a point set",
                unit: "point with at least one coordinate",
            });
        }
        if !values.len().is_multiple_of(dim) {
            return Err(PhysicsError::SizeMismatch {
                what: "point coordinates (a multiple of the dimension)",
                expected: values.len().div_ceil(dim) * dim,
                got: values.len(),
            });
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(PhysicsError::NonFinite {
                what: "point coordinates",
                index,
            });
        }
        Ok(Points { dim, values })
    }

    /// The number of points.
    pub fn len(&self) -> usize {
        self.values.len() / self.dim
    }

    /// Never true: a point set holds at least one point.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The number of columns.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Point `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }

    /// The row-major coordinates.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Column `c` of every point.
    pub fn column(&self, c: usize) -> Vec<f64> {
        self.values
            .iter()
            .skip(c)
            .step_by(self.dim)
            .copied()
            .collect()
    }

    /// The points as a `[len, dim]` tensor on `device`.
    pub fn to_tensor(&self, device: &SysDevice) -> Result<Tensor<2>, PhysicsError> {
        device
            .tensor(self.values.clone(), [self.len(), self.dim])
            .map_err(|_| PhysicsError::SizeMismatch {
                what: "point tensor",
                expected: self.values.len(),
                got: self.len() * self.dim,
            })
    }

    /// These points followed by `other`'s.
    pub fn concat(&self, other: &Points) -> Result<Points, PhysicsError> {
        if other.dim != self.dim {
            return Err(PhysicsError::SizeMismatch {
                what: "dimension of the points appended",
                expected: self.dim,
                got: other.dim,
            });
        }
        let mut values = self.values.clone();
        values.extend_from_slice(&other.values);
        Ok(Points {
            dim: self.dim,
            values,
        })
    }
}

/// How interior points are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampler {
    /// Independent uniform draws.
    Uniform,
    /// Latin hypercube: each column's range cut into `n` equal strata, one point in each, the
    /// strata paired across columns by independent random permutations (McKay et al. 1979).
    LatinHypercube,
    /// The Sobol low-discrepancy sequence (Joe & Kuo 2008 direction numbers, Gray-code order),
    /// after skipping its first `skip` points (the first is the origin).
    Sobol {
        /// Points skipped from the start of the sequence.
        skip: usize,
    },
}

/// Joe & Kuo's (2008, `new-joe-kuo-6.21201`) primitive polynomials and initial direction
/// numbers for dimensions 2–10: `(s, a, m_1 … m_s)`. Dimension 1 is the van der Corput sequence.
const JOE_KUO: [(u32, u32, &[u32]); 9] = [
    (1, 0, &[1]),
    (2, 1, &[1, 3]),
    (3, 1, &[1, 3, 1]),
    (3, 2, &[1, 1, 1]),
    (4, 1, &[1, 1, 3, 3]),
    (4, 4, &[1, 3, 5, 13]),
    (5, 2, &[1, 1, 5, 5, 17]),
    (5, 4, &[1, 1, 5, 5, 5]),
    (5, 7, &[1, 1, 7, 11, 19]),
];

/// The largest dimension [`sobol`] supports.
pub const SOBOL_MAX_DIM: usize = JOE_KUO.len() + 1;

const BITS: usize = 32;

/// Direction numbers `V_k = v_k 2^{32−k}`, `k = 1 … 32`, of one dimension.
fn directions(dimension: usize) -> [u32; BITS] {
    let mut v = [0u32; BITS];
    if dimension == 0 {
        for (k, vk) in v.iter_mut().enumerate() {
            *vk = 1 << (BITS - 1 - k);
        }
        return v;
    }
    let (s, a, m) = JOE_KUO[dimension - 1];
    let s = s as usize;
    for k in 0..BITS.min(s) {
        v[k] = m[k] << (BITS - 1 - k);
    }
    for k in s..BITS {
        // V_k = V_{k−s} ⊕ (V_{k−s} >> s) ⊕ ⊕_{i=1}^{s−1} a_i V_{k−i}
        let mut vk = v[k - s] ^ (v[k - s] >> s);
        for i in 1..s {
            if (a >> (s - 1 - i)) & 1 == 1 {
                vk ^= v[k - i];
            }
        }
        v[k] = vk;
    }
    v
}

/// Points `skip … skip + n − 1` of the `dim`-dimensional Sobol sequence in `[0, 1)^dim`,
/// row-major; point 0 is the origin, then `(½, …, ½)`, …
pub fn sobol(n: usize, dim: usize, skip: usize) -> Result<Vec<f64>, PhysicsError> {
    if n == 0 {
        return Err(PhysicsError::Empty {
            what: "a Sobol point request",
            unit: "point",
        });
    }
    if dim == 0 || dim > SOBOL_MAX_DIM {
        return Err(PhysicsError::InvalidParameter {
            name: "Sobol dimension",
            value: dim as f64,
            requirement: "must lie in 1..=10 (the direction numbers tabulated here)",
        });
    }
    let dirs: Vec<[u32; BITS]> = (0..dim).map(directions).collect();
    let mut x = vec![0u32; dim];
    let mut out = Vec::with_capacity(n * dim);
    let scale = 1.0 / (1u64 << BITS) as f64;
    for i in 0..(skip + n) {
        if i > 0 {
            // Gray-code order: flip direction c, the position of the lowest zero bit of i − 1.
            let c = (!(i - 1)).trailing_zeros() as usize;
            if c >= BITS {
                return Err(PhysicsError::InvalidParameter {
                    name: "Sobol point index",
                    value: i as f64,
                    requirement: "must stay below 2^32",
                });
            }
            for (xj, dj) in x.iter_mut().zip(&dirs) {
                *xj ^= dj[c];
            }
        }
        if i >= skip {
            out.extend(x.iter().map(|&xj| xj as f64 * scale));
        }
    }
    Ok(out)
}

/// `n` Latin-hypercube points in `[0, 1)^dim`, row-major: point `i` lies in stratum
/// `π_c(i)` of column `c`, uniformly inside it.
pub fn latin_hypercube(n: usize, dim: usize, rng: &mut SeededRng) -> Vec<f64> {
    let mut out = vec![0.0; n * dim];
    for c in 0..dim {
        let mut strata: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut strata);
        for (i, s) in strata.into_iter().enumerate() {
            out[i * dim + c] = (s as f64 + rng.uniform()) / n as f64;
        }
    }
    out
}

/// `n` interior points of `domain` placed by `sampler`.
pub fn sample(
    domain: &Domain,
    sampler: Sampler,
    n: usize,
    rng: &mut SeededRng,
) -> Result<Points, PhysicsError> {
    if n == 0 {
        return Err(PhysicsError::Empty {
            what: "a collocation set",
            unit: "point",
        });
    }
    let dim = domain.dim();
    let unit = match sampler {
        Sampler::Uniform => rng.uniforms(n * dim),
        Sampler::LatinHypercube => latin_hypercube(n, dim, rng),
        Sampler::Sobol { skip } => sobol(n, dim, skip)?,
    };
    let values = unit.chunks(dim).flat_map(|u| domain.from_unit(u)).collect();
    Points::new(dim, values)
}

/// `n` points on the face `x_column = lower` (or `upper`) of `domain`, the other columns placed
/// by `sampler`: boundary and initial-condition points (the initial face of a time × space
/// domain is its time column's lower face).
pub fn face(
    domain: &Domain,
    column: usize,
    upper: bool,
    sampler: Sampler,
    n: usize,
    rng: &mut SeededRng,
) -> Result<Points, PhysicsError> {
    let axis = domain.axis(column)?;
    let fixed = if upper { axis.upper() } else { axis.lower() };
    let mut points = sample(domain, sampler, n, rng)?;
    let dim = points.dim;
    for row in points.values.chunks_mut(dim) {
        row[column] = fixed;
    }
    Ok(points)
}

/// Residual-based adaptive refinement: `points` with the `add` candidates of largest
/// `|residual|` appended (`residuals[i]` belongs to candidate `i`).
pub fn refine_by_residual(
    points: &Points,
    candidates: &Points,
    residuals: &[f64],
    add: usize,
) -> Result<Points, PhysicsError> {
    if residuals.len() != candidates.len() {
        return Err(PhysicsError::SizeMismatch {
            what: "residuals per refinement candidate",
            expected: candidates.len(),
            got: residuals.len(),
        });
    }
    if let Some(index) = residuals.iter().position(|r| !r.is_finite()) {
        return Err(PhysicsError::NonFinite {
            what: "refinement residuals",
            index,
        });
    }
    if add == 0 || add > candidates.len() {
        return Err(PhysicsError::InvalidParameter {
            name: "points added by refinement",
            value: add as f64,
            requirement: "must lie in 1..=number of candidates",
        });
    }
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| residuals[b].abs().total_cmp(&residuals[a].abs()));
    let values = order[..add]
        .iter()
        .flat_map(|&i| candidates.row(i).to_vec())
        .collect();
    points.concat(&Points::new(candidates.dim, values)?)
}
