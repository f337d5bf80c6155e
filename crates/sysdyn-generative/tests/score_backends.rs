//! One code base on every backend: an MLP score model built from the same seed gives the same
//! DSM and NCSN losses, reverse-SDE, predictor–corrector, annealed-Langevin and
//! probability-flow samples, and flow log-likelihoods on every compiled test backend
//! (`SYSDYN_TEST_BACKENDS` restricts them), in f32.

use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, MlpConfig};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::score::{
    AnnealedLangevin, DenoisingScoreMatching, Divergence, ForwardSde, ModelNoiseScore, ModelScore,
    NoiseLevels, PredictorCorrector, ProbabilityFlow, ReverseMethod, ReverseSdeSampler, Weighting,
};
use sysdyn_testing::test_devices_f32;

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

fn outputs(d: &SysDevice) -> Vec<Vec<f64>> {
    let model = MlpConfig::new(vec![3, 16, 2])
        .with_activation(Activation::Tanh)
        .init_seeded(d, 1)
        .unwrap();
    let x = d.tensor(SeededRng::new(2).normals(16), [8, 2]).unwrap();
    let sde = ForwardSde::vp_default();
    let dsm = DenoisingScoreMatching::new(sde, Weighting::Likelihood, 1e-3).unwrap();
    let dsm_loss = dsm.loss(&model, x.clone(), &mut SeededRng::new(3)).unwrap();
    let levels = NoiseLevels::geometric(1.0, 0.1, 3).unwrap();
    let ncsn_loss = levels
        .loss(&model, x.clone(), &mut SeededRng::new(4))
        .unwrap();
    let reverse = ReverseSdeSampler::new(sde, ReverseMethod::EulerMaruyama, 20, 1e-3)
        .unwrap()
        .sample(&mut ModelScore(&model), x.clone(), 5)
        .unwrap()
        .0;
    let pc = PredictorCorrector::new(sde, 10, 1, 0.16, 1e-3)
        .unwrap()
        .sample(&mut ModelScore(&model), x.clone(), 6)
        .unwrap()
        .0;
    let langevin = AnnealedLangevin::new(1e-3, 5, true)
        .unwrap()
        .sample(
            &levels,
            &mut ModelNoiseScore(&model),
            x.clone(),
            &mut SeededRng::new(7),
        )
        .unwrap();
    let flow = ProbabilityFlow::new(sde, 1e-3, 1e-5, 1e-5).unwrap();
    let flow_sample = flow.sample(&mut ModelScore(&model), x.clone()).unwrap().0;
    let likelihood = flow
        .log_likelihood(&mut ModelScore(&model), x, Divergence::Exact)
        .unwrap()
        .log_density_under_prior(&sde);
    vec![
        host(dsm_loss),
        host(ncsn_loss),
        host(reverse),
        host(pc),
        host(langevin),
        host(flow_sample),
        likelihood,
    ]
}

#[test]
fn score_models_and_samplers_compute_the_same_on_every_backend() {
    let names = [
        "DSM loss",
        "NCSN loss",
        "reverse SDE",
        "PC",
        "annealed Langevin",
        "PF-ODE sample",
        "PF-ODE log-likelihood",
    ];
    let devices = test_devices_f32(true);
    let reference = outputs(&devices[0]);
    for d in &devices[1..] {
        let other = outputs(d);
        for ((name, a), b) in names.iter().zip(&reference).zip(&other) {
            assert_eq!(a.len(), b.len(), "{name} on {}", d.spec());
            let scale = a.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
            let worst = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f64::max);
            assert!(
                worst <= 1e-3 * scale,
                "{name}: {} differs from {} by {worst} (scale {scale})",
                d.spec(),
                devices[0].spec()
            );
        }
    }
}
