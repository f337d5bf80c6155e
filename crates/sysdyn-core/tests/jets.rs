//! Jets against finite differences: first derivatives, Jacobians, traces, Hessian diagonals,
//! mixed second derivatives and Laplacians of random MLPs for every activation, and the
//! parameter gradient (burn autodiff) of a loss built from them.

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::Tensor;
use sysdyn_core::State;
use sysdyn_core::burn;
use sysdyn_core::device::{Backend, DeviceSpec, Precision, SysDevice};
use sysdyn_core::jet::{Activation, Jet, JetError, JetForward, Mlp, MlpConfig, SecondOrder};
use sysdyn_core::rng::SeededRng;

const SMOOTH: [Activation; 6] = [
    Activation::Tanh,
    Activation::Sigmoid,
    Activation::Softplus,
    Activation::Silu,
    Activation::Sin,
    Activation::Identity,
];
/// Central-difference steps in f64: rounding ~eps/h, truncation ~h² for first derivatives
/// (1e-11 and 1e-10), ~eps/h² and h² for second derivatives (1e-8 each).
const H1: f64 = 1e-5;
const H2: f64 = 1e-4;
const TOL: f64 = 1e-6;

fn flex64(autodiff: bool) -> SysDevice {
    DeviceSpec::new(Backend::Flex, Precision::F64)
        .with_autodiff(autodiff)
        .init()
        .unwrap()
}

/// Mixed relative/absolute error `|a - b| / (1 + |b|)`, maximised.
fn max_err(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    got.iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs() / (1.0 + b.abs()))
        .fold(0.0, f64::max)
}

/// The network at each host row, `[rows.len()][out]`, in one batched forward pass.
fn eval(device: &SysDevice, mlp: &Mlp, rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let width = rows[0].len();
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    let x = device.tensor(flat, [rows.len(), width]).unwrap();
    let out = mlp.forward(x).unwrap().to_f64_vec();
    out.chunks(out.len() / rows.len())
        .map(<[f64]>::to_vec)
        .collect()
}

fn shifted(x: &[f64], terms: &[(f64, &[f64])]) -> Vec<f64> {
    let mut y = x.to_vec();
    for (scale, v) in terms {
        for (yi, vi) in y.iter_mut().zip(*v) {
            *yi += scale * vi;
        }
    }
    y
}

fn unit(n: usize, i: usize) -> Vec<f64> {
    let mut e = vec![0.0; n];
    e[i] = 1.0;
    e
}

/// Finite-difference reference derivatives of `mlp` at the rows of `xs`.
struct Fd<'a> {
    device: &'a SysDevice,
    mlp: &'a Mlp,
    xs: &'a [Vec<f64>],
}

impl Fd<'_> {
    /// `[row][out]` of `(f(x + h u) - f(x - h u)) / 2h`, `u` per row.
    fn first(&self, dirs: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let mut rows = Vec::new();
        for (x, u) in self.xs.iter().zip(dirs) {
            rows.push(shifted(x, &[(H1, u)]));
            rows.push(shifted(x, &[(-H1, u)]));
        }
        let f = eval(self.device, self.mlp, &rows);
        f.chunks(2)
            .map(|p| {
                p[0].iter()
                    .zip(&p[1])
                    .map(|(a, b)| (a - b) / (2.0 * H1))
                    .collect()
            })
            .collect()
    }

    /// `[row][out]` of `uᵀ H w` by the four-point formula
    /// `(f(x+hu+hw) - f(x+hu-hw) - f(x-hu+hw) + f(x-hu-hw)) / 4h²`.
    fn second(&self, us: &[Vec<f64>], ws: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let mut rows = Vec::new();
        for ((x, u), w) in self.xs.iter().zip(us).zip(ws) {
            for (a, b) in [(H2, H2), (H2, -H2), (-H2, H2), (-H2, -H2)] {
                rows.push(shifted(x, &[(a, u), (b, w)]));
            }
        }
        let f = eval(self.device, self.mlp, &rows);
        f.chunks(4)
            .map(|q| {
                (0..q[0].len())
                    .map(|j| (q[0][j] - q[1][j] - q[2][j] + q[3][j]) / (4.0 * H2 * H2))
                    .collect()
            })
            .collect()
    }

    /// `[row][out]` of `∂²f/∂x_c²` by `(f(x+he) - 2f(x) + f(x-he)) / h²`.
    fn diagonal(&self, c: usize) -> Vec<Vec<f64>> {
        let n = self.xs[0].len();
        let e = unit(n, c);
        let mut rows = Vec::new();
        for x in self.xs {
            rows.push(shifted(x, &[(H2, &e)]));
            rows.push(x.clone());
            rows.push(shifted(x, &[(-H2, &e)]));
        }
        let f = eval(self.device, self.mlp, &rows);
        f.chunks(3)
            .map(|t| {
                (0..t[0].len())
                    .map(|j| (t[0][j] - 2.0 * t[1][j] + t[2][j]) / (H2 * H2))
                    .collect()
            })
            .collect()
    }
}

fn random_rows(rng: &mut SeededRng, batch: usize, width: usize) -> Vec<Vec<f64>> {
    (0..batch).map(|_| rng.normals(width)).collect()
}

fn to_tensor(device: &SysDevice, rows: &[Vec<f64>]) -> Tensor<2> {
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    device.tensor(flat, [rows.len(), rows[0].len()]).unwrap()
}

#[test]
fn first_and_second_derivatives_of_random_mlps_match_finite_differences() {
    let device = flex64(false);
    let (batch, n_in, n_out) = (4, 3, 2);
    for (seed, activation) in SMOOTH.into_iter().enumerate() {
        let mlp = MlpConfig::new(vec![n_in, 16, 16, n_out])
            .with_activation(activation)
            .init_seeded(&device, 100 + seed as u64)
            .unwrap();
        let mut rng = SeededRng::new(seed as u64);
        let xs = random_rows(&mut rng, batch, n_in);
        let x = to_tensor(&device, &xs);
        let fd = Fd {
            device: &device,
            mlp: &mlp,
            xs: &xs,
        };
        let mut worst = [0.0f64; 7];

        // The jet's value is the plain forward pass.
        let plain = mlp.forward(x.clone()).unwrap().to_f64_vec();
        let jet_value = mlp
            .forward_jet(Jet::constant(x.clone()))
            .unwrap()
            .into_value()
            .to_f64_vec();
        assert!(max_err(&jet_value, &plain) < 1e-15, "{activation:?} value");

        // Full Jacobian [b, out, in] against FD along each unit vector.
        let jac = mlp.jacobian(x.clone(), ..).unwrap();
        assert_eq!(jac.dims(), [batch, n_out, n_in]);
        let jac = jac.to_f64_vec();
        for c in 0..n_in {
            let e = vec![unit(n_in, c); batch];
            let want = fd.first(&e);
            let got: Vec<f64> = (0..batch)
                .flat_map(|r| (0..n_out).map(move |j| (r, j)))
                .map(|(r, j)| jac[(r * n_out + j) * n_in + c])
                .collect();
            worst[0] = worst[0].max(max_err(&got, &want.concat()));
        }

        // JVPs along per-row random directions [k = 2, b, in].
        let dirs: Vec<Vec<Vec<f64>>> = (0..2).map(|_| random_rows(&mut rng, batch, n_in)).collect();
        let flat: Vec<f64> = dirs.iter().flatten().flatten().copied().collect();
        let v = device.tensor(flat, [2, batch, n_in]).unwrap();
        let (value, jvp) = mlp.jvp(x.clone(), v.clone(), ..).unwrap();
        assert_eq!(value.dims(), [batch, n_out]);
        assert_eq!(jvp.dims(), [2, batch, n_out]);
        let want: Vec<f64> = dirs.iter().flat_map(|d| fd.first(d).concat()).collect();
        worst[1] = max_err(&jvp.to_f64_vec(), &want);

        // Trace of ∂f/∂x over the first two columns (a field f(z, t), z = x[..2]).
        let div = mlp.divergence(x.clone(), ..2).unwrap();
        assert_eq!(div.dims(), [batch, 1]);
        let d0 = fd.first(&vec![unit(n_in, 0); batch]);
        let d1 = fd.first(&vec![unit(n_in, 1); batch]);
        let want: Vec<f64> = (0..batch).map(|r| d0[r][0] + d1[r][1]).collect();
        worst[2] = max_err(&div.to_f64_vec(), &want);
        // The generic trace (full last layer, diagonal read out) agrees.
        let generic = mlp
            .forward_jet(Jet::coordinates(x.clone(), ..2).unwrap())
            .unwrap()
            .trace()
            .unwrap();
        worst[2] = worst[2].max(max_err(&generic.to_f64_vec(), &want));

        // Hessian diagonal [b, out, in] and Laplacian [b, out].
        let hd = mlp.hessian_diagonal(x.clone(), ..).unwrap();
        assert_eq!(hd.dims(), [batch, n_out, n_in]);
        let hd = hd.to_f64_vec();
        let diag: Vec<Vec<Vec<f64>>> = (0..n_in).map(|c| fd.diagonal(c)).collect();
        for c in 0..n_in {
            let got: Vec<f64> = (0..batch)
                .flat_map(|r| (0..n_out).map(move |j| (r, j)))
                .map(|(r, j)| hd[(r * n_out + j) * n_in + c])
                .collect();
            worst[3] = worst[3].max(max_err(&got, &diag[c].concat()));
        }
        let lap_want: Vec<f64> = (0..batch)
            .flat_map(|r| (0..n_out).map(move |j| (r, j)))
            .map(|(r, j)| diag[0][r][j] + diag[1][r][j])
            .collect();
        let lap = mlp.laplacian(x.clone(), ..2).unwrap();
        assert_eq!(lap.dims(), [batch, n_out]);
        worst[4] = max_err(&lap.to_f64_vec(), &lap_want);
        let seed = Jet::coordinates(x.clone(), ..2)
            .unwrap()
            .with_second_order(SecondOrder::Diagonal)
            .unwrap();
        let generic = mlp.forward_jet(seed).unwrap().laplacian().unwrap();
        worst[4] = worst[4].max(max_err(&generic.to_f64_vec(), &lap_want));

        // Mixed ∂²f/∂x_0∂x_2 from coordinate seeds, and uᵀHw, wᵀHw from direction seeds.
        let seed = Jet::coordinates(x.clone(), ..)
            .unwrap()
            .with_second_order(SecondOrder::Pairs(vec![(0, 2)]))
            .unwrap();
        let mixed = mlp.forward_jet(seed).unwrap().second_order().unwrap();
        assert_eq!(mixed.dims(), [1, batch, n_out]);
        let want = fd.second(&vec![unit(n_in, 0); batch], &vec![unit(n_in, 2); batch]);
        worst[5] = max_err(&mixed.to_f64_vec(), &want.concat());
        let seed = Jet::directions(x.clone(), v, ..)
            .unwrap()
            .with_second_order(SecondOrder::Pairs(vec![(0, 1), (1, 1)]))
            .unwrap();
        let terms = mlp.forward_jet(seed).unwrap().second_order().unwrap();
        let want: Vec<f64> = [
            fd.second(&dirs[0], &dirs[1]).concat(),
            fd.second(&dirs[1], &dirs[1]).concat(),
        ]
        .concat();
        worst[6] = max_err(&terms.to_f64_vec(), &want);

        eprintln!(
            "{activation:?}: max FD error jacobian {:.1e} jvp {:.1e} trace {:.1e} \
             hessian-diag {:.1e} laplacian {:.1e} mixed {:.1e} directional-2nd {:.1e}",
            worst[0], worst[1], worst[2], worst[3], worst[4], worst[5], worst[6]
        );
        for (name, err) in [
            "jacobian",
            "jvp",
            "trace",
            "hessian diagonal",
            "laplacian",
            "mixed",
            "directional second",
        ]
        .iter()
        .zip(worst)
        {
            assert!(err < TOL, "{activation:?} {name}: {err:e}");
        }
    }
}

/// The `[z, t]` pattern: only the seeded columns are differentiated, restricted directions
/// agree with full-width directions that are zero on the other columns.
#[test]
fn restricted_columns_hold_the_other_inputs_fixed() {
    let device = flex64(false);
    let mlp = MlpConfig::new(vec![3, 8, 2])
        .with_activation(Activation::Silu)
        .init_seeded(&device, 5)
        .unwrap();
    let mut rng = SeededRng::new(9);
    let xs = random_rows(&mut rng, 3, 3);
    let x = to_tensor(&device, &xs);
    let full = mlp.jacobian(x.clone(), ..).unwrap().to_f64_vec();
    let part = mlp.jacobian(x.clone(), 1..3).unwrap();
    assert_eq!(part.dims(), [3, 2, 2]);
    let part = part.to_f64_vec();
    for r in 0..3 {
        for j in 0..2 {
            for c in 0..2 {
                assert_eq!(part[(r * 2 + j) * 2 + c], full[(r * 2 + j) * 3 + c + 1]);
            }
        }
    }
    // Directions on columns 1..3 (shared by every row: batch dim 1) equal padded ones.
    let v = device.tensor(vec![0.3, -1.2], [1, 1, 2]).unwrap();
    let padded = device.tensor(vec![0.0, 0.3, -1.2], [1, 1, 3]).unwrap();
    let (_, a) = mlp.jvp(x.clone(), v, 1..).unwrap();
    let (_, b) = mlp.jvp(x, padded, ..).unwrap();
    assert_eq!(a.dims(), [1, 3, 2]);
    assert!(max_err(&a.to_f64_vec(), &b.to_f64_vec()) < 1e-14);
}

/// A single affine layer (no activation): the jets must reproduce W exactly even though the
/// tangents never meet an activation and stay broadcast over the batch.
#[test]
fn an_affine_network_has_its_weight_as_jacobian_and_no_curvature() {
    let device = flex64(false);
    let mlp = MlpConfig::new(vec![2, 2]).init_seeded(&device, 3).unwrap();
    let w = mlp.layers()[0].weight.val().to_f64_vec(); // [in, out]
    let x = device
        .tensor(vec![0.5, 1.0, -2.0, 0.1, 3.0, 4.0], [3, 2])
        .unwrap();
    let jac = mlp.jacobian(x.clone(), ..).unwrap();
    assert_eq!(jac.dims(), [3, 2, 2]);
    let jac = jac.to_f64_vec();
    for r in 0..3 {
        for j in 0..2 {
            for c in 0..2 {
                assert_eq!(jac[(r * 2 + j) * 2 + c], w[c * 2 + j]);
            }
        }
    }
    let div = mlp.divergence(x.clone(), ..).unwrap().to_f64_vec();
    assert_eq!(div, vec![w[0] + w[3]; 3]);
    assert_eq!(
        mlp.laplacian(x.clone(), ..).unwrap().to_f64_vec(),
        vec![0.0; 6]
    );
    assert_eq!(mlp.hessian_diagonal(x, ..).unwrap().dims(), [3, 2, 2]);
}

#[test]
fn relu_has_zero_second_derivatives_and_exact_first_derivatives_off_the_kinks() {
    let device = flex64(false);
    let (batch, n_in) = (6, 3);
    let mlp = MlpConfig::new(vec![n_in, 16, 16, 2])
        .with_activation(Activation::Relu)
        .init_seeded(&device, 11)
        .unwrap();
    let mut rng = SeededRng::new(12);
    let xs = random_rows(&mut rng, batch, n_in);
    let x = to_tensor(&device, &xs);

    // Every pre-activation is well away from the kink, so the FD stencil stays on one linear
    // piece (|Δz| <= H1 * |∂z/∂x| is far below the margin).
    let layers = mlp.layers();
    let z1 = layers[0].forward(x.clone());
    let z2 = layers[1].forward(Activation::Relu.forward(z1.clone()));
    let margin = [z1, z2]
        .iter()
        .flat_map(|z| z.to_f64_vec())
        .map(f64::abs)
        .fold(f64::INFINITY, f64::min);
    assert!(margin > 1e-3, "test data sits on a kink: {margin:e}");

    let fd = Fd {
        device: &device,
        mlp: &mlp,
        xs: &xs,
    };
    let jac = mlp.jacobian(x.clone(), ..).unwrap().to_f64_vec();
    let mut worst = 0.0f64;
    for c in 0..n_in {
        let want = fd.first(&vec![unit(n_in, c); batch]);
        for r in 0..batch {
            for j in 0..2 {
                worst = worst.max(max_err(&[jac[(r * 2 + j) * n_in + c]], &[want[r][j]]));
            }
        }
    }
    eprintln!("Relu: max FD error jacobian {worst:.1e}");
    assert!(worst < TOL, "relu jacobian {worst:e}");

    let hd = mlp.hessian_diagonal(x.clone(), ..).unwrap();
    assert_eq!(hd.dims(), [batch, 2, n_in]);
    assert!(hd.to_f64_vec().iter().all(|&h| h == 0.0));
    assert!(
        mlp.laplacian(x.clone(), ..)
            .unwrap()
            .to_f64_vec()
            .iter()
            .all(|&h| h == 0.0)
    );
    let seed = Jet::coordinates(x, ..)
        .unwrap()
        .with_second_order(SecondOrder::Pairs(vec![(0, 1)]))
        .unwrap();
    let mixed = mlp.forward_jet(seed).unwrap().second_order().unwrap();
    assert!(mixed.to_f64_vec().iter().all(|&h| h == 0.0));
}

/// Host copies of every layer's (weight `[in, out]`, bias) in row-major order.
fn host_params(mlp: &Mlp) -> Vec<(Vec<f64>, Vec<f64>)> {
    mlp.layers()
        .iter()
        .map(|l| {
            let bias = l.bias.as_ref().unwrap().val().to_f64_vec();
            (l.weight.val().to_f64_vec(), bias)
        })
        .collect()
}

fn mlp_from_host(
    device: &SysDevice,
    widths: &[usize],
    params: &[(Vec<f64>, Vec<f64>)],
    activation: Activation,
) -> Mlp {
    let layers = widths
        .windows(2)
        .zip(params)
        .map(|(w, (weight, bias))| Linear {
            weight: Param::from_tensor(device.tensor(weight.clone(), [w[0], w[1]]).unwrap()),
            bias: Some(Param::from_tensor(
                device.tensor(bias.clone(), [w[1]]).unwrap(),
            )),
        })
        .collect();
    Mlp::new(layers, activation).unwrap()
}

/// `mean(Δ_z f ²) + mean((∇_z·f)²) + mean(|∂f/∂x|²)` over a batch: a PINN-, CNF- and
/// gradient-penalty-style loss built only from jets.
fn jet_loss(mlp: &Mlp, x: Tensor<2>) -> Tensor<1> {
    let lap = mlp.laplacian(x.clone(), ..2).unwrap();
    let div = mlp.divergence(x.clone(), ..2).unwrap();
    let jac = mlp.jacobian(x, ..).unwrap();
    lap.square().mean() + div.square().mean() + jac.square().mean()
}

#[test]
fn parameter_gradients_of_a_jet_loss_match_finite_differences() {
    let widths = [3, 8, 8, 2];
    let plain = flex64(false);
    let grad_device = flex64(true);
    let mut rng = SeededRng::new(21);
    let xs = random_rows(&mut rng, 5, 3);
    for activation in [Activation::Tanh, Activation::Silu, Activation::Softplus] {
        let params = host_params(
            &MlpConfig::new(widths.to_vec())
                .with_activation(activation)
                .init_seeded(&plain, 31)
                .unwrap(),
        );
        let mlp = mlp_from_host(&grad_device, &widths, &params, activation);
        let loss = jet_loss(&mlp, to_tensor(&grad_device, &xs));
        let grads = loss.backward();
        let layers = mlp.layers();

        // (layer, is_bias, flat index): entries from every layer, weights and biases.
        // The output bias does not enter any derivative: autodiff leaves it out of the graph
        // (no gradient, read as 0) and the finite difference is exactly 0.
        let picks = [
            (0, false, 1),
            (0, true, 3),
            (1, false, 10),
            (1, true, 0),
            (2, false, 7),
            (2, true, 1),
        ];
        let mut worst = 0.0f64;
        for (layer, is_bias, index) in picks {
            let grad = if is_bias {
                let bias = layers[layer].bias.as_ref().unwrap().val();
                bias.grad(&grads).map(|g| g.to_f64_vec())
            } else {
                layers[layer]
                    .weight
                    .val()
                    .grad(&grads)
                    .map(|g| g.to_f64_vec())
            };
            let analytic = grad.map_or(0.0, |g| g[index]);
            let loss_at = |delta: f64| {
                let mut p = params.clone();
                let entry = if is_bias {
                    &mut p[layer].1
                } else {
                    &mut p[layer].0
                };
                entry[index] += delta;
                let m = mlp_from_host(&plain, &widths, &p, activation);
                jet_loss(&m, to_tensor(&plain, &xs)).to_f64_vec()[0]
            };
            let numeric = (loss_at(H1) - loss_at(-H1)) / (2.0 * H1);
            let rel = (analytic - numeric).abs() / numeric.abs().max(1e-3);
            worst = worst.max(rel);
            assert!(
                rel < TOL,
                "{activation:?} layer {layer} bias {is_bias} [{index}]: autodiff {analytic:e} FD {numeric:e}"
            );
        }
        eprintln!("{activation:?}: max relative error of parameter gradients {worst:.1e}");
    }
}

#[test]
fn bad_inputs_give_typed_errors() {
    let device = flex64(false);
    let mlp = MlpConfig::new(vec![3, 4, 2])
        .init_seeded(&device, 1)
        .unwrap();
    let x = device.tensor(vec![0.0; 6], [2, 3]).unwrap();
    let narrow = device.tensor(vec![0.0; 4], [2, 2]).unwrap();

    assert!(matches!(
        mlp.forward(narrow.clone()),
        Err(JetError::Width {
            expected: 3,
            got: 2,
            ..
        })
    ));
    assert!(matches!(
        mlp.jacobian(narrow.clone(), ..),
        Err(JetError::Width {
            expected: 3,
            got: 2,
            ..
        })
    ));
    assert!(matches!(
        mlp.divergence(narrow, ..),
        Err(JetError::Width {
            expected: 3,
            got: 2,
            ..
        })
    ));
    assert!(matches!(
        mlp.jacobian(x.clone(), ..5),
        Err(JetError::Columns {
            start: 0,
            end: 5,
            width: 3
        })
    ));
    assert!(matches!(
        mlp.jacobian(x.clone(), 1..1),
        Err(JetError::Columns { .. })
    ));
    assert!(matches!(
        mlp.divergence(x.clone(), ..),
        Err(JetError::NotSquare {
            directions: 3,
            outputs: 2
        })
    ));
    let bad_dirs = device.tensor(vec![0.0; 6], [1, 2, 3]).unwrap();
    assert!(matches!(
        mlp.jvp(x.clone(), bad_dirs, ..2),
        Err(JetError::Directions { .. })
    ));
    let f32_x = DeviceSpec::new(Backend::Flex, Precision::F32)
        .init()
        .unwrap()
        .tensor(vec![0.0; 6], [2, 3])
        .unwrap();
    assert!(matches!(mlp.forward(f32_x), Err(JetError::DType { .. })));

    let seed = Jet::coordinates(x.clone(), ..).unwrap();
    assert!(matches!(
        seed.clone()
            .with_second_order(SecondOrder::Pairs(vec![(0, 3)])),
        Err(JetError::Pair {
            first: 0,
            second: 3,
            directions: 3
        })
    ));
    assert!(matches!(
        seed.clone().with_second_order(SecondOrder::Pairs(vec![])),
        Err(JetError::NoPairs)
    ));
    assert!(matches!(
        Jet::constant(x.clone()).with_second_order(SecondOrder::Diagonal),
        Err(JetError::Missing { .. })
    ));
    let out = mlp.forward_jet(seed.clone()).unwrap();
    assert!(matches!(out.laplacian(), Err(JetError::Missing { .. })));
    assert!(matches!(out.second_order(), Err(JetError::Missing { .. })));
    assert!(matches!(
        out.with_second_order(SecondOrder::Diagonal),
        Err(JetError::Missing { .. })
    ));
    let pairs = seed
        .with_second_order(SecondOrder::Pairs(vec![(0, 1)]))
        .unwrap();
    let out = mlp.forward_jet(pairs).unwrap();
    assert!(matches!(
        out.hessian_diagonal(),
        Err(JetError::Missing { .. })
    ));
    let constant = mlp.forward_jet(Jet::constant(x)).unwrap();
    assert!(matches!(constant.jacobian(), Err(JetError::Missing { .. })));

    assert!(matches!(
        MlpConfig::new(vec![3]).init_seeded(&device, 0),
        Err(JetError::Widths { .. })
    ));
    assert!(matches!(
        MlpConfig::new(vec![3, 0, 2]).init_seeded(&device, 0),
        Err(JetError::Widths { .. })
    ));
    let mut layers = mlp.layers().to_vec();
    layers.reverse();
    assert!(matches!(
        Mlp::new(layers, Activation::Tanh),
        Err(JetError::LayerChain {
            layer: 1,
            expected: 2,
            got: 3
        })
    ));
    // Messages say how to fix the input.
    let msg = mlp
        .jacobian(device.tensor(vec![0.0; 4], [2, 2]).unwrap(), ..)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("[batch, 3]"), "{msg}");
}

/// Every backend in f32 reproduces the f64 derivatives of the same seeded network.
#[test]
fn f32_backends_agree_with_f64() {
    let widths = vec![3, 16, 16, 2];
    let reference_device = flex64(false);
    let mut rng = SeededRng::new(77);
    let xs = random_rows(&mut rng, 4, 3);
    let derivatives = |device: &SysDevice| -> Vec<Vec<f64>> {
        let mlp = MlpConfig::new(widths.clone())
            .with_activation(Activation::Tanh)
            .init_seeded(device, 8)
            .unwrap();
        let x = to_tensor(device, &xs);
        let v = device.tensor(vec![1.0, -0.5, 2.0], [1, 1, 3]).unwrap();
        vec![
            mlp.forward(x.clone()).unwrap().to_f64_vec(),
            mlp.jacobian(x.clone(), ..).unwrap().to_f64_vec(),
            mlp.jvp(x.clone(), v, ..).unwrap().1.to_f64_vec(),
            mlp.divergence(x.clone(), ..2).unwrap().to_f64_vec(),
            mlp.hessian_diagonal(x.clone(), ..).unwrap().to_f64_vec(),
            mlp.laplacian(x, ..2).unwrap().to_f64_vec(),
        ]
    };
    let reference = derivatives(&reference_device);
    for device in sysdyn_testing::test_devices_f32(false) {
        let got = derivatives(&device);
        for (name, (g, r)) in [
            "value",
            "jacobian",
            "jvp",
            "divergence",
            "hessian",
            "laplacian",
        ]
        .iter()
        .zip(got.iter().zip(&reference))
        {
            let err = max_err(g, r);
            eprintln!("{} f32 {name}: {err:.1e}", device.spec().backend);
            assert!(err < 1e-4, "{} {name}: {err:e}", device.spec().backend);
        }
    }
}
