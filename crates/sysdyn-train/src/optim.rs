//! A whole-module optimizer whose state is saved and restored exactly, on the model's device.
//!
//! burn 0.22's `ModuleOptimizer` saves its state with `to_record`, but
//! `ModuleOptimizer::load_record` rebuilds every state tensor on `Device::default()` (the first
//! compiled backend in burn's order: `wgpu` in this workspace) in that device's default float
//! type (f32), so an f64 run on a CPU backend would not resume bit for bit (and would need a GPU
//! adapter to resume at all). [`Optim`] applies any burn per-tensor [`Optimizer`] (Adam, SGD,
//! RMSProp, sysdyn-optim's rules, ...) to a module the way `ModuleOptimizer` does, and restores
//! each parameter's state on that parameter's own device, checking ids, ranks, shapes and
//! precision against the model first.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::{DynOptimizer, DynState, GradientsParams, Optimizer, StateSink, StateSource};
use burn::tensor::{DType, Device, Tensor, TensorData};

use crate::checkpoint::{file_path, sync_file};
use crate::error::TrainError;

/// Scalar key (per parameter) holding the rank of its state.
const RANK: &str = "__rank";
/// Metadata key naming the format.
const FORMAT_KEY: &str = "format";
const FORMAT: &str = "sysdyn-train optimizer state v1";

/// A burn per-tensor [`Optimizer`] applied to every parameter of a module, with its per-parameter
/// state (keyed by [`ParamId`]) saved to and restored from a `.bpk` file exactly.
///
/// ```
/// use burn::optim::AdamConfig;
/// use sysdyn_train::Optim;
///
/// let adam = Optim::new(AdamConfig::new().build());
/// assert_eq!(adam.num_states(), 0); // state is created by the first step
/// ```
#[derive(Clone)]
pub struct Optim<O: Optimizer> {
    optimizer: O,
    states: HashMap<ParamId, DynState>,
}

impl<O: Optimizer> std::fmt::Debug for Optim<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Optim")
            .field("optimizer", &std::any::type_name::<O>())
            .field("states", &self.states.len())
            .finish()
    }
}

impl<O: Optimizer> Optim<O> {
    /// Wraps a per-tensor optimizer, e.g. `AdamConfig::new().build()`.
    pub fn new(optimizer: O) -> Self {
        Optim {
            optimizer,
            states: HashMap::new(),
        }
    }

    /// The per-tensor optimizer.
    pub fn optimizer(&self) -> &O {
        &self.optimizer
    }

    /// The number of parameters that have optimizer state.
    pub fn num_states(&self) -> usize {
        self.states.len()
    }

    /// The state of parameter `id`, if it has taken a step (a burn `O::State<D>` erased with
    /// its rank `D`: check [`DynState::rank`] before [`DynState::downcast_ref`]). For steps that
    /// run the same update elsewhere (on the host) and read the state from here.
    pub fn state(&self, id: &ParamId) -> Option<&DynState> {
        self.states.get(id)
    }

    /// Sets the state of parameter `id`: an `O::State<D>` for a parameter of rank `D`, made
    /// with `DynState::create(state, D)` (the next [`step`](Optim::step) downcasts it to that
    /// type). For steps that ran the update elsewhere and hand the state back, so that
    /// checkpoints and the tensor path continue from it.
    pub fn set_state(&mut self, id: ParamId, state: DynState) {
        self.states.insert(id, state);
    }

    /// Updates every parameter of `module` that has a gradient in `grads` with learning rate
    /// `lr`; parameters without a gradient are left unchanged. Parameters keep their ids and
    /// their autodiff settings.
    pub fn step<M: Module>(&mut self, lr: f64, module: M, mut grads: GradientsParams) -> M {
        let mut mapper = StepMapper {
            optimizer: &self.optimizer,
            states: &mut self.states,
            grads: &mut grads,
            lr,
        };
        module.map(&mut mapper)
    }

    /// Saves the state to `<dir>/<name>.bpk` (burnpack: one tensor per state field named
    /// `<param id>.<field>`, scalars for counters and ranks), fsynced.
    pub fn save(&self, dir: &Path, name: &str) -> Result<(), TrainError> {
        let path = file_path(dir, name, "bpk");
        let mut tensors = Vec::new();
        let mut scalars = BTreeMap::new();
        let mut ids: Vec<&ParamId> = self.states.keys().collect();
        ids.sort_by_key(|id| id.val());
        for id in ids {
            let state = &self.states[id];
            let prefix = id.val().to_string();
            let mut sink = StateSink::default();
            DynOptimizer::state_flatten(&self.optimizer, &prefix, state, &mut sink);
            scalars.insert(
                format!("{prefix}.{RANK}"),
                burn_pack::Scalar::from(state.rank()),
            );
            for (key, value) in sink.scalars {
                scalars.insert(key, value);
            }
            for (key, data) in sink.tensors {
                let (bytes, shape, dtype) = data.into_parts();
                tensors.push(burn_pack::Tensor::new(
                    key,
                    dtype,
                    shape,
                    Some(id.val()),
                    bytes,
                ));
            }
        }
        let mut writer = burn_pack::Writer::new(tensors)
            .with_metadata(FORMAT_KEY, FORMAT)
            .auto_extension(false);
        for (key, value) in &scalars {
            writer = writer.with_scalar(key, *value);
        }
        writer.write_to_file(&path).map_err(|e| match e {
            burn_pack::Error::IoError(detail) => {
                TrainError::unwritable(path.clone(), std::io::Error::other(detail))
            }
            other => TrainError::unwritable(path.clone(), std::io::Error::other(other.to_string())),
        })?;
        sync_file(&path)
    }

    /// Restores the state saved by [`save`](Optim::save) from `<dir>/<name>.bpk`, for the
    /// parameters of `module` (the model as restored from the same checkpoint: parameter ids
    /// are saved with the model). Each parameter's state is rebuilt on that parameter's device.
    ///
    /// Errors: a missing file ([`TrainError::MissingFile`]), a truncated or corrupt one
    /// ([`TrainError::Corrupt`]), state for parameters the module does not have or of other
    /// shapes or precision ([`TrainError::Mismatch`]). On error the current state is kept.
    pub fn load<M: Module>(
        &mut self,
        dir: &Path,
        name: &str,
        module: &M,
    ) -> Result<(), TrainError> {
        let path = file_path(dir, name, "bpk");
        if !path.is_file() {
            return Err(TrainError::MissingFile { path });
        }
        let corrupt = |detail: String| TrainError::Corrupt {
            path: path.clone(),
            detail,
        };
        let mismatch = |detail: String| TrainError::Mismatch {
            path: path.clone(),
            detail,
        };
        let reader =
            burn_pack::Reader::from_file_exact(&path).map_err(|e| corrupt(e.to_string()))?;
        if reader.metadata().get(FORMAT_KEY).map(String::as_str) != Some(FORMAT) {
            return Err(corrupt(format!(
                "not a sysdyn-train optimizer file (no `{FORMAT_KEY} = {FORMAT}` metadata)"
            )));
        }
        let scalars = reader.scalars().clone();
        let raw = reader.into_tensors().map_err(|e| corrupt(e.to_string()))?;

        let params = ParamInfo::collect(module);

        // Ranks of the saved states, by parameter id.
        let mut ranks: BTreeMap<u64, usize> = BTreeMap::new();
        for (key, value) in &scalars {
            if let Some(id) = key.strip_suffix(&format!(".{RANK}")) {
                let id: u64 = id
                    .parse()
                    .map_err(|_| corrupt(format!("bad parameter id in scalar `{key}`")))?;
                let rank = usize::try_from(*value)
                    .map_err(|_| corrupt(format!("scalar `{key}` is not a rank")))?;
                ranks.insert(id, rank);
            }
        }

        let mut source = StateSource::new(scalars);
        for tensor in raw {
            let (key, dtype, shape, param_id, bytes) =
                tensor.into_parts().map_err(|e| corrupt(e.to_string()))?;
            let id =
                param_id.ok_or_else(|| corrupt(format!("tensor `{key}` has no parameter id")))?;
            let info = params.get(&id).ok_or_else(|| {
                mismatch(format!(
                    "state tensor `{key}` belongs to parameter id {id}, which the model does not \
                     have (was the model restored from the same checkpoint?)"
                ))
            })?;
            if ranks.get(&id) != Some(&info.rank) {
                return Err(mismatch(format!(
                    "parameter `{}` has rank {} but its state was saved with rank {:?}",
                    info.path,
                    info.rank,
                    ranks.get(&id)
                )));
            }
            // State tensors of the parameter's rank (moments, momenta) have its shape.
            if shape.num_dims() == info.rank && shape.as_slice() != info.shape.as_slice() {
                return Err(mismatch(format!(
                    "state tensor `{key}` has shape {:?} but parameter `{}` has shape {:?}",
                    shape.as_slice(),
                    info.path,
                    info.shape
                )));
            }
            if dtype.is_float() && dtype != info.dtype {
                return Err(mismatch(format!(
                    "state tensor `{key}` is {dtype:?} but parameter `{}` is {:?}",
                    info.path, info.dtype
                )));
            }
            let expected = shape.num_elements() * dtype.size();
            if bytes.len() != expected {
                return Err(corrupt(format!(
                    "tensor `{key}` holds {} bytes, its shape and type need {expected}",
                    bytes.len()
                )));
            }
            let data = TensorData::try_from_bytes(bytes, shape, dtype)
                .map_err(|e| corrupt(format!("tensor `{key}`: {e}")))?;
            source.insert_tensor(key, data);
        }

        let mut states = HashMap::new();
        for (id, rank) in ranks {
            let info = params.get(&id).ok_or_else(|| {
                mismatch(format!(
                    "optimizer state for parameter id {id}, which the model does not have"
                ))
            })?;
            if rank != info.rank {
                return Err(mismatch(format!(
                    "parameter `{}` has rank {} but its state was saved with rank {rank}",
                    info.path, info.rank
                )));
            }
            ensure_default_float(&info.device, info.dtype, &path)?;
            let state = DynOptimizer::state_unflatten(
                &self.optimizer,
                rank,
                &id.to_string(),
                &mut source,
                &info.device,
            )
            .ok_or_else(|| {
                corrupt(format!(
                    "the state of parameter `{}` is incomplete (a field is missing)",
                    info.path
                ))
            })?;
            states.insert(ParamId::from(id), state);
        }
        self.states = states;
        Ok(())
    }
}

/// burn rebuilds state tensors with the device's *default* float type: make it the parameter's
/// type, or refuse (a silent f64 → f32 conversion would break exact resumption).
fn ensure_default_float(device: &Device, dtype: DType, path: &Path) -> Result<(), TrainError> {
    let current = device.settings().float_dtype;
    if DType::from(current) == dtype {
        return Ok(());
    }
    let wanted = match dtype {
        DType::F64 => burn::tensor::FloatDType::F64,
        DType::F32 => burn::tensor::FloatDType::F32,
        DType::F16 => burn::tensor::FloatDType::F16,
        DType::BF16 => burn::tensor::FloatDType::BF16,
        _ => {
            return Err(TrainError::DevicePrecision {
                path: path.to_path_buf(),
                saved: format!("{dtype:?}"),
                device_default: format!("{current:?}"),
            });
        }
    };
    let mut device = device.clone();
    device
        .configure(wanted)
        .map_err(|_| TrainError::DevicePrecision {
            path: path.to_path_buf(),
            saved: format!("{dtype:?}"),
            device_default: format!("{current:?}"),
        })
}

/// What the loader checks a saved state against.
struct ParamInfo {
    path: String,
    rank: usize,
    shape: Vec<usize>,
    dtype: DType,
    device: Device,
}

impl ParamInfo {
    fn collect<M: Module>(module: &M) -> HashMap<u64, ParamInfo> {
        struct Visitor {
            path: Vec<String>,
            out: HashMap<u64, ParamInfo>,
        }
        impl ModuleVisitor for Visitor {
            fn enter_module(&mut self, name: &str, _container_type: &str) {
                self.path.push(name.to_string());
            }
            fn exit_module(&mut self, _name: &str, _container_type: &str) {
                self.path.pop();
            }
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                let value = param.val();
                self.out.insert(
                    param.id.val(),
                    ParamInfo {
                        path: self.path.join("."),
                        rank: D,
                        shape: value.dims().to_vec(),
                        dtype: value.dtype(),
                        device: value.device().inner(),
                    },
                );
            }
        }
        let mut visitor = Visitor {
            path: Vec::new(),
            out: HashMap::new(),
        };
        module.visit(&mut visitor);
        visitor.out
    }
}

struct StepMapper<'a, O: Optimizer> {
    optimizer: &'a O,
    states: &'a mut HashMap<ParamId, DynState>,
    grads: &'a mut GradientsParams,
    lr: f64,
}

impl<O: Optimizer> ModuleMapper for StepMapper<'_, O> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let grad = grad.inner();
        let device = grad.device();
        let autodiff = tensor.is_autodiff();
        let require_grad = tensor.is_require_grad();
        let checkpointing = tensor.gradient_checkpointing_strategy();
        let mut value = tensor.inner();
        if value.device() != device {
            value = value.to_device(&device);
        }
        let state = self
            .states
            .remove(&id)
            .map(|s| O::to_device::<D>(s.downcast::<O::State<D>>(), &device));
        let (updated, state) = self.optimizer.step(self.lr, value, grad, state);
        if let Some(state) = state {
            self.states.insert(id, DynState::create(state, D));
        }
        let mut updated = updated;
        if autodiff {
            updated = Tensor::from_inner(updated);
            if let Some(strategy) = checkpointing {
                updated = updated.with_gradient_checkpointing_strategy(strategy);
            }
            if require_grad {
                updated = updated.require_grad();
            }
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}
