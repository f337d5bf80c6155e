//! Backpropagation through the solver without burn's graph: the solver's own operations on
//! states are recorded, and swept in reverse with the field's vector–Jacobian products.
//!
//! An explicit solver touches states only through [`State`]'s linear combinations
//! (`add_stages`, `stage_sum`, `linear_combination`) and through evaluations of the field; norms
//! and finiteness checks read values and carry no derivative. [`Traced`] is a state that performs
//! each operation on its tensor value and appends a node to a shared tape: a combination
//! `Σ c_j x_j` with host coefficients, or a field evaluation with what its VJP needs. The reverse
//! sweep pushes cotangents back through the combinations (scaled sums) and the evaluations
//! ([`NeuralField::vjp`]), which is exactly reverse-mode differentiation of the computed solution
//! — the gradient [`Sensitivity::Backprop`](crate::Sensitivity::Backprop) gets from burn — for any
//! method that only combines states (every explicit Runge–Kutta method, embedded error estimates,
//! dense output, rejected steps, which simply receive no cotangent).

use std::cell::RefCell;
use std::rc::Rc;

use burn::tensor::Tensor;
use sysdyn_core::{State, Tol, Tolerance};
use sysdyn_solvers::{Adaptive, SolveConfig, StepSize};

use crate::error::NodeError;
use crate::field::{NeuralField, Tape};
use crate::params::ParamLayout;

/// One recorded operation.
#[derive(Debug)]
pub(crate) enum Node {
    /// The initial state.
    Leaf,
    /// `Σ c_j x_j`.
    Combination(Vec<(f64, usize)>),
    /// `f(t, x_input)` with the tape of its VJP (taken by the sweep).
    Field {
        input: usize,
        tape: Option<Box<Tape>>,
    },
    /// A state rebuilt from host values: no derivative flows through it.
    Opaque,
}

/// The shared record of one solve.
pub(crate) type SolveTape = Rc<RefCell<Vec<Node>>>;

/// A `[batch, dim]` tensor state whose solver operations are recorded on a tape.
#[derive(Debug, Clone)]
pub struct Traced {
    value: Tensor<2>,
    node: usize,
    tape: SolveTape,
}

impl Traced {
    fn push(tape: &SolveTape, value: Tensor<2>, node: Node) -> Traced {
        let mut nodes = tape.borrow_mut();
        nodes.push(node);
        Traced {
            value,
            node: nodes.len() - 1,
            tape: tape.clone(),
        }
    }

    /// A fresh tape whose first node is the initial state `x0`.
    pub(crate) fn start(x0: Tensor<2>) -> Traced {
        let tape: SolveTape = Rc::new(RefCell::new(Vec::new()));
        Traced::push(&tape, x0, Node::Leaf)
    }

    /// The value.
    pub fn value(&self) -> &Tensor<2> {
        &self.value
    }

    /// Its node on the tape.
    pub(crate) fn node(&self) -> usize {
        self.node
    }

    /// The tape it is recorded on.
    pub(crate) fn tape(&self) -> SolveTape {
        self.tape.clone()
    }

    /// Records `f(t, self)` evaluated by `field`.
    pub(crate) fn eval<F: NeuralField>(&self, field: &F, t: f64) -> Traced {
        let taped = field.taped(t, self.value.clone());
        Traced::push(
            &self.tape,
            taped.value,
            Node::Field {
                input: self.node,
                tape: Some(Box::new(taped.tape)),
            },
        )
    }

    fn combination(tape: &SolveTape, value: Tensor<2>, terms: Vec<(f64, usize)>) -> Traced {
        Traced::push(tape, value, Node::Combination(terms))
    }
}

fn stage_terms(h: f64, coeffs: &[f64], stages: &[Traced]) -> Vec<(f64, usize)> {
    coeffs
        .iter()
        .zip(stages)
        .filter(|(c, _)| **c != 0.0)
        .map(|(c, s)| (h * c, s.node))
        .collect()
}

fn values(stages: &[Traced]) -> Vec<Tensor<2>> {
    stages.iter().map(|s| s.value.clone()).collect()
}

fn value_tol(tol: &Tol<Traced>) -> Tol<Tensor<2>> {
    match tol {
        Tol::Scalar(v) => Tol::Scalar(*v),
        Tol::PerComponent(s) => Tol::PerComponent(s.value.clone()),
    }
}

impl State for Traced {
    fn num_components(&self) -> usize {
        self.value.num_components()
    }

    fn shape(&self) -> Vec<usize> {
        State::shape(&self.value)
    }

    fn add_stages(&self, h: f64, coeffs: &[f64], stages: &[Self]) -> Self {
        let value = self.value.add_stages(h, coeffs, &values(stages));
        let mut terms = vec![(1.0, self.node)];
        terms.extend(stage_terms(h, coeffs, stages));
        Traced::combination(&self.tape, value, terms)
    }

    fn stage_sum(h: f64, coeffs: &[f64], stages: &[Self]) -> Self {
        let value = Tensor::stage_sum(h, coeffs, &values(stages));
        Traced::combination(&stages[0].tape, value, stage_terms(h, coeffs, stages))
    }

    fn linear_combination(terms: &[(f64, &Self)]) -> Self {
        let tensors: Vec<(f64, &Tensor<2>)> = terms.iter().map(|(c, s)| (*c, &s.value)).collect();
        let value = Tensor::linear_combination(&tensors);
        let nodes = terms.iter().map(|(c, s)| (*c, s.node)).collect();
        Traced::combination(&terms[0].1.tape, value, nodes)
    }

    fn weighted_rms_norm(x: &Self, a: &Self, b: &Self, tol: &Tolerance<Self>) -> f64 {
        let tol = Tolerance::with(value_tol(&tol.rtol), value_tol(&tol.atol));
        Tensor::weighted_rms_norm(&x.value, &a.value, &b.value, &tol)
    }

    fn first_non_finite(&self) -> Option<usize> {
        self.value.first_non_finite()
    }

    fn to_f64_vec(&self) -> Vec<f64> {
        self.value.to_f64_vec()
    }

    fn with_components(&self, values: &[f64]) -> Self {
        Traced::push(&self.tape, self.value.with_components(values), Node::Opaque)
    }
}

/// The forward step policy for traced states.
pub(crate) fn traced_config(config: &SolveConfig<Tensor<2>>, x0: &Traced) -> SolveConfig<Traced> {
    let constant = |t: &Tensor<2>| Traced::push(&x0.tape, t.clone(), Node::Opaque);
    let tol = |t: &Tol<Tensor<2>>| match t {
        Tol::Scalar(v) => Tol::Scalar(*v),
        Tol::PerComponent(v) => Tol::PerComponent(constant(v)),
    };
    let step = match &config.step {
        StepSize::Fixed(dt) => StepSize::Fixed(*dt),
        StepSize::Adaptive(a) => StepSize::Adaptive(Adaptive {
            tol: Tolerance::with(tol(&a.tol.rtol), tol(&a.tol.atol)),
            controller: a.controller,
            first_step: a.first_step,
            min_step: a.min_step,
            max_step: a.max_step,
        }),
    };
    SolveConfig {
        step,
        save_at: config.save_at.clone(),
        max_steps: config.max_steps,
    }
}

/// Pushes the cotangents of `outputs` back to the initial state and the parameters.
pub(crate) fn reverse_sweep<F: NeuralField>(
    field: &F,
    layout: &ParamLayout,
    tape: &SolveTape,
    outputs: &[(usize, Tensor<2>)],
) -> Result<(Option<Tensor<2>>, Option<Tensor<1>>, usize), NodeError> {
    let mut nodes = tape.borrow_mut();
    let mut cotangents: Vec<Option<Tensor<2>>> = vec![None; nodes.len()];
    let accumulate = |slot: &mut Option<Tensor<2>>, value: Tensor<2>| {
        *slot = Some(match slot.take() {
            Some(existing) => existing + value,
            None => value,
        });
    };
    for (node, cotangent) in outputs {
        accumulate(&mut cotangents[*node], cotangent.clone());
    }
    let mut params: Option<Tensor<1>> = None;
    let mut initial = None;
    let mut vjps = 0;
    for index in (0..nodes.len()).rev() {
        let Some(g) = cotangents[index].take() else {
            continue;
        };
        match &mut nodes[index] {
            Node::Leaf => initial = Some(g),
            Node::Combination(terms) => {
                for &(c, j) in terms.iter() {
                    let term = if c == 1.0 {
                        g.clone()
                    } else {
                        g.clone().mul_scalar(c)
                    };
                    accumulate(&mut cotangents[j], term);
                }
            }
            Node::Field { input, tape } => {
                let tape = tape.take().expect("each evaluation is swept once");
                let vjp = field.vjp(*tape, g, layout);
                vjps += 1;
                accumulate(&mut cotangents[*input], vjp.state);
                params = Some(match params.take() {
                    Some(p) => p + vjp.params,
                    None => vjp.params,
                });
            }
            Node::Opaque => {
                return Err(NodeError::Option(
                    "the solver method rebuilt a state from host values (an implicit method's \
                     Newton iteration), which the taped backprop cannot differentiate; use \
                     Sensitivity::Backprop or an adjoint"
                        .into(),
                ));
            }
        }
    }
    Ok((initial, params, vjps))
}
