//! Brownian motion that can be queried at any time, reproducibly from a seed.
//!
//! An SDE solve reads its noise as increments `W(t) - W(s)`. Reproducing them exactly matters: an
//! adaptive solver that rejects a step, a backward pass that re-traverses the path, and the same
//! run on another backend must all see the same path. [`VirtualBrownianTree`] makes `W(t)` a pure
//! function of the seed and `t`, so queries in any order give identical values, without storing
//! the path.
//!
//! # Construction
//!
//! `W(t0) = 0` and `W(t1) = √(t1 - t0) Z_0`. The interval is bisected recursively: the value at
//! the midpoint `m` of a node `[a, b]` is drawn from the Brownian bridge given `W(a)` and `W(b)`,
//!
//! `W(m) = W(a) + (m - a)/(b - a) (W(b) - W(a)) + √((m - a)(b - m)/(b - a)) Z_k`,
//!
//! with `Z_k` the standard normal of [`CounterRng`] at counter `k`, the node's heap index (root 1,
//! children `2k` and `2k + 1`). A query descends the tree to the cell of width
//! `(t1 - t0) / 2^depth` containing `t` and bridges once more inside that cell, with a normal
//! keyed by the bits of `t` itself. The values at all tree nodes are therefore exactly jointly
//! Brownian, and so are the queried values as long as no two query times fall inside the same
//! bottom cell (then they are bridged independently given the cell's ends: each value is still
//! exactly distributed, the pair slightly less correlated than Brownian). The default depth 30
//! makes cells a billionth of the span.
//!
//! Each component has its own stream ([`CounterRng::fork`]), so components are independent. A
//! query costs `depth` normal draws per component; the last descent is cached, so the sequential
//! queries of a solve recompute only the levels below where they diverge — about
//! `depth - log2(span / step)` draws per component and step.
//!
//! Values are made on the host in `f64`; SDE solvers upload them to the state's device, so every
//! backend sees the same path.

use sysdyn_core::rng::CounterRng;
use thiserror::Error;

/// A Brownian path that answers increments over any interval inside its span.
pub trait BrownianPath {
    /// Number of independent components.
    fn dim(&self) -> usize;

    /// The time span the path is defined on.
    fn span(&self) -> (f64, f64);

    /// Writes `W(t) - W(s)`, component by component, into `out` (of length [`Self::dim`]).
    fn increment(&mut self, s: f64, t: f64, out: &mut [f64]) -> Result<(), BrownianError>;
}

/// Why a Brownian path could not be built or queried.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum BrownianError {
    /// The span is not finite or not increasing.
    #[error("invalid Brownian span [{t0}, {t1}]: both ends must be finite with t0 < t1")]
    InvalidSpan {
        /// Start.
        t0: f64,
        /// End.
        t1: f64,
    },
    /// A depth outside what the tree supports.
    #[error("invalid tree depth {depth}: use 1 to {max} levels", max = MAX_DEPTH)]
    InvalidDepth {
        /// The requested depth.
        depth: u32,
    },
    /// A query outside the span.
    #[error(
        "Brownian motion queried at t = {t}, outside its span [{t0}, {t1}]; build it over the \
         whole time span of the solve"
    )]
    OutOfSpan {
        /// The query time.
        t: f64,
        /// Start of the span.
        t0: f64,
        /// End of the span.
        t1: f64,
    },
    /// An output buffer of the wrong length.
    #[error("increment buffer of length {got}, but the Brownian motion has {dim} components")]
    Dimension {
        /// Components of the path.
        dim: usize,
        /// Length of the buffer.
        got: usize,
    },
}

/// Deepest tree supported: heap indices must fit in a `u64`.
pub const MAX_DEPTH: u32 = 62;

/// Default depth: bottom cells of `2^-30 ≈ 1e-9` of the span.
pub const DEFAULT_DEPTH: u32 = 30;

/// A node of the current descent: interval, heap index, and `W` at both ends (all components).
#[derive(Debug, Clone)]
struct Node {
    a: f64,
    b: f64,
    index: u64,
    wa: Vec<f64>,
    wb: Vec<f64>,
}

/// A virtual Brownian tree: `W(t)` for any `t` in its span from a seed, identical whatever the
/// order of the queries. See the [module documentation](self).
///
/// ```
/// use sysdyn_solvers::brownian::{BrownianPath, VirtualBrownianTree};
///
/// let mut w = VirtualBrownianTree::new(42, (0.0, 1.0), 2)?;
/// let late = w.value(0.7)?;
/// let early = w.value(0.3)?;
/// let mut fresh = VirtualBrownianTree::new(42, (0.0, 1.0), 2)?;
/// assert_eq!(fresh.value(0.3)?, early); // another order, the same path
/// assert_eq!(fresh.value(0.7)?, late);
/// # Ok::<(), sysdyn_solvers::brownian::BrownianError>(())
/// ```
#[derive(Debug, Clone)]
pub struct VirtualBrownianTree {
    t0: f64,
    t1: f64,
    depth: u32,
    /// Per component: tree nodes and the end value.
    node_streams: Vec<CounterRng>,
    /// Per component: the bridge inside a bottom cell, keyed by the query time.
    leaf_streams: Vec<CounterRng>,
    /// The nodes of the last descent, root first; `path_len` of them are valid.
    path: Vec<Node>,
    path_len: usize,
    /// The time and value of the last query, so that `increment(s, t)` after `increment(r, s)`
    /// is one descent.
    last_t: Option<f64>,
    last_w: Vec<f64>,
}

impl VirtualBrownianTree {
    /// A `dim`-component Brownian motion on `[t0, t1]` from `seed`, with the default depth.
    pub fn new(seed: u64, (t0, t1): (f64, f64), dim: usize) -> Result<Self, BrownianError> {
        if !(t0.is_finite() && t1.is_finite() && t0 < t1) {
            return Err(BrownianError::InvalidSpan { t0, t1 });
        }
        let root = CounterRng::new(seed);
        let node_streams: Vec<CounterRng> = (0..dim as u64).map(|c| root.fork(2 * c)).collect();
        let leaf_streams = (0..dim as u64).map(|c| root.fork(2 * c + 1)).collect();
        let span = t1 - t0;
        let top = Node {
            a: t0,
            b: t1,
            index: 1,
            wa: vec![0.0; dim],
            wb: node_streams
                .iter()
                .map(|s| span.sqrt() * s.normal(0))
                .collect(),
        };
        Ok(VirtualBrownianTree {
            t0,
            t1,
            depth: DEFAULT_DEPTH,
            node_streams,
            leaf_streams,
            path: vec![top],
            path_len: 1,
            last_t: None,
            last_w: vec![0.0; dim],
        })
    }

    /// The same path resolved to bottom cells of `(t1 - t0) / 2^depth` (1 to [`MAX_DEPTH`]).
    /// Values at tree nodes do not depend on the depth; a shallower tree is faster when every
    /// query time is at least a cell apart (a fixed grid coarser than the cells).
    pub fn with_depth(mut self, depth: u32) -> Result<Self, BrownianError> {
        if !(1..=MAX_DEPTH).contains(&depth) {
            return Err(BrownianError::InvalidDepth { depth });
        }
        self.depth = depth;
        self.path_len = 1;
        self.last_t = None;
        Ok(self)
    }

    /// The tree depth.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// `W(t)` for every component.
    pub fn value(&mut self, t: f64) -> Result<Vec<f64>, BrownianError> {
        let mut out = vec![0.0; self.dim()];
        self.value_into(t, &mut out)?;
        Ok(out)
    }

    fn value_into(&mut self, t: f64, out: &mut [f64]) -> Result<(), BrownianError> {
        if !(t >= self.t0 && t <= self.t1) {
            return Err(BrownianError::OutOfSpan {
                t,
                t0: self.t0,
                t1: self.t1,
            });
        }
        if self.last_t == Some(t) {
            out.copy_from_slice(&self.last_w);
            return Ok(());
        }
        // Keep the cached nodes whose interval still contains t (they are nested).
        let mut level = 1;
        while level < self.path_len && self.path[level].a <= t && t <= self.path[level].b {
            level += 1;
        }
        self.path_len = level;
        loop {
            let node = &self.path[self.path_len - 1];
            if t == node.a {
                out.copy_from_slice(&node.wa);
                break;
            }
            if t == node.b {
                out.copy_from_slice(&node.wb);
                break;
            }
            let (a, b) = (node.a, node.b);
            if self.path_len > self.depth as usize {
                // Bottom cell: one more bridge, keyed by t.
                let sd = ((t - a) * (b - t) / (b - a)).sqrt();
                let weight = (t - a) / (b - a);
                let key = t.to_bits();
                for (c, o) in out.iter_mut().enumerate() {
                    let mean = node.wa[c] + weight * (node.wb[c] - node.wa[c]);
                    *o = mean + sd * self.leaf_streams[c].normal(key);
                }
                break;
            }
            self.descend(t);
        }
        self.last_t = Some(t);
        self.last_w.copy_from_slice(out);
        Ok(())
    }
}

impl VirtualBrownianTree {
    /// Splits the deepest cached node at its midpoint and caches the half containing `t`,
    /// reusing the buffers of the node that was there.
    fn descend(&mut self, t: f64) {
        let depth = self.path_len;
        if self.path.len() == depth {
            let dim = self.node_streams.len();
            self.path.push(Node {
                a: 0.0,
                b: 0.0,
                index: 0,
                wa: vec![0.0; dim],
                wb: vec![0.0; dim],
            });
        }
        let (parents, children) = self.path.split_at_mut(depth);
        let (node, child) = (&parents[depth - 1], &mut children[0]);
        let (a, b) = (node.a, node.b);
        let m = a + 0.5 * (b - a);
        let sd = ((m - a) * (b - m) / (b - a)).sqrt();
        let weight = (m - a) / (b - a);
        let left = t < m;
        // The child keeps one end of the parent and gets the midpoint value as its other end.
        if left {
            (child.a, child.b, child.index) = (a, m, 2 * node.index);
            child.wa.copy_from_slice(&node.wa);
        } else {
            (child.a, child.b, child.index) = (m, b, 2 * node.index + 1);
            child.wb.copy_from_slice(&node.wb);
        }
        let fresh = if left { &mut child.wb } else { &mut child.wa };
        for (c, w) in fresh.iter_mut().enumerate() {
            let mean = node.wa[c] + weight * (node.wb[c] - node.wa[c]);
            *w = mean + sd * self.node_streams[c].normal(node.index);
        }
        self.path_len += 1;
    }
}

impl BrownianPath for VirtualBrownianTree {
    fn dim(&self) -> usize {
        self.node_streams.len()
    }

    fn span(&self) -> (f64, f64) {
        (self.t0, self.t1)
    }

    fn increment(&mut self, s: f64, t: f64, out: &mut [f64]) -> Result<(), BrownianError> {
        let dim = self.dim();
        if out.len() != dim {
            return Err(BrownianError::Dimension {
                dim,
                got: out.len(),
            });
        }
        let mut ws = vec![0.0; dim];
        self.value_into(s, &mut ws)?;
        self.value_into(t, out)?;
        out.iter_mut().zip(&ws).for_each(|(o, w)| *o -= w);
        Ok(())
    }
}
