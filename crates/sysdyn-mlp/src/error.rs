//! What can be wrong with a request to the engine: every variant says how to fix it.

use thiserror::Error;

/// A network, an input, a tape or a cotangent does not fit the request.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MlpError {
    /// A network needs at least one layer.
    #[error("an MLP needs at least one layer; give the affine layers from input to output")]
    NoLayers,
    /// A layer has a zero width.
    #[error("layer {layer} is {fan_in} → {fan_out}; every width must be at least 1")]
    ZeroWidth {
        /// Index of the layer.
        layer: usize,
        /// Its input width.
        fan_in: usize,
        /// Its output width.
        fan_out: usize,
    },
    /// A layer's weight or bias holds the wrong number of values.
    #[error(
        "layer {layer}: the {what} holds {got} values but a {fan_in} → {fan_out} layer needs \
         {expected} (weight row-major [fan_in, fan_out], bias [fan_out])"
    )]
    LayerData {
        /// Index of the layer.
        layer: usize,
        /// `"weight"` or `"bias"`.
        what: &'static str,
        /// Its input width.
        fan_in: usize,
        /// Its output width.
        fan_out: usize,
        /// The number of values needed.
        expected: usize,
        /// The number of values given.
        got: usize,
    },
    /// Consecutive layers do not fit together.
    #[error(
        "layer {layer} takes {got} features but the layer before it gives {expected}; make each \
         layer's input width the previous layer's output width"
    )]
    LayerChain {
        /// Index of the offending layer.
        layer: usize,
        /// The previous layer's output width.
        expected: usize,
        /// The layer's input width.
        got: usize,
    },
    /// A host buffer has the wrong length for the batch and the network.
    #[error(
        "{what} holds {got} values but {expected} are expected ({rows} rows of {width}); give \
         row-major [batch, width] values"
    )]
    Length {
        /// Which buffer (`"input"`, `"cotangent"`, ...).
        what: &'static str,
        /// Number of rows asked for.
        rows: usize,
        /// Width of a row.
        width: usize,
        /// `rows · width`.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A range of differentiated input columns is empty or does not fit the input.
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
    /// The trace of a non-square Jacobian block was asked for.
    #[error(
        "the trace needs as many differentiated columns as outputs (column i matching output \
         i); {columns} columns were given for {outputs} outputs: pass e.g. `..{outputs}` for a \
         field f(z, t) with z of width {outputs}"
    )]
    NotSquare {
        /// Number of differentiated columns.
        columns: usize,
        /// Number of outputs.
        outputs: usize,
    },
    /// A second-derivative pair names a column the input does not have.
    #[error(
        "the second-derivative pair ({i}, {j}) names a column outside the {width} input \
         features; pick columns within 0..{width} (e.g. (0, 0) for the second derivative along \
         column 0)"
    )]
    Pair {
        /// The pair's first column.
        i: usize,
        /// The pair's second column.
        j: usize,
        /// Number of input features.
        width: usize,
    },
    /// A tape was used with a network other than the one that recorded it.
    #[error(
        "the tape was recorded by another network; run the backward pass on the network whose \
         forward pass made the tape"
    )]
    ForeignTape,
    /// A burn tensor has a float type the engine does not run in (or not the one asked for).
    #[error(
        "{context}: the tensor is {got} but {expected} is needed; cast it or pick the matching precision"
    )]
    DType {
        /// What was being converted.
        context: &'static str,
        /// The float type needed.
        expected: String,
        /// The float type found.
        got: String,
    },
}
