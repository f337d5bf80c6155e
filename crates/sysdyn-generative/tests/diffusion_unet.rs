//! The image U-Net noise predictor: output shapes (two and three levels, with attention),
//! dependence on the step and the label (the null class is what `None` evaluates), its input
//! and parameter gradients against central finite differences on a tiny configuration, label
//! dropout training only the null class, the samplers running it unchanged, and bad sizes,
//! labels and image shapes refused with typed errors.

use std::sync::OnceLock;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::AdamConfig;
use burn::tensor::{DType, Tensor, TensorData};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::diffusion::{
    AncestralVariance, DataRange, DdpmConfig, DdpmStep, Denoiser, DiffusionUNet,
    DiffusionUNetConfig, Guided, NoiseSchedule, sample_ancestral_clipped, sample_ddim,
};
use sysdyn_generative::inputs::{ImageShape, LabelledSampler};
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

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

/// 1×4×4 images, channels 4 and 8 in 2 groups, attention, 3 classes.
fn tiny(seed: u64) -> DiffusionUNet {
    DiffusionUNetConfig::new(ImageShape::new(1, 4, 4), vec![4, 8])
        .with_groups(2)
        .with_attention(true)
        .with_classes(3)
        .init(device().device(), &mut SeededRng::new(seed))
        .unwrap()
}

#[test]
fn the_output_has_the_images_shape_and_depends_on_step_and_label() {
    let d = device();
    let digits = ImageShape::new(1, 28, 28);
    for (channels, attention) in [(vec![8, 16], true), (vec![8, 8, 16], false)] {
        let net = DiffusionUNetConfig::new(digits, channels)
            .with_attention(attention)
            .with_classes(10)
            .init(d.device(), &mut SeededRng::new(1))
            .unwrap();
        let x = d.randn(&mut SeededRng::new(2), [2, 784]);
        let out = net.forward(x.clone(), &[10, 10], Some(&[3, 3])).unwrap();
        assert_eq!(out.dims(), [2, 784]);
        let base = values(out);
        let later = values(net.forward(x.clone(), &[500, 500], Some(&[3, 3])).unwrap());
        let other = values(net.forward(x.clone(), &[10, 10], Some(&[7, 7])).unwrap());
        assert!(max_diff(&base, &later) > 1e-3, "no dependence on t");
        assert!(max_diff(&base, &other) > 1e-3, "no dependence on the label");
        // None is the null class, index 10.
        let null = values(net.forward(x.clone(), &[10, 10], None).unwrap());
        let explicit = values(net.forward_classes(x, &[10, 10], Some(&[10, 10])).unwrap());
        assert_eq!(null, explicit);
        assert!(max_diff(&null, &base) > 1e-3);
    }
}

#[test]
fn rows_are_independent() {
    // GroupNorm normalises per image, so a row's output cannot depend on its neighbours.
    let d = device();
    let net = tiny(3);
    let x = d.randn(&mut SeededRng::new(4), [3, 16]);
    let all = values(
        net.forward(x.clone(), &[5, 60, 90], Some(&[0, 1, 2]))
            .unwrap(),
    );
    let second = values(
        net.forward(x.slice([1..2, 0..16]), &[60], Some(&[1]))
            .unwrap(),
    );
    assert!(max_diff(&all[16..32], &second) < 1e-12);
}

/// `L = Σ w ⊙ f(x, t, y)` with fixed weights.
fn objective(net: &DiffusionUNet, x: Tensor<2>, weights: &Tensor<2>) -> Tensor<1> {
    (net.forward(x, &[3, 70], Some(&[2, 0])).unwrap() * weights.clone()).sum()
}

struct Nudge {
    target: usize,
    seen: usize,
    index: usize,
    delta: f64,
}

impl ModuleMapper for Nudge {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let me = self.seen;
        self.seen += 1;
        if me != self.target {
            return param;
        }
        let (id, tensor, mapper) = param.consume();
        let shape = tensor.dims();
        let device = tensor.device();
        let mut v = values(tensor.inner());
        v[self.index] += self.delta;
        let nudged = Tensor::<D>::from_data(TensorData::new(v, shape), (&device, DType::F64));
        Param::from_mapped_value(id, nudged.require_grad(), mapper)
    }
}

struct Collect<'a> {
    grads: &'a burn::tensor::Gradients,
    out: Vec<Vec<f64>>,
}

impl ModuleVisitor for Collect<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let gradient = param
            .grad(self.grads)
            .unwrap_or_else(|| param.val().inner().zeros_like());
        self.out.push(values(gradient));
    }
}

#[test]
fn input_and_parameter_gradients_match_central_differences() {
    let d = device();
    let net = tiny(5);
    let mut rng = SeededRng::new(6);
    let x_values = rng.normals(32);
    let weights = d.tensor(rng.normals(32), [2, 16]).unwrap();
    let x = d.tensor(x_values.clone(), [2, 16]).unwrap().require_grad();
    let grads = objective(&net, x.clone(), &weights).backward();
    let input_grad = values(x.grad(&grads).unwrap());
    let mut collect = Collect {
        grads: &grads,
        out: Vec::new(),
    };
    net.visit(&mut collect);
    let h = 1e-5;
    let eval = |net: &DiffusionUNet, xs: &[f64]| {
        values(objective(
            net,
            d.tensor(xs.to_vec(), [2, 16]).unwrap(),
            &weights,
        ))[0]
    };
    for index in 0..32 {
        let mut plus = x_values.clone();
        plus[index] += h;
        let mut minus = x_values.clone();
        minus[index] -= h;
        let fd = (eval(&net, &plus) - eval(&net, &minus)) / (2.0 * h);
        assert!(
            (input_grad[index] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
            "input {index}: {} vs {fd}",
            input_grad[index]
        );
    }
    let largest = input_grad.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(largest > 1e-3, "trivially small input gradient");
    // Every parameter tensor (time MLP, class table, convolutions, GroupNorm scales and
    // shifts, attention), two entries each.
    let mut checked = 0;
    for (target, gradient) in collect.out.iter().enumerate() {
        for index in [0, gradient.len() / 2] {
            let at = |delta| {
                let nudged = net.clone().map(&mut Nudge {
                    target,
                    seen: 0,
                    index,
                    delta,
                });
                eval(&nudged, &x_values)
            };
            let fd = (at(h) - at(-h)) / (2.0 * h);
            assert!(
                (gradient[index] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                "parameter {target} entry {index}: {} vs {fd}",
                gradient[index]
            );
            checked += 1;
        }
    }
    assert!(checked > 60, "only {checked} parameter entries checked");
}

fn class_table(net: &DiffusionUNet) -> Vec<f64> {
    values(net.class_table().unwrap())
}

fn labelled(rows_width: usize) -> LabelledSampler {
    Box::new(move |rng: &mut SeededRng, rows: usize| {
        let x = rng
            .normals(rows * rows_width)
            .into_iter()
            .map(|v| 0.5 * v)
            .collect();
        let labels = (0..rows).map(|r| r % 3).collect();
        (x, labels)
    })
}

#[test]
fn label_dropout_one_trains_only_the_null_class_row() {
    let d = device();
    let net = tiny(7);
    let before = class_table(&net);
    let config = DdpmConfig::new(6)
        .with_label_dropout(1.0)
        .with_ema_decay(None);
    let optim = Optim::new(AdamConfig::new().build());
    let schedule = NoiseSchedule::linear(100, 1e-4, 0.05).unwrap();
    let mut step =
        DdpmStep::conditional(d.clone(), net, optim, schedule, config, labelled(16)).unwrap();
    let train = TrainConfig::new(1);
    let mut ctx = StepContext::new(&train, 0);
    let report = step.step(&mut ctx).unwrap();
    assert!(report.loss.is_finite());
    let after = class_table(step.network());
    let width = 4 * 4; // 4c₀
    // Rows 0–2 (the classes) unchanged, row 3 (null) moved.
    assert_eq!(&after[..3 * width], &before[..3 * width]);
    assert!(max_diff(&after[3 * width..], &before[3 * width..]) > 1e-4);
}

#[test]
fn the_samplers_and_guidance_run_the_unet_unchanged() {
    let d = device();
    let net = tiny(9);
    let schedule = NoiseSchedule::linear(20, 1e-4, 0.2).unwrap();
    let x = d.randn(&mut SeededRng::new(10), [3, 16]);
    let mut guided = Guided::new(&net, vec![0, 1, 2], 2.0).unwrap();
    let out = sample_ddim(
        &schedule,
        &mut guided,
        x.clone(),
        &[0, 5, 10, 19],
        0.0,
        &mut SeededRng::new(11),
    )
    .unwrap();
    assert_eq!(out.dims(), [3, 16]);
    let clipped = sample_ancestral_clipped(
        &schedule,
        &mut &net,
        x,
        AncestralVariance::Beta,
        Some(DataRange::unit()),
        &mut SeededRng::new(12),
    )
    .unwrap();
    // The last step returns the clipped x̂₀.
    assert!(values(clipped).iter().all(|v| v.abs() <= 1.0 + 1e-12));
}

#[test]
fn bad_sizes_labels_and_image_shapes_are_typed_errors() {
    let d = device();
    let dev = d.device();
    let mut rng = SeededRng::new(0);
    let digits = ImageShape::new(1, 28, 28);
    let invalid = |r: Result<DiffusionUNet, GenerativeError>| {
        assert!(matches!(r, Err(GenerativeError::InvalidParameter { .. })))
    };
    // 28 is not divisible by 2³ (four levels).
    invalid(DiffusionUNetConfig::new(digits, vec![8, 8, 8, 8]).init(dev, &mut rng));
    invalid(DiffusionUNetConfig::new(digits, vec![]).init(dev, &mut rng));
    invalid(
        DiffusionUNetConfig::new(digits, vec![12, 16])
            .with_groups(8)
            .init(dev, &mut rng),
    );
    invalid(
        DiffusionUNetConfig::new(digits, vec![8, 16])
            .with_groups(0)
            .init(dev, &mut rng),
    );
    let net = tiny(1);
    let x = d.randn(&mut SeededRng::new(1), [2, 16]);
    // A 5×5 image for a 4×4 network.
    let wrong = d.randn(&mut SeededRng::new(1), [2, 25]);
    assert!(matches!(
        net.forward(wrong, &[1, 1], None),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        net.forward(x.clone(), &[1], None),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        net.forward(x.clone(), &[1, 1], Some(&[0, 3])),
        Err(GenerativeError::InvalidParameter { name: "label", .. })
    ));
    assert!(matches!(
        Guided::new(&net, vec![0, 5], 1.0),
        Err(GenerativeError::InvalidParameter { name: "label", .. })
    ));
    assert!(matches!(
        Guided::new(&net, vec![0, 1], -1.0),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    let unconditional = DiffusionUNetConfig::new(ImageShape::new(1, 4, 4), vec![4, 8])
        .with_groups(2)
        .init(dev, &mut rng)
        .unwrap();
    assert!(matches!(
        unconditional.forward(x, &[1, 1], Some(&[0, 0])),
        Err(GenerativeError::Unsupported { .. })
    ));
    assert_eq!(unconditional.classes(), 0);
    assert_eq!(unconditional.data_width(), 16);
}
