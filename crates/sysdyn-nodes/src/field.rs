//! [`NeuralField`]: a burn module used as the right-hand side `dx/dt = f_θ(t, x)`, and its
//! vector–Jacobian products `aᵀ ∂f/∂x`, `aᵀ ∂f/∂θ`, which every gradient method is built from.
//!
//! Any module becomes a field by implementing [`NeuralField::field`]. The vector–Jacobian
//! products then come from first-order burn autodiff on a small graph around one evaluation
//! (the default methods). A field with a cheaper hand-written backward (the MLP, see
//! [`crate::mlp_field`]) overrides [`NeuralField::taped`] and [`NeuralField::vjp`].

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use sysdyn_core::ShapeMismatch;

use crate::params::ParamLayout;

/// A burn module that is a vector field over a batch of states `x: [batch, dim]`.
///
/// Time is a host `f64`: an autonomous field ignores it, a time-dependent one feeds it to the
/// network as an input (see [`with_time_column`]).
///
/// ```
/// use burn::module::Module;
/// use burn::nn::{Linear, LinearConfig};
/// use burn::tensor::Tensor;
/// use sysdyn_nodes::{NeuralField, with_time_column};
///
/// /// f(t, x) = tanh(W [x, t] + b): time fed as an input.
/// #[derive(Module, Debug)]
/// struct TimeLinear {
///     layer: Linear,
/// }
///
/// impl NeuralField for TimeLinear {
///     fn field(&self, t: f64, x: Tensor<2>) -> Tensor<2> {
///         self.layer.forward(with_time_column(x, t)).tanh()
///     }
/// }
/// ```
pub trait NeuralField: Module {
    /// `f(t, x)` for every row of `x`.
    fn field(&self, t: f64, x: Tensor<2>) -> Tensor<2>;

    /// Checks that the field accepts states shaped like `x` (`[batch, dim]`), so that a solve
    /// fails with a typed error instead of a panic inside the network. The default accepts
    /// everything.
    fn check_state(&self, x: &Tensor<2>) -> Result<(), ShapeMismatch> {
        let _ = x;
        Ok(())
    }

    /// A copy of the field for many evaluations at the current parameters: a field may cache
    /// derived data here (the MLP field copies its weights to host memory on CPU backends). A
    /// neural ODE prepares its field once per solve and once per backward pass; the copy is
    /// never trained. The default is a plain clone.
    fn prepare(&self) -> Self {
        self.clone()
    }

    /// Evaluates `f(t, x)` and keeps what [`NeuralField::vjp`] needs at that point.
    ///
    /// The default records a small autodiff graph from a fresh leaf `x` through the module;
    /// the module's parameters must be on an autodiff device and require gradients. The value
    /// returned is detached from that graph and has no autodiff association.
    fn taped(&self, t: f64, x: Tensor<2>) -> Taped {
        graph_taped(self, t, x)
    }

    /// The vector–Jacobian products `(cᵀ ∂f/∂x, cᵀ ∂f/∂θ)` at the point `tape` was recorded,
    /// for a cotangent `c: [batch, dim]`. The parameter part is flat in `layout` order (which
    /// must be the layout of `self`).
    ///
    /// The default runs burn's backward on the recorded graph.
    fn vjp(&self, tape: Tape, cotangent: Tensor<2>, layout: &ParamLayout) -> FieldVjp {
        graph_vjp(self, tape, cotangent, layout)
    }
}

/// An evaluation of a field with what its vector–Jacobian product needs.
#[derive(Debug, Clone)]
pub struct Taped {
    /// `f(t, x)`, without autodiff association.
    pub value: Tensor<2>,
    /// What the backward needs.
    pub tape: Tape,
}

/// What a field keeps from an evaluation for its vector–Jacobian product.
#[derive(Debug, Clone)]
pub enum Tape {
    /// A recorded autodiff graph from a leaf `x` to `f(t, x)`.
    Graph(Box<GraphTape>),
    /// Tensors saved by a hand-written backward (e.g. the input and hidden activations of an
    /// MLP).
    Saved(Vec<Tensor<2>>),
    /// Host-memory activations of the CPU fast path (see [`crate::host`]).
    Host(crate::host::HostTapes),
}

/// A small autodiff graph around one evaluation.
#[derive(Debug, Clone)]
pub struct GraphTape {
    /// The leaf `x` (requires grad).
    pub input: Tensor<2>,
    /// `f(t, x)` with its graph.
    pub output: Tensor<2>,
}

/// The two vector–Jacobian products of a field at a point.
#[derive(Debug, Clone)]
pub struct FieldVjp {
    /// `cᵀ ∂f/∂x`, `[batch, dim]`, without autodiff graph.
    pub state: Tensor<2>,
    /// `cᵀ ∂f/∂θ` summed over the batch, flat in [`ParamLayout`] order, without autodiff graph.
    pub params: Tensor<1>,
}

/// `x` with a last column filled with `t`: the input `[x, t]` of a time-dependent network.
pub fn with_time_column(x: Tensor<2>, t: f64) -> Tensor<2> {
    let [batch, _] = x.dims();
    let time = Tensor::full([batch, 1], t, (&x.device(), x.dtype()));
    Tensor::cat(vec![x, time], 1)
}

/// Whether any float parameter of `module` records gradients (autodiff device, requires grad).
pub fn is_trainable<M: Module>(module: &M) -> bool {
    struct Probe {
        trainable: bool,
    }
    impl ModuleVisitor for Probe {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let value = param.val();
            self.trainable |= value.is_autodiff() && value.is_require_grad();
        }
    }
    let mut probe = Probe { trainable: false };
    module.visit(&mut probe);
    probe.trainable
}

/// The default [`NeuralField::taped`]: a small autodiff graph from a fresh leaf `x`.
pub(crate) fn graph_taped<F: NeuralField>(field: &F, t: f64, x: Tensor<2>) -> Taped {
    let input = x.detach().autodiff().require_grad();
    let output = field.field(t, input.clone());
    let value = output.clone().detach().inner();
    Taped {
        value,
        tape: Tape::Graph(Box::new(GraphTape { input, output })),
    }
}

/// The default [`NeuralField::vjp`]: burn's backward on the recorded graph.
pub(crate) fn graph_vjp<F: NeuralField>(
    field: &F,
    tape: Tape,
    cotangent: Tensor<2>,
    layout: &ParamLayout,
) -> FieldVjp {
    let Tape::Graph(graph) = tape else {
        panic!(
            "NeuralField::vjp got a saved tape from a field that does not override vjp; a \
             field that saves its own tape must implement its own backward"
        )
    };
    let GraphTape { input, output } = *graph;
    // The cotangent is a constant of this small graph.
    let weighted = (output * cotangent.detach().inner()).sum();
    let grads = weighted.backward();
    let state = match input.grad(&grads) {
        Some(g) => g,
        // f does not depend on x (e.g. a field of time only).
        None => Tensor::zeros(input.dims(), (&input.device().inner(), input.dtype())),
    };
    let params = layout.flatten_grads(field, &grads);
    FieldVjp { state, params }
}
