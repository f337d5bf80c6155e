//! The stochastic Heun method (predictor–corrector trapezoid): strong order 1.0 for commutative
//! (diagonal, scalar) noise, Stratonovich.

use super::{BrownianIncrement, Calculus, ElementwiseMul, SdeCounters, SdeMethod, SdeTerms};

/// Stochastic Heun: predictor `ỹ = y + f h + g ΔW`, corrector
/// `y1 = y + (f + f̃) h/2 + (g + g̃) ΔW/2` with `f̃, g̃` at `(t + h, ỹ)`. Converges to the
/// Stratonovich solution.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StochasticHeun;

impl<S: ElementwiseMul> SdeMethod<S> for StochasticHeun {
    type Carry = ();

    fn name(&self) -> &'static str {
        "stochastic_heun"
    }

    fn calculus(&self) -> Option<Calculus> {
        Some(Calculus::Stratonovich)
    }

    fn strong_order(&self) -> f64 {
        1.0
    }

    fn init<T: SdeTerms<S>>(&self, _: &mut T, _: f64, _: &S, _: &mut SdeCounters) {}

    fn step<T: SdeTerms<S>>(
        &self,
        terms: &mut T,
        t: f64,
        y: &S,
        increment: &BrownianIncrement<S>,
        _carry: &mut (),
        counters: &mut SdeCounters,
    ) -> S {
        let h = increment.h;
        counters.drift += 2;
        counters.diffusion += 2;
        let f = terms.drift(t, y);
        let g = terms.diffusion(t, y);
        let noise = increment.dw.apply(&g);
        let predictor = S::linear_combination(&[(1.0, y), (h, &f), (1.0, &noise)]);
        let f_end = terms.drift(t + h, &predictor);
        let g_end = terms.diffusion(t + h, &predictor);
        let noise_end = increment.dw.apply(&g_end);
        S::linear_combination(&[
            (1.0, y),
            (0.5 * h, &f),
            (0.5 * h, &f_end),
            (0.5, &noise),
            (0.5, &noise_end),
        ])
    }
}
