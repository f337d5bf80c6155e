//! The flows train: burn's gradient of the negative log-likelihood
//! `−mean(log N(z) + log|det ∂z/∂x|)` with respect to a weight matrix equals its central finite
//! difference for MAF (and is exactly zero at MADE's masked entries), the spline coupling's
//! conditioner, the residual flow (through its spectral normalisation and the jet-computed
//! log-determinant series) and the CNF's field (through the fixed-step solve), in f64.

mod flow_support;

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::Tensor;
use flow_support::{batch, f64_device, host, rows};
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, Mlp, MlpConfig};
use sysdyn_generative::flow::cnf::{CnfFlow, CnfSolver};
use sysdyn_generative::flow::made::MadeConfig;
use sysdyn_generative::flow::maf::Maf;
use sysdyn_generative::flow::residual::{LogDetEstimator, ResidualFlowConfig};
use sysdyn_generative::flow::spline::SplineCouplingConfig;
use sysdyn_generative::flow::{Flow, Transformed};
use sysdyn_nodes::{MlpField, TraceEstimator};
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::RK4;

/// `−mean(log N(z) + log_det)`.
fn nll(t: Transformed<2>) -> Tensor<1> {
    let [_, d] = t.value.dims();
    let log_normal = t
        .value
        .square()
        .sum_dim(1)
        .mul_scalar(-0.5)
        .sub_scalar(0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln())
        .reshape([t.log_det.dims()[0]]);
    (log_normal + t.log_det).mean().neg()
}

fn data(device: &SysDevice, d: usize) -> Tensor<2> {
    batch(device, &rows(11, 6, d, 1.0))
}

/// Compares `gradient` (row-major, as `weight`) with central differences of `loss` at a few
/// entries; returns the largest relative error.
fn compare(weight: &Tensor<2>, gradient: &[f64], loss: &dyn Fn(Tensor<2>) -> f64) -> f64 {
    let device = f64_device();
    let dims = weight.dims();
    let values = host(weight.clone());
    let h = 1e-6;
    let mut worst: f64 = 0.0;
    for entry in (0..values.len()).step_by((values.len() / 7).max(1)) {
        let shifted = |delta: f64| {
            let mut v = values.clone();
            v[entry] += delta;
            loss(device.tensor(v, dims).unwrap())
        };
        let fd = (shifted(h) - shifted(-h)) / (2.0 * h);
        let error = (gradient[entry] - fd).abs() / (1e-6 + fd.abs());
        assert!(
            error < 1e-5,
            "entry {entry}: gradient {} vs finite difference {fd}",
            gradient[entry]
        );
        worst = worst.max(error);
    }
    worst
}

#[test]
fn maf_gradient_matches_finite_differences_and_vanishes_on_masked_weights() {
    let device = f64_device();
    let maf = Maf::new(MadeConfig::new(3, vec![8]).init(&device, 1).unwrap());
    let x = data(&device, 3);
    let grads = nll(maf.forward(x.clone(), None).unwrap()).backward();
    let weight = maf.made.layers[0].weight.val();
    let gradient = host(maf.made.layers[0].weight.grad(&grads).unwrap());
    let mask = host(maf.made.layers[0].mask.val());
    for (g, m) in gradient.iter().zip(&mask) {
        if *m == 0.0 {
            assert_eq!(*g, 0.0, "a masked weight has a gradient");
        }
    }
    let worst = compare(&weight, &gradient, &|w| {
        let mut m = maf.clone();
        m.made.layers[0].weight = Param::from_tensor(w);
        host(nll(m.forward(x.clone(), None).unwrap()))[0]
    });
    println!("MAF: largest relative gradient error {worst:e}");
}

fn with_first_weight(mlp: &Mlp, w: Tensor<2>) -> Mlp {
    let mut layers: Vec<Linear> = mlp.layers().to_vec();
    layers[0].weight = Param::from_tensor(w);
    Mlp::new(layers, mlp.activation()).unwrap()
}

#[test]
fn spline_coupling_gradient_matches_finite_differences() {
    let device = f64_device();
    let layer = SplineCouplingConfig::new(4, vec![8], 5, 3.0)
        .init(&device, 2)
        .unwrap();
    let x = data(&device, 4);
    let grads = nll(layer.forward(x.clone(), None).unwrap()).backward();
    let first = &layer.conditioner.layers()[0].weight;
    let gradient = host(first.grad(&grads).unwrap());
    let worst = compare(&first.val(), &gradient, &|w| {
        let mut l = layer.clone();
        l.conditioner = with_first_weight(&layer.conditioner, w);
        host(nll(l.forward(x.clone(), None).unwrap()))[0]
    });
    println!("spline coupling: largest relative gradient error {worst:e}");
}

#[test]
fn residual_flow_gradient_matches_finite_differences() {
    let device = f64_device();
    let flow = ResidualFlowConfig::new(3, vec![8], 0.8)
        .with_log_det(LogDetEstimator::ExactTrace { terms: 12 })
        .init(&device, 3)
        .unwrap();
    let x = data(&device, 3);
    let grads = nll(flow.forward(x.clone(), None).unwrap()).backward();
    let weight = &flow.layers[0].linear.weight;
    let gradient = host(weight.grad(&grads).unwrap());
    let worst = compare(&weight.val(), &gradient, &|w| {
        let mut f = flow.clone();
        f.layers[0].linear.weight = Param::from_tensor(w);
        host(nll(f.forward(x.clone(), None).unwrap()))[0]
    });
    println!("residual flow: largest relative gradient error {worst:e}");
}

#[test]
fn cnf_gradient_matches_finite_differences() {
    let device = f64_device();
    let field = MlpField::time_dependent(
        MlpConfig::new(vec![3, 8, 2])
            .with_activation(Activation::Tanh)
            .init_seeded(&device, 4)
            .unwrap(),
    );
    let solver = CnfSolver {
        method: RK4,
        config: SolveConfig::fixed(0.1),
        estimator: TraceEstimator::Exact,
        flow_time: 1.0,
        seed: 0,
    };
    let flow = CnfFlow::new(field, solver).unwrap();
    let x = data(&device, 2);
    let grads = nll(flow.forward(x.clone(), None).unwrap()).backward();
    let first = &flow.field.mlp.layers()[0].weight;
    let gradient = host(first.grad(&grads).unwrap());
    let worst = compare(&first.val(), &gradient, &|w| {
        let mut f = flow.clone();
        f.field.mlp = with_first_weight(&flow.field.mlp, w);
        host(nll(f.forward(x.clone(), None).unwrap()))[0]
    });
    println!("CNF: largest relative gradient error {worst:e}");
}
