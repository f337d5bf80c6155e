//! Explicit Runge–Kutta steps driven by a [`ButcherTableau`].

use sysdyn_core::{State, Tolerance};

use crate::method::{Attempt, OdeMethod};
use crate::tableau::{ButcherTableau, ErrorEstimate};
use crate::term::VectorField;

/// Scratch space of an explicit Runge–Kutta solve.
#[derive(Debug, Clone)]
pub struct RkWorkspace<S> {
    /// Stages of the last attempted step (plus interpolation stages once computed).
    stages: Vec<S>,
    /// `f(t, y)` at the current point, when known.
    f0: Option<S>,
    /// `f(t + h, y1)` at the end of the attempted step, when computed (FSAL or for Hermite
    /// interpolation), reused as the next step's first stage.
    f1: Option<S>,
    /// Whether the interpolant's extra stages of the current step are in `stages`.
    extra_ready: bool,
    /// Interpolation weights, reused.
    weights: Vec<f64>,
    /// Whether the tableau is first-same-as-last, decided once per solve rather than per step.
    fsal: bool,
}

impl ButcherTableau {
    fn stage_input<S: State>(&self, y: &S, h: f64, row: &[f64], stages: &[S]) -> S {
        y.add_stages(h, row, stages)
    }
}

impl<S: State> OdeMethod<S> for ButcherTableau {
    type Workspace = RkWorkspace<S>;

    fn name(&self) -> &'static str {
        self.name
    }

    fn order(&self) -> u32 {
        self.order
    }

    fn error_order(&self) -> Option<u32> {
        match self.error {
            ErrorEstimate::None => None,
            _ => ButcherTableau::error_order(self),
        }
    }

    fn workspace(&self) -> RkWorkspace<S> {
        let extra = self.interpolant.map_or(0, |i| i.extra_c.len());
        RkWorkspace {
            stages: Vec::with_capacity(self.stages() + extra),
            f0: None,
            f1: None,
            extra_ready: false,
            weights: Vec::with_capacity(self.stages() + extra),
            fsal: self.is_fsal(),
        }
    }

    fn seed_derivative(&self, ws: &mut RkWorkspace<S>, f0: S) {
        ws.f0 = Some(f0);
    }

    fn attempt<F: VectorField<S>>(
        &self,
        f: &mut F,
        t: f64,
        y: &S,
        h: f64,
        tol: Option<&Tolerance<S>>,
        ws: &mut RkWorkspace<S>,
        nfe: &mut usize,
    ) -> Attempt<S> {
        let f0 = match &ws.f0 {
            Some(f0) => f0.clone(),
            None => {
                *nfe += 1;
                let f0 = f.eval(t, y);
                ws.f0 = Some(f0.clone());
                f0
            }
        };
        ws.stages.clear();
        ws.stages.push(f0);
        ws.f1 = None;
        ws.extra_ready = false;
        let s = self.stages();
        let fsal = ws.fsal;
        let mut last_input = None;
        for i in 1..s {
            let yi = self.stage_input(y, h, self.a[i], &ws.stages);
            *nfe += 1;
            let k = f.eval(t + self.c[i] * h, &yi);
            ws.stages.push(k);
            if fsal && i == s - 1 {
                last_input = Some(yi);
            }
        }
        let y1 = match last_input {
            // FSAL: the last stage was evaluated at y1 itself.
            Some(y1) => {
                ws.f1 = ws.stages.last().cloned();
                y1
            }
            None => y.add_stages(h, self.b, &ws.stages),
        };
        let error_norm = tol.and_then(|tol| match self.error {
            ErrorEstimate::None => None,
            ErrorEstimate::Embedded(e) => {
                let err = S::stage_sum(h, e, &ws.stages);
                Some(S::weighted_rms_norm(&err, y, &y1, tol))
            }
            ErrorEstimate::Blended { e5, e3 } => {
                let err5 = S::stage_sum(h, e5, &ws.stages);
                let err3 = S::stage_sum(h, e3, &ws.stages);
                let n5 = S::weighted_rms_norm(&err5, y, &y1, tol);
                let n3 = S::weighted_rms_norm(&err3, y, &y1, tol);
                let denominator = n5 * n5 + 0.01 * n3 * n3;
                Some(if denominator > 0.0 {
                    n5 * n5 / denominator.sqrt()
                } else {
                    0.0
                })
            }
        });
        Attempt { y1, error_norm }
    }

    fn interpolate<F: VectorField<S>>(
        &self,
        f: &mut F,
        t: f64,
        y: &S,
        y1: &S,
        h: f64,
        theta: f64,
        ws: &mut RkWorkspace<S>,
        nfe: &mut usize,
    ) -> S {
        match &self.interpolant {
            Some(interp) => {
                if !ws.extra_ready {
                    for (c, row) in interp.extra_c.iter().zip(interp.extra_a) {
                        let yi = self.stage_input(y, h, row, &ws.stages);
                        *nfe += 1;
                        let k = f.eval(t + c * h, &yi);
                        ws.stages.push(k);
                    }
                    ws.extra_ready = true;
                }
                ws.weights.clear();
                ws.weights.extend(interp.weights.iter().map(|poly| {
                    // b_j(θ) = Σ_m w_m θ^(m+1), by Horner.
                    poly.iter().rev().fold(0.0, |acc, w| (acc + w) * theta)
                }));
                y.add_stages(h, &ws.weights, &ws.stages)
            }
            None => {
                // Cubic Hermite interpolation from the end points and their derivatives.
                let f1 = match &ws.f1 {
                    Some(f1) => f1.clone(),
                    None => {
                        *nfe += 1;
                        let f1 = f.eval(t + h, y1);
                        ws.f1 = Some(f1.clone());
                        f1
                    }
                };
                let (t2, t3) = (theta * theta, theta * theta * theta);
                let h00 = 2.0 * t3 - 3.0 * t2 + 1.0;
                let h10 = t3 - 2.0 * t2 + theta;
                let h01 = -2.0 * t3 + 3.0 * t2;
                let h11 = t3 - t2;
                S::linear_combination(&[
                    (h00, y),
                    (h10 * h, &ws.stages[0]),
                    (h01, y1),
                    (h11 * h, &f1),
                ])
            }
        }
    }

    fn accept(&self, ws: &mut RkWorkspace<S>) {
        // The derivative at the new point is known when the method is FSAL or when Hermite
        // interpolation computed it; otherwise the next attempt evaluates it.
        ws.f0 = ws.f1.take();
    }
}
