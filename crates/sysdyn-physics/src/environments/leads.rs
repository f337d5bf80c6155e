//! LEADS (Yin et al., *LEADS: Learning dynamical systems that generalize across environments*,
//! NeurIPS 2021): `dx/dt = f(x) + g_e(x)`, a network `f` shared by all environments and a
//! network `g_e` per environment, trained on
//!
//! `Σ_e L_traj,e / E + λ Ω`, `Ω = c_lip Σ_e Σ_l σ_max(W_{e,l})² + Σ_e mean_x (‖g_e(x)‖ / (‖x‖ + 10⁻⁵))²`,
//!
//! where `W_{e,l}` are the weights of `g_e`'s layers, `σ_max` comes from power iteration
//! ([`spectral_norms`]) and the mean runs over every state of environment `e`'s training
//! trajectories. `Ω` keeps the environment-specific parts small, so that `f` captures what the
//! environments share. The trajectory term is the mean over environments, as in the authors'
//! code (`MSELoss` over the whole batch), which is what their `λ` (1/5e3 for Lotka–Volterra,
//! 1/1e3 for Gray–Scott) and `c_lip = 1e-2` were tuned for.
//!
//! The baselines of the paper are configurations of the same model ([`MultiEnvMethod`]):
//! One-For-All (`f` only), One-Per-Env (`g_e` only: independent networks) and `f + g_e` with
//! `λ = 0`. Every `g_e` lives in one [`EnvMlp`] with stacked weights, so all environments are
//! evaluated in one batched pass.

use burn::module::Module;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;

use crate::environments::data::EnvTrajectories;
use crate::environments::env_mlp::{EnvMlp, EnvMlpConfig};
use crate::environments::spectral::spectral_norms;
use crate::environments::step::EnvironmentModel;
use crate::error::PhysicsError;

/// Which decomposition is trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MultiEnvMethod {
    /// `f + g_e` with the penalty `λ Ω`.
    Leads,
    /// `f + g_e` without the penalty (`λ = 0`).
    LeadsNoMin,
    /// One network `f` for all environments.
    OneForAll,
    /// One independent network `g_e` per environment.
    OnePerEnv,
}

impl MultiEnvMethod {
    /// Every method, LEADS first.
    pub const ALL: [MultiEnvMethod; 4] = [
        MultiEnvMethod::Leads,
        MultiEnvMethod::LeadsNoMin,
        MultiEnvMethod::OneForAll,
        MultiEnvMethod::OnePerEnv,
    ];

    /// A short name (`leads`, `leads-no-min`, `one-for-all`, `one-per-env`).
    pub fn name(self) -> &'static str {
        match self {
            MultiEnvMethod::Leads => "leads",
            MultiEnvMethod::LeadsNoMin => "leads-no-min",
            MultiEnvMethod::OneForAll => "one-for-all",
            MultiEnvMethod::OnePerEnv => "one-per-env",
        }
    }
}

/// The settings of a [`Leads`] model.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadsConfig {
    /// The decomposition.
    pub method: MultiEnvMethod,
    /// Environments `E`.
    pub envs: usize,
    /// The shape of `f` and of each `g_e` (its `envs` is ignored).
    pub network: EnvMlpConfig,
    /// The weight `λ` of `Ω` (ignored except for [`MultiEnvMethod::Leads`]).
    pub lambda: f64,
    /// The weight `c_lip` of the spectral term inside `Ω`.
    pub c_lip: f64,
    /// Power iterations per evaluation of `σ_max`.
    pub power_iterations: usize,
}

impl LeadsConfig {
    /// LEADS on Lotka–Volterra: four-layer Swish MLPs of width 64, `λ = 1/5e3`,
    /// `c_lip = 1e-2`, 20 power iterations.
    pub fn lotka_volterra(method: MultiEnvMethod, envs: usize) -> Self {
        LeadsConfig {
            method,
            envs,
            network: EnvMlpConfig::new(1, 2, 64, 4),
            lambda: 1.0 / 5e3,
            c_lip: 1e-2,
            power_iterations: 20,
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), PhysicsError> {
        if self.envs == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "envs",
                value: 0.0,
                requirement: "LEADS needs at least one environment",
            });
        }
        for (name, value) in [("lambda", self.lambda), ("c_lip", self.c_lip)] {
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

    /// The model, initialised from `rng` on `device`.
    pub fn init(&self, device: &SysDevice, rng: &mut SeededRng) -> Result<Leads, PhysicsError> {
        self.validate()?;
        let shared_config = EnvMlpConfig {
            envs: 1,
            ..self.network.clone()
        };
        let specific_config = EnvMlpConfig {
            envs: self.envs,
            ..self.network.clone()
        };
        let (shared, specific) = match self.method {
            MultiEnvMethod::OneForAll => (Some(shared_config.init(device, rng)?), None),
            MultiEnvMethod::OnePerEnv => (None, Some(specific_config.init(device, rng)?)),
            MultiEnvMethod::Leads | MultiEnvMethod::LeadsNoMin => (
                Some(shared_config.init(device, rng)?),
                Some(specific_config.init(device, rng)?),
            ),
        };
        let lambda = if self.method == MultiEnvMethod::Leads {
            self.lambda
        } else {
            0.0
        };
        Ok(Leads {
            shared,
            specific,
            envs: self.envs,
            penalty: Penalty {
                lambda,
                c_lip: self.c_lip,
                power_iterations: self.power_iterations,
            },
        })
    }
}

/// The weights of `Ω`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Penalty {
    /// `λ` (0: no penalty).
    pub lambda: f64,
    /// `c_lip`.
    pub c_lip: f64,
    /// Power iterations.
    pub power_iterations: usize,
}

/// `f + g_e` (see the module docs); `shared` is `f`, `specific` the stacked `g_e`.
#[derive(Module, Debug)]
pub struct Leads {
    /// The shared network `f` (absent for One-Per-Env).
    pub shared: Option<EnvMlp>,
    /// The environment networks `g_e`, stacked (absent for One-For-All).
    pub specific: Option<EnvMlp>,
    /// Environments the model was built for.
    #[module(skip)]
    pub envs: usize,
    /// The penalty's weights.
    #[module(skip)]
    pub penalty: Penalty,
}

impl Leads {
    /// `envs` independent copies of a One-For-All model's network `f` as a One-Per-Env model
    /// (`g_e = f` for every `e`, no penalty): fine-tuning it fine-tunes `f` separately in each
    /// of `envs` environments, all in one batched pass (Adam acts elementwise and the loss is
    /// a mean of the environments' independent terms).
    pub fn one_per_env_copies(&self, envs: usize) -> Result<Leads, PhysicsError> {
        let (Some(f), None) = (&self.shared, &self.specific) else {
            return Err(PhysicsError::InvalidParameter {
                name: "method",
                value: 0.0,
                requirement: "copies per environment are made of a One-For-All model",
            });
        };
        if envs == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "envs",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        let copy = |p: &burn::module::Param<Tensor<3>>| {
            burn::module::Param::from_tensor(p.val().repeat_dim(0, envs).detach())
        };
        let specific = EnvMlp {
            weights: f.weights.iter().map(copy).collect(),
            biases: f.biases.iter().map(copy).collect(),
        };
        Ok(Leads {
            shared: None,
            specific: Some(specific),
            envs,
            penalty: Penalty {
                lambda: 0.0,
                ..self.penalty
            },
        })
    }

    /// `Ω` (without `λ`) on the states `[E, N, d]` of each environment: `c_lip Σ_e Σ_l σ_max²`
    /// plus `Σ_e mean_n (‖g_e(x_n)‖/(‖x_n‖ + 1e-5))²`; `None` without environment networks.
    pub fn omega(&self, states: Tensor<3>) -> Result<Option<Tensor<1>>, PhysicsError> {
        let Some(g) = &self.specific else {
            return Ok(None);
        };
        let [e, n, _] = states.dims();
        let out = g.forward(states.clone())?;
        let ratio =
            out.square().sum_dim(2).sqrt() / states.square().sum_dim(2).sqrt().add_scalar(1e-5);
        let norm_term = ratio
            .square()
            .reshape([e, n])
            .mean_dim(1)
            .sum()
            .reshape([1]);
        let mut spectral = None::<Tensor<1>>;
        for w in &g.weights {
            let s = spectral_norms(w.val(), self.penalty.power_iterations)
                .square()
                .sum()
                .reshape([1]);
            spectral = Some(match spectral {
                Some(acc) => acc + s,
                None => s,
            });
        }
        Ok(Some(match spectral {
            Some(s) => s.mul_scalar(self.penalty.c_lip) + norm_term,
            None => norm_term,
        }))
    }
}

impl EnvironmentModel for Leads {
    fn envs(&self) -> Option<usize> {
        if self.specific.is_some() {
            Some(self.envs)
        } else {
            None
        }
    }

    fn state_len(&self) -> usize {
        self.shared
            .as_ref()
            .or(self.specific.as_ref())
            .and_then(|m| m.widths().first().copied())
            .unwrap_or(0)
    }

    fn field(&self, x: Tensor<3>) -> Tensor<3> {
        match (&self.shared, &self.specific) {
            (Some(f), Some(g)) => f.apply(x.clone()) + g.apply(x),
            (Some(f), None) => f.apply(x),
            (None, Some(g)) => g.apply(x),
            (None, None) => x.zeros_like(),
        }
    }

    fn penalty(&self, data: &EnvTrajectories) -> Result<Option<Tensor<1>>, PhysicsError> {
        if self.penalty.lambda == 0.0 {
            return Ok(None);
        }
        Ok(self
            .omega(data.all_states())?
            .map(|o| o.mul_scalar(self.penalty.lambda)))
    }
}
