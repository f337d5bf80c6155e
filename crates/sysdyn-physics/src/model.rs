//! One contract for every physical model: [`PhysicalModel`].
//!
//! A model is `dy/dt = f(t, y; θ)` with a state `y` of a fixed shape (e.g. `[2]` for a pendulum,
//! `[2, 32, 32]` for two species on a 32 × 32 grid, flattened row-major) and named physical
//! parameters `θ`. It answers in two worlds that must agree:
//!
//! - the **host** right-hand side [`PhysicalModel::rhs`] in `f64`, what the simulators integrate
//!   with sysdyn-solvers through [`ModelField`] (which also hands a PDE's Jacobian sparsity
//!   pattern, [`PhysicalModel::jacobian_pattern`], to the sparse implicit methods);
//! - the **tensor** field [`PhysicalModel::rhs_tensor`] on a batch `[batch, state_len]`, with the
//!   parameters passed as a tensor `[1, P]` (shared) or `[batch, P]` (one row per sample or
//!   environment), so a hybrid model (APHYNITY, LEADS) can learn them by autodiff through the
//!   very same physics.
//!
//! The parameters live in the model as `f64` (the truth that generates data); the tensor path
//! never reads them, it takes them as input. [`PhysicalModel::parameter_tensor`] gives the
//! model's own values as a `[1, P]` tensor for checks and initialisations.
//!
//! Design choices: `rhs` takes `&mut self` so pseudo-spectral models can reuse their FFT scratch
//! buffers; the trait is object safe; the simulators clone the model per trajectory
//! (`M: Clone + Send`), so rayon threads never share scratch space.
//!
//! ```
//! use sysdyn_physics::model::simulate;
//! use sysdyn_physics::simulators::pendulum::DampedPendulum;
//! use sysdyn_physics::{ModelField, PhysicalModel, PhysicsError};
//! use sysdyn_solvers::{SolveConfig, methods::DOP853};
//!
//! let mut pendulum = DampedPendulum::aphynity();
//! assert_eq!(pendulum.parameter_names(), ["omega0", "alpha"]);
//! let mut field = ModelField::dense(pendulum);
//! let config = SolveConfig::adaptive(1e-10, 1e-12);
//! let states = simulate(&mut field, &DOP853, vec![0.5, 0.0], &[0.0, 5.0, 10.0], config)?;
//! // dE/dt = −α θ̇² ≤ 0: the damped pendulum loses energy.
//! assert!(pendulum.energy(&states[2]) < pendulum.energy(&states[0]));
//! // A negative damping is refused, with the parameter's name.
//! assert!(matches!(
//!     pendulum.set_parameters(&[1.0, -0.1]),
//!     Err(PhysicsError::InvalidParameter { name: "alpha", .. })
//! ));
//! # Ok::<(), PhysicsError>(())
//! ```

use burn::tensor::{Tensor, TensorData};
use sysdyn_solvers::sparse::SparsityPattern;
use sysdyn_solvers::{OdeMethod, SaveAt, SolveConfig, VectorField, solve};

use crate::error::PhysicsError;

/// A physical model `dy/dt = f(t, y; θ)` (see the module docs).
pub trait PhysicalModel {
    /// A short name, e.g. `"damped pendulum"`.
    fn name(&self) -> &'static str;

    /// The state's shape, e.g. `[2]` or `[2, 32, 32]` (row-major when flattened).
    fn state_shape(&self) -> Vec<usize>;

    /// Number of scalars in the state.
    fn state_len(&self) -> usize {
        self.state_shape().iter().product()
    }

    /// The names of the physical parameters, in the order of [`PhysicalModel::parameters`].
    fn parameter_names(&self) -> &'static [&'static str];

    /// The parameter values.
    fn parameters(&self) -> Vec<f64>;

    /// Sets the parameters. Errors: a vector of the wrong length
    /// ([`PhysicsError::SizeMismatch`]), a value outside its range (a negative diffusion, a
    /// non-finite value: [`PhysicsError::InvalidParameter`]); the model is unchanged then.
    fn set_parameters(&mut self, values: &[f64]) -> Result<(), PhysicsError>;

    /// Writes `f(t, y)` into `dy` (both of [`PhysicalModel::state_len`]; other lengths are a
    /// [`PhysicsError::SizeMismatch`]).
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), PhysicsError>;

    /// The structurally non-zero entries `(row, column)` of `∂f/∂y`, for PDEs (local
    /// stencils). `None`: dense (the default, right for small ODEs).
    fn jacobian_pattern(&self) -> Option<Vec<(usize, usize)>> {
        None
    }

    /// `f(t, y; θ)` on a batch `y: [batch, state_len]` with `params: [1, P]` or `[batch, P]`
    /// (columns in the order of [`PhysicalModel::parameter_names`]); differentiable in both.
    fn rhs_tensor(
        &self,
        t: f64,
        y: Tensor<2>,
        params: Tensor<2>,
    ) -> Result<Tensor<2>, PhysicsError>;

    /// The model's parameters as a `[1, P]` tensor in `like`'s device and float type.
    fn parameter_tensor(&self, like: &Tensor<2>) -> Tensor<2> {
        let p = self.parameters();
        let n = p.len();
        host_tensor(p, [1, n], like)
    }
}

/// Checks a parameter vector's length against the names.
pub fn check_parameter_count(
    names: &'static [&'static str],
    values: &[f64],
) -> Result<(), PhysicsError> {
    if values.len() != names.len() {
        return Err(PhysicsError::SizeMismatch {
            what: "parameter vector (one value per name in parameter_names())",
            expected: names.len(),
            got: values.len(),
        });
    }
    Ok(())
}

/// `value` must be finite.
pub fn finite(name: &'static str, value: f64) -> Result<f64, PhysicsError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(PhysicsError::InvalidParameter {
            name,
            value,
            requirement: "must be finite",
        })
    }
}

/// `value` must be finite and ≥ 0 (a diffusion, a damping, a viscosity).
pub fn non_negative(name: &'static str, value: f64) -> Result<f64, PhysicsError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(PhysicsError::InvalidParameter {
            name,
            value,
            requirement: "must be finite and non-negative",
        })
    }
}

/// `value` must be finite and > 0 (a time constant, a wave speed).
pub fn positive(name: &'static str, value: f64) -> Result<f64, PhysicsError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(PhysicsError::InvalidParameter {
            name,
            value,
            requirement: "must be finite and positive",
        })
    }
}

/// Checks that `y` and `dy` have `n` elements.
pub fn check_state(n: usize, y: &[f64], dy: &[f64]) -> Result<(), PhysicsError> {
    crate::stencil::check_len("state", n, y.len())?;
    crate::stencil::check_len("derivative buffer", n, dy.len())
}

/// Checks a batch `[batch, state_len]` and parameters `[1 | batch, P]` for the tensor path.
pub fn check_tensor_input(
    model: &(impl PhysicalModel + ?Sized),
    y: &Tensor<2>,
    params: &Tensor<2>,
) -> Result<(), PhysicsError> {
    let [b, n] = y.dims();
    crate::stencil::check_len("state tensor columns", model.state_len(), n)?;
    let [pb, p] = params.dims();
    crate::stencil::check_len("parameter tensor columns", model.parameter_names().len(), p)?;
    if pb != 1 && pb != b {
        return Err(PhysicsError::SizeMismatch {
            what: "parameter tensor rows (1, or one per batch row)",
            expected: b,
            got: pb,
        });
    }
    Ok(())
}

/// Column `j` of `params` (`[rows, 1]`, broadcasts against `[batch, n]`).
pub fn param_column(params: &Tensor<2>, j: usize) -> Tensor<2> {
    params.clone().narrow(1, j, 1)
}

/// Columns `[start, start + len)` of a batch.
pub fn columns(y: &Tensor<2>, start: usize, len: usize) -> Tensor<2> {
    y.clone().narrow(1, start, len)
}

/// A tensor of `values` (row-major, `shape`) in the device and float type of `like`.
pub fn host_tensor<const D: usize, const L: usize>(
    values: Vec<f64>,
    shape: [usize; D],
    like: &Tensor<L>,
) -> Tensor<D> {
    let dtype = like.dtype();
    Tensor::from_data(
        TensorData::new(values, shape).convert_dtype(dtype),
        (&like.device(), dtype),
    )
}

/// Any [`PhysicalModel`] as a sysdyn-solvers [`VectorField`] on `Vec<f64>`, with the model's
/// sparsity pattern for the sparse implicit methods.
///
/// `eval` cannot return an error; a failing `rhs` (only possible for a state of the wrong
/// length, which the solver never produces) yields NaNs, which the solver reports as a
/// non-finite state.
#[derive(Debug, Clone)]
pub struct ModelField<M> {
    /// The model.
    pub model: M,
    pattern: Option<SparsityPattern>,
}

impl<M: PhysicalModel> ModelField<M> {
    /// Wraps `model`; builds its sparsity pattern when it has one.
    pub fn new(model: M) -> Result<Self, PhysicsError> {
        let pattern = match model.jacobian_pattern() {
            Some(entries) => Some(
                SparsityPattern::from_entries(model.state_len(), entries)
                    .map_err(|e| PhysicsError::Linalg(e.to_string()))?,
            ),
            None => None,
        };
        Ok(ModelField { model, pattern })
    }

    /// Wraps `model` without a sparsity pattern (dense Jacobians in implicit methods).
    pub fn dense(model: M) -> Self {
        ModelField {
            model,
            pattern: None,
        }
    }

    /// The sparsity pattern, if any.
    pub fn pattern(&self) -> Option<&SparsityPattern> {
        self.pattern.as_ref()
    }
}

impl<M: PhysicalModel> VectorField<Vec<f64>> for ModelField<M> {
    fn eval(&mut self, t: f64, y: &Vec<f64>) -> Vec<f64> {
        let mut dy = vec![0.0; y.len()];
        if self.model.rhs(t, y, &mut dy).is_err() {
            dy.iter_mut().for_each(|v| *v = f64::NAN);
        }
        dy
    }

    fn sparsity(&self) -> Option<&SparsityPattern> {
        self.pattern.as_ref()
    }
}

/// Times `0, dt, 2dt, …` below `horizon` (NumPy's `arange(0, horizon, dt)`, as the papers'
/// data sets use).
pub fn uniform_times(horizon: f64, dt: f64) -> Result<Vec<f64>, PhysicsError> {
    positive("horizon", horizon)?;
    positive("dt", dt)?;
    let n = ((horizon / dt) - 1e-9).ceil().max(1.0) as usize;
    Ok((0..n).map(|i| i as f64 * dt).collect())
}

/// Integrates `field` from `y0` at `times[0]` and returns the states at `times` (dense output
/// of `method`). Errors: empty times, a state of the wrong length, a non-finite initial value,
/// or a failed solve.
pub fn simulate<M, S>(
    field: &mut ModelField<M>,
    method: &S,
    y0: Vec<f64>,
    times: &[f64],
    config: SolveConfig<Vec<f64>>,
) -> Result<Vec<Vec<f64>>, PhysicsError>
where
    M: PhysicalModel,
    S: OdeMethod<Vec<f64>>,
{
    crate::stencil::check_len("initial state", field.model.state_len(), y0.len())?;
    if let Some(index) = y0.iter().position(|v| !v.is_finite()) {
        return Err(PhysicsError::NonFinite {
            what: "initial state",
            index,
        });
    }
    let (&t0, &t1) = match (times.first(), times.last()) {
        (Some(a), Some(b)) => (a, b),
        _ => {
            return Err(PhysicsError::Empty {
                what: "output times",
                unit: "time",
            });
        }
    };
    if t1 == t0 {
        return Ok(vec![y0; times.len()]);
    }
    let config = config.save_at(SaveAt::Times(times.to_vec()));
    let solution = solve(field, method, (t0, t1), y0, &config)?;
    Ok(solution.ys)
}
