//! Collocation and problem set-up: Sobol points equal Joe & Kuo's published first points, a
//! Latin hypercube has one point per stratum in every column, samples lie in their domain,
//! residual-based refinement adds the largest-residual candidates, and bad input (empty sets,
//! `lower ≥ upper`, NaN observations) is a typed error.

use sysdyn_core::rng::SeededRng;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::pinn::collocation::{face, latin_hypercube, refine_by_residual, sample, sobol};
use sysdyn_physics::pinn::{Condition, Domain, Interval, Points, Sampler};

#[test]
fn sobol_points_equal_the_joe_kuo_reference() {
    // The first ten 3-D points of Joe & Kuo's sobol.cc with new-joe-kuo-6.21201 (Gray-code
    // order, the origin first), as published with their direction numbers and used as the
    // reference in other libraries' tests (e.g. SALib's test_sobol_sequence).
    let expected = [
        [0.0, 0.0, 0.0],
        [0.5, 0.5, 0.5],
        [0.75, 0.25, 0.25],
        [0.25, 0.75, 0.75],
        [0.375, 0.375, 0.625],
        [0.875, 0.875, 0.125],
        [0.625, 0.125, 0.875],
        [0.125, 0.625, 0.375],
        [0.1875, 0.3125, 0.9375],
        [0.6875, 0.8125, 0.4375],
    ];
    let points = sobol(10, 3, 0).unwrap();
    let flat: Vec<f64> = expected.iter().flatten().copied().collect();
    assert_eq!(points, flat);
    // Point 4 in five dimensions (dimensions 4 and 5 use s = 3 polynomials).
    assert_eq!(
        sobol(1, 5, 4).unwrap(),
        vec![0.375, 0.375, 0.625, 0.875, 0.375]
    );
    // Skipping is the same sequence shifted.
    assert_eq!(sobol(3, 3, 5).unwrap(), flat[15..24].to_vec());
}

#[test]
fn sobol_is_balanced_in_every_dimension() {
    // The first 2^k points of each coordinate are a permutation of the 2^k dyadic cells: a
    // (0, k, 1)-net per dimension; pairs of dimensions put 2^k / 4 points in each quarter.
    let n = 256;
    for dim in 1..=10 {
        let points = sobol(n, dim, 0).unwrap();
        for c in 0..dim {
            let mut cells: Vec<usize> = (0..n)
                .map(|i| (points[i * dim + c] * n as f64) as usize)
                .collect();
            cells.sort_unstable();
            assert_eq!(cells, (0..n).collect::<Vec<_>>(), "dimension {c} of {dim}");
        }
    }
    assert!(matches!(
        sobol(4, 11, 0),
        Err(PhysicsError::InvalidParameter { .. })
    ));
}

#[test]
fn a_latin_hypercube_has_one_point_per_stratum() {
    let mut rng = SeededRng::new(7);
    let (n, dim) = (50, 3);
    let points = latin_hypercube(n, dim, &mut rng);
    for c in 0..dim {
        let mut strata: Vec<usize> = (0..n)
            .map(|i| (points[i * dim + c] * n as f64).floor() as usize)
            .collect();
        strata.sort_unstable();
        assert_eq!(strata, (0..n).collect::<Vec<_>>(), "column {c}");
    }
    // The same seed gives the same design.
    assert_eq!(points, latin_hypercube(n, dim, &mut SeededRng::new(7)));
}

#[test]
fn samples_and_faces_lie_in_the_domain() {
    let domain = Domain::time_space(&[(-1.0, 1.0)], (0.0, 0.5)).unwrap();
    assert_eq!(domain.time_column(), Some(1));
    let mut rng = SeededRng::new(1);
    for sampler in [
        Sampler::Uniform,
        Sampler::LatinHypercube,
        Sampler::Sobol { skip: 1 },
    ] {
        let points = sample(&domain, sampler, 64, &mut rng).unwrap();
        assert_eq!(points.len(), 64);
        for i in 0..points.len() {
            let p = points.row(i);
            assert!((-1.0..=1.0).contains(&p[0]) && (0.0..=0.5).contains(&p[1]));
        }
    }
    let initial = face(&domain, 1, false, Sampler::LatinHypercube, 20, &mut rng).unwrap();
    assert!(initial.column(1).iter().all(|&t| t == 0.0));
    let right = face(&domain, 0, true, Sampler::Uniform, 20, &mut rng).unwrap();
    assert!(right.column(0).iter().all(|&x| x == 1.0));
}

#[test]
fn refinement_adds_the_largest_residuals() {
    let points = Points::new(1, vec![0.0, 1.0]).unwrap();
    let candidates = Points::new(1, vec![0.1, 0.2, 0.3, 0.4, 0.5]).unwrap();
    let residuals = [0.01, -3.0, 0.5, 2.0, -0.1];
    let refined = refine_by_residual(&points, &candidates, &residuals, 2).unwrap();
    assert_eq!(refined.values(), &[0.0, 1.0, 0.2, 0.4]);
    assert!(refine_by_residual(&points, &candidates, &residuals[..3], 2).is_err());
    assert!(refine_by_residual(&points, &candidates, &residuals, 0).is_err());
    let nan = [0.0, f64::NAN, 0.0, 0.0, 0.0];
    assert!(matches!(
        refine_by_residual(&points, &candidates, &nan, 1),
        Err(PhysicsError::NonFinite { .. })
    ));
}

#[test]
fn bad_domains_empty_sets_and_nan_observations_are_typed_errors() {
    assert!(matches!(
        Interval::new(1.0, 1.0),
        Err(PhysicsError::InvalidParameter { .. })
    ));
    assert!(matches!(
        Domain::new(&[(0.0, 1.0), (2.0, -2.0)]),
        Err(PhysicsError::InvalidParameter { .. })
    ));
    assert!(Domain::interval(f64::NAN, 1.0).is_err());
    assert!(matches!(Domain::new(&[]), Err(PhysicsError::Empty { .. })));
    let domain = Domain::interval(0.0, 1.0).unwrap();
    let mut rng = SeededRng::new(0);
    assert!(matches!(
        sample(&domain, Sampler::Uniform, 0, &mut rng),
        Err(PhysicsError::Empty { .. })
    ));
    assert!(matches!(
        Points::new(2, vec![]),
        Err(PhysicsError::Empty { .. })
    ));
    assert!(Points::new(2, vec![1.0, 2.0, 3.0]).is_err());
    let points = Points::new(2, vec![0.1, 0.2, 0.3, 0.4]).unwrap();
    assert!(matches!(
        Condition::data("observations", points.clone(), vec![1.0, f64::NAN]),
        Err(PhysicsError::NonFinite { index: 1, .. })
    ));
    assert!(Condition::data("observations", points.clone(), vec![1.0]).is_err());
    assert!(Condition::neumann("flux", points, 2, vec![0.0, 0.0]).is_err());
}
