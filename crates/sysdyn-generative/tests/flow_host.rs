//! The host-engine RealNVP (flow/host.rs) computes what burn's autodiff computes on the tensor
//! path: the negative log-likelihood under a standard normal base and its gradient for every
//! parameter of every coupling, in f64 to 1e-10 (flex) and in f32 to 1e-5 (ndarray: burn fixes
//! one default float dtype per backend and process), relative to the largest entry; for ReLU
//! and tanh networks, tanh-bounded and unbounded scales, two and three features; and `FlowStep`
//! takes the host path by default with the tensor path's update.

use std::sync::{Mutex, OnceLock};

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{AdamConfig, GradientsParams, SgdConfig};
use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::jet::Activation;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::flow::base::StandardNormal;
use sysdyn_generative::flow::chain::Chain;
use sysdyn_generative::flow::coupling::{Parity, ScaleBound, SplitAffineCoupling};
use sysdyn_generative::flow::host::HostAffineChain;
use sysdyn_generative::flow::model::FlowModel;
use sysdyn_generative::flow::step::{FlowConfig, FlowObjective, FlowStep};
use sysdyn_optim::UpdateRule;
use sysdyn_train::{Checkpointable, Optim, StepContext, TrainConfig, TrainStep};

fn device(spec: &'static str) -> SysDevice {
    static DEVICES: OnceLock<Mutex<Vec<(&'static str, SysDevice)>>> = OnceLock::new();
    let mut devices = DEVICES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some((_, d)) = devices.iter().find(|(s, _)| *s == spec) {
        return d.clone();
    }
    let mut d: SysDevice = spec.parse::<DeviceSpec>().unwrap().init().unwrap();
    d.configure_defaults().unwrap();
    devices.push((spec, d.clone()));
    d
}

/// Every parameter's gradient in `a` against `b`: the largest difference and the largest entry.
struct Compare<'a> {
    a: &'a GradientsParams,
    b: &'a GradientsParams,
    worst: f64,
    scale: f64,
    params: usize,
}

impl ModuleVisitor for Compare<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let values = |g: &GradientsParams| -> Vec<f64> {
            g.get::<D>(param.id)
                .expect("every parameter has a gradient")
                .into_data()
                .convert::<f64>()
                .try_to_vec::<f64>()
                .unwrap()
        };
        let (a, b) = (values(self.a), values(self.b));
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            self.worst = self.worst.max((x - y).abs());
            self.scale = self.scale.max(y.abs());
        }
        self.params += 1;
    }
}

fn check(
    spec: &'static str,
    features: usize,
    activation: Activation,
    bound: ScaleBound,
    rtol: f64,
) {
    let device = device(spec);
    let layers = (0..4)
        .map(|l| {
            let parity = if l % 2 == 0 {
                Parity::Even
            } else {
                Parity::Odd
            };
            SplitAffineCoupling::new(
                &device,
                features,
                &[16, 16],
                activation,
                parity,
                bound,
                0,
                l,
            )
            .unwrap()
        })
        .collect();
    let model = FlowModel::new(StandardNormal::new(features).unwrap(), Chain::new(layers));
    let rows = 64;
    let x = SeededRng::new(5).normals(rows * features);
    let what = format!("{spec} {features} features {activation:?} {bound:?}");

    let host = HostAffineChain::new(&model.flow).expect("a CPU chain runs on the host");
    let (loss_host, grads_host) = host.nll_and_gradients(&model.flow, &x).unwrap();

    let xt = device.tensor(x, [rows, features]).unwrap();
    let loss = model.log_prob(xt, None).unwrap().mean().neg();
    let loss_tensor = loss.clone().into_scalar::<f64>();
    let grads_tensor = GradientsParams::from_grads(loss.backward(), &model);

    assert!(
        (loss_host - loss_tensor).abs() <= rtol * loss_tensor.abs(),
        "{what} loss: {loss_host} vs {loss_tensor}"
    );
    let mut compare = Compare {
        a: &grads_host,
        b: &grads_tensor,
        worst: 0.0,
        scale: 0.0,
        params: 0,
    };
    model.visit(&mut compare);
    // Four couplings, two networks each, three layers of weight and bias.
    assert_eq!(compare.params, 4 * 2 * 3 * 2, "{what}");
    assert!(compare.scale > 0.0, "{what}: zero gradient");
    assert!(
        compare.worst <= rtol * compare.scale,
        "{what} gradient: worst difference {} at scale {}",
        compare.worst,
        compare.scale
    );
}

#[test]
fn host_nll_and_gradients_match_burn_autodiff() {
    for (spec, rtol) in [("flex:f64:autodiff", 1e-10), ("ndarray:f32:autodiff", 1e-5)] {
        for features in [2, 3] {
            check(
                spec,
                features,
                Activation::Relu,
                ScaleBound::Tanh { bound: 1.0 },
                rtol,
            );
            check(spec, features, Activation::Tanh, ScaleBound::Exp, rtol);
        }
    }
}

#[test]
fn conditional_chains_keep_the_tensor_path() {
    let device = device("flex:f64:autodiff");
    let layer = SplitAffineCoupling::new(
        &device,
        2,
        &[8],
        Activation::Tanh,
        Parity::Even,
        ScaleBound::Exp,
        3,
        1,
    )
    .unwrap();
    assert!(HostAffineChain::new(&Chain::new(vec![layer])).is_none());
}

/// Every parameter of a module, flat, in visiting order.
struct Collect(Vec<f64>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.extend(
            param
                .val()
                .into_data()
                .convert::<f64>()
                .try_to_vec::<f64>()
                .unwrap(),
        );
    }
}

/// Four affine couplings on two features (ReLU networks 16-16, tanh-bounded scales) on a
/// standard normal base.
fn four_couplings(device: &SysDevice) -> FlowModel<StandardNormal, Chain<SplitAffineCoupling>> {
    let layers = (0..4)
        .map(|l| {
            let parity = if l % 2 == 0 {
                Parity::Even
            } else {
                Parity::Odd
            };
            let bound = ScaleBound::Tanh { bound: 1.0 };
            SplitAffineCoupling::new(device, 2, &[16, 16], Activation::Relu, parity, bound, 0, l)
                .unwrap()
        })
        .collect();
    FlowModel::new(StandardNormal::new(2).unwrap(), Chain::new(layers))
}

/// One `FlowStep` (SGD, learning rate 1): its loss and `θ_before − θ_after`, the gradient.
fn flow_step(host: bool) -> (f64, Vec<f64>) {
    let device = device("flex:f64:autodiff");
    let model = four_couplings(&device);
    let mut before = Collect(Vec::new());
    model.visit(&mut before);
    let mut step = FlowStep::new(
        device,
        model,
        Optim::new(SgdConfig::new().build()),
        FlowConfig::new([64, 2]).with_data_init(false),
        FlowObjective::MaximumLikelihood(Box::new(|rng: &mut SeededRng, rows| {
            rng.normals(2 * rows)
        })),
    )
    .unwrap()
    .with_host_engine(host);
    let config = TrainConfig::new(10);
    let mut ctx = StepContext::new(&config, 0);
    ctx.lr = 1.0;
    let loss = step.step(&mut ctx).unwrap().loss;
    let mut after = Collect(Vec::new());
    step.model().visit(&mut after);
    let grad = before.0.iter().zip(&after.0).map(|(b, a)| b - a).collect();
    (loss, grad)
}

#[test]
fn the_flow_step_takes_the_host_engine_with_the_same_update() {
    let (loss_host, grad_host) = flow_step(true);
    let (loss_tensor, grad_tensor) = flow_step(false);
    assert!((loss_host - loss_tensor).abs() <= 1e-10 * loss_tensor.abs());
    let scale = grad_tensor.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    assert!(scale > 0.0);
    for (h, t) in grad_host.iter().zip(&grad_tensor) {
        assert!((h - t).abs() <= 1e-10 * scale, "{h} vs {t}");
    }
}

/// `steps` Adam steps of a `FlowStep` on `rows` rows a step: the losses and the parameters
/// after them.
fn adam_steps(host: bool, rows: usize, steps: usize) -> (Vec<f64>, Vec<f64>) {
    let device = device("flex:f64:autodiff");
    let model = four_couplings(&device);
    let mut step = FlowStep::new(
        device,
        model,
        Optim::new(AdamConfig::new().with_epsilon(1e-8).build()),
        FlowConfig::new([rows, 2]).with_data_init(false),
        FlowObjective::MaximumLikelihood(Box::new(|rng: &mut SeededRng, rows| {
            rng.normals(2 * rows)
        })),
    )
    .unwrap()
    .with_host_engine(host);
    let config = TrainConfig::new(steps as u64);
    let losses = (0..steps)
        .map(|i| {
            let mut ctx = StepContext::new(&config, i as u64);
            ctx.lr = 1e-2;
            step.step(&mut ctx).unwrap().loss
        })
        .collect();
    let mut params = Collect(Vec::new());
    step.model().visit(&mut params);
    (losses, params.0)
}

/// Enough rows that the host engine splits them across the pool (each chunk runs the whole
/// chain, the parameter gradients are summed), and several Adam steps, so that a wrong chunk
/// sum or a stale host copy would show in the parameters.
#[test]
fn adam_steps_on_the_host_engine_equal_the_tensor_path() {
    let (rows, steps) = (517, 6);
    // Three workers, whatever the machine: three uneven chunks of rows.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let (losses_host, params_host) = pool.install(|| adam_steps(true, rows, steps));
    let (losses_tensor, params_tensor) = adam_steps(false, rows, steps);
    for (h, t) in losses_host.iter().zip(&losses_tensor) {
        assert!((h - t).abs() <= 1e-10 * t.abs(), "loss {h} vs {t}");
    }
    // The steps moved the parameters (lr 1e-2: by about 6e-2 each).
    let (_, initial) = adam_steps(false, rows, 0);
    let moved = initial
        .iter()
        .zip(&params_tensor)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(moved > 1e-2, "Adam moved the parameters by {moved}");
    let scale = params_tensor.iter().fold(0.0f64, |m, p| m.max(p.abs()));
    for (h, t) in params_host.iter().zip(&params_tensor) {
        assert!((h - t).abs() <= 1e-10 * scale, "{h} vs {t}");
    }
}

/// A four-coupling RealNVP (ReLU, tanh-bounded scales) on flex f64, trained by maximum
/// likelihood on 517 normal rows a step with sysdyn-optim's Adam (`BurnAdam`), on the host
/// (`host`: weights and moments in host memory) or the tensor path.
fn burn_adam_step(
    host: bool,
    clip: Option<f64>,
) -> (
    FlowStep<StandardNormal, Chain<SplitAffineCoupling>, sysdyn_optim::rules::BurnAdam, 2>,
    TrainConfig,
) {
    let device = device("flex:f64:autodiff");
    let model = four_couplings(&device);
    // β₁ = 7/8, β₂ = 15/16 and ε = 2⁻²⁷ are exact in f32 and so are their powers up to the
    // sixth: burn's f32 constants and bias corrections are then the host rule's, and the
    // two paths differ by rounding only.
    let adam = sysdyn_optim::Adam::new(0.875, 0.9375, 2f64.powi(-27)).unwrap();
    let step = FlowStep::new(
        device,
        model,
        Optim::new(adam.burn_optimizer()),
        FlowConfig::new([517, 2]).with_data_init(false),
        FlowObjective::MaximumLikelihood(Box::new(|rng: &mut SeededRng, rows| {
            rng.normals(2 * rows)
        })),
    )
    .unwrap()
    .with_host_engine(host);
    let mut config = TrainConfig::new(100);
    config.grad_clip_norm = clip;
    (step, config)
}

/// Steps `first..last` of `step`: the losses and reported gradient norms.
fn run_steps<S: TrainStep>(
    step: &mut S,
    config: &TrainConfig,
    steps: std::ops::Range<u64>,
) -> Vec<(f64, f64)> {
    steps
        .map(|i| {
            let mut ctx = StepContext::new(config, i);
            ctx.lr = 1e-2;
            let report = step.step(&mut ctx).unwrap();
            let norm = report
                .metrics
                .iter()
                .find(|(name, _)| name == "grad_norm")
                .map(|(_, v)| *v)
                .unwrap();
            (report.loss, norm)
        })
        .collect()
}

fn params_of<M: Module>(model: &M) -> Vec<f64> {
    let mut params = Collect(Vec::new());
    model.visit(&mut params);
    params.0
}

fn max_abs(values: &[f64]) -> f64 {
    values.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// With sysdyn-optim's Adam the whole step runs on the host (weights and moments stay there);
/// six steps follow burn's Adam on the tensor path: the losses to 1e-8 relative, the gradient
/// norms to 1e-6 (a ReLU network's gradient is the sensitive part) and the parameters to 1e-7
/// of their scale, with and without gradient clipping, and the clip is active. A lost or
/// restarted moment, a wrong clip factor or a stale weight moves a parameter by a whole step
/// (1e-2).
#[test]
fn adam_steps_wholly_on_the_host_follow_burns_adam() {
    for clip in [None, Some(0.05)] {
        let (mut host, config) = burn_adam_step(true, clip);
        let (mut tensor, _) = burn_adam_step(false, clip);
        let initial = params_of(tensor.model());
        let reports_host = run_steps(&mut host, &config, 0..6);
        let reports_tensor = run_steps(&mut tensor, &config, 0..6);
        for ((lh, nh), (lt, nt)) in reports_host.iter().zip(&reports_tensor) {
            assert!((lh - lt).abs() <= 1e-8 * lt.abs(), "loss {lh} vs {lt}");
            assert!((nh - nt).abs() <= 1e-6 * nt.abs(), "grad norm {nh} vs {nt}");
            if let Some(clip) = clip {
                assert!(*nt > 2.0 * clip, "the clip bites: norm {nt} > {clip}");
            }
        }
        let (ph, pt) = (params_of(host.model()), params_of(tensor.model()));
        let moved: Vec<f64> = initial.iter().zip(&pt).map(|(a, b)| a - b).collect();
        assert!(max_abs(&moved) > 1e-2, "Adam moved the parameters");
        let scale = max_abs(&pt);
        for (h, t) in ph.iter().zip(&pt) {
            assert!((h - t).abs() <= 1e-7 * scale, "{h} vs {t} (clip {clip:?})");
        }
    }
}

/// A checkpoint taken on the host path holds the host's weights and Adam state in burn's form:
/// resumed on the host it continues bit for bit (f64), resumed on the tensor path it continues
/// as burn's Adam would; handing the model out mutably (`model_mut`) and stepping on is the
/// same run too.
#[test]
fn host_adam_checkpoints_and_handoffs_continue_the_run() {
    let dir = std::env::temp_dir().join(format!("sysdyn-flow-host-adam-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let (mut straight, config) = burn_adam_step(true, None);
    let straight_reports = run_steps(&mut straight, &config, 0..6);
    let straight_params = params_of(straight.model());

    let (mut first, _) = burn_adam_step(true, None);
    run_steps(&mut first, &config, 0..3);
    first.save_checkpoint(&dir).unwrap();

    let (mut resumed, _) = burn_adam_step(true, None);
    resumed.load_checkpoint(&dir).unwrap();
    let resumed_reports = run_steps(&mut resumed, &config, 3..6);
    assert_eq!(&straight_reports[3..], &resumed_reports[..]);
    assert_eq!(params_of(resumed.model()), straight_params);

    let (mut on_tensors, _) = burn_adam_step(false, None);
    on_tensors.load_checkpoint(&dir).unwrap();
    let tensor_reports = run_steps(&mut on_tensors, &config, 3..6);
    // The first resumed loss is of the checkpoint's weights on both paths; the later ones
    // differ by rounding (see the test above).
    let (first_straight, first_tensor) = (straight_reports[3].0, tensor_reports[0].0);
    assert!((first_straight - first_tensor).abs() <= 1e-12 * first_straight.abs());
    for ((ls, _), (lt, _)) in straight_reports[3..].iter().zip(&tensor_reports) {
        assert!((ls - lt).abs() <= 1e-8 * ls.abs(), "loss {ls} vs {lt}");
    }
    let scale = max_abs(&straight_params);
    for (s, t) in straight_params.iter().zip(params_of(on_tensors.model())) {
        assert!((s - t).abs() <= 1e-7 * scale, "{s} vs {t}");
    }

    let (mut handed, _) = burn_adam_step(true, None);
    run_steps(&mut handed, &config, 0..3);
    let _ = handed.model_mut();
    run_steps(&mut handed, &config, 3..6);
    assert_eq!(params_of(handed.model()), straight_params);

    std::fs::remove_dir_all(&dir).unwrap();
}
