//! Domains of a PINN: intervals, boxes and time × space, as axis-aligned boxes whose columns are
//! the network's input columns (space first, then time for [`Domain::time_space`]).

use crate::PhysicsError;

/// A closed interval `[lower, upper]` with `lower < upper`, both finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    lower: f64,
    upper: f64,
}

impl Interval {
    /// `[lower, upper]`; an error unless both are finite and `lower < upper`.
    pub fn new(lower: f64, upper: f64) -> Result<Self, PhysicsError> {
        if !lower.is_finite() {
            return Err(PhysicsError::InvalidParameter {
                name: "domain lower bound",
                value: lower,
                requirement: "must be finite",
            });
        }
        if !(upper.is_finite() && lower < upper) {
            return Err(PhysicsError::InvalidParameter {
                name: "domain upper bound",
                value: upper,
                requirement: "must be finite and strictly greater than the lower bound",
            });
        }
        Ok(Interval { lower, upper })
    }

    /// The lower bound.
    pub fn lower(&self) -> f64 {
        self.lower
    }

    /// The upper bound.
    pub fn upper(&self) -> f64 {
        self.upper
    }

    /// `upper − lower`.
    pub fn length(&self) -> f64 {
        self.upper - self.lower
    }

    /// The point at fraction `u ∈ [0, 1]` of the interval.
    pub fn at(&self, u: f64) -> f64 {
        self.lower + u * (self.upper - self.lower)
    }
}

/// An axis-aligned box `Π [a_i, b_i]`; column `i` of a point is coordinate `i`.
#[derive(Debug, Clone, PartialEq)]
pub struct Domain {
    axes: Vec<Interval>,
    time: Option<usize>,
}

impl Domain {
    /// A box from `(lower, upper)` bounds per column; an error for no columns or a bad pair.
    pub fn new(bounds: &[(f64, f64)]) -> Result<Self, PhysicsError> {
        if bounds.is_empty() {
            return Err(PhysicsError::Empty {
                what: "domain bounds",
                unit: "(lower, upper) pair per input column",
            });
        }
        let axes = bounds
            .iter()
            .map(|&(a, b)| Interval::new(a, b))
            .collect::<Result<_, _>>()?;
        Ok(Domain { axes, time: None })
    }

    /// The interval `[a, b]` as a one-column domain.
    pub fn interval(a: f64, b: f64) -> Result<Self, PhysicsError> {
        Self::new(&[(a, b)])
    }

    /// Space `space` × time `[t0, t1]`: columns are the space coordinates, then `t` last.
    pub fn time_space(space: &[(f64, f64)], time: (f64, f64)) -> Result<Self, PhysicsError> {
        let mut bounds = space.to_vec();
        bounds.push(time);
        let mut domain = Self::new(&bounds)?;
        domain.time = Some(space.len());
        Ok(domain)
    }

    /// The number of columns.
    pub fn dim(&self) -> usize {
        self.axes.len()
    }

    /// Column `i`'s interval.
    pub fn axis(&self, i: usize) -> Result<Interval, PhysicsError> {
        self.axes.get(i).copied().ok_or(PhysicsError::SizeMismatch {
            what: "domain column (must be below the domain's dimension)",
            expected: self.axes.len(),
            got: i,
        })
    }

    /// The time column of a time × space domain.
    pub fn time_column(&self) -> Option<usize> {
        self.time
    }

    /// A point of the unit cube `[0, 1]^d` mapped affinely onto the box.
    pub fn from_unit(&self, unit: &[f64]) -> Vec<f64> {
        self.axes.iter().zip(unit).map(|(a, &u)| a.at(u)).collect()
    }

    /// `Π (b_i − a_i)`.
    pub fn volume(&self) -> f64 {
        self.axes.iter().map(Interval::length).product()
    }
}
