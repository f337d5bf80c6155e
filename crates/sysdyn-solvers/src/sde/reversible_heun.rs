//! The reversible Heun method (Kidger, Foster, Li & Lyons, 2021): Stratonovich, one drift and one
//! diffusion evaluation per step, and algebraically reversible — the state at the start of a step
//! is recovered exactly (up to rounding) from the state at its end, so a backward pass can
//! reconstruct the forward trajectory instead of storing it.

use super::{BrownianIncrement, Calculus, ElementwiseMul, SdeCounters, SdeMethod, SdeTerms};

/// Reversible Heun. With the auxiliary state `ẑ` and the carried `μ = f(t, ẑ)`, `σ = g(t, ẑ)`:
///
/// `ẑ1 = 2y - ẑ + μ h + σ ΔW`, `μ1 = f(t + h, ẑ1)`, `σ1 = g(t + h, ẑ1)`,
/// `y1 = y + (μ + μ1) h/2 + (σ + σ1) ΔW/2`,
///
/// started from `ẑ0 = y0`. [`ReversibleHeun::step_back`] inverts a step. Strong order 0.5 in
/// general, 1.0 for additive noise (Kidger et al.); on geometric Brownian motion (commutative
/// diagonal noise) the tests measure 1.0 as well.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReversibleHeun;

/// The auxiliary state reversible Heun carries between steps.
#[derive(Debug, Clone, PartialEq)]
pub struct ReversibleHeunCarry<S> {
    /// The auxiliary state `ẑ`.
    pub z: S,
    /// `f(t, ẑ)`.
    pub drift: S,
    /// `g(t, ẑ)`.
    pub diffusion: S,
}

impl<S: ElementwiseMul> SdeMethod<S> for ReversibleHeun {
    type Carry = ReversibleHeunCarry<S>;

    fn name(&self) -> &'static str {
        "reversible_heun"
    }

    fn calculus(&self) -> Option<Calculus> {
        Some(Calculus::Stratonovich)
    }

    fn strong_order(&self) -> f64 {
        0.5
    }

    fn init<T: SdeTerms<S>>(
        &self,
        terms: &mut T,
        t0: f64,
        y0: &S,
        counters: &mut SdeCounters,
    ) -> ReversibleHeunCarry<S> {
        counters.drift += 1;
        counters.diffusion += 1;
        ReversibleHeunCarry {
            z: y0.clone(),
            drift: terms.drift(t0, y0),
            diffusion: terms.diffusion(t0, y0),
        }
    }

    fn step<T: SdeTerms<S>>(
        &self,
        terms: &mut T,
        t: f64,
        y: &S,
        increment: &BrownianIncrement<S>,
        carry: &mut ReversibleHeunCarry<S>,
        counters: &mut SdeCounters,
    ) -> S {
        let h = increment.h;
        let noise = increment.dw.apply(&carry.diffusion);
        let z1 =
            S::linear_combination(&[(2.0, y), (-1.0, &carry.z), (h, &carry.drift), (1.0, &noise)]);
        counters.drift += 1;
        counters.diffusion += 1;
        let drift1 = terms.drift(t + h, &z1);
        let diffusion1 = terms.diffusion(t + h, &z1);
        let noise1 = increment.dw.apply(&diffusion1);
        let y1 = S::linear_combination(&[
            (1.0, y),
            (0.5 * h, &carry.drift),
            (0.5 * h, &drift1),
            (0.5, &noise),
            (0.5, &noise1),
        ]);
        *carry = ReversibleHeunCarry {
            z: z1,
            drift: drift1,
            diffusion: diffusion1,
        };
        y1
    }
}

impl ReversibleHeun {
    /// Inverts a step: from `y1` and `carry` at `t1 = t0 + h`, with the same `increment`, returns
    /// the state and carry at `t0`. One drift and one diffusion evaluation, no stored trajectory.
    pub fn step_back<S: ElementwiseMul, T: SdeTerms<S>>(
        &self,
        terms: &mut T,
        t1: f64,
        y1: &S,
        increment: &BrownianIncrement<S>,
        carry: &ReversibleHeunCarry<S>,
        counters: &mut SdeCounters,
    ) -> (S, ReversibleHeunCarry<S>) {
        let h = increment.h;
        let noise1 = increment.dw.apply(&carry.diffusion);
        let z0 = S::linear_combination(&[
            (2.0, y1),
            (-1.0, &carry.z),
            (-h, &carry.drift),
            (-1.0, &noise1),
        ]);
        counters.drift += 1;
        counters.diffusion += 1;
        let t0 = t1 - h;
        let drift0 = terms.drift(t0, &z0);
        let diffusion0 = terms.diffusion(t0, &z0);
        let noise0 = increment.dw.apply(&diffusion0);
        let y0 = S::linear_combination(&[
            (1.0, y1),
            (-0.5 * h, &drift0),
            (-0.5 * h, &carry.drift),
            (-0.5, &noise0),
            (-0.5, &noise1),
        ]);
        (
            y0,
            ReversibleHeunCarry {
                z: z0,
                drift: drift0,
                diffusion: diffusion0,
            },
        )
    }
}
