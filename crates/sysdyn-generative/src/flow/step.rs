//! A flow's training step on sysdyn's runtime ([`FlowStep`]), for either objective:
//!
//! - maximum likelihood on data: loss `−(1/B) Σᵢ log q(xᵢ)` on a batch drawn by a sampler, or
//!   `−(1/B) Σᵢ log q(xᵢ | cᵢ)` for a conditional flow on rows drawn with their contexts;
//! - reverse KL to an unnormalised target `p̃`: loss `(1/B) Σᵢ [log q(xᵢ) − log p̃(xᵢ)]` on the
//!   model's own reparametrised samples, with the effective sample size of the batch logged.
//!
//! Before the first step of a maximum-likelihood run the flow is initialised on the first
//! batch ([`Flow::initialise`]: Glow's data-dependent ActNorm); a resumed run takes the
//! initialised parameters from its checkpoint. An exponential moving average of the model is
//! kept for evaluation and sampling, as the other families' steps do.

use std::any::Any;
use std::path::Path;
use std::sync::OnceLock;

use burn::module::ModuleDisplay;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_optim::rules::BurnAdam;
use sysdyn_train::{
    BoxError, Checkpointable, Ema, NonFinite, Optim, StepContext, StepReport, TrainError,
    TrainStep, find_non_finite, global_grad_norm, load_module, save_module,
};

use crate::error::GenerativeError;
use crate::flow::Flow;
use crate::flow::base::{BaseDistribution, StandardNormal};
use crate::flow::chain::Chain;
use crate::flow::coupling::SplitAffineCoupling;
use crate::flow::host::HostAffineChain;
use crate::flow::host_adam::HostAdamChain;
use crate::flow::model::{FlowModel, LogDensity};
use crate::inputs::DataSampler;

/// Draws `rows` training rows with their contexts: row-major `[rows, features]` and
/// `[rows, context_width]`.
pub type ContextSampler = Box<dyn FnMut(&mut SeededRng, usize) -> (Vec<f64>, Vec<f64>) + Send>;

/// What a flow step minimises.
pub enum FlowObjective<const D: usize> {
    /// `−mean log q(x)` on rows drawn by the sampler (`[rows, features]` row-major, reshaped to
    /// the step's batch shape).
    MaximumLikelihood(DataSampler),
    /// `−mean log q(x | c)` of a conditional flow on rows and contexts drawn by the sampler.
    ConditionalMaximumLikelihood(ContextSampler),
    /// `mean[log q(x) − log p̃(x)]` on the model's samples, `p̃` one value per row.
    ReverseKl(LogDensity<D>),
}

/// The settings of a [`FlowStep`].
#[derive(Debug, Clone, PartialEq)]
pub struct FlowConfig<const D: usize> {
    /// The shape of one batch, `[rows, …]` (`[rows, features]`, `[rows, c, h, w]`).
    pub batch_shape: [usize; D],
    /// The decay of the moving average of the weights (`None`: no average), in `[0, 1)`.
    pub ema_decay: Option<f64>,
    /// Whether to initialise the flow on the first batch (maximum likelihood only).
    pub data_init: bool,
}

impl<const D: usize> FlowConfig<D> {
    /// Batches of `batch_shape`, no average, data-dependent initialisation.
    pub fn new(batch_shape: [usize; D]) -> Self {
        FlowConfig {
            batch_shape,
            ema_decay: None,
            data_init: true,
        }
    }

    /// With the moving average's decay.
    pub fn with_ema_decay(mut self, decay: Option<f64>) -> Self {
        self.ema_decay = decay;
        self
    }

    /// With or without data-dependent initialisation.
    pub fn with_data_init(mut self, data_init: bool) -> Self {
        self.data_init = data_init;
        self
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        if D < 2 || self.batch_shape.contains(&0) {
            return Err(GenerativeError::InvalidParameter {
                name: "batch shape",
                value: 0.0,
                requirement: "needs rows and at least one feature axis, none of them 0",
            });
        }
        if let Some(decay) = self.ema_decay
            && !(0.0..1.0).contains(&decay)
        {
            return Err(GenerativeError::InvalidParameter {
                name: "ema_decay",
                value: decay,
                requirement: "must lie in [0, 1)",
            });
        }
        Ok(())
    }
}

/// A flow's training step for [`sysdyn_train::Trainer`]: the model, its optimizer, the
/// objective. The loss, the gradient norm and, for the reverse KL, the effective sample size
/// are logged; the runtime stops on a non-finite loss or parameter and restores the last
/// checkpoint (model, optimizer, average).
pub struct FlowStep<B, F, O, const D: usize>
where
    B: BaseDistribution,
    F: Flow<D> + ModuleDisplay,
    O: Optimizer,
{
    device: SysDevice,
    model: FlowModel<B, F>,
    average: Option<Ema<FlowModel<B, F>>>,
    optim: Optim<O>,
    config: FlowConfig<D>,
    objective: FlowObjective<D>,
    initialised: bool,
    /// Whether a RealNVP's maximum likelihood may run on the host engine.
    host_engine: bool,
    /// With sysdyn-optim's Adam, the whole step on the host: weights and moments live there
    /// and `model` lags them until [`FlowStep::sync_model`] (or `synced`) catches up.
    host_adam: Option<HostAdamChain>,
    /// Whether `model` lags `host_adam`.
    model_stale: bool,
    /// Whether the host copy was refused (a model or state the host update does not continue):
    /// not tried again at every step.
    host_adam_refused: bool,
    /// The model with the host's weights, made on the first read after a host step.
    synced: OnceLock<FlowModel<B, F>>,
}

impl<B, F, O, const D: usize> FlowStep<B, F, O, D>
where
    B: BaseDistribution,
    F: Flow<D> + ModuleDisplay,
    O: Optimizer,
{
    /// A step for `model` on `device` (an autodiff device).
    pub fn new(
        device: SysDevice,
        model: FlowModel<B, F>,
        optim: Optim<O>,
        config: FlowConfig<D>,
        objective: FlowObjective<D>,
    ) -> Result<Self, GenerativeError> {
        config.validate()?;
        let features: usize = config.batch_shape[1..].iter().product();
        if features != model.base.features() {
            return Err(GenerativeError::ShapeMismatch {
                what: "batch shape and the base distribution's width",
                left: config.batch_shape.to_vec(),
                right: vec![config.batch_shape[0], model.base.features()],
            });
        }
        let conditional = matches!(objective, FlowObjective::ConditionalMaximumLikelihood(_));
        if conditional != (model.flow.context_width() > 0) {
            return Err(GenerativeError::Unsupported {
                what: "contexts for an unconditional flow or none for a conditional one: use \
                       FlowObjective::ConditionalMaximumLikelihood exactly for flows with a \
                       context width > 0",
            });
        }
        let average = config
            .ema_decay
            .map(|decay| Ema::on_training_device(&model, decay));
        let initialised = !config.data_init || matches!(objective, FlowObjective::ReverseKl(_));
        Ok(FlowStep {
            device,
            model,
            average,
            optim,
            config,
            objective,
            initialised,
            host_engine: true,
            host_adam: None,
            model_stale: false,
            host_adam_refused: false,
            synced: OnceLock::new(),
        })
    }

    /// The trained model.
    pub fn model(&self) -> &FlowModel<B, F> {
        match &self.host_adam {
            Some(host) if self.model_stale => self
                .synced
                .get_or_init(|| host.write_back(self.model.clone())),
            _ => &self.model,
        }
    }

    /// The trained model, mutably: for updates outside the optimizer between steps (a
    /// residual flow's power iteration, [`crate::flow::chain::Chain::power_iteration`]). The
    /// moving average, if any, sees the change at the next step's update.
    pub fn model_mut(&mut self) -> &mut FlowModel<B, F> {
        // The host copy would not see the change: hand the weights and Adam's state back to
        // burn; the next step makes a new copy.
        self.sync_model();
        if let Some(host) = self.host_adam.take()
            && let Some(optim) = (&mut self.optim as &mut dyn Any).downcast_mut::<Optim<BurnAdam>>()
        {
            host.write_states(optim);
        }
        &mut self.model
    }

    /// The model to evaluate and sample: the moving average when there is one.
    pub fn sampling_model(&self) -> &FlowModel<B, F> {
        match &self.average {
            Some(average) => average.model(),
            None => self.model(),
        }
    }

    /// Brings `model` up to the host's weights after host steps.
    fn sync_model(&mut self) {
        if !self.model_stale {
            return;
        }
        if let Some(host) = &self.host_adam {
            self.model = match self.synced.take() {
                Some(model) => model,
                None => host.write_back(self.model.clone()),
            };
        }
        self.model_stale = false;
    }

    /// The configuration.
    pub fn config(&self) -> &FlowConfig<D> {
        &self.config
    }

    /// Whether maximum likelihood on a RealNVP — a [`Chain`] of unconditional
    /// [`SplitAffineCoupling`]s on a [`StandardNormal`] base, parameters on a CPU device — runs
    /// on the host engine ([`crate::flow::host`], the default) or, with `false`, always on the
    /// tensor path (the same mathematics; for comparisons).
    ///
    /// With sysdyn-optim's Adam (`Optim::new(sysdyn_optim::Adam::default().burn_optimizer())`)
    /// the whole step runs on the host: the weights and Adam's moments stay in host memory
    /// between steps and go back to burn when the model, a checkpoint or the tensor path needs
    /// them. With any other optimizer the NLL and its gradient run on the host and burn's
    /// optimizer applies them.
    pub fn with_host_engine(mut self, on: bool) -> Self {
        self.host_engine = on;
        self
    }
}

impl<B, F, O, const D: usize> FlowStep<B, F, O, D>
where
    B: BaseDistribution + 'static,
    F: Flow<D> + ModuleDisplay + 'static,
    O: Optimizer,
{
    /// One step wholly on the host ([`HostAdamChain`]) when the model and optimizer allow it
    /// (see [`FlowStep::with_host_engine`]); `None` leaves the step to the other paths.
    fn host_adam_step(
        &mut self,
        values: &[f64],
        ctx: &StepContext,
    ) -> Result<Option<StepReport>, GenerativeError> {
        if self.host_adam.is_none() {
            if self.host_adam_refused
                || !self.host_engine
                || !(&self.model.base as &dyn Any).is::<StandardNormal>()
            {
                return Ok(None);
            }
            let Some(chain) =
                (&self.model.flow as &dyn Any).downcast_ref::<Chain<SplitAffineCoupling>>()
            else {
                return Ok(None);
            };
            let Some(optim) = (&self.optim as &dyn Any).downcast_ref::<Optim<BurnAdam>>() else {
                return Ok(None);
            };
            self.host_adam = HostAdamChain::new(chain, optim);
            self.host_adam_refused = self.host_adam.is_none();
        }
        let Some(host) = &mut self.host_adam else {
            return Ok(None);
        };
        let (loss, grad_norm) = host.step(values, ctx.lr, ctx.grad_clip_norm())?;
        self.model_stale = true;
        self.synced = OnceLock::new();
        if self.average.is_some() {
            self.sync_model();
            if let Some(average) = &mut self.average {
                average.update(&self.model);
            }
        }
        Ok(Some(StepReport::new(loss).with("grad_norm", grad_norm)))
    }

    /// The NLL of the rows `values` and its gradient on the host engine, when the model is one
    /// it runs (see [`FlowStep::with_host_engine`]); `None` keeps the tensor path.
    fn host_nll(&self, values: &[f64]) -> Option<Result<(f64, GradientsParams), GenerativeError>> {
        if !self.host_engine || !(&self.model.base as &dyn Any).is::<StandardNormal>() {
            return None;
        }
        let chain = (&self.model.flow as &dyn Any).downcast_ref::<Chain<SplitAffineCoupling>>()?;
        let host = HostAffineChain::new(chain)?;
        Some(host.nll_and_gradients(chain, values))
    }
}

/// A batch of `shape` from drawn row-major values.
fn batch<const D: usize>(
    device: &SysDevice,
    values: Vec<f64>,
    shape: [usize; D],
) -> Result<Tensor<D>, BoxError> {
    check_batch(&values, shape)?;
    Ok(device.tensor(values, shape)?)
}

/// Drawn row-major values fill a batch of `shape`.
fn check_batch<const D: usize>(values: &[f64], shape: [usize; D]) -> Result<(), BoxError> {
    let expected: usize = shape.iter().product();
    if values.len() != expected {
        return Err(Box::new(GenerativeError::ShapeMismatch {
            what: "training rows drawn (rows × features)",
            left: vec![values.len()],
            right: shape.to_vec(),
        }));
    }
    Ok(())
}

impl<B, F, O, const D: usize> FlowStep<B, F, O, D>
where
    B: BaseDistribution,
    F: Flow<D> + ModuleDisplay,
    O: Optimizer,
{
    /// The data-dependent initialisation on the first batch of a run (once; a resumed run has
    /// its parameters from the checkpoint), restarting the moving average from it.
    fn initialise_once(
        &mut self,
        x: &Tensor<D>,
        context: Option<&Tensor<2>>,
    ) -> Result<(), GenerativeError> {
        if self.initialised {
            return Ok(());
        }
        let model = self.model.clone();
        let flow = model.flow.initialise(x.clone(), context)?;
        self.model = FlowModel::new(model.base, flow);
        if let Some(decay) = self.config.ema_decay {
            self.average = Some(Ema::on_training_device(&self.model, decay));
        }
        self.initialised = true;
        Ok(())
    }
}

impl<B, F, O, const D: usize> Checkpointable for FlowStep<B, F, O, D>
where
    B: BaseDistribution,
    F: Flow<D> + ModuleDisplay,
    O: Optimizer,
{
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(self.model(), dir, "flow")?;
        if let Some(average) = &self.average {
            average.save(dir, "flow-average")?;
        }
        if let Some(host) = &self.host_adam {
            // The host's Adam state in burn's form: the checkpoint is the tensor path's.
            let mut optim = self.optim.clone();
            if let Some(burn_adam) = (&mut optim as &mut dyn Any).downcast_mut::<Optim<BurnAdam>>()
            {
                host.write_states(burn_adam);
            }
            return optim.save(dir, "flow-optim");
        }
        self.optim.save(dir, "flow-optim")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        // The host copy (if any) is of the weights being replaced; the next step copies anew.
        self.host_adam = None;
        self.host_adam_refused = false;
        self.model_stale = false;
        self.synced = OnceLock::new();
        self.model = load_module(self.model.clone(), dir, "flow")?;
        if let Some(average) = &mut self.average {
            average.load(dir, "flow-average")?;
        }
        // The checkpoint holds initialised parameters.
        self.initialised = true;
        self.optim.load(dir, "flow-optim", &self.model)
    }
}

impl<B, F, O, const D: usize> TrainStep for FlowStep<B, F, O, D>
where
    B: BaseDistribution + 'static,
    F: Flow<D> + ModuleDisplay + 'static,
    O: Optimizer,
{
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let mut rng = ctx.rng.clone();
        let shape = self.config.batch_shape;
        let mut host = None;
        let (loss, ess) = match &mut self.objective {
            FlowObjective::MaximumLikelihood(sampler) => {
                let values = sampler(&mut rng, shape[0]);
                if !self.initialised {
                    let x = batch(&self.device, values.clone(), shape)?;
                    self.initialise_once(&x, None)?;
                }
                check_batch(&values, shape)?;
                if let Some(report) = self.host_adam_step(&values, ctx)? {
                    return Ok(report);
                }
                let x = batch(&self.device, values.clone(), shape)?;
                match self.host_nll(&values) {
                    Some(result) => {
                        host = Some(result?);
                        (None, None)
                    }
                    None => (Some(self.model.log_prob(x, None)?.mean().neg()), None),
                }
            }
            FlowObjective::ConditionalMaximumLikelihood(sampler) => {
                let (values, contexts) = sampler(&mut rng, shape[0]);
                let x = batch(&self.device, values, shape)?;
                let width = self.model.flow.context_width();
                if contexts.len() != shape[0] * width {
                    return Err(Box::new(GenerativeError::ShapeMismatch {
                        what: "contexts drawn (rows × context width)",
                        left: vec![contexts.len()],
                        right: vec![shape[0], width],
                    }));
                }
                let context = self.device.tensor(contexts, [shape[0], width])?;
                self.initialise_once(&x, Some(&context))?;
                (
                    Some(self.model.log_prob(x, Some(&context))?.mean().neg()),
                    None,
                )
            }
            FlowObjective::ReverseKl(target) => {
                let kl =
                    self.model
                        .reverse_kl(&self.device, shape, None, target.as_ref(), &mut rng)?;
                let ess = kl.effective_sample_size()?;
                (Some(kl.loss), Some(ess))
            }
        };
        let (value, mut grads) = match (host, loss) {
            (Some(host), _) => host,
            (None, Some(loss)) => {
                let value = loss.clone().into_scalar::<f64>();
                (
                    value,
                    GradientsParams::from_grads(loss.backward(), &self.model),
                )
            }
            (None, None) => unreachable!("each objective gives a loss or the host's gradients"),
        };
        let grad_norm = ctx
            .clip_grads(&mut grads, &self.model)
            .unwrap_or_else(|| global_grad_norm(&grads, &self.model));
        let model = self.model.clone();
        self.model = self.optim.step(ctx.lr, model, grads);
        if let Some(average) = &mut self.average {
            average.update(&self.model);
        }
        let mut report = StepReport::new(value).with("grad_norm", grad_norm);
        if let Some(ess) = ess {
            report = report.with("ess", ess);
        }
        Ok(report)
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        if let Some(host) = &self.host_adam
            && !host.has_non_finite()
        {
            return None;
        }
        find_non_finite(self.model(), "flow")
    }
}
