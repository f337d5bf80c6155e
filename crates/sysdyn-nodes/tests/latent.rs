//! Latent ODEs: the ELBO's pieces against their closed forms, the encoder's invariances, the
//! gradient of the ELBO against central differences (f64), the decoder path with a linear latent
//! field against its analytic solution, typed errors on bad input, and the forward ELBO on every
//! test device against f64 on the CPU.

use burn::module::{Module, ModuleMapper, Param};
use burn::nn::Linear;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use sysdyn_core::State;
use sysdyn_core::device::{Backend, DeviceSpec, Precision, SysDevice};
use sysdyn_core::jet::{Activation, Mlp};
use sysdyn_core::rng::SeededRng;
use sysdyn_nodes::latent::{gaussian_log_likelihood, kl_to_standard_normal};
use sysdyn_nodes::{
    IrregularSeries, LatentOde, LatentOdeConfig, LatentOdeModel, MlpField, NodeError, ParamLayout,
};
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::DOPRI5;

fn cpu_f64(autodiff: bool) -> Vec<SysDevice> {
    sysdyn_testing::test_backends()
        .into_iter()
        .filter(|b| b.supports_f64())
        .map(|b| {
            DeviceSpec::new(b, Precision::F64)
                .with_autodiff(autodiff)
                .init()
                .unwrap()
        })
        .collect()
}

fn flex_f64(autodiff: bool) -> SysDevice {
    DeviceSpec::new(Backend::Flex, Precision::F64)
        .with_autodiff(autodiff)
        .init()
        .unwrap()
}

fn small_config() -> LatentOdeConfig {
    LatentOdeConfig {
        obs_dim: 2,
        latent_dim: 3,
        encoder_hidden: 5,
        field_hidden: vec![6],
        decoder_hidden: vec![4],
        obs_std: 0.5,
    }
}

/// Two samples on six irregular times, each with its own observed subset.
fn small_series(shift: f64) -> IrregularSeries {
    let times: Vec<f64> = [0.0, 0.3, 0.45, 1.0, 1.6, 2.1]
        .iter()
        .map(|t| t + shift)
        .collect();
    let mask = vec![
        true, true, false, true, false, true, //
        true, false, true, true, true, false,
    ];
    let values: Vec<f64> = (0..24)
        .map(|i| (0.7 * i as f64).sin() + 0.1 * i as f64 - 1.0)
        .collect();
    IrregularSeries::new(times, values, mask, 2).unwrap()
}

fn vec_of<const D: usize>(t: &Tensor<D>) -> Vec<f64> {
    t.to_f64_vec()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn kl_term_equals_the_hand_computed_closed_form() {
    for device in cpu_f64(false) {
        let mean = device.tensor(vec![0.5, -1.0, 0.0, 0.0], [2, 2]).unwrap();
        let logvar = device
            .tensor(vec![2f64.ln(), -0.5, 0.0, 0.0], [2, 2])
            .unwrap();
        let kl = vec_of(&kl_to_standard_normal(mean, logvar));
        // Row 0: ½[(0.25 + 2 − 1 − ln 2) + (1 + e^{−0.5} − 1 + 0.5)] = 0.831691739576344;
        // row 1 is the standard normal itself: zero.
        assert!((kl[0] - 0.831_691_739_576_344).abs() < 1e-14, "{kl:?}");
        assert!(kl[1].abs() < 1e-15, "{kl:?}");
    }
}

#[test]
fn gaussian_log_likelihood_equals_the_formula() {
    let predicted: [f64; 6] = [0.2, -0.4, 1.0, 0.5, 0.0, -2.0];
    let observed = [0.1, 0.3, 1.0, -0.5, 7.0, -1.0];
    let mask = [1.0, 1.0, 0.0, 1.0, 0.0, 1.0];
    let std = 0.3;
    let expected: Vec<f64> = (0..2)
        .map(|row| {
            (0..3)
                .map(|j| {
                    let i = 3 * row + j;
                    mask[i]
                        * (-0.5 * (2.0 * std::f64::consts::PI * std * std).ln()
                            - (observed[i] - predicted[i]).powi(2) / (2.0 * std * std))
                })
                .sum()
        })
        .collect();
    for device in cpu_f64(false) {
        let t = |v: &[f64]| device.tensor(v.to_vec(), [2, 3]).unwrap();
        let ll = vec_of(&gaussian_log_likelihood(
            t(&predicted),
            t(&observed),
            t(&mask),
            std,
        ));
        assert!(
            max_abs_diff(&ll, &expected) < 1e-13,
            "{ll:?} vs {expected:?}"
        );
    }
}

#[test]
fn encoder_sees_only_observed_values_and_their_gaps() {
    let device = flex_f64(false);
    let model = small_config().init(&device, 7).unwrap();
    let lode = LatentOde::rk4(model, 0.5, 0.05);
    let base = lode.encode(&small_series(0.0), &device).unwrap();
    let (mean, logvar) = (vec_of(&base.mean), vec_of(&base.logvar));

    // Shifting every time by a constant changes no gap.
    let shifted = lode.encode(&small_series(3.7), &device).unwrap();
    assert!(max_abs_diff(&mean, &vec_of(&shifted.mean)) < 1e-13);
    assert!(max_abs_diff(&logvar, &vec_of(&shifted.logvar)) < 1e-13);

    // Inserting grid times where nobody is observed (values there NaN) changes nothing.
    let series = small_series(0.0);
    let mut times: Vec<f64> = series.times().to_vec();
    times.extend([0.2, 0.7, 1.9]);
    let mut values = Vec::new();
    let mut mask = Vec::new();
    times.sort_by(f64::total_cmp);
    times.dedup();
    for b in 0..series.batch() {
        for &t in &times {
            match series.times().iter().position(|&s| s == t) {
                Some(k) => {
                    mask.push(series.observed(b, k));
                    values.extend_from_slice(series.value(b, k));
                }
                None => {
                    mask.push(false);
                    values.extend([f64::NAN, f64::NAN]);
                }
            }
        }
    }
    assert!(times.len() > series.times().len());
    let padded = IrregularSeries::new(times, values, mask, 2).unwrap();
    let q = lode.encode(&padded, &device).unwrap();
    assert!(max_abs_diff(&mean, &vec_of(&q.mean)) < 1e-13);
    assert!(max_abs_diff(&logvar, &vec_of(&q.logvar)) < 1e-13);

    // Each sample's posterior does not depend on the rest of the batch.
    let second = IrregularSeries::new(
        series.times().to_vec(),
        (0..series.times().len())
            .flat_map(|k| series.value(1, k).to_vec())
            .collect(),
        (0..series.times().len())
            .map(|k| series.observed(1, k))
            .collect(),
        2,
    )
    .unwrap();
    let alone = lode.encode(&second, &device).unwrap();
    assert!(max_abs_diff(&mean[3..], &vec_of(&alone.mean)) < 1e-13);

    // And it does depend on what is observed.
    assert!(max_abs_diff(&mean[..3], &mean[3..]) > 1e-3);
}

#[test]
fn elbo_is_invariant_to_a_time_shift() {
    let device = flex_f64(false);
    let lode = LatentOde::rk4(small_config().init(&device, 3).unwrap(), 0.5, 0.05);
    let noise = || device.randn(&mut SeededRng::new(11), [2, 3]);
    let a = lode.elbo(&small_series(0.0), noise(), &device).unwrap();
    let b = lode.elbo(&small_series(-1.3), noise(), &device).unwrap();
    assert!(max_abs_diff(&vec_of(&a.elbo), &vec_of(&b.elbo)) < 1e-10);
    // ELBO = log-likelihood − KL, and the KL is positive away from the prior.
    let (ll, kl, elbo) = (vec_of(&a.log_likelihood), vec_of(&a.kl), vec_of(&a.elbo));
    for i in 0..2 {
        assert!((elbo[i] - (ll[i] - kl[i])).abs() < 1e-12);
        assert!(kl[i] > 0.0);
    }
}

/// Adds `eps · direction` to every float parameter, the direction laid out in visiting order.
struct Shift<'a> {
    direction: &'a [f64],
    eps: f64,
    at: usize,
    device: &'a SysDevice,
}

impl ModuleMapper for Shift<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let shape = param.dims();
        let n: usize = shape.iter().product();
        let delta: Vec<f64> = self.direction[self.at..self.at + n]
            .iter()
            .map(|d| self.eps * d)
            .collect();
        self.at += n;
        let delta = self.device.tensor(delta, shape).unwrap();
        param.map(|t| t + delta)
    }
}

fn loss_at(device: &SysDevice, direction: &[f64], eps: f64) -> f64 {
    let model = small_config().init(device, 5).unwrap();
    let model = model.map(&mut Shift {
        direction,
        eps,
        at: 0,
        device,
    });
    let lode = LatentOde::rk4(model, 0.5, 0.1);
    let noise = device.randn(&mut SeededRng::new(9), [2, 3]);
    let terms = lode.elbo(&small_series(0.0), noise, device).unwrap();
    terms.loss().to_f64_vec()[0]
}

#[test]
fn elbo_gradient_matches_central_differences() {
    for (device, plain) in cpu_f64(true).iter().zip(cpu_f64(false)) {
        let lode = LatentOde::rk4(small_config().init(device, 5).unwrap(), 0.5, 0.1);
        let noise = device.randn(&mut SeededRng::new(9), [2, 3]);
        let loss = lode.elbo(&small_series(0.0), noise, device).unwrap().loss();
        let grads = GradientsParams::from_grads(loss.backward(), &lode.model);
        let layout = ParamLayout::of(&lode.model);
        let flat = ParamLayout::of(&lode.model).concat(flat_parts(&lode.model, &grads));
        let gradient = flat.to_f64_vec();
        assert_eq!(gradient.len(), layout.num_params());
        let mut rng = SeededRng::new(21);
        for _ in 0..3 {
            let direction = rng.normals(layout.num_params());
            let eps = 1e-6;
            let fd = (loss_at(&plain, &direction, eps) - loss_at(&plain, &direction, -eps))
                / (2.0 * eps);
            let analytic: f64 = gradient.iter().zip(&direction).map(|(g, d)| g * d).sum();
            let err = (analytic - fd).abs() / fd.abs().max(1e-8);
            assert!(
                err < 1e-6,
                "{}: directional derivative {analytic} vs central difference {fd} ({err:e})",
                device.spec()
            );
        }
        // Every part of the model gets a gradient: encoder, field and decoder.
        let encoder = flat_parts(&lode.model.encoder, &grads);
        let field = flat_parts(&lode.model.field, &grads);
        let decoder = flat_parts(&lode.model.decoder, &grads);
        for (name, parts) in [("encoder", encoder), ("field", field), ("decoder", decoder)] {
            let norm: f64 = parts
                .iter()
                .flat_map(|p| p.to_f64_vec())
                .map(|g| g * g)
                .sum();
            assert!(norm > 1e-12, "{name} has no gradient");
        }
    }
}

/// The gradient of each float parameter of `module` (zeros where absent), flattened.
fn flat_parts<M: Module>(module: &M, grads: &GradientsParams) -> Vec<Tensor<1>> {
    struct Collect<'a> {
        grads: &'a GradientsParams,
        out: Vec<Tensor<1>>,
    }
    impl burn::module::ModuleVisitor for Collect<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let n: usize = param.dims().iter().product();
            let value = param.val();
            let flat = match self.grads.get::<D>(param.id) {
                Some(g) => g.reshape([n]),
                None => Tensor::zeros([n], (&value.device().inner(), value.dtype())),
            };
            self.out.push(flat);
        }
    }
    let mut visitor = Collect {
        grads,
        out: Vec::new(),
    };
    module.visit(&mut visitor);
    visitor.out
}

fn linear(device: &SysDevice, weight: Vec<f64>, bias: Vec<f64>, shape: [usize; 2]) -> Linear {
    Linear {
        weight: Param::from_tensor(device.tensor(weight, shape).unwrap()),
        bias: Some(Param::from_tensor(device.tensor(bias, [shape[1]]).unwrap())),
    }
}

#[test]
fn linear_latent_field_and_affine_decoder_reproduce_the_analytic_solution() {
    // dz/dt = z W with W = [[−λ, ω], [−ω, −λ]] (row vectors): a damped rotation,
    // z(t) = e^{−λt} (a cos ωt − b sin ωt, a sin ωt + b cos ωt); decoder x = z + c.
    let (lambda, omega) = (0.3, 1.7);
    let c = [0.5, -0.25];
    for device in cpu_f64(false) {
        let mut model = small_config().init(&device, 1).unwrap();
        let mut config = small_config();
        config.latent_dim = 2;
        model.encoder = config.init(&device, 1).unwrap().encoder;
        let field = Mlp::new(
            vec![linear(
                &device,
                vec![-lambda, omega, -omega, -lambda],
                vec![0.0, 0.0],
                [2, 2],
            )],
            Activation::Identity,
        )
        .unwrap();
        let decoder = Mlp::new(
            vec![linear(
                &device,
                vec![1.0, 0.0, 0.0, 1.0],
                c.to_vec(),
                [2, 2],
            )],
            Activation::Identity,
        )
        .unwrap();
        let model = LatentOdeModel {
            encoder: model.encoder,
            field: MlpField::autonomous(field),
            decoder,
        };
        let lode = LatentOde::new(model, 0.1, DOPRI5, SolveConfig::adaptive(1e-11, 1e-12));
        let starts = [[1.0, 0.0], [-0.4, 2.0]];
        let z0 = device
            .tensor(starts.iter().flatten().copied().collect::<Vec<_>>(), [2, 2])
            .unwrap();
        let times = [0.5, 0.9, 1.3, 2.8, 4.0];
        let decoded = lode.decode(z0, &times).unwrap().to_f64_vec();
        for (b, [a, bb]) in starts.iter().enumerate() {
            for (k, &t) in times.iter().enumerate() {
                let s = t - times[0];
                let (cos, sin, decay) = ((omega * s).cos(), (omega * s).sin(), (-lambda * s).exp());
                let exact = [
                    decay * (a * cos - bb * sin) + c[0],
                    decay * (a * sin + bb * cos) + c[1],
                ];
                let got = &decoded[(b * times.len() + k) * 2..(b * times.len() + k) * 2 + 2];
                assert!(
                    max_abs_diff(got, &exact) < 1e-8,
                    "sample {b} at t = {t}: {got:?} vs {exact:?}"
                );
            }
        }
    }
}

#[test]
fn bad_input_gives_typed_errors() {
    let times = vec![0.0, 1.0, 2.0];
    let ok_values = vec![0.0; 12];
    let ok_mask = vec![true; 6];
    // Values that do not match batch × times × dim.
    assert!(matches!(
        IrregularSeries::new(times.clone(), vec![0.0; 11], ok_mask.clone(), 2),
        Err(NodeError::Observations { .. })
    ));
    // A mask that is not a whole number of samples.
    assert!(matches!(
        IrregularSeries::new(times.clone(), ok_values.clone(), vec![true; 5], 2),
        Err(NodeError::Observations { .. })
    ));
    // Times that are not strictly increasing, or not finite.
    for bad in [
        vec![0.0, 1.0, 1.0],
        vec![0.0, 2.0, 1.0],
        vec![0.0, f64::NAN, 2.0],
    ] {
        assert!(matches!(
            IrregularSeries::new(bad, ok_values.clone(), ok_mask.clone(), 2),
            Err(NodeError::Times { .. })
        ));
    }
    // NaN where observed is refused; where unobserved it is ignored.
    let mut with_nan = ok_values.clone();
    with_nan[5] = f64::NAN;
    let err =
        IrregularSeries::new(times.clone(), with_nan.clone(), ok_mask.clone(), 2).unwrap_err();
    assert!(matches!(err, NodeError::Observations { .. }), "{err}");
    assert!(err.to_string().contains("sample 0"), "{err}");
    let mut mask = ok_mask.clone();
    mask[2] = false;
    assert!(IrregularSeries::new(times.clone(), with_nan, mask, 2).is_ok());

    let device = flex_f64(false);
    let lode = LatentOde::rk4(small_config().init(&device, 2).unwrap(), 0.5, 0.1);
    // Observations of the wrong width for the encoder.
    let three = IrregularSeries::new(times.clone(), vec![0.0; 9], vec![true; 3], 3).unwrap();
    assert!(matches!(
        lode.elbo(&three, device.zeros([1, 3]), &device),
        Err(NodeError::Observations { .. })
    ));
    // Reparametrisation noise of the wrong shape.
    let series = IrregularSeries::new(times.clone(), ok_values, ok_mask, 2).unwrap();
    assert!(matches!(
        lode.elbo(&series, device.zeros([2, 4]), &device),
        Err(NodeError::Shape(_))
    ));
    // Decoding at times that go backwards.
    assert!(matches!(
        lode.decode(device.zeros([1, 3]), &[1.0, 0.5]),
        Err(NodeError::Times { .. })
    ));
    // Sizes that make no network.
    let mut config = small_config();
    config.latent_dim = 0;
    assert!(matches!(config.init(&device, 0), Err(NodeError::Option(_))));
    let mut config = small_config();
    config.obs_std = 0.0;
    assert!(matches!(config.init(&device, 0), Err(NodeError::Option(_))));
}

#[test]
fn forward_elbo_agrees_with_f64_cpu_on_every_device() {
    let reference_device = flex_f64(false);
    let elbo_on = |device: &SysDevice| {
        let lode = LatentOde::rk4(small_config().init(device, 4).unwrap(), 0.5, 0.1);
        let noise = device.randn(&mut SeededRng::new(8), [2, 3]);
        let terms = lode.elbo(&small_series(0.0), noise, device).unwrap();
        (terms.elbo.to_f64_vec(), terms.kl.to_f64_vec())
    };
    let (reference, reference_kl) = elbo_on(&reference_device);
    for device in sysdyn_testing::test_devices(false) {
        let (elbo, kl) = elbo_on(&device);
        let tol = if device.spec().precision == Precision::F64 {
            1e-10
        } else {
            1e-4
        };
        for (got, want) in elbo
            .iter()
            .zip(&reference)
            .chain(kl.iter().zip(&reference_kl))
        {
            assert!(
                (got - want).abs() <= tol * want.abs().max(1.0),
                "{}: {got} vs f64 CPU {want}",
                device.spec()
            );
        }
    }
}
