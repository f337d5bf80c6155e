//! The GAN building blocks against hand-computed values, finite differences and closed forms.

use burn::module::Param;
use burn::nn::LinearConfig;
use burn::tensor::{DType, Tensor, TensorData};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::jet::{Activation, Mlp, MlpConfig};
use sysdyn_core::linalg::Matrix;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::gan::loss::{self, LsganTargets};
use sysdyn_generative::gan::{
    DiracGan, DiracObjective, GanLoss, ReplayBuffer, SpectralLinear, SpectralNorm,
    gradient_penalty, interpolate, linearised_update, r1_penalty,
};
use sysdyn_optim::game::{GameScheme, play};

fn device(spec: &str) -> SysDevice {
    spec.parse::<DeviceSpec>().unwrap().init().unwrap()
}

fn column(device: &SysDevice, values: &[f64]) -> Tensor<2> {
    device.tensor(values.to_vec(), [values.len(), 1]).unwrap()
}

fn scalar(t: Tensor<1>) -> f64 {
    t.into_scalar::<f64>()
}

/// Logits with saturated entries (|l| = 100).
const REAL: [f64; 5] = [0.0, 2.0, -3.0, 100.0, -100.0];
const FAKE: [f64; 5] = [0.0, -1.0, 4.0, -100.0, 100.0];

#[test]
fn every_loss_equals_hand_computed_values_on_saturated_logits() {
    for spec in ["flex:f64", "flex:f32", "ndarray:f64"] {
        let d = device(spec);
        let tol = if spec.ends_with("f32") { 1e-5 } else { 1e-12 };
        let (r, f) = (column(&d, &REAL), column(&d, &FAKE));
        // Values from the definitions in 30-digit arithmetic (mpmath).
        let cases: [(&str, Tensor<1>, f64); 9] = [
            (
                "cross-entropy D",
                loss::cross_entropy_discriminator(r.clone(), f.clone()).unwrap(),
                41.778_644_267_834_53,
            ),
            (
                "minimax G",
                loss::minimax_generator(f.clone()).unwrap(),
                -21.004_911_759_199_2,
            ),
            (
                "non-saturating G",
                loss::non_saturating_generator(f.clone()).unwrap(),
                20.404_911_759_199_2,
            ),
            (
                "LSGAN D",
                loss::least_squares_discriminator(r.clone(), f.clone(), LsganTargets::default())
                    .unwrap(),
                4003.7,
            ),
            (
                "LSGAN G",
                loss::least_squares_generator(f.clone(), LsganTargets::default()).unwrap(),
                2001.6,
            ),
            (
                "hinge D",
                loss::hinge_discriminator(r.clone(), f.clone()).unwrap(),
                42.6,
            ),
            ("hinge G", loss::hinge_generator(f.clone()).unwrap(), -0.6),
            (
                "Wasserstein D",
                loss::wasserstein_critic(r.clone(), f.clone()).unwrap(),
                0.8,
            ),
            (
                "Wasserstein G",
                loss::wasserstein_generator(f.clone()).unwrap(),
                -0.6,
            ),
        ];
        for (name, value, want) in cases {
            let got = scalar(value);
            assert!(
                (got - want).abs() <= tol * want.abs().max(1.0),
                "{spec} {name}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn saturated_logits_give_finite_gradients() {
    let d = device("flex:f32:autodiff");
    for objective in [
        GanLoss::Minimax,
        GanLoss::NonSaturating,
        GanLoss::LeastSquares(LsganTargets::default()),
        GanLoss::Hinge,
        GanLoss::Wasserstein,
    ] {
        let r = column(&d, &REAL).require_grad();
        let f = column(&d, &FAKE).require_grad();
        let total = objective.discriminator(r.clone(), f.clone()).unwrap()
            + objective.generator(f.clone()).unwrap();
        let grads = total.backward();
        for (what, t) in [("real", &r), ("fake", &f)] {
            let g = t
                .grad(&grads)
                .unwrap()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            assert!(
                g.iter().all(|v| v.is_finite()),
                "{} {what}: {g:?}",
                objective.name()
            );
        }
    }
    // The non-saturating generator's gradient at a confidently rejected fake is −1/batch
    // (−σ(−l) → −1), where the minimax one vanishes (σ(l) → 0).
    let f = column(&d, &[-100.0]).require_grad();
    let g = f
        .grad(
            &loss::non_saturating_generator(f.clone())
                .unwrap()
                .backward(),
        )
        .unwrap()
        .into_scalar::<f64>();
    assert!((g + 1.0).abs() < 1e-6, "{g}");
    let f = column(&d, &[-100.0]).require_grad();
    let g = f
        .grad(&loss::minimax_generator(f.clone()).unwrap().backward())
        .unwrap()
        .into_scalar::<f64>();
    assert!(g.abs() < 1e-30, "{g}");
}

#[test]
fn empty_batches_are_typed_errors() {
    let d = device("flex:f32");
    let empty = d.tensor(Vec::<f64>::new(), [0, 1]).unwrap();
    let one = column(&d, &[1.0]);
    assert!(matches!(
        GanLoss::Hinge.discriminator(empty.clone(), one),
        Err(GenerativeError::EmptyBatch { .. })
    ));
    assert!(matches!(
        GanLoss::NonSaturating.generator(empty),
        Err(GenerativeError::EmptyBatch { .. })
    ));
}

fn critic(d: &SysDevice, seed: u64) -> Mlp {
    MlpConfig::new(vec![2, 8, 8, 1])
        .with_activation(Activation::Tanh)
        .init_seeded(d, seed)
        .unwrap()
}

/// `critic` with `delta` added to entry `index` of layer `layer`'s weight.
fn nudged(critic: &Mlp, layer: usize, index: usize, delta: f64) -> Mlp {
    let mut layers = critic.layers().to_vec();
    let weight = layers[layer].weight.val();
    let [rows, cols] = weight.dims();
    let mut values = weight.into_data().try_to_vec::<f64>().unwrap();
    values[index] += delta;
    let device = layers[layer].weight.val().device();
    layers[layer].weight = Param::from_tensor(Tensor::from_data(
        TensorData::new(values, [rows, cols]),
        (&device, DType::F64),
    ));
    Mlp::new(layers, critic.activation()).unwrap()
}

#[test]
fn penalty_parameter_gradients_match_central_differences() {
    let d = device("flex:f64:autodiff");
    let critic = critic(&d, 3);
    let mut rng = SeededRng::new(11);
    let real = d.tensor(rng.normals(12), [6, 2]).unwrap();
    let fake = d.tensor(rng.normals(12), [6, 2]).unwrap().mul_scalar(2.0);
    let points = interpolate(real.clone(), fake, &mut rng).unwrap();
    type Penalty = fn(&Mlp, Tensor<2>) -> Tensor<1>;
    let penalties: [(&str, Penalty); 2] = [
        ("WGAN-GP", |c, x| gradient_penalty(c, x, 10.0).unwrap()),
        ("R1", |c, x| r1_penalty(c, x, 5.0).unwrap()),
    ];
    for (name, penalty) in penalties {
        let x = if name == "R1" {
            real.clone()
        } else {
            points.clone()
        };
        let grads = penalty(&critic, x.clone()).backward();
        for layer in 0..3 {
            let analytic = critic.layers()[layer]
                .weight
                .grad(&grads)
                .unwrap()
                .into_data()
                .try_to_vec::<f64>()
                .unwrap();
            for index in [0, analytic.len() / 2, analytic.len() - 1] {
                let h = 1e-6;
                let plus = scalar(penalty(&nudged(&critic, layer, index, h), x.clone()));
                let minus = scalar(penalty(&nudged(&critic, layer, index, -h), x.clone()));
                let fd = (plus - minus) / (2.0 * h);
                assert!(
                    (analytic[index] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                    "{name} layer {layer} weight {index}: {} vs {fd}",
                    analytic[index]
                );
            }
        }
    }
}

#[test]
fn the_gradient_penalty_vanishes_for_a_unit_slope_linear_critic() {
    // D(x) = a·x with |a| = 1 has ‖∇D‖ = 1 everywhere: zero penalty.
    let d = device("flex:f64:autodiff");
    let mut linear = LinearConfig::new(2, 1).with_bias(false).init(d.device());
    linear.weight = Param::from_tensor(d.tensor(vec![0.6, 0.8], [2, 1]).unwrap());
    let critic = Mlp::new(vec![linear], Activation::Identity).unwrap();
    let x = d.tensor(vec![1.0, 2.0, -3.0, 0.5], [2, 2]).unwrap();
    assert!(scalar(gradient_penalty(&critic, x.clone(), 10.0).unwrap()).abs() < 1e-10);
    // R1 = γ/2 ‖a‖² = γ/2.
    assert!((scalar(r1_penalty(&critic, x, 4.0).unwrap()) - 2.0).abs() < 1e-12);
    assert!(matches!(
        gradient_penalty(&critic, d.tensor(vec![1.0, 2.0], [1, 2]).unwrap(), 0.0),
        Err(GenerativeError::InvalidParameter { .. })
    ));
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// A `rows × cols` matrix (row-major) of Gaussian noise plus a rank-one signal of twice its
/// typical top singular value: the shape of a trained layer's spectrum. Power iteration
/// converges like (σ₂/σ₁)^{2k}; a pure Gaussian square matrix, whose top singular values nearly
/// tie, needs more iterations.
fn noise_plus_rank_one(rng: &mut SeededRng, rows: usize, cols: usize) -> Vec<f64> {
    let scale = 2.0 * ((rows as f64).sqrt() + (cols as f64).sqrt());
    let (a, b) = (rng.normals(rows), rng.normals(cols));
    let (na, nb) = (norm(&a), norm(&b));
    rng.normals(rows * cols)
        .iter()
        .enumerate()
        .map(|(i, g)| g + scale * a[i / cols] / na * b[i % cols] / nb)
        .collect()
}

#[test]
fn spectral_norm_estimate_is_within_one_percent_after_twenty_iterations() {
    let d = device("flex:f64:autodiff");
    let mut rng = SeededRng::new(5);
    for (fan_in, fan_out) in [(16, 8), (8, 32), (64, 64)] {
        let mut linear = LinearConfig::new(fan_in, fan_out)
            .with_bias(false)
            .init(d.device());
        let weights = noise_plus_rank_one(&mut rng, fan_in, fan_out);
        linear.weight = Param::from_tensor(d.tensor(weights.clone(), [fan_in, fan_out]).unwrap());
        // The exact largest singular value: √(largest eigenvalue of WᵀW).
        let w = Matrix::from_row_major(fan_in, fan_out, weights).unwrap();
        let gram = w.transpose().matmul(&w).unwrap();
        let exact = gram.spectral_radius().unwrap().sqrt();
        let mut layer = SpectralLinear::new(linear, &mut rng);
        let mut estimate = 0.0;
        for _ in 0..20 {
            estimate = layer.power_iteration();
        }
        assert!(
            (estimate - exact).abs() < 0.01 * exact,
            "{fan_in}x{fan_out}: {estimate} vs σ_max {exact}"
        );
        // The normalised weight's largest singular value is then about one.
        let sigma = scalar(layer.sigma());
        assert!((sigma - estimate).abs() < 1e-9 * exact);
        let x = d.tensor(rng.normals(3 * fan_in), [3, fan_in]).unwrap();
        assert_eq!(layer.forward(x).dims(), [3, fan_out]);
    }
}

/// A convolution kernel `[out, in, k, k]` is normalised through its matrix view
/// `[out, in·k·k]`: twenty iterations give that matrix's largest singular value to 1 %, and the
/// normalised kernel's view then has largest singular value one.
#[test]
fn spectral_norm_of_a_conv_kernel_uses_its_matrix_view() {
    let d = device("flex:f64:autodiff");
    let mut rng = SeededRng::new(8);
    let (out, input, k) = (6, 3, 4);
    let cols = input * k * k;
    let weights = noise_plus_rank_one(&mut rng, out, cols);
    let kernel: Tensor<4> = d.tensor(weights.clone(), [out, input, k, k]).unwrap();
    let w = Matrix::from_row_major(out, cols, weights).unwrap();
    let exact = w
        .matmul(&w.transpose())
        .unwrap()
        .spectral_radius()
        .unwrap()
        .sqrt();
    let mut norm = SpectralNorm::new(&kernel, &mut rng);
    let mut estimate = 0.0;
    for _ in 0..20 {
        estimate = norm.power_iteration(&kernel);
    }
    assert!(
        (estimate - exact).abs() < 0.01 * exact,
        "{estimate} vs σ_max {exact}"
    );
    let normalised = norm.normalised(kernel.clone());
    assert_eq!(normalised.dims(), [out, input, k, k]);
    let values = normalised
        .into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .unwrap();
    let view = Matrix::from_row_major(out, cols, values).unwrap();
    let top = view
        .matmul(&view.transpose())
        .unwrap()
        .spectral_radius()
        .unwrap()
        .sqrt();
    assert!((top - exact / estimate).abs() < 1e-9, "{top}");
    assert!((top - 1.0).abs() < 0.01, "{top}");
}

#[test]
fn the_replay_buffer_fills_then_swaps_half_of_the_time() {
    let mut rng = SeededRng::new(1);
    let mut buffer = ReplayBuffer::new(4);
    // Filling: every sample passes through and is stored.
    assert_eq!(
        buffer.exchange(vec![1, 2, 3], &mut rng).unwrap(),
        vec![1, 2, 3]
    );
    assert_eq!(buffer.exchange(vec![4, 5], &mut rng).unwrap()[0], 4);
    assert_eq!(buffer.len(), 4);
    // Full: each output is the new sample or a stored one that the new sample replaces, so the
    // multiset pool ∪ outputs is preserved.
    let mut returned_old = 0;
    let mut seen = vec![1, 2, 3, 4, 5];
    for round in 0..500 {
        let sample = 100 + round;
        let out = buffer.exchange(vec![sample], &mut rng).unwrap()[0];
        if out != sample {
            returned_old += 1;
            assert!(seen.contains(&out), "{out} was never shown to the buffer");
        }
        seen.push(sample);
    }
    assert_eq!(buffer.len(), 4);
    // About half the draws return an old sample (binomial(500, ½): 250 ± 3σ = ±34).
    assert!((216..=284).contains(&returned_old), "{returned_old}");
    let mut passthrough = ReplayBuffer::new(0);
    assert_eq!(passthrough.exchange(vec![7], &mut rng).unwrap(), vec![7]);
    assert!(matches!(
        buffer.exchange(Vec::new(), &mut rng),
        Err(GenerativeError::EmptyBatch { .. })
    ));
}

/// Per-step rate of the distance to the equilibrium between steps `from` and `to`.
fn rate(distances: &[f64], from: usize, to: usize) -> f64 {
    (distances[to] / distances[from]).powf(1.0 / (to - from) as f64)
}

#[test]
fn dirac_gan_dynamics_follow_the_eigenvalues_of_each_scheme() {
    for objective in [DiracObjective::CrossEntropy, DiracObjective::Wasserstein] {
        let game = DiracGan { objective };
        let eta = 0.1;
        let a = eta * objective.derivative(0.0);
        let radius = |scheme| {
            linearised_update(&game, (&[0.0], &[0.0]), scheme, [eta, eta])
                .unwrap()
                .spectral_radius()
                .unwrap()
        };
        // The closed forms of the module documentation.
        let simultaneous = radius(GameScheme::Simultaneous);
        let alternating = radius(GameScheme::Alternating);
        let extragradient = radius(GameScheme::Extragradient);
        assert!(
            (simultaneous - (1.0 + a * a).sqrt()).abs() < 1e-7,
            "{simultaneous}"
        );
        assert!((alternating - 1.0).abs() < 1e-7, "{alternating}");
        assert!((extragradient - (1.0 - a * a + a.powi(4)).sqrt()).abs() < 1e-7);
        // Small start: the linearisation governs. Simultaneous spirals out, alternating stays
        // bounded, extragradient and optimistic converge geometrically at their predicted rate.
        let start = 0.01;
        let distances = |scheme, steps| {
            play(&game, scheme, [eta, eta], &[start], &[0.0], steps)
                .unwrap()
                .distances_to(&[0.0], &[0.0])
        };
        let sim = distances(GameScheme::Simultaneous, 1000);
        assert!(sim[1000] > 2.0 * start, "simultaneous: {}", sim[1000]);
        assert!((rate(&sim, 100, 1000) - simultaneous).abs() < 2e-3 * simultaneous);
        let alt = distances(GameScheme::Alternating, 2000);
        let (lo, hi) = alt
            .iter()
            .fold((f64::MAX, 0.0f64), |(lo, hi), &d| (lo.min(d), hi.max(d)));
        assert!(
            hi < 1.2 * start && lo > 0.8 * start,
            "alternating in [{lo}, {hi}]"
        );
        let extra = distances(GameScheme::Extragradient, 2000);
        assert!(extra[2000] < 0.5 * start, "extragradient: {}", extra[2000]);
        assert!((rate(&extra, 200, 2000) - extragradient).abs() < 2e-3);
        let optimistic = radius(GameScheme::Optimistic);
        assert!(optimistic < 1.0, "optimistic spectral radius {optimistic}");
        let opt = distances(GameScheme::Optimistic, 4000);
        assert!(
            (rate(&opt, 1000, 4000) - optimistic).abs() < 2e-3,
            "{}",
            rate(&opt, 1000, 4000)
        );
    }
}

#[test]
fn discriminator_accuracy_counts_rows_on_the_right_side_of_each_losss_threshold() {
    let real = [2.0, -1.0, 0.5, 3.0];
    let fake = [-2.0, 0.25, -0.5, -3.0];
    // Logit and hinge losses: threshold 0; real 3/4 right, fake 3/4 right.
    for loss in [GanLoss::Minimax, GanLoss::NonSaturating, GanLoss::Hinge] {
        assert_eq!(loss.discriminator_accuracy(&real, &fake).unwrap(), 0.75);
    }
    // Least squares with targets a = 0, b = 1: threshold ½; real 2/4 (2, 3), fake 4/4.
    let lsgan = GanLoss::LeastSquares(LsganTargets::default());
    assert_eq!(lsgan.discriminator_accuracy(&real, &fake).unwrap(), 0.75);
    // Wasserstein: shifting every score leaves the accuracy unchanged (midpoint threshold).
    let shifted = |v: &[f64]| v.iter().map(|s| s + 40.0).collect::<Vec<_>>();
    let w = GanLoss::Wasserstein;
    let base = w.discriminator_accuracy(&real, &fake).unwrap();
    assert_eq!(
        base,
        w.discriminator_accuracy(&shifted(&real), &shifted(&fake))
            .unwrap()
    );
    // means 1.125 and −1.3125: midpoint −0.09375; real 3/4, fake 3/4.
    assert_eq!(base, 0.75);
    assert!(matches!(
        w.discriminator_accuracy(&[], &fake),
        Err(GenerativeError::EmptyBatch { .. })
    ));
}
