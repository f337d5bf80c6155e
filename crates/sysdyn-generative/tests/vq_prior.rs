//! The PixelCNN prior over code grids: the masked convolution is causal in raster order (type
//! A: the output at `p` ignores the inputs at `p` and after; type B: it sees `p` but nothing
//! after), checked by perturbation, and so is the whole prior; a prior trained on one fixed
//! grid puts almost all its mass on it and samples it, reproducibly from the seed.

use std::path::PathBuf;
use std::sync::OnceLock;

use burn::optim::AdamConfig;
use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::vq::{MaskType, MaskedConv2d, PixelCnnConfig, PriorStep, mask_values};
use sysdyn_train::{LrSchedule, Optim, ProgressMode, TrainConfig, Trainer};

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

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

#[test]
fn the_masks_keep_the_taps_before_the_centre() {
    #[rustfmt::skip]
    let a = [
        1.0, 1.0, 1.0,
        1.0, 0.0, 0.0,
        0.0, 0.0, 0.0,
    ];
    #[rustfmt::skip]
    let b = [
        1.0, 1.0, 1.0,
        1.0, 1.0, 0.0,
        0.0, 0.0, 0.0,
    ];
    assert_eq!(mask_values(3, MaskType::A), a);
    assert_eq!(mask_values(3, MaskType::B), b);
    assert_eq!(mask_values(1, MaskType::B), [1.0]);
    assert_eq!(mask_values(5, MaskType::A).iter().sum::<f64>(), 12.0);
}

#[test]
fn the_masked_convolution_is_causal_in_raster_order() {
    let device = device();
    let (channels, rows, cols) = (3, 5, 6);
    let mut rng = SeededRng::new(2);
    let x_values = rng.normals(channels * rows * cols);
    let input = |values: &[f64]| {
        device
            .tensor(values.to_vec(), [1, channels, rows, cols])
            .unwrap()
    };
    for (kernel, mask_type) in [
        (3, MaskType::A),
        (5, MaskType::A),
        (3, MaskType::B),
        (5, MaskType::B),
    ] {
        let conv =
            MaskedConv2d::new(channels, 4, kernel, mask_type, device.device(), &mut rng).unwrap();
        let base = to_vec(conv.forward(input(&x_values)).unwrap());
        for p in 0..rows * cols {
            // Perturb every input at raster positions ≥ p (type A) or > p (type B).
            let first = if mask_type == MaskType::A { p } else { p + 1 };
            let mut perturbed = x_values.clone();
            for c in 0..channels {
                for q in first..rows * cols {
                    perturbed[c * rows * cols + q] += 10.0 + q as f64;
                }
            }
            let out = to_vec(conv.forward(input(&perturbed)).unwrap());
            for o in 0..4 {
                assert_eq!(
                    out[o * rows * cols + p],
                    base[o * rows * cols + p],
                    "{mask_type:?} {kernel}×{kernel}: output at {p} saw a later input"
                );
            }
            // Type B sees p itself; type A its left neighbour (or the one above, in column 0).
            let seen = match mask_type {
                MaskType::B => Some(p),
                MaskType::A if p % cols > 0 => Some(p - 1),
                MaskType::A => p.checked_sub(cols),
            };
            if let Some(seen) = seen {
                let mut perturbed = x_values.clone();
                for c in 0..channels {
                    perturbed[c * rows * cols + seen] += 1.0;
                }
                let out = to_vec(conv.forward(input(&perturbed)).unwrap());
                assert!(
                    (0..4).any(|o| out[o * rows * cols + p] != base[o * rows * cols + p]),
                    "{mask_type:?}: output at {p} ignores input {seen}"
                );
            }
        }
    }
}

#[test]
fn the_prior_s_logits_at_a_position_depend_only_on_earlier_codes() {
    let device = device();
    let (k, rows, cols) = (5, 7, 7);
    let mut rng = SeededRng::new(4);
    let prior = PixelCnnConfig::new(k, (rows, cols))
        .with_width(8)
        .with_layers(2)
        .init(device.device(), &mut rng)
        .unwrap();
    let codes: Vec<usize> = (0..2 * rows * cols)
        .map(|_| rng.below(k as u64) as usize)
        .collect();
    let base = to_vec(prior.logits(&codes).unwrap());
    for p in [0, 1, 6, 7, 24, 47, 48] {
        let mut changed = codes.clone();
        for grid in 0..2 {
            for q in p..rows * cols {
                let c = &mut changed[grid * rows * cols + q];
                *c = (*c + 1 + rng.below(k as u64 - 1) as usize) % k;
            }
        }
        let logits = to_vec(prior.logits(&changed).unwrap());
        for grid in 0..2 {
            for code in 0..k {
                let index = ((grid * k + code) * rows * cols) + p;
                assert_eq!(logits[index], base[index], "position {p}");
            }
        }
    }
}

#[test]
fn a_prior_trained_on_one_grid_samples_it() {
    let device = device();
    let (k, rows, cols) = (4, 3, 3);
    let grid: Vec<usize> = vec![0, 1, 2, 3, 0, 1, 2, 3, 1];
    let prior = PixelCnnConfig::new(k, (rows, cols))
        .with_width(16)
        .with_layers(1)
        .init(device.device(), &mut SeededRng::new(5))
        .unwrap();
    let start = prior
        .negative_log_likelihood(&grid)
        .unwrap()
        .into_scalar::<f64>();
    let target = grid.clone();
    let mut step = PriorStep::new(
        device.clone(),
        prior,
        Optim::new(AdamConfig::new().build()),
        4,
        Box::new(move |_rng: &mut SeededRng, grids| target.repeat(grids)),
    )
    .unwrap();
    let dir: PathBuf = std::env::temp_dir().join(format!("sysdyn-vq-prior-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = TrainConfig::new(150)
        .with_schedule(LrSchedule::Constant { lr: 1e-2 })
        .with_progress(ProgressMode::Quiet);
    let summary = Trainer::new(config, &dir).run(&mut step).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    // From about ln 4 = 1.39 nats per code to nearly 0: a point mass.
    let end = summary.last_loss.unwrap();
    assert!(end < 0.05 && start > 0.5, "{start} → {end}");
    let samples = step.prior.sample(20, &mut SeededRng::new(9)).unwrap();
    let exact = samples
        .chunks(rows * cols)
        .filter(|s| *s == grid.as_slice())
        .count();
    assert!(exact >= 18, "{exact} of 20 samples are the training grid");
    assert_eq!(
        samples,
        step.prior.sample(20, &mut SeededRng::new(9)).unwrap()
    );
}

#[test]
fn bad_input_is_a_typed_error() {
    let device = device();
    let mut rng = SeededRng::new(0);
    for (input, output, kernel, mask) in [
        (2, 2, 4, MaskType::B),
        (0, 2, 3, MaskType::A),
        (2, 2, 1, MaskType::A),
    ] {
        assert!(matches!(
            MaskedConv2d::new(input, output, kernel, mask, device.device(), &mut rng),
            Err(GenerativeError::InvalidParameter { .. })
        ));
    }
    let conv = MaskedConv2d::new(2, 3, 3, MaskType::A, device.device(), &mut rng).unwrap();
    assert!(matches!(
        conv.forward(device.zeros([1, 3, 4, 4])),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        PixelCnnConfig::new(0, (7, 7)).init(device.device(), &mut rng),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    let prior = PixelCnnConfig::new(3, (2, 2))
        .with_width(4)
        .init(device.device(), &mut rng)
        .unwrap();
    assert!(matches!(
        prior.logits(&[0, 1, 2]),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        prior.logits(&[0, 1, 2, 3]),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    assert!(matches!(
        prior.sample(0, &mut rng),
        Err(GenerativeError::EmptyBatch { .. })
    ));
}
