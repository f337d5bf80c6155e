//! The parameters of a module as one flat vector, so that the adjoint's parameter-gradient
//! integral can be one tensor of the augmented state, and back into burn's [`GradientsParams`].
//!
//! The order is the module's visiting order (`Module::visit`), which is deterministic: every
//! float parameter, flattened row-major, one after the other.

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Gradients, Tensor};

/// Where each float parameter of a module sits in the flat parameter vector.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamLayout {
    entries: Vec<ParamEntry>,
    total: usize,
}

#[derive(Debug, Clone, PartialEq)]
struct ParamEntry {
    id: ParamId,
    shape: Vec<usize>,
    offset: usize,
    len: usize,
}

struct LayoutVisitor<'a> {
    entries: &'a mut Vec<ParamEntry>,
    total: usize,
}

impl ModuleVisitor for LayoutVisitor<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let shape = param.lazy_shape().to_vec();
        let len = shape.iter().product();
        self.entries.push(ParamEntry {
            id: param.id,
            shape,
            offset: self.total,
            len,
        });
        self.total += len;
    }
}

impl ParamLayout {
    /// The layout of `module`'s float parameters.
    pub fn of<M: Module>(module: &M) -> Self {
        let mut entries = Vec::new();
        let mut visitor = LayoutVisitor {
            entries: &mut entries,
            total: 0,
        };
        module.visit(&mut visitor);
        let total = visitor.total;
        ParamLayout { entries, total }
    }

    /// Number of scalar parameters.
    pub fn num_params(&self) -> usize {
        self.total
    }

    /// Number of parameter tensors.
    pub fn num_tensors(&self) -> usize {
        self.entries.len()
    }

    /// The per-parameter gradients of `module` found in `grads`, flattened and concatenated in
    /// layout order; parameters without a gradient (not used, or frozen) contribute zeros.
    pub fn flatten_grads<M: Module>(&self, module: &M, grads: &Gradients) -> Tensor<1> {
        let mut parts: Vec<Tensor<1>> = Vec::with_capacity(self.entries.len());
        let mut visitor = GradCollector {
            grads,
            parts: &mut parts,
        };
        module.visit(&mut visitor);
        Tensor::cat(parts, 0)
    }

    /// Concatenates per-parameter tensors given in layout order (each of any shape with the
    /// parameter's number of elements).
    pub fn concat(&self, parts: Vec<Tensor<1>>) -> Tensor<1> {
        debug_assert_eq!(parts.len(), self.entries.len());
        Tensor::cat(parts, 0)
    }

    /// Splits a flat gradient into burn's per-parameter [`GradientsParams`], ready for an
    /// optimizer step on `module` (whose layout this must be).
    pub fn to_gradients_params<M: Module>(&self, module: &M, flat: Tensor<1>) -> GradientsParams {
        let mut out = GradientsParams::new();
        self.add_into(module, flat, &mut out);
        out
    }

    /// Adds a flat gradient into `grads`, summing with what is already registered for a
    /// parameter (e.g. a direct dependence of the loss on the parameters).
    pub fn add_into<M: Module>(&self, module: &M, flat: Tensor<1>, grads: &mut GradientsParams) {
        let flat = flat.inner();
        let mut visitor = GradSplitter {
            layout: self,
            flat,
            index: 0,
            out: grads,
        };
        module.visit(&mut visitor);
    }
}

struct GradCollector<'a> {
    grads: &'a Gradients,
    parts: &'a mut Vec<Tensor<1>>,
}

impl ModuleVisitor for GradCollector<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        let len = value.shape().num_elements();
        let part = match value.grad(self.grads) {
            Some(grad) => grad.reshape([len]),
            None => Tensor::zeros([len], (&value.device().inner(), value.dtype())),
        };
        self.parts.push(part);
    }
}

struct GradSplitter<'a> {
    layout: &'a ParamLayout,
    flat: Tensor<1>,
    index: usize,
    out: &'a mut GradientsParams,
}

impl ModuleVisitor for GradSplitter<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let entry = &self.layout.entries[self.index];
        self.index += 1;
        debug_assert_eq!(entry.id, param.id, "ParamLayout used with another module");
        let mut dims = [0usize; D];
        dims.copy_from_slice(&entry.shape);
        let grad: Tensor<D> = self
            .flat
            .clone()
            .slice(entry.offset..entry.offset + entry.len)
            .reshape(dims);
        let total = match self.out.remove::<D>(entry.id) {
            Some(existing) => existing + grad,
            None => grad,
        };
        self.out.register(entry.id, total);
    }
}
