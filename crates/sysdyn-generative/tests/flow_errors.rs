//! Bad inputs to the flow layers come back as typed errors that say what was wrong: odd
//! channel counts for a channel-wise coupling, a zero ActNorm scale, a singular 1×1
//! convolution, widths and shapes that do not match, contexts given to unconditional layers
//! or missing for conditional ones, sides that cannot be squeezed, invalid permutations.

use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::jet::MlpConfig;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::flow::Flow;
use sysdyn_generative::flow::actnorm::ActNorm;
use sysdyn_generative::flow::base::{BaseDistribution, StandardNormal};
use sysdyn_generative::flow::chain::{Chain, VectorLayer};
use sysdyn_generative::flow::conv1x1::InvertibleConv1x1;
use sysdyn_generative::flow::coupling::{
    AffineCoupling, ConvAffineCoupling, ImageMask, Parity, ScaleBound, SplitAffineCoupling,
};
use sysdyn_generative::flow::dequantise::Dequantisation;
use sysdyn_generative::flow::model::FlowModel;
use sysdyn_generative::flow::multiscale::MultiScaleConfig;
use sysdyn_generative::flow::permutation::Permutation;
use sysdyn_generative::flow::squeeze::Squeeze;

fn device() -> SysDevice {
    "flex:f64".parse::<DeviceSpec>().unwrap().init().unwrap()
}

fn invalid(name_part: &str, result: Result<impl std::fmt::Debug, GenerativeError>) {
    match result {
        Err(GenerativeError::InvalidParameter { name, .. }) => {
            assert!(name.contains(name_part), "{name} should name {name_part}")
        }
        other => panic!("expected an invalid {name_part}, got {other:?}"),
    }
}

fn mismatch(result: Result<impl std::fmt::Debug, GenerativeError>) {
    assert!(
        matches!(result, Err(GenerativeError::ShapeMismatch { .. })),
        "expected a shape mismatch, got {result:?}"
    );
}

fn unsupported(result: Result<impl std::fmt::Debug, GenerativeError>) {
    assert!(
        matches!(result, Err(GenerativeError::Unsupported { .. })),
        "expected an unsupported request, got {result:?}"
    );
}

fn ones<const D: usize>(d: &SysDevice, shape: [usize; D]) -> Tensor<D> {
    let n = shape.iter().product();
    d.tensor(SeededRng::new(1).normals(n), shape).unwrap()
}

#[test]
fn a_channel_wise_coupling_needs_an_even_channel_count() {
    let d = device();
    for channels in [1, 3, 5] {
        let result = ConvAffineCoupling::new(
            &d,
            channels,
            &[4],
            ImageMask::Channel(Parity::Even),
            ScaleBound::Exp,
            0,
            1,
        );
        invalid("channel-wise", result);
    }
    // A checkerboard mask works on any channel count.
    ConvAffineCoupling::new(
        &d,
        3,
        &[4],
        ImageMask::Checkerboard(Parity::Odd),
        ScaleBound::Exp,
        0,
        1,
    )
    .unwrap();
    invalid(
        "tanh scale bound",
        AffineCoupling::new(
            &d,
            4,
            &[4],
            Parity::Even,
            ScaleBound::Tanh { bound: 0.0 },
            0,
            1,
        ),
    );
    invalid(
        "coupling features",
        AffineCoupling::new(&d, 1, &[4], Parity::Even, ScaleBound::Exp, 0, 1),
    );
}

#[test]
fn actnorm_refuses_a_zero_scale() {
    let d = device();
    invalid(
        "ActNorm scale",
        ActNorm::from_scale(&d, &[0.0, 0.0], &[1.0, 0.0]),
    );
    invalid("ActNorm scale", ActNorm::from_scale(&d, &[0.0], &[-2.0]));
    // A feature that is constant on the first batch has no spread to normalise.
    let batch = d
        .tensor(vec![1.0, 3.0, 2.0, 3.0, -1.0, 3.0], [3, 2])
        .unwrap();
    invalid(
        "ActNorm scale",
        Flow::<2>::initialise(ActNorm::new(&d, 2).unwrap(), batch, None),
    );
    let image = d.tensor(vec![0.5; 8], [2, 1, 2, 2]).unwrap();
    invalid(
        "ActNorm scale",
        Flow::<4>::initialise(ActNorm::new(&d, 1).unwrap(), image, None),
    );
}

#[test]
fn actnorm_initialises_to_zero_mean_and_unit_variance() {
    let d = device();
    let batch = d
        .tensor(vec![1.0, 10.0, 2.0, 30.0, 6.0, 20.0], [3, 2])
        .unwrap();
    let layer = Flow::<2>::initialise(ActNorm::new(&d, 2).unwrap(), batch.clone(), None).unwrap();
    let y = layer.forward(batch, None).unwrap().value;
    let values = y.into_data().convert::<f64>().try_to_vec::<f64>().unwrap();
    for feature in 0..2 {
        let column: Vec<f64> = values.iter().skip(feature).step_by(2).copied().collect();
        let mean = column.iter().sum::<f64>() / 3.0;
        let var = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 3.0;
        assert!(
            mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12,
            "{mean} {var}"
        );
    }
}

#[test]
fn a_singular_one_by_one_convolution_is_refused() {
    let d = device();
    invalid(
        "1×1 convolution matrix",
        InvertibleConv1x1::from_matrix(&d, 2, &[1.0, 2.0, 2.0, 4.0]),
    );
    invalid(
        "1×1 convolution matrix",
        InvertibleConv1x1::from_matrix(&d, 2, &[0.0; 4]),
    );
    mismatch(InvertibleConv1x1::from_matrix(&d, 2, &[1.0, 0.0, 0.0]));
    invalid("channels", InvertibleConv1x1::new(&d, 0, 1));
}

#[test]
fn widths_and_shapes_that_do_not_match_are_refused() {
    let d = device();
    let coupling = AffineCoupling::new(&d, 4, &[4], Parity::Even, ScaleBound::Exp, 0, 1).unwrap();
    mismatch(coupling.forward(ones(&d, [2, 3]), None));
    mismatch(coupling.inverse(ones(&d, [2, 5]), None));
    mismatch(Flow::<2>::forward(
        &Permutation::reverse(3).unwrap(),
        ones(&d, [2, 4]),
        None,
    ));
    mismatch(Flow::<4>::forward(
        &ActNorm::new(&d, 2).unwrap(),
        ones(&d, [1, 3, 2, 2]),
        None,
    ));
    mismatch(Flow::<4>::forward(
        &InvertibleConv1x1::new(&d, 2, 1).unwrap(),
        ones(&d, [1, 3, 2, 2]),
        None,
    ));
    mismatch(StandardNormal::new(3).unwrap().log_prob(ones(&d, [2, 4])));
    // Split coupling of 3 features keeping the even ones: networks 2 → 1.
    let net = |widths: Vec<usize>| MlpConfig::new(widths).init_seeded(&d, 1).unwrap();
    mismatch(SplitAffineCoupling::from_networks(
        net(vec![1, 4, 1]),
        net(vec![2, 4, 1]),
        3,
        Parity::Even,
        ScaleBound::Exp,
        0,
    ));
    mismatch(SplitAffineCoupling::from_networks(
        net(vec![2, 4, 1]),
        net(vec![2, 4, 2]),
        3,
        Parity::Even,
        ScaleBound::Exp,
        0,
    ));
    SplitAffineCoupling::from_networks(
        net(vec![2, 4, 1]),
        net(vec![2, 4, 1]),
        3,
        Parity::Even,
        ScaleBound::Exp,
        0,
    )
    .unwrap();
    let multiscale = MultiScaleConfig::new([1, 4, 4], 2, 1, vec![3])
        .init(&d, 1)
        .unwrap();
    mismatch(multiscale.forward(ones(&d, [1, 1, 4, 2]), None));
    mismatch(multiscale.inverse(ones(&d, [1, 15, 1, 1]), None));
    let model = FlowModel::new(
        StandardNormal::new(4).unwrap(),
        Chain::<VectorLayer>::new(vec![]),
    );
    mismatch(model.sample(&d, [3, 5], None, &mut SeededRng::new(1)));
    assert!(matches!(
        coupling.forward(d.zeros([0, 4]), None),
        Err(GenerativeError::EmptyBatch { .. })
    ));
}

#[test]
fn contexts_are_neither_dropped_nor_invented() {
    let d = device();
    let context = ones(&d, [2, 3]);
    let unconditional =
        AffineCoupling::new(&d, 4, &[4], Parity::Even, ScaleBound::Exp, 0, 1).unwrap();
    unsupported(unconditional.forward(ones(&d, [2, 4]), Some(&context)));
    unsupported(Flow::<2>::forward(
        &Permutation::reverse(4).unwrap(),
        ones(&d, [2, 4]),
        Some(&context),
    ));
    unsupported(Flow::<2>::forward(
        &ActNorm::new(&d, 4).unwrap(),
        ones(&d, [2, 4]),
        Some(&context),
    ));
    let conditional =
        AffineCoupling::new(&d, 4, &[4], Parity::Even, ScaleBound::Exp, 3, 1).unwrap();
    unsupported(conditional.forward(ones(&d, [2, 4]), None));
    mismatch(conditional.forward(ones(&d, [2, 4]), Some(&ones(&d, [2, 2]))));
    mismatch(conditional.forward(ones(&d, [2, 4]), Some(&ones(&d, [3, 3]))));
    conditional
        .forward(ones(&d, [2, 4]), Some(&context))
        .unwrap();
    // A composition hands the context to its conditional layers only, and refuses one when it
    // has none.
    let chain = Chain::new(vec![
        VectorLayer::ActNorm(ActNorm::new(&d, 4).unwrap()),
        VectorLayer::Affine(conditional),
    ]);
    assert_eq!(Flow::<2>::context_width(&chain), 3);
    chain.forward(ones(&d, [2, 4]), Some(&context)).unwrap();
    unsupported(chain.forward(ones(&d, [2, 4]), None));
    let plain = Chain::new(vec![VectorLayer::ActNorm(ActNorm::new(&d, 4).unwrap())]);
    unsupported(plain.forward(ones(&d, [2, 4]), Some(&context)));
    let multiscale = MultiScaleConfig::new([1, 4, 4], 1, 1, vec![3])
        .init(&d, 1)
        .unwrap();
    unsupported(multiscale.forward(ones(&d, [2, 1, 4, 4]), Some(&context)));
}

#[test]
fn sides_that_cannot_be_halved_are_refused() {
    let d = device();
    invalid(
        "squeezed image side",
        Squeeze::new().forward(ones(&d, [1, 1, 3, 2]), None),
    );
    invalid(
        "unsqueezed channels",
        Squeeze::new().inverse(ones(&d, [1, 6, 1, 1]), None),
    );
    // 28 = 4 · 7: two levels, not three.
    invalid(
        "multi-scale levels",
        MultiScaleConfig::new([1, 28, 28], 3, 1, vec![4]).init(&d, 1),
    );
    invalid(
        "multi-scale levels",
        MultiScaleConfig::new([1, 28, 28], 0, 1, vec![4]).init(&d, 1),
    );
}

#[test]
fn invalid_permutations_and_quantised_values_are_refused() {
    invalid("permutation entry", Permutation::new(vec![0, 0, 1]));
    invalid("permutation entry", Permutation::new(vec![0, 3, 1]));
    invalid("permutation width", Permutation::new(vec![]));
    let dequantise = Dequantisation::EIGHT_BIT;
    let mut rng = SeededRng::new(1);
    invalid("quantised value", dequantise.dequantise(&[3.5], &mut rng));
    invalid("quantised value", dequantise.dequantise(&[256.0], &mut rng));
    invalid("quantised value", dequantise.dequantise(&[-1.0], &mut rng));
    invalid("dequantisation levels", Dequantisation::new(1));
}
