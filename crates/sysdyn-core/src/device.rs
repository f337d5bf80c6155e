//! The device and precision policy.
//!
//! A [`DeviceSpec`] is a typed choice of backend, float precision and autodiff. It is picked by
//! cargo feature (which backends exist in the build) and at run time (a CLI flag, the
//! `SYSDYN_BACKEND` / `SYSDYN_PRECISION` / `SYSDYN_AUTODIFF` environment variables, or a config
//! string such as `"flex:f64"`). [`DeviceSpec::init`] turns it into a [`SysDevice`], refusing what
//! the build or the policy does not allow:
//!
//! - a backend that was not compiled in gives [`CoreError::BackendNotCompiled`];
//! - f64 on `wgpu` gives [`CoreError::PrecisionUnsupported`]: GPU f64 transcendentals are not
//!   reliable, so GPU work is f32. CPU backends may run f64.
//!
//! Tensors made through a [`SysDevice`] carry the policy's dtype explicitly, so f32 and f64 work
//! can share a process (burn fixes a device's *default* dtype once per process; see
//! [`SysDevice::configure_defaults`] for code that relies on defaults, like module
//! initialisation).
//!
//! ```
//! use sysdyn_core::device::{Backend, DeviceSpec, Precision};
//!
//! let spec: DeviceSpec = "flex:f64".parse()?;
//! assert_eq!(spec.backend, Backend::Flex);
//! let device = spec.init()?;
//! let y = device.tensor([1.0, 2.0, 3.0, 4.0], [2, 2])?;
//! assert_eq!(y.dims(), [2, 2]);
//! assert!("wgpu:f64".parse::<DeviceSpec>()?.init().is_err());
//! # Ok::<(), sysdyn_core::CoreError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use burn::tensor::{DType, Device, FloatDType, Tensor, TensorData};

use crate::{CoreError, ShapeMismatch};

/// A burn backend sysdyn can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// burn's original pure-Rust CPU backend (deprecated upstream in favour of `flex`).
    Ndarray,
    /// burn's maintained pure-Rust CPU backend, with native f64.
    Flex,
    /// The GPU backend (Vulkan, Metal, DX12; lavapipe's software Vulkan in CI).
    Wgpu,
}

impl Backend {
    /// Every backend sysdyn knows, compiled in or not.
    pub const ALL: [Backend; 3] = [Backend::Ndarray, Backend::Flex, Backend::Wgpu];

    /// The name used in feature flags, CLI flags and environment variables.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Ndarray => "ndarray",
            Backend::Flex => "flex",
            Backend::Wgpu => "wgpu",
        }
    }

    /// Whether this build has the backend's cargo feature.
    pub fn is_compiled(self) -> bool {
        match self {
            Backend::Ndarray => cfg!(feature = "ndarray"),
            Backend::Flex => cfg!(feature = "flex"),
            Backend::Wgpu => cfg!(feature = "wgpu"),
        }
    }

    /// The backends this build has.
    pub fn compiled() -> Vec<Backend> {
        Self::ALL.into_iter().filter(|b| b.is_compiled()).collect()
    }

    /// Whether the policy allows f64 on this backend.
    pub fn supports_f64(self) -> bool {
        !matches!(self, Backend::Wgpu)
    }

    fn compiled_names() -> String {
        let names: Vec<_> = Self::compiled().into_iter().map(Backend::name).collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ndarray" => Ok(Backend::Ndarray),
            "flex" => Ok(Backend::Flex),
            "wgpu" | "gpu" => Ok(Backend::Wgpu),
            _ => Err(CoreError::UnknownName {
                what: "backend",
                given: s.to_string(),
                expected: "ndarray, flex, wgpu",
            }),
        }
    }
}

/// Float precision of tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precision {
    /// 32-bit floats: every backend.
    F32,
    /// 64-bit floats: CPU backends only.
    F64,
}

impl Precision {
    /// The burn dtype.
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::F64 => DType::F64,
        }
    }

    fn float_dtype(self) -> FloatDType {
        match self {
            Precision::F32 => FloatDType::F32,
            Precision::F64 => FloatDType::F64,
        }
    }

    /// The name used in CLI flags and environment variables.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Precision {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f32" | "float32" | "single" => Ok(Precision::F32),
            "f64" | "float64" | "double" => Ok(Precision::F64),
            _ => Err(CoreError::UnknownName {
                what: "precision",
                given: s.to_string(),
                expected: "f32, f64",
            }),
        }
    }
}

/// A typed choice of backend, precision and autodiff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceSpec {
    /// Which backend runs the tensors.
    pub backend: Backend,
    /// Float precision of the tensors made through the device.
    pub precision: Precision,
    /// Whether tensors record a graph for `backward()`.
    pub autodiff: bool,
}

/// Environment variable naming the backend (`ndarray`, `flex`, `wgpu`).
pub const ENV_BACKEND: &str = "SYSDYN_BACKEND";
/// Environment variable naming the precision (`f32`, `f64`).
pub const ENV_PRECISION: &str = "SYSDYN_PRECISION";
/// Environment variable switching autodiff on (`1`, `true`) or off (`0`, `false`).
pub const ENV_AUTODIFF: &str = "SYSDYN_AUTODIFF";

impl DeviceSpec {
    /// A spec with the given backend and precision, autodiff off.
    pub fn new(backend: Backend, precision: Precision) -> Self {
        DeviceSpec {
            backend,
            precision,
            autodiff: false,
        }
    }

    /// The same spec with autodiff switched on or off.
    pub fn with_autodiff(mut self, autodiff: bool) -> Self {
        self.autodiff = autodiff;
        self
    }

    /// The default: the fastest CPU backend compiled in (`flex`, else `ndarray`, else `wgpu`), f32
    /// without autodiff.
    pub fn default_for_build() -> Result<Self, CoreError> {
        [Backend::Flex, Backend::Ndarray, Backend::Wgpu]
            .into_iter()
            .find(|b| b.is_compiled())
            .map(|b| DeviceSpec::new(b, Precision::F32))
            .ok_or_else(|| CoreError::BackendNotCompiled {
                backend: "any".to_string(),
                compiled: Backend::compiled_names(),
            })
    }

    /// Starts from `self` and overrides what the `SYSDYN_*` environment variables set.
    pub fn override_from_env(mut self) -> Result<Self, CoreError> {
        if let Ok(v) = std::env::var(ENV_BACKEND) {
            self.backend = v.parse()?;
        }
        if let Ok(v) = std::env::var(ENV_PRECISION) {
            self.precision = v.parse()?;
        }
        if let Ok(v) = std::env::var(ENV_AUTODIFF) {
            self.autodiff = parse_bool(&v)?;
        }
        Ok(self)
    }

    /// Applies command-line flags `--backend NAME`, `--precision f32|f64`, `--autodiff`
    /// (also `--backend=NAME` forms) and returns the arguments it did not consume.
    pub fn override_from_args<I, A>(mut self, args: I) -> Result<(Self, Vec<String>), CoreError>
    where
        I: IntoIterator<Item = A>,
        A: Into<String>,
    {
        let mut rest = Vec::new();
        let mut iter = args.into_iter().map(Into::into);
        while let Some(arg) = iter.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) => (f.to_string(), Some(v.to_string())),
                None => (arg.clone(), None),
            };
            match flag.as_str() {
                "--backend" | "--precision" => {
                    let value = inline
                        .or_else(|| iter.next())
                        .ok_or(CoreError::UnknownName {
                            what: if flag == "--backend" {
                                "backend"
                            } else {
                                "precision"
                            },
                            given: String::new(),
                            expected: "a value after the flag",
                        })?;
                    if flag == "--backend" {
                        self.backend = value.parse()?;
                    } else {
                        self.precision = value.parse()?;
                    }
                }
                "--autodiff" => self.autodiff = true,
                _ => rest.push(arg),
            }
        }
        Ok((self, rest))
    }

    /// Checks the spec against the build and the precision policy, and makes the device.
    pub fn init(self) -> Result<SysDevice, CoreError> {
        if !self.backend.is_compiled() {
            return Err(CoreError::BackendNotCompiled {
                backend: self.backend.name().to_string(),
                compiled: Backend::compiled_names(),
            });
        }
        if self.precision == Precision::F64 && !self.backend.supports_f64() {
            return Err(CoreError::PrecisionUnsupported {
                backend: self.backend.name().to_string(),
            });
        }
        let device = make_device(self.backend);
        let device = if self.autodiff {
            device.autodiff()
        } else {
            device
        };
        Ok(SysDevice { device, spec: self })
    }
}

fn parse_bool(v: &str) -> Result<bool, CoreError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(CoreError::UnknownName {
            what: "autodiff switch",
            given: v.to_string(),
            expected: "1, 0, true, false",
        }),
    }
}

#[allow(unreachable_code, unused_variables)]
fn make_device(backend: Backend) -> Device {
    // `init` has checked that the backend is compiled in, so each arm's cfg holds.
    match backend {
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)] // ndarray is deprecated upstream; our users still ask for it.
        Backend::Ndarray => Device::ndarray(),
        #[cfg(feature = "flex")]
        Backend::Flex => Device::flex(),
        #[cfg(feature = "wgpu")]
        // An explicit adapter choice: `Device::default()` would prefer whatever GPU backend is
        // compiled in, not necessarily the one asked for.
        Backend::Wgpu => Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
        #[allow(unreachable_patterns)]
        _ => unreachable!("backend {backend} checked as compiled in"),
    }
}

impl FromStr for DeviceSpec {
    type Err = CoreError;

    /// Parses `backend[:precision][:autodiff]`, e.g. `flex`, `flex:f64`, `wgpu:f32:autodiff`.
    /// The precision defaults to f32.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split(':');
        let backend: Backend = parts.next().unwrap_or_default().parse()?;
        let mut spec = DeviceSpec::new(backend, Precision::F32);
        for part in parts {
            if part.eq_ignore_ascii_case("autodiff") {
                spec.autodiff = true;
            } else {
                spec.precision = part.parse()?;
            }
        }
        Ok(spec)
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.backend, self.precision)?;
        if self.autodiff {
            f.write_str(":autodiff")?;
        }
        Ok(())
    }
}

/// A burn device together with the policy it was made under.
#[derive(Debug, Clone)]
pub struct SysDevice {
    device: Device,
    spec: DeviceSpec,
}

impl SysDevice {
    /// The burn device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The spec the device was made from.
    pub fn spec(&self) -> DeviceSpec {
        self.spec
    }

    /// The float dtype of tensors made through this device.
    pub fn dtype(&self) -> DType {
        self.spec.precision.dtype()
    }

    /// A tensor of the policy's dtype from row-major `f64` values.
    pub fn tensor<const D: usize>(
        &self,
        values: impl Into<Vec<f64>>,
        shape: [usize; D],
    ) -> Result<Tensor<D>, ShapeMismatch> {
        let values = values.into();
        let expected: usize = shape.iter().product();
        if values.len() != expected {
            return Err(ShapeMismatch {
                context: "tensor values".to_string(),
                expected: shape.to_vec(),
                got: vec![values.len()],
            });
        }
        let data = TensorData::new(values, shape).convert_dtype(self.dtype());
        Ok(Tensor::from_data(data, (&self.device, self.dtype())))
    }

    /// A tensor of zeros of the policy's dtype.
    pub fn zeros<const D: usize>(&self, shape: [usize; D]) -> Tensor<D> {
        Tensor::zeros(shape, (&self.device, self.dtype()))
    }

    /// Makes the policy's precision the device's *default* float dtype, which burn uses when a
    /// tensor or module parameter is created without an explicit dtype (e.g. `LinearConfig::init`).
    ///
    /// burn fixes a device's defaults once per process: if they are already set to the same
    /// dtype this is a no-op; if they were set (or locked by creating a tensor) to another, this
    /// returns [`CoreError::DefaultsAlreadySet`].
    pub fn configure_defaults(&mut self) -> Result<(), CoreError> {
        let wanted = self.spec.precision.float_dtype();
        let current = self.device.settings().float_dtype;
        if current == wanted {
            return Ok(());
        }
        self.device
            .configure(wanted)
            .map_err(|_| CoreError::DefaultsAlreadySet {
                backend: self.spec.backend.name().to_string(),
                current: format!("{current:?}"),
                requested: format!("{wanted:?}"),
            })
    }
}

impl SysDevice {
    /// A tensor of standard normal draws, made on the host from `rng` so that the same seed gives
    /// the same tensor on every backend.
    pub fn randn<const D: usize>(
        &self,
        rng: &mut crate::rng::SeededRng,
        shape: [usize; D],
    ) -> Tensor<D> {
        let n = shape.iter().product();
        let data = TensorData::new(rng.normals(n), shape).convert_dtype(self.dtype());
        Tensor::from_data(data, (&self.device, self.dtype()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{State, Tolerance};

    #[test]
    fn specs_parse_and_print() {
        let spec: DeviceSpec = "wgpu:f32:autodiff".parse().unwrap();
        assert_eq!(spec.backend, Backend::Wgpu);
        assert_eq!(spec.precision, Precision::F32);
        assert!(spec.autodiff);
        assert_eq!(spec.to_string(), "wgpu:f32:autodiff");
        assert!(matches!(
            "cuda".parse::<DeviceSpec>(),
            Err(CoreError::UnknownName {
                what: "backend",
                ..
            })
        ));
        assert!(matches!(
            "flex:f16".parse::<DeviceSpec>(),
            Err(CoreError::UnknownName {
                what: "precision",
                ..
            })
        ));
    }

    #[test]
    fn cli_flags_override_and_leave_the_rest() {
        let base = DeviceSpec::new(Backend::Flex, Precision::F32);
        let (spec, rest) = base
            .override_from_args(["--backend", "ndarray", "--steps=3", "--precision=f64"])
            .unwrap();
        assert_eq!(spec, DeviceSpec::new(Backend::Ndarray, Precision::F64));
        assert_eq!(rest, vec!["--steps=3".to_string()]);
        assert!(base.override_from_args(["--backend"]).is_err());
    }

    #[test]
    fn f64_on_wgpu_is_refused_before_touching_a_gpu() {
        let err = DeviceSpec::new(Backend::Wgpu, Precision::F64)
            .init()
            .unwrap_err();
        assert!(matches!(err, CoreError::PrecisionUnsupported { .. }));
        assert!(err.to_string().contains("use f32"));
    }

    #[test]
    fn tensors_carry_the_policy_dtype_on_cpu_backends() {
        for backend in [Backend::Flex, Backend::Ndarray] {
            for precision in [Precision::F32, Precision::F64] {
                let dev = DeviceSpec::new(backend, precision).init().unwrap();
                let t = dev.tensor(vec![1.0, 2.0, 3.0], [3]).unwrap();
                assert_eq!(t.dtype(), precision.dtype(), "{backend} {precision}");
                assert!(dev.tensor(vec![1.0, 2.0], [3]).is_err());
            }
        }
    }

    #[test]
    fn tensor_state_matches_the_plain_path_in_f64() {
        let dev = DeviceSpec::new(Backend::Flex, Precision::F64)
            .init()
            .unwrap();
        let y = dev.tensor(vec![1.0, -2.0, 3.0, 0.5], [2, 2]).unwrap();
        let k1 = dev.tensor(vec![0.1, 0.2, 0.3, 0.4], [2, 2]).unwrap();
        let k2 = dev.tensor(vec![-1.0, 1.0, 2.0, -3.0], [2, 2]).unwrap();
        let out = y.add_stages(0.25, &[0.5, 2.0], &[k1.clone(), k2.clone()]);
        let plain = vec![1.0, -2.0, 3.0, 0.5].add_stages(
            0.25,
            &[0.5, 2.0],
            &[vec![0.1, 0.2, 0.3, 0.4], vec![-1.0, 1.0, 2.0, -3.0]],
        );
        for (a, b) in out.to_f64_vec().iter().zip(&plain) {
            assert!((a - b).abs() < 1e-15);
        }
        let n_t = Tensor::weighted_rms_norm(&k1, &y, &out, &Tolerance::new(1e-3, 1e-6));
        let n_p = Vec::weighted_rms_norm(
            &k1.to_f64_vec(),
            &y.to_f64_vec(),
            &plain,
            &Tolerance::new(1e-3, 1e-6),
        );
        assert!((n_t - n_p).abs() < 1e-12 * n_p);
        let bad = dev.tensor(vec![1.0, f64::NAN, 0.0, 0.0], [2, 2]).unwrap();
        assert_eq!(bad.first_non_finite(), Some(1));
    }
}
