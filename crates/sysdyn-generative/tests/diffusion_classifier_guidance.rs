//! Classifier guidance: with the exact noise of a 2-D Gaussian mixture and its exact Bayes
//! classifier (written with tensor operations, so burn's autodiff gives its input gradient),
//! the guided noise at scale 1 is the exact noise of the chosen component,
//! `−√(1 − ᾱ_t) ∇ log p_t(x | y)`, at every step; scale 0 is the unguided noise; the noisy
//! image classifier learns to separate two classes; bad scales and labels are typed errors.

use std::sync::OnceLock;

use burn::optim::AdamConfig;
use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::diffusion::{
    ClassifierGuided, MixtureNoise, NoiseConditionalClassifier, NoisePredictor, NoiseSchedule,
    NoisyClassifierConfig, NoisyClassifierStep,
};
use sysdyn_generative::inputs::{ImageShape, LabelledSampler};
use sysdyn_generative::mixture::GaussianMixture;
use sysdyn_train::{Optim, StepContext, TrainConfig, TrainStep};

fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut d: SysDevice = "flex:f64:autodiff"
                .parse::<DeviceSpec>()
                .unwrap()
                .init()
                .unwrap();
            d.configure_defaults().unwrap();
            d
        })
        .clone()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

const WEIGHTS: [f64; 3] = [0.5, 0.3, 0.2];
const MEANS: [f64; 6] = [1.5, 0.0, -1.0, 1.0, 0.0, -2.0];
const STDS: [f64; 3] = [0.3, 0.5, 0.2];

fn mixture() -> GaussianMixture {
    GaussianMixture::isotropic(WEIGHTS.to_vec(), MEANS.to_vec(), STDS.to_vec(), 2).unwrap()
}

/// The exact `log p_t(y | x)` of the mixture noised at step `t`: component `k` is
/// `N(√ᾱ μ_k, (ᾱ σ_k² + 1 − ᾱ) I)`, Bayes' rule normalises `w_k N_k(x)` over `k`.
struct Bayes<'a> {
    schedule: &'a NoiseSchedule,
}

impl NoiseConditionalClassifier for Bayes<'_> {
    fn classes(&self) -> usize {
        3
    }

    fn log_probs(&self, x: Tensor<2>, steps: &[usize]) -> Result<Tensor<2>, GenerativeError> {
        let marginal = self.schedule.marginal(steps[0])?;
        let (a, s) = (marginal.signal, marginal.noise);
        let [rows, _] = x.dims();
        let columns = (0..3)
            .map(|k| {
                let var = a * a * STDS[k] * STDS[k] + s * s;
                let mean = Tensor::<2>::from_data(
                    burn::tensor::TensorData::new(
                        vec![a * MEANS[2 * k], a * MEANS[2 * k + 1]],
                        [1, 2],
                    ),
                    (&x.device(), x.dtype()),
                );
                let squared = (x.clone() - mean).powi_scalar(2).sum_dim(1);
                squared * (-0.5 / var) + (WEIGHTS[k].ln() - (2.0 * std::f64::consts::PI * var).ln())
            })
            .collect();
        let joint = Tensor::cat(columns, 1);
        assert_eq!(joint.dims(), [rows, 3]);
        Ok(log_softmax(joint, 1))
    }
}

#[test]
fn scale_one_with_the_exact_classifier_gives_the_exact_conditional_noise() {
    let d = device();
    let data = mixture();
    let schedule = NoiseSchedule::linear(200, 1e-4, 0.05).unwrap();
    let classifier = Bayes {
        schedule: &schedule,
    };
    let rows = 6;
    let labels: Vec<usize> = (0..rows).map(|r| r % 3).collect();
    let x_values = SeededRng::new(1).normals(rows * 2);
    for t in [0, 20, 99, 199] {
        let x = d.tensor(x_values.clone(), [rows, 2]).unwrap();
        let unguided = MixtureNoise {
            mixture: &data,
            schedule: &schedule,
        };
        let mut guided =
            ClassifierGuided::new(unguided, &classifier, &schedule, labels.clone(), 1.0).unwrap();
        let got = values(guided.predict(x.clone(), t).unwrap());
        let marginal = schedule.marginal(t).unwrap();
        for (row, &label) in labels.iter().enumerate() {
            // The chosen component alone, noised: its exact noise −σ_t ∇ log p_t(x | y).
            let component = GaussianMixture::isotropic(
                vec![1.0],
                MEANS[2 * label..2 * label + 2].to_vec(),
                vec![STDS[label]],
                2,
            )
            .unwrap();
            let point = &x_values[2 * row..2 * row + 2];
            let score = component
                .score(point, marginal.signal, marginal.noise)
                .unwrap();
            for i in 0..2 {
                let exact = -marginal.noise * score[i];
                let value = got[2 * row + i];
                assert!(
                    (value - exact).abs() < 1e-9 * (1.0 + exact.abs()),
                    "t {t} row {row}: {value} vs {exact}"
                );
            }
        }
        // Scale 0 is the unguided noise.
        let mut plain = ClassifierGuided::new(
            MixtureNoise {
                mixture: &data,
                schedule: &schedule,
            },
            &classifier,
            &schedule,
            labels.clone(),
            0.0,
        )
        .unwrap();
        let mut reference = MixtureNoise {
            mixture: &data,
            schedule: &schedule,
        };
        assert_eq!(
            values(plain.predict(x.clone(), t).unwrap()),
            values(reference.predict(x, t).unwrap())
        );
    }
}

#[test]
fn bad_scales_and_labels_are_typed_errors() {
    let data = mixture();
    let schedule = NoiseSchedule::linear(10, 1e-4, 0.05).unwrap();
    let classifier = Bayes {
        schedule: &schedule,
    };
    let noise = || MixtureNoise {
        mixture: &data,
        schedule: &schedule,
    };
    for scale in [-0.1, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            ClassifierGuided::new(noise(), &classifier, &schedule, vec![0], scale),
            Err(GenerativeError::InvalidParameter { .. })
        ));
    }
    assert!(matches!(
        ClassifierGuided::new(noise(), &classifier, &schedule, vec![0, 3], 1.0),
        Err(GenerativeError::InvalidParameter { name: "label", .. })
    ));
    let d = device();
    let mut guided =
        ClassifierGuided::new(noise(), &classifier, &schedule, vec![0, 1], 1.0).unwrap();
    assert!(matches!(
        guided.predict(d.tensor(vec![0.0; 6], [3, 2]).unwrap(), 3),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let image = ImageShape::new(1, 8, 8);
    let mut rng = SeededRng::new(0);
    assert!(
        NoisyClassifierConfig::new(ImageShape::new(1, 6, 6), 2)
            .init(d.device(), &mut rng)
            .is_err()
    );
    assert!(
        NoisyClassifierConfig::new(image, 1)
            .init(d.device(), &mut rng)
            .is_err()
    );
    let net = NoisyClassifierConfig::new(image, 2)
        .init(d.device(), &mut rng)
        .unwrap();
    assert!(matches!(
        net.logits(d.tensor(vec![0.0; 2 * 49], [2, 49]).unwrap(), &[1, 1]),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
}

/// Two classes of 8×8 images: a bright left half or a bright right half.
fn halves() -> LabelledSampler {
    Box::new(|rng: &mut SeededRng, rows: usize| {
        let mut x = Vec::with_capacity(rows * 64);
        let mut labels = Vec::with_capacity(rows);
        for _ in 0..rows {
            let label = rng.below(2) as usize;
            for _row in 0..8 {
                for col in 0..8 {
                    let bright = (col < 4) == (label == 0);
                    x.push(if bright { 0.8 } else { -0.8 } + 0.1 * rng.normal());
                }
            }
            labels.push(label);
        }
        (x, labels)
    })
}

#[test]
fn the_noisy_classifier_learns_and_its_guidance_gradient_points_to_the_class() {
    let d = device();
    let image = ImageShape::new(1, 8, 8);
    let classifier = NoisyClassifierConfig::new(image, 2)
        .with_channels([4, 8])
        .init(d.device(), &mut SeededRng::new(3))
        .unwrap();
    let schedule = NoiseSchedule::linear(50, 1e-4, 0.1).unwrap();
    let optim = Optim::new(AdamConfig::new().build());
    let mut step =
        NoisyClassifierStep::new(d.clone(), classifier, optim, schedule.clone(), 32, halves())
            .unwrap();
    let train = TrainConfig::new(60);
    let mut first = 0.0;
    let mut last = 0.0;
    for i in 0..60 {
        let mut ctx = StepContext::new(&train, i);
        let report = step.step(&mut ctx).unwrap();
        if i == 0 {
            first = report.loss;
        }
        last = report.loss;
    }
    assert!(last < 0.5 * first, "loss {first} → {last}");
    // At a low noise level the classifier is nearly sure of clean examples.
    let (x, labels) = halves()(&mut SeededRng::new(9), 40);
    let x = d.tensor(x, [40, 64]).unwrap();
    let log_probs = values(step.classifier().log_probs(x, &[2; 40]).unwrap());
    let correct = labels
        .iter()
        .enumerate()
        .filter(|(r, l)| log_probs[2 * r + **l] > log_probs[2 * r + 1 - **l])
        .count();
    assert!(correct >= 38, "{correct}/40 correct");
    // The guidance gradient towards class 0 brightens the left half of a blank image.
    let zero_noise = |x: Tensor<2>, _t: usize| Ok(x.zeros_like());
    let guided =
        ClassifierGuided::new(zero_noise, step.classifier(), &schedule, vec![0], 1.0).unwrap();
    let gradient = values(guided.log_prob_gradient(d.zeros([1, 64]), 10).unwrap());
    let left: f64 = (0..64).filter(|i| i % 8 < 4).map(|i| gradient[i]).sum();
    let right: f64 = (0..64).filter(|i| i % 8 >= 4).map(|i| gradient[i]).sum();
    assert!(left > right, "left {left}, right {right}");
}
