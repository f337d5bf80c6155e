//! Recurrent networks as discrete dynamical systems: gradients through 100 steps vanish or
//! explode with the spectral radius of the recurrence (measured with burn's autodiff), and the
//! recurrence Jacobians match their closed form and autodiff (f64 on flex).

use burn::tensor::Tensor;
use sysdyn_core::State;
use sysdyn_core::device::{Backend, DeviceSpec, Precision, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_nodes::rnn::{
    GateWeights, Gru, RecurrentCell, VanillaRnn, jacobian_spectral_radii, recurrence_jacobian_fd,
};

fn device(autodiff: bool) -> SysDevice {
    DeviceSpec::new(Backend::Flex, Precision::F64)
        .with_autodiff(autodiff)
        .init()
        .unwrap()
}

/// `ρ Q` with `Q` a block-diagonal rotation (angles 0.7 and 2.1): every eigenvalue and every
/// singular value has modulus `ρ`.
fn scaled_rotation(dev: &SysDevice, rho: f64) -> Tensor<2> {
    let (c1, s1, c2, s2) = (0.7f64.cos(), 0.7f64.sin(), 2.1f64.cos(), 2.1f64.sin());
    let q = vec![
        c1, -s1, 0.0, 0.0, //
        s1, c1, 0.0, 0.0, //
        0.0, 0.0, c2, -s2, //
        0.0, 0.0, s2, c2,
    ];
    dev.tensor(q.into_iter().map(|v| rho * v).collect::<Vec<_>>(), [4, 4])
        .unwrap()
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// ‖∂L_t/∂h_0‖ for `L_t = Σ h_t ⊙ v` at the given steps, by backpropagation through time.
fn gradient_norms(rho: f64, steps: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let dev = device(true);
    let mut rng = SeededRng::new(17);
    // Tiny states and inputs keep tanh in its linear regime for 100 steps even at ρ = 1.5
    // (1.5¹⁰⁰ ≈ 4e17, so |h| stays below 1e-6), so the Jacobians are ≈ ρ Qᵀ and nothing saturates.
    let scale = 1e-24;
    let cell = VanillaRnn::new(
        scaled_rotation(&dev, rho),
        dev.randn(&mut rng, [2, 4]),
        dev.zeros([4]),
    )
    .unwrap();
    let inputs: Vec<Tensor<2>> = (0..100)
        .map(|_| dev.randn(&mut rng, [1, 2]) * scale)
        .collect();
    let h0_values = dev.randn(&mut rng, [1, 4]) * scale;
    let v = dev.tensor(vec![1.0, -0.5, 0.25, 2.0], [1, 4]).unwrap();
    let norms = steps
        .iter()
        .map(|&t| {
            let h0 = h0_values.clone().detach().require_grad();
            let states = cell.run(h0.clone(), &inputs[..t]).unwrap();
            let loss = (states[t].clone() * v.clone()).sum();
            let grads = loss.backward();
            norm(&h0.grad(&grads).unwrap().to_f64_vec())
        })
        .collect();
    let plain = device(false);
    let plain_cell = VanillaRnn::new(
        scaled_rotation(&plain, rho),
        plain.randn(&mut SeededRng::new(17), [2, 4]),
        plain.zeros([4]),
    )
    .unwrap();
    let plain_inputs: Vec<Tensor<2>> = inputs
        .iter()
        .map(|x| plain.tensor(x.to_f64_vec(), [1, 2]).unwrap())
        .collect();
    let radii = jacobian_spectral_radii(
        &plain_cell,
        plain.tensor(h0_values.to_f64_vec(), [1, 4]).unwrap(),
        &plain_inputs,
    )
    .unwrap();
    (norms, radii)
}

#[test]
fn gradients_through_time_vanish_below_radius_one_and_explode_above() {
    let steps = [1, 50, 100];
    let v_norm = norm(&[1.0, -0.5, 0.25, 2.0]);
    for rho in [0.5, 1.5] {
        let (g, radii) = gradient_norms(rho, &steps);
        // In the linear regime ∂L_t/∂h_0 = (ρQ)ᵗ v, of norm ρᵗ ‖v‖: the measured rate per step
        // over the last 50 steps is ρ.
        let rate = (g[2] / g[1]).powf(1.0 / 50.0);
        assert!(
            (rate - rho).abs() < 1e-6,
            "ρ = {rho}: measured rate {rate}, norms {g:?}"
        );
        assert!(
            (g[2] / (rho.powi(100) * v_norm) - 1.0).abs() < 1e-6,
            "{g:?}"
        );
        if rho < 1.0 {
            assert!(g[2] < 1e-25 * g[0], "vanishing: {g:?}");
        } else {
            assert!(g[2] > 1e15 * g[0], "exploding: {g:?}");
        }
        // The Jacobian's spectral radius along the trajectory is ρ (tanh' ≈ 1 here).
        assert_eq!(radii.len(), 100);
        for r in radii {
            assert!((r - rho).abs() < 1e-6, "ρ = {rho}: radius {r}");
        }
    }
}

#[test]
fn vanilla_jacobian_matches_its_closed_form() {
    let dev = device(false);
    let mut rng = SeededRng::new(3);
    let cell = VanillaRnn::new(
        dev.randn(&mut rng, [5, 5]),
        dev.randn(&mut rng, [3, 5]),
        dev.randn(&mut rng, [5]),
    )
    .unwrap();
    let h = dev.randn(&mut rng, [1, 5]) * 0.5;
    let x = dev.randn(&mut rng, [1, 3]);
    let fd = recurrence_jacobian_fd(&cell, &h, &x).unwrap();
    let exact = cell
        .recurrence_jacobian(&cell.step(h.clone(), x.clone()))
        .unwrap();
    for (a, b) in fd.iter().zip(&exact) {
        assert!((a - b).abs() < 1e-8, "{a} vs {b}");
    }
}

fn gate(
    dev: &SysDevice,
    rng: &mut SeededRng,
    hidden: usize,
    input: usize,
    bias: f64,
) -> GateWeights {
    GateWeights::new(
        dev.randn(rng, [hidden, hidden]),
        dev.randn(rng, [input, hidden]),
        dev.randn(rng, [hidden]) * 0.1 + bias,
    )
    .unwrap()
}

#[test]
fn gru_step_is_the_gated_update() {
    let dev = device(false);
    let scalar = |v: f64| dev.tensor(vec![v], [1, 1]).unwrap();
    let gate = |w: f64, u: f64, b: f64| {
        GateWeights::new(scalar(w), scalar(u), dev.tensor(vec![b], [1]).unwrap()).unwrap()
    };
    let cell = Gru::new(
        gate(0.3, -0.4, 0.1),
        gate(-0.7, 0.2, 0.5),
        gate(1.1, 0.6, -0.2),
    )
    .unwrap();
    let (h, x) = (0.8, -1.3);
    let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
    let z = sig(0.3 * h - 0.4 * x + 0.1);
    let r = sig(-0.7 * h + 0.2 * x + 0.5);
    let n = (1.1 * r * h + 0.6 * x - 0.2).tanh();
    let expected = (1.0 - z) * n + z * h;
    let got = cell.step(scalar(h), scalar(x)).to_f64_vec()[0];
    assert!((got - expected).abs() < 1e-15, "{got} vs {expected}");
}

#[test]
fn gru_jacobian_agrees_with_autodiff_and_a_closed_gate_keeps_the_state() {
    let dev = device(true);
    let mut rng = SeededRng::new(8);
    let cell = Gru::new(
        gate(&dev, &mut rng, 4, 2, 0.0),
        gate(&dev, &mut rng, 4, 2, 0.0),
        gate(&dev, &mut rng, 4, 2, 0.0),
    )
    .unwrap();
    let h = (dev.randn(&mut rng, [1, 4]) * 0.5).require_grad();
    let x = dev.randn(&mut rng, [1, 2]);
    let jac = recurrence_jacobian_fd(&cell, &h, &x).unwrap();
    // vᵀ J from the differences equals the gradient of Σ v ⊙ h' by autodiff.
    let v = [0.3, -1.0, 0.7, 0.2];
    let loss = (cell.step(h.clone(), x) * dev.tensor(v.to_vec(), [1, 4]).unwrap()).sum();
    let grad = h.grad(&loss.backward()).unwrap().to_f64_vec();
    for i in 0..4 {
        let vj: f64 = (0..4).map(|k| v[k] * jac[k * 4 + i]).sum();
        assert!((vj - grad[i]).abs() < 1e-8, "{vj} vs {}", grad[i]);
    }

    // An update gate biased shut (z ≈ 1) makes h' ≈ h: the Jacobian is ≈ I, radius ≈ 1, however
    // long the sequence.
    let plain = device(false);
    let mut rng = SeededRng::new(9);
    let shut = Gru::new(
        gate(&plain, &mut rng, 4, 2, 20.0),
        gate(&plain, &mut rng, 4, 2, 0.0),
        gate(&plain, &mut rng, 4, 2, 0.0),
    )
    .unwrap();
    let inputs: Vec<Tensor<2>> = (0..20).map(|_| plain.randn(&mut rng, [1, 2])).collect();
    let radii =
        jacobian_spectral_radii(&shut, plain.randn(&mut rng, [1, 4]) * 0.5, &inputs).unwrap();
    for r in radii {
        assert!((r - 1.0).abs() < 1e-5, "radius {r}");
    }
}

#[test]
fn mismatched_widths_are_typed_errors() {
    let dev = device(false);
    let cell = VanillaRnn::new(dev.zeros([3, 3]), dev.zeros([2, 3]), dev.zeros([3])).unwrap();
    let err = cell.run(dev.zeros([1, 4]), &[]).unwrap_err();
    assert!(err.to_string().contains("[batch, 3]"), "{err}");
    let err = cell
        .run(dev.zeros([1, 3]), &[dev.zeros([1, 5])])
        .unwrap_err();
    assert!(err.to_string().contains("[1, 2]"), "{err}");
    assert!(VanillaRnn::new(dev.zeros([3, 2]), dev.zeros([2, 3]), dev.zeros([3])).is_err());
    assert!(VanillaRnn::new(dev.zeros([3, 3]), dev.zeros([2, 3]), dev.zeros([4])).is_err());
}
