//! The forward SDEs' closed-form marginals `x_t | x_0 ~ N(m(t) x_0, s(t)² I)` against a Monte
//! Carlo of the SDE itself, simulated with sysdyn-solvers' Euler–Maruyama; and the validation
//! of their parameters.

use sysdyn_generative::GenerativeError;
use sysdyn_generative::score::ForwardSde;
use sysdyn_solvers::SaveAt;
use sysdyn_solvers::brownian::VirtualBrownianTree;
use sysdyn_solvers::sde::{EulerMaruyama, Noise, Sde, SdeConfig, solve_sde};

/// Simulates `paths` independent paths from `x0` and checks the sample mean and standard
/// deviation at a few times against `m(t) x0` and `s(t)` within 3 standard errors.
fn check_marginals(sde: ForwardSde, seed: u64) {
    let paths = 4000;
    let x0 = 1.5;
    let times = vec![0.1, 0.4, 1.0];
    let mut terms = Sde::ito(
        Noise::Diagonal,
        |t: f64, x: &Vec<f64>| x.iter().map(|v| sde.drift_scale(t) * v).collect(),
        |t: f64, x: &Vec<f64>| vec![sde.diffusion(t); x.len()],
    );
    let mut brownian = VirtualBrownianTree::new(seed, (0.0, 1.0), paths)
        .unwrap()
        .with_depth(14)
        .unwrap();
    let config = SdeConfig::fixed(1e-3).save_at(SaveAt::Times(times.clone()));
    let solution = solve_sde(
        &mut terms,
        &EulerMaruyama,
        (0.0, 1.0),
        vec![x0; paths],
        &mut brownian,
        &config,
    )
    .unwrap();
    let n = paths as f64;
    for (t, xs) in times.iter().zip(&solution.ys) {
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let (m, s) = sde.checked_marginal(*t).unwrap();
        let mean_se = s / n.sqrt();
        let std_se = s / (2.0 * n).sqrt();
        assert!(
            (mean - m * x0).abs() < 3.0 * mean_se,
            "{sde:?} t = {t}: mean {mean} vs {}",
            m * x0
        );
        assert!(
            (var.sqrt() - s).abs() < 3.0 * std_se,
            "{sde:?} t = {t}: std {} vs {s}",
            var.sqrt()
        );
    }
}

#[test]
fn ve_marginals_match_monte_carlo() {
    check_marginals(ForwardSde::ve(0.01, 5.0).unwrap(), 1);
}

#[test]
fn vp_marginals_match_monte_carlo() {
    check_marginals(ForwardSde::vp_default(), 2);
}

#[test]
fn sub_vp_marginals_match_monte_carlo() {
    check_marginals(ForwardSde::sub_vp_default(), 3);
}

#[test]
fn marginals_have_their_limits() {
    // At t = 0 every marginal is the data itself.
    for sde in [
        ForwardSde::ve(0.01, 50.0).unwrap(),
        ForwardSde::vp_default(),
        ForwardSde::sub_vp_default(),
    ] {
        assert_eq!(sde.marginal(0.0), (1.0, 0.0));
    }
    // VP preserves unit variance: m² + s² = 1; sub-VP's variance is below VP's.
    let (vp, sub) = (ForwardSde::vp_default(), ForwardSde::sub_vp_default());
    for t in [0.01, 0.3, 0.9] {
        let (m, s) = vp.marginal(t);
        assert!((m * m + s * s - 1.0).abs() < 1e-14);
        assert!(sub.marginal(t).1 < s);
    }
    // VE: s(1)² = σ_max² − σ_min².
    let ve = ForwardSde::ve(0.01, 50.0).unwrap();
    assert!((ve.marginal(1.0).1.powi(2) - (2500.0 - 1e-4)).abs() < 1e-9);
}

#[test]
fn bad_sde_parameters_are_typed_errors() {
    let invalid = |r: Result<ForwardSde, GenerativeError>, name: &str| match r {
        Err(GenerativeError::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
        other => panic!("expected an invalid {name}, got {other:?}"),
    };
    invalid(ForwardSde::ve(0.0, 1.0), "sigma_min");
    invalid(ForwardSde::ve(2.0, 1.0), "sigma_max");
    invalid(ForwardSde::vp(30.0, 20.0), "beta_max");
    invalid(ForwardSde::sub_vp(-0.1, 20.0), "beta_min");
    invalid(ForwardSde::vp(0.1, f64::NAN), "beta_max");
    // A value built from its variant is checked where it is used.
    let direct = ForwardSde::Ve {
        sigma_min: 1.0,
        sigma_max: 0.5,
    };
    invalid(direct.validate().map(|_| direct), "sigma_max");
    let vp = ForwardSde::vp_default();
    for t in [-0.1, 1.5, f64::NAN] {
        match vp.checked_marginal(t) {
            Err(GenerativeError::InvalidParameter { name: "t", .. }) => {}
            other => panic!("t = {t}: {other:?}"),
        }
    }
}
