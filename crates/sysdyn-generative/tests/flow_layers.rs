//! Every flow layer of `flow/` is checked on its mathematics:
//!
//! - `inverse(forward(x)) = x` to 1e-5 in f32 and 1e-10 in f64 (flex), and the forward
//!   log-determinant at `x` is minus the inverse one at `z = f(x)`, on random batches
//!   (proptest over the draws);
//! - `log|det J|` equals the log-determinant of the brute-force Jacobian (central finite
//!   differences in f64 of the flattened map) in both directions, for vectors of width ≤ 4 and
//!   for tiny images (2×2×2, and 1×4×4 for the multi-scale flow), conditional layers at a
//!   fixed context;
//! - Glow's 1×1 convolution starts as a rotation (`WᵀW = I`, `log|det W| = 0`) and
//!   `W W⁻¹ = I`; the squeeze moves each 2×2 block into four channels as documented.

use burn::tensor::{Tensor, TensorData};
use proptest::prelude::*;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::jet::Activation;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::flow::actnorm::ActNorm;
use sysdyn_generative::flow::chain::{Chain, ImageLayer, VectorLayer};
use sysdyn_generative::flow::conv1x1::InvertibleConv1x1;
use sysdyn_generative::flow::coupling::{
    AdditiveCoupling, AffineCoupling, ConvAffineCoupling, DiagonalScaling, ImageMask, Parity,
    ScaleBound, SplitAffineCoupling,
};
use sysdyn_generative::flow::multiscale::{MultiScale, MultiScaleConfig};
use sysdyn_generative::flow::permutation::Permutation;
use sysdyn_generative::flow::revnet::RevNetBlock;
use sysdyn_generative::flow::squeeze::Squeeze;
use sysdyn_generative::flow::{Flow, Transformed};

fn device(spec: &str) -> SysDevice {
    spec.parse::<DeviceSpec>().unwrap().init().unwrap()
}

fn f32_device() -> SysDevice {
    device("flex:f32")
}

fn f64_device() -> SysDevice {
    device("flex:f64")
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

fn like<const D: usize, const L: usize>(
    values: Vec<f64>,
    shape: [usize; D],
    like: &Tensor<L>,
) -> Tensor<D> {
    Tensor::from_data(
        TensorData::new(values, shape).convert_dtype(like.dtype()),
        (&like.device(), like.dtype()),
    )
}

type Run<const D: usize> = Box<dyn Fn(Tensor<D>, bool) -> Result<Transformed<D>, GenerativeError>>;

/// A layer under test: its name, the shape of one input row (batch axis 1) and of one
/// latent row, and the map in either direction (`true`: inverse) with its fixed context.
struct Case<const D: usize> {
    name: String,
    input: [usize; D],
    latent: [usize; D],
    run: Run<D>,
}

fn case<const D: usize, L: Flow<D> + 'static>(
    name: &str,
    layer: L,
    input: [usize; D],
    latent: [usize; D],
    context: Option<Vec<f64>>,
) -> Case<D> {
    let run: Run<D> = Box::new(move |x: Tensor<D>, inverse: bool| {
        let batch = x.dims()[0];
        let context = context.as_ref().map(|row| {
            let values: Vec<f64> = (0..batch).flat_map(|_| row.iter().copied()).collect();
            like(values, [batch, row.len()], &x)
        });
        if inverse {
            layer.inverse(x, context.as_ref())
        } else {
            layer.forward(x, context.as_ref())
        }
    });
    Case {
        name: name.to_string(),
        input,
        latent,
        run,
    }
}

const HIDDEN: &[usize] = &[8];

fn vector_cases(d: &SysDevice) -> Vec<Case<2>> {
    let affine = |features, parity, bound, context, seed| {
        AffineCoupling::new(d, features, HIDDEN, parity, bound, context, seed).unwrap()
    };
    let split = |features, activation, parity, bound, context, seed| {
        SplitAffineCoupling::new(
            d, features, HIDDEN, activation, parity, bound, context, seed,
        )
        .unwrap()
    };
    let chain = Chain::new(vec![
        VectorLayer::ActNorm(
            ActNorm::from_scale(d, &[0.5, -0.3, 0.1, 0.0], &[1.5, 0.7, 1.1, 0.9]).unwrap(),
        ),
        VectorLayer::Linear(InvertibleConv1x1::new(d, 4, 11).unwrap()),
        VectorLayer::Affine(affine(4, Parity::Even, ScaleBound::Exp, 0, 12)),
        VectorLayer::Permutation(Permutation::random(4, 13).unwrap()),
        VectorLayer::Additive(AdditiveCoupling::new(d, 4, HIDDEN, Parity::Odd, 0, 14).unwrap()),
        VectorLayer::Scaling(DiagonalScaling::new(d, &[0.2, -0.1, 0.3, 0.05]).unwrap()),
        VectorLayer::RevNet(RevNetBlock::new(d, 4, HIDDEN, 0, 15).unwrap()),
        VectorLayer::SplitAffine(split(
            4,
            Activation::Tanh,
            Parity::Odd,
            ScaleBound::Exp,
            0,
            16,
        )),
    ]);
    let row = |w| [1, w];
    vec![
        case(
            "split affine coupling (W4's: tanh(S(x_c)), ReLU nets)",
            split(
                2,
                Activation::Relu,
                Parity::Even,
                ScaleBound::Tanh { bound: 1.0 },
                0,
                17,
            ),
            row(2),
            row(2),
            None,
        ),
        case(
            "conditional split affine coupling",
            split(3, Activation::Tanh, Parity::Odd, ScaleBound::Exp, 2, 18),
            row(3),
            row(3),
            Some(vec![-0.4, 0.9]),
        ),
        case(
            "reverse permutation",
            Permutation::reverse(4).unwrap(),
            row(4),
            row(4),
            None,
        ),
        case(
            "random permutation",
            Permutation::random(4, 3).unwrap(),
            row(4),
            row(4),
            None,
        ),
        case(
            "invertible linear (LU)",
            InvertibleConv1x1::new(d, 4, 5).unwrap(),
            row(4),
            row(4),
            None,
        ),
        case(
            "invertible linear from a matrix",
            InvertibleConv1x1::from_matrix(d, 3, &[0.0, 2.0, 1.0, 1.0, 0.5, -1.0, 3.0, 0.0, 0.25])
                .unwrap(),
            row(3),
            row(3),
            None,
        ),
        case(
            "additive coupling",
            AdditiveCoupling::new(d, 4, HIDDEN, Parity::Even, 0, 6).unwrap(),
            row(4),
            row(4),
            None,
        ),
        case(
            "conditional additive coupling",
            AdditiveCoupling::new(d, 3, HIDDEN, Parity::Odd, 2, 6).unwrap(),
            row(3),
            row(3),
            Some(vec![0.4, -1.2]),
        ),
        case(
            "diagonal scaling",
            DiagonalScaling::new(d, &[0.3, -0.2, 0.1, 0.5]).unwrap(),
            row(4),
            row(4),
            None,
        ),
        case(
            "affine coupling exp(s)",
            affine(4, Parity::Odd, ScaleBound::Exp, 0, 7),
            row(4),
            row(4),
            None,
        ),
        case(
            "affine coupling tanh-bounded",
            affine(3, Parity::Even, ScaleBound::Tanh { bound: 1.5 }, 0, 8),
            row(3),
            row(3),
            None,
        ),
        case(
            "conditional affine coupling",
            affine(4, Parity::Even, ScaleBound::Tanh { bound: 2.0 }, 2, 9),
            row(4),
            row(4),
            Some(vec![0.7, -0.3]),
        ),
        case(
            "ActNorm",
            ActNorm::from_scale(d, &[0.5, -1.0, 0.25, 0.0], &[2.0, 0.5, 1.5, 0.8]).unwrap(),
            row(4),
            row(4),
            None,
        ),
        case(
            "RevNet block",
            RevNetBlock::new(d, 4, HIDDEN, 0, 10).unwrap(),
            row(4),
            row(4),
            None,
        ),
        case(
            "conditional RevNet block (odd width)",
            RevNetBlock::new(d, 3, HIDDEN, 1, 10).unwrap(),
            row(3),
            row(3),
            Some(vec![0.9]),
        ),
        case("chain of every vector layer", chain, row(4), row(4), None),
        case(
            "conditional chain (context only to the couplings)",
            Chain::new(vec![
                VectorLayer::ActNorm(
                    ActNorm::from_scale(d, &[0.2, -0.1, 0.4], &[0.9, 1.3, 1.1]).unwrap(),
                ),
                VectorLayer::Affine(affine(3, Parity::Even, ScaleBound::Exp, 2, 19)),
                VectorLayer::Permutation(Permutation::reverse(3).unwrap()),
                VectorLayer::RevNet(RevNetBlock::new(d, 3, HIDDEN, 2, 20).unwrap()),
                VectorLayer::SplitAffine(split(
                    3,
                    Activation::Tanh,
                    Parity::Odd,
                    ScaleBound::Exp,
                    2,
                    21,
                )),
            ]),
            row(3),
            row(3),
            Some(vec![0.6, -0.2]),
        ),
    ]
}

fn image_cases(d: &SysDevice) -> Vec<Case<4>> {
    let coupling = |mask, bound, context, seed| {
        ConvAffineCoupling::new(d, 2, &[3], mask, bound, context, seed).unwrap()
    };
    let tanh = ScaleBound::Tanh { bound: 2.0 };
    let image = [1, 2, 2, 2];
    let chain = Chain::new(vec![
        ImageLayer::ActNorm(ActNorm::from_scale(d, &[0.1, -0.2], &[1.3, 0.8]).unwrap()),
        ImageLayer::Conv1x1(InvertibleConv1x1::from_matrix(d, 2, &[0.9, -0.6, 0.2, 1.4]).unwrap()),
        ImageLayer::Affine(coupling(ImageMask::Checkerboard(Parity::Even), tanh, 0, 22)),
        ImageLayer::Affine(coupling(
            ImageMask::Channel(Parity::Odd),
            ScaleBound::Exp,
            0,
            23,
        )),
        ImageLayer::Permutation(Permutation::reverse(2).unwrap()),
        ImageLayer::Squeeze(Squeeze::new()),
    ]);
    let multiscale = MultiScaleConfig::new([1, 4, 4], 2, 2, vec![3])
        .init(d, 31)
        .unwrap();
    vec![
        case(
            "channel permutation",
            Permutation::reverse(2).unwrap(),
            image,
            image,
            None,
        ),
        case(
            "1×1 convolution (rotation)",
            InvertibleConv1x1::new(d, 2, 5).unwrap(),
            image,
            image,
            None,
        ),
        case(
            "1×1 convolution (a matrix of determinant 1.32)",
            InvertibleConv1x1::from_matrix(d, 2, &[1.5, 0.3, -0.4, 0.8]).unwrap(),
            image,
            image,
            None,
        ),
        case(
            "ActNorm per channel",
            ActNorm::from_scale(d, &[0.3, -0.7], &[1.7, 0.6]).unwrap(),
            image,
            image,
            None,
        ),
        case(
            "checkerboard coupling (even)",
            coupling(ImageMask::Checkerboard(Parity::Even), ScaleBound::Exp, 0, 1),
            image,
            image,
            None,
        ),
        case(
            "checkerboard coupling (odd, tanh)",
            coupling(ImageMask::Checkerboard(Parity::Odd), tanh, 0, 2),
            image,
            image,
            None,
        ),
        case(
            "channel-wise coupling (even)",
            coupling(ImageMask::Channel(Parity::Even), ScaleBound::Exp, 0, 3),
            image,
            image,
            None,
        ),
        case(
            "channel-wise coupling (odd, tanh)",
            coupling(ImageMask::Channel(Parity::Odd), tanh, 0, 4),
            image,
            image,
            None,
        ),
        case(
            "conditional checkerboard coupling",
            coupling(ImageMask::Checkerboard(Parity::Even), tanh, 2, 5),
            image,
            image,
            Some(vec![0.5, -0.8]),
        ),
        case("squeeze", Squeeze::new(), image, [1, 8, 1, 1], None),
        case(
            "chain of every image layer",
            chain,
            image,
            [1, 8, 1, 1],
            None,
        ),
        case::<4, MultiScale>(
            "multi-scale (1×4×4, two levels)",
            multiscale,
            [1, 1, 4, 4],
            [1, 16, 1, 1],
            None,
        ),
        case(
            "conditional multi-scale (1×4×4, two levels)",
            MultiScaleConfig::new([1, 4, 4], 2, 2, vec![3])
                .with_context(2)
                .init(d, 32)
                .unwrap(),
            [1, 1, 4, 4],
            [1, 16, 1, 1],
            Some(vec![-0.5, 1.1]),
        ),
    ]
}

/// `shape` with `rows` rows.
fn rows<const D: usize>(shape: [usize; D], rows: usize) -> [usize; D] {
    let mut s = shape;
    s[0] = rows;
    s
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Round trip and opposite log-determinants on a batch of three rows drawn from `seed`.
fn check_round_trip<const D: usize>(
    d: &SysDevice,
    case: &Case<D>,
    seed: u64,
    scale: f64,
    tol: f64,
) {
    let shape = rows(case.input, 3);
    let n: usize = shape.iter().product();
    let values: Vec<f64> = SeededRng::new(seed)
        .normals(n)
        .iter()
        .map(|v| scale * v)
        .collect();
    let x = d.tensor(values.clone(), shape).unwrap();
    let forward = (case.run)(x, false).unwrap();
    assert_eq!(
        forward.value.dims(),
        rows(case.latent, 3),
        "{}: latent shape",
        case.name
    );
    assert_eq!(forward.log_det.dims(), [3], "{}: log-det shape", case.name);
    let back = (case.run)(forward.value, true).unwrap();
    let recovered = host(back.value);
    let size = values.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let error = max_abs_diff(&recovered, &values);
    assert!(
        error <= tol * size,
        "{}: round trip error {error:e} (tolerance {tol:e}·{size})",
        case.name
    );
    let (f, i) = (host(forward.log_det), host(back.log_det));
    for (a, b) in f.iter().zip(&i) {
        assert!(
            (a + b).abs() <= tol * (1.0 + a.abs()),
            "{}: log-dets {a} and {b} are not opposite",
            case.name
        );
    }
}

/// `log|det A|` of a row-major `n × n` matrix by LU with partial pivoting.
fn log_abs_det(mut a: Vec<f64>, n: usize) -> f64 {
    let mut total = 0.0;
    for k in 0..n {
        let p = (k..n)
            .max_by(|&i, &j| a[i * n + k].abs().total_cmp(&a[j * n + k].abs()))
            .unwrap();
        for j in 0..n {
            a.swap(k * n + j, p * n + j);
        }
        let pivot = a[k * n + k];
        assert!(pivot != 0.0, "singular Jacobian");
        total += pivot.abs().ln();
        for i in k + 1..n {
            let f = a[i * n + k] / pivot;
            for j in k..n {
                a[i * n + j] -= f * a[k * n + j];
            }
        }
    }
    total
}

/// The Jacobian of the flattened map at one row `x` by central differences, and the layer's
/// own log-determinant there.
fn brute_force<const D: usize>(
    d: &SysDevice,
    case: &Case<D>,
    shape: [usize; D],
    x: &[f64],
    inverse: bool,
) -> (f64, f64) {
    let n = x.len();
    let eval = |values: Vec<f64>| -> Transformed<D> {
        (case.run)(d.tensor(values, shape).unwrap(), inverse).unwrap()
    };
    let h = 1e-6;
    let mut jacobian = vec![0.0; n * n];
    for j in 0..n {
        let mut plus = x.to_vec();
        let mut minus = x.to_vec();
        plus[j] += h;
        minus[j] -= h;
        let (fp, fm) = (host(eval(plus).value), host(eval(minus).value));
        assert_eq!(
            fp.len(),
            n,
            "{}: the map must keep the dimension",
            case.name
        );
        for i in 0..n {
            jacobian[i * n + j] = (fp[i] - fm[i]) / (2.0 * h);
        }
    }
    let own = host(eval(x.to_vec()).log_det)[0];
    (log_abs_det(jacobian, n), own)
}

fn check_jacobian<const D: usize>(d: &SysDevice, case: &Case<D>, seed: u64) {
    let n: usize = case.input.iter().product();
    let x = SeededRng::new(seed).normals(n);
    let (brute, own) = brute_force(d, case, case.input, &x, false);
    assert!(
        (brute - own).abs() < 1e-6 * (1.0 + own.abs()),
        "{}: forward log|det J| {own} vs finite differences {brute}",
        case.name
    );
    let z = host(
        (case.run)(d.tensor(x, case.input).unwrap(), false)
            .unwrap()
            .value,
    );
    let (brute_inv, own_inv) = brute_force(d, case, case.latent, &z, true);
    assert!(
        (brute_inv - own_inv).abs() < 1e-6 * (1.0 + own_inv.abs()),
        "{}: inverse log|det J| {own_inv} vs finite differences {brute_inv}",
        case.name
    );
    assert!(
        (own + own_inv).abs() < 1e-10 * (1.0 + own.abs()),
        "{}: {own} vs {own_inv}",
        case.name
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn every_vector_layer_inverts_its_forward_map(seed in 0u64..10_000, scale in 0.3f64..2.0) {
        let (d32, d64) = (f32_device(), f64_device());
        for case in vector_cases(&d32) {
            check_round_trip(&d32, &case, seed, scale, 1e-5);
        }
        for case in vector_cases(&d64) {
            check_round_trip(&d64, &case, seed, scale, 1e-10);
        }
    }

    #[test]
    fn every_image_layer_inverts_its_forward_map(seed in 0u64..10_000, scale in 0.3f64..2.0) {
        let (d32, d64) = (f32_device(), f64_device());
        for case in image_cases(&d32) {
            check_round_trip(&d32, &case, seed, scale, 1e-5);
        }
        for case in image_cases(&d64) {
            check_round_trip(&d64, &case, seed, scale, 1e-10);
        }
    }

    #[test]
    fn vector_log_determinants_equal_the_brute_force_jacobian(seed in 0u64..10_000) {
        let d = f64_device();
        for case in vector_cases(&d) {
            check_jacobian(&d, &case, seed);
        }
    }
}

#[test]
fn image_log_determinants_equal_the_brute_force_jacobian() {
    let d = f64_device();
    for seed in [1, 2] {
        for case in image_cases(&d) {
            check_jacobian(&d, &case, seed);
        }
    }
}

#[test]
fn the_one_by_one_convolution_starts_as_a_rotation_and_inverts_exactly() {
    let d = f64_device();
    for channels in [1, 2, 3, 5] {
        let conv = InvertibleConv1x1::new(&d, channels, 7).unwrap();
        let w = conv.matrix();
        let eye: Vec<f64> = (0..channels * channels)
            .map(|k| f64::from(u8::from(k / channels == k % channels)))
            .collect();
        let gram = host(w.clone().transpose().matmul(w.clone()));
        assert!(max_abs_diff(&gram, &eye) < 1e-12, "WᵀW = {gram:?}");
        let product = host(w.matmul(conv.inverse_matrix()));
        assert!(max_abs_diff(&product, &eye) < 1e-12, "W W⁻¹ = {product:?}");
        // A rotation preserves volume: log|det W| = 0.
        let x = d.tensor(vec![0.0; channels], [1, channels]).unwrap();
        let log_det = host(Flow::<2>::forward(&conv, x, None).unwrap().log_det)[0];
        assert!(log_det.abs() < 1e-12, "log|det W| = {log_det}");
    }
    // A given matrix is reproduced by its LU factors.
    let w = [0.0, 2.0, 1.0, 1.0, 0.5, -1.0, 3.0, 0.0, 0.25];
    let conv = InvertibleConv1x1::from_matrix(&d, 3, &w).unwrap();
    assert!(max_abs_diff(&host(conv.matrix()), &w) < 1e-14);
}

#[test]
fn the_squeeze_moves_each_two_by_two_block_into_four_channels() {
    let d = f64_device();
    // One channel, 2×4: blocks [[0, 1], [4, 5]] and [[2, 3], [6, 7]].
    let x = d
        .tensor((0..8).map(f64::from).collect::<Vec<_>>(), [1, 1, 2, 4])
        .unwrap();
    let z = Squeeze::new().forward(x, None).unwrap();
    assert_eq!(z.value.dims(), [1, 4, 1, 2]);
    // Channel 2i + j holds the block's entry (i, j).
    assert_eq!(host(z.value), vec![0.0, 2.0, 1.0, 3.0, 4.0, 6.0, 5.0, 7.0]);
    assert_eq!(host(z.log_det), vec![0.0]);
}
