//! The [`Jet`] type: a batch of values with their forward-mode derivatives, and the rules that
//! carry it through affine layers and elementwise activations.
//!
//! # Layout
//!
//! For a batch of `b` points and a layer of width `w`, a jet holds
//!
//! - the value, `[b, w]`;
//! - the first-order tangents along `k` seeded directions, stacked in one tensor
//!   `[k, b, w]`, so that an affine layer moves all of them with a single matmul
//!   (`[k·b, w] × [w, w']`) instead of `k` small ones;
//! - optionally `m` second-order terms `[m, b, w]`: for a pair `(a, c)` of directions the
//!   mixed derivative `∂²/∂ε_a∂ε_c u(x + ε_a v_a + ε_c v_c) = v_aᵀ H v_c`; with the diagonal
//!   pairs `(i, i)` of coordinate seeds these are the `∂²u/∂x_i²`, whose sum is the Laplacian.
//!
//! Tangents and second-order terms may have batch size 1 where they are still the same for
//! every row (a seed, or a seed moved through affine layers only); the first activation
//! broadcasts them to the full batch. Second-order terms that are still identically zero (the
//! input is a straight line `x + εv`, and affine maps keep that) are not stored at all.
//!
//! # Rules
//!
//! Affine `y = x W + b` (`W` is `[w_in, w_out]`, burn's `Linear` layout):
//! value `x W + b`; tangents `ẋ W`; second-order terms `ẍ W` (no bias on derivatives).
//!
//! Activation `y = σ(z)`: value `σ(z)`; tangents `σ'(z) ż`;
//! second-order terms `σ''(z) ż_a ż_c + σ'(z) z̈_ac`.
//!
//! # Cost in tensor ops per layer
//!
//! Affine: 1 `linear` for the value, 1 matmul for all tangents, 1 matmul for all second-order
//! terms (if carried). The first affine layer after a coordinate seed needs no tangent matmul:
//! its tangents are rows of `W` (1 slice).
//!
//! Activation: the value and σ', σ'' on `[b, w]` (1–7 small ops, see [`Activation`]); then on
//! the `k`-times larger tensors: 1 multiply for the tangents; for diagonal second-order terms
//! 1 square, 1 multiply and, once they are nonzero, 1 multiply and 1 add (listed pairs: 2
//! gathers instead of the square).

use std::ops::{Bound, Range, RangeBounds};

use burn::nn::Linear;
use burn::tensor::module::linear;
use burn::tensor::{Int, Tensor, TensorData};

use super::activation::{Activation, Derivatives};
use super::error::JetError;

/// Which second-order terms a jet carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondOrder {
    /// `v_iᵀ H v_i` for every seeded direction `i`: with coordinate seeds, the Hessian diagonal
    /// `∂²u/∂x_i²` and (summed) the Laplacian.
    Diagonal,
    /// `v_aᵀ H v_c` for each listed pair `(a, c)` of direction indices: mixed second
    /// derivatives, e.g. `(0, 1)` with coordinate seeds gives `∂²u/∂x_0∂x_1`.
    Pairs(Vec<(usize, usize)>),
}

/// A batch of values with forward-mode derivatives along `k` seeded directions.
///
/// Build one from an input with [`Jet::coordinates`] (unit vectors: Jacobian columns) or
/// [`Jet::directions`] (given vectors: Jacobian-vector products), optionally add
/// [`Jet::with_second_order`], move it through layers with [`Jet::linear`] / [`Jet::affine`]
/// and [`Jet::activate`] (or a whole network's [`JetForward::forward_jet`]), and read the
/// derivatives of the result with [`Jet::jacobian`], [`Jet::trace`], [`Jet::laplacian`], ...
///
/// Everything is ordinary burn tensor ops, so on an autodiff device a loss built from the
/// derivatives can be differentiated with respect to the network's parameters.
///
/// [`JetForward::forward_jet`]: super::JetForward::forward_jet
#[derive(Debug, Clone)]
pub struct Jet {
    value: Tensor<2>,
    first: Option<Tangents>,
    second: Option<SecondTerms>,
    /// Whether any layer has been applied since seeding (second-order terms can only be added
    /// to a fresh seed, where they are known to be zero).
    propagated: bool,
}

#[derive(Debug, Clone)]
struct Tangents {
    /// The columns the directions live on; the others have zero tangent. All columns once a
    /// layer has been applied.
    columns: Range<usize>,
    /// `[k, b or 1, columns.len()]`; `None` for the unit vectors `e_c`, `c` in `columns`, which
    /// are never materialised: the first affine layer turns them into rows of its weight.
    stack: Option<Tensor<3>>,
}

#[derive(Debug, Clone)]
struct SecondTerms {
    pairs: PairSelection,
    /// `[m, b or 1, width]`; `None` while identically zero.
    terms: Option<Tensor<3>>,
}

#[derive(Debug, Clone)]
enum PairSelection {
    Diagonal,
    Listed(Box<ListedPairs>),
}

/// Direction indices of listed pairs, as index tensors for gathering tangents.
#[derive(Debug, Clone)]
struct ListedPairs {
    count: usize,
    first: Tensor<1, Int>,
    second: Tensor<1, Int>,
}

/// Resolves a column range against an input of `width` features.
pub(crate) fn resolve_columns(
    columns: impl RangeBounds<usize>,
    width: usize,
) -> Result<Range<usize>, JetError> {
    let start = match columns.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s.saturating_add(1),
        Bound::Unbounded => 0,
    };
    let end = match columns.end_bound() {
        Bound::Included(&e) => e.saturating_add(1),
        Bound::Excluded(&e) => e,
        Bound::Unbounded => width,
    };
    if start >= end || end > width {
        return Err(JetError::Columns { start, end, width });
    }
    Ok(start..end)
}

impl Jet {
    /// A jet without derivatives: the plain value `x` (`[batch, width]`).
    pub fn constant(x: Tensor<2>) -> Jet {
        Jet {
            value: x,
            first: None,
            second: None,
            propagated: false,
        }
    }

    /// Seeds `x` (`[batch, width]`) with the unit directions of the given input columns
    /// (`..` for all): direction `i` is `e_{start+i}`, so the derivatives read out later are
    /// with respect to those columns. Unseeded columns (e.g. the time column of an input
    /// `[z, t]`, seeded `..d`) are held fixed.
    pub fn coordinates(x: Tensor<2>, columns: impl RangeBounds<usize>) -> Result<Jet, JetError> {
        let [_, width] = x.dims();
        let columns = resolve_columns(columns, width)?;
        Ok(Jet {
            value: x,
            first: Some(Tangents {
                columns,
                stack: None,
            }),
            second: None,
            propagated: false,
        })
    }

    /// Seeds `x` (`[batch, width]`) with `k` directions `[k, batch, c]` (or `[k, 1, c]` for the
    /// same directions in every row) that live on the `c` input columns `columns`; the other
    /// columns have zero tangent. Derivatives read out later are directional derivatives
    /// (Jacobian-vector products `J v`).
    pub fn directions(
        x: Tensor<2>,
        directions: Tensor<3>,
        columns: impl RangeBounds<usize>,
    ) -> Result<Jet, JetError> {
        let [batch, width] = x.dims();
        let columns = resolve_columns(columns, width)?;
        let [k, rows, c] = directions.dims();
        if k == 0 || (rows != batch && rows != 1) || c != columns.len() {
            return Err(JetError::Directions {
                got: directions.dims().to_vec(),
                batch,
                columns: columns.len(),
            });
        }
        if directions.dtype() != x.dtype() {
            return Err(JetError::DType {
                context: "Jet::directions",
                expected: format!("{:?}", x.dtype()),
                got: format!("{:?}", directions.dtype()),
            });
        }
        Ok(Jet {
            value: x,
            first: Some(Tangents {
                columns,
                stack: Some(directions),
            }),
            second: None,
            propagated: false,
        })
    }

    /// Asks a fresh seed to also carry second-order terms (see [`SecondOrder`]). The seed is a
    /// straight line `x + Σ ε_i v_i`, so these terms start at zero and cost nothing until the
    /// first activation.
    pub fn with_second_order(mut self, order: SecondOrder) -> Result<Jet, JetError> {
        if self.propagated {
            return Err(JetError::Missing {
                what: "adding second-order terms",
                needs: "a freshly seeded jet",
                fix: "call with_second_order right after Jet::coordinates or Jet::directions, \
                      before any layer",
            });
        }
        let directions = self.num_directions();
        if directions == 0 {
            return Err(missing_tangents("second-order terms"));
        }
        let pairs = match order {
            SecondOrder::Diagonal => PairSelection::Diagonal,
            SecondOrder::Pairs(pairs) => {
                if pairs.is_empty() {
                    return Err(JetError::NoPairs);
                }
                if let Some(&(first, second)) = pairs
                    .iter()
                    .find(|(a, c)| *a >= directions || *c >= directions)
                {
                    return Err(JetError::Pair {
                        first,
                        second,
                        directions,
                    });
                }
                let device = self.value.device();
                let index = |pick: fn(&(usize, usize)) -> usize| {
                    let idx: Vec<i64> = pairs.iter().map(|p| pick(p) as i64).collect();
                    Tensor::<1, Int>::from_data(TensorData::new(idx, [pairs.len()]), &device)
                };
                PairSelection::Listed(Box::new(ListedPairs {
                    count: pairs.len(),
                    first: index(|p| p.0),
                    second: index(|p| p.1),
                }))
            }
        };
        self.second = Some(SecondTerms { pairs, terms: None });
        Ok(self)
    }

    /// The value, `[batch, width]`.
    pub fn value(&self) -> &Tensor<2> {
        &self.value
    }

    /// The value, consuming the jet.
    pub fn into_value(self) -> Tensor<2> {
        self.value
    }

    /// Number of rows.
    pub fn batch(&self) -> usize {
        self.value.dims()[0]
    }

    /// Number of features.
    pub fn width(&self) -> usize {
        self.value.dims()[1]
    }

    /// Number of seeded directions `k` (0 for a constant).
    pub fn num_directions(&self) -> usize {
        match &self.first {
            None => 0,
            Some(Tangents {
                stack: Some(stack), ..
            }) => stack.dims()[0],
            Some(Tangents { columns, .. }) => columns.len(),
        }
    }

    /// Applies a burn-nn [`Linear`] layer (`weight` `[in, out]`, optional bias).
    pub fn linear(self, layer: &Linear) -> Result<Jet, JetError> {
        self.affine(layer.weight.val(), layer.bias.as_ref().map(|b| b.val()))
    }

    /// Applies `y = x W + b` with `W` of shape `[in, out]`; derivatives get `W` only.
    pub fn affine(self, weight: Tensor<2>, bias: Option<Tensor<1>>) -> Result<Jet, JetError> {
        check_layer_input("affine layer", &self.value, &weight)?;
        let [n_in, n_out] = weight.dims();
        let first = self.first.map(|tangents| {
            let tangents = match tangents {
                // The image of e_c is row c of W, the same for every batch row: 1 slice.
                Tangents {
                    columns,
                    stack: None,
                } => {
                    let k = columns.len();
                    weight
                        .clone()
                        .narrow(0, columns.start, k)
                        .reshape([k, 1, n_out])
                }
                // One matmul for all k directions; only the seeded rows of W take part.
                Tangents {
                    columns,
                    stack: Some(tangents),
                } => {
                    let rows = if columns.len() == n_in {
                        weight.clone()
                    } else {
                        weight.clone().narrow(0, columns.start, columns.len())
                    };
                    linear(tangents, rows, None)
                }
            };
            Tangents {
                columns: 0..n_out,
                stack: Some(tangents),
            }
        });
        let second = self.second.map(|s| SecondTerms {
            pairs: s.pairs,
            terms: s.terms.map(|terms| linear(terms, weight.clone(), None)),
        });
        Ok(Jet {
            value: linear(self.value, weight, bias),
            first,
            second,
            propagated: true,
        })
    }

    /// Applies an elementwise activation.
    pub fn activate(self, activation: Activation) -> Jet {
        let wants_second = self.second.is_some() && activation.has_second_derivative();
        let width = self.width();
        let Derivatives {
            value,
            first: d1,
            second: d2,
        } = super::activation::derivatives(activation, self.value, wants_second);
        let Some(tangents) = self.first else {
            return Jet {
                value,
                first: None,
                second: None,
                propagated: true,
            };
        };
        let tangents = materialise(tangents, width, &value);
        // [b, w] -> [1, b, w], broadcast against the [k, b or 1, w] stacks.
        let d1 = d1.map(|d| d.unsqueeze::<3>());
        let second = self.second.map(|s| {
            let curvature = d2.map(|d2| d2.unsqueeze::<3>() * s.pairs.product(&tangents));
            let carried = s.terms.map(|terms| match &d1 {
                Some(d1) => terms * d1.clone(),
                None => terms,
            });
            let terms = match (curvature, carried) {
                (Some(a), Some(b)) => Some(a + b),
                (a, None) => a,
                (None, b) => b,
            };
            SecondTerms {
                pairs: s.pairs,
                terms,
            }
        });
        let tangents = match d1 {
            Some(d1) => tangents * d1,
            None => tangents,
        };
        Jet {
            value,
            first: Some(Tangents {
                columns: 0..width,
                stack: Some(tangents),
            }),
            second,
            propagated: true,
        }
    }

    /// First-order derivatives along each direction, `[k, batch, width]`: entry `[i, r, j]` is
    /// `∂u_j/∂ε u(x_r + ε v_i)`, i.e. `(J v_i)_j` (with coordinate seeds, `∂u_j/∂x_{c_i}`).
    pub fn tangents(&self) -> Result<Tensor<3>, JetError> {
        let tangents = self
            .dense_tangents()
            .ok_or_else(|| missing_tangents("tangents"))?;
        let [k, _, width] = tangents.dims();
        Ok(tangents.expand([k, self.batch(), width]))
    }

    /// The Jacobian (coordinate seeds) or the Jacobian-vector products (direction seeds),
    /// `[batch, width, k]`: entry `[r, j, i]` is `∂u_j/∂x_{c_i}` at row `r`.
    pub fn jacobian(&self) -> Result<Tensor<3>, JetError> {
        Ok(self.tangents()?.permute([1, 2, 0]))
    }

    /// The trace of the Jacobian, `Σ_i ∂u_i/∂x_{c_i}`, `[batch, 1]`: the exact divergence a
    /// continuous normalising flow needs. Direction `i` must correspond to output `i`.
    pub fn trace(&self) -> Result<Tensor<2>, JetError> {
        let tangents = self
            .dense_tangents()
            .ok_or_else(|| missing_tangents("the trace"))?;
        let [k, rows, width] = tangents.dims();
        if k != width {
            return Err(JetError::NotSquare {
                directions: k,
                outputs: width,
            });
        }
        // Keep the diagonal entries [i, ., i] with a one-hot mask: 1 multiply, 1 reduction.
        let mask = one_hot(k, 0, width, &self.value);
        let trace = (tangents * mask).sum_dims(&[0, 2]).reshape([rows, 1]);
        Ok(trace.expand([self.batch(), 1]))
    }

    /// The second-order terms, `[m, batch, width]`, in the order of the pairs asked for
    /// (`m = k` for [`SecondOrder::Diagonal`]).
    pub fn second_order(&self) -> Result<Tensor<3>, JetError> {
        let second = self.second.as_ref().ok_or(JetError::Missing {
            what: "second-order terms",
            needs: "a jet seeded with second order",
            fix: "call with_second_order on the seed",
        })?;
        let m = match &second.pairs {
            PairSelection::Diagonal => self.num_directions(),
            PairSelection::Listed(listed) => listed.count,
        };
        let shape = [m, self.batch(), self.width()];
        Ok(match &second.terms {
            Some(terms) => terms.clone().expand(shape),
            None => Tensor::zeros(shape, (&self.value.device(), self.value.dtype())),
        })
    }

    /// The diagonal second derivatives `∂²u_j/∂x_{c_i}²`, `[batch, width, k]` (with direction
    /// seeds: `v_iᵀ H_j v_i`).
    pub fn hessian_diagonal(&self) -> Result<Tensor<3>, JetError> {
        self.diagonal_terms("the Hessian diagonal")?;
        Ok(self.second_order()?.permute([1, 2, 0]))
    }

    /// The Laplacian over the seeded columns, `Σ_i ∂²u_j/∂x_{c_i}²`, `[batch, width]`
    /// (with direction seeds: `Σ_i v_iᵀ H_j v_i`, e.g. a Hutchinson-type sum).
    pub fn laplacian(&self) -> Result<Tensor<2>, JetError> {
        let terms = self.diagonal_terms("the Laplacian")?;
        let [batch, width] = self.value.dims();
        Ok(match terms {
            Some(terms) => {
                let rows = terms.dims()[1];
                terms
                    .sum_dim(0)
                    .reshape([rows, width])
                    .expand([batch, width])
            }
            None => Tensor::zeros([batch, width], (&self.value.device(), self.value.dtype())),
        })
    }

    /// The diagonal second-order terms, `None` while identically zero; an error if the jet does
    /// not carry diagonal terms.
    pub(crate) fn diagonal_terms(&self, what: &'static str) -> Result<Option<Tensor<3>>, JetError> {
        match &self.second {
            Some(SecondTerms {
                pairs: PairSelection::Diagonal,
                terms,
            }) => Ok(terms.clone()),
            _ => Err(JetError::Missing {
                what,
                needs: "diagonal second-order terms",
                fix: "seed with with_second_order(SecondOrder::Diagonal)",
            }),
        }
    }

    /// Full-width tangents, `[k, b or 1, width]`, if the jet has any.
    pub(crate) fn dense_tangents(&self) -> Option<Tensor<3>> {
        let width = self.width();
        self.first
            .clone()
            .map(|tangents| materialise(tangents, width, &self.value))
    }
}

impl PairSelection {
    /// `ż_a ż_c` for every pair, `[m, b or 1, w]`.
    fn product(&self, tangents: &Tensor<3>) -> Tensor<3> {
        match self {
            PairSelection::Diagonal => tangents.clone().square(),
            PairSelection::Listed(listed) => {
                tangents.clone().select(0, listed.first.clone())
                    * tangents.clone().select(0, listed.second.clone())
            }
        }
    }
}

/// Checks that `x` (`[batch, in]`) fits a layer with `weight` (`[in, out]`): same width and
/// float type (burn would panic on either).
pub(crate) fn check_layer_input(
    context: &'static str,
    x: &Tensor<2>,
    weight: &Tensor<2>,
) -> Result<(), JetError> {
    let expected = weight.dims()[0];
    let got = x.dims()[1];
    if got != expected {
        return Err(JetError::Width {
            context,
            expected,
            got,
        });
    }
    if x.dtype() != weight.dtype() {
        return Err(JetError::DType {
            context,
            expected: format!("{:?}", weight.dtype()),
            got: format!("{:?}", x.dtype()),
        });
    }
    Ok(())
}

fn missing_tangents(what: &'static str) -> JetError {
    JetError::Missing {
        what,
        needs: "first-order tangents",
        fix: "seed the input with Jet::coordinates or Jet::directions instead of Jet::constant",
    }
}

/// Full-width tangents: seeds that live on a column range get zeros elsewhere. Only a seed
/// that meets an activation (or a readout) before any affine layer needs this.
fn materialise(tangents: Tangents, width: usize, like: &Tensor<2>) -> Tensor<3> {
    match tangents {
        Tangents {
            columns,
            stack: None,
        } => one_hot(columns.len(), columns.start, width, like),
        Tangents {
            columns,
            stack: Some(tangents),
        } if columns.len() == width => tangents,
        Tangents {
            columns,
            stack: Some(tangents),
        } => {
            let [k, rows, _] = tangents.dims();
            let device = like.device();
            let options = (&device, like.dtype());
            let mut parts = Vec::with_capacity(3);
            if columns.start > 0 {
                parts.push(Tensor::zeros([k, rows, columns.start], options));
            }
            parts.push(tangents);
            if columns.end < width {
                parts.push(Tensor::zeros([k, rows, width - columns.end], options));
            }
            Tensor::cat(parts, 2)
        }
    }
}

/// `[k, 1, width]` with a one at `[i, 0, offset + i]`, in `like`'s dtype and device.
fn one_hot(k: usize, offset: usize, width: usize, like: &Tensor<2>) -> Tensor<3> {
    let mut values = vec![0.0f64; k * width];
    for i in 0..k {
        values[i * width + offset + i] = 1.0;
    }
    let dtype = like.dtype();
    Tensor::from_data(
        TensorData::new(values, [k, 1, width]).convert_dtype(dtype),
        (&like.device(), dtype),
    )
}
