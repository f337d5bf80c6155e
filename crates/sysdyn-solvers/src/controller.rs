//! Step-size control: how the next step is chosen from the error of the last ones.

/// A PID step-size controller (Söderlind; the form diffrax uses).
///
/// With error norms `r_n` (at most one for an accepted step) and `k = error_order + 1`, the next
/// step is `h * safety * r_n^(-β1) * r_{n-1}^(-β2) * r_{n-2}^(-β3)` with
/// `β1 = (p + i + d)/k`, `β2 = -(p + 2d)/k`, `β3 = d/k`, clipped to
/// `[factor_min, factor_max]`. The default `p = d = 0, i = 1` is the classical controller of
/// Hairer's DOPRI5 and scipy; `PidController::pi(0.4, 0.3)` is a smoother PI controller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PidController {
    /// Proportional coefficient.
    pub pcoeff: f64,
    /// Integral coefficient.
    pub icoeff: f64,
    /// Derivative coefficient.
    pub dcoeff: f64,
    /// Safety factor below one.
    pub safety: f64,
    /// Smallest factor a step may shrink by.
    pub factor_min: f64,
    /// Largest factor a step may grow by.
    pub factor_max: f64,
}

impl Default for PidController {
    fn default() -> Self {
        PidController {
            pcoeff: 0.0,
            icoeff: 1.0,
            dcoeff: 0.0,
            safety: 0.9,
            factor_min: 0.2,
            factor_max: 10.0,
        }
    }
}

impl PidController {
    /// A PI controller with the given integral and proportional coefficients.
    pub fn pi(icoeff: f64, pcoeff: f64) -> Self {
        PidController {
            pcoeff,
            icoeff,
            ..Default::default()
        }
    }

    /// Checks that the controller can shrink a rejected step and keep an accepted one from
    /// collapsing: finite coefficients, `0 < safety <= 1` and `0 < factor_min < 1 <= factor_max`
    /// (`factor_max` may be infinite). The message names the offending field.
    pub fn validate(&self) -> Result<(), String> {
        for (name, value) in [
            ("pcoeff", self.pcoeff),
            ("icoeff", self.icoeff),
            ("dcoeff", self.dcoeff),
        ] {
            if !value.is_finite() {
                return Err(format!(
                    "the controller's {name} must be finite, got {value}"
                ));
            }
        }
        if !(self.safety > 0.0 && self.safety <= 1.0) {
            return Err(format!(
                "the controller's safety factor must be in (0, 1], got {}",
                self.safety
            ));
        }
        // A rejected step must shrink (factor_min < 1) without reaching zero, and an accepted one
        // must be allowed to keep its size (factor_max >= 1).
        if !(self.factor_min > 0.0 && self.factor_min < 1.0 && self.factor_max >= 1.0) {
            return Err(format!(
                "the controller's step factors need 0 < factor_min < 1 <= factor_max, got \
                 factor_min = {}, factor_max = {}",
                self.factor_min, self.factor_max
            ));
        }
        Ok(())
    }

    /// Factor for the next step after an accepted step with error `norm`, given the two previous
    /// accepted norms. `k` is the error order plus one.
    pub fn accept_factor(&self, k: f64, norm: f64, prev: f64, prev_prev: f64) -> f64 {
        let beta1 = (self.pcoeff + self.icoeff + self.dcoeff) / k;
        let beta2 = -(self.pcoeff + 2.0 * self.dcoeff) / k;
        let beta3 = self.dcoeff / k;
        // A zero error (exact step) would give an infinite factor: clip it. A zero exponent
        // (β2 = β3 = 0 for the default integral controller) skips its `powf`, a libm call even
        // then (4% of a W1 solve over `[f64; 2]`).
        let scaled = |r: f64, beta: f64| {
            if beta == 0.0 {
                1.0
            } else {
                (1.0 / r.max(1e-10)).powf(beta)
            }
        };
        let factor =
            self.safety * scaled(norm, beta1) * scaled(prev, beta2) * scaled(prev_prev, beta3);
        factor.clamp(self.factor_min, self.factor_max)
    }

    /// Factor after a rejected step with error `norm` (> 1, or NaN for an overflowed state).
    pub fn reject_factor(&self, k: f64, norm: f64) -> f64 {
        if norm.is_finite() {
            // Not `clamp(factor_min, 0.9)`: a valid factor_min above 0.9 would make it panic.
            (self.safety * norm.powf(-1.0 / k))
                .min(0.9)
                .max(self.factor_min)
        } else {
            // The state overflowed: back off hard.
            self.factor_min.min(0.25)
        }
    }
}
