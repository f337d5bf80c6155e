//! The DDIM paper's quadratic step sub-sequence against its formula, and clipping of `x̂₀`:
//! a DDIM step with clipping against the formula by hand, every sample inside the range, and a
//! range wider than anything reached changing nothing.

use std::sync::OnceLock;

use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::diffusion::{
    AncestralVariance, DataRange, NoiseSchedule, quadratic_steps, sample_ancestral,
    sample_ancestral_clipped, sample_ddim, sample_ddim_clipped,
};

fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut d: SysDevice = "flex:f64".parse::<DeviceSpec>().unwrap().init().unwrap();
            d.configure_defaults().unwrap();
            d
        })
        .clone()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

#[test]
fn quadratic_steps_follow_the_ddim_papers_formula() {
    let steps = quadratic_steps(1000, 10).unwrap();
    let top = 800f64.sqrt();
    let expected: Vec<usize> = (0..10)
        .map(|i| (i as f64 * top / 9.0).powi(2).floor() as usize)
        .collect();
    assert_eq!(steps, expected);
    assert_eq!(steps[0], 0);
    // The last step is ⌊0.8 T⌋ up to rounding of the square root.
    assert!((799..=800).contains(&steps[9]));
    // Dense where t is small: the first gap is smaller than the last.
    assert!(steps[1] - steps[0] < steps[9] - steps[8]);
    // Where squares collide near 0 the steps are still strictly increasing.
    let many = quadratic_steps(1000, 100).unwrap();
    assert_eq!(many.len(), 100);
    assert!(many.windows(2).all(|w| w[1] > w[0]));
    assert_eq!(&many[..3], &[0, 1, 2]);
    assert_eq!(quadratic_steps(10, 1).unwrap(), vec![0]);
    // As many steps as T: every step.
    assert_eq!(
        quadratic_steps(10, 10).unwrap(),
        (0..10).collect::<Vec<_>>()
    );
    for (total, n) in [(0, 1), (10, 0), (10, 11)] {
        assert!(
            matches!(
                quadratic_steps(total, n),
                Err(GenerativeError::InvalidParameter { .. })
            ),
            "T {total} n {n}"
        );
    }
}

#[test]
fn clipped_ddim_step_matches_the_formula() {
    let d = device();
    let schedule = NoiseSchedule::linear(100, 1e-4, 0.05).unwrap();
    // A constant predictor ε̂ = 0.3 and x = 2: x̂₀ = (2 − 0.3 σ)/a, clipped to 1.
    let mut predictor = |x: Tensor<2>, _t: usize| Ok(x.ones_like() * 0.3);
    let x = d.tensor(vec![2.0, -0.1], [1, 2]).unwrap();
    let got = values(
        sample_ddim_clipped(
            &schedule,
            &mut predictor,
            x,
            &[40, 90],
            0.0,
            Some(DataRange::unit()),
            &mut SeededRng::new(0),
        )
        .unwrap(),
    );
    let ab = schedule.alpha_bars();
    let mut state = [2.0f64, -0.1];
    for (t, before) in [(90usize, ab[40]), (40, 1.0)] {
        let (a, s) = (ab[t].sqrt(), (1.0 - ab[t]).sqrt());
        for v in state.iter_mut() {
            let x0 = ((*v - 0.3 * s) / a).clamp(-1.0, 1.0);
            let eps = (*v - a * x0) / s;
            *v = before.sqrt() * x0 + (1.0 - before).sqrt() * eps;
        }
    }
    for i in 0..2 {
        assert!(
            (got[i] - state[i]).abs() < 1e-12,
            "{} vs {}",
            got[i],
            state[i]
        );
    }
    assert!(got[0] <= 1.0);
}

#[test]
fn clipping_keeps_samples_in_range_and_a_wide_range_changes_nothing() {
    let d = device();
    let schedule = NoiseSchedule::linear(50, 1e-4, 0.2).unwrap();
    // A predictor that pushes x̂₀ outwards: ε̂ = −0.5 x.
    let push = |x: Tensor<2>, _t: usize| Ok(x * -0.5);
    let start = d.randn(&mut SeededRng::new(1), [20, 3]);
    let unit = Some(DataRange::unit());
    let ddim = values(
        sample_ddim_clipped(
            &schedule,
            &mut { push },
            start.clone(),
            &[0, 10, 30, 49],
            0.5,
            unit,
            &mut SeededRng::new(2),
        )
        .unwrap(),
    );
    let ancestral = values(
        sample_ancestral_clipped(
            &schedule,
            &mut { push },
            start.clone(),
            AncestralVariance::PosteriorBeta,
            unit,
            &mut SeededRng::new(3),
        )
        .unwrap(),
    );
    assert!(ddim.iter().all(|v| v.abs() <= 1.0 + 1e-12));
    assert!(ancestral.iter().all(|v| v.abs() <= 1.0 + 1e-12));
    let unclipped = values(
        sample_ancestral(
            &schedule,
            &mut { push },
            start.clone(),
            AncestralVariance::Beta,
            &mut SeededRng::new(4),
        )
        .unwrap(),
    );
    assert!(
        unclipped.iter().any(|v| v.abs() > 1.0),
        "the test predictor must leave the range"
    );
    // A range nothing reaches: the same samples as without clipping.
    let wide = Some(DataRange::new(-1e9, 1e9).unwrap());
    let wide_ancestral = values(
        sample_ancestral_clipped(
            &schedule,
            &mut { push },
            start.clone(),
            AncestralVariance::Beta,
            wide,
            &mut SeededRng::new(4),
        )
        .unwrap(),
    );
    for (a, b) in wide_ancestral.iter().zip(&unclipped) {
        assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()));
    }
    let plain_ddim = values(
        sample_ddim(
            &schedule,
            &mut { push },
            start.clone(),
            &[0, 10, 30, 49],
            0.0,
            &mut SeededRng::new(5),
        )
        .unwrap(),
    );
    let wide_ddim = values(
        sample_ddim_clipped(
            &schedule,
            &mut { push },
            start,
            &[0, 10, 30, 49],
            0.0,
            wide,
            &mut SeededRng::new(5),
        )
        .unwrap(),
    );
    for (a, b) in wide_ddim.iter().zip(&plain_ddim) {
        assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()));
    }
    assert!(matches!(
        DataRange::new(1.0, -1.0),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    assert!(DataRange::new(f64::NAN, 1.0).is_err());
}
