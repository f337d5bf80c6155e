//! Vector–Jacobian products of fields (burn's graph, the MLP's hand-written backward on tensors
//! and on the host) and the typed errors of neural-ODE solves.

mod common;

use burn::tensor::Tensor;
use common::*;
use sysdyn_core::device::{Backend, DeviceSpec, Precision, SysDevice};
use sysdyn_core::jet::{Activation, Mlp};
use sysdyn_nodes::{
    AdjointOptions, MlpField, NeuralField, NeuralOde, NodeError, ParamLayout, Sensitivity,
    with_time_column,
};
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::RK4;

/// The same network with no VJP of its own: burn's autodiff on one evaluation.
#[derive(burn::module::Module, Debug)]
struct GraphField {
    mlp: Mlp,
}

impl NeuralField for GraphField {
    fn field(&self, t: f64, x: Tensor<2>) -> Tensor<2> {
        self.mlp.forward(with_time_column(x, t)).unwrap()
    }
}

const WIDTHS: [usize; 4] = [3, 16, 16, 2];

fn batch(device: &SysDevice, rows: usize, seed: u64) -> Tensor<2> {
    let mut rng = sysdyn_core::rng::SeededRng::new(seed);
    device.randn(&mut rng, [rows, 2])
}

/// `(f, cᵀ∂f/∂x, cᵀ∂f/∂θ)` of `field` at `(t, x)`.
fn vjp<F: NeuralField>(field: &F, t: f64, x: Tensor<2>, c: Tensor<2>) -> [Vec<f64>; 3] {
    let layout = ParamLayout::of(field);
    let taped = field.taped(t, x);
    let v = field.vjp(taped.tape, c, &layout);
    [values(&taped.value), values(&v.state), values(&v.params)]
}

fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-30);
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs() / scale))
}

#[test]
fn hand_written_mlp_backward_matches_burn_autodiff_on_every_backend() {
    for device in sysdyn_testing::test_devices(true) {
        let flat = random_params(&WIDTHS, 1, 1.5);
        let mlp = mlp_from_flat(&device, &WIDTHS, &flat, Activation::Tanh);
        let fused = MlpField::time_dependent(mlp.clone());
        let graph = GraphField { mlp };
        let (x, c) = (batch(&device, 5, 2), batch(&device, 5, 3));
        let got = vjp(&fused, 0.4, x.clone(), c.clone());
        let want = vjp(&graph, 0.4, x, c);
        let tol = if device.spec().precision == Precision::F64 {
            1e-13
        } else {
            1e-5
        };
        for (part, (g, w)) in ["value", "state VJP", "parameter VJP"]
            .iter()
            .zip(got.iter().zip(&want))
        {
            let err = max_rel(g, w);
            assert!(err < tol, "{} {part}: {err:e}", device.spec());
        }
    }
}

#[test]
fn host_path_matches_the_tensor_path_in_both_precisions() {
    for backend in [Backend::Flex, Backend::Ndarray] {
        if !sysdyn_testing::test_backends().contains(&backend) {
            continue;
        }
        for (precision, tol) in [(Precision::F64, 1e-13), (Precision::F32, 2e-6)] {
            let device = DeviceSpec::new(backend, precision)
                .with_autodiff(true)
                .init()
                .unwrap();
            // Wide enough for the blocked kernel, and a batch that splits across workers
            // unevenly.
            let widths = [3, 40, 24, 2];
            let flat = random_params(&widths, 4, 2.0);
            let field =
                MlpField::time_dependent(mlp_from_flat(&device, &widths, &flat, Activation::Tanh));
            let prepared = field.prepare();
            let (x, c) = (batch(&device, 301, 5), batch(&device, 301, 6));
            let host = vjp(&prepared, -0.3, x.clone(), c.clone());
            let tensor = vjp(&field, -0.3, x.clone(), c);
            for (part, (h, t)) in ["value", "state VJP", "parameter VJP"]
                .iter()
                .zip(host.iter().zip(&tensor))
            {
                let err = max_rel(h, t);
                assert!(err < tol, "{backend} {precision} {part}: {err:e}");
            }
            // The plain forward pass of a prepared field without autodiff runs on the host too.
            let valid = burn::module::Module::valid(&field).prepare();
            let plain = values(&valid.field(-0.3, x.inner()));
            assert!(max_rel(&plain, &host[0]) < tol);
        }
    }
}

fn small_node(device: &SysDevice, sensitivity: Sensitivity) -> NeuralOde<MlpField> {
    let widths = [2, 8, 2];
    let field = MlpField::autonomous(mlp_from_flat(
        device,
        &widths,
        &random_params(&widths, 0, 1.0),
        Activation::Tanh,
    ));
    NeuralOde::new(field, RK4, SolveConfig::fixed(0.1)).with_sensitivity(sensitivity)
}

#[test]
fn bad_inputs_are_typed_errors() {
    let device = DeviceSpec::new(Backend::Flex, Precision::F64)
        .with_autodiff(true)
        .init()
        .unwrap();
    let node = small_node(&device, Sensitivity::Backprop);
    let x0 = batch(&device, 3, 1);
    for times in [
        vec![0.0],
        vec![0.0, 1.0, 1.0],
        vec![0.0, f64::NAN],
        vec![0.0, 1.0, 0.5],
    ] {
        assert!(matches!(
            node.solve(x0.clone(), &times),
            Err(NodeError::Times { .. })
        ));
    }
    // A loss that does not come from the trajectory.
    let trajectory = node.solve(x0.clone(), &[0.0, 1.0]).unwrap();
    let unrelated = Tensor::<1>::zeros([1], (&device.device().clone().inner(), device.dtype()));
    assert!(matches!(
        trajectory.backward(&unrelated),
        Err(NodeError::UntrackedLoss)
    ));
    // Adjoints need trainable parameters.
    let plain = DeviceSpec::new(Backend::Flex, Precision::F64)
        .init()
        .unwrap();
    let frozen = small_node(
        &plain,
        Sensitivity::BacksolveAdjoint(AdjointOptions::default()),
    );
    assert!(matches!(
        frozen.solve(batch(&plain, 3, 1), &[0.0, 1.0]),
        Err(NodeError::NotTrainable { .. })
    ));
    // A state the field's network does not take.
    let wide = Tensor::cat(vec![x0.clone(), x0.clone()], 1);
    assert!(matches!(
        node.solve(wide, &[0.0, 1.0]),
        Err(NodeError::Shape(_))
    ));
    // Checkpoint segments of no steps.
    let empty = small_node(
        &device,
        Sensitivity::CheckpointedBackprop {
            steps_per_segment: 0,
        },
    );
    assert!(matches!(
        empty.solve(x0.clone(), &[0.0, 1.0]),
        Err(NodeError::Option(_))
    ));
    // Backward in time is allowed and reverses a forward solve.
    let forward = node.solve(x0.clone(), &[0.0, 0.5]).unwrap();
    let back = node
        .solve(forward.last().clone().detach(), &[0.5, 0.0])
        .unwrap();
    let err = max_rel(&values(back.last()), &values(&x0));
    assert!(err < 1e-6, "forward then backward: {err:e}");
}

#[test]
fn host_path_runs_every_activation_like_the_tensor_path() {
    // The engine behind the host path is not limited to tanh: smooth activations whose
    // derivative is not a function of their value (SiLU, softplus, sin) have no hand-written
    // tensor backward and are checked against burn's autodiff graph.
    for backend in [Backend::Flex, Backend::Ndarray] {
        if !sysdyn_testing::test_backends().contains(&backend) {
            continue;
        }
        for (precision, tol) in [(Precision::F64, 1e-13), (Precision::F32, 2e-6)] {
            let device = DeviceSpec::new(backend, precision)
                .with_autodiff(true)
                .init()
                .unwrap();
            for activation in [
                Activation::Silu,
                Activation::Softplus,
                Activation::Sin,
                Activation::Sigmoid,
            ] {
                let widths = [3, 40, 24, 2];
                let flat = random_params(&widths, 7, 2.0);
                let field =
                    MlpField::time_dependent(mlp_from_flat(&device, &widths, &flat, activation));
                let prepared = field.prepare();
                let (x, c) = (batch(&device, 301, 8), batch(&device, 301, 9));
                // The prepared field takes the host path, not burn's graph.
                assert!(matches!(
                    prepared.taped(0.6, x.clone()).tape,
                    sysdyn_nodes::Tape::Host(_)
                ));
                let host = vjp(&prepared, 0.6, x.clone(), c.clone());
                let tensor = vjp(&field, 0.6, x.clone(), c);
                for (part, (h, t)) in ["value", "state VJP", "parameter VJP"]
                    .iter()
                    .zip(host.iter().zip(&tensor))
                {
                    let err = max_rel(h, t);
                    assert!(
                        err < tolerance(backend, precision, activation, tol),
                        "{backend} {precision} {activation:?} {part}: {err:e}"
                    );
                }
                let valid = burn::module::Module::valid(&field).prepare();
                let plain = values(&valid.field(0.6, x.inner()));
                assert!(max_rel(&plain, &host[0]) < tol);
            }
        }
    }
}

/// `tol`, except where the tensor path itself is only single-precision accurate: burn's generic
/// `sigmoid` (ndarray's; also under SiLU and in softplus' derivative) casts to f32 and back, so
/// in f64 the tensor path's sigmoid-based activations carry f32 rounding (about 1e-7 relative).
fn tolerance(
    backend: sysdyn_core::device::Backend,
    precision: Precision,
    activation: Activation,
    tol: f64,
) -> f64 {
    let f32_sigmoid = backend == sysdyn_core::device::Backend::Ndarray
        && precision == Precision::F64
        && matches!(
            activation,
            Activation::Silu | Activation::Sigmoid | Activation::Softplus
        );
    if f32_sigmoid { 2e-6 } else { tol }
}
