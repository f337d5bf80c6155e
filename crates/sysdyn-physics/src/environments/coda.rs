//! CoDA (Kirchmeyer et al., *Generalizing to new physical systems via context-informed dynamics
//! model*, ICML 2022): every parameter of the dynamics network depends on the environment
//! through a low-dimensional context,
//!
//! `θ_e = θ_c + W ξ_e`,
//!
//! with shared parameters `θ_c ∈ R^P`, a bias-free linear hypernetwork `W ∈ R^{P×c}` and a
//! context `ξ_e ∈ R^c` per environment (`c = 2` in the paper), `ξ_e = 0` at the start. All
//! environments run in one pass: `Θ = 1 θ_cᵀ + Ξ Wᵀ` (`[E, P]`) is cut into each layer's
//! `[E, in, out]` weights and `[E, 1, out]` biases for [`env_mlp_forward`]. Training minimises
//!
//! `mean_e MSE_e + λ_m Σ_i ‖W_i‖₂ + λ_c Σ_e ‖ξ_e‖²`  (`λ_m = 1e-6`, `λ_c = 1e-4`),
//!
//! the row norms `‖W_i‖₂` (one row per network parameter) a group lasso that lets only few
//! parameters vary between environments; the paper clips gradients at norm 1 (the runtime's
//! `grad_clip_norm`). A new environment is learned by freezing `θ_c` and `W` and fitting a new
//! `ξ` alone ([`CodaAdaptStep`]): `c` numbers from one trajectory.
//!
//! With `W = 0` every environment has the parameters `θ_c`: CoDA is then One-For-All.

use std::path::Path;

use burn::module::{Module, Param};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_train::{
    BoxError, Checkpointable, NonFinite, Optim, StepContext, StepReport, TrainError, TrainStep,
    find_non_finite, global_grad_norm, load_module, save_module,
};

use crate::environments::data::EnvTrajectories;
use crate::environments::env_mlp::{EnvMlp, EnvMlpConfig, env_mlp_forward, tensor};
use crate::environments::rollout::{TeacherForcing, mse_per_env, rollout};
use crate::environments::step::EnvironmentModel;
use crate::error::PhysicsError;

/// The settings of a [`Coda`] model.
#[derive(Debug, Clone, PartialEq)]
pub struct CodaConfig {
    /// Environments `E` of the training data.
    pub envs: usize,
    /// The context dimension `c` (≥ 1; the paper: 2).
    pub context_dim: usize,
    /// The dynamics network (its `envs` is ignored).
    pub network: EnvMlpConfig,
    /// The standard deviation of `W`'s normal initial entries (`W = 0` would receive no
    /// gradient while `ξ = 0`).
    pub w_std: f64,
    /// `λ_m`, the weight of `Σ_i ‖W_i‖₂`.
    pub lambda_m: f64,
    /// `λ_c`, the weight of `Σ_e ‖ξ_e‖²`.
    pub lambda_c: f64,
}

impl CodaConfig {
    /// CoDA on Lotka–Volterra: the four-layer Swish MLP of width 64, `c = 2`, `λ_m = 1e-6`,
    /// `λ_c = 1e-4`, `W` entries of standard deviation 0.01.
    pub fn lotka_volterra(envs: usize) -> Self {
        CodaConfig {
            envs,
            context_dim: 2,
            network: EnvMlpConfig::new(1, 2, 64, 4),
            w_std: 1e-2,
            lambda_m: 1e-6,
            lambda_c: 1e-4,
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), PhysicsError> {
        if self.envs == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "envs",
                value: 0.0,
                requirement: "CoDA needs at least one training environment",
            });
        }
        if self.context_dim == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "context_dim",
                value: 0.0,
                requirement: "the context needs at least one dimension (the paper uses 2)",
            });
        }
        for (name, value) in [
            ("w_std", self.w_std),
            ("lambda_m", self.lambda_m),
            ("lambda_c", self.lambda_c),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(PhysicsError::InvalidParameter {
                    name,
                    value,
                    requirement: "must be finite and non-negative",
                });
            }
        }
        self.network.validate()
    }

    /// The model: `θ_c` from the network's initialisation, `W` normal, `ξ = 0`.
    pub fn init(&self, device: &SysDevice, rng: &mut SeededRng) -> Result<Coda, PhysicsError> {
        self.validate()?;
        let shared = EnvMlpConfig {
            envs: 1,
            ..self.network.clone()
        }
        .init(device, rng)?;
        let p = shared.params_per_env();
        let w: Vec<f64> = rng
            .normals(p * self.context_dim)
            .into_iter()
            .map(|z| z * self.w_std)
            .collect();
        let w = tensor(device, w, [p, self.context_dim])?;
        self.from_shared(&shared, w)
    }

    /// The model with `θ_c` the parameters of the shared network `shared` (one environment)
    /// and the given `W: [P, c]`, `ξ = 0`.
    pub fn from_shared(&self, shared: &EnvMlp, w: Tensor<2>) -> Result<Coda, PhysicsError> {
        self.validate()?;
        if shared.envs() != 1 {
            return Err(PhysicsError::SizeMismatch {
                what: "environments of the network giving θ_c",
                expected: 1,
                got: shared.envs(),
            });
        }
        let p = shared.params_per_env();
        let [rows, cols] = w.dims();
        if rows != p || cols != self.context_dim {
            return Err(PhysicsError::SizeMismatch {
                what: "entries of W against parameters × context dimension",
                expected: p * self.context_dim,
                got: rows * cols,
            });
        }
        let mut pieces = Vec::new();
        for (w_l, b_l) in shared.layers() {
            pieces.push(w_l.flatten::<1>(0, 2));
            pieces.push(b_l.flatten::<1>(0, 2));
        }
        let theta_c = Tensor::cat(pieces, 0).detach();
        let contexts = Tensor::<2>::zeros(
            [self.envs, self.context_dim],
            (&theta_c.device(), theta_c.dtype()),
        );
        Ok(Coda {
            theta_c: Param::from_tensor(theta_c),
            w: Param::from_tensor(w.detach()),
            contexts: Param::from_tensor(contexts),
            widths: shared.widths(),
            lambda_m: self.lambda_m,
            lambda_c: self.lambda_c,
        })
    }
}

/// `θ_e = θ_c + W ξ_e` (see the module docs).
#[derive(Module, Debug)]
pub struct Coda {
    /// The shared parameters `θ_c`, `[P]` (layer by layer: weight `[in, out]` row-major, then
    /// bias).
    pub theta_c: Param<Tensor<1>>,
    /// The hypernetwork `W`, `[P, c]`.
    pub w: Param<Tensor<2>>,
    /// The contexts `ξ_e` of the training environments, `[E, c]`.
    pub contexts: Param<Tensor<2>>,
    /// The dynamics network's widths.
    #[module(skip)]
    pub widths: Vec<usize>,
    /// `λ_m`.
    #[module(skip)]
    pub lambda_m: f64,
    /// `λ_c`.
    #[module(skip)]
    pub lambda_c: f64,
}

/// Cuts `Θ: [E, P]` into the layers of a network of `widths`.
fn layers_of(theta: Tensor<2>, widths: &[usize]) -> Vec<(Tensor<3>, Tensor<3>)> {
    let e = theta.dims()[0];
    let mut offset = 0;
    let mut layers = Vec::new();
    for w in widths.windows(2) {
        let (fan_in, fan_out) = (w[0], w[1]);
        let weight = theta
            .clone()
            .narrow(1, offset, fan_in * fan_out)
            .reshape([e, fan_in, fan_out]);
        offset += fan_in * fan_out;
        let bias = theta
            .clone()
            .narrow(1, offset, fan_out)
            .reshape([e, 1, fan_out]);
        offset += fan_out;
        layers.push((weight, bias));
    }
    layers
}

impl Coda {
    /// The context dimension `c`.
    pub fn context_dim(&self) -> usize {
        self.w.dims()[1]
    }

    /// The parameters of every environment, `Θ = 1 θ_cᵀ + Ξ Wᵀ`: `[E, P]` for `contexts: [E, c]`.
    pub fn environment_parameters(
        theta_c: Tensor<1>,
        w: Tensor<2>,
        contexts: Tensor<2>,
    ) -> Tensor<2> {
        let p = theta_c.dims()[0];
        theta_c.reshape([1, p]) + contexts.matmul(w.transpose())
    }

    /// The field for the given contexts `[E, c]` on `x: [E, B, d]`, with `θ_c` and `W` as
    /// given (the model's own or detached copies).
    fn field_with(
        &self,
        theta_c: Tensor<1>,
        w: Tensor<2>,
        contexts: Tensor<2>,
        x: Tensor<3>,
    ) -> Tensor<3> {
        let theta = Self::environment_parameters(theta_c, w, contexts);
        env_mlp_forward(&layers_of(theta, &self.widths), x)
    }

    /// The model's contexts on the host, row per environment.
    pub fn contexts_host(&self) -> Result<Vec<Vec<f64>>, PhysicsError> {
        host_rows(self.contexts.val())
    }

    /// The same `θ_c` and `W` with other contexts `[E', c]` (an adapted model).
    pub fn with_contexts(&self, contexts: Tensor<2>) -> Result<Coda, PhysicsError> {
        let [_, c] = contexts.dims();
        if c != self.context_dim() {
            return Err(PhysicsError::SizeMismatch {
                what: "the context dimension",
                expected: self.context_dim(),
                got: c,
            });
        }
        let mut model = self.clone();
        model.contexts = Param::from_tensor(contexts.detach());
        Ok(model)
    }
}

pub(crate) fn host_rows(t: Tensor<2>) -> Result<Vec<Vec<f64>>, PhysicsError> {
    let [_, cols] = t.dims();
    let values = t
        .into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .map_err(|e| PhysicsError::Linalg(format!("reading a tensor back: {e:?}")))?;
    Ok(values.chunks(cols.max(1)).map(<[f64]>::to_vec).collect())
}

impl EnvironmentModel for Coda {
    fn envs(&self) -> Option<usize> {
        Some(self.contexts.dims()[0])
    }

    fn state_len(&self) -> usize {
        self.widths.first().copied().unwrap_or(0)
    }

    fn field(&self, x: Tensor<3>) -> Tensor<3> {
        self.field_with(self.theta_c.val(), self.w.val(), self.contexts.val(), x)
    }

    fn field_fn(&self) -> Box<dyn Fn(Tensor<3>) -> Tensor<3> + '_> {
        let theta =
            Self::environment_parameters(self.theta_c.val(), self.w.val(), self.contexts.val());
        let layers = layers_of(theta, &self.widths);
        Box::new(move |x| env_mlp_forward(&layers, x))
    }

    fn penalty(&self, _data: &EnvTrajectories) -> Result<Option<Tensor<1>>, PhysicsError> {
        // The floor inside the root keeps the gradient of a zero row finite.
        let rows = self
            .w
            .val()
            .square()
            .sum_dim(1)
            .add_scalar(1e-24)
            .sqrt()
            .sum();
        let contexts = self.contexts.val().square().sum();
        Ok(Some(
            (rows.mul_scalar(self.lambda_m) + contexts.mul_scalar(self.lambda_c)).reshape([1]),
        ))
    }
}

/// New contexts `ξ: [E, c]`, the only parameters of an adaptation.
#[derive(Module, Debug)]
pub struct Contexts {
    /// `ξ`, `[E, c]`.
    pub xi: Param<Tensor<2>>,
}

/// Adapts a trained [`Coda`] to new environments: `θ_c` and `W` frozen (detached: they get no
/// gradient and are never updated), a new `ξ_e` per environment from 0, trained on
/// `mean_e MSE_e + λ_c Σ_e ‖ξ_e‖²`. Every environment is fitted in the same batched pass; the
/// loss is a sum of independent terms and Adam acts elementwise, so this is `E` independent
/// adaptations (when the runtime does not clip the gradient's global norm, which would couple
/// them).
pub struct CodaAdaptStep<O: Optimizer> {
    coda: Coda,
    contexts: Contexts,
    optim: Optim<O>,
    data: EnvTrajectories,
    forcing: TeacherForcing,
    substeps: usize,
}

impl<O: Optimizer> CodaAdaptStep<O> {
    /// An adaptation of `coda` to the environments of `data` (any number), `ξ = 0` at the start.
    pub fn new(
        coda: Coda,
        optim: Optim<O>,
        data: EnvTrajectories,
        forcing: TeacherForcing,
        substeps: usize,
    ) -> Result<Self, PhysicsError> {
        if data.state_len() != coda.state_len() {
            return Err(PhysicsError::SizeMismatch {
                what: "state length of the data against the model's input width",
                expected: coda.state_len(),
                got: data.state_len(),
            });
        }
        forcing.validate()?;
        if substeps == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "substeps",
                value: 0.0,
                requirement: "at least one RK4 step per interval",
            });
        }
        let theta = coda.theta_c.val();
        let xi = Tensor::<2>::zeros(
            [data.envs(), coda.context_dim()],
            (&theta.device(), theta.dtype()),
        );
        Ok(CodaAdaptStep {
            coda,
            contexts: Contexts {
                xi: Param::from_tensor(xi),
            },
            optim,
            data,
            forcing,
            substeps,
        })
    }

    /// The frozen model.
    pub fn frozen(&self) -> &Coda {
        &self.coda
    }

    /// The contexts being fitted.
    pub fn contexts(&self) -> &Contexts {
        &self.contexts
    }

    /// The frozen model with the fitted contexts.
    pub fn adapted(&self) -> Result<Coda, PhysicsError> {
        self.coda.with_contexts(self.contexts.xi.val())
    }

    fn loss(&self, restarts: &[bool]) -> Result<(Tensor<1>, f64), PhysicsError> {
        let theta_c = self.coda.theta_c.val().detach();
        let w = self.coda.w.val().detach();
        let xi = self.contexts.xi.val();
        // Θ once per rollout, not once per evaluation of the field.
        let layers = layers_of(
            Coda::environment_parameters(theta_c, w, xi.clone()),
            &self.coda.widths,
        );
        let prediction = rollout(
            |x| env_mlp_forward(&layers, x.clone()),
            &self.data.states,
            self.data.dt,
            self.substeps,
            restarts,
        )?;
        let mse = mse_per_env(prediction, self.data.states.clone()).sum();
        let envs = self.data.envs() as f64;
        let mse_value = mse.clone().into_scalar::<f64>() / envs;
        // Σ_e (MSE_e + λ_c ‖ξ_e‖²): independent per environment (see the type's docs).
        let loss = mse + xi.square().sum().mul_scalar(self.coda.lambda_c);
        Ok((loss.reshape([1]), mse_value))
    }
}

impl<O: Optimizer> Checkpointable for CodaAdaptStep<O> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.contexts, dir, "contexts")?;
        self.optim.save(dir, "contexts-optim")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.contexts = load_module(self.contexts.clone(), dir, "contexts")?;
        self.optim.load(dir, "contexts-optim", &self.contexts)
    }
}

impl<O: Optimizer> TrainStep for CodaAdaptStep<O> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let mut rng = ctx.rng.clone();
        let restarts = self.forcing.draw(ctx.step, self.data.times() - 1, &mut rng);
        let (loss, mse) = self.loss(&restarts)?;
        let value = loss.clone().into_scalar::<f64>();
        let mut grads = GradientsParams::from_grads(loss.backward(), &self.contexts);
        let grad_norm = ctx
            .clip_grads(&mut grads, &self.contexts)
            .unwrap_or_else(|| global_grad_norm(&grads, &self.contexts));
        let contexts = self.contexts.clone();
        self.contexts = self.optim.step(ctx.lr, contexts, grads);
        Ok(StepReport::new(value)
            .with("mse", mse)
            .with("grad_norm", grad_norm))
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.contexts, "contexts")
    }
}
