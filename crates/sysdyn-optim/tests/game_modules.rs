//! The game schemes on a pair of burn modules give the same iterates as the plain f64 schemes,
//! on every backend, with plain gradient steps and with stateful base optimizers.

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use sysdyn_core::State;
use sysdyn_core::device::SysDevice;
use sysdyn_optim::analysis::Matrix;
use sysdyn_optim::game::{BilinearGame, GameScheme, play_with_rules};
use sysdyn_optim::{GameOptimizer, GradientDescent, HeavyBall, Player, UpdateRule};
use sysdyn_testing::test_devices;

/// One player: a parameter vector.
#[derive(Module, Debug)]
struct Player1d {
    value: Param<Tensor<1>>,
}

const COUPLING: [[f64; 3]; 3] = [[1.0, 0.5, 0.0], [0.0, -1.0, 0.3], [0.2, 0.0, 0.8]];
const X0: [f64; 3] = [1.0, -0.5, 0.25];
const Y0: [f64; 3] = [0.5, 0.75, -1.0];

/// min_x max_y xᵀAy: the first player's loss is f = xᵀAy, the second's is -f.
fn gradients(device: &SysDevice) -> impl FnMut(Player, &Player1d, &Player1d) -> GradientsParams {
    let flat: Vec<f64> = COUPLING.iter().flatten().copied().collect();
    let a = device.tensor(flat, [3, 3]).unwrap();
    move |player, x, y| {
        let ay = a.clone().matmul(y.value.val().reshape([3, 1])).reshape([3]);
        let f = (x.value.val() * ay).sum();
        match player {
            Player::First => GradientsParams::from_grads(f.backward(), x),
            Player::Second => GradientsParams::from_grads(f.neg().backward(), y),
        }
    }
}

fn player(device: &SysDevice, values: [f64; 3]) -> Player1d {
    Player1d {
        value: Param::from_tensor(device.tensor(values, [3]).unwrap()),
    }
}

fn compare<R: UpdateRule>(scheme: GameScheme, rules: [R; 2], lr: [f64; 2], steps: usize) {
    let game = BilinearGame::new(Matrix::from_rows(&COUPLING).unwrap());
    let reference = play_with_rules(&game, scheme, rules.clone(), lr, &X0, &Y0, steps).unwrap();
    for device in test_devices(true) {
        let f64_device = device.dtype() == burn::tensor::DType::F64;
        let tol = if f64_device { 1e-13 } else { 1e-5 };
        let mut optimizer = GameOptimizer::with_rules(scheme, rules.clone(), lr).unwrap();
        let mut grads = gradients(&device);
        let (mut x, mut y) = (player(&device, X0), player(&device, Y0));
        for k in 1..=steps {
            (x, y) = optimizer.step(x, y, &mut grads);
            let got = [x.value.val().to_f64_vec(), y.value.val().to_f64_vec()];
            let expected = [&reference.xs[k], &reference.ys[k]];
            for (g, e) in got.iter().zip(expected) {
                for (a, b) in g.iter().zip(e) {
                    assert!(
                        (a - b).abs() <= tol * b.abs().max(1.0),
                        "{} {} on {} step {k}: {a} vs {b}",
                        scheme.name(),
                        rules[0].name(),
                        device.spec()
                    );
                }
            }
        }
    }
}

#[test]
fn every_scheme_matches_the_plain_path_with_gradient_steps() {
    for scheme in GameScheme::ALL {
        compare(scheme, [GradientDescent, GradientDescent], [0.1, 0.2], 12);
    }
}

#[test]
fn stateful_base_optimizers_match_the_plain_path() {
    // Heavy-ball players: extragradient's look-ahead must not advance the velocity, optimistic
    // play feeds 2g_k - g_{k-1} into it.
    let hb = HeavyBall::new(0.6).unwrap();
    for scheme in GameScheme::ALL {
        compare(scheme, [hb, hb], [0.05, 0.08], 10);
    }
}

#[test]
fn invalid_learning_rates_are_refused() {
    assert!(GameOptimizer::new(GameScheme::Alternating, [0.1, -0.1]).is_err());
    assert!(GameOptimizer::new(GameScheme::Alternating, [f64::INFINITY, 0.1]).is_err());
}
