//! Whole-model operations on parameters and gradients: the global gradient norm and clipping by
//! it, and the search for a non-finite parameter.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

/// A tensor's values on the host as `f64` (NaN-filled if the read fails, so that a failed read
/// is never mistaken for finite values).
pub(crate) fn host_values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    let n = t.shape().num_elements();
    t.try_into_vec_as::<f64>()
        .unwrap_or_else(|_| vec![f64::NAN; n])
}

fn host_scalar(t: Tensor<1>) -> f64 {
    host_values(t).first().copied().unwrap_or(f64::NAN)
}

/// The Euclidean norm of all the gradients of `module`'s parameters held in `grads`, taken
/// together as one vector: `sqrt(Σ_params Σ_elements g²)`. Parameters without a gradient count
/// as zero.
pub fn global_grad_norm<M: Module>(grads: &GradientsParams, module: &M) -> f64 {
    struct SumSquares<'a> {
        grads: &'a GradientsParams,
        total: f64,
    }
    impl ModuleVisitor for SumSquares<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.get::<D>(param.id) {
                self.total += host_scalar(g.square().sum());
            }
        }
    }
    let mut visitor = SumSquares { grads, total: 0.0 };
    module.visit(&mut visitor);
    visitor.total.sqrt()
}

/// Clips the gradients of `module` by their global norm: when the norm of all of them together
/// (see [`global_grad_norm`]) exceeds `max_norm`, every gradient is multiplied by
/// `max_norm / norm`, so the direction of the whole update is kept (burn's own clipping works
/// tensor by tensor and changes it). Returns the norm before clipping.
///
/// A non-finite norm leaves the gradients as they are; the divergence checks of the runtime
/// report the run instead.
pub fn clip_grad_norm<M: Module>(grads: &mut GradientsParams, module: &M, max_norm: f64) -> f64 {
    let norm = global_grad_norm(grads, module);
    if norm.is_finite() && norm > max_norm {
        scale_grads(grads, module, max_norm / norm);
    }
    norm
}

/// Multiplies every gradient of `module`'s parameters in `grads` by `factor`.
pub fn scale_grads<M: Module>(grads: &mut GradientsParams, module: &M, factor: f64) {
    struct Scale<'a> {
        grads: &'a mut GradientsParams,
        factor: f64,
    }
    impl ModuleVisitor for Scale<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.remove::<D>(param.id) {
                self.grads
                    .register::<D>(param.id, g.mul_scalar(self.factor));
            }
        }
    }
    module.visit(&mut Scale { grads, factor });
}

/// A parameter element that is NaN or infinite.
#[derive(Debug, Clone, PartialEq)]
pub struct NonFinite {
    /// The parameter's module path, prefixed by the name given to [`find_non_finite`].
    pub path: String,
    /// The flat (row-major) index of the first bad element.
    pub index: usize,
    /// Its value.
    pub value: f64,
}

/// The first parameter element of `module` that is NaN or infinite, if any, with its path
/// (`prefix.field.weight`). Each parameter is reduced on its device first (one scalar read per
/// parameter); only a parameter whose sum is not finite is read back whole.
pub fn find_non_finite<M: Module>(module: &M, prefix: &str) -> Option<NonFinite> {
    struct Finder {
        path: Vec<String>,
        found: Option<NonFinite>,
    }
    impl ModuleVisitor for Finder {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if self.found.is_some() {
                return;
            }
            let value = param.val().inner();
            if host_scalar(value.clone().sum()).is_finite() {
                return;
            }
            // The sum overflows for finite values too: look at the elements.
            if let Some((index, &value)) = host_values(value)
                .iter()
                .enumerate()
                .find(|(_, v)| !v.is_finite())
            {
                self.found = Some(NonFinite {
                    path: self.path.join("."),
                    index,
                    value,
                });
            }
        }
    }
    let mut finder = Finder {
        path: if prefix.is_empty() {
            Vec::new()
        } else {
            vec![prefix.to_string()]
        },
        found: None,
    };
    module.visit(&mut finder);
    finder.found
}
