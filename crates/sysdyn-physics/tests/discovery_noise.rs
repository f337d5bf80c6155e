//! Measurement noise relative to each column's standard deviation: its size, its seeding, and
//! typed errors for a bad level or non-finite data.

use sysdyn_core::linalg::Matrix;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::discovery::add_noise;

#[test]
fn noise_has_the_requested_size_per_column_and_is_seeded() {
    // Columns of very different scales: t, 100 sin(t), and a constant.
    let m = 20_000;
    let rows: Vec<[f64; 3]> = (0..m)
        .map(|i| {
            let t = i as f64 * 1e-3;
            [t, 100.0 * t.sin(), 3.0]
        })
        .collect();
    let x = Matrix::from_rows(&rows).unwrap();
    let noisy = add_noise(&x, 0.05, 7).unwrap();
    for j in 0..2 {
        let col: Vec<f64> = (0..m).map(|i| x[(i, j)]).collect();
        let mean = col.iter().sum::<f64>() / m as f64;
        let std = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / m as f64).sqrt();
        let diff: Vec<f64> = (0..m).map(|i| noisy[(i, j)] - x[(i, j)]).collect();
        let rms = (diff.iter().map(|d| d * d).sum::<f64>() / m as f64).sqrt();
        // The sample rms of 2·10⁴ normal draws is within 3 % of σ with overwhelming odds.
        assert!(
            (rms / (0.05 * std) - 1.0).abs() < 0.03,
            "column {j}: {rms} vs {std}"
        );
    }
    // A constant column has no spread, so gets no noise.
    assert!((0..m).all(|i| noisy[(i, 2)] == 3.0));
    assert_eq!(noisy, add_noise(&x, 0.05, 7).unwrap());
    assert_ne!(noisy, add_noise(&x, 0.05, 8).unwrap());
    assert_eq!(add_noise(&x, 0.0, 7).unwrap(), x);
}

#[test]
fn a_negative_level_or_nan_data_are_typed_errors() {
    let x = Matrix::from_rows(&[[1.0, 2.0], [3.0, 4.0]]).unwrap();
    assert!(matches!(
        add_noise(&x, -0.01, 0),
        Err(PhysicsError::InvalidParameter { .. })
    ));
    assert!(matches!(
        add_noise(&x, f64::NAN, 0),
        Err(PhysicsError::InvalidParameter { .. })
    ));
    let bad = Matrix::from_rows(&[[1.0, f64::NAN]]).unwrap();
    assert!(matches!(
        add_noise(&bad, 0.01, 0),
        Err(PhysicsError::NonFinite { index: 1, .. })
    ));
}
