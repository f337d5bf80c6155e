//! Update formulas: each optimizer's first three steps on a fixed gradient sequence equal values
//! computed by hand; the burn path (a module optimizer on tensors, on every backend) gives the
//! same iterates as the plain f64 path; a saved and reloaded optimizer state resumes exactly.

use burn::module::{Module, Param};
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::Tensor;
use sysdyn_core::State;
use sysdyn_core::device::SysDevice;
use sysdyn_optim::{
    Adam, GradientDescent, HeavyBall, Nesterov, OptimError, RmsProp, UpdateRule,
    check_learning_rate,
};
use sysdyn_testing::{test_devices, test_devices_f32};

const THETA0: [f64; 2] = [1.0, -2.0];
const GRADS: [[f64; 2]; 3] = [[0.5, -1.0], [0.25, 2.0], [-1.0, 0.5]];
const LR: f64 = 0.1;

/// The plain-f64 iterates θ_1..θ_3 of `rule` on the fixed gradient sequence, learning rates `lrs`.
fn plain<R: UpdateRule>(rule: &R, lrs: &[f64; 3]) -> Vec<[f64; 2]> {
    let mut x = THETA0;
    let mut state = rule.init_state(2);
    GRADS
        .iter()
        .zip(lrs)
        .map(|(g, &lr)| {
            rule.update(lr, &mut x, g, &mut state);
            x
        })
        .collect()
}

fn assert_close(got: &[[f64; 2]], expected: &[[f64; 2]], tol: f64, what: &str) {
    for (k, (g, e)) in got.iter().zip(expected).enumerate() {
        for i in 0..2 {
            let err = (g[i] - e[i]).abs() / e[i].abs().max(1.0);
            assert!(
                err <= tol,
                "{what}: step {} component {i}: {} vs {} ({err:e})",
                k + 1,
                g[i],
                e[i]
            );
        }
    }
}

#[test]
fn gradient_descent_by_hand() {
    // θ -= 0.1 g.
    let expected = [[0.95, -1.9], [0.925, -2.1], [1.025, -2.15]];
    assert_close(&plain(&GradientDescent, &[LR; 3]), &expected, 1e-15, "gd");
}

#[test]
fn heavy_ball_by_hand() {
    // γ = 0.5: v1 = (0.05, -0.1); v2 = 0.5 v1 + 0.1 g2 = (0.05, 0.15);
    // v3 = 0.5 v2 + 0.1 g3 = (-0.075, 0.125); θ_k = θ_{k-1} - v_k.
    let expected = [[0.95, -1.9], [0.9, -2.05], [0.975, -2.175]];
    let rule = HeavyBall::new(0.5).unwrap();
    assert_close(&plain(&rule, &[LR; 3]), &expected, 1e-15, "heavy-ball");
}

#[test]
fn nesterov_by_hand_and_its_momentum_form() {
    // γ = 0.5, held parameters are the look-ahead φ: v as for heavy-ball,
    // φ_k = φ_{k-1} - (0.5 v_k + 0.1 g_k):
    // φ1 = (1, -2) - (0.025 + 0.05, -0.05 - 0.1) = (0.925, -1.85)
    // φ2 = φ1 - (0.025 + 0.025, 0.075 + 0.2) = (0.875, -2.125)
    // φ3 = φ2 - (-0.0375 - 0.1, 0.0625 + 0.05) = (1.0125, -2.2375)
    let expected = [[0.925, -1.85], [0.875, -2.125], [1.0125, -2.2375]];
    let rule = Nesterov::new(0.5).unwrap();
    assert_close(&plain(&rule, &[LR; 3]), &expected, 1e-15, "nesterov");
    // θ = φ + γ v is Sutskever's momentum iterate; on a gradient sequence that does not depend
    // on the point it coincides with heavy-ball's.
    let mut phi = THETA0;
    let mut v = rule.init_state(2);
    let hb = plain(&HeavyBall::new(0.5).unwrap(), &[LR; 3]);
    for (g, theta_hb) in GRADS.iter().zip(&hb) {
        rule.update(LR, &mut phi, g, &mut v);
        let theta = rule.momentum_iterate(&phi, &v);
        assert!((theta[0] - theta_hb[0]).abs() < 1e-15 && (theta[1] - theta_hb[1]).abs() < 1e-15);
    }
}

#[test]
fn rmsprop_by_hand() {
    // α = 0.5, ε = 1e-8: s1 = (0.125, 0.5), s2 = (0.09375, 2.25), s3 = (0.546875, 1.25);
    // θ_k = θ_{k-1} - 0.1 g_k / (√s_k + ε).
    let e = 1e-8;
    let t1 = [
        1.0 - 0.1 * 0.5 / (0.125f64.sqrt() + e),
        -2.0 + 0.1 * 1.0 / (0.5f64.sqrt() + e),
    ];
    let t2 = [
        t1[0] - 0.1 * 0.25 / (0.09375f64.sqrt() + e),
        t1[1] - 0.1 * 2.0 / (1.5 + e),
    ];
    let t3 = [
        t2[0] + 0.1 * 1.0 / (0.546875f64.sqrt() + e),
        t2[1] - 0.1 * 0.5 / (1.25f64.sqrt() + e),
    ];
    let rule = RmsProp::new(0.5, 1e-8).unwrap();
    assert_close(&plain(&rule, &[LR; 3]), &[t1, t2, t3], 1e-15, "rmsprop");
}

#[test]
fn adam_by_hand() {
    // β1 = 0.5, β2 = 0.75, ε = 1e-8.
    // k=1: m̂ = g1, v̂ = g1²            → step 0.1 g/(|g| + ε)
    // k=2: m = (0.25, 0.75), v = (0.0625, 1.1875); m̂ = m/0.75 = (1/3, 1), v̂ = v/0.4375 = (1/7, 19/7)
    // k=3: m = (-0.375, 0.625), v = (19/64, 61/64); m̂ = m/0.875 = (-3/7, 5/7), v̂ = v/(37/64) = (19/37, 61/37)
    let e = 1e-8;
    let t1 = [1.0 - 0.1 * 0.5 / (0.5 + e), -2.0 + 0.1 * 1.0 / (1.0 + e)];
    let t2 = [
        t1[0] - 0.1 * (1.0 / 3.0) / ((1.0f64 / 7.0).sqrt() + e),
        t1[1] - 0.1 * 1.0 / ((19.0f64 / 7.0).sqrt() + e),
    ];
    let t3 = [
        t2[0] - 0.1 * (-3.0 / 7.0) / ((19.0f64 / 37.0).sqrt() + e),
        t2[1] - 0.1 * (5.0 / 7.0) / ((61.0f64 / 37.0).sqrt() + e),
    ];
    let rule = Adam::new(0.5, 0.75, 1e-8).unwrap();
    assert_close(&plain(&rule, &[LR; 3]), &[t1, t2, t3], 1e-14, "adam");
}

/// A module holding one parameter vector, so gradients can be given directly. burn's module
/// optimizer expects parameters on an autodiff device, hence `test_devices(true)`.
#[derive(Module, Debug)]
struct Point {
    theta: Param<Tensor<1>>,
}

fn point(device: &SysDevice) -> Point {
    Point {
        theta: Param::from_tensor(device.tensor(THETA0, [2]).unwrap()),
    }
}

fn grads_for(point: &Point, device: &SysDevice, g: &[f64; 2]) -> GradientsParams {
    // Gradients live off the autodiff graph, as `GradientsParams::from_grads` gives them.
    let mut grads = GradientsParams::new();
    grads.register(point.theta.id, device.tensor(*g, [2]).unwrap().inner());
    grads
}

fn values(point: &Point) -> [f64; 2] {
    let v = point.theta.val().to_f64_vec();
    [v[0], v[1]]
}

/// The burn-path iterates θ_1..θ_3 with `optimizer` on `device`.
fn burn_path(mut optimizer: ModuleOptimizer, device: &SysDevice, lrs: &[f64; 3]) -> Vec<[f64; 2]> {
    let mut p = point(device);
    GRADS
        .iter()
        .zip(lrs)
        .map(|(g, &lr)| {
            let grads = grads_for(&p, device, g);
            p = optimizer.step(lr, p.clone(), grads);
            values(&p)
        })
        .collect()
}

/// Relative agreement expected between burn's and the plain path: our own optimizers repeat the
/// slice arithmetic exactly; burn's Adam and RMSProp keep hyper-parameters in f32.
fn tolerance(device: &SysDevice, exact_in_f64: bool) -> f64 {
    match (device.dtype() == burn::tensor::DType::F64, exact_in_f64) {
        (true, true) => 0.0,
        (true, false) => 1e-6,
        (false, _) => 2e-6,
    }
}

fn check_burn_path<R: UpdateRule>(rule: &R, exact_in_f64: bool) {
    let expected = plain(rule, &[LR; 3]);
    for device in test_devices(true) {
        let got = burn_path(rule.module_optimizer(), &device, &[LR; 3]);
        let what = format!("{} on {}", rule.name(), device.spec());
        assert_close(&got, &expected, tolerance(&device, exact_in_f64), &what);
    }
}

#[test]
fn burn_path_equals_plain_path_on_every_backend() {
    check_burn_path(&GradientDescent, true);
    check_burn_path(&HeavyBall::new(0.5).unwrap(), true);
    check_burn_path(&Nesterov::new(0.5).unwrap(), true);
    // Hyper-parameters exactly representable in f32, so only burn's f32 bias corrections and
    // its reordering of Adam's formula separate the two paths.
    check_burn_path(&RmsProp::new(0.5, 1e-8).unwrap(), false);
    check_burn_path(&Adam::new(0.5, 0.75, 1e-8).unwrap(), false);
    check_burn_path(&RmsProp::wgan(), false);
    check_burn_path(&Adam::default(), false);
}

fn check_resume<R: UpdateRule>(rule: &R, devices: Vec<SysDevice>) {
    for device in devices {
        let mut original = rule.module_optimizer();
        let mut p = point(&device);
        for g in &GRADS[..2] {
            let grads = grads_for(&p, &device, g);
            p = original.step(LR, p.clone(), grads);
        }
        let bytes = original.into_bytes().unwrap();
        let mut restored = rule.module_optimizer().from_bytes(bytes).unwrap();
        let continued = original.step(LR, p.clone(), grads_for(&p, &device, &GRADS[2]));
        let resumed = restored.step(LR, p.clone(), grads_for(&p, &device, &GRADS[2]));
        assert_eq!(
            values(&continued),
            values(&resumed),
            "{} on {}: resumed state differs",
            rule.name(),
            device.spec()
        );
        // And both equal the uninterrupted three steps.
        let straight = burn_path(rule.module_optimizer(), &device, &[LR; 3]);
        assert_eq!(values(&continued), straight[2]);
    }
}

#[test]
fn saved_state_resumes_identically() {
    // Ours in f64 on the CPU backends (f32 on wgpu) and in f32 everywhere.
    for devices in [test_devices(true), test_devices_f32(true)] {
        check_resume(&HeavyBall::new(0.5).unwrap(), devices.clone());
        check_resume(&Nesterov::new(0.5).unwrap(), devices);
    }
    // burn 0.22.1 rebuilds its own optimizers' states with the default float type of
    // `Device::default()` (f32), so an f64 Adam or RMSProp state comes back as f32 and the next
    // step fails on a dtype mismatch; their save/load is exact in f32.
    check_resume(&RmsProp::wgan(), test_devices_f32(true));
    check_resume(&Adam::default(), test_devices_f32(true));
}

#[test]
fn burn_momentum_is_heavy_ball_only_for_a_constant_learning_rate() {
    // burn: u ← μu + g, θ ← θ - ηu (dampening 0). Ours: v ← γv + ηg, θ ← θ - v.
    // Same iterates for constant η (v = ηu; 0.5 is exact in f32), different once η changes.
    let device = &test_devices(true)[0];
    let burn_momentum = |nesterov| {
        SgdConfig::new()
            .with_momentum(Some(MomentumConfig {
                momentum: 0.5,
                dampening: 0.0,
                nesterov,
            }))
            .init()
    };
    for (nesterov, ours) in [
        (false, HeavyBall::new(0.5).unwrap().module_optimizer()),
        (true, Nesterov::new(0.5).unwrap().module_optimizer()),
    ] {
        let constant = [LR; 3];
        let theirs = burn_path(burn_momentum(nesterov), device, &constant);
        let mine = burn_path(ours.clone(), device, &constant);
        assert_close(&theirs, &mine, 1e-15, "constant learning rate");

        let schedule = [0.1, 0.2, 0.05];
        let theirs = burn_path(burn_momentum(nesterov), device, &schedule);
        let mine = burn_path(ours, device, &schedule);
        let gap = (theirs[2][0] - mine[2][0])
            .abs()
            .max((theirs[2][1] - mine[2][1]).abs());
        assert!(
            gap > 1e-3,
            "nesterov={nesterov}: a schedule must separate the forms ({gap})"
        );
    }
    // Ours follows the exact form under the schedule: v2 = 0.5 v1 + 0.2 g2 = (0.075, 0.35),
    // v3 = 0.5 v2 + 0.05 g3 = (-0.0125, 0.2); θ3 = (1, -2) - v1 - v2 - v3.
    let hb = plain(&HeavyBall::new(0.5).unwrap(), &[0.1, 0.2, 0.05]);
    assert_close(
        &hb[2..],
        &[[0.8875, -2.45]],
        1e-15,
        "heavy-ball under a schedule",
    );
}

#[test]
fn invalid_hyper_parameters_are_typed_errors() {
    let bad =
        |r: Result<f64, OptimError>| matches!(r, Err(OptimError::InvalidHyperParameter { .. }));
    assert!(bad(check_learning_rate(-0.1)));
    assert!(bad(check_learning_rate(0.0)));
    assert!(bad(check_learning_rate(f64::NAN)));
    assert!(HeavyBall::new(1.0).is_err());
    assert!(HeavyBall::new(-0.1).is_err());
    assert!(Nesterov::new(1.5).is_err());
    assert!(RmsProp::new(1.0, 1e-8).is_err());
    assert!(RmsProp::new(0.9, -1.0).is_err());
    assert!(Adam::new(0.9, 1.0, 1e-8).is_err());
    assert!(Adam::new(0.9, 0.999, 0.0).is_err());
    let err = HeavyBall::new(1.2).unwrap_err().to_string();
    assert!(
        err.contains("momentum gamma") && err.contains("[0, 1)"),
        "{err}"
    );
    assert!(matches!(
        sysdyn_optim::iterate(&GradientDescent, -1.0, &[0.0], 3, |x| x.to_vec()),
        Err(OptimError::InvalidHyperParameter { .. })
    ));
    assert!(matches!(
        sysdyn_optim::iterate(&GradientDescent, 0.1, &[0.0, 1.0], 3, |_| vec![1.0]),
        Err(OptimError::DimensionMismatch { .. })
    ));
}
