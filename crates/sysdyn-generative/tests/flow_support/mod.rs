//! What the flow tests share: the f64 and f32 devices, host reads, the brute-force
//! log-determinant of a map's finite-difference Jacobian, and the round-trip and
//! log-determinant checks every layer passes.

#![allow(dead_code)]

use std::sync::OnceLock;

use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_generative::flow::Flow;

fn init(spec: &str) -> SysDevice {
    spec.parse::<DeviceSpec>().unwrap().init().unwrap()
}

/// `flex:f64:autodiff`, for exact checks.
pub fn f64_device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE.get_or_init(|| init("flex:f64:autodiff")).clone()
}

/// `flex:f32`.
pub fn f32_device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE.get_or_init(|| init("flex:f32")).clone()
}

/// A tensor's values on the host.
pub fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

/// `log|det A|` of a row-major `d × d` matrix by LU with partial pivoting.
pub fn log_abs_det(mut a: Vec<f64>, d: usize) -> f64 {
    let mut total = 0.0;
    for col in 0..d {
        let pivot = (col..d)
            .max_by(|&i, &j| a[i * d + col].abs().total_cmp(&a[j * d + col].abs()))
            .unwrap();
        for k in 0..d {
            a.swap(col * d + k, pivot * d + k);
        }
        let p = a[col * d + col];
        total += p.abs().ln();
        for row in col + 1..d {
            let factor = a[row * d + col] / p;
            for k in col..d {
                a[row * d + k] -= factor * a[col * d + k];
            }
        }
    }
    total
}

/// The central-difference Jacobian (row-major `d × d`, `[i, j] = ∂f_i/∂x_j`) of a map of one
/// row, step `h`.
pub fn fd_jacobian(f: &dyn Fn(&[f64]) -> Vec<f64>, x: &[f64], h: f64) -> Vec<f64> {
    let d = x.len();
    let mut jac = vec![0.0; d * d];
    for j in 0..d {
        let (mut plus, mut minus) = (x.to_vec(), x.to_vec());
        plus[j] += h;
        minus[j] -= h;
        let (fp, fm) = (f(&plus), f(&minus));
        for i in 0..d {
            jac[i * d + j] = (fp[i] - fm[i]) / (2.0 * h);
        }
    }
    jac
}

/// `(value, log_det)` of a flow direction at one row, on the host.
fn apply_row(
    flow: &dyn Fn(Tensor<2>) -> (Tensor<2>, Tensor<1>),
    device: &SysDevice,
    row: &[f64],
) -> (Vec<f64>, f64) {
    let x = device.tensor(row.to_vec(), [1, row.len()]).unwrap();
    let (value, log_det) = flow(x);
    (host(value), host(log_det)[0])
}

/// Asserts `inverse(forward(x)) = x` (to `tol`, max-abs) and that the two log-determinants of
/// each row are negatives of each other (to `tol`).
pub fn assert_round_trip<F: Flow<2>>(
    flow: &F,
    x: Tensor<2>,
    context: Option<&Tensor<2>>,
    tol: f64,
) {
    let forward = flow.forward(x.clone(), context).unwrap();
    let back = flow.inverse(forward.value.clone(), context).unwrap();
    let (x0, x1) = (host(x), host(back.value));
    let error = x0
        .iter()
        .zip(&x1)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(error <= tol, "round trip error {error:e} > {tol:e}");
    println!("round trip error {error:.2e} (tolerance {tol:.0e})");
    let (ld_f, ld_b) = (host(forward.log_det), host(back.log_det));
    for (f, b) in ld_f.iter().zip(&ld_b) {
        assert!(
            (f + b).abs() <= tol * (1.0 + f.abs()),
            "log-dets {f} and {b} are not opposite"
        );
    }
}

/// Asserts that both directions' log-determinants at every row of `rows` (each `d` values)
/// equal `log|det|` of the finite-difference Jacobian (f64, step `1e-5`), to `tol`; returns the
/// largest difference seen.
pub fn assert_log_det_brute_force<F: Flow<2>>(
    flow: &F,
    device: &SysDevice,
    rows: &[Vec<f64>],
    context: Option<&[f64]>,
    tol: f64,
) -> f64 {
    let ctx = |batch: usize| {
        context.map(|c| {
            let mut values = Vec::new();
            for _ in 0..batch {
                values.extend_from_slice(c);
            }
            device.tensor(values, [batch, c.len()]).unwrap()
        })
    };
    let forward = |x: Tensor<2>| {
        let c = ctx(x.dims()[0]);
        let t = flow.forward(x, c.as_ref()).unwrap();
        (t.value, t.log_det)
    };
    let inverse = |z: Tensor<2>| {
        let c = ctx(z.dims()[0]);
        let t = flow.inverse(z, c.as_ref()).unwrap();
        (t.value, t.log_det)
    };
    let mut worst: f64 = 0.0;
    for row in rows {
        let d = row.len();
        for direction in [
            &forward as &dyn Fn(Tensor<2>) -> (Tensor<2>, Tensor<1>),
            &inverse,
        ] {
            let (_, log_det) = apply_row(direction, device, row);
            let map = |p: &[f64]| apply_row(direction, device, p).0;
            let brute = log_abs_det(fd_jacobian(&map, row, 1e-5), d);
            let diff = (log_det - brute).abs();
            worst = worst.max(diff);
            assert!(
                diff <= tol,
                "log-det {log_det} vs brute force {brute} at {row:?} (diff {diff:e})"
            );
        }
    }
    worst
}

/// `n` rows of `d` standard normal values from `seed`, scaled by `scale`.
pub fn rows(seed: u64, n: usize, d: usize, scale: f64) -> Vec<Vec<f64>> {
    let mut rng = sysdyn_core::rng::SeededRng::new(seed);
    (0..n)
        .map(|_| rng.normals(d).into_iter().map(|v| v * scale).collect())
        .collect()
}

/// The rows as one `[n, d]` tensor on `device`.
pub fn batch(device: &SysDevice, rows: &[Vec<f64>]) -> Tensor<2> {
    let d = rows[0].len();
    let values: Vec<f64> = rows.iter().flatten().copied().collect();
    device.tensor(values, [rows.len(), d]).unwrap()
}
