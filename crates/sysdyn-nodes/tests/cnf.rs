//! Continuous normalizing flows: the exact change of variables for a linear field, the
//! unbiasedness of Hutchinson's estimator, and adjoint gradients of a flow.

mod common;

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use common::*;
use sysdyn_core::device::{DeviceSpec, Precision, SysDevice};
use sysdyn_core::jet::Activation;
use sysdyn_core::rng::SeededRng;
use sysdyn_nodes::{
    AdjointOptions, Cnf, CnfDynamics, DivergenceField, MlpField, NeuralField, NodeError, Probe,
    Sensitivity, TraceEstimator, negative_log_likelihood,
};
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::{DOPRI5, RK4};

/// `f(z) = A z` (rows: `z Aᵀ`), with divergence `tr A` and Jacobian-vector product `A v`.
#[derive(Module, Debug)]
struct LinearField {
    a: Param<Tensor<2>>,
}

impl NeuralField for LinearField {
    fn field(&self, _t: f64, z: Tensor<2>) -> Tensor<2> {
        z.matmul(self.a.val().transpose())
    }
}

impl DivergenceField for LinearField {
    fn dim(&self) -> usize {
        self.a.val().dims()[0]
    }

    fn field_and_divergence(
        &self,
        t: f64,
        z: Tensor<2>,
    ) -> Result<(Tensor<2>, Tensor<2>), NodeError> {
        let [batch, d] = z.dims();
        let a = self.a.val();
        let trace = (1..d)
            .fold(a.clone().slice([0..1, 0..1]), |acc, i| {
                acc + a.clone().slice([i..i + 1, i..i + 1])
            })
            .expand([batch, 1]);
        Ok((self.field(t, z), trace))
    }

    fn field_and_jvp(
        &self,
        t: f64,
        z: Tensor<2>,
        v: Tensor<2>,
    ) -> Result<(Tensor<2>, Tensor<2>), NodeError> {
        Ok((self.field(t, z), v.matmul(self.a.val().transpose())))
    }
}

fn cpu_f64(autodiff: bool) -> Vec<SysDevice> {
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

/// `exp(M)` of a small dense matrix by scaling and squaring of the Taylor series.
fn expm(m: &[f64], d: usize) -> Vec<f64> {
    let norm: f64 = m.iter().map(|v| v.abs()).sum();
    let squarings = (norm.max(1.0).log2().ceil() as i32 + 1).max(0);
    let scale = 0.5f64.powi(squarings);
    let a: Vec<f64> = m.iter().map(|v| v * scale).collect();
    let matmul = |x: &[f64], y: &[f64]| -> Vec<f64> {
        let mut out = vec![0.0; d * d];
        for i in 0..d {
            for k in 0..d {
                for j in 0..d {
                    out[i * d + j] += x[i * d + k] * y[k * d + j];
                }
            }
        }
        out
    };
    let mut result: Vec<f64> = (0..d * d)
        .map(|i| if i / d == i % d { 1.0 } else { 0.0 })
        .collect();
    let mut term = result.clone();
    for n in 1..30 {
        term = matmul(&term, &a).iter().map(|v| v / n as f64).collect();
        for (r, t) in result.iter_mut().zip(&term) {
            *r += t;
        }
    }
    for _ in 0..squarings {
        result = matmul(&result, &result);
    }
    result
}

fn log_normal(z: &[f64]) -> f64 {
    -0.5 * z.iter().map(|v| v * v).sum::<f64>()
        - 0.5 * z.len() as f64 * (2.0 * std::f64::consts::PI).ln()
}

#[test]
fn linear_flow_log_density_is_the_exact_change_of_variables() {
    let a = [0.3, -1.1, 0.8, -0.4];
    let flow_time = 1.5;
    let trace = a[0] + a[3];
    let forward = expm(&a.map(|v| v * flow_time), 2);
    let backward = expm(&a.map(|v| -v * flow_time), 2);
    let points = [0.5, -1.0, 1.2, 0.3, -0.8, 2.0];
    for device in cpu_f64(false) {
        let field = LinearField {
            a: Param::from_tensor(device.tensor(a.to_vec(), [2, 2]).unwrap()),
        };
        let mut cnf = Cnf::new(
            field,
            TraceEstimator::Exact,
            DOPRI5,
            SolveConfig::adaptive(1e-12, 1e-12),
        )
        .with_flow_time(flow_time)
        .unwrap();
        let mut rng = SeededRng::new(0);
        let x = device.tensor(points.to_vec(), [3, 2]).unwrap();
        let pass = cnf.log_density(x.clone(), &mut rng).unwrap();
        let log_p = values(&pass.log_density);
        let latents = values(&pass.points);
        for (i, p) in points.chunks(2).enumerate() {
            // z(T) = e^{TA} x, log p(x) = log N(z(T)) + T tr A.
            let z = [
                forward[0] * p[0] + forward[1] * p[1],
                forward[2] * p[0] + forward[3] * p[1],
            ];
            let exact = log_normal(&z) + flow_time * trace;
            eprintln!(
                "{}: linear flow log p error {:.1e}",
                device.spec(),
                (log_p[i] - exact).abs()
            );
            assert!(
                (log_p[i] - exact).abs() < 1e-8,
                "{}: log p = {} vs exact {exact}",
                device.spec(),
                log_p[i]
            );
            assert!((latents[2 * i] - z[0]).abs() < 1e-9);
            assert!((latents[2 * i + 1] - z[1]).abs() < 1e-9);
        }
        // Sampling runs the flow backwards: x = e^{-TA} z, and z = e^{TA} x gives
        // log q(x) = log N(z) + log det e^{TA} = log N(z) + T tr A.
        let z = device.tensor(points.to_vec(), [3, 2]).unwrap();
        let pass = cnf.sample(z, &mut rng).unwrap();
        let log_q = values(&pass.log_density);
        let samples = values(&pass.points);
        for (i, p) in points.chunks(2).enumerate() {
            let x = [
                backward[0] * p[0] + backward[1] * p[1],
                backward[2] * p[0] + backward[3] * p[1],
            ];
            let exact = log_normal(p) + flow_time * trace;
            assert!(
                (log_q[i] - exact).abs() < 1e-8,
                "{}: log q = {} vs exact {exact}",
                device.spec(),
                log_q[i]
            );
            assert!((samples[2 * i] - x[0]).abs() < 1e-9);
            assert!((samples[2 * i + 1] - x[1]).abs() < 1e-9);
        }
    }
}

#[test]
fn hutchinson_estimate_is_unbiased() {
    let device = &cpu_f64(false)[0];
    let widths = [3, 16, 16, 2];
    let mlp = mlp_from_flat(
        device,
        &widths,
        &random_params(&widths, 7, 2.0),
        Activation::Tanh,
    );
    let points = [0.4, -0.3, -1.0, 0.8, 1.5, 1.1];
    let repeats = 20_000;
    let t = 0.35;
    let exact_dynamics =
        CnfDynamics::new(MlpField::time_dependent(mlp.clone()), TraceEstimator::Exact);
    let z_points = device.tensor(points.to_vec(), [3, 2]).unwrap();
    let (_, exact) = exact_dynamics.field_and_trace(t, z_points).unwrap();
    let exact = values(&exact);
    let tiled: Vec<f64> = (0..repeats).flat_map(|_| points).collect();
    let z = device.tensor(tiled, [3 * repeats, 2]).unwrap();
    let mut variances = Vec::new();
    for probe in [Probe::Gaussian, Probe::Rademacher] {
        let mut dynamics = CnfDynamics::new(
            MlpField::time_dependent(mlp.clone()),
            TraceEstimator::Hutchinson(probe),
        );
        let mut rng = SeededRng::new(11);
        let draws = probe.draw(&mut rng, 3 * repeats, 2);
        dynamics.set_probe(device.tensor(draws, [3 * repeats, 2]).unwrap());
        let (_, estimates) = dynamics.field_and_trace(t, z.clone()).unwrap();
        let estimates = values(&estimates);
        let mut variance_sum = 0.0;
        for (p, &exact_p) in exact.iter().enumerate() {
            let sample: Vec<f64> = estimates.iter().skip(p).step_by(3).copied().collect();
            let n = sample.len() as f64;
            let mean = sample.iter().sum::<f64>() / n;
            let var = sample.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
            let standard_error = (var / n).sqrt();
            assert!(
                (mean - exact_p).abs() < 3.0 * standard_error,
                "{probe:?}, point {p}: mean {mean} vs exact {exact_p} (se {standard_error})"
            );
            variance_sum += var;
        }
        variances.push(variance_sum);
    }
    // Rademacher probes remove the diagonal's contribution to the variance.
    assert!(variances[1] < variances[0], "variances {variances:?}");
}

#[test]
fn flow_gradients_agree_between_backprop_and_the_adjoint() {
    let widths = [3, 8, 2];
    let flat = random_params(&widths, 9, 1.5);
    let data = [0.5, -0.2, -0.7, 0.9, 1.1, 0.1, 0.0, -1.3];
    for device in cpu_f64(true) {
        let mut grads = Vec::new();
        for sensitivity in [
            Sensitivity::Backprop,
            Sensitivity::BacksolveAdjoint(AdjointOptions::adaptive(1e-10, 1e-10)),
            Sensitivity::TapedBackprop,
        ] {
            let field =
                MlpField::time_dependent(mlp_from_flat(&device, &widths, &flat, Activation::Tanh));
            let mut cnf = Cnf::new(
                field,
                TraceEstimator::Exact,
                DOPRI5,
                SolveConfig::adaptive(1e-10, 1e-10),
            )
            .with_sensitivity(sensitivity);
            let x = device.tensor(data.to_vec(), [4, 2]).unwrap();
            let mut rng = SeededRng::new(1);
            let pass = cnf.log_density(x, &mut rng).unwrap();
            let loss = negative_log_likelihood(&pass);
            let g = pass.backward(&loss).unwrap();
            grads.push(flat_gradient(cnf.field(), &g.params));
        }
        let err = relative_error(&grads[1], &grads[0]);
        eprintln!("{}: flow adjoint vs backprop {err:.2e}", device.spec());
        assert!(err < 1e-6, "{}: adjoint vs backprop {err:e}", device.spec());
        // Taped backprop runs the fused host engine (field, exact trace and their VJP): the
        // same gradient as burn's autodiff through the jets.
        let err = relative_error(&grads[2], &grads[0]);
        eprintln!(
            "{}: flow taped (host engine) vs backprop {err:.2e}",
            device.spec()
        );
        assert!(err < 1e-12, "{}: taped vs backprop {err:e}", device.spec());
    }
}

#[test]
fn hutchinson_flows_train_with_fixed_steps() {
    // The estimator is a per-sample scalar like the exact trace: an RK4 flow with it runs and
    // its gradient is finite on every backend (f32 where f64 is not allowed).
    for device in sysdyn_testing::test_devices_f32(true) {
        let widths = [3, 8, 2];
        let field = MlpField::time_dependent(mlp_from_flat(
            &device,
            &widths,
            &random_params(&widths, 2, 1.0),
            Activation::Tanh,
        ));
        let mut cnf = Cnf::new(
            field,
            TraceEstimator::Hutchinson(Probe::Rademacher),
            RK4,
            SolveConfig::fixed(0.25),
        );
        let mut rng = SeededRng::new(3);
        let x = device.tensor(vec![0.1, 0.2, -0.3, 0.4], [2, 2]).unwrap();
        let pass = cnf.log_density(x, &mut rng).unwrap();
        assert_eq!(pass.nfe(), 16);
        let loss = negative_log_likelihood(&pass);
        let g = pass.backward(&loss).unwrap();
        let flat = flat_gradient(cnf.field(), &g.params);
        assert!(flat.iter().all(|v| v.is_finite()) && flat.iter().any(|v| *v != 0.0));
    }
}

#[test]
fn fused_flow_kernel_matches_jets_and_autodiff() {
    use sysdyn_nodes::ParamLayout;
    for backend in [
        sysdyn_core::device::Backend::Flex,
        sysdyn_core::device::Backend::Ndarray,
    ] {
        if !sysdyn_testing::test_backends().contains(&backend) {
            continue;
        }
        for (precision, tol) in [(Precision::F64, 1e-12), (Precision::F32, 3e-5)] {
            let device = DeviceSpec::new(backend, precision)
                .with_autodiff(true)
                .init()
                .unwrap();
            // Three hidden layers exercise every layer kind of the kernel.
            let widths = [3, 24, 20, 16, 2];
            let mlp = mlp_from_flat(
                &device,
                &widths,
                &random_params(&widths, 13, 2.0),
                Activation::Tanh,
            );
            let jets = CnfDynamics::new(MlpField::time_dependent(mlp), TraceEstimator::Exact);
            let fused = jets.prepare();
            let mut rng = SeededRng::new(3);
            let state = device.randn(&mut rng, [131, 3]);
            let cot = device.randn(&mut rng, [131, 3]);
            let layout = ParamLayout::of(&jets);
            let mut results = Vec::new();
            for dynamics in [&jets, &fused] {
                let taped = dynamics.taped(0.7, state.clone());
                let vjp = dynamics.vjp(taped.tape, cot.clone(), &layout);
                results.push([
                    values(&taped.value),
                    values(&vjp.state),
                    values(&vjp.params),
                ]);
            }
            for (part, (a, b)) in ["value", "state VJP", "parameter VJP"]
                .iter()
                .zip(results[1].iter().zip(&results[0]))
            {
                let err = relative_error(a, b);
                assert!(err < tol, "{backend} {precision} {part}: {err:e}");
            }
        }
    }
}

#[test]
fn fused_flow_runs_every_activation_like_jets_and_autodiff() {
    // The host engine's trace and its backward for activations other than tanh, and for an
    // autonomous field (no time column in the network's input).
    use sysdyn_nodes::ParamLayout;
    for backend in [
        sysdyn_core::device::Backend::Flex,
        sysdyn_core::device::Backend::Ndarray,
    ] {
        if !sysdyn_testing::test_backends().contains(&backend) {
            continue;
        }
        for (precision, tol) in [(Precision::F64, 1e-12), (Precision::F32, 3e-5)] {
            let device = DeviceSpec::new(backend, precision)
                .with_autodiff(true)
                .init()
                .unwrap();
            for (activation, time_dependent) in [
                (Activation::Silu, true),
                (Activation::Softplus, false),
                (Activation::Sin, true),
            ] {
                let widths: &[usize] = if time_dependent {
                    &[3, 24, 20, 16, 2]
                } else {
                    &[2, 24, 20, 16, 2]
                };
                let mlp =
                    mlp_from_flat(&device, widths, &random_params(widths, 17, 2.0), activation);
                let field = if time_dependent {
                    MlpField::time_dependent(mlp)
                } else {
                    MlpField::autonomous(mlp)
                };
                let jets = CnfDynamics::new(field, TraceEstimator::Exact);
                let fused = jets.prepare();
                let mut rng = SeededRng::new(5);
                let state = device.randn(&mut rng, [131, 3]);
                let cot = device.randn(&mut rng, [131, 3]);
                let layout = ParamLayout::of(&jets);
                // The prepared dynamics take the host engine, not jets and burn's graph.
                assert!(matches!(
                    fused.taped(0.7, state.clone()).tape,
                    sysdyn_nodes::Tape::Host(_)
                ));
                let mut results = Vec::new();
                for dynamics in [&jets, &fused] {
                    let taped = dynamics.taped(0.7, state.clone());
                    let vjp = dynamics.vjp(taped.tape, cot.clone(), &layout);
                    results.push([
                        values(&taped.value),
                        values(&vjp.state),
                        values(&vjp.params),
                    ]);
                }
                for (part, (a, b)) in ["value", "state VJP", "parameter VJP"]
                    .iter()
                    .zip(results[1].iter().zip(&results[0]))
                {
                    let err = relative_error(a, b);
                    assert!(
                        err < tolerance(backend, precision, activation, tol),
                        "{backend} {precision} {activation:?} {part}: {err:e}"
                    );
                }
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
