//! Hidden-layer activations, with the first and second derivatives the backward pass and the
//! jets need.

use crate::float::Float;

/// The elementwise activation σ after every layer but the last (the output is affine).
///
/// sysdyn-core's jets re-export this type (`sysdyn_core::jet::Activation`): one set of
/// activations for the engine, the jets and burn tensors. With the `burn` feature it is a burn
/// [`Config`](::burn::config::Config) and [`Activation::forward`] applies it to a tensor.
/// Serialised by variant name (`"Tanh"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Activation {
    /// σ(z) = z.
    Identity,
    /// σ(z) = tanh z; σ' = 1 - σ², σ'' = -2σσ'.
    Tanh,
    /// σ(z) = 1 / (1 + e^{-z}); σ' = σ(1 - σ), σ'' = σ'(1 - 2σ).
    Sigmoid,
    /// σ(z) = log(1 + e^z); σ' = sigmoid(z), σ'' = sigmoid'(z).
    Softplus,
    /// SiLU σ(z) = z s, s = sigmoid(z); σ' = s + z s(1 - s), σ'' = s(1 - s)(2 + z(1 - 2s)).
    Silu,
    /// σ(z) = sin z; σ' = cos z, σ'' = -sin z.
    Sin,
    /// σ(z) = max(z, 0); σ' = 1 where z > 0, else 0 (0 at the kink); σ'' = 0.
    ///
    /// ReLU networks are piecewise linear: their second derivatives (a Laplacian, the
    /// derivative of a trace) are zero almost everywhere and reported as zero.
    Relu,
}

impl Activation {
    /// Every activation, for tests and sweeps.
    pub const ALL: [Activation; 7] = [
        Activation::Identity,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Softplus,
        Activation::Silu,
        Activation::Sin,
        Activation::Relu,
    ];

    /// Whether σ' is not identically one (false only for the identity): the tapes store σ'
    /// only where it is needed.
    pub fn has_first_derivative(self) -> bool {
        self != Activation::Identity
    }

    /// Whether σ'' is nonzero somewhere (false for the identity and ReLU).
    pub fn has_second_derivative(self) -> bool {
        !matches!(self, Activation::Identity | Activation::Relu)
    }

    /// σ applied in place to `z`; when given, `first` and `second` receive σ'(z) and σ''(z)
    /// (same length as `z`). Derivatives are written from the value where the maths allows,
    /// so a single transcendental function is evaluated per element. Inlined, so that it is
    /// vectorised for the target features of its caller (the engine's AVX-512 copies).
    #[inline(always)]
    pub(crate) fn apply<E: Float>(
        self,
        z: &mut [E],
        first: Option<&mut [E]>,
        second: Option<&mut [E]>,
    ) {
        let one = E::ONE;
        let two = E::ONE + E::ONE;
        match self {
            Activation::Identity => {
                if let Some(d1) = first {
                    d1.fill(one);
                }
                if let Some(d2) = second {
                    d2.fill(E::ZERO);
                }
            }
            Activation::Tanh => {
                E::tanh_in_place(z);
                if let Some(d1) = first {
                    for (d, &y) in d1.iter_mut().zip(z.iter()) {
                        *d = one - y * y;
                    }
                    if let Some(d2) = second {
                        for ((s, &d), &y) in d2.iter_mut().zip(d1.iter()).zip(z.iter()) {
                            *s = E::ZERO - two * y * d;
                        }
                    }
                } else if let Some(d2) = second {
                    for (s, &y) in d2.iter_mut().zip(z.iter()) {
                        *s = E::ZERO - two * y * (one - y * y);
                    }
                }
            }
            Activation::Sigmoid => {
                E::sigmoid_in_place(z);
                derivatives_from(z, first, second, |s| {
                    let d1 = s * (one - s);
                    (d1, d1 * (one - two * s))
                });
            }
            Activation::Silu => {
                // One vectorised sigmoid pass, then the value and derivatives from it.
                let mut sig = z.to_vec();
                E::sigmoid_in_place(&mut sig);
                let mut first = first;
                let mut second = second;
                for (j, (v, &s)) in z.iter_mut().zip(&sig).enumerate() {
                    let x = *v;
                    let ds = s * (one - s);
                    *v = x * s;
                    if let Some(d) = first.as_deref_mut() {
                        d[j] = s + x * ds;
                    }
                    if let Some(d) = second.as_deref_mut() {
                        d[j] = ds * (two + x * (one - two * s));
                    }
                }
            }
            Activation::Softplus => {
                let mut sig = z.to_vec();
                E::sigmoid_in_place(&mut sig);
                for v in z.iter_mut() {
                    *v = softplus(*v);
                }
                match (first, second) {
                    (Some(d1), d2) => {
                        d1.copy_from_slice(&sig);
                        if let Some(d2) = d2 {
                            for (d, &s) in d2.iter_mut().zip(&sig) {
                                *d = s * (one - s);
                            }
                        }
                    }
                    (None, Some(d2)) => {
                        for (d, &s) in d2.iter_mut().zip(&sig) {
                            *d = s * (one - s);
                        }
                    }
                    (None, None) => {}
                }
            }
            Activation::Sin => {
                if let Some(d1) = first {
                    for (d, &x) in d1.iter_mut().zip(z.iter()) {
                        *d = x.cos();
                    }
                }
                for v in z.iter_mut() {
                    *v = v.sin();
                }
                if let Some(d2) = second {
                    for (s, &y) in d2.iter_mut().zip(z.iter()) {
                        *s = E::ZERO - y;
                    }
                }
            }
            Activation::Relu => {
                for v in z.iter_mut() {
                    // `max` would turn NaN into 0; keep it NaN so a blow-up is visible.
                    if *v < E::ZERO {
                        *v = E::ZERO;
                    }
                }
                if let Some(d1) = first {
                    for (d, &y) in d1.iter_mut().zip(z.iter()) {
                        *d = if y > E::ZERO { one } else { E::ZERO };
                    }
                }
                if let Some(d2) = second {
                    d2.fill(E::ZERO);
                }
            }
        }
    }
}

impl Activation {
    /// σ applied in place to `z`, with σ', σ'' and σ''' written to `first`, `second`, `third`
    /// (each as long as `z`): what the backward pass of a second-order jet needs.
    ///
    /// σ''' per activation: tanh `σ'(6σ² − 2)`; sigmoid `σ'(1 − 6σ + 6σ²)`; softplus
    /// `s'(1 − 2s)` with `s` the sigmoid; SiLU `3s'' + z s'''`; sin `−cos z = −σ'`; zero for the
    /// identity and ReLU.
    pub(crate) fn apply_with_third<E: Float>(
        self,
        z: &mut [E],
        first: &mut [E],
        second: &mut [E],
        third: &mut [E],
    ) {
        let one = E::ONE;
        let two = one + one;
        let six = two + two + two;
        // SiLU's third derivative needs the pre-activation.
        let pre = (self == Activation::Silu).then(|| z.to_vec());
        self.apply(z, Some(first), Some(second));
        match self {
            Activation::Identity | Activation::Relu => third.fill(E::ZERO),
            Activation::Tanh => {
                for ((t, &d), &y) in third.iter_mut().zip(first.iter()).zip(z.iter()) {
                    *t = d * (six * y * y - two);
                }
            }
            Activation::Sigmoid => {
                for ((t, &d), &y) in third.iter_mut().zip(first.iter()).zip(z.iter()) {
                    *t = d * (one - six * y + six * y * y);
                }
            }
            Activation::Softplus => {
                // σ' is the sigmoid s: σ''' = s'' = s(1 − s)(1 − 2s).
                for (t, &s) in third.iter_mut().zip(first.iter()) {
                    *t = s * (one - s) * (one - two * s);
                }
            }
            Activation::Silu => {
                let pre = pre.unwrap_or_default();
                let mut sig = pre.clone();
                E::sigmoid_in_place(&mut sig);
                for ((t, &s), &x) in third.iter_mut().zip(&sig).zip(&pre) {
                    let ds = s * (one - s);
                    let d2s = ds * (one - two * s);
                    let d3s = ds * (one - six * s + six * s * s);
                    *t = (two + one) * d2s + x * d3s;
                }
            }
            Activation::Sin => {
                for (t, &d) in third.iter_mut().zip(first.iter()) {
                    *t = E::ZERO - d;
                }
            }
        }
    }
}

/// Writes σ' and σ'' computed from σ's value `y` by `f(y) = (σ', σ'')`.
#[inline(always)]
fn derivatives_from<E: Float>(
    y: &[E],
    first: Option<&mut [E]>,
    second: Option<&mut [E]>,
    f: impl Fn(E) -> (E, E),
) {
    match (first, second) {
        (Some(d1), Some(d2)) => {
            for ((a, b), &v) in d1.iter_mut().zip(d2.iter_mut()).zip(y) {
                (*a, *b) = f(v);
            }
        }
        (Some(d1), None) => {
            for (a, &v) in d1.iter_mut().zip(y) {
                *a = f(v).0;
            }
        }
        (None, Some(d2)) => {
            for (b, &v) in d2.iter_mut().zip(y) {
                *b = f(v).1;
            }
        }
        (None, None) => {}
    }
}

/// `log(1 + e^x) = max(x, 0) + log(1 + e^{-|x|})`, without overflow or cancellation.
#[inline(always)]
fn softplus<E: Float>(x: E) -> E {
    let positive = if x > E::ZERO { x } else { E::ZERO };
    positive + (E::ZERO - x.abs()).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// σ''' against central differences of σ'', and σ, σ', σ'' equal to `apply`'s, in f64,
    /// for every activation.
    #[test]
    fn third_derivative_matches_central_differences() {
        let xs: Vec<f64> = (0..41).map(|i| -4.0 + 0.2 * i as f64 + 0.013).collect();
        let n = xs.len();
        let h = 1e-4;
        for act in Activation::ALL {
            let up_to_second = |shift: f64| {
                let mut z: Vec<f64> = xs.iter().map(|x| x + shift).collect();
                let mut d1 = vec![0.0; n];
                let mut d2 = vec![0.0; n];
                act.apply(&mut z, Some(&mut d1), Some(&mut d2));
                (z, d1, d2)
            };
            let (mut z, mut d1, mut d2, mut d3) =
                (xs.clone(), vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            act.apply_with_third(&mut z, &mut d1, &mut d2, &mut d3);
            assert_eq!((z, d1, d2), up_to_second(0.0), "{act:?}");
            let (plus, minus) = (up_to_second(h).2, up_to_second(-h).2);
            for j in 0..n {
                let fd3 = (plus[j] - minus[j]) / (2.0 * h);
                assert!(
                    (d3[j] - fd3).abs() < 1e-7,
                    "{act:?} σ''' at {}: {} vs {fd3}",
                    xs[j],
                    d3[j]
                );
            }
        }
    }

    /// σ' and σ'' against central differences of σ, in f64, for every activation.
    #[test]
    fn derivatives_match_central_differences() {
        let xs: Vec<f64> = (0..41).map(|i| -4.0 + 0.2 * i as f64 + 0.013).collect();
        let h = 1e-4;
        for act in Activation::ALL {
            let eval = |shift: f64| {
                let mut z: Vec<f64> = xs.iter().map(|x| x + shift).collect();
                act.apply(&mut z, None, None);
                z
            };
            let mut z = xs.clone();
            let mut d1 = vec![0.0; xs.len()];
            let mut d2 = vec![0.0; xs.len()];
            act.apply(&mut z, Some(&mut d1), Some(&mut d2));
            let (plus, minus) = (eval(h), eval(-h));
            for j in 0..xs.len() {
                let fd1 = (plus[j] - minus[j]) / (2.0 * h);
                let fd2 = (plus[j] - 2.0 * z[j] + minus[j]) / (h * h);
                assert!((d1[j] - fd1).abs() < 1e-7, "{act:?} σ' at {}", xs[j]);
                assert!((d2[j] - fd2).abs() < 1e-5, "{act:?} σ'' at {}", xs[j]);
            }
        }
    }
}
