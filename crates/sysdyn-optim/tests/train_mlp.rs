//! The optimizers train a real burn model on every backend: a tanh MLP fitted to a smooth 1-D
//! function with mini-batches drawn without replacement per epoch. Each optimizer must cut the
//! full-batch loss substantially within a few dozen steps.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_optim::sampler::EpochSampler;
use sysdyn_optim::{Adam, GradientDescent, HeavyBall, Nesterov, RmsProp, UpdateRule};
use sysdyn_testing::test_devices_f32;

const HIDDEN: usize = 16;
const POINTS: usize = 64;
const BATCH: usize = 16;
const STEPS: usize = 60;

#[derive(Module, Debug)]
struct Mlp {
    hidden: Linear,
    output: Linear,
}

impl Mlp {
    /// Seeded weights (drawn on the host: the same network on every backend).
    fn new(device: &SysDevice, seed: u64) -> Self {
        let mut rng = SeededRng::new(seed);
        let layer = |rng: &mut SeededRng, d_in: usize, d_out: usize| Linear {
            weight: Param::from_tensor(
                device
                    .randn(rng, [d_in, d_out])
                    .mul_scalar(1.0 / (d_in as f64).sqrt()),
            ),
            bias: Some(Param::from_tensor(device.zeros([d_out]))),
        };
        Mlp {
            hidden: layer(&mut rng, 1, HIDDEN),
            output: layer(&mut rng, HIDDEN, 1),
        }
    }

    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.output.forward(self.hidden.forward(x).tanh())
    }
}

fn target(x: f64) -> f64 {
    (1.5 * x).sin()
}

fn mse(model: &Mlp, device: &SysDevice, xs: &[f64]) -> Tensor<1> {
    let n = xs.len();
    let x = device.tensor(xs.to_vec(), [n, 1]).unwrap();
    let y = device
        .tensor(xs.iter().map(|&x| target(x)).collect::<Vec<_>>(), [n, 1])
        .unwrap();
    (model.forward(x) - y).square().mean()
}

fn scalar(t: Tensor<1>) -> f64 {
    sysdyn_core::State::to_f64_vec(&t)[0]
}

/// Trains a fresh network with `rule` at learning rate `lr`; returns (initial, final) loss.
fn train<R: UpdateRule>(rule: &R, lr: f64, device: &SysDevice) -> (f64, f64) {
    let xs: Vec<f64> = (0..POINTS)
        .map(|i| -2.0 + 4.0 * i as f64 / (POINTS - 1) as f64)
        .collect();
    let mut model = Mlp::new(device, 5);
    let mut optimizer = rule.module_optimizer();
    let mut sampler = EpochSampler::new(POINTS, BATCH, 17).unwrap();
    let initial = scalar(mse(&model, device, &xs));
    for _ in 0..STEPS {
        let batch: Vec<f64> = sampler.next_batch().iter().map(|&i| xs[i]).collect();
        let loss = mse(&model, device, &batch);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(lr, model, grads);
    }
    (initial, scalar(mse(&model, device, &xs)))
}

fn check<R: UpdateRule>(rule: &R, lr: f64) {
    for device in test_devices_f32(true) {
        let (initial, last) = train(rule, lr, &device);
        println!(
            "{:>10} on {:<22} loss {initial:.4} -> {last:.4} ({:.1}%)",
            rule.name(),
            device.spec().to_string(),
            100.0 * last / initial
        );
        assert!(
            last.is_finite() && last < 0.25 * initial,
            "{} on {}: {initial} -> {last}",
            rule.name(),
            device.spec()
        );
    }
}

#[test]
fn gradient_descent_trains_an_mlp() {
    check(&GradientDescent, 0.3);
}

#[test]
fn heavy_ball_trains_an_mlp() {
    check(&HeavyBall::new(0.9).unwrap(), 0.05);
}

#[test]
fn nesterov_trains_an_mlp() {
    check(&Nesterov::new(0.9).unwrap(), 0.05);
}

#[test]
fn rmsprop_trains_an_mlp() {
    check(&RmsProp::wgan(), 0.005);
}

#[test]
fn adam_trains_an_mlp() {
    check(&Adam::default(), 0.03);
}
