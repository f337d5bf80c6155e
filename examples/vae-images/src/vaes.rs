//! The four Bernoulli MLP models on dynamically binarised digits, all Burda et al. (2016)'s
//! one-stochastic-layer network (784-200-200-50, tanh, Bernoulli decoder; `burda_mnist()`):
//!
//! - **VAE**: the ELBO with one sample (`k = 1` in Burda et al.'s table);
//! - **IWAE**: the importance-weighted bound with `k` samples (5 by default, 50 with `--full`);
//! - **β-VAE**: the ELBO with `β = 4` on the KL term, reached by a linear warm-up over the
//!   first fifth of training (Higgins et al. 2017; the warm-up of Sønderby et al. 2016);
//! - **cVAE**: the VAE with the label's one-hot vector given to encoder and decoder (Sohn et
//!   al. 2015); its NLL is the conditional `−log p(x | y)`.
//!
//! Each is scored on the held-out digits (binarised once) by the IWAE estimate of the NLL with
//! `k` importance samples (64 by default, 5000 with `--full`, as Burda et al. evaluate).

use std::sync::Arc;
use std::time::Instant;

use burn::optim::{Adam, AdamConfig};
use serde::Serialize;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::gan::{DataSampler, LabelledSampler};
use sysdyn_generative::vae::{
    Interpolation, KlWeight, MlpDecoder, MlpEncoder, MlpVaeConfig, NllConfig, Objective, Vae,
    VaeConfig, VaeStep, estimate_nll, latent_means, traversal,
};
use sysdyn_train::{
    LrSchedule, MetricsLine, Optim, ProgressMode, RunSet, TrainConfig, read_metrics,
};

use crate::ExampleError;
use crate::data::Digits;

/// The four MLP models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// ELBO, one sample.
    Vae,
    /// IWAE bound with `k` samples.
    Iwae,
    /// ELBO with `β = 4` after a warm-up.
    BetaVae,
    /// Conditional VAE.
    Cvae,
}

impl Model {
    /// All, in the order of the runs.
    pub const ALL: [Model; 4] = [Model::Vae, Model::Iwae, Model::BetaVae, Model::Cvae];

    /// Name of runs, figures and summary entries.
    pub fn name(self) -> &'static str {
        match self {
            Model::Vae => "vae",
            Model::Iwae => "iwae",
            Model::BetaVae => "beta-vae",
            Model::Cvae => "cvae",
        }
    }

    /// The run directory of seed `seed_index`.
    pub fn run_name(self, seed_index: usize) -> String {
        format!("{}-s{seed_index}", self.name())
    }

    fn conditional(self) -> bool {
        self == Model::Cvae
    }
}

/// How long, how large, how scored.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Training steps per run.
    pub steps: u64,
    /// Rows per step.
    pub batch: usize,
    /// `k` of the IWAE objective.
    pub iwae_k: usize,
    /// `β` of the β-VAE.
    pub beta: f64,
    /// The learning-rate schedule (Adam).
    pub schedule: LrSchedule,
    /// Importance samples of the final NLL estimate.
    pub eval_k: usize,
    /// Held-out digits of the final NLL estimate.
    pub eval_images: usize,
    /// Held-out digits of the NLL estimates during training (the curves).
    pub curve_images: usize,
    /// Importance samples of the estimates during training.
    pub curve_k: usize,
    /// Evaluations during training.
    pub evaluations: u64,
    /// How the trainer shows progress.
    pub progress: ProgressMode,
}

/// One model's first-seed pictures.
#[derive(Debug, Clone, Default)]
pub struct Pictures {
    /// Held-out digits (binary) and their reconstructions, interleaved by rows of `RECON`.
    pub reconstructions: Vec<f64>,
    /// Decoder means of prior samples (a conditional model: column `k` is class `k`).
    pub samples: Vec<f64>,
    /// The posterior means' first two principal components, with the held-out labels.
    pub scatter: Vec<[f64; 2]>,
    /// Held-out labels of `scatter`.
    pub scatter_labels: Vec<usize>,
    /// Traversal grid: `TRAVERSED` dimensions × `STEPS` images.
    pub traversal: Vec<f64>,
    /// The traversed dimensions (most active first) and their variance of means.
    pub traversed: Vec<(usize, f64)>,
    /// Interpolation rows: `INTERPOLATIONS` × `STEPS` images.
    pub interpolation: Vec<f64>,
}

/// Images per row of the reconstruction figure.
pub const RECON: usize = 10;
/// Images per traversal or interpolation row.
pub const STEPS: usize = 9;
/// Traversed dimensions.
pub const TRAVERSED: usize = 6;
/// Interpolation rows.
pub const INTERPOLATIONS: usize = 3;

/// One trained model's scores.
#[derive(Debug, Clone, Serialize)]
pub struct VaeRun {
    /// Whether this invocation trained it.
    pub trained: bool,
    /// Seconds of training (0 when loaded).
    pub train_s: f64,
    /// The IWAE NLL estimate on the held-out digits, nats.
    pub nll_nats: f64,
    /// The same in bits per dimension.
    pub bits_per_dim: f64,
    /// Latent dimensions with `Var_x[μ(x)] > 0.01` on the held-out digits (Burda et al.'s
    /// active units).
    pub active_units: usize,
    /// `(step, training bound)` of every step (ELBO or IWAE-k, as trained).
    #[serde(skip)]
    pub bound_curve: Vec<[f64; 2]>,
    /// `(step, −NLL estimate on held-out digits)` of every evaluation.
    #[serde(skip)]
    pub held_out_curve: Vec<[f64; 2]>,
    /// First-seed pictures.
    #[serde(skip)]
    pub pictures: Option<Pictures>,
}

type MlpVae = Vae<MlpEncoder, MlpDecoder>;

/// Trains (or loads) `model` with the `seed_index`-th seed (value `seed`) and scores it;
/// `pictures` draws the figures' images too.
#[allow(clippy::too_many_arguments)]
pub fn train_and_score(
    device: &SysDevice,
    runs: &RunSet,
    plan: &Plan,
    model: Model,
    seed_index: usize,
    seed: u64,
    digits: &Arc<Digits>,
    pictures: bool,
) -> Result<VaeRun, ExampleError> {
    let steps = plan.steps.max(1);
    let config = TrainConfig::new(steps)
        .with_seed(seed)
        .with_schedule(plan.schedule.clone())
        .with_checkpoint_every(Some((steps / 4).max(1)))
        .with_eval_every(Some((steps / plan.evaluations.max(1)).max(1)))
        .with_progress(plan.progress)
        .with_program_settings(Some(serde_json::json!({
            "model": model.name(),
            "batch": plan.batch,
            "iwae_k": plan.iwae_k,
            "beta": plan.beta,
            "curve_images": plan.curve_images,
            "curve_k": plan.curve_k,
            "training_images": digits.train_labels.len(),
            "data": digits.source,
        })));
    let session = runs.session(config, &model.run_name(seed_index))?;
    let classes = if model.conditional() {
        digits.classes
    } else {
        0
    };
    let mut shape = MlpVaeConfig::burda_mnist();
    shape.data_width = digits.features();
    let vae = shape
        .with_classes(classes)
        .init(device, seed.wrapping_mul(7919).wrapping_add(11))?;
    let objective = match model {
        Model::Iwae => Objective::Iwae {
            samples: plan.iwae_k,
        },
        _ => Objective::Elbo { samples: 1 },
    };
    let kl_weight = match model {
        Model::BetaVae => KlWeight::LinearWarmup {
            target: plan.beta,
            steps: (steps / 5).max(1),
        },
        _ => KlWeight::Constant(1.0),
    };
    let vae_config = VaeConfig::new(plan.batch)
        .with_objective(objective)
        .with_kl_weight(kl_weight);
    let adam = Optim::new(AdamConfig::new().with_epsilon(1e-4).build());
    let curve_n = plan.curve_images.min(digits.test_len());
    let curve_data = digits.test_binary[..curve_n * digits.features()].to_vec();
    let curve_labels = model
        .conditional()
        .then(|| digits.test_labels[..curve_n].to_vec());
    let curve_config = NllConfig {
        samples: plan.curve_k,
        chunk: plan.curve_k.min(100),
        batch: 100,
    };
    let data = Arc::clone(digits);
    let mut step: VaeStep<MlpEncoder, MlpDecoder, Adam> = if model.conditional() {
        let sampler: LabelledSampler =
            Box::new(move |rng: &mut SeededRng, rows| data.binary_batch(rng, rows));
        VaeStep::conditional(device.clone(), vae, adam, vae_config, sampler)?
    } else {
        let sampler: DataSampler =
            Box::new(move |rng: &mut SeededRng, rows| data.binary_batch(rng, rows).0);
        VaeStep::new(device.clone(), vae, adam, vae_config, sampler)?
    }
    .with_evaluation(curve_data, curve_labels, curve_config);

    let start = Instant::now();
    let trained = session.run(&mut step)?.is_some();
    let train_s = if trained {
        start.elapsed().as_secs_f64()
    } else {
        0.0
    };

    let vae = &step.vae;
    let n = plan.eval_images.min(digits.test_len());
    let features = digits.features();
    let test = &digits.test_binary[..n * features];
    let labels = model.conditional().then(|| &digits.test_labels[..n]);
    let estimate = estimate_nll(
        vae,
        device,
        test,
        labels,
        NllConfig {
            samples: plan.eval_k,
            chunk: plan.eval_k.min(250),
            batch: 100,
        },
        &mut SeededRng::new(seed.wrapping_add(0xE7A1)),
    )
    .map_err(ExampleError::Model)?;
    let latent = vae.latent_width();
    let means = latent_means(vae, device, test, labels, 250).map_err(ExampleError::Model)?;
    let variances = column_variances(&means, latent);
    let active_units = variances.iter().filter(|&&v| v > 0.01).count();

    let lines = session.train_metrics()?;
    let bound_curve = lines
        .iter()
        .filter_map(|l| l.metrics.get("bound").map(|b| [l.step as f64, *b]))
        .collect();
    let held_out_curve = eval_lines(&session)?
        .iter()
        .filter_map(|l| l.metrics.get("nll_nats").map(|v| [l.step as f64, -v]))
        .collect();
    let pictures = if pictures {
        Some(draw_pictures(
            vae, device, digits, model, &means, &variances, n, seed,
        )?)
    } else {
        None
    };
    Ok(VaeRun {
        trained,
        train_s,
        nll_nats: estimate.nats,
        bits_per_dim: estimate.bits_per_dim,
        active_units,
        bound_curve,
        held_out_curve,
        pictures,
    })
}

/// The evaluation lines of the session's run up to the model in use.
fn eval_lines(session: &sysdyn_train::Session) -> Result<Vec<MetricsLine>, ExampleError> {
    let Some(dir) = session.run_dir() else {
        return Ok(Vec::new());
    };
    let upto = match session {
        sysdyn_train::Session::Load { step, .. } => *step,
        sysdyn_train::Session::Train(_) => u64::MAX,
    };
    Ok(read_metrics(&dir.join("metrics.jsonl"))?
        .into_iter()
        .filter(|l| l.kind == "eval" && l.step <= upto)
        .collect())
}

/// The variance of each of the `width` columns of row-major `rows`.
pub fn column_variances(rows: &[f64], width: usize) -> Vec<f64> {
    let n = (rows.len() / width.max(1)).max(1) as f64;
    (0..width)
        .map(|j| {
            let column = rows.iter().skip(j).step_by(width);
            let mean = column.clone().sum::<f64>() / n;
            column.map(|v| (v - mean).powi(2)).sum::<f64>() / n
        })
        .collect()
}

/// The projections of the centred rows (`width` wide) on their first two principal
/// directions, found by power iteration with deflation on the covariance matrix.
pub fn principal_plane(rows: &[f64], width: usize) -> Vec<[f64; 2]> {
    let n = rows.len() / width.max(1);
    let mean: Vec<f64> = (0..width)
        .map(|j| rows.iter().skip(j).step_by(width).sum::<f64>() / n.max(1) as f64)
        .collect();
    let centred: Vec<f64> = rows
        .iter()
        .enumerate()
        .map(|(i, v)| v - mean[i % width])
        .collect();
    let mut covariance = vec![0.0; width * width];
    for row in centred.chunks(width) {
        for a in 0..width {
            for b in 0..width {
                covariance[a * width + b] += row[a] * row[b] / n.max(1) as f64;
            }
        }
    }
    let mut directions: Vec<Vec<f64>> = Vec::new();
    for component in 0..2 {
        // A start that is not orthogonal to the leading direction for any ordinary data.
        let mut v: Vec<f64> = (0..width)
            .map(|j| 1.0 + 0.1 * ((j + component) as f64).sin())
            .collect();
        let mut eigenvalue = 0.0;
        for _ in 0..500 {
            for d in &directions {
                let dot: f64 = v.iter().zip(d).map(|(a, b)| a * b).sum();
                v.iter_mut().zip(d).for_each(|(a, b)| *a -= dot * b);
            }
            let w: Vec<f64> = (0..width)
                .map(|a| (0..width).map(|b| covariance[a * width + b] * v[b]).sum())
                .collect();
            let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm == 0.0 {
                break;
            }
            let next: Vec<f64> = w.iter().map(|x| x / norm).collect();
            let change: f64 = next.iter().zip(&v).map(|(a, b)| (a - b).abs()).sum();
            v = next;
            if (norm - eigenvalue).abs() <= 1e-12 * norm && change < 1e-10 {
                break;
            }
            eigenvalue = norm;
        }
        directions.push(v);
    }
    centred
        .chunks(width)
        .map(|row| {
            let project = |d: &Vec<f64>| row.iter().zip(d).map(|(a, b)| a * b).sum::<f64>();
            [project(&directions[0]), project(&directions[1])]
        })
        .collect()
}

fn host(t: burn::tensor::Tensor<2>) -> Result<Vec<f64>, ExampleError> {
    t.into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .map_err(|e| ExampleError::Shape(format!("{e:?}")))
}

/// Decoder means of the codes `codes` (`[rows, latent]` row-major).
fn decode(
    vae: &MlpVae,
    device: &SysDevice,
    codes: Vec<f64>,
    labels: Option<&[usize]>,
) -> Result<Vec<f64>, ExampleError> {
    let latent = vae.latent_width();
    let rows = codes.len() / latent;
    let z = device.tensor(codes, [rows, latent])?;
    host(vae.decode_mean(z, labels)?.detach())
}

#[allow(clippy::too_many_arguments)]
fn draw_pictures(
    vae: &MlpVae,
    device: &SysDevice,
    digits: &Digits,
    model: Model,
    means: &[f64],
    variances: &[f64],
    n: usize,
    seed: u64,
) -> Result<Pictures, ExampleError> {
    let features = digits.features();
    let latent = vae.latent_width();
    let conditional = model.conditional();
    // Reconstructions: two rows of held-out digits, each followed by its reconstructions.
    let shown = (2 * RECON).min(n);
    let x = device.tensor(
        digits.test_binary[..shown * features].to_vec(),
        [shown, features],
    )?;
    let labels = conditional.then(|| &digits.test_labels[..shown]);
    let recon = host(vae.reconstruct(x, labels)?.detach())?;
    let mut reconstructions = Vec::new();
    for row in 0..shown.div_ceil(RECON) {
        let range = row * RECON..((row + 1) * RECON).min(shown);
        reconstructions
            .extend_from_slice(&digits.test_binary[range.start * features..range.end * features]);
        reconstructions.extend_from_slice(&recon[range.start * features..range.end * features]);
    }
    // Samples: 100 codes from the prior (a conditional model: column k asks for class k).
    let mut rng = SeededRng::new(seed.wrapping_add(0x5A31));
    let sample_labels: Vec<usize> = (0..100).map(|i| i % digits.classes).collect();
    let samples = host(
        vae.sample(
            100,
            conditional.then_some(sample_labels.as_slice()),
            device,
            &mut rng,
        )?
        .detach(),
    )?;
    // The latent space: principal plane of the means, traversals of the most active dimensions
    // around the first held-out digit's mean, interpolations between held-out digits.
    let scatter = principal_plane(means, latent);
    let mut order: Vec<usize> = (0..latent).collect();
    order.sort_by(|&a, &b| variances[b].total_cmp(&variances[a]));
    let traversed: Vec<(usize, f64)> = order
        .iter()
        .take(TRAVERSED)
        .map(|&j| (j, variances[j]))
        .collect();
    let dims: Vec<usize> = traversed.iter().map(|t| t.0).collect();
    let base = &means[..latent];
    let codes = traversal(base, &dims, -3.0, 3.0, STEPS)?;
    let base_labels = vec![digits.test_labels[0]; dims.len() * STEPS];
    let traversal = decode(vae, device, codes, conditional.then_some(&base_labels))?;
    let mut interpolation = Vec::new();
    for row in 0..INTERPOLATIONS {
        let (a, b) = (2 * row, 2 * row + 1);
        let (a, b) = (a.min(n - 1), b.min(n - 1));
        let path = Interpolation::Spherical.path(
            &means[a * latent..(a + 1) * latent],
            &means[b * latent..(b + 1) * latent],
            STEPS,
        )?;
        // A conditional model keeps the first digit's class along the path.
        let path_labels = vec![digits.test_labels[a]; STEPS];
        interpolation.extend(decode(
            vae,
            device,
            path,
            conditional.then_some(&path_labels),
        )?);
    }
    Ok(Pictures {
        reconstructions,
        samples,
        scatter,
        scatter_labels: digits.test_labels[..n].to_vec(),
        traversal,
        traversed,
        interpolation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_principal_plane_of_points_on_a_tilted_plane_keeps_their_distances() {
        // Points a·u + b·v on the plane spanned by orthonormal u, v in 4 dimensions (a with the
        // larger spread): their projections keep every pairwise distance.
        let s = 0.5f64.sqrt();
        let u = [s, s, 0.0, 0.0];
        let v = [0.0, 0.0, s, -s];
        let mut rows = Vec::new();
        let mut coords = Vec::new();
        for i in 0..40 {
            let a = 3.0 * ((i as f64) * 0.7).sin();
            let b = ((i as f64) * 1.3).cos();
            coords.push([a, b]);
            rows.extend((0..4).map(|j| a * u[j] + b * v[j] + 1.0));
        }
        let plane = principal_plane(&rows, 4);
        let distance = |p: [f64; 2], q: [f64; 2]| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2);
        for i in 0..40 {
            for j in 0..40 {
                let expected = distance(coords[i], coords[j]);
                assert!((distance(plane[i], plane[j]) - expected).abs() < 1e-8 * (1.0 + expected));
            }
        }
    }

    #[test]
    fn column_variances_are_the_population_variances() {
        let rows = [1.0, 10.0, 3.0, 10.0, 5.0, 10.0];
        let v = column_variances(&rows, 2);
        assert!((v[0] - 8.0 / 3.0).abs() < 1e-12);
        assert_eq!(v[1], 0.0);
    }
}
