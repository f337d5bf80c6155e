//! The CPU fast path of a PINN loss: when the network is a plain MLP ([`PinnField::plain_mlp`])
//! whose parameters live in host memory (burn's `flex` or `ndarray`, with autodiff), the jet of
//! `u` at every point set comes from [`sysdyn_mlp`]'s taped second-order jets instead of jet
//! tensor operations, and only the residual and the condition terms run in burn.
//!
//! For each point set (collocation points with the problem's second-order pairs, condition
//! points and periodic partners without) the engine computes the channels
//! `C = [u; ∂u/∂x_0; …; ∂u/∂x_{d-1}; ∂²u/∂x_i∂x_j …]` and they enter burn as one stacked *leaf*
//! tensor that requires grad, split into the [`FieldJet`] the user's residual reads. burn
//! differentiates the weighted loss `L(C, λ)` (only elementwise work on the channels), which
//! gives the channel cotangents `∂L/∂C` and the gradient of the physical parameters `λ`; the
//! engine's backward pass of the jet turns `∂L/∂C` into `∂L/∂θ` of the network
//! (`Σ_sets (∂C/∂θ)ᵀ ∂L/∂C`), registered as burn gradients for the optimizer. The mathematics
//! is the tensor path's: only where the network's derivatives are computed changes.

use burn::module::{Module, ModuleDisplay, ModuleVisitor, Param};
use burn::nn::Linear;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use sysdyn_mlp::burn::{AnyMlp, BurnFloat, is_cpu_device, to_host, to_tensor};
use sysdyn_mlp::{Mlp, SecondOrderJet, SecondOrderTape};

use super::field::FieldJet;
use super::network::PinnField;
use super::problem::{LossParts, PinnModel, PointSet, PreparedLoss};
use crate::PhysicsError;

/// The loss of a model and its gradient from the host path.
pub struct HostLoss {
    /// The unweighted loss parts (on the autodiff graph of the channels).
    pub parts: LossParts,
    /// The weighted total `L_r + Σ w_i L_i`.
    pub total: f64,
    /// `∂L/∂θ` of every network parameter and `∂L/∂λ` of the physical parameters.
    pub grads: GradientsParams,
}

/// The engine's tapes of the last evaluation, one per point set, whose buffers the next
/// evaluation reuses (a training loop then allocates them once, not every step).
#[derive(Debug, Default)]
pub struct HostWorkspace {
    single: Vec<Option<SecondOrderTape<f32>>>,
    double: Vec<Option<SecondOrderTape<f64>>>,
}

/// The engine floats, each with its tapes in a [`HostWorkspace`].
trait WorkspaceFloat: BurnFloat {
    fn tapes(workspace: &mut HostWorkspace) -> &mut Vec<Option<SecondOrderTape<Self>>>;
}

impl WorkspaceFloat for f32 {
    fn tapes(workspace: &mut HostWorkspace) -> &mut Vec<Option<SecondOrderTape<f32>>> {
        &mut workspace.single
    }
}

impl WorkspaceFloat for f64 {
    fn tapes(workspace: &mut HostWorkspace) -> &mut Vec<Option<SecondOrderTape<f64>>> {
        &mut workspace.double
    }
}

/// The weighted loss of `model` on `loss` (`weights` one per condition) and its gradient,
/// on the host engine; `None` when the engine does not take the model (not a plain MLP, not
/// on a CPU device, or not f32/f64), and the tensor path answers.
pub fn loss_and_gradients<N: Module + ModuleDisplay + PinnField>(
    model: &PinnModel<N>,
    loss: &PreparedLoss,
    weights: &[f64],
) -> Option<Result<HostLoss, PhysicsError>> {
    loss_and_gradients_in(model, loss, weights, &mut HostWorkspace::default())
}

/// [`loss_and_gradients`], reusing the buffers of `workspace` and leaving this evaluation's
/// there (what [`super::PinnStep`] does from step to step).
pub fn loss_and_gradients_in<N: Module + ModuleDisplay + PinnField>(
    model: &PinnModel<N>,
    loss: &PreparedLoss,
    weights: &[f64],
    workspace: &mut HostWorkspace,
) -> Option<Result<HostLoss, PhysicsError>> {
    let net = model.network.plain_mlp()?;
    let device = net.layers().first()?.weight.val().device();
    if !is_cpu_device(&device) {
        return None;
    }
    Some(
        match AnyMlp::from_linears(net.layers(), net.activation()).ok()? {
            AnyMlp::F32(host) => host_loss(
                &host,
                net.layers(),
                model,
                loss,
                weights,
                &device,
                workspace,
            ),
            AnyMlp::F64(host) => host_loss(
                &host,
                net.layers(),
                model,
                loss,
                weights,
                &device,
                workspace,
            ),
        },
    )
}

/// Whether [`loss_and_gradients`] takes `model`: a plain MLP whose parameters live on a CPU
/// device.
pub fn takes<N: PinnField>(model: &PinnModel<N>) -> bool {
    model
        .network
        .plain_mlp()
        .and_then(|net| net.layers().first())
        .is_some_and(|layer| is_cpu_device(&layer.weight.val().device()))
}

/// The gradients of every float parameter of `module` flattened in burn's visiting order (the
/// order of `sysdyn_optim::lbfgs::flatten_parameters`); zero for a parameter without one.
pub fn flatten_gradients<M: Module>(
    module: &M,
    grads: &GradientsParams,
) -> Result<Vec<f64>, PhysicsError> {
    struct Flatten<'a> {
        grads: &'a GradientsParams,
        values: Vec<f64>,
        error: Option<PhysicsError>,
    }
    impl ModuleVisitor for Flatten<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if self.error.is_some() {
                return;
            }
            let count = param.shape().num_elements();
            match self.grads.get::<D>(param.id) {
                None => self.values.extend(std::iter::repeat_n(0.0, count)),
                Some(g) => match g.try_into_vec_as::<f64>() {
                    Ok(v) => self.values.extend(v),
                    Err(e) => {
                        self.error = Some(PhysicsError::HostRead {
                            what: "a parameter gradient",
                            reason: format!("{e:?}"),
                        })
                    }
                },
            }
        }
    }
    let mut visitor = Flatten {
        grads,
        values: Vec::with_capacity(module.num_params()),
        error: None,
    };
    module.visit(&mut visitor);
    match visitor.error {
        Some(e) => Err(e),
        None => Ok(visitor.values),
    }
}

/// One point set's jet: the leaf tensor of its stacked channels, the jet the residual reads,
/// and the engine's tape.
struct Channels<E> {
    set: PointSet,
    field: FieldJet,
    leaf: Tensor<2>,
    tape: SecondOrderTape<E>,
    rows: usize,
}

fn host_loss<E: WorkspaceFloat, N: Module + ModuleDisplay + PinnField>(
    host: &Mlp<E>,
    layers: &[Linear],
    model: &PinnModel<N>,
    loss: &PreparedLoss,
    weights: &[f64],
    device: &Device,
    workspace: &mut HostWorkspace,
) -> Result<HostLoss, PhysicsError> {
    let pairs = loss.problem().second_order();
    let kept = E::tapes(workspace);
    let (k, out) = (host.input_width(), host.output_width());
    let mut evaluated = Vec::new();
    for (index, (set, points, second)) in loss.point_sets().into_iter().enumerate() {
        if points.dim() != k {
            return Err(PhysicsError::SizeMismatch {
                what: "point dimension (the network's input width)",
                expected: k,
                got: points.dim(),
            });
        }
        let set_pairs: &[(usize, usize)] = if second { pairs } else { &[] };
        let rows = points.len();
        let x: Vec<E> = points.values().iter().map(|&v| E::from_f64(v)).collect();
        let (jet, tape) = match kept.get_mut(index).and_then(Option::take) {
            Some(previous) => host.second_order_jet_retaped(&x, rows, set_pairs, previous)?,
            None => host.second_order_jet_taped(&x, rows, set_pairs)?,
        };
        let channels = 1 + k + set_pairs.len();
        let mut stacked = jet.value;
        stacked.extend(jet.first);
        stacked.extend(jet.second);
        let leaf = to_tensor::<E, 2>(stacked, [channels * rows, out], device)?.require_grad();
        let channel = |c: usize| leaf.clone().narrow(0, c * rows, rows);
        let field = FieldJet::from_parts(
            channel(0),
            (1..=k).map(channel).collect(),
            set_pairs,
            (1 + k..channels).map(channel).collect(),
        );
        evaluated.push(Channels {
            set,
            field,
            leaf,
            tape,
            rows,
        });
    }
    let parts = loss.parts_with(&model.parameter_tensors(), |set, _, _| {
        evaluated
            .iter()
            .find(|c| c.set == set)
            .map(|c| c.field.clone())
            .ok_or(PhysicsError::Empty {
                what: "the host engine's jet at a point set of the loss",
                unit: "point set",
            })
    })?;
    let total = parts.total(weights)?;
    let value = total.clone().into_scalar::<f64>();
    let graph = total.backward();
    let mut theta = vec![E::ZERO; host.num_params()];
    for c in &evaluated {
        // A set the loss does not read has no cotangent.
        let Some(cot) = c.leaf.grad(&graph) else {
            continue;
        };
        let (cot, _) = to_host::<E, 2>(cot)?;
        let block = c.rows * out;
        let cotangent = SecondOrderJet {
            value: cot[..block].to_vec(),
            first: cot[block..(1 + k) * block].to_vec(),
            second: cot[(1 + k) * block..].to_vec(),
        };
        let grads = host.backward_second_order(&c.tape, &cotangent)?;
        for (acc, g) in theta.iter_mut().zip(grads.params) {
            *acc += g;
        }
    }
    kept.clear();
    kept.extend(evaluated.into_iter().map(|c| Some(c.tape)));
    // Only λ is on burn's graph; the network's gradient comes from the engine.
    let mut grads = GradientsParams::from_grads(graph, model);
    register_gradients(&mut grads, host, &theta, layers, &device.clone().inner())?;
    Ok(HostLoss {
        parts,
        total: value,
        grads,
    })
}

/// Registers the engine's flat parameter gradient (per layer the weight `[fan_in, fan_out]`,
/// then the bias) as burn's gradients of the `Linear` layers it was copied from.
fn register_gradients<E: BurnFloat>(
    grads: &mut GradientsParams,
    host: &Mlp<E>,
    theta: &[E],
    layers: &[Linear],
    device: &Device,
) -> Result<(), PhysicsError> {
    for ((layer, h), &at) in layers.iter().zip(host.layers()).zip(&host.param_offsets()) {
        let (fan_in, fan_out) = (h.fan_in(), h.fan_out());
        let weight = theta[at..at + fan_in * fan_out].to_vec();
        grads.register(
            layer.weight.id,
            to_tensor(weight, [fan_in, fan_out], device)?,
        );
        if let Some(bias) = &layer.bias {
            let b_at = at + fan_in * fan_out;
            let values = theta[b_at..b_at + fan_out].to_vec();
            grads.register(bias.id, to_tensor(values, [fan_out], device)?);
        }
    }
    Ok(())
}
