//! The vector-quantisation layer of a VQ-VAE: a [`Codebook`] with its commitment weight, and
//! the optional EMA update ([`EmaCodebook`]) and dead-code restart ([`DeadCodeRestart`]) that
//! change the codes after each optimizer step.
//!
//! Without EMA the codes are trained by the codebook loss like every other parameter. With EMA
//! the codebook parameter is not trained (no gradient, so the optimizer leaves it alone) and
//! [`VectorQuantiser::update_codes`] moves it by the moving averages.

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::vq::codebook::{
    Codebook, DEFAULT_COMMITMENT, Quantised, check_codebook_size, check_commitment,
    flatten_positions, unflatten_positions,
};
use crate::vq::ema::{EmaCodebook, EmaConfig};
use crate::vq::restart::{DeadCodeRestart, DeadCodeRule};

/// The quantiser's settings; [`QuantiserConfig::validate`] refuses impossible ones.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantiserConfig {
    /// The number of codes `K`.
    pub codes: usize,
    /// The code width `D` (the encoder's output channels).
    pub width: usize,
    /// The commitment weight `β ≥ 0`.
    pub commitment: f64,
    /// Codes moved by moving averages instead of the codebook loss.
    pub ema: Option<EmaConfig>,
    /// Dead codes restarted at encoder outputs.
    pub restart: Option<DeadCodeRule>,
}

impl QuantiserConfig {
    /// `K` codes of width `D`, `β = 0.25`, trained by the codebook loss, no restarts.
    pub fn new(codes: usize, width: usize) -> Self {
        QuantiserConfig {
            codes,
            width,
            commitment: DEFAULT_COMMITMENT,
            ema: None,
            restart: None,
        }
    }

    /// With commitment weight `β`.
    pub fn with_commitment(mut self, beta: f64) -> Self {
        self.commitment = beta;
        self
    }

    /// With EMA codebook updates.
    pub fn with_ema(mut self, ema: EmaConfig) -> Self {
        self.ema = Some(ema);
        self
    }

    /// With dead-code restarts under `rule`.
    pub fn with_restart(mut self, rule: DeadCodeRule) -> Self {
        self.restart = Some(rule);
        self
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        check_codebook_size(self.codes, self.width)?;
        check_commitment(self.commitment)?;
        if let Some(ema) = &self.ema {
            ema.validate()?;
        }
        if let Some(rule) = &self.restart {
            rule.validate()?;
            if matches!(rule, DeadCodeRule::EmaCountBelow { .. }) && self.ema.is_none() {
                return Err(GenerativeError::Unsupported {
                    what: "a restart on EMA counts without an EMA codebook: use \
                           DeadCodeRule::Unused, or add an EmaConfig",
                });
            }
        }
        Ok(())
    }

    /// The quantiser, its codes drawn by `rng` in `device`'s default float type.
    pub fn init(
        &self,
        device: &Device,
        rng: &mut SeededRng,
    ) -> Result<VectorQuantiser, GenerativeError> {
        self.validate()?;
        let mut codebook = Codebook::new(self.codes, self.width, device, rng)?;
        let ema = match self.ema {
            Some(config) => {
                codebook.vectors = codebook.vectors.set_require_grad(false);
                Some(EmaCodebook::new(&codebook, config)?)
            }
            None => None,
        };
        let restart = self
            .restart
            .map(|rule| DeadCodeRestart::new(&codebook, rule))
            .transpose()?;
        Ok(VectorQuantiser {
            codebook,
            ema,
            restart,
            config: self.clone(),
        })
    }
}

/// A codebook with its update rules.
#[derive(Module, Debug)]
pub struct VectorQuantiser {
    /// The codes.
    pub codebook: Codebook,
    /// The moving averages, with EMA updates.
    pub ema: Option<EmaCodebook>,
    /// The idle counters, with restarts.
    pub restart: Option<DeadCodeRestart>,
    #[module(skip)]
    config: QuantiserConfig,
}

impl VectorQuantiser {
    /// The settings.
    pub fn config(&self) -> &QuantiserConfig {
        &self.config
    }

    /// Quantises the rows of `z_e` (`[n, D]`).
    pub fn quantise(&self, z_e: Tensor<2>) -> Result<Quantised, GenerativeError> {
        self.codebook.quantise(z_e, self.config.commitment)
    }

    /// Quantises every position of a map `[batch, D, h, w]`: returns the straight-through map
    /// of the same shape and the quantisation of its positions (batch, then raster order).
    pub fn quantise_map(&self, z_e: Tensor<4>) -> Result<(Tensor<4>, Quantised), GenerativeError> {
        let [batch, _, rows, cols] = z_e.dims();
        let quantised = self.quantise(flatten_positions(z_e))?;
        let map = unflatten_positions(quantised.quantised.clone(), batch, rows, cols)?;
        Ok((map, quantised))
    }

    /// The loss the quantiser adds to the reconstruction error: the codebook loss (unless
    /// the codes move by EMA) plus the commitment loss.
    pub fn loss(&self, quantised: &Quantised) -> Tensor<1> {
        if self.ema.is_some() {
            quantised.commitment_loss.clone()
        } else {
            quantised.codebook_loss.clone() + quantised.commitment_loss.clone()
        }
    }

    /// After an optimizer step: the EMA update (if any), then the dead-code restart (if any)
    /// with the batch's encoder outputs `z_e` (`[n, D]`) and their codes. Returns the number
    /// of codes restarted.
    pub fn update_codes(
        &mut self,
        z_e: Tensor<2>,
        codes: &[usize],
        rng: &mut SeededRng,
    ) -> Result<usize, GenerativeError> {
        let z_e = z_e.detach();
        if let Some(ema) = &mut self.ema {
            ema.update(&mut self.codebook, z_e.clone(), codes)?;
        }
        match &mut self.restart {
            Some(restart) => Ok(restart
                .restart(&mut self.codebook, self.ema.as_mut(), z_e, codes, rng)?
                .len()),
            None => Ok(0),
        }
    }
}
