//! [`FieldJet`]: a field `u(x)` at a batch of points with its first derivatives in every input
//! column and the second derivatives of listed column pairs, as burn tensors, so a residual is
//! written once in terms of `u`, `u_x`, `u_xx`, `u_xt` and burn differentiates it with respect to
//! the parameters.
//!
//! A network's jet comes from sysdyn-core's forward-mode [`Jet`]
//! ([`FieldJet::from_network`]); exact solutions and hard-constraint transforms are built from
//! coordinate jets with the arithmetic below (forward mode by hand: product and chain rules),
//!
//! ```text
//! (g h)_i  = g_i h + g h_i                 (g h)_ij = g_ij h + g_i h_j + g_j h_i + g h_ij
//! f(g)_i   = f'(g) g_i                     f(g)_ij  = f''(g) g_i g_j + f'(g) g_ij
//! ```

use burn::tensor::Tensor;
use sysdyn_core::jet::{Jet, JetError, JetForward, SecondOrder};

use crate::PhysicsError;

/// A field's value `[batch, width]`, its derivative along each of the `d` input columns
/// (each `[batch, width]`) and the second derivatives `∂²u/∂x_i∂x_j` of the listed pairs.
#[derive(Debug, Clone)]
pub struct FieldJet {
    value: Tensor<2>,
    first: Vec<Tensor<2>>,
    pairs: Vec<(usize, usize)>,
    second: Vec<Tensor<2>>,
}

fn missing(what: &'static str) -> PhysicsError {
    PhysicsError::Jet(JetError::Missing {
        what,
        needs: "that derivative in the jet of u",
        fix: "list the column pair in the problem's second-order request \
              (PinnProblem::new's `second_order` argument), e.g. (0, 0) for u_xx and (0, 1) \
              for u_xt",
    })
}

impl FieldJet {
    /// The jet of input column `column` of `x` (`[batch, d]`): value `x_c`, first derivatives
    /// the unit vector `e_c`, second derivatives zero.
    pub fn coordinate(
        x: &Tensor<2>,
        column: usize,
        pairs: &[(usize, usize)],
    ) -> Result<FieldJet, PhysicsError> {
        let [batch, d] = x.dims();
        check_pairs(pairs, d)?;
        if column >= d {
            return Err(PhysicsError::SizeMismatch {
                what: "coordinate column (must be below the number of input columns)",
                expected: d,
                got: column,
            });
        }
        let options = (&x.device(), x.dtype());
        let first = (0..d)
            .map(|i| {
                if i == column {
                    Tensor::ones([batch, 1], options)
                } else {
                    Tensor::zeros([batch, 1], options)
                }
            })
            .collect();
        Ok(FieldJet {
            value: x.clone().narrow(1, column, 1),
            first,
            pairs: pairs.to_vec(),
            second: pairs
                .iter()
                .map(|_| Tensor::zeros([batch, 1], options))
                .collect(),
        })
    }

    /// The jet of `net` at `x` (`[batch, d]`, every column differentiated) with the second
    /// derivatives of `pairs`, through sysdyn-core's forward-mode jets (one pass).
    pub fn from_network<N: JetForward + ?Sized>(
        net: &N,
        x: Tensor<2>,
        pairs: &[(usize, usize)],
    ) -> Result<FieldJet, PhysicsError> {
        Self::from_jet(net.forward_jet(seed(x, pairs)?)?, pairs)
    }

    /// Reads a propagated sysdyn-core jet seeded by [`seed`] with the same `pairs`.
    pub fn from_jet(jet: Jet, pairs: &[(usize, usize)]) -> Result<FieldJet, PhysicsError> {
        let [batch, width] = jet.value().dims();
        let tangents = jet.tangents()?;
        let k = tangents.dims()[0];
        let first = (0..k)
            .map(|i| tangents.clone().narrow(0, i, 1).reshape([batch, width]))
            .collect();
        let second = if pairs.is_empty() {
            Vec::new()
        } else {
            let terms = jet.second_order()?;
            (0..pairs.len())
                .map(|n| terms.clone().narrow(0, n, 1).reshape([batch, width]))
                .collect()
        };
        Ok(FieldJet {
            value: jet.into_value(),
            first,
            pairs: pairs.to_vec(),
            second,
        })
    }

    /// A jet from its channels (each `[batch, width]`): `first` one per input column,
    /// `second` one per pair of `pairs`.
    pub(crate) fn from_parts(
        value: Tensor<2>,
        first: Vec<Tensor<2>>,
        pairs: &[(usize, usize)],
        second: Vec<Tensor<2>>,
    ) -> FieldJet {
        FieldJet {
            value,
            first,
            pairs: pairs.to_vec(),
            second,
        }
    }

    /// `u`, `[batch, width]`.
    pub fn value(&self) -> Tensor<2> {
        self.value.clone()
    }

    /// `∂u/∂x_i`.
    pub fn d(&self, i: usize) -> Result<Tensor<2>, PhysicsError> {
        self.first
            .get(i)
            .cloned()
            .ok_or_else(|| missing("a first derivative of u in a column the input does not have"))
    }

    /// `∂²u/∂x_i∂x_j` (either order of the pair); a typed error if the jet does not carry it.
    pub fn d2(&self, i: usize, j: usize) -> Result<Tensor<2>, PhysicsError> {
        self.pairs
            .iter()
            .position(|&p| p == (i, j) || p == (j, i))
            .map(|k| self.second[k].clone())
            .ok_or_else(|| missing("a second derivative of u"))
    }

    /// The number of input columns.
    pub fn inputs(&self) -> usize {
        self.first.len()
    }

    /// The second-order pairs carried.
    pub fn pairs(&self) -> &[(usize, usize)] {
        &self.pairs
    }

    /// Output component `j` as a width-1 jet.
    pub fn component(&self, j: usize) -> Result<FieldJet, PhysicsError> {
        let width = self.value.dims()[1];
        if j >= width {
            return Err(PhysicsError::SizeMismatch {
                what: "output component (must be below the field's width)",
                expected: width,
                got: j,
            });
        }
        let pick = |t: &Tensor<2>| t.clone().narrow(1, j, 1);
        Ok(FieldJet {
            value: pick(&self.value),
            first: self.first.iter().map(pick).collect(),
            pairs: self.pairs.clone(),
            second: self.second.iter().map(pick).collect(),
        })
    }

    fn check_same(&self, other: &FieldJet) -> Result<(), PhysicsError> {
        if self.first.len() != other.first.len() || self.pairs != other.pairs {
            return Err(PhysicsError::SizeMismatch {
                what: "jets combined with different inputs or second-order pairs",
                expected: self.first.len(),
                got: other.first.len(),
            });
        }
        Ok(())
    }

    /// `u + v`.
    pub fn plus(self, other: &FieldJet) -> Result<FieldJet, PhysicsError> {
        self.check_same(other)?;
        Ok(self.zip(other, |a, b| a + b.clone()))
    }

    /// `u − v`.
    pub fn minus(self, other: &FieldJet) -> Result<FieldJet, PhysicsError> {
        self.check_same(other)?;
        Ok(self.zip(other, |a, b| a - b.clone()))
    }

    fn zip(self, other: &FieldJet, f: impl Fn(Tensor<2>, &Tensor<2>) -> Tensor<2>) -> FieldJet {
        FieldJet {
            value: f(self.value, &other.value),
            first: self
                .first
                .into_iter()
                .zip(&other.first)
                .map(|(a, b)| f(a, b))
                .collect(),
            pairs: self.pairs,
            second: self
                .second
                .into_iter()
                .zip(&other.second)
                .map(|(a, b)| f(a, b))
                .collect(),
        }
    }

    /// `u · v` by the product rule.
    pub fn times(self, other: &FieldJet) -> Result<FieldJet, PhysicsError> {
        self.check_same(other)?;
        let second = self
            .pairs
            .iter()
            .zip(self.second.iter().zip(&other.second))
            .map(|(&(i, j), (gij, hij))| {
                gij.clone() * other.value.clone()
                    + self.first[i].clone() * other.first[j].clone()
                    + self.first[j].clone() * other.first[i].clone()
                    + self.value.clone() * hij.clone()
            })
            .collect();
        let first = self
            .first
            .iter()
            .zip(&other.first)
            .map(|(gi, hi)| gi.clone() * other.value.clone() + self.value.clone() * hi.clone())
            .collect();
        Ok(FieldJet {
            value: self.value * other.value.clone(),
            first,
            pairs: self.pairs,
            second,
        })
    }

    /// `c · u`.
    pub fn scale(self, c: f64) -> FieldJet {
        FieldJet {
            value: self.value.mul_scalar(c),
            first: self.first.into_iter().map(|t| t.mul_scalar(c)).collect(),
            pairs: self.pairs,
            second: self.second.into_iter().map(|t| t.mul_scalar(c)).collect(),
        }
    }

    /// `u + a` for a constant row `a` (one entry per output component).
    pub fn offset(mut self, row: &[f64]) -> Result<FieldJet, PhysicsError> {
        let a = self.constant_row(row)?;
        self.value = self.value + a;
        Ok(self)
    }

    /// `u · b` component-wise for a constant row `b`; a width-1 `u` broadcasts to the row's
    /// width (`τ ↦ τ b`).
    pub fn times_row(self, row: &[f64]) -> Result<FieldJet, PhysicsError> {
        let b = self.constant_row(row)?;
        let mul = |t: Tensor<2>| t * b.clone();
        Ok(FieldJet {
            value: mul(self.value),
            first: self.first.into_iter().map(mul).collect(),
            pairs: self.pairs,
            second: self.second.into_iter().map(mul).collect(),
        })
    }

    /// A `[1, width]` tensor of `row` on the jet's device and dtype; the width must be the
    /// field's, or the field must have width 1.
    fn constant_row(&self, row: &[f64]) -> Result<Tensor<2>, PhysicsError> {
        let width = self.value.dims()[1];
        if row.is_empty() || (width != 1 && row.len() != width) {
            return Err(PhysicsError::SizeMismatch {
                what: "constant row (one entry per output component of the field)",
                expected: width,
                got: row.len(),
            });
        }
        let dtype = self.value.dtype();
        let device = self.value.device();
        Ok(Tensor::<2>::from_data(
            burn::tensor::TensorData::new(row.to_vec(), [1, row.len()]).convert_dtype(dtype),
            (&device, dtype),
        ))
    }

    /// `u + c`.
    pub fn add_scalar(mut self, c: f64) -> FieldJet {
        self.value = self.value.add_scalar(c);
        self
    }

    /// `f(u)` by the chain rule, given `f(u)`, `f'(u)` and `f''(u)` as tensors.
    pub fn chain(self, f: Tensor<2>, df: Tensor<2>, d2f: Tensor<2>) -> FieldJet {
        let second = self
            .pairs
            .iter()
            .zip(&self.second)
            .map(|(&(i, j), gij)| {
                d2f.clone() * self.first[i].clone() * self.first[j].clone()
                    + df.clone() * gij.clone()
            })
            .collect();
        FieldJet {
            value: f,
            first: self.first.iter().map(|g| df.clone() * g.clone()).collect(),
            pairs: self.pairs,
            second,
        }
    }

    /// `sin u`.
    pub fn sin(self) -> FieldJet {
        let (s, c) = (self.value.clone().sin(), self.value.clone().cos());
        self.chain(s.clone(), c, s.neg())
    }

    /// `cos u`.
    pub fn cos(self) -> FieldJet {
        let (s, c) = (self.value.clone().sin(), self.value.clone().cos());
        self.chain(c.clone(), s.neg(), c.neg())
    }

    /// `exp u`.
    pub fn exp(self) -> FieldJet {
        let e = self.value.clone().exp();
        self.chain(e.clone(), e.clone(), e)
    }

    /// `tanh u`.
    pub fn tanh(self) -> FieldJet {
        let t = self.value.clone().tanh();
        let d1 = t.clone().square().neg().add_scalar(1.0);
        let d2 = (t.clone() * d1.clone()).mul_scalar(-2.0);
        self.chain(t, d1, d2)
    }

    /// `u²`.
    pub fn square(self) -> FieldJet {
        let v = self.value.clone();
        let two = Tensor::ones_like(&v).mul_scalar(2.0);
        self.chain(v.clone().square(), v.mul_scalar(2.0), two)
    }
}

/// The seed for the jet of `u` at `x` (`[batch, d]`): every column differentiated, and the
/// second-order terms of `pairs` in their order (none when `pairs` is empty). (Carrying all
/// diagonal terms instead of the listed `(0, 0)` measured the same on W5's network.)
pub fn seed(x: Tensor<2>, pairs: &[(usize, usize)]) -> Result<Jet, PhysicsError> {
    check_pairs(pairs, x.dims()[1])?;
    let seed = Jet::coordinates(x, ..)?;
    Ok(if pairs.is_empty() {
        seed
    } else {
        seed.with_second_order(SecondOrder::Pairs(pairs.to_vec()))?
    })
}

/// Every pair must name input columns.
pub(crate) fn check_pairs(pairs: &[(usize, usize)], d: usize) -> Result<(), PhysicsError> {
    match pairs.iter().find(|(i, j)| *i >= d || *j >= d) {
        None => Ok(()),
        Some(&(i, j)) => Err(PhysicsError::SizeMismatch {
            what: "second-order pair column (must be below the number of input columns)",
            expected: d,
            got: i.max(j),
        }),
    }
}
