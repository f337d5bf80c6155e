//! The VQ-VAE's codebook: nearest-code assignment against a brute-force argmin (rows and maps),
//! the straight-through estimator's gradient checked exactly, the codebook and commitment
//! losses against hand values with their gradients reaching only what `sg` allows, and bad
//! input refused with typed errors.

use std::sync::OnceLock;

use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::vq::{Codebook, flatten_positions, unflatten_positions};

/// f64 on flex with autodiff, burn's default float type set to f64, made once.
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

fn random(rng: &mut SeededRng, shape: [usize; 2]) -> (Vec<f64>, Tensor<2>) {
    let values = rng.normals(shape[0] * shape[1]);
    let t = device().tensor(values.clone(), shape).unwrap();
    (values, t)
}

/// `argmin_k Σ_d (z_d − e_kd)²` by direct differences, the first minimum on ties.
fn brute_force(z: &[f64], e: &[f64], width: usize) -> Vec<usize> {
    z.chunks(width)
        .map(|row| {
            let mut best = (0, f64::INFINITY);
            for (k, code) in e.chunks(width).enumerate() {
                let d: f64 = row.iter().zip(code).map(|(a, b)| (a - b) * (a - b)).sum();
                if d < best.1 {
                    best = (k, d);
                }
            }
            best.0
        })
        .collect()
}

#[test]
fn nearest_code_assignment_equals_a_brute_force_argmin() {
    let mut rng = SeededRng::new(11);
    for (rows, codes, width) in [(1, 1, 1), (50, 7, 3), (200, 32, 8), (64, 512, 2)] {
        let (e_values, e) = random(&mut rng, [codes, width]);
        let codebook = Codebook::from_vectors(e).unwrap();
        let (z_values, z) = random(&mut rng, [rows, width]);
        let assigned = codebook.assign(z.clone()).unwrap();
        assert_eq!(
            assigned,
            brute_force(&z_values, &e_values, width),
            "{rows}×{codes}×{width}"
        );
        // The expanded distances agree with the direct ones.
        let distances = to_vec(codebook.squared_distances(z).unwrap());
        for (j, row) in z_values.chunks(width).enumerate() {
            for (k, code) in e_values.chunks(width).enumerate() {
                let direct: f64 = row.iter().zip(code).map(|(a, b)| (a - b) * (a - b)).sum();
                assert!((distances[j * codes + k] - direct).abs() < 1e-12);
            }
        }
    }
}

#[test]
fn a_feature_map_is_assigned_position_by_position_in_batch_then_raster_order() {
    let (batch, width, rows, cols) = (2, 3, 4, 5);
    let mut rng = SeededRng::new(5);
    let map_values = rng.normals(batch * width * rows * cols);
    let map: Tensor<4> = device()
        .tensor(map_values.clone(), [batch, width, rows, cols])
        .unwrap();
    let flat = flatten_positions(map.clone());
    assert_eq!(flat.dims(), [batch * rows * cols, width]);
    let flat_values = to_vec(flat.clone());
    for b in 0..batch {
        for i in 0..rows {
            for j in 0..cols {
                for d in 0..width {
                    let row = (b * rows + i) * cols + j;
                    let in_map = ((b * width + d) * rows + i) * cols + j;
                    assert_eq!(flat_values[row * width + d], map_values[in_map]);
                }
            }
        }
    }
    assert_eq!(
        to_vec(unflatten_positions(flat.clone(), batch, rows, cols).unwrap()),
        map_values
    );
    let (e_values, e) = random(&mut rng, [6, width]);
    let codebook = Codebook::from_vectors(e).unwrap();
    assert_eq!(
        codebook.assign(flat).unwrap(),
        brute_force(&flat_values, &e_values, width)
    );
}

#[test]
fn the_straight_through_gradient_reaches_the_encoder_unchanged() {
    let device = device();
    let mut rng = SeededRng::new(3);
    let (rows, codes, width) = (12, 5, 4);
    let (_, e) = random(&mut rng, [codes, width]);
    let codebook = Codebook::from_vectors(e).unwrap();
    let (_, z_e) = random(&mut rng, [rows, width]);
    let z_e = z_e.require_grad();
    let weights = device
        .tensor(rng.normals(rows * width), [rows, width])
        .unwrap();
    let quantised = codebook.quantise(z_e.clone(), 0.25).unwrap();
    // z_q has the nearest codes' values, to the last bit.
    let z_q_values = to_vec(codebook.lookup(&quantised.codes).unwrap());
    assert_eq!(to_vec(quantised.quantised.clone()), z_q_values);

    // Nonlinear losses of z_q only: a chain of operations, and one that uses z_q twice.
    type Loss = Box<dyn Fn(Tensor<2>) -> Tensor<1>>;
    let w = weights.clone();
    let chain: Loss = Box::new(move |z| (z * w.clone()).square().sum());
    let w = weights.clone();
    let branching: Loss = Box::new(move |z| (z.clone() * w.clone()).square().sum() + z.sin().sum());
    for loss_of in [chain, branching] {
        let quantised = codebook.quantise(z_e.clone(), 0.25).unwrap();
        let grads = loss_of(quantised.quantised).backward();
        let through_encoder = to_vec(z_e.grad(&grads).unwrap());
        // The codebook gets nothing from a loss on z_q: sg(e − z_e) cuts it off.
        let codebook_grad = codebook.vectors.grad(&grads);
        assert!(codebook_grad.is_none_or(|g| to_vec(g).iter().all(|&v| v == 0.0)));

        // The same loss at a leaf holding z_q's values.
        let z_q = device
            .tensor(z_q_values.clone(), [rows, width])
            .unwrap()
            .require_grad();
        let grads = loss_of(z_q.clone()).backward();
        let at_z_q = to_vec(z_q.grad(&grads).unwrap());
        assert_eq!(
            through_encoder, at_z_q,
            "∂L/∂z_e must equal ∂L/∂z_q exactly"
        );
    }
}

#[test]
fn codebook_and_commitment_losses_match_hand_values_and_move_only_what_sg_allows() {
    let device = device();
    let e = device
        .tensor(vec![0.0, 0.0, 1.0, 1.0, -2.0, 3.0], [3, 2])
        .unwrap();
    let codebook = Codebook::from_vectors(e).unwrap();
    let z_values = vec![0.2, -0.1, 0.9, 1.3, 0.6, 0.7];
    let z_e = device
        .tensor(z_values.clone(), [3, 2])
        .unwrap()
        .require_grad();
    let beta = 0.25;
    let q = codebook.quantise(z_e.clone(), beta).unwrap();
    // (0.2, −0.1) → e₀, (0.9, 1.3) → e₁, (0.6, 0.7) → e₁ (0.32 against 0.52 for e₀); e₂ unused.
    assert_eq!(q.codes, vec![0, 1, 1]);
    let squares = 0.04 + 0.01 + 0.01 + 0.09 + 0.16 + 0.09;
    let codebook_loss = q.codebook_loss.clone().into_scalar::<f64>();
    let commitment_loss = q.commitment_loss.clone().into_scalar::<f64>();
    assert!(
        (codebook_loss - squares / 6.0).abs() < 1e-15,
        "{codebook_loss}"
    );
    assert!(
        (commitment_loss - beta * squares / 6.0).abs() < 1e-15,
        "{commitment_loss}"
    );

    // Codebook loss: ∂/∂e_k = (2/6) Σ_{j→k} (e_k − z_j); nothing reaches z_e.
    let grads = q.codebook_loss.backward();
    assert!(
        z_e.grad(&grads)
            .is_none_or(|g| to_vec(g).iter().all(|&v| v == 0.0))
    );
    let e_grad = to_vec(codebook.vectors.grad(&grads).unwrap());
    let expected = [
        2.0 / 6.0 * (0.0 - 0.2),
        2.0 / 6.0 * (0.0 + 0.1),
        2.0 / 6.0 * ((1.0 - 0.9) + (1.0 - 0.6)),
        2.0 / 6.0 * ((1.0 - 1.3) + (1.0 - 0.7)),
        0.0,
        0.0,
    ];
    for (g, x) in e_grad.iter().zip(expected) {
        assert!((g - x).abs() < 1e-15, "{e_grad:?} vs {expected:?}");
    }

    // Commitment loss: ∂/∂z_j = β (2/6) (z_j − e_{k(j)}); nothing reaches the codebook.
    let grads = q.commitment_loss.backward();
    assert!(
        codebook
            .vectors
            .grad(&grads)
            .is_none_or(|g| to_vec(g).iter().all(|&v| v == 0.0))
    );
    let z_grad = to_vec(z_e.grad(&grads).unwrap());
    let nearest = [0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
    for ((g, z), e) in z_grad.iter().zip(&z_values).zip(nearest) {
        assert!((g - beta * 2.0 / 6.0 * (z - e)).abs() < 1e-15, "{z_grad:?}");
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    let device = device();
    let mut rng = SeededRng::new(1);
    assert!(matches!(
        Codebook::new(0, 4, device.device(), &mut rng),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    assert!(matches!(
        Codebook::new(4, 0, device.device(), &mut rng),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    let codebook = Codebook::new(4, 3, device.device(), &mut rng).unwrap();
    let z = device.tensor(rng.normals(6), [3, 2]).unwrap();
    assert!(matches!(
        codebook.assign(z),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let z = device.tensor(rng.normals(6), [2, 3]).unwrap();
    for beta in [-0.1, f64::NAN, f64::INFINITY] {
        let err = codebook.quantise(z.clone(), beta).unwrap_err();
        assert!(
            matches!(err, GenerativeError::InvalidParameter { .. }),
            "{err}"
        );
    }
    assert!(codebook.quantise(z, 0.0).is_ok());
    assert!(matches!(
        codebook.assign(device.zeros([0, 3])),
        Err(GenerativeError::EmptyBatch { .. })
    ));
    assert!(matches!(
        codebook.lookup(&[0, 4]),
        Err(GenerativeError::InvalidParameter { .. })
    ));
}
