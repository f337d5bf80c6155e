//! Denoising score matching's minimiser is the true score. With the same draws of times and
//! noise, moving the exact score by a constant `δ` raises each row's term by
//! `½ λ (‖δ‖² + 2 δ·(s* − target))`, and the second part has mean zero (the conditional score
//! is the true score on average), so the loss rises by `½ ‖δ‖² E[λ]` within its standard
//! error. Checked for the variance and likelihood weightings and NCSN's per-level loss; and
//! the loss's bad input.

use std::sync::OnceLock;

use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::jet::{Activation, MlpConfig};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::score::{
    AnnealedLangevin, DenoisingScoreMatching, ForwardSde, ModelScore, NoiseLevels,
    PredictorCorrector, ReverseMethod, ReverseSdeSampler, ScoreFn, Weighting,
};

fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut device: SysDevice = "flex:f64:autodiff"
                .parse::<DeviceSpec>()
                .unwrap()
                .init()
                .unwrap();
            device.configure_defaults().unwrap();
            device
        })
        .clone()
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

const MU: [f64; 2] = [1.0, -2.0];
const VAR: [f64; 2] = [0.25, 2.25];
const ROWS: usize = 20_000;

fn data(seed: u64) -> Tensor<2> {
    let mut rng = SeededRng::new(seed);
    let values: Vec<f64> = (0..ROWS)
        .flat_map(|_| [0, 1])
        .map(|j| MU[j] + VAR[j].sqrt() * rng.normal())
        .collect();
    device().tensor(values, [ROWS, 2]).unwrap()
}

/// The exact score of `N(m μ, m² Σ + s² I)` with `(m, s)` per row, plus `shift`.
fn shifted_score(x: Tensor<2>, ms: &[(f64, f64)], shift: [f64; 2]) -> Tensor<2> {
    let (mut mean, mut var, mut offset) = (vec![], vec![], vec![]);
    for &(m, s) in ms {
        for j in 0..2 {
            mean.push(m * MU[j]);
            var.push(m * m * VAR[j] + s * s);
            offset.push(shift[j]);
        }
    }
    let d = device();
    let rows = ms.len();
    let t = |v: Vec<f64>| d.tensor(v, [rows, 2]).unwrap();
    (t(mean) - x) / t(var) + t(offset)
}

/// Mean and standard error of the per-row differences.
fn mean_and_se(diffs: &[f64]) -> (f64, f64) {
    let n = diffs.len() as f64;
    let mean = diffs.iter().sum::<f64>() / n;
    let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

const SHIFT: [f64; 2] = [0.3, -0.2];

#[test]
fn dsm_is_minimised_by_the_true_score() {
    for (sde, weighting) in [
        (ForwardSde::vp_default(), Weighting::Variance),
        (ForwardSde::vp_default(), Weighting::Likelihood),
        (ForwardSde::ve(0.01, 10.0).unwrap(), Weighting::Variance),
        (ForwardSde::sub_vp_default(), Weighting::Likelihood),
    ] {
        let dsm = DenoisingScoreMatching::new(sde, weighting, 1e-3).unwrap();
        let draw = |shift: [f64; 2]| {
            let score = |x: Tensor<2>, t: Tensor<2>| {
                let ms: Vec<(f64, f64)> = host(t).iter().map(|&t| sde.marginal(t)).collect();
                Ok(shifted_score(x, &ms, shift))
            };
            dsm.draw(score, data(1), &mut SeededRng::new(2)).unwrap()
        };
        let exact = draw([0.0, 0.0]);
        let shifted = draw(SHIFT);
        assert_eq!(exact.times, shifted.times);
        let diffs: Vec<f64> = host(shifted.rows)
            .iter()
            .zip(host(exact.rows))
            .map(|(a, b)| a - b)
            .collect();
        let (mean, se) = mean_and_se(&diffs);
        let shift_sq = SHIFT[0] * SHIFT[0] + SHIFT[1] * SHIFT[1];
        let expected = 0.5 * shift_sq * exact.times.iter().map(|&t| dsm.weight(t)).sum::<f64>()
            / exact.times.len() as f64;
        println!("{sde:?} {weighting:?}: loss rise {mean:.5} ± {se:.5}, expected {expected:.5}");
        assert!(mean > 0.0);
        assert!((mean - expected).abs() < 3.0 * se, "{mean} vs {expected}");
    }
}

#[test]
fn ncsn_loss_is_minimised_by_the_true_score() {
    let levels = NoiseLevels::geometric(5.0, 0.05, 6).unwrap();
    let draw = |shift: [f64; 2]| {
        let score = |x: Tensor<2>, sigma: Tensor<2>| {
            let ms: Vec<(f64, f64)> = host(sigma).iter().map(|&s| (1.0, s)).collect();
            Ok(shifted_score(x, &ms, shift))
        };
        host(levels.draw(score, data(3), &mut SeededRng::new(4)).unwrap())
    };
    let diffs: Vec<f64> = draw(SHIFT)
        .iter()
        .zip(draw([0.0, 0.0]))
        .map(|(a, b)| a - b)
        .collect();
    let (mean, se) = mean_and_se(&diffs);
    // Levels are uniform: E[λ(σ)] = mean of σ².
    let mean_sigma_sq = levels.sigmas().iter().map(|s| s * s).sum::<f64>() / 6.0;
    let expected = 0.5 * (SHIFT[0] * SHIFT[0] + SHIFT[1] * SHIFT[1]) * mean_sigma_sq;
    println!("NCSN: loss rise {mean:.5} ± {se:.5}, expected {expected:.5}");
    assert!((mean - expected).abs() < 3.0 * se, "{mean} vs {expected}");
}

#[test]
fn geometric_levels_are_geometric() {
    let levels = NoiseLevels::geometric(1.0, 0.01, 10).unwrap();
    let s = levels.sigmas();
    assert_eq!(s.len(), 10);
    assert!((s[0] - 1.0).abs() < 1e-15 && (s[9] - 0.01).abs() < 1e-15);
    for w in s.windows(2) {
        assert!((w[1] / w[0] - 0.01f64.powf(1.0 / 9.0)).abs() < 1e-12);
    }
}

fn invalid<T: std::fmt::Debug>(result: Result<T, GenerativeError>, name: &str) {
    match result {
        Err(GenerativeError::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
        other => panic!("expected an invalid {name}, got {other:?}"),
    }
}

#[test]
fn bad_settings_are_typed_errors() {
    // σ levels not decreasing, or not positive.
    invalid(NoiseLevels::new(vec![1.0, 0.5, 0.5]), "sigma");
    invalid(NoiseLevels::new(vec![0.1, 1.0]), "sigma");
    invalid(NoiseLevels::new(vec![1.0, 0.0]), "sigma");
    invalid(NoiseLevels::new(vec![]), "noise levels");
    invalid(NoiseLevels::geometric(0.01, 1.0, 10), "sigma_max");
    invalid(NoiseLevels::geometric(1.0, -1.0, 10), "sigma_min");
    invalid(AnnealedLangevin::new(0.0, 10, true), "epsilon");
    invalid(AnnealedLangevin::new(1e-5, 0, true), "steps_per_level");
    // ε outside (0, 1).
    let vp = ForwardSde::vp_default();
    invalid(
        DenoisingScoreMatching::new(vp, Weighting::Variance, 0.0),
        "epsilon",
    );
    invalid(
        DenoisingScoreMatching::new(vp, Weighting::Variance, 1.0),
        "epsilon",
    );
    invalid(
        ReverseSdeSampler::new(vp, ReverseMethod::EulerMaruyama, 100, 1.5),
        "epsilon",
    );
    invalid(
        ReverseSdeSampler::new(vp, ReverseMethod::EulerMaruyama, 0, 1e-3),
        "steps",
    );
    // An SDE built from its variant with bad parameters is refused by every user.
    let bad = ForwardSde::Vp {
        beta_min: 5.0,
        beta_max: 1.0,
    };
    invalid(
        DenoisingScoreMatching::new(bad, Weighting::Variance, 1e-3),
        "beta_max",
    );
    invalid(
        ReverseSdeSampler::new(bad, ReverseMethod::EulerMaruyama, 10, 1e-3),
        "beta_max",
    );
    invalid(PredictorCorrector::new(bad, 10, 1, 0.16, 1e-3), "beta_max");
    // SNR ≤ 0.
    invalid(PredictorCorrector::new(vp, 100, 1, 0.0, 1e-3), "snr");
    invalid(PredictorCorrector::new(vp, 100, 1, -0.16, 1e-3), "snr");
}

#[test]
fn wrong_widths_are_typed_errors() {
    let d = device();
    // A score network for 2-D data takes [x, t] of width 3.
    let model = MlpConfig::new(vec![3, 8, 2])
        .with_activation(Activation::Tanh)
        .init_seeded(&d, 1)
        .unwrap();
    let dsm =
        DenoisingScoreMatching::new(ForwardSde::vp_default(), Weighting::Variance, 1e-3).unwrap();
    let three = d.tensor(vec![0.0; 12], [4, 3]).unwrap();
    assert!(matches!(
        dsm.loss(&model, three.clone(), &mut SeededRng::new(1)),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        ModelScore(&model).eval(three.clone(), 0.5),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let levels = NoiseLevels::geometric(1.0, 0.01, 4).unwrap();
    assert!(matches!(
        levels.loss(&model, three.clone(), &mut SeededRng::new(1)),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    // Samplers report the score's width error rather than sampling garbage.
    let sampler = ReverseSdeSampler::new(
        ForwardSde::vp_default(),
        ReverseMethod::EulerMaruyama,
        10,
        1e-3,
    )
    .unwrap();
    assert!(matches!(
        sampler.sample(&mut ModelScore(&model), three.clone(), 1),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let pc = PredictorCorrector::new(ForwardSde::vp_default(), 10, 1, 0.16, 1e-3).unwrap();
    assert!(matches!(
        pc.sample(&mut ModelScore(&model), three, 1),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    // A model's own output: the right width passes.
    let two = d.tensor(vec![0.1; 8], [4, 2]).unwrap();
    assert_eq!(ModelScore(&model).eval(two, 0.5).unwrap().dims(), [4, 2]);
}
