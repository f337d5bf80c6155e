//! Dead-code restart: a code that no encoder output uses any more receives no gradient from the
//! codebook loss and no EMA update worth the name, so it stays dead and the codebook's capacity
//! shrinks (codebook collapse). Restarting it at an encoder output of the current batch puts
//! it where the data are (Dhariwal et al. 2020, Jukebox; Zeghidour et al. 2021, SoundStream).
//!
//! A code is dead when it went unused for `T` consecutive updates ([`DeadCodeRule::Unused`])
//! or when its EMA count `N_i` fell below a threshold ([`DeadCodeRule::EmaCountBelow`]). Each
//! dead code is set to a row of the batch's `z_e` drawn uniformly (with the step's seeded
//! random stream, so a run is reproducible), its idle counter to 0, and, with an EMA codebook,
//! its averages to those of a fresh code at that value. The idle counters are a parameter
//! without gradient, saved with the checkpoints.

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::vq::codebook::{Codebook, check_shape, host_tensor, host_values, replace_param};
use crate::vq::ema::EmaCodebook;

/// When a code counts as dead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DeadCodeRule {
    /// Unused by every output of `steps` consecutive updates.
    Unused {
        /// `T`, at least 1.
        steps: usize,
    },
    /// EMA count `N_i` below `count` (needs an EMA codebook). A restarted code starts with
    /// `N_i = count`, so it must fall out of use again before the next restart.
    EmaCountBelow {
        /// The threshold, finite and `> 0` (Jukebox: 1).
        count: f64,
    },
}

impl DeadCodeRule {
    /// Checks the rule's threshold.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        match *self {
            DeadCodeRule::Unused { steps: 0 } => Err(GenerativeError::InvalidParameter {
                name: "dead-code restart's unused steps T",
                value: 0.0,
                requirement: "must be at least 1",
            }),
            DeadCodeRule::EmaCountBelow { count } if !(count.is_finite() && count > 0.0) => {
                Err(GenerativeError::InvalidParameter {
                    name: "dead-code restart's EMA count threshold",
                    value: count,
                    requirement: "must be finite and > 0 (e.g. 1)",
                })
            }
            _ => Ok(()),
        }
    }
}

/// The idle counters of a codebook's codes and the rule that declares them dead.
#[derive(Module, Debug)]
pub struct DeadCodeRestart {
    /// Updates since each code was last assigned (`[K]`, not trained).
    pub idle: Param<Tensor<1>>,
    #[module(skip)]
    rule: DeadCodeRule,
}

impl DeadCodeRestart {
    /// Restarts for `codebook` under `rule`, every code counted as just used.
    pub fn new(codebook: &Codebook, rule: DeadCodeRule) -> Result<Self, GenerativeError> {
        rule.validate()?;
        let like = codebook.vectors.val();
        let idle = host_tensor(vec![0.0; codebook.codes()], [codebook.codes()], &like);
        Ok(DeadCodeRestart {
            idle: Param::from_tensor(idle).set_require_grad(false),
            rule,
        })
    }

    /// The rule.
    pub fn rule(&self) -> DeadCodeRule {
        self.rule
    }

    /// Counts the update in which the rows of `z_e` (`[n, D]`) were assigned to `codes`, then
    /// restarts every dead code at a random row of `z_e` drawn from `rng`. Returns the codes
    /// restarted, in increasing order.
    pub fn restart(
        &mut self,
        codebook: &mut Codebook,
        ema: Option<&mut EmaCodebook>,
        z_e: Tensor<2>,
        codes: &[usize],
        rng: &mut SeededRng,
    ) -> Result<Vec<usize>, GenerativeError> {
        let (k, d) = (codebook.codes(), codebook.width());
        let [rows, width] = z_e.dims();
        check_shape("encoder outputs and their codes", &[rows], &[codes.len()])?;
        check_shape("encoder output width and code width D", &[width], &[d])?;
        if rows == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "encoder outputs for a dead-code restart",
            });
        }
        let mut idle = host_values(self.idle.val(), "idle counters")?;
        check_shape("idle counters and codes", &[idle.len()], &[k])?;
        let mut used = vec![false; k];
        for &code in codes {
            if code >= k {
                return Err(GenerativeError::InvalidParameter {
                    name: "code index",
                    value: code as f64,
                    requirement: "must be below the number of codes K",
                });
            }
            used[code] = true;
        }
        for (counter, &used) in idle.iter_mut().zip(&used) {
            *counter = if used { 0.0 } else { *counter + 1.0 };
        }
        let dead: Vec<usize> = match self.rule {
            DeadCodeRule::Unused { steps } => (0..k).filter(|&i| idle[i] >= steps as f64).collect(),
            DeadCodeRule::EmaCountBelow { count } => {
                let ema = ema.as_ref().ok_or(GenerativeError::Unsupported {
                    what: "a restart on EMA counts without an EMA codebook: use \
                           DeadCodeRule::Unused, or give the quantiser an EmaConfig",
                })?;
                let counts = host_values(ema.counts.val(), "EMA counts")?;
                check_shape("EMA counts and codes", &[counts.len()], &[k])?;
                (0..k).filter(|&i| counts[i] < count).collect()
            }
        };
        if !dead.is_empty() {
            let batch = host_values(z_e, "encoder outputs")?;
            let mut vectors = host_values(codebook.vectors.val(), "code vectors")?;
            let mut values = Vec::with_capacity(dead.len());
            for &code in &dead {
                let row = rng.below(rows as u64) as usize;
                let value = batch[row * d..(row + 1) * d].to_vec();
                vectors[code * d..(code + 1) * d].copy_from_slice(&value);
                idle[code] = 0.0;
                values.push(value);
            }
            let like = codebook.vectors.val();
            codebook.set_vectors(host_tensor(vectors, [k, d], &like))?;
            if let Some(ema) = ema {
                let count = match self.rule {
                    DeadCodeRule::EmaCountBelow { count } => count,
                    DeadCodeRule::Unused { .. } => 1.0,
                };
                ema.reset_codes(&dead, &values, count)?;
            }
        }
        let like = self.idle.val();
        self.idle = replace_param(&self.idle, host_tensor(idle, [k], &like));
        Ok(dead)
    }
}
