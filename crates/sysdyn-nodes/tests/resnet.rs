//! Residual networks as ODE discretisations: each block is one step of its scheme on the layer
//! field, the stable architectures have the spectra and invertibility the theory promises, the
//! regularisers match hand-computed values, and prolongation in depth preserves the function to
//! discretisation accuracy (f64 on flex).

use burn::tensor::Tensor;
use sysdyn_core::State;
use sysdyn_core::device::{Backend, DeviceSpec, Precision, SysDevice};
use sysdyn_core::jet::Activation;
use sysdyn_core::rng::SeededRng;
use sysdyn_nodes::resnet::{
    BlockScheme, Complex, ConvResNet, DepthNetwork, HamiltonianNet, ResNet, ResNetError, VerletNet,
    WeightForm, forward_euler_amplification, layer_spectra, perturbation_growth,
    smoothness_in_depth, spread, weight_decay,
};
use sysdyn_solvers::methods::{EULER, MIDPOINT, RK4};
use sysdyn_solvers::symplectic::{Separable, StepCache, VELOCITY_VERLET};
use sysdyn_solvers::{SolveConfig, solve, tableau::ButcherTableau};

fn device() -> SysDevice {
    DeviceSpec::new(Backend::Flex, Precision::F64)
        .init()
        .unwrap()
}

fn randn<const D: usize>(
    dev: &SysDevice,
    rng: &mut SeededRng,
    shape: [usize; D],
    scale: f64,
) -> Tensor<D> {
    dev.randn(rng, shape) * scale
}

fn max_abs_diff(a: &Tensor<2>, b: &Tensor<2>) -> f64 {
    a.to_f64_vec()
        .iter()
        .zip(b.to_f64_vec())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn random_resnet(
    dev: &SysDevice,
    seed: u64,
    layers: usize,
    n: usize,
    h: f64,
    scheme: BlockScheme,
    form: WeightForm,
) -> ResNet {
    let mut rng = SeededRng::new(seed);
    ResNet::new(
        randn(dev, &mut rng, [layers, n, n], 0.8),
        randn(dev, &mut rng, [layers, n], 0.3),
        h,
        Activation::Tanh,
        scheme,
        form,
    )
    .unwrap()
}

#[test]
fn runge_kutta_blocks_are_one_solver_step_on_the_layer_field() {
    let dev = device();
    let h = 0.3;
    let mut rng = SeededRng::new(7);
    let y0 = randn(&dev, &mut rng, [4, 3], 1.0);
    let cases: [(BlockScheme, &ButcherTableau); 3] = [
        (BlockScheme::ForwardEuler, &EULER),
        (BlockScheme::Midpoint, &MIDPOINT),
        (BlockScheme::Rk4, &RK4),
    ];
    for (scheme, method) in cases {
        let net = random_resnet(&dev, 11, 3, 3, h, scheme, WeightForm::Free);
        let states = net.trajectory(y0.clone()).unwrap();
        // Layer j is one step of the solver on f_j(y) = tanh(y K_j + b_j) from the layer's input.
        for j in 0..3 {
            let mut f = |_t: f64, y: &Tensor<2>| net.field(j, y.clone());
            let sol = solve(
                &mut f,
                method,
                (0.0, h),
                states[j].clone(),
                &SolveConfig::fixed(h),
            )
            .unwrap();
            assert_eq!(sol.stats.steps(), 1);
            let err = max_abs_diff(sol.last(), &states[j + 1]);
            assert!(err < 1e-14, "{}: layer {j} differs by {err}", scheme.name());
        }
    }
}

#[test]
fn adams_bashforth_block_is_the_two_step_formula() {
    let dev = device();
    let h = 0.2;
    let net = random_resnet(
        &dev,
        3,
        3,
        2,
        h,
        BlockScheme::AdamsBashforth2,
        WeightForm::Free,
    );
    let y0 = dev.tensor(vec![0.4, -0.3, 1.0, 0.2], [2, 2]).unwrap();
    let states = net.trajectory(y0.clone()).unwrap();
    let f0 = net.field(0, y0.clone());
    let y1 = y0 + f0.clone() * h;
    let f1 = net.field(1, y1.clone());
    let y2 = y1.clone() + f1.clone() * (1.5 * h) - f0 * (0.5 * h);
    let y3 = y2.clone() + net.field(2, y2.clone()) * (1.5 * h) - f1 * (0.5 * h);
    for (j, expected) in [(1, y1), (2, y2), (3, y3)] {
        assert!(max_abs_diff(&states[j], &expected) < 1e-15, "layer {j}");
    }
}

/// With the same parameters in every layer the network is a fixed-step solve of an autonomous
/// ODE over [0, 1]; the error against a fine RK4 solve shows each scheme's order.
#[test]
fn blocks_converge_at_the_order_of_their_scheme() {
    let dev = device();
    let mut rng = SeededRng::new(21);
    let k = randn(&dev, &mut rng, [1, 3, 3], 0.8);
    let b = randn(&dev, &mut rng, [1, 3], 0.3);
    let y0 = randn(&dev, &mut rng, [2, 3], 1.0);
    let constant_net = |layers: usize, scheme| {
        ResNet::new(
            k.clone().repeat_dim(0, layers),
            b.clone().repeat_dim(0, layers),
            1.0 / layers as f64,
            Activation::Tanh,
            scheme,
            WeightForm::Free,
        )
        .unwrap()
    };
    let reference = constant_net(2000, BlockScheme::Rk4)
        .forward(y0.clone())
        .unwrap();
    for (scheme, order) in [
        (BlockScheme::ForwardEuler, 1.0),
        (BlockScheme::Midpoint, 2.0),
        (BlockScheme::AdamsBashforth2, 2.0),
        (BlockScheme::Rk4, 4.0),
    ] {
        let layers = [10usize, 20, 40];
        let steps: Vec<f64> = layers.iter().map(|&n| 1.0 / n as f64).collect();
        let errors: Vec<f64> = layers
            .iter()
            .map(|&n| {
                max_abs_diff(
                    &constant_net(n, scheme).forward(y0.clone()).unwrap(),
                    &reference,
                )
            })
            .collect();
        let observed = sysdyn_testing::convergence_order(&steps, &errors);
        assert!(
            (observed - order).abs() < 0.25,
            "{}: observed order {observed}, errors {errors:?}",
            scheme.name()
        );
    }
}

#[test]
fn leapfrog_block_is_stormer_verlet_from_rest() {
    let dev = device();
    let h = 0.25;
    let layers = 6;
    let mut rng = SeededRng::new(5);
    let k = randn(&dev, &mut rng, [1, 3, 3], 0.8);
    let b = randn(&dev, &mut rng, [1, 3], 0.3);
    let net = ResNet::new(
        k.repeat_dim(0, layers),
        b.repeat_dim(0, layers),
        h,
        Activation::Tanh,
        BlockScheme::Leapfrog,
        WeightForm::Free,
    )
    .unwrap();
    let y0 = randn(&dev, &mut rng, [2, 3], 1.0);
    let states = net.trajectory(y0.clone()).unwrap();
    // Y'' = -f(Y) as q' = p, p' = -f(q) with p(0) = 0.
    let mut system = Separable::new(
        |p: &Tensor<2>| p.clone(),
        |q: &Tensor<2>| -net.field(0, q.clone()),
    );
    let mut cache = StepCache::default();
    let (mut q, mut p) = (y0.clone(), y0.zeros_like());
    for (j, state) in states.iter().enumerate().skip(1) {
        (q, p) = VELOCITY_VERLET.step(&mut system, q, p, h, &mut cache);
        let err = max_abs_diff(&q, state);
        assert!(
            err < 1e-14,
            "layer {j} differs from velocity Verlet by {err}"
        );
    }
}

#[test]
fn antisymmetric_layers_have_imaginary_spectra_and_damping_shifts_them() {
    let dev = device();
    let h = 0.1;
    let undamped = random_resnet(
        &dev,
        9,
        4,
        5,
        h,
        BlockScheme::ForwardEuler,
        WeightForm::Antisymmetric { gamma: 0.0 },
    );
    let spectra = layer_spectra(&undamped).unwrap();
    assert_eq!(spectra.len(), 4);
    for eig in &spectra {
        assert_eq!(eig.len(), 5);
        for l in eig {
            assert!(l.re.abs() < 1e-12, "eigenvalue {l} is not imaginary");
        }
        // Forward Euler amplifies every nonzero imaginary mode: |1 + i h ω| > 1.
        let largest = eig.iter().map(|l| l.im.abs()).fold(0.0, f64::max);
        let amplification = forward_euler_amplification(eig, h);
        assert!((amplification - (1.0 + (h * largest).powi(2)).sqrt()).abs() < 1e-12);
        assert!(amplification > 1.0);
    }
    let gamma = 2.0;
    let damped = random_resnet(
        &dev,
        9,
        4,
        5,
        h,
        BlockScheme::ForwardEuler,
        WeightForm::Antisymmetric { gamma },
    );
    // Same imaginary parts, real parts shifted by -γ (compare after sorting by imaginary part:
    // the undamped real parts are round-off, so their order is arbitrary).
    let by_imaginary = |eig: &[Complex]| {
        let mut eig = eig.to_vec();
        eig.sort_by(|a, b| a.im.total_cmp(&b.im));
        eig
    };
    for (eig, eig0) in layer_spectra(&damped).unwrap().iter().zip(&spectra) {
        for (l, l0) in by_imaginary(eig).iter().zip(&by_imaginary(eig0)) {
            assert!(
                (l.re + gamma).abs() < 1e-12 && (l.im - l0.im).abs() < 1e-12,
                "{l} vs {l0}"
            );
        }
        // |1 - hγ + i h ω|² ≤ 1 whenever h ≤ 2γ / (γ² + ω²).
        let omega = eig.iter().map(|l| l.im.abs()).fold(0.0, f64::max);
        assert!(h <= 2.0 * gamma / (gamma * gamma + omega * omega));
        assert!(forward_euler_amplification(eig, h) <= 1.0);
    }
}

#[test]
fn hamiltonian_layers_are_negative_semidefinite() {
    let dev = device();
    let mut rng = SeededRng::new(4);
    let net = HamiltonianNet::new(
        randn(&dev, &mut rng, [3, 4, 4], 1.0),
        randn(&dev, &mut rng, [3, 4], 0.5),
        0.1,
        Activation::Tanh,
    )
    .unwrap();
    for eig in layer_spectra(&net).unwrap() {
        for l in eig {
            assert!(
                l.im.abs() < 1e-12 && l.re <= 1e-12,
                "eigenvalue {l} of -CᵀC"
            );
        }
    }
}

#[test]
fn verlet_network_is_inverted_exactly_by_running_backwards() {
    let dev = device();
    let mut rng = SeededRng::new(13);
    let (layers, n, m) = (40, 3, 5);
    let net = VerletNet::new(
        randn(&dev, &mut rng, [layers, n, m], 1.5),
        randn(&dev, &mut rng, [layers, m], 0.5),
        randn(&dev, &mut rng, [layers, n], 0.5),
        0.2,
        Activation::Tanh,
    )
    .unwrap();
    let y0 = randn(&dev, &mut rng, [6, n], 1.0);
    let z0 = randn(&dev, &mut rng, [6, m], 1.0);
    let (y_out, z_out) = net.forward(y0.clone(), Some(z0.clone())).unwrap();
    assert!(
        max_abs_diff(&y_out, &y0) > 0.1,
        "the network must move the input"
    );
    let (y_back, z_back) = net.invert(y_out, z_out).unwrap();
    let (ey, ez) = (max_abs_diff(&y_back, &y0), max_abs_diff(&z_back, &z0));
    assert!(ey < 1e-13 && ez < 1e-13, "recovered to {ey:e}, {ez:e}");
    // The linearised two-stream dynamics are antisymmetric: imaginary spectra for any K_j.
    for eig in layer_spectra(&net).unwrap() {
        assert_eq!(eig.len(), n + m);
        assert!(eig.iter().all(|l| l.re.abs() < 1e-12));
    }
}

#[test]
fn regularisers_match_hand_computed_values() {
    let dev = device();
    let weights = dev
        .tensor(
            vec![1.0, 2.0, 3.0, 4.0, 0.0, 1.0, 1.0, 0.0, 2.0, 2.0, 2.0, 2.0],
            [3, 2, 2],
        )
        .unwrap();
    let biases = dev
        .tensor(vec![1.0, -1.0, 0.0, 0.0, 2.0, 1.0], [3, 2])
        .unwrap();
    let net = ResNet::new(
        weights,
        biases,
        0.5,
        Activation::Tanh,
        BlockScheme::ForwardEuler,
        WeightForm::Free,
    )
    .unwrap();
    // ‖K‖²: 30 + 2 + 16; ‖b‖²: 2 + 0 + 5.
    assert_eq!(weight_decay(&net).to_f64_vec(), vec![55.0]);
    // ‖K1 − K0‖² = 22, ‖K2 − K1‖² = 10, ‖b1 − b0‖² = 2, ‖b2 − b1‖² = 5; divided by h = 0.5.
    assert_eq!(smoothness_in_depth(&net).to_f64_vec(), vec![78.0]);
    let single = ResNet::new(
        dev.tensor(vec![1.0, 2.0, 3.0, 4.0], [1, 2, 2]).unwrap(),
        dev.tensor(vec![1.0, 1.0], [1, 2]).unwrap(),
        0.5,
        Activation::Tanh,
        BlockScheme::ForwardEuler,
        WeightForm::Free,
    )
    .unwrap();
    assert_eq!(smoothness_in_depth(&single).to_f64_vec(), vec![0.0]);
}

#[test]
fn regulariser_gradients_are_the_analytic_ones() {
    let dev = DeviceSpec::new(Backend::Flex, Precision::F64)
        .with_autodiff(true)
        .init()
        .unwrap();
    let mut rng = SeededRng::new(2);
    let weights = dev.randn(&mut rng, [3, 2, 2]);
    let biases = dev.randn(&mut rng, [3, 2]);
    let h = 0.25;
    let net = ResNet::new(
        weights,
        biases,
        h,
        Activation::Tanh,
        BlockScheme::ForwardEuler,
        WeightForm::Free,
    )
    .unwrap();
    let grads = (weight_decay(&net) + smoothness_in_depth(&net)).backward();
    let k = net.weights.val().to_f64_vec();
    let g = net.weights.val().grad(&grads).unwrap().to_f64_vec();
    for j in 0..3 {
        for e in 0..4 {
            let at = |l: usize| k[l * 4 + e];
            let mut expected = 2.0 * at(j);
            if j > 0 {
                expected += 2.0 * (at(j) - at(j - 1)) / h;
            }
            if j < 2 {
                expected -= 2.0 * (at(j + 1) - at(j)) / h;
            }
            assert!((g[j * 4 + e] - expected).abs() < 1e-12);
        }
    }
}

/// Parameters sampled from a smooth θ(t) on a coarse depth grid, then prolonged repeatedly: each
/// network is a finer discretisation of the same ODE, so successive outputs differ by O(h).
fn prolongation_differences<N: DepthNetwork>(
    coarse: N,
    prolong: impl Fn(&N) -> N,
    y0: &Tensor<2>,
) -> Vec<f64> {
    let mut nets = vec![coarse];
    for _ in 0..4 {
        let next = prolong(nets.last().unwrap());
        nets.push(next);
    }
    let outputs: Vec<Tensor<2>> = nets
        .iter()
        .map(|n| n.states(y0.clone()).unwrap().pop().unwrap())
        .collect();
    outputs
        .windows(2)
        .map(|w| max_abs_diff(&w[0], &w[1]))
        .collect()
}

fn smooth_in_depth(
    dev: &SysDevice,
    layers: usize,
    rows: usize,
    cols: usize,
    seed: u64,
) -> Tensor<3> {
    let mut rng = SeededRng::new(seed);
    let a = rng.normals(rows * cols);
    let c = rng.normals(rows * cols);
    let values: Vec<f64> = (0..layers)
        .flat_map(|j| {
            let t = j as f64 / layers as f64;
            a.iter()
                .zip(&c)
                .map(move |(a, c)| a * (3.0 * t).cos() + c * (2.0 * t).sin())
                .collect::<Vec<_>>()
        })
        .collect();
    dev.tensor(values, [layers, rows, cols]).unwrap()
}

fn rows(t: Tensor<3>) -> Tensor<2> {
    let [l, _, c] = t.dims();
    t.reshape([l, c])
}

#[test]
fn prolongation_preserves_the_function_to_discretisation_accuracy() {
    let dev = device();
    let layers = 8;
    let h = 1.0 / layers as f64;
    let y0 = dev
        .tensor(vec![0.5, -0.2, 0.1, 0.9, -0.6, 0.3], [2, 3])
        .unwrap();
    let euler = ResNet::new(
        smooth_in_depth(&dev, layers, 3, 3, 1),
        rows(smooth_in_depth(&dev, layers, 1, 3, 2)) * 0.3,
        h,
        Activation::Tanh,
        BlockScheme::ForwardEuler,
        WeightForm::Free,
    )
    .unwrap();
    let prolonged = euler.prolong();
    assert_eq!((prolonged.layers(), prolonged.step_size()), (16, h / 2.0));
    let d = prolongation_differences(euler, ResNet::prolong, &y0);
    // Forward Euler: halving h halves the difference.
    for w in d.windows(2) {
        let ratio = w[0] / w[1];
        assert!((1.7..2.3).contains(&ratio), "differences {d:?}");
    }
    assert!(d[0] < h, "{d:?}");

    let hamiltonian = HamiltonianNet::new(
        smooth_in_depth(&dev, layers, 3, 3, 3),
        rows(smooth_in_depth(&dev, layers, 1, 3, 4)) * 0.3,
        h,
        Activation::Tanh,
    )
    .unwrap();
    let d = prolongation_differences(hamiltonian, HamiltonianNet::prolong, &y0);
    for w in d.windows(2) {
        assert!(w[0] / w[1] > 1.7, "leapfrog differences {d:?}");
    }

    let verlet = VerletNet::new(
        smooth_in_depth(&dev, layers, 3, 4, 5),
        rows(smooth_in_depth(&dev, layers, 1, 4, 6)) * 0.3,
        rows(smooth_in_depth(&dev, layers, 1, 3, 7)) * 0.3,
        h,
        Activation::Tanh,
    )
    .unwrap();
    let d = prolongation_differences(verlet, VerletNet::prolong, &y0);
    for w in d.windows(2) {
        assert!(w[0] / w[1] > 1.7, "Verlet differences {d:?}");
    }
}

/// The three 2×2 networks of Haber & Ruthotto's stability illustration (h = 0.1, tanh, b = 0,
/// 10 layers): eigenvalues with positive real part spread the points apart, negative real part
/// pulls them together, imaginary eigenvalues roughly keep their spread.
#[test]
fn spread_through_depth_follows_the_sign_of_the_spectrum() {
    let dev = device();
    let y0 = dev
        .tensor(vec![0.2, 0.3, -0.2, 0.1, 0.1, -0.3], [3, 2])
        .unwrap();
    let run = |k: [f64; 4]| {
        let net = ResNet::new(
            dev.tensor(k.to_vec(), [2, 2])
                .unwrap()
                .unsqueeze::<3>()
                .repeat_dim(0, 10),
            dev.zeros([10, 2]),
            0.1,
            Activation::Tanh,
            BlockScheme::ForwardEuler,
            WeightForm::Free,
        )
        .unwrap();
        let states = net.trajectory(y0.clone()).unwrap();
        let growth = spread(states.last().unwrap()) / spread(&states[0]);
        let delta = dev
            .tensor(vec![1e-6, 0.0, 0.0, 1e-6, -1e-6, 1e-6], [3, 2])
            .unwrap();
        let perturbation = *perturbation_growth(&net, y0.clone(), delta)
            .unwrap()
            .last()
            .unwrap();
        (growth, perturbation)
    };
    let (plus, plus_p) = run([2.0, -2.0, 0.0, 2.0]);
    let (minus, minus_p) = run([-2.0, 0.0, 2.0, -1.0]);
    let (zero, zero_p) = run([0.0, -1.0, 1.0, 0.0]);
    assert!(
        plus > 3.0 && plus_p > 3.0,
        "K+ spread grows by {plus}, perturbations by {plus_p}"
    );
    assert!(
        minus < 0.6 && minus_p < 0.6,
        "K- spread {minus}, perturbations {minus_p}"
    );
    assert!(
        (0.9..1.1).contains(&zero) && (0.9..1.1).contains(&zero_p),
        "K0 spread {zero}, {zero_p}"
    );
}

#[test]
fn bad_shapes_and_steps_are_typed_errors() {
    let dev = device();
    let k = dev.zeros([2, 3, 3]);
    let b = dev.zeros([2, 3]);
    let make = |k: Tensor<3>, b: Tensor<2>, h: f64| {
        ResNet::new(
            k,
            b,
            h,
            Activation::Tanh,
            BlockScheme::ForwardEuler,
            WeightForm::Free,
        )
    };
    assert!(
        make(k.clone(), b.clone(), 0.0)
            .unwrap_err()
            .to_string()
            .contains("positive")
    );
    assert!(
        make(k.clone(), dev.zeros([3, 3]), 0.1)
            .unwrap_err()
            .to_string()
            .contains("biases")
    );
    assert!(make(dev.zeros([2, 3, 2]), b.clone(), 0.1).is_err());
    let net = make(k, b, 0.1).unwrap();
    let err = net.forward(dev.zeros([4, 2])).unwrap_err();
    assert!(err.to_string().contains("[batch, 3]"), "{err}");
    let anti = ResNet::new(
        dev.zeros([1, 2, 2]),
        dev.zeros([1, 2]),
        0.1,
        Activation::Tanh,
        BlockScheme::ForwardEuler,
        WeightForm::Antisymmetric { gamma: -1.0 },
    );
    assert!(anti.is_err());
}

/// The same parameters give the same networks on every test backend (f64 on the CPU backends,
/// f32 on wgpu): outputs agree with flex f64 to the device's precision, and the Verlet network
/// inverts on each.
#[test]
fn networks_agree_across_devices() {
    let host = |seed: u64, n: usize| SeededRng::new(seed).normals(n);
    let (layers, n, m) = (4, 3, 2);
    let build = |dev: &SysDevice| {
        let k = dev.tensor(host(1, layers * n * n), [layers, n, n]).unwrap() * 0.5;
        let b = dev.tensor(host(2, layers * n), [layers, n]).unwrap() * 0.2;
        let resnet = ResNet::new(
            k.clone(),
            b.clone(),
            0.2,
            Activation::Tanh,
            BlockScheme::Rk4,
            WeightForm::Antisymmetric { gamma: 0.1 },
        )
        .unwrap();
        let hamiltonian = HamiltonianNet::new(k, b.clone(), 0.2, Activation::Tanh).unwrap();
        let verlet = VerletNet::new(
            dev.tensor(host(3, layers * n * m), [layers, n, m]).unwrap(),
            dev.tensor(host(4, layers * m), [layers, m]).unwrap() * 0.2,
            b,
            0.2,
            Activation::Tanh,
        )
        .unwrap();
        let y0 = dev.tensor(host(5, 2 * n), [2, n]).unwrap();
        let (y_out, z_out) = verlet.forward(y0.clone(), None).unwrap();
        let (y_back, _) = verlet.invert(y_out.clone(), z_out).unwrap();
        let outputs = [
            resnet.forward(y0.clone()).unwrap().to_f64_vec(),
            hamiltonian.forward(y0.clone()).unwrap().to_f64_vec(),
            y_out.to_f64_vec(),
        ];
        (outputs, max_abs_diff(&y_back, &y0))
    };
    let (reference, _) = build(&device());
    for dev in sysdyn_testing::test_devices(false) {
        let tol = if dev.spec().precision == Precision::F64 {
            1e-12
        } else {
            1e-5
        };
        let (outputs, inversion_error) = build(&dev);
        for (got, want) in outputs.iter().zip(&reference) {
            let err = got
                .iter()
                .zip(want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(err < tol, "{}: differs from flex f64 by {err}", dev.spec());
        }
        assert!(
            inversion_error < tol,
            "{}: inversion error {inversion_error}",
            dev.spec()
        );
    }
}

fn random_conv_resnet(
    dev: &SysDevice,
    seed: u64,
    (layers, channels): (usize, usize),
    h: f64,
    form: WeightForm,
) -> ConvResNet {
    let mut rng = SeededRng::new(seed);
    ConvResNet::new(
        randn(dev, &mut rng, [layers * channels, channels, 3, 3], 0.4),
        randn(dev, &mut rng, [layers, channels], 0.3),
        h,
        Activation::Tanh,
        form,
    )
    .unwrap()
}

fn max_abs_diff4(a: &Tensor<4>, b: &Tensor<4>) -> f64 {
    a.to_f64_vec()
        .iter()
        .zip(b.to_f64_vec())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Each convolutional block is one forward Euler step (by the solver) of its layer field
/// `σ(K_j * Y + b_j)`, for free and antisymmetric kernels.
#[test]
fn conv_block_is_one_euler_step_of_its_layer_field() {
    let dev = device();
    let h = 0.25;
    let mut rng = SeededRng::new(21);
    let y0 = randn(&dev, &mut rng, [2, 3, 5, 4], 1.0);
    for form in [WeightForm::Free, WeightForm::Antisymmetric { gamma: 0.2 }] {
        let net = random_conv_resnet(&dev, 5, (3, 3), h, form);
        let states = net.trajectory(y0.clone()).unwrap();
        assert_eq!(states.len(), 4);
        for j in 0..3 {
            assert_eq!(states[j + 1].dims(), [2, 3, 5, 4]);
            let mut f = |_t: f64, y: &Tensor<4>| net.field(j, y.clone());
            let sol = solve(
                &mut f,
                &EULER,
                (0.0, h),
                states[j].clone(),
                &SolveConfig::fixed(h),
            )
            .unwrap();
            assert_eq!(sol.stats.steps(), 1);
            let err = max_abs_diff4(sol.last(), &states[j + 1]);
            assert!(err < 1e-14, "{form:?}: layer {j} differs by {err}");
        }
    }
}

/// The layer field is the zero-padded 3×3 cross-correlation over channels, computed by hand.
#[test]
fn conv_layer_field_is_the_zero_padded_correlation() {
    let dev = device();
    let (c, rows, cols) = (2, 4, 5);
    let net = random_conv_resnet(&dev, 9, (2, c), 0.1, WeightForm::Free);
    let mut rng = SeededRng::new(4);
    let y = randn(&dev, &mut rng, [1, c, rows, cols], 1.0);
    let (yv, kv, bv) = (
        y.to_f64_vec(),
        net.kernels.val().to_f64_vec(),
        net.biases.val().to_f64_vec(),
    );
    let j = 1;
    let got = net.field(j, y).to_f64_vec();
    for o in 0..c {
        for r in 0..rows {
            for s in 0..cols {
                let mut sum = bv[j * c + o];
                for i in 0..c {
                    for a in 0..3 {
                        for b in 0..3 {
                            let (rr, ss) = (r as i64 + a as i64 - 1, s as i64 + b as i64 - 1);
                            if rr < 0 || ss < 0 || rr >= rows as i64 || ss >= cols as i64 {
                                continue;
                            }
                            let k = kv[(((j * c + o) * c + i) * 3 + a) * 3 + b];
                            sum += k * yv[(i * rows + rr as usize) * cols + ss as usize];
                        }
                    }
                }
                let want = sum.tanh();
                let have = got[(o * rows + r) * cols + s];
                assert!(
                    (have - want).abs() < 1e-14,
                    "({o},{r},{s}): {have} vs {want}"
                );
            }
        }
    }
}

/// The antisymmetric kernel `K − Kᵀ − γI` (Kᵀ: channels swapped, space flipped) is an
/// antisymmetric operator shifted by −γ under zero padding: `⟨X, A Y⟩ + ⟨A X, Y⟩ = −2γ ⟨X, Y⟩`,
/// so `⟨X, A X⟩ = −γ ‖X‖²`; without the antisymmetric form the identity fails.
#[test]
fn antisymmetric_conv_operator_is_skew_adjoint() {
    use burn::tensor::module::conv2d;
    use burn::tensor::ops::ConvOptions;
    let dev = device();
    let gamma = 0.3;
    let mut rng = SeededRng::new(12);
    let x = randn(&dev, &mut rng, [2, 3, 6, 5], 1.0);
    let y = randn(&dev, &mut rng, [2, 3, 6, 5], 1.0);
    let inner = |a: &Tensor<4>, b: &Tensor<4>| (a.clone() * b.clone()).sum().to_f64_vec()[0];
    let apply = |k: Tensor<4>, z: Tensor<4>| {
        conv2d(z, k, None, ConvOptions::new([1, 1], [1, 1], [1, 1], 1))
    };
    let defect = |form: WeightForm| {
        let net = random_conv_resnet(&dev, 8, (2, 3), 0.1, form);
        let k = net.layer_kernel(1);
        let lhs = inner(&x, &apply(k.clone(), y.clone())) + inner(&apply(k, x.clone()), &y);
        let g = if let WeightForm::Antisymmetric { gamma } = form {
            gamma
        } else {
            0.0
        };
        (lhs + 2.0 * g * inner(&x, &y)).abs()
    };
    assert!(defect(WeightForm::Antisymmetric { gamma }) < 1e-12);
    assert!(defect(WeightForm::Antisymmetric { gamma: 0.0 }) < 1e-12);
    assert!(defect(WeightForm::Free) > 1e-2);
}

#[test]
fn conv_network_shape_errors_are_typed() {
    let dev = device();
    let err = ConvResNet::new(
        dev.zeros([6, 3, 3, 3]),
        dev.zeros([3, 2]),
        0.1,
        Activation::Tanh,
        WeightForm::Free,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ResNetError::Shape {
                what: "kernels",
                ..
            }
        ),
        "{err}"
    );
    let err = ConvResNet::new(
        dev.zeros([6, 2, 3, 3]),
        dev.zeros([3, 2]),
        -1.0,
        Activation::Tanh,
        WeightForm::Free,
    )
    .unwrap_err();
    assert_eq!(err, ResNetError::StepSize(-1.0));
    let net = random_conv_resnet(&dev, 1, (2, 2), 0.1, WeightForm::Free);
    let err = net.forward(dev.zeros([1, 3, 4, 4])).unwrap_err();
    assert!(
        matches!(err, ResNetError::Shape { what: "input", .. }),
        "{err}"
    );
}
