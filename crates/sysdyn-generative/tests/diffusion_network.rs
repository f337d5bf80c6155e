//! W3's ε-network: the step embedding against hand values, the layer sizes, the forward pass
//! against the same network evaluated on the host, class conditioning with the null class,
//! classifier-free guidance's combination, and the first training loss of `DdpmStep` against
//! the simple loss computed by hand from the same draws.

use std::sync::OnceLock;

use burn::module::Module;
use burn::optim::AdamConfig;
use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::jet::Activation;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::diffusion::{
    DdpmConfig, DdpmStep, EpsNet, EpsNetConfig, Guided, NoisePredictor, NoiseSchedule,
    TimeEmbedding,
};
use sysdyn_generative::inputs::DataSampler;
use sysdyn_train::{Optim, StepContext, TrainConfig, TrainStep};

fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut device: SysDevice = "flex:f64:autodiff"
                .parse::<DeviceSpec>()
                .unwrap()
                .init()
                .unwrap();
            device.configure_defaults().unwrap();
            device
        })
        .clone()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

/// The network on the host: `[x, emb(t) + c]` through the layers with SiLU between them.
fn host_forward(net: &EpsNet, x: &[f64], t: usize, class_row: Option<&[f64]>) -> Vec<f64> {
    let mut emb = TimeEmbedding::new(32).unwrap().embed(t);
    if let Some(c) = class_row {
        emb.iter_mut().zip(c).for_each(|(e, c)| *e += c);
    }
    let mut h: Vec<f64> = x.iter().copied().chain(emb).collect();
    let layers = net.network().layers();
    for (index, layer) in layers.iter().enumerate() {
        let [inputs, outputs] = layer.weight.dims();
        let w = values(layer.weight.val());
        let b = values(layer.bias.as_ref().unwrap().val());
        let mut out = b.clone();
        for (o, out_o) in out.iter_mut().enumerate().take(outputs) {
            for (i, h_i) in h.iter().enumerate().take(inputs) {
                *out_o += h_i * w[i * outputs + o];
            }
        }
        if index + 1 < layers.len() {
            out.iter_mut().for_each(|v| *v /= 1.0 + (-*v).exp());
        }
        h = out;
    }
    h
}

#[test]
fn the_step_embedding_matches_hand_values() {
    let embedding = TimeEmbedding::new(32).unwrap();
    let frequencies = embedding.frequencies();
    assert_eq!(frequencies.len(), 16);
    assert_eq!(frequencies[0], 1.0);
    assert!((frequencies[1] - 0.5623413251903491).abs() < 1e-15); // 10000^(−1/16)
    assert!((frequencies[15] - 0.00017782794100389203).abs() < 1e-18); // 10000^(−15/16)
    let zero = embedding.embed(0);
    assert!(zero[..16].iter().all(|v| *v == 0.0) && zero[16..].iter().all(|v| *v == 1.0));
    let one = embedding.embed(1);
    assert!((one[0] - 1f64.sin()).abs() < 1e-15);
    assert!((one[16] - 1f64.cos()).abs() < 1e-15);
    assert!((one[1] - 0.5331684399140229).abs() < 1e-15);
    let late = embedding.embed(999);
    assert!((late[16 + 3] + 0.14956482749287323).abs() < 1e-12);
    assert!((late[15] - 0.1767171598140916).abs() < 1e-12);
    assert!(TimeEmbedding::new(31).is_err() && TimeEmbedding::new(0).is_err());
}

#[test]
fn the_network_has_w3s_layers_and_computes_the_host_forward_pass() {
    let device = device();
    let net = EpsNetConfig::w3().init_seeded(&device, 3).unwrap();
    assert_eq!(net.network().widths(), vec![34, 128, 128, 128, 2]);
    assert_eq!(net.network().activation(), Activation::Silu);
    assert_eq!(
        net.num_params(),
        34 * 128 + 128 + 2 * (128 * 128 + 128) + 128 * 2 + 2
    );
    let x = [0.3, -1.2, 2.0, 0.5, -0.7, 0.0];
    let steps = [0, 417, 999];
    let out = values(
        net.forward(device.tensor(x.to_vec(), [3, 2]).unwrap(), &steps, None)
            .unwrap(),
    );
    for (row, &t) in steps.iter().enumerate() {
        let expected = host_forward(&net, &x[row * 2..row * 2 + 2], t, None);
        for j in 0..2 {
            assert!((out[row * 2 + j] - expected[j]).abs() < 1e-12, "row {row}");
        }
    }
}

#[test]
fn class_conditioning_adds_the_class_vector_and_guidance_combines_the_two_predictions() {
    let device = device();
    let net = EpsNetConfig::w3()
        .with_classes(3)
        .init_seeded(&device, 4)
        .unwrap();
    assert_eq!(net.classes(), 3);
    // The class table is the network's only parameter besides the MLP: [classes + 1, 32].
    let table_params = net.num_params() - net.network().num_params();
    assert_eq!(table_params, 4 * 32);
    let x = device.tensor(vec![0.4, -0.3, 1.0, 2.0], [2, 2]).unwrap();
    let steps = [10, 10];
    let conditional = values(net.forward(x.clone(), &steps, Some(&[2, 0])).unwrap());
    let null = values(net.forward(x.clone(), &steps, None).unwrap());
    assert_ne!(conditional, null);

    // w = 0 is the conditional prediction; w = 2 is 3 ε(x, y) − 2 ε(x, ∅).
    let mut plain = Guided::new(&net, vec![2, 0], 0.0).unwrap();
    assert_eq!(values(plain.predict(x.clone(), 10).unwrap()), conditional);
    let mut guided = Guided::new(&net, vec![2, 0], 2.0).unwrap();
    let out = values(guided.predict(x.clone(), 10).unwrap());
    for i in 0..4 {
        assert!((out[i] - (3.0 * conditional[i] - 2.0 * null[i])).abs() < 1e-12);
    }

    // Bad input.
    assert!(matches!(
        Guided::new(&net, vec![0], -0.5),
        Err(GenerativeError::InvalidParameter {
            name: "guidance scale w",
            ..
        })
    ));
    assert!(Guided::new(&net, vec![0], f64::NAN).is_err());
    assert!(matches!(
        Guided::new(&net, vec![3], 1.0),
        Err(GenerativeError::InvalidParameter { name: "label", .. })
    ));
    assert!(matches!(
        net.forward(x.clone(), &steps, Some(&[0, 3])),
        Err(GenerativeError::InvalidParameter { name: "label", .. })
    ));
    assert!(matches!(
        net.forward(x.clone(), &steps, Some(&[0])),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let unconditional = EpsNetConfig::w3().init_seeded(&device, 5).unwrap();
    assert!(matches!(
        Guided::new(&unconditional, vec![0], 1.0),
        Err(GenerativeError::Unsupported { .. })
    ));
    assert!(matches!(
        unconditional.forward(x.clone(), &steps, Some(&[0, 1])),
        Err(GenerativeError::Unsupported { .. })
    ));
    let wide = device.zeros([2, 3]);
    assert!(matches!(
        unconditional.forward(wide, &steps, None),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        unconditional.forward(x, &[1, 2, 3], None),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let mut config = EpsNetConfig::w3();
    config.embedding_dim = 7;
    assert!(config.init_seeded(&device, 1).is_err());
}

#[test]
fn the_first_training_loss_is_the_simple_loss_of_the_same_draws() {
    let device = device();
    let net = EpsNetConfig::w3().init_seeded(&device, 6).unwrap();
    let initial = net.clone();
    let rows = 8;
    let data: DataSampler = Box::new(|rng: &mut SeededRng, rows| {
        rng.normals(2 * rows)
            .iter()
            .map(|z| 2.0 + 0.1 * z)
            .collect()
    });
    let mut step = DdpmStep::new(
        device.clone(),
        net,
        Optim::new(AdamConfig::new().build()),
        NoiseSchedule::ddpm_linear(),
        DdpmConfig::new(rows),
        data,
    )
    .unwrap();
    let config = TrainConfig::new(1);
    let mut ctx = StepContext::new(&config, 0);
    // The step's draws, in its order: the rows, one t per row, then ε.
    let mut rng = ctx.rng.clone();
    let x0: Vec<f64> = rng
        .normals(2 * rows)
        .iter()
        .map(|z| 2.0 + 0.1 * z)
        .collect();
    let steps: Vec<usize> = (0..rows).map(|_| rng.below(1000) as usize).collect();
    let epsilon = rng.normals(2 * rows);
    let schedule = NoiseSchedule::ddpm_linear();
    let mut loss = 0.0;
    for row in 0..rows {
        let ab = schedule.alpha_bars()[steps[row]];
        let x_t: Vec<f64> = (0..2)
            .map(|j| ab.sqrt() * x0[row * 2 + j] + (1.0 - ab).sqrt() * epsilon[row * 2 + j])
            .collect();
        let out = host_forward(&initial, &x_t, steps[row], None);
        for j in 0..2 {
            loss += (out[j] - epsilon[row * 2 + j]).powi(2);
        }
    }
    loss /= (2 * rows) as f64;
    let report = step.step(&mut ctx).unwrap();
    assert!(
        (report.loss - loss).abs() < 1e-12,
        "{} vs {loss}",
        report.loss
    );
    // The optimizer moved the weights; the average moved by (1 − 0.999) of that.
    let moved = values(step.network().network().layers()[0].weight.val());
    let averaged = values(step.sampling_network().network().layers()[0].weight.val());
    let start = values(initial.network().layers()[0].weight.val());
    for ((m, a), s) in moved.iter().zip(&averaged).zip(&start) {
        assert!((a - (0.999 * s + 0.001 * m)).abs() < 1e-12);
    }
}
