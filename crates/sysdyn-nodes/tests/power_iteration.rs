//! Power iteration on stacks of rectangular matrices with known singular values: the estimate
//! and its gradient `u vᵀ`, iterations resumed from kept vectors equal one longer run, zero
//! iterations return the start, and a zero matrix stays finite.

use burn::tensor::{Tensor, TensorData};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_nodes::power_iteration::{normalise_columns, power_iterate, singular_value};

fn device() -> SysDevice {
    "flex:f64:autodiff"
        .parse::<DeviceSpec>()
        .unwrap()
        .init()
        .unwrap()
}

fn tensor(values: Vec<f64>, shape: [usize; 3]) -> Tensor<3> {
    let d = device();
    Tensor::from_data(TensorData::new(values, shape), (d.device(), d.dtype()))
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

/// `W = s₁ a₁ b₁ᵀ + s₂ a₂ b₂ᵀ` (3 × 2) with orthonormal `a₁, a₂ ∈ ℝ³` and `b₁, b₂ ∈ ℝ²`: its
/// singular values are `s₁ > s₂`, with `u = a₁`, `v = b₁`.
fn matrix(s1: f64, s2: f64, phi: f64) -> (Vec<f64>, [f64; 3], [f64; 2]) {
    let r = 1.0 / 3.0f64.sqrt();
    let a1 = [r, r, r];
    let a2 = [1.0 / 2.0f64.sqrt(), -1.0 / 2.0f64.sqrt(), 0.0];
    let b1 = [phi.cos(), phi.sin()];
    let b2 = [-phi.sin(), phi.cos()];
    let mut w = Vec::with_capacity(6);
    for i in 0..3 {
        for j in 0..2 {
            w.push(s1 * a1[i] * b1[j] + s2 * a2[i] * b2[j]);
        }
    }
    (w, a1, b1)
}

/// Unit start vectors not orthogonal to the top singular vectors.
fn start(e: usize) -> (Tensor<3>, Tensor<3>) {
    let u = normalise_columns(tensor(
        (0..e).flat_map(|_| [1.0, 0.2, -0.4]).collect(),
        [e, 3, 1],
    ));
    let v = normalise_columns(tensor((0..e).flat_map(|_| [0.3, 1.0]).collect(), [e, 2, 1]));
    (u, v)
}

#[test]
fn power_iteration_finds_the_top_singular_triple_and_resumes_from_kept_vectors() {
    let (w0, a1, b1) = matrix(4.0, 1.5, 0.4);
    let (w1, _, _) = matrix(0.7, 0.1, -1.2);
    let w = tensor([w0, w1].concat(), [2, 3, 2]).require_grad();
    let (u0, v0) = start(2);

    // σ₂/σ₁ = 0.375 and 1/7: 40 iterations converge far below 1e-12.
    let (u, v) = power_iterate(w.clone(), u0.clone(), v0.clone(), 40);
    let sigma = singular_value(u.clone(), w.clone(), v.clone());
    let s = host(sigma.clone());
    assert!(
        (s[0] - 4.0).abs() < 1e-12 && (s[1] - 0.7).abs() < 1e-12,
        "{s:?}"
    );

    // dσ₀/dW₀ = u vᵀ = a₁ b₁ᵀ (the common sign of u and v cancels); W₁ gets nothing.
    let grads = sigma.narrow(0, 0, 1).sum().backward();
    let g = host(w.grad(&grads).unwrap());
    for i in 0..3 {
        for j in 0..2 {
            let want = a1[i] * b1[j];
            assert!((g[i * 2 + j] - want).abs() < 1e-10, "{g:?}");
        }
    }
    assert!(g[6..].iter().all(|x| *x == 0.0), "{g:?}");

    // Kept vectors (spectral normalisation's state): 15 + 25 iterations are 40.
    let (u15, v15) = power_iterate(w.clone(), u0.clone(), v0.clone(), 15);
    let (u40, v40) = power_iterate(w.clone(), u15, v15, 25);
    assert_eq!(host(u40), host(u.clone()));
    assert_eq!(host(v40), host(v));

    // Zero iterations return the start; a zero matrix gives σ = 0 and finite vectors.
    let (same_u, same_v) = power_iterate(w.clone(), u0.clone(), v0.clone(), 0);
    assert_eq!(host(same_u), host(u0.clone()));
    assert_eq!(host(same_v), host(v0.clone()));
    let zero = tensor(vec![0.0; 12], [2, 3, 2]);
    let (zu, zv) = power_iterate(zero.clone(), u0, v0, 3);
    assert!(
        host(zu.clone())
            .iter()
            .chain(&host(zv.clone()))
            .all(|x| x.is_finite())
    );
    assert_eq!(host(singular_value(zu, zero, zv)), vec![0.0, 0.0]);
}
