//! What can be wrong with a jet request: every variant says how to fix the input.

use thiserror::Error;

/// A jet, a seed or a network was given inputs it cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JetError {
    /// A tensor has the wrong number of features for the layer or network it is fed to.
    #[error(
        "{context}: the input has {got} features but {expected} are expected; \
         give a tensor of shape [batch, {expected}]"
    )]
    Width {
        /// Which layer or network rejected the input.
        context: &'static str,
        /// The width the layer or network takes.
        expected: usize,
        /// The width that was given.
        got: usize,
    },
    /// The input and the parameters have different float types.
    #[error(
        "{context}: the input is {got} but the parameters are {expected}; cast the input \
         (`tensor.cast(..)`) or build the network in the same precision"
    )]
    DType {
        /// Which layer rejected the input.
        context: &'static str,
        /// The parameters' dtype.
        expected: String,
        /// The input's dtype.
        got: String,
    },
    /// A seeded column range is empty or does not fit inside the input.
    #[error(
        "columns {start}..{end} do not select a non-empty range inside the {width} input \
         features; pick columns within 0..{width}"
    )]
    Columns {
        /// First column asked for.
        start: usize,
        /// One past the last column asked for.
        end: usize,
        /// Number of input features.
        width: usize,
    },
    /// Seed directions do not have the shape `[k, batch or 1, columns]`.
    #[error(
        "directions have shape {got:?}; expected [k, {batch} (or 1 for the same directions in \
         every row), {columns}] with k >= 1"
    )]
    Directions {
        /// The shape given.
        got: Vec<usize>,
        /// The batch size of the input.
        batch: usize,
        /// The number of seeded columns.
        columns: usize,
    },
    /// A mixed second-order pair names a direction the jet does not carry.
    #[error(
        "second-order pair ({first}, {second}) refers to a direction that does not exist: the \
         jet carries {directions} directions, numbered from 0"
    )]
    Pair {
        /// First direction index of the pair.
        first: usize,
        /// Second direction index of the pair.
        second: usize,
        /// Number of directions the jet carries.
        directions: usize,
    },
    /// A second-order request listed no pairs.
    #[error("second-order pairs are empty; list at least one pair of direction indices")]
    NoPairs,
    /// A derivative was asked of a jet that does not carry what it needs.
    #[error("{what} needs {needs}; {fix}")]
    Missing {
        /// What was asked for (e.g. "the Laplacian").
        what: &'static str,
        /// What the jet lacks.
        needs: &'static str,
        /// How to seed it instead.
        fix: &'static str,
    },
    /// The trace of a Jacobian was asked for a non-square Jacobian.
    #[error(
        "the trace needs as many seeded directions as outputs, direction i matching output i; \
         the jet has {directions} directions and {outputs} outputs: seed exactly the columns \
         the outputs correspond to (e.g. `..d` for a field f(z, t) with z of width d)"
    )]
    NotSquare {
        /// Number of seeded directions.
        directions: usize,
        /// Number of outputs.
        outputs: usize,
    },
    /// The layer widths of a network do not describe a network.
    #[error(
        "network widths {widths:?} are invalid: give at least the input and output widths, \
         every width at least 1"
    )]
    Widths {
        /// The widths given.
        widths: Vec<usize>,
    },
    /// Consecutive layers of a network do not fit together.
    #[error(
        "layer {layer} takes {got} features but the layer before it gives {expected}; \
         make each layer's input width the previous layer's output width"
    )]
    LayerChain {
        /// Index of the offending layer.
        layer: usize,
        /// The previous layer's output width.
        expected: usize,
        /// The layer's input width.
        got: usize,
    },
}
