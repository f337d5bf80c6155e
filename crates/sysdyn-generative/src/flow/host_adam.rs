//! The whole RealNVP training step on the host: the networks' weights and Adam's moments stay
//! in host memory between steps, so a step is the engine's NLL and gradient
//! ([`HostAffineChain`]), the global gradient norm and sysdyn-optim's per-tensor
//! [`Adam::update`] on plain slices — no tensor is made, read or freed (W4: burn's Adam on the
//! 96 parameter tensors and the copies in and out took about 0.8 ms of a 5 ms step).
//!
//! It continues exactly what burn's optimizer holds and hands it back: the state is read from
//! the step's [`Optim<BurnAdam>`] when the host copy is made and written back as burn's
//! [`AdamState`](burn::optim::AdamState) (moments in the parameters' dtype, rounded after every
//! update as burn keeps them) for checkpoints or when the tensor path takes over. The burn
//! model is rebuilt from the host weights only when someone asks for it
//! ([`HostAdamChain::write_back`]).

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::{AdamState as BurnAdamState, AdaptiveMomentumState, DynState};
use burn::tensor::{Device, Tensor};
use sysdyn_mlp::Mlp;
use sysdyn_mlp::burn::{BurnFloat, to_tensor};
use sysdyn_optim::UpdateRule;
use sysdyn_optim::rules::{Adam, AdamState, BurnAdam};
use sysdyn_train::Optim;

use crate::error::GenerativeError;
use crate::flow::chain::Chain;
use crate::flow::coupling::SplitAffineCoupling;
use crate::flow::host::{HostAffineChain, Networks};

/// One burn parameter tensor of the chain and where it sits on the host.
#[derive(Debug, Clone)]
struct Slot {
    id: ParamId,
    coupling: usize,
    /// 0: the scale network `S`, 1: the shift network `T`.
    net: usize,
    layer: usize,
    bias: bool,
    /// Offset in the network's flat parameters ([`Mlp::param_offsets`]).
    offset: usize,
    shape: Vec<usize>,
}

impl Slot {
    fn len(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A RealNVP's networks and Adam state on the host; see the module docs.
#[derive(Debug, Clone)]
pub(crate) struct HostAdamChain {
    chain: HostAffineChain,
    /// Every parameter tensor, coupling by coupling, `S` then `T`, layer by layer, weight then
    /// bias (the engine's flat order).
    slots: Vec<Slot>,
    /// Adam's state per slot, `f64` holding values of the parameters' dtype.
    states: Vec<AdamState>,
    rule: Adam,
    /// The parameters' device without autodiff, where burn keeps optimizer states.
    state_device: Device,
    /// Reused buffers for one parameter tensor's values and gradient in `f64`.
    scratch: (Vec<f64>, Vec<f64>),
}

impl HostAdamChain {
    /// The host copy of `chain` and of `optim`'s state for it, when the engine runs the chain
    /// ([`HostAffineChain::new`]), every layer has a bias and the state is plain Adam's
    /// (not AMSGrad's); `None` otherwise.
    pub(crate) fn new(chain: &Chain<SplitAffineCoupling>, optim: &Optim<BurnAdam>) -> Option<Self> {
        let host = HostAffineChain::new(chain)?;
        let mut slots = Vec::new();
        let mut state_device = None;
        for (coupling, layer) in chain.layers().iter().enumerate() {
            let (scale, shift, ..) = layer.parts();
            for (net, mlp) in [scale, shift].into_iter().enumerate() {
                let mut offset = 0;
                for (index, linear) in mlp.layers().iter().enumerate() {
                    let bias = linear.bias.as_ref()?;
                    let weight = linear.weight.val();
                    state_device.get_or_insert_with(|| weight.device().inner());
                    let [fan_in, fan_out] = weight.dims();
                    let mut slot = |id, bias, shape: Vec<usize>| {
                        let slot = Slot {
                            id,
                            coupling,
                            net,
                            layer: index,
                            bias,
                            offset,
                            shape,
                        };
                        offset += slot.len();
                        slots.push(slot);
                    };
                    slot(linear.weight.id, false, vec![fan_in, fan_out]);
                    slot(bias.id, true, vec![fan_out]);
                }
            }
        }
        let rule = *optim.optimizer().rule();
        let states = slots
            .iter()
            .map(|slot| read_state(optim, slot, &rule))
            .collect::<Option<Vec<_>>>()?;
        Some(HostAdamChain {
            chain: host,
            slots,
            states,
            rule,
            state_device: state_device?,
            scratch: (Vec::new(), Vec::new()),
        })
    }

    /// One Adam step with learning rate `lr` on `NLL = −mean log p(x)` of the rows `x`
    /// (row-major `[rows, features]`), the gradient clipped to global norm `clip` first if it
    /// is larger (as [`sysdyn_train::clip_grad_norm`]). Returns the loss and the gradient's
    /// global norm before clipping.
    pub(crate) fn step(
        &mut self,
        x: &[f64],
        lr: f64,
        clip: Option<f64>,
    ) -> Result<(f64, f64), GenerativeError> {
        let d = self.chain.features;
        if x.is_empty() || !x.len().is_multiple_of(d) {
            return Err(GenerativeError::ShapeMismatch {
                what: "data (rows × features, at least one row)",
                left: vec![x.len()],
                right: vec![d],
            });
        }
        // The networks leave the chain for the update (the chain's couplings stay borrowed by
        // the NLL) and go back after it.
        let mut networks = std::mem::replace(&mut self.chain.networks, Networks::F64(Vec::new()));
        let update = Update {
            slots: &self.slots,
            states: &mut self.states,
            rule: &self.rule,
            lr,
            clip,
            scratch: &mut self.scratch,
        };
        let (loss, norm) = match &mut networks {
            Networks::F32(nets) => {
                let (loss, grads) = self.chain.nll_parts(nets, x);
                (loss, update.apply(nets, &grads))
            }
            Networks::F64(nets) => {
                let (loss, grads) = self.chain.nll_parts(nets, x);
                (loss, update.apply(nets, &grads))
            }
        };
        self.chain.networks = networks;
        Ok((loss, norm))
    }

    /// `module` (the flow the host copy was made from, or a model holding it) with the host's
    /// parameters: same ids, devices and autodiff settings.
    pub(crate) fn write_back<M: Module>(&self, module: M) -> M {
        match &self.chain.networks {
            Networks::F32(nets) => module.map(&mut WriteBack::new(nets, &self.slots)),
            Networks::F64(nets) => module.map(&mut WriteBack::new(nets, &self.slots)),
        }
    }

    /// Hands the Adam state to `optim` as burn's `AdamState` (parameters that have not taken a
    /// step keep none, as with burn's optimizer).
    pub(crate) fn write_states(&self, optim: &mut Optim<BurnAdam>) {
        match &self.chain.networks {
            Networks::F32(_) => self.write_states_as::<f32>(optim),
            Networks::F64(_) => self.write_states_as::<f64>(optim),
        }
    }

    /// Whether any host parameter is NaN or infinite.
    pub(crate) fn has_non_finite(&self) -> bool {
        fn any<E: BurnFloat>(nets: &[(Mlp<E>, Mlp<E>)]) -> bool {
            nets.iter()
                .flat_map(|(s, t)| s.layers().iter().chain(t.layers()))
                .any(|layer| {
                    let bias = layer.bias().unwrap_or(&[]);
                    layer
                        .weight()
                        .iter()
                        .chain(bias)
                        .any(|v| !v.to_f64().is_finite())
                })
        }
        match &self.chain.networks {
            Networks::F32(nets) => any(nets),
            Networks::F64(nets) => any(nets),
        }
    }

    fn write_states_as<E: BurnFloat>(&self, optim: &mut Optim<BurnAdam>) {
        for (slot, state) in self.slots.iter().zip(&self.states) {
            if state.step == 0 {
                continue;
            }
            let moment =
                |values: &[f64]| -> Vec<E> { values.iter().map(|&v| E::from_f64(v)).collect() };
            let time = state.step as usize;
            let dyn_state = match *slot.shape.as_slice() {
                [fan_in, fan_out] => {
                    let tensor = |values| {
                        to_tensor::<E, 2>(moment(values), [fan_in, fan_out], &self.state_device)
                            .expect("a moment has its parameter's fan_in × fan_out values")
                    };
                    let momentum =
                        AdaptiveMomentumState::new(time, tensor(&state.m), tensor(&state.v));
                    DynState::create(BurnAdamState::<2>::new(momentum), 2)
                }
                [width] => {
                    let tensor = |values| {
                        to_tensor::<E, 1>(moment(values), [width], &self.state_device)
                            .expect("a moment has its parameter's fan_out values")
                    };
                    let momentum =
                        AdaptiveMomentumState::new(time, tensor(&state.m), tensor(&state.v));
                    DynState::create(BurnAdamState::<1>::new(momentum), 1)
                }
                _ => unreachable!("slots are weights (rank 2) and biases (rank 1)"),
            };
            optim.set_state(slot.id, dyn_state);
        }
    }
}

/// burn's Adam state of `slot`'s parameter in `optim` on the host (zero moments before its
/// first step); `None` for a state the host update does not continue (AMSGrad, another rank).
fn read_state(optim: &Optim<BurnAdam>, slot: &Slot, rule: &Adam) -> Option<AdamState> {
    let Some(state) = optim.state(&slot.id) else {
        return Some(rule.init_state(slot.len()));
    };
    let host = match (slot.shape.len(), state.rank()) {
        (2, 2) => moments(&state.downcast_ref::<BurnAdamState<2>>().momentum)?,
        (1, 1) => moments(&state.downcast_ref::<BurnAdamState<1>>().momentum)?,
        _ => return None,
    };
    (host.m.len() == slot.len() && host.v.len() == slot.len()).then_some(host)
}

fn moments<const D: usize>(momentum: &AdaptiveMomentumState<D>) -> Option<AdamState> {
    if momentum.max_moment_2.is_some() {
        return None;
    }
    let read = |t: &Tensor<D>| {
        t.clone()
            .into_data()
            .convert::<f64>()
            .try_to_vec::<f64>()
            .ok()
    };
    Some(AdamState {
        step: u32::try_from(momentum.time).ok()?,
        m: read(&momentum.moment_1)?,
        v: read(&momentum.moment_2)?,
    })
}

/// One Adam update of every slot from the engine's gradients.
struct Update<'a> {
    slots: &'a [Slot],
    states: &'a mut [AdamState],
    rule: &'a Adam,
    lr: f64,
    clip: Option<f64>,
    scratch: &'a mut (Vec<f64>, Vec<f64>),
}

impl Update<'_> {
    /// Updates `nets` in place from `grads` (per coupling `(S, T)`, flat); returns the global
    /// gradient norm before clipping.
    fn apply<E: BurnFloat>(self, nets: &mut [(Mlp<E>, Mlp<E>)], grads: &[(Vec<E>, Vec<E>)]) -> f64 {
        let norm = grads
            .iter()
            .flat_map(|(s, t)| s.iter().chain(t))
            .map(|g| g.to_f64() * g.to_f64())
            .sum::<f64>()
            .sqrt();
        let factor = match self.clip {
            Some(max) if norm.is_finite() && norm > max => max / norm,
            _ => 1.0,
        };
        let mut flats: Vec<Vec<E>> = nets
            .iter()
            .flat_map(|(s, t)| [flat_params(s), flat_params(t)])
            .collect();
        let (params, grad) = self.scratch;
        for (slot, state) in self.slots.iter().zip(self.states.iter_mut()) {
            let (scale_grad, shift_grad) = &grads[slot.coupling];
            let g = if slot.net == 0 {
                scale_grad
            } else {
                shift_grad
            };
            let range = slot.offset..slot.offset + slot.len();
            let flat = &mut flats[2 * slot.coupling + slot.net];
            params.clear();
            params.extend(flat[range.clone()].iter().map(|v| v.to_f64()));
            grad.clear();
            grad.extend(g[range.clone()].iter().map(|v| v.to_f64() * factor));
            self.rule.update(self.lr, params, grad, state);
            // burn keeps the moments in the parameter's dtype: so does the host, so that the
            // state handed back to burn is exactly the one the next host step would use.
            for moment in state.m.iter_mut().chain(state.v.iter_mut()) {
                *moment = E::from_f64(*moment).to_f64();
            }
            for (to, &value) in flat[range].iter_mut().zip(params.iter()) {
                *to = E::from_f64(value);
            }
        }
        for ((scale, shift), pair) in nets.iter_mut().zip(flats.chunks_exact(2)) {
            let rebuild = |mlp: &Mlp<E>, flat: &[E]| {
                Mlp::from_flat(&mlp.widths(), flat, true, mlp.activation())
                    .expect("the updated parameters have the network's widths and biases")
            };
            *scale = rebuild(scale, &pair[0]);
            *shift = rebuild(shift, &pair[1]);
        }
        norm
    }
}

/// A network's parameters in the engine's flat order (per layer the weight, then the bias).
fn flat_params<E: BurnFloat>(mlp: &Mlp<E>) -> Vec<E> {
    let mut flat = Vec::with_capacity(mlp.num_params());
    for layer in mlp.layers() {
        flat.extend_from_slice(layer.weight());
        flat.extend_from_slice(layer.bias().unwrap_or(&[]));
    }
    flat
}

/// Replaces the parameters of the host's slots by the host values.
struct WriteBack<'a, E> {
    values: HashMap<ParamId, &'a [E]>,
}

impl<'a, E: BurnFloat> WriteBack<'a, E> {
    fn new(nets: &'a [(Mlp<E>, Mlp<E>)], slots: &[Slot]) -> Self {
        let values = slots
            .iter()
            .map(|slot| {
                let (scale, shift) = &nets[slot.coupling];
                let mlp = if slot.net == 0 { scale } else { shift };
                let layer = &mlp.layers()[slot.layer];
                let values = if slot.bias {
                    layer.bias().unwrap_or(&[])
                } else {
                    layer.weight()
                };
                (slot.id, values)
            })
            .collect();
        WriteBack { values }
    }
}

impl<E: BurnFloat> ModuleMapper for WriteBack<'_, E> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(values) = self.values.get(&id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let require_grad = tensor.is_require_grad();
        let mut updated = to_tensor::<E, D>(values.to_vec(), tensor.dims(), &tensor.device())
            .expect("the host copy of a parameter has its shape");
        if require_grad {
            updated = updated.require_grad();
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}
