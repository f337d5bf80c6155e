//! The example's own mathematics: the respaced schedule keeps the chosen steps' ᾱ (and is the
//! schedule itself at every step), and the noise-scaled score network's score and jet
//! divergence are `f_θ/s(t)` and the trace of its Jacobian (against central differences).

use std::sync::OnceLock;

use burn::tensor::Tensor;
use diffusion_2d::models::{NoiseScaledScore, ve_sde, vp_sde};
use diffusion_2d::sampling::{host, respaced};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_generative::diffusion::{NoiseSchedule, evenly_spaced_steps};
use sysdyn_generative::score::ScoreModel;

fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut device: SysDevice = "flex:f64".parse::<DeviceSpec>().unwrap().init().unwrap();
            device.configure_defaults().unwrap();
            device
        })
        .clone()
}

#[test]
fn the_respaced_schedule_keeps_the_chosen_steps_alpha_bars() {
    for full in [
        NoiseSchedule::ddpm_linear(),
        NoiseSchedule::cosine_default(1000).unwrap(),
    ] {
        // Every step: the schedule itself.
        let all: Vec<usize> = (0..1000).collect();
        let same = respaced(&full, &all).unwrap();
        for (a, b) in same.betas().iter().zip(full.betas()) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        // Ten steps: ᾱ'_i = ᾱ_{τ_i} (the last of the cosine schedule up to its 0.999 clip).
        let taus = evenly_spaced_steps(1000, 10).unwrap();
        let short = respaced(&full, &taus).unwrap();
        assert_eq!(short.steps(), 10);
        for (i, &t) in taus.iter().enumerate().take(9) {
            let (a, b) = (short.alpha_bars()[i], full.alpha_bars()[t]);
            assert!(
                (a - b).abs() < 1e-12 * b.max(1e-300),
                "step {t}: {a} vs {b}"
            );
        }
    }
}

fn column(values: Vec<f64>) -> Tensor<2> {
    let rows = values.len();
    device().tensor(values, [rows, 1]).unwrap()
}

#[test]
fn the_noise_scaled_score_and_its_divergence() {
    let points = vec![0.3, -1.2, 1.5, 0.4, -0.7, 2.1];
    let times = vec![0.05, 0.3, 0.9];
    for sde in [vp_sde(), ve_sde().unwrap()] {
        let model = NoiseScaledScore::new(&device(), sde, 5).unwrap();
        let x = device().tensor(points.clone(), [3, 2]).unwrap();
        let t = column(times.clone());
        let divergence = host(model.score_divergence(x, t).unwrap().unwrap()).unwrap();
        let h = 1e-5;
        for row in 0..3 {
            let mut trace = 0.0;
            for c in 0..2 {
                let shifted = |delta: f64| {
                    let mut p = points[2 * row..2 * row + 2].to_vec();
                    p[c] += delta;
                    let x = device().tensor(p, [1, 2]).unwrap();
                    host(model.score(x, column(vec![times[row]])).unwrap()).unwrap()[c]
                };
                trace += (shifted(h) - shifted(-h)) / (2.0 * h);
            }
            let scale = trace.abs().max(1.0);
            assert!(
                (divergence[row] - trace).abs() < 1e-6 * scale,
                "{sde:?} row {row}: jets {} vs differences {trace}",
                divergence[row]
            );
        }
    }
}

#[test]
fn the_score_scale_is_the_marginal_std() {
    // Two models with the same weights on the VP and the VE SDE differ exactly by the ratio of
    // their marginal standard deviations.
    let x = device().tensor(vec![0.5, -0.25], [1, 2]).unwrap();
    let time = 0.37;
    let vp = NoiseScaledScore::new(&device(), vp_sde(), 9).unwrap();
    let ve = NoiseScaledScore::new(&device(), ve_sde().unwrap(), 9).unwrap();
    let a = host(vp.score(x.clone(), column(vec![time])).unwrap()).unwrap();
    let b = host(ve.score(x, column(vec![time])).unwrap()).unwrap();
    let ratio = ve_sde().unwrap().marginal(time).1 / vp_sde().marginal(time).1;
    for (a, b) in a.iter().zip(&b) {
        assert!(
            (a / b - ratio).abs() < 1e-10 * ratio,
            "{} vs {ratio}",
            a / b
        );
    }
}
