//! MAF (`flow::maf`) and IAF (`flow::iaf`), the same checks on both: the forward (density)
//! pass and the inverse (sampling) pass are inverses (1e-10 in f64, 1e-5 in f32, any input and
//! weights) — MAF's forward pass is the parallel one, IAF's inverse; both log-determinants equal
//! the brute-force log-determinant of the finite-difference Jacobian (unconditional and
//! conditional); the log-density from the forward pass equals the one from the inverse pass;
//! two layers with a reversal between them (a minimal local permutation) still invert.

mod flow_support;

use burn::tensor::{Int, Tensor, TensorData};
use flow_support::{
    assert_log_det_brute_force, assert_round_trip, batch, f32_device, f64_device, host, rows,
};
use proptest::prelude::*;
use sysdyn_core::device::SysDevice;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::flow::iaf::Iaf;
use sysdyn_generative::flow::made::{InputOrder, MadeConfig};
use sysdyn_generative::flow::maf::Maf;
use sysdyn_generative::flow::{Flow, Transformed};

fn made(
    device: &SysDevice,
    d: usize,
    context: usize,
    seed: u64,
) -> sysdyn_generative::flow::made::Made {
    MadeConfig::new(d, vec![8, 8])
        .with_context(context)
        .with_order(InputOrder::Random { seed: seed + 1 })
        .init(device, seed)
        .unwrap()
}

fn maf(device: &SysDevice, d: usize, context: usize, seed: u64) -> Maf {
    Maf::new(made(device, d, context, seed))
}

fn iaf(device: &SysDevice, d: usize, context: usize, seed: u64) -> Iaf {
    Iaf::new(made(device, d, context, seed))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn maf_sampling_inverts_density_f64(seed in 0u64..1000, data_seed in 0u64..1000) {
        let device = f64_device();
        let layer = maf(&device, 4, 0, seed);
        assert_round_trip(&layer, batch(&device, &rows(data_seed, 5, 4, 1.5)), None, 1e-10);
    }

    #[test]
    fn maf_sampling_inverts_density_f32(seed in 0u64..1000, data_seed in 0u64..1000) {
        let device = f32_device();
        let layer = maf(&device, 4, 0, seed);
        assert_round_trip(&layer, batch(&device, &rows(data_seed, 5, 4, 1.5)), None, 1e-5);
    }

    #[test]
    fn iaf_sampling_inverts_density_f64(seed in 0u64..1000, data_seed in 0u64..1000) {
        let device = f64_device();
        let layer = iaf(&device, 4, 0, seed);
        assert_round_trip(&layer, batch(&device, &rows(data_seed, 5, 4, 1.5)), None, 1e-10);
    }

    #[test]
    fn iaf_sampling_inverts_density_f32(seed in 0u64..1000, data_seed in 0u64..1000) {
        let device = f32_device();
        let layer = iaf(&device, 4, 0, seed);
        assert_round_trip(&layer, batch(&device, &rows(data_seed, 5, 4, 1.5)), None, 1e-5);
    }
}

/// A layer of `d` features with `context` context features, its weights from `seed`.
type Make<F> = fn(&SysDevice, usize, usize, u64) -> F;

fn log_dets_match<F: Flow<2>>(make: Make<F>, name: &str) {
    let device = f64_device();
    let worst = assert_log_det_brute_force(
        &make(&device, 4, 0, 3),
        &device,
        &rows(1, 4, 4, 1.0),
        None,
        1e-7,
    );
    println!("{name}, d = 4: largest |log-det − brute force| = {worst:e}");
    let conditional = make(&device, 3, 2, 5);
    let worst = assert_log_det_brute_force(
        &conditional,
        &device,
        &rows(2, 4, 3, 1.0),
        Some(&[0.3, -0.8]),
        1e-7,
    );
    println!("conditional {name}, d = 3: {worst:e}");
    let context = batch(&device, &rows(3, 6, 2, 1.0));
    assert_round_trip(
        &conditional,
        batch(&device, &rows(4, 6, 3, 1.0)),
        Some(&context),
        1e-10,
    );
}

#[test]
fn log_dets_match_the_finite_difference_jacobian() {
    log_dets_match(maf, "MAF");
    log_dets_match(iaf, "IAF");
}

fn same_density<F: Flow<2>>(make: Make<F>) {
    let device = f64_device();
    let layer = make(&device, 4, 0, 11);
    let x = batch(&device, &rows(5, 8, 4, 1.0));
    let log_normal = |z: Tensor<2>| {
        host(
            z.square()
                .sum_dim(1)
                .mul_scalar(-0.5)
                .sub_scalar(2.0 * (2.0 * std::f64::consts::PI).ln()),
        )
    };
    // log p(x) from the forward (density) pass: log N(z) + log|det ∂z/∂x|.
    let Transformed { value: z, log_det } = layer.forward(x.clone(), None).unwrap();
    let forward: Vec<f64> = log_normal(z.clone())
        .iter()
        .zip(host(log_det))
        .map(|(a, b)| a + b)
        .collect();
    // From the inverse (sampling) pass started at the same z: log N(z) − log|det ∂x/∂z|.
    let back = layer.inverse(z.clone(), None).unwrap();
    let inverse: Vec<f64> = log_normal(z)
        .iter()
        .zip(host(back.log_det))
        .map(|(a, b)| a - b)
        .collect();
    for (p, s) in forward.iter().zip(&inverse) {
        assert!((p - s).abs() < 1e-10, "{p} vs {s}");
    }
}

#[test]
fn parallel_and_sequential_passes_give_the_same_density() {
    same_density(maf);
    same_density(iaf);
}

/// A reversal of the features, the minimal permutation between two autoregressive layers.
fn reverse(x: Tensor<2>) -> Tensor<2> {
    let [_, d] = x.dims();
    let idx: Vec<i64> = (0..d as i64).rev().collect();
    let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [d]), &x.device());
    x.select(1, idx)
}

fn two_layer_stack_inverts<F: Flow<2>>(make: Make<F>) {
    let device = f64_device();
    let (a, b) = (make(&device, 3, 0, 21), make(&device, 3, 0, 22));
    let x = batch(&device, &rows(7, 6, 3, 1.0));
    let h = a.forward(x.clone(), None).unwrap();
    let z = b.forward(reverse(h.value), None).unwrap();
    let g = b.inverse(z.value, None).unwrap();
    let back = a.inverse(reverse(g.value), None).unwrap();
    let error = host(x)
        .iter()
        .zip(host(back.value))
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f64::max);
    assert!(error < 1e-10, "{error:e}");
    let total: Vec<f64> = host(h.log_det)
        .iter()
        .zip(host(z.log_det))
        .map(|(p, q)| p + q)
        .collect();
    let total_back: Vec<f64> = host(g.log_det)
        .iter()
        .zip(host(back.log_det))
        .map(|(p, q)| p + q)
        .collect();
    for (f, i) in total.iter().zip(total_back) {
        assert!((f + i).abs() < 1e-10);
    }
    assert_eq!(a.num_params(), b.num_params());
}

#[test]
fn a_two_layer_stack_with_a_reversal_inverts() {
    two_layer_stack_inverts(maf);
    two_layer_stack_inverts(iaf);
}

fn wrong_width_is_a_typed_error<F: Flow<2>>(make: Make<F>) {
    let device = f64_device();
    let layer = make(&device, 3, 0, 1);
    assert!(matches!(
        layer.forward(device.zeros([2, 4]), None),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        layer.inverse(device.zeros([2, 2]), None),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
}

#[test]
fn a_batch_of_the_wrong_width_is_a_typed_error() {
    wrong_width_is_a_typed_error(maf);
    wrong_width_is_a_typed_error(iaf);
}
