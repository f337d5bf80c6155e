//! The host path of a PINN loss ([`sysdyn_physics::pinn::host`]) against the tensor path, in
//! f64 on `flex:f64:autodiff`: the same loss and the same gradient of every network parameter
//! and physical parameter (1e-9 relative), on a Burgers-type problem with a mixed second
//! derivative and every kind of condition, on an inverse problem, and through `PinnStep`; a
//! residual reading a pair it did not request fails with the same typed error on both paths.

use std::f64::consts::PI;
use std::sync::OnceLock;

use burn::optim::{GradientsParams, SgdConfig};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::jet::JetError;
use sysdyn_core::rng::SeededRng;
use sysdyn_optim::Lbfgs;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::pinn::collocation::sample;
use sysdyn_physics::pinn::{
    Condition, Domain, FourierFeatures, PinnModel, PinnNetwork, PinnNetworkConfig, PinnProblem,
    PinnStep, Points, Sampler, host,
};
use sysdyn_train::{Optim, StepContext, TrainConfig, TrainStep};

fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut d: SysDevice = "flex:f64:autodiff"
                .parse::<DeviceSpec>()
                .unwrap()
                .init()
                .unwrap();
            d.configure_defaults().unwrap();
            d
        })
        .clone()
}

fn domain() -> Domain {
    Domain::time_space(&[(-1.0, 1.0)], (0.0, 1.0)).unwrap()
}

fn face(x: f64, n: usize) -> Points {
    Points::new(
        2,
        (0..n)
            .flat_map(|i| [x, (i as f64 + 0.5) / n as f64])
            .collect(),
    )
    .unwrap()
}

/// Burgers with an extra mixed term, `u_t + u u_x − ν u_xx + 0.1 u_xt`, with a data term, a
/// Dirichlet term, a Neumann term and a periodic term.
fn forward_problem() -> PinnProblem {
    let points = sample(
        &domain(),
        Sampler::Sobol { skip: 1 },
        150,
        &mut SeededRng::new(0),
    )
    .unwrap();
    let nu = 0.01 / PI;
    let initial = Points::new(
        2,
        (0..20)
            .flat_map(|i| [-1.0 + 2.0 * (i as f64 + 0.5) / 20.0, 0.0])
            .collect(),
    )
    .unwrap();
    let u0: Vec<f64> = initial
        .values()
        .chunks(2)
        .map(|p| -(PI * p[0]).sin())
        .collect();
    PinnProblem::new(domain(), &[(0, 0), (0, 1)], points, move |p| {
        let u = p.u;
        Ok(
            u.d(1)? + u.value() * u.d(0)? - u.d2(0, 0)?.mul_scalar(nu)
                + u.d2(1, 0)?.mul_scalar(0.1),
        )
    })
    .unwrap()
    .with_condition(Condition::data("u(x, 0)", initial, u0).unwrap(), 1.0)
    .unwrap()
    .with_condition(
        Condition::dirichlet("u(-1, t)", face(-1.0, 7), vec![0.0; 7]).unwrap(),
        2.0,
    )
    .unwrap()
    .with_condition(
        Condition::neumann("u_x(1, t)", face(1.0, 5), 0, vec![0.3; 5]).unwrap(),
        0.5,
    )
    .unwrap()
    .with_condition(
        Condition::periodic("u(-1) = u(1)", face(-1.0, 6), face(1.0, 6)).unwrap(),
        1.5,
    )
    .unwrap()
}

/// Burgers with unknown `λ0` (the advection factor) and `λ1` (the viscosity), and data.
fn inverse_problem() -> PinnProblem {
    let points = sample(
        &domain(),
        Sampler::Sobol { skip: 3 },
        120,
        &mut SeededRng::new(1),
    )
    .unwrap();
    let observed = sample(
        &domain(),
        Sampler::Sobol { skip: 200 },
        30,
        &mut SeededRng::new(2),
    )
    .unwrap();
    let values: Vec<f64> = observed
        .values()
        .chunks(2)
        .map(|p| -(PI * p[0]).sin() * (-p[1]).exp())
        .collect();
    PinnProblem::new(domain(), &[(0, 0)], points, |p| {
        let u = p.u;
        Ok(u.d(1)? + p.parameter(0)? * u.value() * u.d(0)? - p.parameter(1)? * u.d2(0, 0)?)
    })
    .unwrap()
    .with_parameters(vec![0.7, 0.05])
    .unwrap()
    .with_condition(Condition::data("u_obs", observed, values).unwrap(), 1.0)
    .unwrap()
}

fn network(seed: u64) -> PinnNetwork {
    PinnNetworkConfig::new(2, vec![12, 10, 12], 1)
        .with_seed(seed)
        .init(&device(), None)
        .unwrap()
}

fn weights(problem: &PinnProblem) -> Vec<f64> {
    match problem.weights() {
        sysdyn_physics::pinn::LossWeights::Fixed(w) => w.clone(),
        other => panic!("fixed weights expected, got {other:?}"),
    }
}

/// The gradient of every parameter as host values, in a fixed order: each layer's weight and
/// bias, then the physical parameters.
fn flat(model: &PinnModel<PinnNetwork>, grads: &GradientsParams) -> Vec<Vec<f64>> {
    let read = |t: Option<burn::tensor::Tensor<1>>| -> Vec<f64> {
        t.expect("a gradient for every parameter")
            .try_into_vec_as::<f64>()
            .unwrap()
    };
    let mut out = Vec::new();
    for layer in model.network.mlp().layers() {
        let w = grads.get::<2>(layer.weight.id).expect("a weight gradient");
        out.push(w.flatten::<1>(0, 1).try_into_vec_as::<f64>().unwrap());
        let b = layer.bias.as_ref().unwrap();
        out.push(read(grads.get::<1>(b.id)));
    }
    if let Some(p) = &model.physical {
        out.push(read(grads.get::<1>(p.id)));
    }
    out
}

/// Host and tensor paths on `problem`: the same loss parts and gradients.
fn compare(problem: &PinnProblem, seed: u64) {
    let device = device();
    let model = PinnModel::new(network(seed), problem, &device).unwrap();
    let loss = problem.prepare(&device).unwrap();
    let w = weights(problem);

    let parts = model.parts(&loss).unwrap();
    let total = parts.total(&w).unwrap();
    let tensor_value = total.clone().into_scalar::<f64>();
    let tensor_grads = GradientsParams::from_grads(total.backward(), &model);

    let host = host::loss_and_gradients(&model, &loss, &w)
        .expect("a plain MLP on flex takes the host path")
        .unwrap();
    assert!(
        (host.total - tensor_value).abs() <= 1e-12 * tensor_value.abs(),
        "loss {} vs {tensor_value}",
        host.total
    );
    let condition_values = |p: &sysdyn_physics::pinn::LossParts| -> Vec<f64> {
        p.conditions
            .iter()
            .map(|c| c.clone().into_scalar::<f64>())
            .collect()
    };
    for (a, b) in condition_values(&host.parts)
        .iter()
        .zip(condition_values(&parts))
    {
        assert!(
            (a - b).abs() <= 1e-12 * b.abs().max(1e-300),
            "condition {a} vs {b}"
        );
    }
    let (h, t) = (flat(&model, &host.grads), flat(&model, &tensor_grads));
    assert_eq!(h.len(), t.len());
    for (i, (hp, tp)) in h.iter().zip(&t).enumerate() {
        let scale = tp.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(
            scale > 1e-8,
            "parameter {i}: the gradient is not trivially zero"
        );
        for (a, b) in hp.iter().zip(tp) {
            assert!(
                (a - b).abs() <= 1e-9 * scale,
                "parameter tensor {i}: host {a} vs tensor {b}"
            );
        }
    }
}

#[test]
fn host_loss_and_gradient_equal_the_tensor_paths() {
    compare(&forward_problem(), 3);
}

#[test]
fn inverse_problem_gradients_equal_the_tensor_paths_lambda_included() {
    compare(&inverse_problem(), 4);
}

/// Three SGD steps (linear in the gradient) with the host engine, the default, and three
/// without give the same losses and physical parameters.
#[test]
fn pinn_step_takes_the_same_steps_on_both_paths() {
    let problem = inverse_problem();
    let run = |host: bool| -> Vec<f64> {
        let step = PinnStep::new(
            device(),
            network(5),
            Optim::new(SgdConfig::new().build()),
            &problem,
        )
        .unwrap();
        let mut step = if host {
            step
        } else {
            step.with_host_engine(false)
        };
        let config = TrainConfig::new(3);
        let mut losses: Vec<f64> = (0..3)
            .map(|i| {
                let mut ctx = StepContext::new(&config, i);
                ctx.lr = 0.1;
                step.step(&mut ctx).unwrap().loss
            })
            .collect();
        losses.extend(step.model().parameters().unwrap());
        losses
    };
    let (host, tensor) = (run(true), run(false));
    assert!(host[0] != host[2], "the steps move the model");
    for (a, b) in host.iter().zip(&tensor) {
        assert!((a - b).abs() <= 1e-9 * b.abs(), "host {a} vs tensor {b}");
    }
}

/// Five L-BFGS iterations evaluated on the host path and on the tensor path reach the same
/// loss and physical parameters.
#[test]
fn lbfgs_on_the_host_path_follows_the_tensor_path() {
    let problem = inverse_problem();
    let run = |host: bool| -> Vec<f64> {
        let mut step = PinnStep::new(
            device(),
            network(7),
            Optim::new(SgdConfig::new().build()),
            &problem,
        )
        .unwrap()
        .with_host_engine(host);
        let solver = Lbfgs::new(10).unwrap().with_max_iterations(5).unwrap();
        let report = step.lbfgs(&solver).unwrap();
        let mut out = vec![report.value, step.loss_value().unwrap()];
        out.extend(step.model().parameters().unwrap());
        out
    };
    let (host, tensor) = (run(true), run(false));
    assert!(
        host[0] < 0.9 * host_initial(&problem),
        "L-BFGS lowers the loss"
    );
    for (a, b) in host.iter().zip(&tensor) {
        assert!((a - b).abs() <= 1e-8 * b.abs(), "host {a} vs tensor {b}");
    }
}

fn host_initial(problem: &PinnProblem) -> f64 {
    PinnStep::new(
        device(),
        network(7),
        Optim::new(SgdConfig::new().build()),
        problem,
    )
    .unwrap()
    .loss_value()
    .unwrap()
}

/// Reading `u_tt` when only `u_xx` was requested is the same typed error on both paths; a
/// network with Fourier features is not a plain MLP and stays on the tensor path.
#[test]
fn an_unrequested_pair_is_a_typed_error_and_feature_maps_stay_on_tensors() {
    let points = sample(
        &domain(),
        Sampler::Sobol { skip: 1 },
        40,
        &mut SeededRng::new(0),
    )
    .unwrap();
    let problem = PinnProblem::new(domain(), &[(0, 0)], points, |p| {
        Ok(p.u.d2(1, 1)? - p.u.d2(0, 0)?)
    })
    .unwrap();
    let device = device();
    let model = PinnModel::new(network(6), &problem, &device).unwrap();
    let loss = problem.prepare(&device).unwrap();
    let host = host::loss_and_gradients(&model, &loss, &[]).expect("a plain MLP on flex");
    let is_missing = |e: &PhysicsError| matches!(e, PhysicsError::Jet(JetError::Missing { .. }));
    assert!(
        matches!(host, Err(ref e) if is_missing(e)),
        "host path: {:?}",
        host.err()
    );
    let tensor = model.parts(&loss);
    assert!(matches!(tensor, Err(ref e) if is_missing(e)), "tensor path");

    let fourier = FourierFeatures::gaussian(2, 4, 1.0, 0).unwrap();
    let featured = PinnNetworkConfig::new(2, vec![8], 1)
        .init(&device, Some(fourier))
        .unwrap();
    let model = PinnModel::new(featured, &forward_problem(), &device).unwrap();
    let loss = forward_problem().prepare(&device).unwrap();
    assert!(host::loss_and_gradients(&model, &loss, &weights(&forward_problem())).is_none());
}
