//! Base distributions, the flow model's density, sampling and reverse-KL objective, the
//! effective sample size and dequantisation, against closed forms:
//!
//! - `log p(z)` of the standard normal, a diagonal Gaussian and the standard logistic equal
//!   their formulas (the logistic stays finite at |z| = 200 and integrates to 1 on a grid);
//!   samples have the right moments and quantiles;
//! - a diagonal-scaling flow `y = eᵗ x` on `N(0, I)` has `q(x) = N(x; 0, e^{−2s})` exactly,
//!   and a sample's returned log-density equals the model's density at that sample;
//! - the reverse-KL loss of a model against its own density plus `c` is `−c` with ESS 1;
//! - the ESS of weights `[1, 2, 3]` is `36 / 42`, of one dominating weight `1/n`, and it does
//!   not overflow for log-weights near 1000;
//! - dequantised values fall in their cells, and bits/dim of NLL `0` on 8-bit data is 8.

use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::flow::base::{
    BaseDistribution, DiagonalGaussian, StandardLogistic, StandardNormal,
};
use sysdyn_generative::flow::chain::{Chain, VectorLayer};
use sysdyn_generative::flow::coupling::{AffineCoupling, DiagonalScaling, Parity, ScaleBound};
use sysdyn_generative::flow::dequantise::Dequantisation;
use sysdyn_generative::flow::model::{FlowModel, effective_sample_size};

fn device() -> SysDevice {
    "flex:f64".parse::<DeviceSpec>().unwrap().init().unwrap()
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

const LOG_2PI: f64 = 1.837_877_066_409_345_3;

#[test]
fn base_log_densities_equal_their_formulas() {
    let d = device();
    let z = vec![0.3, -1.2, 2.0, 0.0, -0.7, 200.0];
    let t = d.tensor(z.clone(), [2, 3]).unwrap();
    let normal = host(StandardNormal::new(3).unwrap().log_prob(t.clone()).unwrap());
    let logistic = host(
        StandardLogistic::new(3)
            .unwrap()
            .log_prob(t.clone())
            .unwrap(),
    );
    let mean = [0.5, -0.5, 1.0];
    let log_std = [0.2, -0.3, 0.0];
    let gaussian = DiagonalGaussian::from_values(&d, &mean, &log_std).unwrap();
    let diagonal = host(gaussian.log_prob(t).unwrap());
    for (row, values) in z.chunks(3).enumerate() {
        let n: f64 = values.iter().map(|v| -0.5 * v * v - 0.5 * LOG_2PI).sum();
        let l: f64 = values
            .iter()
            .map(|v: &f64| -v.abs() - 2.0 * (-v.abs()).exp().ln_1p())
            .sum();
        let g: f64 = values
            .iter()
            .zip(mean.iter().zip(&log_std))
            .map(|(v, (m, s))| -0.5 * ((v - m) / s.exp()).powi(2) - s - 0.5 * LOG_2PI)
            .sum();
        assert!((normal[row] - n).abs() < 1e-12, "{} vs {n}", normal[row]);
        assert!(
            (logistic[row] - l).abs() < 1e-12 && logistic[row].is_finite(),
            "{} vs {l}",
            logistic[row]
        );
        assert!(
            (diagonal[row] - g).abs() < 1e-12,
            "{} vs {g}",
            diagonal[row]
        );
    }
    // The logistic density integrates to one (trapezoid on [−40, 40]).
    let h = 1e-3;
    let grid: Vec<f64> = (0..=80_000).map(|i| -40.0 + h * f64::from(i)).collect();
    let n = grid.len();
    let log_p = host(
        StandardLogistic::new(1)
            .unwrap()
            .log_prob(d.tensor(grid, [n, 1]).unwrap())
            .unwrap(),
    );
    let mass: f64 = log_p.iter().map(|l| l.exp()).sum::<f64>() * h;
    assert!((mass - 1.0).abs() < 1e-6, "mass {mass}");
    // An image latent is scored as its flattened rows.
    let image = d.tensor(z.clone(), [2, 3, 1, 1]).unwrap();
    assert_eq!(
        host(StandardNormal::new(3).unwrap().log_prob(image).unwrap()),
        normal
    );
}

#[test]
fn samples_have_the_right_moments() {
    let d = device();
    let n = 20_000;
    let gaussian = DiagonalGaussian::from_values(&d, &[1.0, -2.0], &[0.5, -1.0]).unwrap();
    let z = host(gaussian.sample_rows(&d, n, &mut SeededRng::new(3)));
    for (feature, (m, s)) in [(1.0, 0.5f64.exp()), (-2.0, (-1.0f64).exp())]
        .into_iter()
        .enumerate()
    {
        let column: Vec<f64> = z.iter().skip(feature).step_by(2).copied().collect();
        let mean = column.iter().sum::<f64>() / n as f64;
        let var = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(
            (mean - m).abs() < 4.0 * s / (n as f64).sqrt(),
            "mean {mean} vs {m}"
        );
        assert!(
            (var.sqrt() / s - 1.0).abs() < 0.03,
            "std {} vs {s}",
            var.sqrt()
        );
    }
    // The logistic's CDF is the sigmoid: P(z < 1) = 1 / (1 + e^{−1}).
    let l = host(
        StandardLogistic::new(1)
            .unwrap()
            .sample_rows(&d, n, &mut SeededRng::new(4)),
    );
    let below = l.iter().filter(|v| **v < 1.0).count() as f64 / n as f64;
    let exact = 1.0 / (1.0 + (-1.0f64).exp());
    assert!(
        (below - exact).abs() < 4.0 * (exact * (1.0 - exact) / n as f64).sqrt(),
        "{below} vs {exact}"
    );
    // The same seed gives the same draws.
    let again = host(gaussian.sample_rows(&d, n, &mut SeededRng::new(3)));
    assert_eq!(z, again);
}

#[test]
fn a_scaled_normal_has_its_closed_form_density_and_samples_score_consistently() {
    let d = device();
    let s = [0.4, -0.6];
    let model = FlowModel::new(
        StandardNormal::new(2).unwrap(),
        DiagonalScaling::new(&d, &s).unwrap(),
    );
    let x = vec![0.3, -1.1, 2.0, 0.5];
    let log_q = host(
        model
            .log_prob(d.tensor(x.clone(), [2, 2]).unwrap(), None)
            .unwrap(),
    );
    for (row, values) in x.chunks(2).enumerate() {
        // x = e^{−s} z: N(0, e^{−2s}).
        let exact: f64 = values
            .iter()
            .zip(&s)
            .map(|(v, s)| -0.5 * (v * s.exp()).powi(2) + s - 0.5 * LOG_2PI)
            .sum();
        assert!(
            (log_q[row] - exact).abs() < 1e-12,
            "{} vs {exact}",
            log_q[row]
        );
    }
    // A sample's log-density is the model's density at it, for a nonlinear flow too.
    let flow = Chain::new(vec![
        VectorLayer::Affine(
            AffineCoupling::new(&d, 2, &[8], Parity::Even, ScaleBound::Exp, 0, 5).unwrap(),
        ),
        VectorLayer::Affine(
            AffineCoupling::new(&d, 2, &[8], Parity::Odd, ScaleBound::Exp, 0, 6).unwrap(),
        ),
    ]);
    let model = FlowModel::new(
        DiagonalGaussian::from_values(&d, &[0.2, -0.1], &[0.3, 0.1]).unwrap(),
        flow,
    );
    let sample = model
        .sample(&d, [64, 2], None, &mut SeededRng::new(9))
        .unwrap();
    let rescored = host(model.log_prob(sample.value.clone(), None).unwrap());
    let returned = host(sample.log_prob);
    let worst = rescored
        .iter()
        .zip(&returned)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-10, "sample log-density differs by {worst}");
    // Against its own density plus c, the reverse KL is −c and every weight is equal.
    let c = 2.5;
    let target = |x: &Tensor<2>| model.log_prob(x.clone(), None).unwrap().add_scalar(c);
    let kl = model
        .reverse_kl(&d, [64, 2], None, &target, &mut SeededRng::new(10))
        .unwrap();
    let loss = host(kl.loss.clone())[0];
    assert!((loss + c).abs() < 1e-10, "loss {loss}");
    assert!((kl.effective_sample_size().unwrap() - 1.0).abs() < 1e-10);
}

#[test]
fn the_effective_sample_size_matches_its_formula() {
    let ln = |w: &[f64]| w.iter().map(|v| v.ln()).collect::<Vec<_>>();
    assert!((effective_sample_size(&ln(&[1.0, 2.0, 3.0])).unwrap() - 36.0 / 42.0).abs() < 1e-15);
    let shifted: Vec<f64> = ln(&[1.0, 2.0, 3.0]).iter().map(|v| v + 1000.0).collect();
    // log-weights near 1000 carry an ulp of 1e-13.
    assert!((effective_sample_size(&shifted).unwrap() - 36.0 / 42.0).abs() < 1e-12);
    let dominated = [0.0, -800.0, -900.0, -1000.0];
    assert!((effective_sample_size(&dominated).unwrap() - 0.25).abs() < 1e-15);
    assert_eq!(effective_sample_size(&[0.3; 10]).unwrap(), 1.0);
    assert!(effective_sample_size(&[]).is_err());
    assert!(effective_sample_size(&[f64::NAN, 0.0]).is_err());
}

#[test]
fn dequantised_values_fall_in_their_cells_and_bits_per_dim_convert() {
    let dq = Dequantisation::EIGHT_BIT;
    let levels: Vec<f64> = (0..256).map(f64::from).collect();
    let y = dq.dequantise(&levels, &mut SeededRng::new(2)).unwrap();
    for (k, v) in levels.iter().zip(&y) {
        assert!(
            *v >= k / 256.0 && *v < (k + 1.0) / 256.0,
            "{v} outside cell {k}"
        );
        assert_eq!(dq.quantise(*v), *k);
    }
    // The uniform density on the cube (NLL 0) is 8 bits per dimension of 8-bit data; one nat
    // per dimension more is 1/ln 2 bits more.
    assert_eq!(dq.bits_per_dim(0.0, 784).unwrap(), 8.0);
    let bpd = dq.bits_per_dim(784.0, 784).unwrap();
    assert!((bpd - 8.0 - 1.0 / std::f64::consts::LN_2).abs() < 1e-12);
    assert!(dq.bits_per_dim(1.0, 0).is_err());
}
