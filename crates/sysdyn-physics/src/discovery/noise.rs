//! Measurement noise as the equation-discovery papers add it: Gaussian, with a standard
//! deviation of a fraction of each signal's own standard deviation (SINDy's and PDE-FIND's
//! "1 % noise").

use sysdyn_core::linalg::Matrix;
use sysdyn_core::rng::SeededRng;

use crate::error::PhysicsError;

/// `x + level · σⱼ · ξ` column by column, `σⱼ` the population standard deviation of column `j`
/// and `ξ` standard normal draws from `seed` (column by column, so the result is a pure function
/// of `x`, `level` and `seed`). Errors: `level` negative or not finite, a non-finite entry.
pub fn add_noise(x: &Matrix, level: f64, seed: u64) -> Result<Matrix, PhysicsError> {
    crate::model::non_negative("noise level", level)?;
    if let Some(index) = x.as_slice().iter().position(|v| !v.is_finite()) {
        return Err(PhysicsError::NonFinite {
            what: "data to add noise to",
            index,
        });
    }
    let (m, n) = (x.rows(), x.cols());
    let std: Vec<f64> = (0..n)
        .map(|j| {
            let mean = (0..m).map(|i| x[(i, j)]).sum::<f64>() / m.max(1) as f64;
            let var = (0..m).map(|i| (x[(i, j)] - mean).powi(2)).sum::<f64>() / m.max(1) as f64;
            var.sqrt()
        })
        .collect();
    let mut rng = SeededRng::new(seed);
    let mut out = x.clone();
    for (j, s) in std.iter().enumerate() {
        for i in 0..m {
            out[(i, j)] += level * s * rng.normal();
        }
    }
    Ok(out)
}
