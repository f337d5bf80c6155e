//! The same solves on every backend: a batch of trajectories is one burn tensor, and the solver
//! run on it (ndarray, flex, wgpu; f64 where the device policy allows it, f32 everywhere) agrees
//! with the plain-f64 path (`Vec<f64>` of the same numbers, row-major) and with the exact
//! solution as far as the precision allows. Autodiff flows through the solver.
//!
//! Vector fields are written with batched tensor ops: the Lotka–Volterra field as one matmul
//! (rank 2) and with `narrow`/`cat` on the last dimension (any rank).
//!
//! wgpu runs on lavapipe in CI, a software Vulkan that is slow per kernel launch (and slow to
//! start), so its batches are small; every wgpu case still exercises the same code.

use sysdyn_core::State;
use sysdyn_core::burn::tensor::Tensor;
use sysdyn_core::device::{Backend, Precision, SysDevice};
use sysdyn_solvers::methods::{ALL, DOPRI5, RK4};
use sysdyn_solvers::{SaveAt, Solution, SolveConfig, solve};
use sysdyn_testing::problems::LotkaVolterra;
use sysdyn_testing::{test_devices, test_devices_f32};

const LV: LotkaVolterra = LotkaVolterra::W1;

/// W1's batch of initial conditions, `(1 + 0.5 i/(n-1), 1)`, row-major (n, 2).
fn lv_batch_y0(n: usize) -> Vec<f64> {
    (0..n)
        .flat_map(|i| [1.0 + 0.5 * i as f64 / (n - 1) as f64, 1.0])
        .collect()
}

/// Batch size for a device: lavapipe is slow per kernel, so wgpu gets a smaller batch.
fn batch_size(dev: &SysDevice) -> usize {
    if dev.spec().backend == Backend::Wgpu {
        64
    } else {
        1024
    }
}

/// Every test device at every precision it allows: f32 everywhere, f64 on CPU backends.
fn devices_all_precisions() -> Vec<SysDevice> {
    let mut devices = test_devices_f32(false);
    devices.extend(
        test_devices(false)
            .into_iter()
            .filter(|d| d.spec().precision == Precision::F64),
    );
    devices
}

/// The plain path: the W1 field on a row-major batch, pair by pair.
#[allow(clippy::ptr_arg)] // A vector field over `Vec<f64>` states takes `&Vec<f64>`.
fn lv_plain(_t: f64, y: &Vec<f64>) -> Vec<f64> {
    y.chunks_exact(2)
        .flat_map(|p| LV.field(&[p[0], p[1]]))
        .collect()
}

/// The W1 field as one matmul over the batch: `f(Y) = Y ⊙ (Y M + c)` with
/// `M = [[0, d], [-b, 0]]`, `c = (a, -g)`, i.e. `(x (a - b y), y (d x - g))` row by row.
struct LvMatmul {
    m: Tensor<2>,
    c: Tensor<2>,
}

impl LvMatmul {
    fn new(dev: &SysDevice) -> Self {
        LvMatmul {
            m: dev.tensor(vec![0.0, LV.d, -LV.b, 0.0], [2, 2]).unwrap(),
            c: dev.tensor(vec![LV.a, -LV.g], [1, 2]).unwrap(),
        }
    }

    fn eval(&self, y: &Tensor<2>) -> Tensor<2> {
        y.clone() * (y.clone().matmul(self.m.clone()) + self.c.clone())
    }
}

/// The W1 field on a tensor of any rank whose last dimension holds (x, y), with slices and cat.
fn lv_sliced<const D: usize>(y: &Tensor<D>) -> Tensor<D> {
    let last = D - 1;
    let x = y.clone().narrow(last, 0, 1);
    let p = y.clone().narrow(last, 1, 1);
    let dx = x.clone() * p.clone().mul_scalar(-LV.b).add_scalar(LV.a);
    let dp = p * x.mul_scalar(LV.d).add_scalar(-LV.g);
    Tensor::cat(vec![dx, dp], last)
}

/// Per-trajectory `[f64; 2]` solves at rtol = atol = 1e-12, at `times` (dense output): the
/// "exact" solution, its error far below anything compared with it here. Row-major per time.
fn lv_reference(y0: &[f64], times: &[f64]) -> Vec<Vec<f64>> {
    let config = SolveConfig::adaptive(1e-12, 1e-12).save_at(SaveAt::Times(times.to_vec()));
    let mut out = vec![Vec::with_capacity(y0.len()); times.len()];
    for p in y0.chunks_exact(2) {
        let mut f = |_t: f64, y: &[f64; 2]| LV.field(y);
        let sol = solve(
            &mut f,
            &DOPRI5,
            (0.0, times[times.len() - 1]),
            [p[0], p[1]],
            &config,
        )
        .unwrap();
        for (slot, y) in out.iter_mut().zip(&sol.ys) {
            slot.extend_from_slice(y);
        }
    }
    out
}

/// Largest `|got - want| / (atol + rtol |want|)`: at most one means "agrees within (rtol, atol)".
fn worst_ratio(got: &[f64], want: &[f64], rtol: f64, atol: f64) -> f64 {
    assert_eq!(got.len(), want.len(), "compared states differ in length");
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() / (atol + rtol * w.abs()))
        .fold(0.0, f64::max)
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn plain_solve(
    y0: Vec<f64>,
    config: &SolveConfig<Vec<f64>>,
    span: (f64, f64),
) -> Solution<Vec<f64>> {
    let method = match config.step {
        sysdyn_solvers::StepSize::Fixed(_) => &RK4,
        sysdyn_solvers::StepSize::Adaptive(_) => &DOPRI5,
    };
    solve(&mut lv_plain, method, span, y0, config).unwrap()
}

/// W1's batch in f32 (rtol 1e-5, atol 1e-6: what f32 can honour, three decades above its
/// resolution 6e-8) on every backend against the plain path at the same tolerances and the
/// exact solution.
///
/// Why 1e-3: the controller keeps each step's local error near rtol·|y| = 1e-5·|y|; over
/// [0, 15] (about 2.5 periods) Lotka–Volterra shears neighbouring orbits apart, so the global
/// error is a few times 1e-4 relative, for the plain f64 path as well (asserted below).
/// f32 rounding adds ~100 steps × 6e-8, amplified the same way, below 1e-4. The f32 and f64 step
/// sequences differ slightly (their error norms differ in the last bits), so the two solutions
/// may each sit on either side of the exact one: their difference is bounded by the sum of their
/// errors, below 1e-3 with a margin of about 2.
#[test]
fn dopri5_batch_in_f32_agrees_with_the_plain_path_on_every_backend() {
    let (rtol, atol) = (1e-5, 1e-6);
    for dev in test_devices_f32(false) {
        let n = batch_size(&dev);
        let y0 = lv_batch_y0(n);
        let exact = lv_reference(&y0, &[15.0]).remove(0);
        let plain = plain_solve(y0.clone(), &SolveConfig::adaptive(rtol, atol), (0.0, 15.0));
        let field = LvMatmul::new(&dev);
        let y0_t = dev.tensor(y0, [n, 2]).unwrap();
        let sol = solve(
            &mut |_t: f64, y: &Tensor<2>| field.eval(y),
            &DOPRI5,
            (0.0, 15.0),
            y0_t,
            &SolveConfig::adaptive(rtol, atol),
        )
        .unwrap_or_else(|e| panic!("{:?}: {e}", dev.spec()));
        let spec = dev.spec();
        assert_eq!(sol.last().dims(), [n, 2], "{spec}");
        let got = sol.last().to_f64_vec();
        let plain_y = plain.last();
        let vs_plain = worst_ratio(&got, plain_y, 1e-3, 1e-3);
        let plain_err = worst_ratio(plain_y, &exact, 1e-3, 1e-3);
        let tensor_err = worst_ratio(&got, &exact, 1e-3, 1e-3);
        eprintln!(
            "{spec}: n = {n}, NFE {} (plain {}), |f32 - plain| / 1e-3 = {vs_plain:.3}, \
             errors / 1e-3: plain {plain_err:.3}, tensor {tensor_err:.3}",
            sol.stats.nfe, plain.stats.nfe
        );
        assert!(
            plain_err <= 0.5,
            "the plain path's own error is the premise of the bound"
        );
        assert!(
            vs_plain <= 1.0,
            "{spec}: f32 batch differs from the plain path"
        );
        assert!(
            tensor_err <= 1.0,
            "{spec}: f32 batch is not within 1e-3 of the solution"
        );
        // The error control is the same: the step counts may differ only by what f32 noise in the
        // error norms changes.
        let (a, b) = (sol.stats.nfe as f64, plain.stats.nfe as f64);
        assert!((a - b).abs() <= 0.1 * b, "{spec}: NFE {a} vs {b}");
    }
}

/// W1(b) exactly (1024 trajectories, rtol = atol = 1e-8) in f64 on the CPU backends: the tensor
/// path does the plain path's arithmetic in another order, so it takes the same steps (same
/// counters) and lands on the same numbers to rounding (1e-12 relative; measured 2e-14), and
/// both are within 1e-6 of the exact solution (measured 7.2e-7 at the largest orbit; W1's
/// single-trajectory error is 3.3e-7).
#[test]
fn dopri5_batch_in_f64_takes_the_plain_paths_steps_on_cpu_backends() {
    let n = 1024;
    let y0 = lv_batch_y0(n);
    let exact = lv_reference(&y0, &[15.0]).remove(0);
    let config = SolveConfig::adaptive(1e-8, 1e-8);
    let plain = plain_solve(y0.clone(), &config, (0.0, 15.0));
    let plain_err = max_abs_diff(plain.last(), &exact);
    assert!(plain_err < 1e-6, "plain path error {plain_err:e}");
    for dev in test_devices(false)
        .into_iter()
        .filter(|d| d.spec().precision == Precision::F64)
    {
        let field = LvMatmul::new(&dev);
        let sol = solve(
            &mut |_t: f64, y: &Tensor<2>| field.eval(y),
            &DOPRI5,
            (0.0, 15.0),
            dev.tensor(y0.clone(), [n, 2]).unwrap(),
            &SolveConfig::adaptive(1e-8, 1e-8),
        )
        .unwrap();
        let spec = dev.spec();
        let got = sol.last().to_f64_vec();
        let vs_plain = worst_ratio(&got, plain.last(), 1e-12, 1e-12);
        eprintln!(
            "{spec}: NFE {} (plain {}), |tensor - plain| / 1e-12 = {vs_plain:.2e}, \
             error {:.2e} (plain {plain_err:.2e})",
            sol.stats.nfe,
            plain.stats.nfe,
            max_abs_diff(&got, &exact)
        );
        assert_eq!(sol.stats, plain.stats, "{spec}: a different step sequence");
        assert!(
            vs_plain <= 1.0,
            "{spec}: f64 batch differs from the plain path"
        );
        assert!(max_abs_diff(&got, &exact) < 1e-6, "{spec}");
    }
}

/// Classical RK4 with a fixed step takes exactly the same steps on every path, so the tensor
/// solve differs from the plain one only by rounding: about one rounding (f32: 6e-8 relative)
/// per step that does not cancel, over 100 steps, is 6e-6 if every one fell the same way; the
/// bound is 1e-5 relative in f32 and 1e-13 in f64 (measured: 2e-6 and 5e-15).
#[test]
fn fixed_step_rk4_batch_matches_the_plain_path_to_round_off() {
    let span = (0.0, 5.0);
    let dt = 0.05;
    for dev in devices_all_precisions() {
        let n = batch_size(&dev);
        let y0 = lv_batch_y0(n);
        let plain = plain_solve(y0.clone(), &SolveConfig::fixed(dt), span);
        let field = LvMatmul::new(&dev);
        let sol = solve(
            &mut |_t: f64, y: &Tensor<2>| field.eval(y),
            &RK4,
            span,
            dev.tensor(y0, [n, 2]).unwrap(),
            &SolveConfig::fixed(dt),
        )
        .unwrap();
        let spec = dev.spec();
        assert_eq!(
            sol.stats, plain.stats,
            "{spec}: fixed steps must be identical"
        );
        // Four evaluations per step: the loop's initial evaluation serves as the first stage.
        assert_eq!(sol.stats.nfe, 4 * 100, "{spec}");
        let rtol = match spec.precision {
            Precision::F32 => 1e-5,
            Precision::F64 => 1e-13,
        };
        let ratio = worst_ratio(&sol.last().to_f64_vec(), plain.last(), rtol, rtol);
        eprintln!("{spec}: |tensor - plain| / {rtol:e} = {ratio:.2e}");
        assert!(
            ratio <= 1.0,
            "{spec}: RK4 batch differs from the plain path by more than rounding"
        );
    }
}

/// `SaveAt::Times` on tensors: values between steps come from Dopri5's continuous extension
/// (4th order), on the device, and match the plain path's dense output and the exact solution.
#[test]
fn dense_output_on_tensors_matches_the_plain_path_and_the_solution() {
    let times = vec![0.0, 0.7, 3.0, 7.5, 11.1, 15.0];
    let n = 16;
    let y0 = lv_batch_y0(n);
    let exact = lv_reference(&y0, &times);
    for dev in devices_all_precisions() {
        let spec = dev.spec();
        // Tolerances the precision can honour; `agree` bounds the difference from the plain path
        // (rounding for f64; for f32 the argument of the f32 batch test), `accurate` the error of
        // the interpolated values (the controller's per-step error, a few times rtol, and the
        // interpolant's, of the same size, grown over the span).
        let (rtol, atol, agree, accurate) = match spec.precision {
            Precision::F32 => (1e-5, 1e-6, 1e-3, 1e-3),
            Precision::F64 => (1e-8, 1e-8, 1e-10, 1e-5),
        };
        let config = SolveConfig::adaptive(rtol, atol).save_at(SaveAt::Times(times.clone()));
        let plain = solve(&mut lv_plain, &DOPRI5, (0.0, 15.0), y0.clone(), &config).unwrap();
        let sol = solve(
            &mut |_t: f64, y: &Tensor<2>| lv_sliced(y),
            &DOPRI5,
            (0.0, 15.0),
            dev.tensor(y0.clone(), [n, 2]).unwrap(),
            &SolveConfig::adaptive(rtol, atol).save_at(SaveAt::Times(times.clone())),
        )
        .unwrap();
        assert_eq!(sol.ts, times, "{spec}");
        assert_eq!(sol.ys.len(), times.len(), "{spec}");
        for (i, t) in times.iter().enumerate() {
            let got = sol.ys[i].to_f64_vec();
            let vs_plain = worst_ratio(&got, &plain.ys[i], agree, agree);
            let vs_exact = worst_ratio(&got, &exact[i], accurate, accurate);
            assert!(
                vs_plain <= 1.0,
                "{spec} t = {t}: {vs_plain} × {agree:e} from the plain path"
            );
            assert!(
                vs_exact <= 1.0,
                "{spec} t = {t}: {vs_exact} × {accurate:e} from the solution"
            );
        }
    }
}

/// A state of any rank: a (4, 8, 2) grid of initial conditions is solved as one rank-3 tensor,
/// keeps its shape, and matches the plain path over the same numbers in row-major order.
#[test]
fn rank_three_states_solve_like_their_flattened_batch() {
    let (a, b) = (4, 8);
    let y0 = lv_batch_y0(a * b);
    for dev in devices_all_precisions() {
        let spec = dev.spec();
        let (rtol, atol, agree) = match spec.precision {
            Precision::F32 => (1e-5, 1e-6, 1e-3),
            Precision::F64 => (1e-8, 1e-8, 1e-10),
        };
        let plain = solve(
            &mut lv_plain,
            &DOPRI5,
            (0.0, 15.0),
            y0.clone(),
            &SolveConfig::adaptive(rtol, atol),
        )
        .unwrap();
        let sol = solve(
            &mut |_t: f64, y: &Tensor<3>| lv_sliced(y),
            &DOPRI5,
            (0.0, 15.0),
            dev.tensor(y0.clone(), [a, b, 2]).unwrap(),
            &SolveConfig::adaptive(rtol, atol),
        )
        .unwrap();
        assert_eq!(sol.last().dims(), [a, b, 2], "{spec}");
        let ratio = worst_ratio(&sol.last().to_f64_vec(), plain.last(), agree, agree);
        assert!(
            ratio <= 1.0,
            "{spec}: rank-3 solve is {ratio} × {agree:e} from the plain path"
        );
    }
}

/// Adaptive (rtol = atol = 1e-6) or fixed-step (0.05) options with output at `times`, for
/// either state type.
fn config<S>(adaptive: bool, times: &[f64]) -> SolveConfig<S> {
    let config = if adaptive {
        SolveConfig::adaptive(1e-6, 1e-6)
    } else {
        SolveConfig::fixed(0.05)
    };
    config.save_at(SaveAt::Times(times.to_vec()))
}

/// Every explicit method of the crate runs on tensors as on plain arrays: adaptive methods with
/// their error estimate, the others with a fixed step, with dense output (each method's own
/// interpolant, DOP853's extra stages included, or cubic Hermite). On f64 devices the tensor path
/// takes the same steps and agrees with the plain path to rounding (1e-11 relative).
#[test]
fn every_method_takes_the_plain_paths_steps_on_tensors() {
    let n = 16;
    let y0 = lv_batch_y0(n);
    let times = vec![0.35, 2.0, 5.0];
    for dev in test_devices(false)
        .into_iter()
        .filter(|d| d.spec().precision == Precision::F64)
    {
        let spec = dev.spec();
        for method in ALL {
            let adaptive = method.error_order().is_some();
            let plain_config = config(adaptive, &times);
            let tensor_config = config(adaptive, &times);
            let plain = solve(
                &mut lv_plain,
                *method,
                (0.0, 5.0),
                y0.clone(),
                &plain_config,
            )
            .unwrap_or_else(|e| panic!("{}: {e}", method.name));
            let sol = solve(
                &mut |_t: f64, y: &Tensor<2>| lv_sliced(y),
                *method,
                (0.0, 5.0),
                dev.tensor(y0.clone(), [n, 2]).unwrap(),
                &tensor_config,
            )
            .unwrap_or_else(|e| panic!("{spec} {}: {e}", method.name));
            assert_eq!(
                sol.stats, plain.stats,
                "{spec} {}: other steps",
                method.name
            );
            for (got, want) in sol.ys.iter().zip(&plain.ys) {
                let ratio = worst_ratio(&got.to_f64_vec(), want, 1e-11, 1e-11);
                assert!(
                    ratio <= 1.0,
                    "{spec} {}: {ratio} × 1e-11 apart",
                    method.name
                );
            }
        }
    }
}

/// The stability function of classical RK4, `R(z) = 1 + z + z²/2 + z³/6 + z⁴/24`: one step of
/// `y' = λ y` multiplies `y` by `R(λ h)`.
fn rk4_stability(z: f64) -> f64 {
    1.0 + z + z * z / 2.0 + z * z * z / 6.0 + z * z * z * z / 24.0
}

/// Backpropagation through the solver: for `y' = -k ⊙ y` solved with n fixed RK4 steps,
/// `y(T) = R(-k h)^n ⊙ y0`, so the gradient of `sum(y(T))` with respect to `y0` is exactly
/// `R(-k h)^n` (the derivative of the discrete map), and differs from the continuous
/// `exp(-k T)` by RK4's global error, whose leading term is `n |z|⁵ / 120` relative (z = -k h).
#[test]
fn gradients_flow_through_the_solver() {
    let k = [0.5, 1.0, 2.0];
    let y0 = vec![1.0, -2.0, 0.5];
    let (h, n) = (0.1, 20);
    let t_end = h * n as f64;
    for dev in test_devices(true) {
        let spec = dev.spec();
        let minus_k = dev
            .tensor(k.iter().map(|v| -v).collect::<Vec<_>>(), [3])
            .unwrap();
        let y0_t = dev.tensor(y0.clone(), [3]).unwrap().require_grad();
        let sol = solve(
            &mut |_t: f64, y: &Tensor<1>| y.clone() * minus_k.clone(),
            &RK4,
            (0.0, t_end),
            y0_t.clone(),
            &SolveConfig::fixed(h),
        )
        .unwrap();
        assert_eq!(sol.stats.accepted, n, "{spec}");
        let grads = sol.last().clone().sum().backward();
        let grad = y0_t
            .grad(&grads)
            .unwrap_or_else(|| panic!("{spec}: no gradient reached y0"))
            .to_f64_vec();
        let round_off = match spec.precision {
            Precision::F32 => 1e-5,
            Precision::F64 => 1e-13,
        };
        for (i, &ki) in k.iter().enumerate() {
            let z = -ki * h;
            let discrete = rk4_stability(z).powi(n as i32);
            let continuous = (-ki * t_end).exp();
            assert!(
                (grad[i] - discrete).abs() <= round_off * discrete,
                "{spec}: d sum(y(T)) / d y0[{i}] = {}, discrete map gives {discrete}",
                grad[i]
            );
            let leading = n as f64 * z.abs().powi(5) / 120.0;
            let relative = (grad[i] - continuous).abs() / continuous;
            assert!(
                relative <= 1.5 * leading + round_off,
                "{spec}: gradient {} vs exp(-kT) = {continuous}: relative {relative:e} exceeds \
                 RK4's global error {leading:e}",
                grad[i]
            );
        }
    }
}
