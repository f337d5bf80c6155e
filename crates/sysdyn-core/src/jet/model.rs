//! [`JetForward`]: any network that can move a [`Jet`] gets Jacobians, divergences, Hessian
//! diagonals and Laplacians.

use std::ops::RangeBounds;

use burn::tensor::Tensor;

use super::error::JetError;
use super::propagation::{Jet, SecondOrder};

/// A network that propagates jets: implement [`JetForward::forward_jet`] (usually a chain of
/// [`Jet::linear`] and [`Jet::activate`] mirroring the plain forward pass) and the derivative
/// helpers come for free. Implementors may override a helper with a cheaper special case, as
/// [`Mlp`](super::Mlp) does for the divergence and the Laplacian.
///
/// `columns` selects the input features to differentiate with respect to (`..` for all, `..d`
/// for the `z` part of an input `[z, t]`); the other features are held fixed.
pub trait JetForward {
    /// Number of input features.
    fn input_width(&self) -> usize;

    /// Number of output features.
    fn output_width(&self) -> usize;

    /// Moves a jet through the network.
    fn forward_jet(&self, jet: Jet) -> Result<Jet, JetError>;

    /// The network's value at `x` (`[batch, in]`) and its Jacobian-vector products along
    /// `directions` (`[k, batch or 1, columns]`), `([batch, out], [k, batch, out])`.
    fn jvp(
        &self,
        x: Tensor<2>,
        directions: Tensor<3>,
        columns: impl RangeBounds<usize>,
    ) -> Result<(Tensor<2>, Tensor<3>), JetError> {
        let out = self.forward_jet(Jet::directions(x, directions, columns)?)?;
        let tangents = out.tangents()?;
        Ok((out.into_value(), tangents))
    }

    /// The Jacobian `∂f_j/∂x_c` at each row, `[batch, out, columns]`. Costs one pass with
    /// `columns` stacked tangents.
    fn jacobian(
        &self,
        x: Tensor<2>,
        columns: impl RangeBounds<usize>,
    ) -> Result<Tensor<3>, JetError> {
        self.forward_jet(Jet::coordinates(x, columns)?)?.jacobian()
    }

    /// The exact divergence `Σ_i ∂f_i/∂x_{c_i}`, `[batch, 1]`; the number of columns must equal
    /// the number of outputs.
    fn divergence(
        &self,
        x: Tensor<2>,
        columns: impl RangeBounds<usize>,
    ) -> Result<Tensor<2>, JetError> {
        self.forward_jet(Jet::coordinates(x, columns)?)?.trace()
    }

    /// The diagonal second derivatives `∂²f_j/∂x_c²`, `[batch, out, columns]`.
    fn hessian_diagonal(
        &self,
        x: Tensor<2>,
        columns: impl RangeBounds<usize>,
    ) -> Result<Tensor<3>, JetError> {
        let seed = Jet::coordinates(x, columns)?.with_second_order(SecondOrder::Diagonal)?;
        self.forward_jet(seed)?.hessian_diagonal()
    }

    /// The Laplacian over the selected columns of every output, `[batch, out]`.
    fn laplacian(
        &self,
        x: Tensor<2>,
        columns: impl RangeBounds<usize>,
    ) -> Result<Tensor<2>, JetError> {
        let seed = Jet::coordinates(x, columns)?.with_second_order(SecondOrder::Diagonal)?;
        self.forward_jet(seed)?.laplacian()
    }
}
