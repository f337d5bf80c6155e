//! One code base on every backend: W3's ε-network (conditional, guided), ancestral and DDIM
//! sampling with the network and with the exact mixture noise, and DdpmStep's first loss give
//! the same numbers on every compiled test backend (`SYSDYN_TEST_BACKENDS` restricts them), in
//! f32; every random draw is made on the host, so the runs are comparable draw for draw.

mod common;

use burn::optim::AdamConfig;
use common::{assert_same_on_every_backend, host};
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::diffusion::{
    AncestralVariance, DdpmConfig, DdpmStep, EpsNetConfig, Guided, MixtureNoise, NoisePredictor,
    NoiseSchedule, sample_ancestral, sample_ddim,
};
use sysdyn_generative::inputs::DataSampler;
use sysdyn_generative::mixture::GaussianMixture;
use sysdyn_train::{Optim, StepContext, TrainConfig, TrainStep};

fn outputs(d: &SysDevice) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    let net = EpsNetConfig::w3()
        .with_classes(4)
        .init_seeded(d, 1)
        .unwrap();
    let x = d.tensor(SeededRng::new(2).normals(10), [5, 2]).unwrap();
    out.push(host(
        net.forward(x.clone(), &[0, 1, 10, 500, 999], Some(&[0, 1, 2, 3, 0]))
            .unwrap(),
    ));
    let mut guided = Guided::new(&net, vec![3, 2, 1, 0, 3], 2.0).unwrap();
    out.push(host(guided.predict(x.clone(), 250).unwrap()));

    let schedule = NoiseSchedule::linear(20, 1e-3, 0.2).unwrap();
    let mut rng = SeededRng::new(3);
    let start = d.randn(&mut rng, [5, 2]);
    let mut predictor = &net;
    out.push(host(
        sample_ancestral(
            &schedule,
            &mut predictor,
            start.clone(),
            AncestralVariance::Beta,
            &mut rng,
        )
        .unwrap(),
    ));
    let mixture = GaussianMixture::circle(8, 2.0, 0.1).unwrap();
    let mut exact = MixtureNoise {
        mixture: &mixture,
        schedule: &schedule,
    };
    out.push(host(
        sample_ddim(&schedule, &mut exact, start, &[0, 5, 12, 19], 0.5, &mut rng).unwrap(),
    ));

    let data: DataSampler = Box::new(|rng: &mut SeededRng, rows| rng.normals(2 * rows));
    let mut step = DdpmStep::new(
        d.clone(),
        EpsNetConfig::w3().init_seeded(d, 4).unwrap(),
        Optim::new(AdamConfig::new().build()),
        NoiseSchedule::ddpm_linear(),
        DdpmConfig::new(16),
        data,
    )
    .unwrap();
    let report = step
        .step(&mut StepContext::new(&TrainConfig::new(1), 0))
        .unwrap();
    out.push(vec![report.loss]);
    out
}

#[test]
fn diffusion_computes_the_same_on_every_backend() {
    assert_same_on_every_backend(outputs, true, &[], 1e-4, true);
}
