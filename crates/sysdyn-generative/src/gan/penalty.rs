//! Penalties on the critic's input gradient: WGAN-GP (Gulrajani et al. 2017) and R1
//! (Mescheder et al. 2018).
//!
//! Both contain `∇ₓD(x)` *inside* the loss, and the loss is then differentiated with respect to
//! the critic's parameters. burn's autodiff is first order, so the input gradient is computed by
//! forward-mode jets (`sysdyn_core::jet`): one pass carries `d` tangents (one per input feature)
//! through the critic as ordinary tensor operations, which burn then differentiates like any
//! other loss. Supported critics are those that propagate jets ([`JetForward`]): affine layers
//! with the activations of `sysdyn_core::jet::Activation` (tanh, sigmoid, softplus, SiLU, sin,
//! ReLU), as in `sysdyn_core::jet::Mlp`. The cost is one critic pass with `d` stacked tangents:
//! right for low-dimensional data, too expensive for images (`d` = pixels). Convolutional critics
//! therefore compute `∇ₓD` as their own reverse pass in tensor operations
//! ([`crate::gan::DcganCritic`]: strided convolutions, LeakyReLU, the linear head, label
//! channels, the projection term; batch norm is refused). The penalties below take the input
//! gradient from [`crate::gan::Critic::input_gradient`] ([`gradient_penalty_of`],
//! [`r1_penalty_of`]) or from jets ([`gradient_penalty`], [`r1_penalty`]).

use burn::tensor::{Tensor, TensorData};
use sysdyn_core::jet::JetForward;
use sysdyn_core::rng::SeededRng;

use crate::error::{GenerativeError, check_positive};

/// `∇ₓD(x)` for a critic with one output, `[batch, features]`, differentiable with respect to
/// the critic's parameters.
pub fn input_gradient<C: JetForward>(
    critic: &C,
    x: Tensor<2>,
) -> Result<Tensor<2>, GenerativeError> {
    let [batch, features] = x.dims();
    if batch == 0 {
        return Err(GenerativeError::EmptyBatch {
            what: "critic input",
        });
    }
    if critic.output_width() != 1 {
        return Err(GenerativeError::ShapeMismatch {
            what: "a gradient penalty needs a critic with one output",
            left: vec![critic.output_width()],
            right: vec![1],
        });
    }
    let jacobian = critic.jacobian(x, ..)?; // [batch, 1, features]
    Ok(jacobian.reshape([batch, features]))
}

/// Points on the segments between real and fake rows, `x̂ = ε x + (1 − ε) x̃` with one
/// `ε ~ U[0, 1]` per row drawn from `rng`; on `real`'s device and dtype, without graph to
/// either input.
pub fn interpolate(
    real: Tensor<2>,
    fake: Tensor<2>,
    rng: &mut SeededRng,
) -> Result<Tensor<2>, GenerativeError> {
    if real.dims() != fake.dims() {
        return Err(GenerativeError::ShapeMismatch {
            what: "real and fake batches",
            left: real.dims().to_vec(),
            right: fake.dims().to_vec(),
        });
    }
    let [batch, _] = real.dims();
    let epsilon = Tensor::<2>::from_data(
        TensorData::new(rng.uniforms(batch), [batch, 1]).convert_dtype(real.dtype()),
        (&real.device(), real.dtype()),
    );
    let real = real.detach();
    let fake = fake.detach();
    Ok(real * epsilon.clone() + fake * epsilon.neg().add_scalar(1.0))
}

/// The WGAN-GP penalty `λ E[(‖∇ₓD(x̂)‖₂ − 1)²]` at the points `x̂` (usually [`interpolate`]d
/// between real and fake rows). The paper's `λ = 10`. A tiny constant under the square root
/// keeps its gradient finite where `∇ₓD = 0`.
pub fn gradient_penalty<C: JetForward>(
    critic: &C,
    points: Tensor<2>,
    lambda: f64,
) -> Result<Tensor<1>, GenerativeError> {
    gradient_penalty_of(input_gradient(critic, points)?, lambda)
}

/// The WGAN-GP penalty `λ E[(‖g‖₂ − 1)²]` of given input gradients `g` (`[batch, features]`),
/// for critics that compute `∇ₓD` themselves ([`crate::gan::Critic::input_gradient`]).
pub fn gradient_penalty_of(gradient: Tensor<2>, lambda: f64) -> Result<Tensor<1>, GenerativeError> {
    check_positive("the gradient penalty's λ", lambda)?;
    let norm = gradient.square().sum_dim(1).add_scalar(1e-12).sqrt();
    Ok(norm.sub_scalar(1.0).square().mean().mul_scalar(lambda))
}

/// The R1 penalty `γ/2 E[‖g‖²]` of given input gradients `g` at real rows.
pub fn r1_penalty_of(gradient: Tensor<2>, gamma: f64) -> Result<Tensor<1>, GenerativeError> {
    check_positive("the R1 penalty's γ", gamma)?;
    Ok(gradient.square().sum_dim(1).mean().mul_scalar(gamma / 2.0))
}

/// The R1 penalty `γ/2 E[‖∇ₓD(x)‖²]` on real data: it pushes the discriminator's gradient to
/// zero on the data manifold, which makes the Dirac-GAN and its relatives converge locally.
pub fn r1_penalty<C: JetForward>(
    critic: &C,
    real: Tensor<2>,
    gamma: f64,
) -> Result<Tensor<1>, GenerativeError> {
    check_positive("the R1 penalty's γ", gamma)?;
    r1_penalty_of(input_gradient(critic, real.detach())?, gamma)
}
