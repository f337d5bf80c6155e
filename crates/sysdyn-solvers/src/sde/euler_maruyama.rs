//! The Euler–Maruyama method: strong order 0.5 (1.0 for additive noise), Itô.

use super::{BrownianIncrement, Calculus, ElementwiseMul, SdeCounters, SdeMethod, SdeTerms};

/// Euler–Maruyama: `y1 = y + f(t, y) h + g(t, y) ΔW`. Converges to the Itô solution.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EulerMaruyama;

impl<S: ElementwiseMul> SdeMethod<S> for EulerMaruyama {
    type Carry = ();

    fn name(&self) -> &'static str {
        "euler_maruyama"
    }

    fn calculus(&self) -> Option<Calculus> {
        Some(Calculus::Ito)
    }

    fn strong_order(&self) -> f64 {
        0.5
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
        counters.drift += 1;
        counters.diffusion += 1;
        let f = terms.drift(t, y);
        let g = terms.diffusion(t, y);
        let noise = increment.dw.apply(&g);
        S::linear_combination(&[(1.0, y), (increment.h, &f), (1.0, &noise)])
    }
}
