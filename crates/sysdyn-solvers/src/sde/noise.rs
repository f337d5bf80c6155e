//! How the diffusion multiplies the Brownian increment: the noise structure, the calculus, and the
//! increments themselves.

use sysdyn_core::State;

/// Which stochastic integral the equation means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Calculus {
    /// Itô: the diffusion is evaluated at the start of each increment (finance, biology).
    Ito,
    /// Stratonovich: the midpoint rule; the ordinary chain rule holds (physics, neural SDEs).
    Stratonovich,
}

/// How the diffusion `g(t, y)` (shaped like `y`) multiplies the Brownian increment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Noise {
    /// One independent Brownian motion per component: `dy_i = … + g_i dW_i`. For Milstein's
    /// correction `g_i` must depend on `y_i` only (and `t`), the usual meaning of diagonal noise.
    Diagonal,
    /// One Brownian motion for all components: `dy = … + g dW` with scalar `dW`.
    Scalar,
}

impl Noise {
    /// Components of the Brownian motion needed for a state of `n` components.
    pub fn brownian_dim(self, n: usize) -> usize {
        match self {
            Noise::Diagonal => n,
            Noise::Scalar => 1,
        }
    }
}

/// States that multiply component by component (`g ⊙ ΔW` for diagonal noise).
pub trait ElementwiseMul: State {
    /// `self ⊙ other`.
    fn elementwise_mul(&self, other: &Self) -> Self;
}

impl ElementwiseMul for f64 {
    #[inline]
    fn elementwise_mul(&self, other: &Self) -> Self {
        self * other
    }
}

impl<const N: usize> ElementwiseMul for [f64; N] {
    #[inline]
    fn elementwise_mul(&self, other: &Self) -> Self {
        std::array::from_fn(|i| self[i] * other[i])
    }
}

impl ElementwiseMul for Vec<f64> {
    fn elementwise_mul(&self, other: &Self) -> Self {
        self.iter().zip(other).map(|(a, b)| a * b).collect()
    }
}

#[cfg(feature = "burn")]
impl<const D: usize> ElementwiseMul for sysdyn_core::burn::tensor::Tensor<D> {
    fn elementwise_mul(&self, other: &Self) -> Self {
        self.clone() * other.clone()
    }
}

/// A Brownian quantity over one step, shaped as the noise needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Increment<S> {
    /// One value per component, as a state on the state's device.
    Diagonal(S),
    /// One value for all components.
    Scalar(f64),
}

impl<S: ElementwiseMul> Increment<S> {
    /// `g · ΔW`: the diffusion applied to the increment.
    pub fn apply(&self, g: &S) -> S {
        match self {
            Increment::Diagonal(dw) => g.elementwise_mul(dw),
            Increment::Scalar(dw) => S::linear_combination(&[(*dw, g)]),
        }
    }
}

/// The Brownian increment of one step: `ΔW = W(t + h) - W(t)`, on the host and on the state's
/// device, with the iterated integrals Milstein's method needs.
#[derive(Debug, Clone)]
pub struct BrownianIncrement<S> {
    /// The step size.
    pub h: f64,
    /// `ΔW` shaped for the noise.
    pub dw: Increment<S>,
    host: Vec<f64>,
    noise: Noise,
}

impl<S: ElementwiseMul> BrownianIncrement<S> {
    /// Wraps host increments `dw` (one per Brownian component) for states like `like`.
    pub fn new(h: f64, dw: Vec<f64>, noise: Noise, like: &S) -> Self {
        let shaped = match noise {
            Noise::Diagonal => Increment::Diagonal(like.with_components(&dw)),
            Noise::Scalar => Increment::Scalar(dw[0]),
        };
        BrownianIncrement {
            h,
            dw: shaped,
            host: dw,
            noise,
        }
    }

    /// `ΔW` on the host.
    pub fn host(&self) -> &[f64] {
        &self.host
    }

    /// The iterated integrals `∫∫ dW_i dW_i` over the step, per component: `(ΔW² - h)/2` in Itô's
    /// calculus, `ΔW²/2` in Stratonovich's. For diagonal and scalar noise these are all Milstein's
    /// method needs; no Lévy areas (the cross terms `∫∫ dW_i dW_j`) appear.
    pub fn iterated_integral(&self, calculus: Calculus, like: &S) -> Increment<S> {
        let shift = match calculus {
            Calculus::Ito => self.h,
            Calculus::Stratonovich => 0.0,
        };
        let values: Vec<f64> = self.host.iter().map(|w| 0.5 * (w * w - shift)).collect();
        match self.noise {
            Noise::Diagonal => Increment::Diagonal(like.with_components(&values)),
            Noise::Scalar => Increment::Scalar(values[0]),
        }
    }
}
