//! Learning-rate schedules: a value, evaluated at a step index, saved with the run.

use serde::{Deserialize, Serialize};

/// A learning-rate schedule: the learning rate as a pure function of the step index (the number
/// of steps completed before the one being taken). Being a value (not a stateful object), it is
/// saved in every checkpoint as it is and a resumed run continues exactly.
///
/// ```
/// use sysdyn_train::LrSchedule;
///
/// let warm_cosine = LrSchedule::warm_up(10, LrSchedule::Cosine { lr: 1e-3, min_lr: 0.0, steps: 90 });
/// assert!((warm_cosine.lr(0) - 1e-4).abs() < 1e-18); // 1/10 of the base rate on the first step
/// assert_eq!(warm_cosine.lr(10), 1e-3);    // the cosine starts at its peak
/// assert!(warm_cosine.lr(100) < 1e-18);    // and ends at min_lr
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LrSchedule {
    /// The same rate at every step.
    Constant {
        /// The learning rate.
        lr: f64,
    },
    /// Step decay: `lr · gamma^⌊step / every⌋`.
    Step {
        /// The initial learning rate.
        lr: f64,
        /// The factor applied every `every` steps.
        gamma: f64,
        /// The number of steps between decays (at least 1).
        every: u64,
    },
    /// Cosine annealing from `lr` to `min_lr` over `steps` steps, then `min_lr`:
    /// `min_lr + (lr − min_lr)·(1 + cos(π·min(step, steps)/steps))/2`.
    Cosine {
        /// The rate at step 0.
        lr: f64,
        /// The rate reached at step `steps` and kept afterwards.
        min_lr: f64,
        /// The length of the annealing (at least 1).
        steps: u64,
    },
    /// Exponential (geometric) decay from `lr` to `final_lr` over `steps` steps, then
    /// `final_lr`: `lr · (final_lr/lr)^(min(step, steps)/steps)` (torchdiffeq's spiral demo
    /// decays by a constant factor per step, which is this schedule).
    Exponential {
        /// The rate at step 0 (positive).
        lr: f64,
        /// The rate reached at step `steps` and kept afterwards (positive).
        final_lr: f64,
        /// The length of the decay (at least 1).
        steps: u64,
    },
    /// Linear warm-up: on step `s < steps` the rate is `(s + 1)/steps` times the rate `then`
    /// gives at its step 0; from step `steps` on, `then` is evaluated at `s − steps` (so it
    /// starts where the warm-up ends).
    WarmUp {
        /// The length of the warm-up (at least 1).
        steps: u64,
        /// The schedule that follows.
        then: Box<LrSchedule>,
    },
}

impl LrSchedule {
    /// A constant rate.
    pub fn constant(lr: f64) -> Self {
        LrSchedule::Constant { lr }
    }

    /// `steps` steps of linear warm-up, then `then`.
    pub fn warm_up(steps: u64, then: LrSchedule) -> Self {
        LrSchedule::WarmUp {
            steps,
            then: Box::new(then),
        }
    }

    /// The learning rate of step `step` (0-based: the first step has index 0).
    pub fn lr(&self, step: u64) -> f64 {
        match self {
            LrSchedule::Constant { lr } => *lr,
            LrSchedule::Step { lr, gamma, every } => {
                let k = step / (*every).max(1);
                lr * gamma.powi(k.min(i32::MAX as u64) as i32)
            }
            LrSchedule::Cosine { lr, min_lr, steps } => {
                let steps = (*steps).max(1);
                let t = step.min(steps) as f64 / steps as f64;
                min_lr + (lr - min_lr) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
            LrSchedule::Exponential {
                lr,
                final_lr,
                steps,
            } => {
                let steps = (*steps).max(1);
                let t = step.min(steps) as f64 / steps as f64;
                lr * (final_lr / lr).powf(t)
            }
            LrSchedule::WarmUp { steps, then } => {
                let steps = (*steps).max(1);
                if step < steps {
                    then.lr(0) * (step + 1) as f64 / steps as f64
                } else {
                    then.lr(step - steps)
                }
            }
        }
    }

    /// Checks the parameters: rates finite and non-negative, periods at least 1.
    pub fn validate(&self) -> Result<(), String> {
        let rate = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!("{name} must be finite and non-negative, got {v}"))
            }
        };
        match self {
            LrSchedule::Constant { lr } => rate("lr", *lr),
            LrSchedule::Step { lr, gamma, every } => {
                rate("lr", *lr)?;
                rate("gamma", *gamma)?;
                if *every == 0 {
                    return Err("step schedule: `every` must be at least 1".into());
                }
                Ok(())
            }
            LrSchedule::Cosine { lr, min_lr, steps } => {
                rate("lr", *lr)?;
                rate("min_lr", *min_lr)?;
                if *steps == 0 {
                    return Err("cosine schedule: `steps` must be at least 1".into());
                }
                Ok(())
            }
            LrSchedule::Exponential {
                lr,
                final_lr,
                steps,
            } => {
                for (name, v) in [("lr", *lr), ("final_lr", *final_lr)] {
                    if !(v.is_finite() && v > 0.0) {
                        return Err(format!(
                            "exponential schedule: {name} must be finite and positive, got {v}"
                        ));
                    }
                }
                if *steps == 0 {
                    return Err("exponential schedule: `steps` must be at least 1".into());
                }
                Ok(())
            }
            LrSchedule::WarmUp { steps, then } => {
                if *steps == 0 {
                    return Err("warm-up: `steps` must be at least 1".into());
                }
                then.validate()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_and_step_decay_match_hand_values() {
        assert_eq!(LrSchedule::constant(0.1).lr(12345), 0.1);
        let s = LrSchedule::Step {
            lr: 1.0,
            gamma: 0.5,
            every: 10,
        };
        assert_eq!(s.lr(0), 1.0);
        assert_eq!(s.lr(9), 1.0);
        assert_eq!(s.lr(10), 0.5);
        assert_eq!(s.lr(29), 0.25);
        assert_eq!(s.lr(30), 0.125);
    }

    #[test]
    fn cosine_matches_hand_values() {
        let s = LrSchedule::Cosine {
            lr: 1.0,
            min_lr: 0.1,
            steps: 4,
        };
        // t = 0, 1/4, 1/2, 3/4, 1: 0.1 + 0.45·(1 + cos πt).
        let expected = [
            1.0,
            0.1 + 0.45 * (1.0 + std::f64::consts::FRAC_1_SQRT_2),
            0.55,
            0.1 + 0.45 * (1.0 - std::f64::consts::FRAC_1_SQRT_2),
            0.1,
        ];
        for (step, e) in expected.iter().enumerate() {
            assert!((s.lr(step as u64) - e).abs() < 1e-15, "step {step}");
        }
        assert_eq!(s.lr(100), 0.1);
    }

    #[test]
    fn exponential_decays_geometrically() {
        let s = LrSchedule::Exponential {
            lr: 1.0,
            final_lr: 0.01,
            steps: 4,
        };
        // Each step multiplies by 0.01^(1/4) = 10^(-1/2).
        for step in 0..=4u64 {
            let expected = 10f64.powf(-(step as f64) / 2.0);
            assert!((s.lr(step) - expected).abs() < 1e-15, "step {step}");
        }
        assert_eq!(s.lr(100), s.lr(4));
        assert!(s.validate().is_ok());
        let zero = LrSchedule::Exponential {
            lr: 1.0,
            final_lr: 0.0,
            steps: 4,
        };
        assert!(zero.validate().is_err());
    }

    #[test]
    fn warm_up_ramps_linearly_then_hands_over() {
        let s = LrSchedule::warm_up(
            4,
            LrSchedule::Step {
                lr: 0.8,
                gamma: 0.5,
                every: 2,
            },
        );
        let lrs: Vec<f64> = (0..8).map(|k| s.lr(k)).collect();
        assert_eq!(
            lrs,
            vec![0.2, 0.4, 0.6000000000000001, 0.8, 0.8, 0.8, 0.4, 0.4]
        );
    }

    #[test]
    fn schedules_round_trip_through_json_and_validate() {
        let s = LrSchedule::warm_up(
            3,
            LrSchedule::Cosine {
                lr: 1e-3,
                min_lr: 1e-5,
                steps: 100,
            },
        );
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<LrSchedule>(&json).unwrap(), s);
        assert!(s.validate().is_ok());
        assert!(LrSchedule::constant(f64::NAN).validate().is_err());
        assert!(
            LrSchedule::Step {
                lr: 1.0,
                gamma: 0.5,
                every: 0
            }
            .validate()
            .is_err()
        );
    }
}
