//! Reference problems with known solutions, and helpers shared by the test suites of every
//! sysdyn crate. Used only by tests, examples and the bench.
//!
//! ```
//! // Every backend compiled into this build (or those named in SYSDYN_TEST_BACKENDS).
//! let backends = sysdyn_testing::test_backends();
//! assert!(!backends.is_empty());
//! // Errors falling as h² give an empirical order of 2.
//! let order = sysdyn_testing::convergence_order(&[0.1, 0.05, 0.025], &[1e-2, 2.5e-3, 6.25e-4]);
//! assert!((order - 2.0).abs() < 1e-12);
//! ```

#![warn(missing_docs)]

pub mod cli;
pub mod problems;

use sysdyn_core::device::{Backend, DeviceSpec, Precision, SysDevice};

/// Environment variable restricting the backends that backend-generic tests run on, e.g.
/// `SYSDYN_TEST_BACKENDS=flex,ndarray` on a machine without a Vulkan device. Unset: every
/// compiled backend.
pub const ENV_TEST_BACKENDS: &str = "SYSDYN_TEST_BACKENDS";

/// The backends backend-generic tests should run on: every compiled backend, or those named in
/// `SYSDYN_TEST_BACKENDS`.
pub fn test_backends() -> Vec<Backend> {
    match std::env::var(ENV_TEST_BACKENDS) {
        Ok(list) if !list.trim().is_empty() => list
            .split(',')
            .map(|name| {
                name.parse::<Backend>()
                    .unwrap_or_else(|e| panic!("{ENV_TEST_BACKENDS}: {e}"))
            })
            .filter(|b| b.is_compiled())
            .collect(),
        _ => Backend::compiled(),
    }
}

/// A device for each test backend at the highest precision it allows (f64 on CPU backends, f32
/// on wgpu), with autodiff as asked.
pub fn test_devices(autodiff: bool) -> Vec<SysDevice> {
    test_backends()
        .into_iter()
        .map(|backend| {
            let precision = if backend.supports_f64() {
                Precision::F64
            } else {
                Precision::F32
            };
            DeviceSpec::new(backend, precision)
                .with_autodiff(autodiff)
                .init()
                .unwrap_or_else(|e| panic!("test device {backend}: {e}"))
        })
        .collect()
}

/// A device for each test backend in f32 (the precision every backend supports).
pub fn test_devices_f32(autodiff: bool) -> Vec<SysDevice> {
    test_backends()
        .into_iter()
        .map(|backend| {
            DeviceSpec::new(backend, Precision::F32)
                .with_autodiff(autodiff)
                .init()
                .unwrap_or_else(|e| panic!("test device {backend}: {e}"))
        })
        .collect()
}

/// Least-squares slope of `log(errors)` against `log(steps)`: the empirical order of
/// convergence when `steps` are step sizes.
pub fn convergence_order(steps: &[f64], errors: &[f64]) -> f64 {
    assert_eq!(steps.len(), errors.len());
    let xs: Vec<f64> = steps.iter().map(|h| h.ln()).collect();
    let ys: Vec<f64> = errors.iter().map(|e| e.ln()).collect();
    let n = xs.len() as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    sxy / sxx
}
