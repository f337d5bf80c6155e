//! Rooted trees and the Runge–Kutta order conditions (Butcher's theory).
//!
//! A method has order p when `Σ_i b_i Φ_i(τ) = 1/γ(τ)` for every rooted tree τ with at most p
//! nodes, where Φ is the elementary weight and γ the density of the tree.

use std::fmt;

use crate::tableau::ButcherTableau;

/// A rooted tree, as the (sorted) list of subtrees hanging from its root.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RootedTree {
    children: Vec<RootedTree>,
}

impl RootedTree {
    /// Number of nodes.
    pub fn order(&self) -> usize {
        1 + self.children.iter().map(RootedTree::order).sum::<usize>()
    }

    /// Density γ(τ) = |τ| · Π γ(children).
    pub fn density(&self) -> u64 {
        self.order() as u64
            * self
                .children
                .iter()
                .map(RootedTree::density)
                .product::<u64>()
    }

    /// Elementary weights Φ_i(τ) for every stage i: the product over children of
    /// `Σ_j a_ij Φ_j(child)`.
    pub fn elementary_weights(&self, tableau: &ButcherTableau) -> Vec<f64> {
        let s = tableau.stages();
        let mut phi = vec![1.0; s];
        for child in &self.children {
            let child_phi = child.elementary_weights(tableau);
            for (i, p) in phi.iter_mut().enumerate() {
                let sum: f64 = (0..i).map(|j| tableau.a_ij(i, j) * child_phi[j]).sum();
                *p *= sum;
            }
        }
        phi
    }
}

impl fmt::Display for RootedTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.children.is_empty() {
            return f.write_str("•");
        }
        f.write_str("[")?;
        for child in &self.children {
            write!(f, "{child}")?;
        }
        f.write_str("]")
    }
}

/// Every rooted tree with 1 to `max_order` nodes (1, 1, 2, 4, 9, 20, 48, 115, 286 of each order).
pub fn rooted_trees(max_order: usize) -> Vec<RootedTree> {
    let mut by_order: Vec<Vec<RootedTree>> = vec![Vec::new(); max_order + 1];
    for n in 1..=max_order {
        // A tree of n nodes is a root plus a multiset of trees whose orders sum to n - 1.
        let mut forests = Vec::new();
        forests_of(n - 1, usize::MAX, &by_order, &mut Vec::new(), &mut forests);
        by_order[n] = forests
            .into_iter()
            .map(|children| RootedTree { children })
            .collect();
    }
    by_order.into_iter().flatten().collect()
}

/// Enumerates multisets of trees with total order `remaining`, in non-increasing canonical
/// order (by position in `by_order`) so that each multiset appears once.
fn forests_of(
    remaining: usize,
    max_key: usize,
    by_order: &[Vec<RootedTree>],
    current: &mut Vec<RootedTree>,
    out: &mut Vec<Vec<RootedTree>>,
) {
    if remaining == 0 {
        out.push(current.clone());
        return;
    }
    // Keys number trees by (order, index) so that a forest is generated in non-increasing key
    // order exactly once.
    for order in (1..=remaining).rev() {
        for (index, tree) in by_order[order].iter().enumerate() {
            let key = order * 10_000 + index;
            if key > max_key {
                continue;
            }
            current.push(tree.clone());
            forests_of(remaining - order, key, by_order, current, out);
            current.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_oeis_a000081() {
        let trees = rooted_trees(8);
        let mut counts = [0usize; 9];
        for t in &trees {
            counts[t.order()] += 1;
        }
        assert_eq!(&counts[1..], &[1, 1, 2, 4, 9, 20, 48, 115]);
    }

    #[test]
    fn densities_of_small_trees() {
        let trees = rooted_trees(3);
        let mut d: Vec<u64> = trees.iter().map(RootedTree::density).collect();
        d.sort();
        // •, [•], [••], [[•]]
        assert_eq!(d, vec![1, 2, 3, 6]);
    }
}
