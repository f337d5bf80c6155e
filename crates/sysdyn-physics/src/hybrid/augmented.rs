//! The augmented model of APHYNITY (Yin et al., ICLR 2021, eq. 1):
//!
//! `dX/dt = F_p(X; θ_p) + F_a(X; θ_a)`,
//!
//! `F_p` any [`PhysicalModel`] whose parameters `θ_p = s ⊙ r` are a learnable burn [`Param`]
//! `r` (`[1, P]`) times fixed per-parameter scales `s` (so a diffusion coefficient of `1e-3` and
//! a wave speed of `330` both start as numbers of order one for Adam), `F_a` a neural network
//! ([`Augmentation`]: an MLP for ODEs, [`ConvAugmentation`](super::ConvAugmentation) for 2-D
//! fields). Either part is optional, so the paper's baselines are configurations of one struct:
//!
//! | configuration | `F_p` | `F_a` | built by |
//! |---|---|---|---|
//! | APHYNITY, naive sum | learnable | network | [`AugmentedModel::hybrid`] |
//! | Param ODE / PDE | learnable | — | [`AugmentedModel::physics_only`] |
//! | Neural ODE | — | network | [`AugmentedModel::neural_only`] |
//! | true model | frozen at the truth | — | [`AugmentedModel::physics_only`] + [`AugmentedModel::frozen`] |
//!
//! (APHYNITY and the naive sum differ only in the objective, [`super::AphynityObjective`].)
//!
//! **One contract.** `AugmentedModel` is itself a [`PhysicalModel`]: its parameters are `F_p`'s
//! (the learned values, `s ⊙ r`), its tensor field is `F_p(y; params) + F_a(y)`, its host `rhs`
//! evaluates that field on a one-row tensor. So a trained hybrid is simulated, checked and
//! compared through exactly the interface of every simulator (`ModelField`, `simulate`), and a
//! hybrid can itself be the `F_p` of another hybrid.

use std::fmt::Debug;

use burn::module::{Module, ModuleDisplay, Param};
use burn::tensor::{Device, Tensor};
use sysdyn_core::jet::Mlp;

use crate::error::PhysicsError;
use crate::model::{PhysicalModel, check_parameter_count, check_state, host_tensor};

/// The network part `F_a`: a field `[batch, state_len] → [batch, state_len]`.
pub trait Augmentation: Module + ModuleDisplay + Debug {
    /// `F_a(y)` for a batch of flattened states.
    fn field(&self, y: Tensor<2>) -> Result<Tensor<2>, PhysicsError>;
}

impl Augmentation for Mlp {
    fn field(&self, y: Tensor<2>) -> Result<Tensor<2>, PhysicsError> {
        Ok(self.forward(y)?)
    }
}

/// `dX/dt = F_p(X; s ⊙ r) + F_a(X)` (see the module docs).
#[derive(Module, Debug)]
pub struct AugmentedModel<M: PhysicalModel + Clone + Debug + Send + Sync + 'static, A: Augmentation>
{
    /// `r`, the learnable raw parameters `[1, P]` (absent without `F_p`).
    raw: Option<Param<Tensor<2>>>,
    /// `F_a` (absent for a pure physical model).
    augmentation: Option<A>,
    /// `F_p`'s equations; its own `f64` parameters are not read (the tensor path takes `s ⊙ r`).
    #[module(skip)]
    physics: Option<M>,
    /// `s`, one scale per parameter.
    #[module(skip)]
    scales: Vec<f64>,
    #[module(skip)]
    state_shape: Vec<usize>,
    #[module(skip)]
    device: Device,
}

impl<M, A> AugmentedModel<M, A>
where
    M: PhysicalModel + Clone + Debug + Send + Sync + 'static,
    A: Augmentation,
{
    /// `F_p + F_a`, `F_p`'s parameters starting at `initial` (one per name of
    /// `physics.parameter_names()`), learned as `initial / scales` in units of `scales`.
    pub fn hybrid(
        physics: M,
        initial: &[f64],
        scales: &[f64],
        augmentation: A,
        device: &Device,
    ) -> Result<Self, PhysicsError> {
        let mut model = Self::physics_only(physics, initial, scales, device)?;
        model.augmentation = Some(augmentation);
        Ok(model)
    }

    /// `F_p` alone (Param ODE / PDE; with [`AugmentedModel::frozen`] and the true parameters,
    /// the true model).
    pub fn physics_only(
        physics: M,
        initial: &[f64],
        scales: &[f64],
        device: &Device,
    ) -> Result<Self, PhysicsError> {
        let names = physics.parameter_names();
        check_parameter_count(names, initial)?;
        check_parameter_count(names, scales)?;
        for (&name, &s) in names.iter().zip(scales) {
            crate::model::positive(name, s).map_err(|_| PhysicsError::InvalidParameter {
                name,
                value: s,
                requirement: "its scale must be finite and positive",
            })?;
        }
        // The model validates the values (a negative diffusion is refused here).
        let mut check = physics.clone();
        check.set_parameters(initial)?;
        let raw: Vec<f64> = initial.iter().zip(scales).map(|(v, s)| v / s).collect();
        let like: Tensor<2> = Tensor::zeros([1, 1], device);
        let raw = host_tensor(raw, [1, names.len()], &like);
        Ok(AugmentedModel {
            raw: Some(Param::from_tensor(raw)),
            augmentation: None,
            state_shape: physics.state_shape(),
            physics: Some(physics),
            scales: scales.to_vec(),
            device: device.clone(),
        })
    }

    /// `F_a` alone (the Neural ODE baseline) on states of `state_shape`.
    pub fn neural_only(augmentation: A, state_shape: Vec<usize>, device: &Device) -> Self {
        AugmentedModel {
            raw: None,
            augmentation: Some(augmentation),
            physics: None,
            scales: Vec::new(),
            state_shape,
            device: device.clone(),
        }
    }

    /// The same model with `F_p`'s parameters excluded from training (a reference model).
    pub fn frozen(mut self) -> Self {
        self.raw = self.raw.map(|p| {
            let value = p.val().detach();
            Param::from_tensor(value).set_require_grad(false)
        });
        self
    }

    /// The raw learnable parameters `r` (`θ_p = s ⊙ r`), if any; their gradients are
    /// `∂L/∂r = s ⊙ ∂L/∂θ_p`.
    pub fn raw_parameters(&self) -> Option<&Param<Tensor<2>>> {
        self.raw.as_ref()
    }

    /// The scales `s`.
    pub fn scales(&self) -> &[f64] {
        &self.scales
    }

    /// `F_p`'s equations, if any.
    pub fn physics(&self) -> Option<&M> {
        self.physics.as_ref()
    }

    /// `F_a`, if any.
    pub fn augmentation(&self) -> Option<&A> {
        self.augmentation.as_ref()
    }

    /// The physical parameters `s ⊙ r` as a `[1, P]` tensor on the autodiff graph (`None`
    /// without `F_p`).
    pub fn physical_parameters(&self) -> Option<Tensor<2>> {
        let raw = self.raw.as_ref()?.val();
        let scales = host_tensor(self.scales.clone(), [1, self.scales.len()], &raw);
        Some(raw * scales)
    }

    /// `F_p(y; s ⊙ r)`, zero without a physical part.
    pub fn physical_field(&self, t: f64, y: Tensor<2>) -> Result<Tensor<2>, PhysicsError> {
        match (&self.physics, self.physical_parameters()) {
            (Some(physics), Some(params)) => physics.rhs_tensor(t, y, params),
            _ => Ok(y.zeros_like()),
        }
    }

    /// `F_a(y)`, zero without a network.
    pub fn augmentation_field(&self, y: Tensor<2>) -> Result<Tensor<2>, PhysicsError> {
        match &self.augmentation {
            Some(net) => net.field(y),
            None => Ok(y.zeros_like()),
        }
    }

    /// `F_p(y) + F_a(y)` on a batch `[batch, state_len]`, the field the rollout integrates.
    pub fn field(&self, t: f64, y: Tensor<2>) -> Result<Tensor<2>, PhysicsError> {
        self.check_batch(&y)?;
        let fp = self.physical_field(t, y.clone())?;
        match &self.augmentation {
            Some(net) => Ok(fp + net.field(y)?),
            None => Ok(fp),
        }
    }

    fn check_batch(&self, y: &Tensor<2>) -> Result<(), PhysicsError> {
        crate::stencil::check_len(
            "state tensor columns of the augmented model",
            self.state_len(),
            y.dims()[1],
        )
    }
}

impl<M, A> PhysicalModel for AugmentedModel<M, A>
where
    M: PhysicalModel + Clone + Debug + Send + Sync + 'static,
    A: Augmentation,
{
    fn name(&self) -> &'static str {
        match (&self.physics, &self.augmentation) {
            (Some(_), Some(_)) => "augmented model F_p + F_a",
            (Some(_), None) => "parametric physical model F_p",
            _ => "neural ODE F_a",
        }
    }

    fn state_shape(&self) -> Vec<usize> {
        self.state_shape.clone()
    }

    fn parameter_names(&self) -> &'static [&'static str] {
        self.physics.as_ref().map_or(&[], |p| p.parameter_names())
    }

    /// The learned parameters `s ⊙ r`.
    fn parameters(&self) -> Vec<f64> {
        self.physical_parameters()
            .and_then(|p| {
                let data = p.into_data().convert::<f64>();
                data.as_slice::<f64>().ok().map(<[f64]>::to_vec)
            })
            .unwrap_or_default()
    }

    /// Replaces `r` by `values / s` (a new parameter: rebuild the optimizer's state after it).
    fn set_parameters(&mut self, values: &[f64]) -> Result<(), PhysicsError> {
        let names = self.parameter_names();
        check_parameter_count(names, values)?;
        let Some(physics) = &self.physics else {
            return Ok(());
        };
        physics.clone().set_parameters(values)?;
        let raw: Vec<f64> = values
            .iter()
            .zip(&self.scales)
            .map(|(v, s)| v / s)
            .collect();
        let like: Tensor<2> = Tensor::zeros([1, 1], &self.device);
        self.raw = Some(Param::from_tensor(host_tensor(
            raw,
            [1, values.len()],
            &like,
        )));
        Ok(())
    }

    /// The tensor field on a one-row batch, back on the host.
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), PhysicsError> {
        let n = self.state_len();
        check_state(n, y, dy)?;
        let like: Tensor<2> = Tensor::zeros([1, 1], &self.device);
        let state = host_tensor(y.to_vec(), [1, n], &like);
        let out = self.field(t, state)?.into_data().convert::<f64>();
        let values = out
            .as_slice::<f64>()
            .map_err(|e| PhysicsError::Linalg(format!("reading the field back: {e:?}")))?;
        dy.copy_from_slice(values);
        Ok(())
    }

    /// `F_p(y; params) + F_a(y)` with the physical parameters given (not the learned ones).
    fn rhs_tensor(
        &self,
        t: f64,
        y: Tensor<2>,
        params: Tensor<2>,
    ) -> Result<Tensor<2>, PhysicsError> {
        self.check_batch(&y)?;
        let fp = match &self.physics {
            Some(physics) => physics.rhs_tensor(t, y.clone(), params)?,
            None => {
                crate::stencil::check_len("parameter tensor columns", 0, params.dims()[1])?;
                y.clone().zeros_like()
            }
        };
        Ok(fp + self.augmentation_field(y)?)
    }
}
