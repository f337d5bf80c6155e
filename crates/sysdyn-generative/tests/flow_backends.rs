//! One code base on every backend: the flow layers and models built from the same seeds give
//! the same latents, log-determinants, densities and samples on every compiled test backend
//! (`SYSDYN_TEST_BACKENDS` restricts them), in f32; the noise is drawn on the host, so samples
//! compare draw for draw.

mod common;

use common::{assert_same_on_every_backend, host};
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::Activation;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::flow::Flow;
use sysdyn_generative::flow::actnorm::ActNorm;
use sysdyn_generative::flow::base::{
    BaseDistribution, DiagonalGaussian, StandardLogistic, StandardNormal,
};
use sysdyn_generative::flow::chain::{Chain, VectorLayer};
use sysdyn_generative::flow::conv1x1::InvertibleConv1x1;
use sysdyn_generative::flow::coupling::{
    AdditiveCoupling, AffineCoupling, Parity, ScaleBound, SplitAffineCoupling,
};
use sysdyn_generative::flow::model::FlowModel;
use sysdyn_generative::flow::multiscale::MultiScaleConfig;
use sysdyn_generative::flow::revnet::RevNetBlock;

fn outputs(d: &SysDevice) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    let flow = Chain::new(vec![
        VectorLayer::ActNorm(ActNorm::from_scale(d, &[0.1, -0.2, 0.3], &[1.2, 0.8, 1.1]).unwrap()),
        VectorLayer::Linear(InvertibleConv1x1::new(d, 3, 1).unwrap()),
        VectorLayer::Affine(
            AffineCoupling::new(d, 3, &[8], Parity::Even, ScaleBound::Exp, 2, 2).unwrap(),
        ),
        VectorLayer::Additive(AdditiveCoupling::new(d, 3, &[8], Parity::Odd, 2, 3).unwrap()),
        VectorLayer::SplitAffine(
            SplitAffineCoupling::new(
                d,
                3,
                &[8],
                Activation::Relu,
                Parity::Odd,
                ScaleBound::Tanh { bound: 1.0 },
                2,
                4,
            )
            .unwrap(),
        ),
        VectorLayer::RevNet(RevNetBlock::new(d, 3, &[8], 2, 5).unwrap()),
    ]);
    let context = d.tensor(SeededRng::new(6).normals(8), [4, 2]).unwrap();
    let x = d.tensor(SeededRng::new(7).normals(12), [4, 3]).unwrap();
    let z = flow.forward(x, Some(&context)).unwrap();
    out.push(host(z.value.clone()));
    out.push(host(z.log_det));
    out.push(host(flow.inverse(z.value, Some(&context)).unwrap().value));
    let model = FlowModel::new(
        DiagonalGaussian::from_values(d, &[0.1, 0.2, -0.3], &[0.0, 0.2, -0.1]).unwrap(),
        flow,
    );
    let sample = model
        .sample(d, [4, 3], Some(&context), &mut SeededRng::new(8))
        .unwrap();
    out.push(host(sample.value));
    out.push(host(sample.log_prob));
    let z = d.tensor(SeededRng::new(9).normals(6), [2, 3]).unwrap();
    out.push(host(
        StandardNormal::new(3).unwrap().log_prob(z.clone()).unwrap(),
    ));
    out.push(host(StandardLogistic::new(3).unwrap().log_prob(z).unwrap()));
    // A multi-scale image flow with ActNorm initialised on the batch.
    let images = d
        .tensor(SeededRng::new(10).uniforms(2 * 64), [2, 1, 8, 8])
        .unwrap();
    let multiscale = MultiScaleConfig::new([1, 8, 8], 2, 2, vec![4])
        .init(d, 11)
        .unwrap()
        .initialise(images.clone(), None)
        .unwrap();
    let z = multiscale.forward(images, None).unwrap();
    out.push(host(z.value));
    out.push(host(z.log_det));
    out
}

#[test]
fn every_flow_computes_the_same_on_every_backend() {
    assert_same_on_every_backend(outputs, false, &[], 1e-4, true);
}
