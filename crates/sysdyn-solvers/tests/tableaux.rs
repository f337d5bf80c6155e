//! Every Butcher tableau of `methods::ALL` checked as mathematics: consistency and rooted-tree
//! order conditions (and that the checker does reject a broken tableau), the stability function of
//! a step against `exp(z)`, the error estimate, the continuous extension and linearity of a step.

use proptest::prelude::*;
use sysdyn_core::Tolerance;
use sysdyn_solvers::methods::{self, ALL};
use sysdyn_solvers::tableau::TableauError;
use sysdyn_solvers::trees::rooted_trees;
use sysdyn_solvers::{ButcherTableau, ErrorEstimate, OdeMethod, SaveAt, SolveConfig, solve};

/// Tolerance of `ButcherTableau::check`. The coefficients are rounded decimals (Tsit5, DOP853) or
/// rationals rounded to f64; the worst order-condition residual measured is 1.3e-14 (Tsit5) and
/// 6.4e-15 (DOP853, 200 trees up to order 8), so 1e-13 still catches a change in the 12th digit
/// of a coefficient (see `checker_rejects_broken_tableaux`).
const CHECK_TOL: f64 = 1e-13;

#[test]
fn every_method_passes_its_consistency_and_order_checks() {
    for method in ALL {
        method
            .check(CHECK_TOL)
            .unwrap_or_else(|e| panic!("{}: {e}", method.name));
    }
}

#[test]
fn stated_orders_are_sharp() {
    // A method claiming too low an order would still pass `check`: make sure the next order fails.
    for method in ALL {
        assert!(
            method
                .check_order_conditions(method.b, method.order + 1, 1e-8)
                .is_err(),
            "{} satisfies the conditions of order {}",
            method.name,
            method.order + 1
        );
    }
}

#[test]
fn embedded_solutions_have_their_orders() {
    for method in ALL {
        let lower: Vec<(&str, Vec<f64>, u32)> = match method.error {
            ErrorEstimate::None => continue,
            ErrorEstimate::Embedded(e) => {
                let p = method
                    .embedded_order
                    .expect("an embedded method states its order");
                vec![("embedded", minus(method.b, e), p)]
            }
            // DOP853: b - e5 is a 5th-order and b - e3 a 3rd-order solution.
            ErrorEstimate::Blended { e5, e3 } => vec![
                ("5th-order", minus(method.b, e5), 5),
                ("3rd-order", minus(method.b, e3), 3),
            ],
        };
        for (what, weights, order) in lower {
            method
                .check_order_conditions(&weights, order, CHECK_TOL)
                .unwrap_or_else(|e| panic!("{} {what} solution: {e}", method.name));
            assert!(
                method
                    .check_order_conditions(&weights, order + 1, 1e-8)
                    .is_err(),
                "{} {what} solution is of order {}",
                method.name,
                order + 1
            );
        }
    }
}

#[test]
fn first_same_as_last_is_detected() {
    let fsal: Vec<&str> = ALL.iter().filter(|m| m.is_fsal()).map(|m| m.name).collect();
    assert_eq!(fsal, ["bosh3", "dopri5", "tsit5", "dop853"]);
}

#[test]
fn checker_rejects_broken_tableaux() {
    // RK4 with a perturbed weight: the weights still sum to one, order 2 fails.
    let perturbed = ButcherTableau {
        b: &[1.0 / 6.0 + 1e-3, 1.0 / 3.0 - 1e-3, 1.0 / 3.0, 1.0 / 6.0],
        ..methods::RK4
    };
    match perturbed.check(CHECK_TOL) {
        Err(TableauError::OrderCondition { tree, .. }) => assert_eq!(tree, "[•]"),
        other => panic!("perturbed RK4 weight not rejected: {other:?}"),
    }

    // RK4 claiming order 5 fails on a tree with five nodes.
    let overclaimed = ButcherTableau {
        order: 5,
        ..methods::RK4
    };
    match overclaimed.check(CHECK_TOL) {
        Err(TableauError::OrderCondition { tree, .. }) => {
            // Leaves print as •, every other node as a bracket pair.
            let nodes = tree.matches('•').count() + tree.matches('[').count();
            assert_eq!(nodes, 5, "tree {tree}")
        }
        other => panic!("RK4 claiming order 5 not rejected: {other:?}"),
    }

    // A row that does not sum to its node.
    let bad_row = ButcherTableau {
        a: &[&[], &[0.5], &[0.1, 0.5], &[0.0, 0.0, 1.0]],
        ..methods::RK4
    };
    assert!(matches!(
        bad_row.check(CHECK_TOL),
        Err(TableauError::RowSum { row: 2, .. })
    ));

    // Error weights that do not sum to zero.
    let bad_error = ButcherTableau {
        error: ErrorEstimate::Embedded(&[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1e-6]),
        ..methods::DOPRI5
    };
    assert!(matches!(
        bad_error.check(CHECK_TOL),
        Err(TableauError::WeightSum { .. })
    ));

    // DOP853 with two weights moved by ±1e-11 (sum unchanged, the 12th significant digit): Σ b c
    // moves by 1e-11 (c6 - c7) ≈ 8e-13, which the check at CHECK_TOL sees.
    let mut b = methods::DOP853.b.to_vec();
    b[5] += 1e-11;
    b[6] -= 1e-11;
    let nudged = ButcherTableau {
        b: Box::leak(b.into_boxed_slice()),
        ..methods::DOP853
    };
    assert!(matches!(
        nudged.check(CHECK_TOL),
        Err(TableauError::OrderCondition { .. })
    ));
}

/// `b - e`, the weights of the lower-order solution.
fn minus(b: &[f64], e: &[f64]) -> Vec<f64> {
    b.iter().zip(e).map(|(b, e)| b - e).collect()
}

/// Coefficients `r_k = bᵀ A^(k-1) 1`, `k = 1..=s`, of the stability polynomial
/// `R(z) = 1 + Σ r_k z^k` of an explicit method.
fn stability_coefficients(m: &ButcherTableau) -> Vec<f64> {
    let s = m.stages();
    let mut v = vec![1.0; s];
    let mut r = Vec::with_capacity(s);
    for _ in 0..s {
        r.push(m.b.iter().zip(&v).map(|(b, v)| b * v).sum());
        v = (0..s)
            .map(|i| (0..i).map(|j| m.a_ij(i, j) * v[j]).sum())
            .collect();
    }
    r
}

fn factorial(k: usize) -> f64 {
    (1..=k).map(|i| i as f64).product()
}

/// A bound C(ρ) with `|R(z) - e^z| <= C(|z|) |z|^(p+1)`: the terms of `R` beyond order p (whose
/// coefficients differ from `1/k!`) plus the tail of the exponential series beyond degree s.
fn stability_error_constant(m: &ButcherTableau, rho: f64) -> f64 {
    let p = m.order as usize;
    let r = stability_coefficients(m);
    let s = r.len();
    let polynomial: f64 = (p + 1..=s)
        .map(|k| (r[k - 1] - 1.0 / factorial(k)).abs() * rho.powi((k - p - 1) as i32))
        .sum();
    polynomial + rho.powi((s - p) as i32) * rho.exp() / factorial(s + 1)
}

/// `R(z)` for real `z`: one step of size 1 on `y' = z y` from `y = 1`.
fn step_real(m: &ButcherTableau, z: f64) -> f64 {
    let mut f = |_t: f64, y: &f64| z * y;
    *solve(&mut f, m, (0.0, 1.0), 1.0, &SolveConfig::fixed(1.0))
        .unwrap()
        .last()
}

/// `R(z)` for complex `z = x + iy`: one step of size 1 on `w' = z w` written as the real system
/// `(u, v)' = (x u - y v, y u + x v)`, from `w = 1`.
fn step_complex(m: &ButcherTableau, x: f64, y: f64) -> (f64, f64) {
    let mut f = |_t: f64, w: &[f64; 2]| [x * w[0] - y * w[1], y * w[0] + x * w[1]];
    let w = *solve(&mut f, m, (0.0, 1.0), [1.0, 0.0], &SolveConfig::fixed(1.0))
        .unwrap()
        .last();
    (w[0], w[1])
}

/// Smallest sampled |z| for a method of order p: `|z|^(p+1)` stays above 1e-10, far above
/// rounding, so an order one lower than claimed would show.
fn smallest_radius(p: u32) -> f64 {
    1e-10f64.powf(1.0 / (p as f64 + 1.0))
}

/// Rounding allowance of one step of the linear test equation.
const ROUNDING: f64 = 2e-14;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// (a) One step on y' = λy multiplies y by the stability function R(hλ), which agrees with
    /// e^(hλ) to O(|hλ|^(p+1)).
    #[test]
    fn stability_function_matches_exp_real(fraction in 0.0f64..1.0, negative in any::<bool>()) {
        for &m in ALL {
            let rho = smallest_radius(m.order) + fraction * (0.9 - smallest_radius(m.order));
            let z = if negative { -rho } else { rho };
            let err = (step_real(m, z) - z.exp()).abs();
            let bound = stability_error_constant(m, rho) * rho.powi(m.order as i32 + 1);
            prop_assert!(
                err <= bound * (1.0 + 1e-9) + ROUNDING * z.exp().max(1.0),
                "{}: z = {z}, |R(z) - e^z| = {err:e} > {bound:e}", m.name
            );
        }
    }

    #[test]
    fn stability_function_matches_exp_complex(
        fraction in 0.0f64..1.0,
        angle in 0.0f64..std::f64::consts::TAU,
    ) {
        for &m in ALL {
            let rho = smallest_radius(m.order) + fraction * (0.9 - smallest_radius(m.order));
            let (x, y) = (rho * angle.cos(), rho * angle.sin());
            let (re, im) = step_complex(m, x, y);
            let (exp_re, exp_im) = (x.exp() * y.cos(), x.exp() * y.sin());
            let err = (re - exp_re).hypot(im - exp_im);
            let bound = stability_error_constant(m, rho) * rho.powi(m.order as i32 + 1);
            prop_assert!(
                err <= bound * (1.0 + 1e-9) + ROUNDING * x.exp().max(1.0),
                "{}: z = {x}+{y}i, |R(z) - e^z| = {err:e} > {bound:e}", m.name
            );
        }
    }

    /// (b) The error weights sum to zero: on a constant field every stage is the same vector and
    /// the estimate vanishes. On `y' = t^k` with k below the order of the lower solution both
    /// solutions are exact quadratures and the estimate vanishes too.
    #[test]
    fn error_estimate_vanishes_where_both_solutions_are_exact(
        v in prop::array::uniform2(-10.0f64..10.0),
        y0 in prop::array::uniform2(-10.0f64..10.0),
        t0 in -2.0f64..2.0,
        h in 0.01f64..1.0,
    ) {
        let tol = Tolerance::new(1e-6, 1e-6);
        for &m in ALL.iter().filter(|m| !matches!(m.error, ErrorEstimate::None)) {
            let mut constant = |_t: f64, _y: &[f64; 2]| v;
            let norm = error_norm(m, &mut constant, t0, &y0, h, &tol);
            prop_assert!(norm <= 1e-7, "{}: error norm {norm:e} on a constant field", m.name);

            let exact_degree = match m.error {
                ErrorEstimate::Blended { .. } => 3,
                _ => m.embedded_order.unwrap(),
            };
            for k in 0..exact_degree as i32 {
                let mut monomial = |t: f64, _y: &[f64; 2]| [t.powi(k), -2.0 * t.powi(k)];
                let norm = error_norm(m, &mut monomial, t0, &y0, h, &tol);
                prop_assert!(norm <= 1e-7, "{}: error norm {norm:e} on y' = t^{k}", m.name);
            }
        }
    }

    /// (c) The continuous extension starts at y0 (θ = 0) and ends at y1 (θ = 1), for the methods'
    /// own interpolants and for the Hermite fallback.
    #[test]
    fn dense_output_reproduces_the_step_ends(
        y0 in prop::array::uniform2(0.2f64..3.0),
        t0 in -1.0f64..1.0,
        h in 0.01f64..0.5,
    ) {
        for &m in ALL {
            let mut f = |t: f64, y: &[f64; 2]| [y[0] * (1.5 - y[1]) + t.sin(), y[1] * (y[0] - 3.0)];
            let mut ws = OdeMethod::<[f64; 2]>::workspace(m);
            let mut nfe = 0;
            let y1 = m.attempt(&mut f, t0, &y0, h, None, &mut ws, &mut nfe).y1;
            let start = m.interpolate(&mut f, t0, &y0, &y1, h, 0.0, &mut ws, &mut nfe);
            let end = m.interpolate(&mut f, t0, &y0, &y1, h, 1.0, &mut ws, &mut nfe);
            for i in 0..2 {
                prop_assert!((start[i] - y0[i]).abs() <= 1e-15 * y0[i].abs(), "{}: y(θ=0)", m.name);
                prop_assert!(
                    (end[i] - y1[i]).abs() <= 1e-13 * (1.0 + y1[i].abs()),
                    "{}: y(θ=1) = {} but y1 = {}", m.name, end[i], y1[i]
                );
            }
        }
    }

    /// (d) On a linear problem a step (and its dense output) is linear in the initial state.
    #[test]
    fn a_step_is_linear_in_the_initial_state(
        matrix in prop::array::uniform4(-2.0f64..2.0),
        y0 in prop::array::uniform2(-5.0f64..5.0),
        z0 in prop::array::uniform2(-5.0f64..5.0),
        alpha in -3.0f64..3.0,
        beta in -3.0f64..3.0,
        h in 0.01f64..0.5,
    ) {
        let mut f = |t: f64, y: &[f64; 2]| {
            let s = 1.0 + 0.5 * t.sin();
            [s * (matrix[0] * y[0] + matrix[1] * y[1]), s * (matrix[2] * y[0] + matrix[3] * y[1])]
        };
        let config = SolveConfig::fixed(h).save_at(SaveAt::Times(vec![0.3 * h, h]));
        let combined = [alpha * y0[0] + beta * z0[0], alpha * y0[1] + beta * z0[1]];
        for &m in ALL {
            let ys = solve(&mut f, m, (0.0, h), y0, &config).unwrap().ys;
            let zs = solve(&mut f, m, (0.0, h), z0, &config).unwrap().ys;
            let cs = solve(&mut f, m, (0.0, h), combined, &config).unwrap().ys;
            for ((y, z), c) in ys.iter().zip(&zs).zip(&cs) {
                for i in 0..2 {
                    let expected = alpha * y[i] + beta * z[i];
                    let scale = alpha.abs() * y[i].abs() + beta.abs() * z[i].abs() + 1.0;
                    prop_assert!(
                        (c[i] - expected).abs() <= 1e-13 * scale,
                        "{}: step of the combination {} != combination of steps {expected}",
                        m.name, c[i]
                    );
                }
            }
        }
    }
}

/// The error norm of one attempted step.
fn error_norm(
    m: &ButcherTableau,
    f: &mut impl FnMut(f64, &[f64; 2]) -> [f64; 2],
    t0: f64,
    y0: &[f64; 2],
    h: f64,
    tol: &Tolerance<[f64; 2]>,
) -> f64 {
    let mut ws = OdeMethod::<[f64; 2]>::workspace(m);
    let mut nfe = 0;
    m.attempt(f, t0, y0, h, Some(tol), &mut ws, &mut nfe)
        .error_norm
        .expect("an adaptive method estimates its error")
}

#[test]
fn interpolant_weights_at_one_are_the_step_weights() {
    for &m in ALL {
        let Some(interp) = m.interpolant else {
            continue;
        };
        let s = m.stages();
        assert_eq!(interp.weights.len(), s + interp.extra_c.len(), "{}", m.name);
        for (j, poly) in interp.weights.iter().enumerate() {
            let at_one: f64 = poly.iter().sum();
            let expected = if j < s { m.b[j] } else { 0.0 };
            let scale: f64 = poly.iter().map(|w| w.abs()).sum::<f64>().max(1.0);
            assert!(
                (at_one - expected).abs() <= 1e-15 * scale,
                "{}: b_{j}(1) = {at_one}, b_{j} = {expected}",
                m.name
            );
        }
    }
}

/// The tableau of the step extended by the interpolant's extra stages, so that the elementary
/// weights Φ_j(τ) of the extra stages can be computed.
fn extended_tableau(m: &ButcherTableau) -> ButcherTableau {
    let interp = m.interpolant.expect("a method with an interpolant");
    let leak = |v: Vec<f64>| -> &'static [f64] { Box::leak(v.into_boxed_slice()) };
    let c: Vec<f64> = m.c.iter().chain(interp.extra_c).copied().collect();
    let n = c.len();
    let a: Vec<&'static [f64]> =
        m.a.iter()
            .copied()
            .chain(interp.extra_a.iter().copied())
            .collect();
    ButcherTableau {
        name: "extended",
        order: interp.order,
        embedded_order: None,
        c: leak(c),
        a: Box::leak(a.into_boxed_slice()),
        b: leak(vec![0.0; n]),
        error: ErrorEstimate::None,
        interpolant: None,
    }
}

#[test]
fn interpolants_satisfy_the_continuous_order_conditions() {
    // y0 + h Σ b_j(θ) k_j has order q at every θ iff Σ_j b_j(θ) Φ_j(τ) = θ^|τ| / γ(τ) for every
    // rooted tree τ with |τ| <= q (Hairer, Nørsett & Wanner I, II.6).
    let thetas: [f64; 7] = [0.1, 0.25, 1.0 / 3.0, 0.5, 0.7, 0.9, 1.0];
    let mut checked = Vec::new();
    for &m in ALL {
        let Some(interp) = m.interpolant else {
            continue;
        };
        let ext = extended_tableau(m);
        let q = interp.order as usize;
        let mut worst_next_order: f64 = 0.0;
        for tree in rooted_trees(q + 1) {
            let phi = tree.elementary_weights(&ext);
            let n = tree.order();
            for &theta in &thetas {
                let value: f64 = interp
                    .weights
                    .iter()
                    .zip(&phi)
                    .map(|(poly, phi)| {
                        let b_theta: f64 = poly
                            .iter()
                            .enumerate()
                            .map(|(m, w)| w * theta.powi(m as i32 + 1))
                            .sum();
                        b_theta * phi
                    })
                    .sum();
                let expected = theta.powi(n as i32) / tree.density() as f64;
                if n <= q {
                    assert!(
                        (value - expected).abs() <= 1e-12,
                        "{}: continuous condition for tree {tree} at θ = {theta}: {value} vs \
                         {expected}",
                        m.name
                    );
                } else {
                    worst_next_order = worst_next_order.max((value - expected).abs());
                }
            }
        }
        // The stated interpolant order is sharp.
        assert!(
            worst_next_order > 1e-6,
            "{}: interpolant satisfies order {}",
            m.name,
            q + 1
        );
        checked.push(m.name);
    }
    assert_eq!(checked, ["dopri5", "tsit5", "dop853"]);
}
