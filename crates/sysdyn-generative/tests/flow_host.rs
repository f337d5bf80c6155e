//! The host-engine RealNVP (flow/host.rs) computes what burn's autodiff computes on the tensor
//! path: the negative log-likelihood under a standard normal base and its gradient for every
//! parameter of every coupling, in f64 to 1e-10 (flex) and in f32 to 1e-5 (ndarray: burn fixes
//! one default float dtype per backend and process), relative to the largest entry; for ReLU
//! and tanh networks, tanh-bounded and unbounded scales, two and three features.

use std::sync::{Mutex, OnceLock};

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::jet::Activation;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::flow::base::StandardNormal;
use sysdyn_generative::flow::chain::Chain;
use sysdyn_generative::flow::coupling::{Parity, ScaleBound, SplitAffineCoupling};
use sysdyn_generative::flow::host::HostAffineChain;
use sysdyn_generative::flow::model::FlowModel;

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
