//! The problem: Lotka–Volterra with the parameters of workload W1, on plain arrays and as a
//! batch of initial conditions in one tensor.
//!
//! The model is defined here rather than taken from `sysdyn-testing` (whose copy the solver tests
//! use) so that the example, a program users run, does not depend on the test-helper crate.

use sysdyn_core::burn::tensor::Tensor;

/// Lotka–Volterra predator–prey model `x' = a x − b x y`, `y' = d x y − g y`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LotkaVolterra {
    /// Prey growth rate.
    pub a: f64,
    /// Predation rate.
    pub b: f64,
    /// Predator growth per prey eaten.
    pub d: f64,
    /// Predator death rate.
    pub g: f64,
}

impl LotkaVolterra {
    /// The vector field.
    #[inline]
    pub fn field(&self, y: &[f64; 2]) -> [f64; 2] {
        [
            self.a * y[0] - self.b * y[0] * y[1],
            self.d * y[0] * y[1] - self.g * y[1],
        ]
    }

    /// The conserved quantity `V = d x − g ln x + b y − a ln y`.
    pub fn invariant(&self, y: &[f64; 2]) -> f64 {
        self.d * y[0] - self.g * y[0].ln() + self.b * y[1] - self.a * y[1].ln()
    }
}

/// The model of workload W1: prey growth a = 1.5, predation b = 1, predator growth d = 1,
/// predator death g = 3.
pub const MODEL: LotkaVolterra = LotkaVolterra {
    a: 1.5,
    b: 1.0,
    d: 1.0,
    g: 3.0,
};
/// Initial state (prey, predator).
pub const Y0: [f64; 2] = [1.0, 1.0];
/// Time span.
pub const SPAN: (f64, f64) = (0.0, 15.0);
/// Published final state x(15), y(15) (WORKLOADS.md, W1).
pub const FINAL: [f64; 2] = [6.341918388491167, 0.7323209718374818];

/// The vector field on plain arrays (autonomous: `t` is unused).
pub fn field(_t: f64, y: &[f64; 2]) -> [f64; 2] {
    MODEL.field(y)
}

/// The coexistence equilibrium `(g/d, a/b)`, the centre of every orbit.
pub fn equilibrium() -> [f64; 2] {
    [MODEL.g / MODEL.d, MODEL.a / MODEL.b]
}

/// `n` initial states on the segment from near the equilibrium towards small prey numbers, at
/// the equilibrium's predator level: nested closed orbits of increasing size.
pub fn family(n: usize) -> Vec<[f64; 2]> {
    let [xe, ye] = equilibrium();
    (0..n)
        .map(|k| {
            let s = (k as f64 + 1.0) / n as f64;
            [xe - s * (xe - 0.35), ye]
        })
        .collect()
}

/// The vector field on a batch: `y` has shape `[orbits, 2]`, one row per initial condition.
pub fn batched_field(_t: f64, y: &Tensor<2>) -> Tensor<2> {
    let m = MODEL;
    let prey = y.clone().narrow(1, 0, 1);
    let predator = y.clone().narrow(1, 1, 1);
    let meetings = prey.clone() * predator.clone();
    let d_prey = prey.mul_scalar(m.a) - meetings.clone().mul_scalar(m.b);
    let d_predator = meetings.mul_scalar(m.d) - predator.mul_scalar(m.g);
    Tensor::cat(vec![d_prey, d_predator], 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_family_lies_between_the_equilibrium_and_the_prey_axis() {
        let f = family(4);
        assert_eq!(f.len(), 4);
        assert!(f.iter().all(|y| y[0] > 0.3 && y[0] < 3.0 && y[1] == 1.5));
        assert!((f[3][0] - 0.35).abs() < 1e-12);
        // The equilibrium is a fixed point.
        assert_eq!(field(0.0, &equilibrium()), [0.0, 0.0]);
    }

    #[test]
    fn the_invariant_is_constant_along_the_field() {
        // dV/dt = ∇V · f must vanish: ∇V = (d − g/x, b − a/y).
        for y in [[1.0, 1.0], [0.4, 2.5], [6.3, 0.7]] {
            let f = MODEL.field(&y);
            let grad = [MODEL.d - MODEL.g / y[0], MODEL.b - MODEL.a / y[1]];
            let rate = grad[0] * f[0] + grad[1] * f[1];
            assert!(rate.abs() < 1e-12, "{y:?}: dV/dt = {rate}");
        }
    }
}
