//! L-BFGS on any burn module: its float parameters flattened, in the module's visiting order,
//! into one host vector `x`; the loss and `∇_x` loss from burn's autodiff; the minimiser written
//! back into the same parameters (ids, devices, float types and `require_grad` kept).

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};

use super::{Lbfgs, LbfgsReport};
use crate::error::OptimError;

fn read<const D: usize>(t: Tensor<D>, what: &'static str) -> Result<Vec<f64>, OptimError> {
    t.try_into_vec_as::<f64>()
        .map_err(|e| OptimError::HostRead {
            what,
            reason: format!("{e:?}"),
        })
}

/// The number of float parameter values of `module` (the length of its flattened vector).
pub fn parameter_count<M: Module>(module: &M) -> usize {
    module.num_params()
}

struct Flatten {
    values: Vec<f64>,
    error: Option<OptimError>,
}

impl ModuleVisitor for Flatten {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if self.error.is_some() {
            return;
        }
        match read(param.val().detach(), "a module parameter") {
            Ok(v) => self.values.extend(v),
            Err(e) => self.error = Some(e),
        }
    }
}

/// The module's float parameters as one `f64` vector, in the order burn visits them.
pub fn flatten_parameters<M: Module>(module: &M) -> Result<Vec<f64>, OptimError> {
    let mut visitor = Flatten {
        values: Vec::with_capacity(module.num_params()),
        error: None,
    };
    module.visit(&mut visitor);
    match visitor.error {
        Some(e) => Err(e),
        None => Ok(visitor.values),
    }
}

struct Assign<'a> {
    values: &'a [f64],
    offset: usize,
}

impl ModuleMapper for Assign<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let shape = tensor.shape();
        let count = shape.num_elements();
        let values = self.values[self.offset..self.offset + count].to_vec();
        self.offset += count;
        let dtype = tensor.dtype();
        let mut updated = Tensor::from_data(
            TensorData::new(values, shape).convert_dtype(dtype),
            (&tensor.device(), dtype),
        );
        if tensor.is_require_grad() {
            updated = updated.require_grad();
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}

/// The module with its float parameters replaced by `values` (as [`flatten_parameters`] orders
/// them); an error if `values` has the wrong length.
pub fn set_parameters<M: Module>(module: M, values: &[f64]) -> Result<M, OptimError> {
    crate::error::same_len(
        "flattened module parameters",
        module.num_params(),
        values.len(),
    )?;
    Ok(module.map(&mut Assign { values, offset: 0 }))
}

struct FlattenGrads<'a> {
    grads: &'a GradientsParams,
    values: Vec<f64>,
    error: Option<OptimError>,
}

impl ModuleVisitor for FlattenGrads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if self.error.is_some() {
            return;
        }
        let count = param.shape().num_elements();
        match self.grads.get::<D>(param.id) {
            // A parameter the loss does not depend on has no gradient: zero.
            None => self.values.extend(std::iter::repeat_n(0.0, count)),
            Some(g) => match read(g, "a parameter gradient") {
                Ok(v) => self.values.extend(v),
                Err(e) => self.error = Some(e),
            },
        }
    }
}

/// The loss `loss(module)` (a one-element tensor on an autodiff device) and its gradient with
/// respect to every float parameter, flattened as [`flatten_parameters`] orders them.
pub fn loss_and_gradient<M: Module>(
    module: &M,
    loss: Tensor<1>,
) -> Result<(f64, Vec<f64>), OptimError> {
    let value = read(loss.clone().detach(), "the loss")?;
    let Some(&value) = value.first() else {
        return Err(OptimError::DimensionMismatch {
            context: "L-BFGS loss tensor (one element)",
            expected: 1,
            got: 0,
        });
    };
    let grads = GradientsParams::from_grads(loss.backward(), module);
    let mut visitor = FlattenGrads {
        grads: &grads,
        values: Vec::with_capacity(module.num_params()),
        error: None,
    };
    module.visit(&mut visitor);
    match visitor.error {
        Some(e) => Err(e),
        None => Ok((value, visitor.values)),
    }
}

impl Lbfgs {
    /// Minimises `loss(&module)` over all float parameters of `module` (on an autodiff device;
    /// any backend), as `torch.optim.LBFGS` does: full batch, each evaluation one forward and one
    /// backward pass. Returns the module at the last accepted iterate and the report.
    ///
    /// `loss` returns a one-element tensor. Errors: those of [`Lbfgs::minimize`], and a tensor
    /// that cannot be read back to the host.
    pub fn minimize_module<M, L>(
        &self,
        module: M,
        mut loss: L,
    ) -> Result<(M, LbfgsReport), OptimError>
    where
        M: Module,
        L: FnMut(&M) -> Tensor<1>,
    {
        let x0 = flatten_parameters(&module)?;
        let mut failure: Option<OptimError> = None;
        let template = module.clone();
        let report = self.minimize(&x0, |x| {
            let evaluated = set_parameters(template.clone(), x).and_then(|m| {
                let l = loss(&m);
                loss_and_gradient(&m, l)
            });
            match evaluated {
                Ok(pair) => pair,
                Err(e) => {
                    failure.get_or_insert(e);
                    (f64::NAN, vec![0.0; x.len()])
                }
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        let report = report?;
        let module = set_parameters(module, &report.x)?;
        Ok((module, report))
    }
}
