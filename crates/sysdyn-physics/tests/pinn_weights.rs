//! Learning-rate annealing of the condition weights (Wang, Teng & Perdikaris 2021): after one
//! update with factor α, `w_i = (1 − α) + α max|∇L_r| / mean|∇L_i|`, the gradients here taken by
//! central finite differences of the loss parts over every network parameter, independently of
//! the autodiff path the step uses; a checkpoint restores them with the network.

use std::f64::consts::PI;
use std::sync::OnceLock;

use burn::optim::AdamConfig;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_optim::lbfgs::{flatten_parameters, set_parameters};
use sysdyn_physics::pinn::collocation::{face, sample};
use sysdyn_physics::pinn::{
    Condition, Domain, PinnNetwork, PinnNetworkConfig, PinnProblem, PinnStep, Sampler,
};
use sysdyn_train::{Checkpointable, Optim, StepContext, TrainConfig, TrainStep};

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

#[test]
fn annealed_weights_follow_the_gradient_statistics() {
    let dev = device();
    let domain = Domain::time_space(&[(0.0, 1.0)], (0.0, 1.0)).unwrap();
    let mut rng = SeededRng::new(9);
    let collocation = sample(&domain, Sampler::LatinHypercube, 40, &mut rng).unwrap();
    let initial = face(&domain, 1, false, Sampler::LatinHypercube, 10, &mut rng).unwrap();
    let u0: Vec<f64> = initial.column(0).iter().map(|&x| (PI * x).sin()).collect();
    let left = face(&domain, 0, false, Sampler::Uniform, 8, &mut rng).unwrap();
    let alpha = 0.4;
    let problem = PinnProblem::new(domain, &[(0, 0)], collocation, |p| {
        Ok(p.u.d(1)? - p.u.d2(0, 0)?)
    })
    .unwrap()
    .with_condition(Condition::initial("u(x, 0)", initial, u0).unwrap(), 1.0)
    .unwrap()
    .with_condition(
        Condition::neumann("u_x(0, t)", left, 0, vec![PI; 8]).unwrap(),
        1.0,
    )
    .unwrap()
    .with_annealing(alpha, 5)
    .unwrap();
    let net = PinnNetworkConfig::new(2, vec![5, 5], 1)
        .with_seed(2)
        .init(&dev, None)
        .unwrap();

    // Gradients of each loss part by central differences.
    let loss = problem.prepare(&dev).unwrap();
    let parts = |n: &PinnNetwork| -> Vec<f64> {
        let p = loss.parts(n, &[]).unwrap();
        let mut v = vec![p.residual.into_scalar::<f64>()];
        v.extend(p.conditions.into_iter().map(|c| c.into_scalar::<f64>()));
        v
    };
    let theta = flatten_parameters(&net).unwrap();
    let h = 1e-6;
    let mut grads = vec![Vec::new(); 3];
    for j in 0..theta.len() {
        let mut plus = theta.clone();
        plus[j] += h;
        let mut minus = theta.clone();
        minus[j] -= h;
        let (fp, fm) = (
            parts(&set_parameters(net.clone(), &plus).unwrap()),
            parts(&set_parameters(net.clone(), &minus).unwrap()),
        );
        for k in 0..3 {
            grads[k].push((fp[k] - fm[k]) / (2.0 * h));
        }
    }
    let max_residual = grads[0].iter().fold(0.0f64, |m, g| m.max(g.abs()));
    let expected: Vec<f64> = grads[1..]
        .iter()
        .map(|g| {
            let mean = g.iter().map(|v| v.abs()).sum::<f64>() / g.len() as f64;
            (1.0 - alpha) + alpha * max_residual / mean
        })
        .collect();

    let mut step =
        PinnStep::new(dev, net, Optim::new(AdamConfig::new().build()), &problem).unwrap();
    assert_eq!(step.weights(), &[1.0, 1.0]);
    // Step 0 is a multiple of the period: the weights are updated before the Adam step.
    let report = step
        .step(&mut StepContext::new(&TrainConfig::new(2), 0))
        .unwrap();
    let weights = step.weights().to_vec();
    for (w, e) in weights.iter().zip(&expected) {
        assert!(
            (w - e).abs() < 1e-6 * e.abs(),
            "{weights:?} vs {expected:?}"
        );
    }
    assert!(report.loss.is_finite());
    // Step 1 is not: the weights stay.
    step.step(&mut StepContext::new(&TrainConfig::new(2), 1))
        .unwrap();
    assert_eq!(step.weights(), &weights[..]);

    // A checkpoint restores the network, the optimizer and the annealed weights.
    let dir = std::env::temp_dir().join(format!("sysdyn-pinn-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    step.save_checkpoint(&dir).unwrap();
    let other = PinnNetworkConfig::new(2, vec![5, 5], 1)
        .with_seed(77)
        .init(&device(), None)
        .unwrap();
    let mut restored = PinnStep::new(
        device(),
        other,
        Optim::new(AdamConfig::new().build()),
        &problem,
    )
    .unwrap();
    assert_ne!(restored.loss_value().unwrap(), step.loss_value().unwrap());
    restored.load_checkpoint(&dir).unwrap();
    assert_eq!(restored.weights(), step.weights());
    assert_eq!(restored.loss_value().unwrap(), step.loss_value().unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}
