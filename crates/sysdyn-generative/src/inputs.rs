//! What every model here takes in: the layout of an image, the samplers that draw training
//! data, and the checks of widths and labels that turn a mismatch into a typed error. Shared by
//! the GANs, the VAEs and the VQ-VAEs, so that none of them depends on another for its inputs.

use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;

/// Draws `rows` real samples, row-major `[rows, features]`.
pub type DataSampler = Box<dyn FnMut(&mut SeededRng, usize) -> Vec<f64> + Send>;

/// Draws `rows` real samples with their classes: row-major `[rows, features]` and `rows` labels.
pub type LabelledSampler = Box<dyn FnMut(&mut SeededRng, usize) -> (Vec<f64>, Vec<usize>) + Send>;

/// The layout of one image, `channels × rows × cols`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageShape {
    /// Channels (1 grey, 3 RGB).
    pub channels: usize,
    /// Height.
    pub rows: usize,
    /// Width.
    pub cols: usize,
}

impl ImageShape {
    /// A `channels × rows × cols` image.
    pub fn new(channels: usize, rows: usize, cols: usize) -> Self {
        ImageShape {
            channels,
            rows,
            cols,
        }
    }

    /// Values per image.
    pub fn features(&self) -> usize {
        self.channels * self.rows * self.cols
    }

    /// Checks a network built on these images: `width` channels (at least 1) and `levels`
    /// exact halvings of the sides, between `min_levels` and 6.
    pub fn check_levels(
        &self,
        what: &'static str,
        width: usize,
        levels: usize,
        min_levels: usize,
    ) -> Result<(), GenerativeError> {
        let invalid = |name, value: usize, requirement| {
            Err(GenerativeError::InvalidParameter {
                name,
                value: value as f64,
                requirement,
            })
        };
        if self.features() == 0 || width == 0 {
            return invalid(
                what,
                0,
                "channels, rows, columns and width must be at least 1",
            );
        }
        if levels < min_levels || levels > 6 {
            return invalid(
                "levels",
                levels,
                "must be between 1 (0 where allowed) and 6",
            );
        }
        let step = 1 << levels;
        if !self.rows.is_multiple_of(step) || !self.cols.is_multiple_of(step) {
            return invalid(
                "levels",
                levels,
                "the image's rows and columns must be divisible by 2^levels (28×28: up to 2)",
            );
        }
        Ok(())
    }
}

pub(crate) fn check_width(
    what: &'static str,
    got: usize,
    expected: usize,
) -> Result<(), GenerativeError> {
    if got == expected {
        Ok(())
    } else {
        Err(GenerativeError::ShapeMismatch {
            what,
            left: vec![got],
            right: vec![expected],
        })
    }
}

pub(crate) fn check_labels(
    classes: usize,
    labels: Option<&[usize]>,
) -> Result<(), GenerativeError> {
    match (classes, labels) {
        (0, Some(_)) => Err(unexpected_labels()),
        (c, None) if c > 0 => Err(missing_labels()),
        _ => Ok(()),
    }
}

pub(crate) fn missing_labels() -> GenerativeError {
    GenerativeError::Unsupported {
        what: "a conditional model without labels: pass one label per row",
    }
}

pub(crate) fn unexpected_labels() -> GenerativeError {
    GenerativeError::Unsupported {
        what: "labels for an unconditional model: build it with classes > 0 to condition it",
    }
}
