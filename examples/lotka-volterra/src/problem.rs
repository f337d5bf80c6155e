//! The problem: Lotka–Volterra with the parameters of workload W1, on plain arrays and as a
//! batch of initial conditions in one tensor.

use sysdyn_core::burn::tensor::Tensor;
use sysdyn_testing::problems::LotkaVolterra;

/// The model: prey growth a = 1.5, predation b = 1, predator growth d = 1, predator death g = 3.
pub const MODEL: LotkaVolterra = LotkaVolterra::W1;
/// Initial state (prey, predator).
pub const Y0: [f64; 2] = LotkaVolterra::W1_Y0;
/// Time span.
pub const SPAN: (f64, f64) = LotkaVolterra::W1_SPAN;
/// Published final state x(15), y(15).
pub const FINAL: [f64; 2] = LotkaVolterra::W1_FINAL;

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
}
