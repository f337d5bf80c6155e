//! MADE (`flow::made`): the masks make every output depend only on the inputs before it in the
//! order — the Jacobian of the outputs is strictly triangular in the order, checked numerically —
//! while every allowed dependence is present; the degrees and masks of a small case by hand;
//! the context reaches every output; bad sizes are typed errors.

mod flow_support;

use flow_support::{f64_device, host};
use proptest::prelude::*;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::flow::made::{InputOrder, MadeConfig, degree_mask, hidden_degrees};

/// The FD Jacobian of all `2D` outputs (shifts then log-scales) with respect to the `D` inputs,
/// `[2D × D]` row-major, at `x` (context fixed).
fn output_jacobian(config: &MadeConfig, seed: u64, x: &[f64], context: Option<&[f64]>) -> Vec<f64> {
    let device = f64_device();
    let made = config.init(&device, seed).unwrap();
    let d = x.len();
    let f = |p: &[f64]| {
        let input = device.tensor(p.to_vec(), [1, d]).unwrap();
        let c = context.map(|c| device.tensor(c.to_vec(), [1, c.len()]).unwrap());
        let out = made.forward(input, c.as_ref()).unwrap();
        let mut v = host(out.shift);
        v.extend(host(out.log_scale));
        v
    };
    // Central differences of all 2D outputs, one input at a time.
    let mut jac = vec![0.0; 2 * d * d];
    for j in 0..d {
        let (mut plus, mut minus) = (x.to_vec(), x.to_vec());
        plus[j] += 1e-6;
        minus[j] -= 1e-6;
        let (fp, fm) = (f(&plus), f(&minus));
        for i in 0..2 * d {
            jac[i * d + j] = (fp[i] - fm[i]) / 2e-6;
        }
    }
    jac
}

fn assert_autoregressive(config: &MadeConfig, seed: u64) {
    let d = config.features;
    let degrees = config.order.degrees(d);
    let x: Vec<f64> = (0..d).map(|i| 0.3 * i as f64 - 0.4).collect();
    let jac = output_jacobian(config, seed, &x, None);
    for i in 0..2 * d {
        let dim = i % d;
        for j in 0..d {
            let entry = jac[i * d + j];
            if degrees[j] >= degrees[dim] {
                // Masked: not a rounding-size value but exactly zero.
                assert_eq!(
                    entry, 0.0,
                    "output {i} depends on input {j} (order {degrees:?})"
                );
            } else {
                assert!(
                    entry.abs() > 1e-8,
                    "output {i} ignores earlier input {j}: {entry}"
                );
            }
        }
    }
}

#[test]
fn degrees_and_masks_of_a_small_made() {
    // D = 3: hidden degrees cycle through 1..=2.
    assert_eq!(hidden_degrees(3, 5), vec![1, 2, 1, 2, 1]);
    assert_eq!(hidden_degrees(1, 2), vec![0, 0]);
    assert_eq!(InputOrder::Natural.degrees(3), vec![1, 2, 3]);
    assert_eq!(InputOrder::Reversed.degrees(3), vec![3, 2, 1]);
    let mut random = InputOrder::Random { seed: 4 }.degrees(6);
    random.sort();
    assert_eq!(random, vec![1, 2, 3, 4, 5, 6]);
    // inputs [1, 2, 3] → hidden [1, 2]: kept when hidden ≥ input.
    assert_eq!(
        degree_mask(&[1, 2, 3], &[1, 2], false),
        vec![1.0, 1.0, 0.0, 1.0, 0.0, 0.0]
    );
    // hidden [1, 2] → outputs [1, 2, 3]: kept when output > hidden.
    assert_eq!(
        degree_mask(&[1, 2], &[1, 2, 3], true),
        vec![0.0, 1.0, 1.0, 0.0, 0.0, 1.0]
    );
}

#[test]
fn natural_and_reversed_orders_are_autoregressive() {
    for order in [InputOrder::Natural, InputOrder::Reversed] {
        let config = MadeConfig::new(4, vec![8, 8]).with_order(order);
        assert_autoregressive(&config, 3);
    }
    // No hidden layer: outputs straight from the inputs.
    assert_autoregressive(&MadeConfig::new(3, vec![]), 5);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Any seeded random order, any seed of the weights.
    #[test]
    fn random_orders_are_autoregressive(order_seed in 0u64..10_000, seed in 0u64..10_000) {
        let config = MadeConfig::new(4, vec![6, 7]).with_order(InputOrder::Random { seed: order_seed });
        assert_autoregressive(&config, seed);
    }
}

#[test]
fn the_context_reaches_every_output_and_keeps_the_masks() {
    let device = f64_device();
    let config = MadeConfig::new(3, vec![8]).with_context(2);
    let made = config.init(&device, 9).unwrap();
    let x = device.tensor(vec![0.2, -0.1, 0.5], [1, 3]).unwrap();
    let out = |c: Vec<f64>| {
        let c = device.tensor(c, [1, 2]).unwrap();
        let o = made.forward(x.clone(), Some(&c)).unwrap();
        let mut v = host(o.shift);
        v.extend(host(o.log_scale));
        v
    };
    let (a, b) = (out(vec![0.0, 0.0]), out(vec![0.7, -0.3]));
    for (i, (p, q)) in a.iter().zip(&b).enumerate() {
        assert!((p - q).abs() > 1e-6, "output {i} ignores the context");
    }
    let jac = output_jacobian(&config, 9, &[0.2, -0.1, 0.5], Some(&[0.4, 0.1]));
    // The first dimension's shift and log-scale depend on no input.
    for j in 0..3 {
        assert_eq!(jac[j], 0.0);
        assert_eq!(jac[3 * 3 + j], 0.0);
    }
}

#[test]
fn bad_sizes_are_typed_errors() {
    let device = f64_device();
    assert!(matches!(
        MadeConfig::new(0, vec![4]).init(&device, 1),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    assert!(matches!(
        MadeConfig::new(3, vec![0]).init(&device, 1),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    let made = MadeConfig::new(3, vec![4]).init(&device, 1).unwrap();
    let wrong = device.zeros([2, 4]);
    assert!(matches!(
        made.forward(wrong, None),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let x = device.zeros([2, 3]);
    let context = device.zeros([2, 1]);
    assert!(matches!(
        made.forward(x.clone(), Some(&context)),
        Err(GenerativeError::Unsupported { .. })
    ));
    let conditional = MadeConfig::new(3, vec![4])
        .with_context(2)
        .init(&device, 1)
        .unwrap();
    assert!(matches!(
        conditional.forward(x.clone(), None),
        Err(GenerativeError::Unsupported { .. })
    ));
    assert!(matches!(
        conditional.forward(x, Some(&context)),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
}
