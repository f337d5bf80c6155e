//! One code base on every backend: MAF, IAF, the spline coupling, the residual flow and the CNF
//! layer, built from the same seeds, give the same latents and log-determinants on every
//! compiled test backend (`SYSDYN_TEST_BACKENDS` restricts them; wgpu runs on a software Vulkan
//! device without a GPU), in f32, and invert on each.

mod flow_support;

use burn::tensor::Tensor;
use flow_support::{assert_round_trip, batch, host, rows};
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::MlpConfig;
use sysdyn_generative::flow::Flow;
use sysdyn_generative::flow::cnf::{CnfFlow, CnfSolver};
use sysdyn_generative::flow::iaf::Iaf;
use sysdyn_generative::flow::made::MadeConfig;
use sysdyn_generative::flow::maf::Maf;
use sysdyn_generative::flow::residual::{FixedPoint, ResidualFlowConfig};
use sysdyn_generative::flow::spline::SplineCouplingConfig;
use sysdyn_nodes::{MlpField, TraceEstimator};
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::RK4;
use sysdyn_testing::test_devices_f32;

/// Latents and log-dets of every layer on `device`, after checking each round trip.
fn outputs(device: &SysDevice) -> Vec<Vec<f64>> {
    let x = batch(device, &rows(1, 6, 4, 1.5));
    let mut results = Vec::new();
    let mut run = |flow: &dyn Fn(Tensor<2>) -> (Tensor<2>, Tensor<1>)| {
        let (z, log_det) = flow(x.clone());
        results.push(host(z));
        results.push(host(log_det));
    };
    let made = || MadeConfig::new(4, vec![8]).init(device, 2).unwrap();
    let maf = Maf::new(made());
    let iaf = Iaf::new(made());
    let spline = SplineCouplingConfig::new(4, vec![8], 5, 3.0)
        .init(device, 3)
        .unwrap();
    let residual = ResidualFlowConfig::new(4, vec![8], 0.6)
        .with_fixed_point(FixedPoint {
            tolerance: 1e-6,
            max_iterations: 200,
        })
        .init(device, 4)
        .unwrap();
    let field = MlpField::time_dependent(
        MlpConfig::new(vec![5, 8, 4])
            .init_seeded(device, 5)
            .unwrap(),
    );
    let solver = CnfSolver {
        method: RK4,
        config: SolveConfig::fixed(0.05),
        estimator: TraceEstimator::Exact,
        flow_time: 1.0,
        seed: 0,
    };
    let cnf = CnfFlow::new(field, solver).unwrap();
    assert_round_trip(&maf, x.clone(), None, 1e-5);
    assert_round_trip(&iaf, x.clone(), None, 1e-5);
    assert_round_trip(&spline, x.clone(), None, 1e-5);
    assert_round_trip(&residual, x.clone(), None, 1e-5);
    // Fixed RK4 steps forward and back invert up to the method's error, O(h⁴).
    assert_round_trip(&cnf, x.clone(), None, 1e-4);
    fn pair<F: Flow<2>>(flow: &F, x: Tensor<2>) -> (Tensor<2>, Tensor<1>) {
        let t = flow.forward(x, None).unwrap();
        (t.value, t.log_det)
    }
    run(&|x| pair(&maf, x));
    run(&|x| pair(&iaf, x));
    run(&|x| pair(&spline, x));
    run(&|x| pair(&residual, x));
    run(&|x| pair(&cnf, x));
    results
}

#[test]
fn every_backend_gives_the_same_flows() {
    let devices = test_devices_f32(false);
    let reference = outputs(&devices[0]);
    for device in &devices[1..] {
        let other = outputs(device);
        for (i, (a, b)) in reference.iter().zip(&other).enumerate() {
            let diff = a
                .iter()
                .zip(b)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0, f64::max);
            assert!(
                diff < 1e-4,
                "output {i} differs by {diff:e} on {:?}",
                device.spec()
            );
        }
    }
}
