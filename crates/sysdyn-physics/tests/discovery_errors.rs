//! Bad input to equation discovery comes back as a typed `PhysicsError` saying what was wrong.

use sysdyn_core::linalg::Matrix;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::discovery::{
    Differentiator, Library, Optimizer, PdeFind, Sindy, Sr3, Stlsq, Trajectory, stlsq,
};

fn series(n: usize) -> (Matrix, Vec<f64>) {
    let t: Vec<f64> = (0..n).map(|i| 0.1 * i as f64).collect();
    let x =
        Matrix::from_row_major(n, 2, t.iter().flat_map(|t| [t.sin(), t.cos()]).collect()).unwrap();
    (x, t)
}

#[test]
fn empty_library() {
    let (x, t) = series(50);
    for library in [
        Library::Concat(vec![]),
        Library::Custom(vec![]),
        Library::Polynomial {
            degree: 0,
            include_bias: false,
            include_interaction: true,
        },
    ] {
        let sindy = Sindy {
            library,
            ..Sindy::default()
        };
        let err = sindy.fit(&[Trajectory::new(&x, &t)]).unwrap_err();
        assert!(
            matches!(
                err,
                PhysicsError::Empty {
                    what: "candidate library",
                    ..
                }
            ),
            "{err}"
        );
    }
    assert!(matches!(
        Sindy::default().fit(&[]).unwrap_err(),
        PhysicsError::Empty { .. }
    ));
}

#[test]
fn nan_data() {
    let (mut x, t) = series(50);
    x[(7, 1)] = f64::NAN;
    let err = Sindy::default()
        .fit(&[Trajectory::new(&x, &t)])
        .unwrap_err();
    assert!(
        matches!(err, PhysicsError::NonFinite { index: 15, .. }),
        "{err}"
    );
    let mut s: Vec<f64> = (0..10).map(f64::from).collect();
    s[3] = f64::INFINITY;
    let t: Vec<f64> = (0..10).map(f64::from).collect();
    assert!(matches!(
        Differentiator::FiniteDifference
            .differentiate(&s, &t)
            .unwrap_err(),
        PhysicsError::NonFinite { index: 3, .. }
    ));
    let mut u = Matrix::zeros(20, 20);
    u[(4, 4)] = f64::NAN;
    assert!(matches!(
        PdeFind::default().fit(&u, 0.1, 0.1).unwrap_err(),
        PhysicsError::NonFinite { .. }
    ));
}

#[test]
fn non_uniform_time_stamps() {
    let mut t: Vec<f64> = (0..40).map(|i| 0.1 * i as f64).collect();
    t[20] += 0.03;
    let x: Vec<f64> = t.iter().map(|t| t.sin()).collect();
    for method in [
        Differentiator::Spectral,
        Differentiator::SavitzkyGolay {
            window: 5,
            order: 2,
        },
        Differentiator::SmoothedFiniteDifference {
            window: 5,
            order: 2,
        },
        Differentiator::TotalVariation {
            alpha: 0.1,
            iterations: 2,
            epsilon: 1e-6,
        },
    ] {
        let err = method.differentiate(&x, &t).unwrap_err();
        assert!(
            matches!(err, PhysicsError::NonUniformTimes { index: 19, .. }),
            "{method:?}: {err}"
        );
    }
    // Finite differences take any increasing stamps; decreasing ones are refused.
    assert!(
        Differentiator::FiniteDifference
            .differentiate(&x, &t)
            .is_ok()
    );
    t.swap(5, 6);
    assert!(matches!(
        Differentiator::FiniteDifference
            .differentiate(&x, &t)
            .unwrap_err(),
        PhysicsError::InvalidParameter { .. }
    ));
}

#[test]
fn negative_threshold() {
    let (x, t) = series(50);
    for optimizer in [
        Optimizer::Stlsq(Stlsq {
            threshold: -0.1,
            ..Stlsq::default()
        }),
        Optimizer::Sr3(Sr3 {
            threshold: -1.0,
            ..Sr3::default()
        }),
    ] {
        let sindy = Sindy {
            optimizer,
            ..Sindy::default()
        };
        let err = sindy.fit(&[Trajectory::new(&x, &t)]).unwrap_err();
        assert!(
            matches!(
                err,
                PhysicsError::InvalidParameter {
                    name: "threshold",
                    ..
                }
            ),
            "{err}"
        );
    }
}

#[test]
fn too_few_samples() {
    // Two samples cannot be differentiated to second order.
    let (x, t) = series(2);
    let err = Sindy::default()
        .fit(&[Trajectory::new(&x, &t)])
        .unwrap_err();
    assert!(
        matches!(
            err,
            PhysicsError::GridTooSmall {
                got: 2,
                needed: 3,
                ..
            }
        ),
        "{err}"
    );
    // Five samples and six candidate functions: the regression is underdetermined.
    let (x, t) = series(5);
    let err = Sindy::default()
        .fit(&[Trajectory::new(&x, &t)])
        .unwrap_err();
    assert!(
        matches!(
            err,
            PhysicsError::GridTooSmall {
                got: 5,
                needed: 6,
                ..
            }
        ),
        "{err}"
    );
    // A Savitzky–Golay window longer than the series.
    let s = [1.0, 2.0, 3.0, 4.0];
    assert!(matches!(
        Differentiator::SavitzkyGolay {
            window: 7,
            order: 2
        }
        .differentiate(&s, &[0.0, 1.0, 2.0, 3.0])
        .unwrap_err(),
        PhysicsError::GridTooSmall { .. }
    ));
    // Mismatched rows in the plain regression.
    let theta = Matrix::zeros(10, 3);
    let y = Matrix::zeros(9, 1);
    assert!(matches!(
        stlsq(&theta, &y, &Stlsq::default()).unwrap_err(),
        PhysicsError::SizeMismatch { .. }
    ));
}
