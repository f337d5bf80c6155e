//! Fixed permutations of the feature axis (axis 1: the features of a vector, the channels of
//! an image): `zᵢ = x_{π(i)}`, inverse `x_{π(i)} = zᵢ`. A permutation only reorders
//! coordinates, so `|det J| = 1` and the log-determinant is 0 in both directions. Between
//! coupling layers it lets every coordinate be transformed (NICE, RealNVP); the reverse order
//! is the classic choice, a seeded random order the other.

use burn::module::Module;
use burn::tensor::Tensor;
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::flow::checks::{check_input, no_context, zero_log_det};
use crate::flow::{Flow, Transformed};

/// A fixed permutation `π` of axis 1.
#[derive(Module, Debug)]
pub struct Permutation {
    /// `order[i] = π(i)`: output `i` is input `order[i]`.
    #[module(skip)]
    order: Vec<usize>,
    /// `π⁻¹`.
    #[module(skip)]
    inverse_order: Vec<usize>,
}

impl Permutation {
    /// The permutation with `order[i] = π(i)`; `order` must hold each of `0 … n−1` once.
    pub fn new(order: Vec<usize>) -> Result<Self, GenerativeError> {
        let n = order.len();
        if n == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "permutation width",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        let mut inverse_order = vec![usize::MAX; n];
        for (i, &p) in order.iter().enumerate() {
            if p >= n || inverse_order[p] != usize::MAX {
                return Err(GenerativeError::InvalidParameter {
                    name: "permutation entry",
                    value: p as f64,
                    requirement: "the order must hold each index 0 … n−1 exactly once",
                });
            }
            inverse_order[p] = i;
        }
        Ok(Permutation {
            order,
            inverse_order,
        })
    }

    /// The reversal `π(i) = n − 1 − i`.
    pub fn reverse(n: usize) -> Result<Self, GenerativeError> {
        Self::new((0..n).rev().collect())
    }

    /// A uniformly random permutation drawn from `seed` (fixed afterwards, not trained).
    pub fn random(n: usize, seed: u64) -> Result<Self, GenerativeError> {
        let mut order: Vec<usize> = (0..n).collect();
        SeededRng::new(seed).shuffle(&mut order);
        Self::new(order)
    }

    /// `π(i)` for each `i`.
    pub fn order(&self) -> &[usize] {
        &self.order
    }
}

/// `out[:, i] = x[:, order[i]]` along axis 1, for a tensor of any rank.
fn gather<const D: usize>(x: Tensor<D>, order: &[usize]) -> Tensor<D> {
    Tensor::cat(
        order.iter().map(|&i| x.clone().narrow(1, i, 1)).collect(),
        1,
    )
}

impl<const D: usize> Flow<D> for Permutation {
    fn forward(
        &self,
        x: Tensor<D>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<D>, GenerativeError> {
        no_context(
            context,
            "a context for a permutation (it has no parameters to condition)",
        )?;
        check_input("permutation input", &x, self.order.len())?;
        let log_det = zero_log_det(&x);
        Ok(Transformed {
            value: gather(x, &self.order),
            log_det,
        })
    }

    fn inverse(
        &self,
        z: Tensor<D>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<D>, GenerativeError> {
        no_context(
            context,
            "a context for a permutation (it has no parameters to condition)",
        )?;
        check_input("permutation input", &z, self.order.len())?;
        let log_det = zero_log_det(&z);
        Ok(Transformed {
            value: gather(z, &self.inverse_order),
            log_det,
        })
    }
}
