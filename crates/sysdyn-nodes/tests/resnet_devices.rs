//! Every depth-as-time and recurrent model runs on every test device (ndarray, flex, wgpu): a
//! forward pass and one backward pass from the same host parameters agree with flex f64 to the
//! device's precision (1e-10 in f64, 1e-4 relative in f32). Tensors are tiny because wgpu runs
//! on a software Vulkan device in CI.

use burn::tensor::Tensor;
use sysdyn_core::State;
use sysdyn_core::device::{Backend, DeviceSpec, Precision, SysDevice};
use sysdyn_core::jet::Activation;
use sysdyn_core::rng::SeededRng;
use sysdyn_nodes::resnet::{
    BlockScheme, ConvResNet, HamiltonianNet, ResNet, VerletNet, WeightForm,
};
use sysdyn_nodes::rnn::{GateWeights, Gru, RecurrentCell, VanillaRnn};

/// Host values of a seeded normal sample, scaled.
fn host(seed: u64, n: usize, scale: f64) -> Vec<f64> {
    SeededRng::new(seed)
        .normals(n)
        .into_iter()
        .map(|v| v * scale)
        .collect()
}

fn tensor<const D: usize>(dev: &SysDevice, seed: u64, shape: [usize; D], scale: f64) -> Tensor<D> {
    let n = shape.iter().product();
    dev.tensor(host(seed, n, scale), shape).unwrap()
}

/// Runs `model` (which returns its output, then gradients) on flex f64 and on each test device
/// with autodiff, and compares every returned vector.
fn agrees_on_every_device(name: &str, model: impl Fn(&SysDevice) -> Vec<Vec<f64>>) {
    let reference = model(
        &DeviceSpec::new(Backend::Flex, Precision::F64)
            .with_autodiff(true)
            .init()
            .unwrap(),
    );
    assert!(reference.iter().all(|v| !v.is_empty()));
    for dev in sysdyn_testing::test_devices(true) {
        let results = model(&dev);
        assert_eq!(results.len(), reference.len());
        for (k, (got, want)) in results.iter().zip(&reference).enumerate() {
            let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            let tol = match dev.spec().precision {
                Precision::F64 => 1e-10,
                _ => 1e-4 * scale,
            };
            assert_eq!(got.len(), want.len());
            let err = got
                .iter()
                .zip(want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(
                err < tol,
                "{name} on {}: output {k} differs from flex f64 by {err}",
                dev.spec()
            );
        }
    }
}

/// `Σ output ⊙ w` with fixed weights `w`, so that every output entry gets its own gradient.
fn weighted_sum<const D: usize>(dev: &SysDevice, output: Tensor<D>) -> Tensor<1> {
    let shape = output.dims();
    (output * tensor(dev, 99, shape, 1.0)).sum()
}

fn dense_resnet(form: WeightForm) -> impl Fn(&SysDevice) -> Vec<Vec<f64>> {
    move |dev| {
        let net = ResNet::new(
            tensor(dev, 1, [3, 3, 3], 0.5),
            tensor(dev, 2, [3, 3], 0.2),
            0.3,
            Activation::Tanh,
            BlockScheme::ForwardEuler,
            form,
        )
        .unwrap();
        let y0 = tensor(dev, 3, [2, 3], 1.0).require_grad();
        let out = net.forward(y0.clone()).unwrap();
        let grads = weighted_sum(dev, out.clone()).backward();
        vec![
            out.to_f64_vec(),
            y0.grad(&grads).unwrap().to_f64_vec(),
            net.weights.val().grad(&grads).unwrap().to_f64_vec(),
        ]
    }
}

#[test]
fn standard_resnet_agrees_on_every_device() {
    agrees_on_every_device("standard ResNet", dense_resnet(WeightForm::Free));
}

#[test]
fn antisymmetric_resnet_agrees_on_every_device() {
    agrees_on_every_device(
        "antisymmetric ResNet",
        dense_resnet(WeightForm::Antisymmetric { gamma: 0.1 }),
    );
}

#[test]
fn hamiltonian_and_verlet_networks_agree_on_every_device() {
    agrees_on_every_device("Hamiltonian network", |dev| {
        let net = HamiltonianNet::new(
            tensor(dev, 4, [3, 3, 3], 0.5),
            tensor(dev, 5, [3, 3], 0.2),
            0.3,
            Activation::Tanh,
        )
        .unwrap();
        let y0 = tensor(dev, 6, [2, 3], 1.0).require_grad();
        let out = net.forward(y0.clone()).unwrap();
        let grads = weighted_sum(dev, out.clone()).backward();
        vec![
            out.to_f64_vec(),
            y0.grad(&grads).unwrap().to_f64_vec(),
            net.factors.val().grad(&grads).unwrap().to_f64_vec(),
        ]
    });
    agrees_on_every_device("Verlet network", |dev| {
        let net = VerletNet::new(
            tensor(dev, 7, [3, 3, 2], 0.5),
            tensor(dev, 8, [3, 2], 0.2),
            tensor(dev, 9, [3, 3], 0.2),
            0.3,
            Activation::Tanh,
        )
        .unwrap();
        let y0 = tensor(dev, 10, [2, 3], 1.0).require_grad();
        let (y, z) = net.forward(y0.clone(), None).unwrap();
        let grads = (weighted_sum(dev, y.clone()) + weighted_sum(dev, z.clone())).backward();
        vec![
            y.to_f64_vec(),
            z.to_f64_vec(),
            y0.grad(&grads).unwrap().to_f64_vec(),
            net.weights.val().grad(&grads).unwrap().to_f64_vec(),
        ]
    });
}

#[test]
fn conv_block_agrees_on_every_device() {
    for form in [WeightForm::Free, WeightForm::Antisymmetric { gamma: 0.1 }] {
        agrees_on_every_device(&format!("conv ResNet {form:?}"), move |dev| {
            let net = ConvResNet::new(
                tensor(dev, 11, [2 * 2, 2, 3, 3], 0.4),
                tensor(dev, 12, [2, 2], 0.2),
                0.3,
                Activation::Tanh,
                form,
            )
            .unwrap();
            let y0 = tensor(dev, 13, [1, 2, 4, 4], 1.0).require_grad();
            let out = net.forward(y0.clone()).unwrap();
            let grads = weighted_sum(dev, out.clone()).backward();
            vec![
                out.to_f64_vec(),
                y0.grad(&grads).unwrap().to_f64_vec(),
                net.kernels.val().grad(&grads).unwrap().to_f64_vec(),
            ]
        });
    }
}

/// Four steps of a cell from `h0` driven by fixed inputs; output, and the gradients with
/// respect to `h0` and the first parameter the caller names.
fn run_cell<C: RecurrentCell>(
    dev: &SysDevice,
    cell: &C,
    parameter: impl Fn(&C) -> Tensor<2>,
) -> Vec<Vec<f64>> {
    let (hidden, input) = (cell.hidden_size(), cell.input_size());
    let inputs: Vec<Tensor<2>> = (0..4)
        .map(|t| tensor(dev, 20 + t, [2, input], 1.0))
        .collect();
    let h0 = tensor(dev, 30, [2, hidden], 0.5).require_grad();
    let states = cell.run(h0.clone(), &inputs).unwrap();
    let last = states.last().unwrap().clone();
    let grads = weighted_sum(dev, last.clone()).backward();
    vec![
        last.to_f64_vec(),
        h0.grad(&grads).unwrap().to_f64_vec(),
        parameter(cell).grad(&grads).unwrap().to_f64_vec(),
    ]
}

#[test]
fn vanilla_rnn_agrees_on_every_device() {
    agrees_on_every_device("vanilla RNN", |dev| {
        let cell = VanillaRnn::new(
            tensor(dev, 14, [3, 3], 0.6),
            tensor(dev, 15, [2, 3], 0.6),
            tensor(dev, 16, [3], 0.2),
        )
        .unwrap();
        run_cell(dev, &cell, |c| c.recurrent.val())
    });
}

#[test]
fn gru_agrees_on_every_device() {
    agrees_on_every_device("GRU", |dev| {
        let gate = |seed: u64| {
            GateWeights::new(
                tensor(dev, seed, [3, 3], 0.6),
                tensor(dev, seed + 1, [2, 3], 0.6),
                tensor(dev, seed + 2, [3], 0.2),
            )
            .unwrap()
        };
        let cell = Gru::new(gate(40), gate(43), gate(46)).unwrap();
        run_cell(dev, &cell, |c| c.candidate.recurrent.val())
    });
}
