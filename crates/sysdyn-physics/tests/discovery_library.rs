//! Candidate libraries: PySINDy's feature order and names, the number of monomials
//! `C(n + d, d)`, Fourier and custom features by value, concatenation and tensor products.

use sysdyn_core::linalg::Matrix;
use sysdyn_physics::discovery::{CustomFunction, Library};

fn binomial(n: usize, k: usize) -> usize {
    (1..=k).fold(1, |acc, i| acc * (n + 1 - i) / i)
}

#[test]
fn polynomial_features_follow_pysindy() {
    let lib = Library::polynomial(3);
    let names = lib.feature_names(&["x", "y"]).unwrap();
    assert_eq!(
        names,
        [
            "1", "x", "y", "x^2", "x y", "y^2", "x^3", "x^2 y", "x y^2", "y^3"
        ]
    );
    let row = lib.evaluate_row(&[2.0, -3.0]).unwrap();
    assert_eq!(
        row,
        [1.0, 2.0, -3.0, 4.0, -6.0, 9.0, 8.0, -12.0, 18.0, -27.0]
    );
    // All monomials of degree ≤ d in n variables: C(n + d, d).
    for n in 1..5 {
        for d in 0..5 {
            assert_eq!(Library::polynomial(d).n_features(n), binomial(n + d, d));
        }
    }
    let no_bias = Library::Polynomial {
        degree: 1,
        include_bias: false,
        include_interaction: true,
    };
    assert_eq!(
        no_bias.feature_names(&["a", "b", "c"]).unwrap(),
        ["a", "b", "c"]
    );
}

#[test]
fn fourier_and_custom_features_by_value() {
    let lib = Library::fourier(2);
    assert_eq!(
        lib.feature_names(&["x"]).unwrap(),
        ["sin(1 x)", "cos(1 x)", "sin(2 x)", "cos(2 x)"]
    );
    let v = lib.evaluate_row(&[0.3]).unwrap();
    let want = [0.3f64.sin(), 0.3f64.cos(), 0.6f64.sin(), 0.6f64.cos()];
    assert!(v.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-15));

    let product = CustomFunction::new(2, |a| a[0] * a[1], |n| format!("{}·{}", n[0], n[1]));
    let exp = CustomFunction::new(1, |a| a[0].exp(), |n| format!("exp({})", n[0]));
    let lib = Library::Custom(vec![exp, product]);
    assert_eq!(
        lib.feature_names(&["a", "b", "c"]).unwrap(),
        ["exp(a)", "exp(b)", "exp(c)", "a·b", "a·c", "b·c"]
    );
    let x = Matrix::from_rows(&[[0.0, 1.0, 2.0], [1.0, -1.0, 0.5]]).unwrap();
    let theta = lib.transform(&x).unwrap();
    assert_eq!((theta.rows(), theta.cols()), (2, 6));
    assert_eq!(theta[(1, 3)], -1.0);
    assert_eq!(theta[(1, 5)], -0.5);
    assert!((theta[(0, 2)] - 2f64.exp()).abs() < 1e-15);
}

#[test]
fn concatenation_and_tensor_products() {
    let poly = Library::Polynomial {
        degree: 1,
        include_bias: true,
        include_interaction: true,
    };
    let sum = poly.clone().concat(Library::fourier(1));
    assert_eq!(
        sum.feature_names(&["x"]).unwrap(),
        ["1", "x", "sin(1 x)", "cos(1 x)"]
    );
    let tensor = poly.tensor(Library::fourier(1));
    assert_eq!(
        tensor.feature_names(&["x"]).unwrap(),
        ["sin(1 x)", "cos(1 x)", "x sin(1 x)", "x cos(1 x)"]
    );
    let row = tensor.evaluate_row(&[0.5]).unwrap();
    assert!((row[2] - 0.5 * 0.5f64.sin()).abs() < 1e-15);
    assert_eq!(tensor.n_features(3), 4 * 6);
    // transform is evaluate_row on every row.
    let x = Matrix::from_rows(&[[0.1], [0.7], [-2.0]]).unwrap();
    let theta = sum.transform(&x).unwrap();
    for r in 0..3 {
        assert_eq!(
            &theta.as_slice()[r * 4..(r + 1) * 4],
            sum.evaluate_row(&[x[(r, 0)]]).unwrap().as_slice()
        );
    }
}
