//! Convergence orders of the finite-difference stencils, measured on smooth functions: the
//! least-squares slope of log(max error) against log(h) over four resolutions must be within
//! 0.2 of the formula's order, for every derivative, accuracy and boundary; and the spectral
//! derivative matrices are exact to rounding on a resolved trigonometric function.

use std::f64::consts::{PI, TAU};

use sysdyn_physics::PhysicsError;
use sysdyn_physics::stencil::{
    Accuracy, Boundary, Laplacian2d, LaplacianKind, Stencil1d, fornberg_weights,
    spectral_derivative_matrix,
};

/// Least-squares slope of log(err) against log(h).
fn slope(hs: &[f64], errs: &[f64]) -> f64 {
    let xs: Vec<f64> = hs.iter().map(|h| h.ln()).collect();
    let ys: Vec<f64> = errs.iter().map(|e| e.ln()).collect();
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let num: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let den: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    num / den
}

fn fmt(errs: &[f64]) -> String {
    errs.iter()
        .map(|e| format!("{e:.2e}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A test function with its first and second derivatives.
type F3 = fn(f64) -> (f64, f64, f64);

/// exp(sin 2πx): periodic on [0, 1), every Fourier mode present.
fn periodic_f(x: f64) -> (f64, f64, f64) {
    let (s, c) = (TAU * x).sin_cos();
    let f = s.exp();
    (f, TAU * c * f, TAU * TAU * (c * c - s) * f)
}

/// sin(3x + 0.5) e^x: no symmetry at the ends of [0, 1].
fn dirichlet_f(x: f64) -> (f64, f64, f64) {
    let (s, c) = (3.0 * x + 0.5).sin_cos();
    let e = x.exp();
    (s * e, (3.0 * c + s) * e, (-9.0 * s + 6.0 * c + s) * e)
}

/// cos(πx) + 0.3 cos(2πx): even about both ends of [0, 1] (zero flux).
fn neumann_f(x: f64) -> (f64, f64, f64) {
    (
        (PI * x).cos() + 0.3 * (TAU * x).cos(),
        -PI * (PI * x).sin() - 0.3 * TAU * (TAU * x).sin(),
        -PI * PI * (PI * x).cos() - 0.3 * TAU * TAU * (TAU * x).cos(),
    )
}

/// The nodes of a grid of `n` points on [0, 1]: periodic excludes 1.
fn nodes(boundary: Boundary, n: usize) -> (Vec<f64>, f64) {
    let h = match boundary {
        Boundary::Periodic => 1.0 / n as f64,
        _ => 1.0 / (n - 1) as f64,
    };
    ((0..n).map(|i| i as f64 * h).collect(), h)
}

fn test_function(boundary: Boundary) -> F3 {
    match boundary {
        Boundary::Periodic => periodic_f,
        Boundary::Dirichlet => dirichlet_f,
        Boundary::Neumann => neumann_f,
    }
}

#[test]
fn fornberg_reproduces_the_classical_formulas() {
    let w = fornberg_weights(0.0, &[-2.0, -1.0, 0.0, 1.0, 2.0], 2);
    let expected = [
        -1.0 / 12.0,
        16.0 / 12.0,
        -30.0 / 12.0,
        16.0 / 12.0,
        -1.0 / 12.0,
    ];
    for (a, b) in w.iter().zip(expected) {
        assert!((a - b).abs() < 1e-14, "{w:?}");
    }
    let w = fornberg_weights(0.0, &[0.0, 1.0, 2.0], 1);
    for (a, b) in w.iter().zip([-1.5, 2.0, -0.5]) {
        assert!((a - b).abs() < 1e-14, "{w:?}");
    }
}

#[test]
fn every_1d_stencil_converges_at_its_order() {
    let ns = [20, 40, 80, 160];
    for boundary in [Boundary::Periodic, Boundary::Dirichlet, Boundary::Neumann] {
        let f = test_function(boundary);
        for derivative in [1, 2] {
            for accuracy in [Accuracy::Second, Accuracy::Fourth] {
                let mut hs = Vec::new();
                let mut errs = Vec::new();
                for &n in &ns {
                    let (xs, h) = nodes(boundary, n);
                    let s = Stencil1d::new(derivative, accuracy, boundary, n, h).unwrap();
                    let u: Vec<f64> = xs.iter().map(|&x| f(x).0).collect();
                    let mut out = vec![0.0; n];
                    s.apply(&u, &mut out).unwrap();
                    let err = xs
                        .iter()
                        .zip(&out)
                        .map(|(&x, o)| {
                            let (_, d1, d2) = f(x);
                            (o - if derivative == 1 { d1 } else { d2 }).abs()
                        })
                        .fold(0.0, f64::max);
                    hs.push(h);
                    errs.push(err);
                }
                let p = slope(&hs, &errs);
                eprintln!(
                    "1D {boundary:?} d{derivative} {accuracy:?}: slope {p:.3}, errors {}",
                    fmt(&errs)
                );
                assert!(
                    (p - accuracy.order() as f64).abs() < 0.2,
                    "{boundary:?} d{derivative} {accuracy:?}: slope {p}"
                );
            }
        }
    }
}

#[test]
fn every_laplacian_converges_at_its_order() {
    let ns = [16, 32, 64];
    for boundary in [Boundary::Periodic, Boundary::Dirichlet, Boundary::Neumann] {
        let f = test_function(boundary);
        // g(y) = f(y) as well, shifted in phase for the periodic case to avoid symmetry.
        for (kind, order) in [
            (LaplacianKind::FivePoint, 2.0),
            (LaplacianKind::NinePoint, 2.0),
            (LaplacianKind::FourthOrder, 4.0),
        ] {
            let mut hs = Vec::new();
            let mut errs = Vec::new();
            for &n in &ns {
                let (xs, h) = nodes(boundary, n);
                let lap = Laplacian2d::new(kind, boundary, (n, n), (h, h)).unwrap();
                let mut u = vec![0.0; n * n];
                let mut exact = vec![0.0; n * n];
                for (i, &x) in xs.iter().enumerate() {
                    for (j, &y) in xs.iter().enumerate() {
                        let (a, _, a2) = f(x);
                        let (b, _, b2) = f(y);
                        u[i * n + j] = a * b;
                        exact[i * n + j] = a2 * b + a * b2;
                    }
                }
                let mut out = vec![0.0; n * n];
                lap.apply(&u, &mut out).unwrap();
                let err = out
                    .iter()
                    .zip(&exact)
                    .map(|(o, e)| (o - e).abs())
                    .fold(0.0, f64::max);
                hs.push(h);
                errs.push(err);
            }
            let p = slope(&hs, &errs);
            eprintln!(
                "2D {boundary:?} {kind:?}: slope {p:.3}, errors {}",
                fmt(&errs)
            );
            assert!((p - order).abs() < 0.2, "{boundary:?} {kind:?}: slope {p}");
        }
    }
}

#[test]
fn the_nine_point_stencil_is_leads_weights() {
    let lap = Laplacian2d::new(
        LaplacianKind::NinePoint,
        Boundary::Periodic,
        (8, 8),
        (1.0, 1.0),
    )
    .unwrap();
    // Row of cell (3, 3) = 27.
    let row = &lap.rows()[27];
    let weight = |i: usize, j: usize| row.iter().find(|e| e.0 == i * 8 + j).map_or(0.0, |e| e.1);
    assert!((weight(3, 3) + 3.0).abs() < 1e-14);
    for (i, j) in [(2, 3), (4, 3), (3, 2), (3, 4)] {
        assert!((weight(i, j) - 0.5).abs() < 1e-14);
    }
    for (i, j) in [(2, 2), (2, 4), (4, 2), (4, 4)] {
        assert!((weight(i, j) - 0.25).abs() < 1e-14);
    }
    assert_eq!(row.len(), 9);
}

#[test]
fn spectral_derivative_matrices_are_exact_on_resolved_modes() {
    // u = sin(3x) + cos(5x) on [0, 2π) with 32 points: u''' = −27 cos(3x) + 125 sin(5x).
    let n = 32;
    let xs: Vec<f64> = (0..n).map(|i| TAU * i as f64 / n as f64).collect();
    let u: Vec<f64> = xs
        .iter()
        .map(|x| (3.0 * x).sin() + (5.0 * x).cos())
        .collect();
    for (order, exact) in [
        (
            1usize,
            Box::new(|x: f64| 3.0 * (3.0 * x).cos() - 5.0 * (5.0 * x).sin())
                as Box<dyn Fn(f64) -> f64>,
        ),
        (
            3,
            Box::new(|x: f64| -27.0 * (3.0 * x).cos() + 125.0 * (5.0 * x).sin()),
        ),
    ] {
        let m = spectral_derivative_matrix(n, TAU, order).unwrap();
        for i in 0..n {
            let d: f64 = (0..n).map(|j| m[i * n + j] * u[j]).sum();
            assert!(
                (d - exact(xs[i])).abs() < 1e-10,
                "order {order}: {d} vs {}",
                exact(xs[i])
            );
        }
    }
}

#[test]
fn grids_smaller_than_a_stencil_are_refused() {
    // Fourth-order second derivative: 5 periodic points, 6 one-sided Dirichlet points.
    assert!(matches!(
        Stencil1d::new(2, Accuracy::Fourth, Boundary::Periodic, 4, 0.1),
        Err(PhysicsError::GridTooSmall {
            got: 4,
            needed: 5,
            ..
        })
    ));
    assert!(matches!(
        Stencil1d::new(2, Accuracy::Fourth, Boundary::Dirichlet, 5, 0.1),
        Err(PhysicsError::GridTooSmall {
            got: 5,
            needed: 6,
            ..
        })
    ));
    assert!(matches!(
        Laplacian2d::new(
            LaplacianKind::FivePoint,
            Boundary::Periodic,
            (2, 8),
            (0.1, 0.1)
        ),
        Err(PhysicsError::GridTooSmall {
            got: 2,
            needed: 3,
            ..
        })
    ));
    assert!(Stencil1d::new(2, Accuracy::Fourth, Boundary::Periodic, 5, 0.1).is_ok());
    assert!(matches!(
        Stencil1d::new(3, Accuracy::Second, Boundary::Periodic, 10, 0.1),
        Err(PhysicsError::InvalidParameter {
            name: "derivative",
            ..
        })
    ));
}
