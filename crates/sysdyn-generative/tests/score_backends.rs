//! One code base on every backend: an MLP score model built from the same seed gives the same
//! DSM and NCSN losses, reverse-SDE, predictor–corrector, annealed-Langevin and
//! probability-flow samples, and flow log-likelihoods on every compiled test backend
//! (`SYSDYN_TEST_BACKENDS` restricts them), in f32.

mod common;

use common::{assert_same_on_every_backend, host};
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, MlpConfig};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::score::{
    AnnealedLangevin, DenoisingScoreMatching, Divergence, ForwardSde, ModelNoiseScore, ModelScore,
    NoiseLevels, PredictorCorrector, ProbabilityFlow, ReverseMethod, ReverseSdeSampler, Weighting,
};

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
    assert_same_on_every_backend(
        outputs,
        true,
        &[
            "DSM loss",
            "NCSN loss",
            "reverse SDE",
            "PC",
            "annealed Langevin",
            "PF-ODE sample",
            "PF-ODE log-likelihood",
        ],
        1e-3,
        false,
    );
}
