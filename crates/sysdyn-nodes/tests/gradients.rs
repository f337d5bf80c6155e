//! Gradients of a loss on states at several times, by every sensitivity, against central finite
//! differences and against each other (f64 on the CPU backends).

mod common;

use burn::tensor::Tensor;
use common::*;
use sysdyn_core::device::{DeviceSpec, Precision, SysDevice};
use sysdyn_core::jet::Activation;
use sysdyn_nodes::{AdjointOptions, MlpField, NeuralOde, Sensitivity};
use sysdyn_solvers::methods::{DOPRI5, RK4};
use sysdyn_solvers::{SolveConfig, tableau::ButcherTableau};

/// A time-dependent tanh MLP field `f([x, t])`, 2-dimensional state.
const WIDTHS: [usize; 4] = [3, 8, 8, 2];
const TIMES: [f64; 4] = [0.0, 0.3, 0.7, 1.2];

fn cpu_devices(autodiff: bool) -> Vec<SysDevice> {
    sysdyn_testing::test_backends()
        .into_iter()
        .filter(|b| b.supports_f64())
        .map(|b| {
            DeviceSpec::new(b, Precision::F64)
                .with_autodiff(autodiff)
                .init()
                .unwrap()
        })
        .collect()
}

fn field(device: &SysDevice, flat: &[f64]) -> MlpField {
    MlpField::time_dependent(mlp_from_flat(device, &WIDTHS, flat, Activation::Tanh))
}

fn initial_state(device: &SysDevice) -> Tensor<2> {
    device
        .tensor(vec![1.0, 0.5, -0.7, 0.2, 0.3, -1.1], [3, 2])
        .unwrap()
}

/// `Σ_i w_i Σ (x(t_i) - target_i)²` over the output times after the first, and a term on the
/// initial time (which only reaches the initial-state gradient).
fn loss(device: &SysDevice, states: &[Tensor<2>]) -> Tensor<1> {
    let mut total: Option<Tensor<1>> = None;
    for (i, state) in states.iter().enumerate() {
        let target = device
            .tensor(
                (0..6)
                    .map(|k| 0.3 * (k as f64 - 2.0) + 0.1 * i as f64)
                    .collect::<Vec<_>>(),
                [3, 2],
            )
            .unwrap();
        let term = (state.clone() - target)
            .square()
            .sum()
            .mul_scalar(1.0 + i as f64);
        total = Some(match total {
            Some(t) => t + term,
            None => term,
        });
    }
    total.unwrap()
}

fn gradient(
    device: &SysDevice,
    flat: &[f64],
    method: ButcherTableau,
    config: SolveConfig<Tensor<2>>,
    sensitivity: Sensitivity,
) -> (Vec<f64>, Vec<f64>, usize) {
    let node = NeuralOde::new(field(device, flat), method, config).with_sensitivity(sensitivity);
    let x0 = initial_state(device).require_grad();
    let trajectory = node.solve(x0, &TIMES).unwrap();
    let l = loss(device, trajectory.states());
    let grads = trajectory.backward(&l).unwrap();
    let flat_grad = flat_gradient(&node.field, &grads.params);
    let x0_grad = values(&grads.initial_state.expect("an initial-state gradient"));
    (flat_grad, x0_grad, grads.nfe_backward)
}

fn loss_value(device: &SysDevice, flat: &[f64], config: &SolveConfig<Tensor<2>>) -> f64 {
    let node = NeuralOde::new(field(device, flat), RK4, config.clone());
    let trajectory = node.solve(initial_state(device), &TIMES).unwrap();
    scalar(loss(device, trajectory.states()))
}

#[test]
fn backprop_through_the_solver_matches_central_differences() {
    let flat = random_params(&WIDTHS, 1, 1.5);
    let config = SolveConfig::fixed(0.1);
    for (device, plain) in cpu_devices(true).iter().zip(cpu_devices(false)) {
        let (grad, _, _) = gradient(device, &flat, RK4, config.clone(), Sensitivity::Backprop);
        let eps = 1e-6;
        let fd: Vec<f64> = (0..flat.len())
            .map(|k| {
                let mut plus = flat.clone();
                plus[k] += eps;
                let mut minus = flat.clone();
                minus[k] -= eps;
                (loss_value(&plain, &plus, &config) - loss_value(&plain, &minus, &config))
                    / (2.0 * eps)
            })
            .collect();
        let err = relative_error(&grad, &fd);
        eprintln!(
            "{}: backprop vs central differences {err:.2e}",
            device.spec()
        );
        assert!(
            err < 1e-6,
            "{}: backprop vs FD relative error {err:e}",
            device.spec()
        );
    }
}

#[test]
fn checkpointed_backprop_is_the_same_gradient() {
    let flat = random_params(&WIDTHS, 2, 1.5);
    for device in cpu_devices(true) {
        // Output times inside steps (0.3, 0.7 with dt = 0.25) exercise the interpolation.
        for (method, config) in [
            (RK4, SolveConfig::fixed(0.25)),
            (DOPRI5, SolveConfig::adaptive(1e-6, 1e-6)),
        ] {
            let (g_bp, x_bp, _) = gradient(
                &device,
                &flat,
                method,
                config.clone(),
                Sensitivity::Backprop,
            );
            for steps_per_segment in [1, 3] {
                let (g_ck, x_ck, nfe) = gradient(
                    &device,
                    &flat,
                    method,
                    config.clone(),
                    Sensitivity::CheckpointedBackprop { steps_per_segment },
                );
                let err = relative_error(&g_ck, &g_bp).max(relative_error(&x_ck, &x_bp));
                eprintln!(
                    "{} {} segment {steps_per_segment}: checkpointed vs plain backprop {err:.2e}",
                    device.spec(),
                    method.name
                );
                assert!(
                    err < 1e-12,
                    "{} {}: checkpointed backprop differs by {err:e}",
                    device.spec(),
                    method.name
                );
                assert!(nfe > 0);
            }
        }
    }
}

#[test]
fn taped_backprop_is_the_same_gradient() {
    // The MLP field's hand-written VJP (host engine on these CPU devices) through sysdyn's own
    // reverse sweep, against burn's autodiff through every operation.
    let flat = random_params(&WIDTHS, 6, 1.5);
    for device in cpu_devices(true) {
        for (method, config) in [
            (RK4, SolveConfig::fixed(0.25)),
            (DOPRI5, SolveConfig::adaptive(1e-6, 1e-6)),
        ] {
            let (g_bp, x_bp, nfe_bp) = gradient(
                &device,
                &flat,
                method,
                config.clone(),
                Sensitivity::Backprop,
            );
            let (g_tp, x_tp, nfe_tp) = gradient(
                &device,
                &flat,
                method,
                config.clone(),
                Sensitivity::TapedBackprop,
            );
            let err = relative_error(&g_tp, &g_bp).max(relative_error(&x_tp, &x_bp));
            eprintln!(
                "{} {}: taped vs burn backprop {err:.2e}, backward VJPs {nfe_tp} (forward NFE {nfe_bp})",
                device.spec(),
                method.name
            );
            assert!(err < 1e-12, "{} {}: {err:e}", device.spec(), method.name);
            // Rejected steps get no cotangent, so never more VJPs than forward evaluations.
            assert!(nfe_tp <= nfe_bp);
        }
    }
}

/// A field with no hand-written VJP: gradients come from burn's autodiff on a small graph per
/// evaluation.
#[derive(burn::module::Module, Debug)]
struct GraphField {
    mlp: sysdyn_core::jet::Mlp,
}

impl sysdyn_nodes::NeuralField for GraphField {
    fn field(&self, t: f64, x: Tensor<2>) -> Tensor<2> {
        self.mlp
            .forward(sysdyn_nodes::with_time_column(x, t))
            .unwrap()
    }
}

#[test]
fn any_burn_module_gets_the_same_adjoint_and_taped_gradients() {
    let flat = random_params(&WIDTHS, 8, 1.5);
    for device in cpu_devices(true) {
        let config = SolveConfig::adaptive(1e-7, 1e-7);
        for sensitivity in [
            Sensitivity::TapedBackprop,
            Sensitivity::BacksolveAdjoint(AdjointOptions::default()),
            Sensitivity::CheckpointedAdjoint {
                options: AdjointOptions::default(),
                steps_per_checkpoint: 2,
            },
        ] {
            let (g_mlp, x_mlp, _) =
                gradient(&device, &flat, DOPRI5, config.clone(), sensitivity.clone());
            let generic = GraphField {
                mlp: mlp_from_flat(&device, &WIDTHS, &flat, Activation::Tanh),
            };
            let node =
                NeuralOde::new(generic, DOPRI5, config.clone()).with_sensitivity(sensitivity);
            let trajectory = node
                .solve(initial_state(&device).require_grad(), &TIMES)
                .unwrap();
            let l = loss(&device, trajectory.states());
            let grads = trajectory.backward(&l).unwrap();
            let g_graph = flat_gradient(&node.field, &grads.params);
            let x_graph = values(&grads.initial_state.unwrap());
            let err = relative_error(&g_graph, &g_mlp).max(relative_error(&x_graph, &x_mlp));
            assert!(
                err < 1e-12,
                "{}: generic vs MLP field {err:e}",
                device.spec()
            );
        }
    }
}

#[test]
fn checkpointed_adjoint_matches_backprop_with_tight_tolerances() {
    let flat = random_params(&WIDTHS, 3, 1.5);
    for device in cpu_devices(true) {
        // Reference: the discrete gradient of a very accurate solve.
        let (g_bp, x_bp, _) = gradient(
            &device,
            &flat,
            DOPRI5,
            SolveConfig::adaptive(1e-12, 1e-12),
            Sensitivity::Backprop,
        );
        let adjoint = Sensitivity::CheckpointedAdjoint {
            options: AdjointOptions::adaptive(1e-12, 1e-12),
            steps_per_checkpoint: 4,
        };
        let (g_adj, x_adj, _) = gradient(
            &device,
            &flat,
            DOPRI5,
            SolveConfig::adaptive(1e-12, 1e-12),
            adjoint,
        );
        let err = relative_error(&g_adj, &g_bp);
        let err_x = relative_error(&x_adj, &x_bp);
        eprintln!(
            "{}: checkpointed adjoint vs backprop {err:.2e} (parameters), {err_x:.2e} (x0)",
            device.spec()
        );
        assert!(err < 1e-6, "{}: parameters {err:e}", device.spec());
        assert!(err_x < 1e-6, "{}: initial state {err_x:e}", device.spec());
    }
}

#[test]
fn backsolve_adjoint_matches_backprop_on_a_non_stiff_problem() {
    let flat = random_params(&WIDTHS, 4, 1.0);
    for device in cpu_devices(true) {
        let config = SolveConfig::adaptive(1e-8, 1e-8);
        let (g_bp, x_bp, _) = gradient(
            &device,
            &flat,
            DOPRI5,
            config.clone(),
            Sensitivity::Backprop,
        );
        let mut nfe = Vec::new();
        for seminorm in [false, true] {
            let options = AdjointOptions::adaptive(1e-8, 1e-8).seminorm(seminorm);
            let (g, x, n) = gradient(
                &device,
                &flat,
                DOPRI5,
                config.clone(),
                Sensitivity::BacksolveAdjoint(options),
            );
            let err = relative_error(&g, &g_bp).max(relative_error(&x, &x_bp));
            eprintln!(
                "{} seminorm={seminorm}: backsolve adjoint vs backprop {err:.2e}, backward NFE {n}",
                device.spec()
            );
            assert!(
                err < 1e-4,
                "{} seminorm={seminorm}: backsolve adjoint {err:e}",
                device.spec()
            );
            nfe.push(n);
        }
        // The seminorm never needs more backward evaluations here (fewer quantities limit
        // the step).
        assert!(nfe[1] <= nfe[0], "{}: NFE {nfe:?}", device.spec());
    }
}

#[test]
fn fixed_step_rk4_adjoint_converges_to_the_backprop_gradient() {
    // Same method and step backwards (the W2 set-up): both gradients approximate the
    // continuous one with fourth-order error, so they approach each other as dt shrinks.
    let flat = random_params(&WIDTHS, 5, 1.0);
    let device = &cpu_devices(true)[0];
    let errors: Vec<f64> = [0.1, 0.05, 0.025]
        .iter()
        .map(|&dt| {
            let config = SolveConfig::fixed(dt);
            let (g_bp, _, _) = gradient(device, &flat, RK4, config.clone(), Sensitivity::Backprop);
            let (g_adj, _, _) = gradient(
                device,
                &flat,
                RK4,
                config,
                Sensitivity::BacksolveAdjoint(AdjointOptions::default()),
            );
            relative_error(&g_adj, &g_bp)
        })
        .collect();
    let order = sysdyn_testing::convergence_order(&[0.1, 0.05, 0.025], &errors);
    eprintln!("RK4 adjoint vs backprop: {errors:?}, order {order:.2}");
    assert!(
        order > 3.5,
        "RK4 adjoint vs backprop: errors {errors:?}, order {order}"
    );
}
