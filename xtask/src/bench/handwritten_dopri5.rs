//! The floor of W1: Dormand–Prince 5(4) written out by hand over a fixed-size `[f64; N]`, with the
//! same error norm, controller and initial step as `sysdyn_solvers::solve`, so it takes the same
//! steps. Everything the library does generically (tableau data, the `State` trait, output
//! bookkeeping, error checks) is spelled out or left out here; what remains is what any solver
//! must compute, so its time is the floor the library's plain-f64 path is compared with.

/// Counters of a hand-written solve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FloorStats {
    pub accepted: usize,
    pub rejected: usize,
    pub nfe: usize,
}

/// `sqrt(mean_i (x_i / (atol + rtol * max(|a_i|, |b_i|)))^2)`.
#[inline(always)]
fn rms<const N: usize>(x: &[f64; N], a: &[f64; N], b: &[f64; N], rtol: f64, atol: f64) -> f64 {
    let mut sum = 0.0;
    for i in 0..N {
        let r = x[i] / (atol + rtol * a[i].abs().max(b[i].abs()));
        sum += r * r;
    }
    (sum / N as f64).sqrt()
}

/// `y + h * Σ_j c_j k_j`.
#[inline(always)]
fn combine<const N: usize, const M: usize>(
    y: &[f64; N],
    h: f64,
    terms: [(f64, &[f64; N]); M],
) -> [f64; N] {
    let mut out = *y;
    for i in 0..N {
        let mut acc = 0.0;
        for (c, k) in &terms {
            acc += c * k[i];
        }
        out[i] += h * acc;
    }
    out
}

/// Integrates `y' = f(y)` from `t0` to `t1 > t0` with adaptive Dormand–Prince 5(4): Hairer's
/// initial step, the integral controller (safety 0.9, factors in [0.2, 10], no growth right after
/// a rejection), scalar `rtol`/`atol`. Returns the final state and the counters, or a message if
/// the step size underflows or `max_steps` attempts do not reach `t1`.
pub fn solve<const N: usize>(
    f: impl Fn(&[f64; N]) -> [f64; N],
    (t0, t1): (f64, f64),
    y0: [f64; N],
    rtol: f64,
    atol: f64,
    max_steps: usize,
) -> Result<([f64; N], FloorStats), String> {
    const A21: f64 = 1.0 / 5.0;
    const A31: f64 = 3.0 / 40.0;
    const A32: f64 = 9.0 / 40.0;
    const A41: f64 = 44.0 / 45.0;
    const A42: f64 = -56.0 / 15.0;
    const A43: f64 = 32.0 / 9.0;
    const A51: f64 = 19372.0 / 6561.0;
    const A52: f64 = -25360.0 / 2187.0;
    const A53: f64 = 64448.0 / 6561.0;
    const A54: f64 = -212.0 / 729.0;
    const A61: f64 = 9017.0 / 3168.0;
    const A62: f64 = -355.0 / 33.0;
    const A63: f64 = 46732.0 / 5247.0;
    const A64: f64 = 49.0 / 176.0;
    const A65: f64 = -5103.0 / 18656.0;
    const B1: f64 = 35.0 / 384.0;
    const B3: f64 = 500.0 / 1113.0;
    const B4: f64 = 125.0 / 192.0;
    const B5: f64 = -2187.0 / 6784.0;
    const B6: f64 = 11.0 / 84.0;
    const E1: f64 = 71.0 / 57600.0;
    const E3: f64 = -71.0 / 16695.0;
    const E4: f64 = 71.0 / 1920.0;
    const E5: f64 = -17253.0 / 339200.0;
    const E6: f64 = 22.0 / 525.0;
    const E7: f64 = -1.0 / 40.0;
    // Error order 4: the controller's exponent is 1/5.
    const K: f64 = 5.0;

    let mut stats = FloorStats::default();
    let mut y = y0;
    let mut k1 = f(&y);
    stats.nfe += 1;

    // Hairer's initial step.
    let d0 = rms(&y, &y, &y, rtol, atol);
    let d1 = rms(&k1, &y, &y, rtol, atol);
    let h0 = if d0 < 1e-5 || d1 < 1e-5 || !d0.is_finite() || !d1.is_finite() {
        1e-6
    } else {
        0.01 * d0 / d1
    };
    let probe = combine(&y, h0, [(1.0, &k1)]);
    let f_probe = f(&probe);
    stats.nfe += 1;
    let mut slope = [0.0; N];
    for i in 0..N {
        slope[i] = (f_probe[i] - k1[i]) / h0;
    }
    let d2 = rms(&slope, &y, &y, rtol, atol);
    let dmax = d1.max(d2);
    let h1 = if !dmax.is_finite() {
        h0 * 1e-3
    } else if dmax <= 1e-15 {
        (h0 * 1e-3).max(1e-6)
    } else {
        (0.01 / dmax).powf(1.0 / K)
    };
    let mut h_abs = (100.0 * h0).min(h1).min(t1 - t0);

    let mut t = t0;
    let mut last_rejected = false;
    loop {
        if stats.accepted + stats.rejected >= max_steps {
            return Err(format!(
                "{max_steps} steps did not reach t = {t1} (at t = {t})"
            ));
        }
        let remaining = t1 - t;
        let last = h_abs >= remaining * (1.0 - 4.0 * f64::EPSILON);
        let h = if last { remaining } else { h_abs };

        let k2 = f(&combine(&y, h, [(A21, &k1)]));
        let k3 = f(&combine(&y, h, [(A31, &k1), (A32, &k2)]));
        let k4 = f(&combine(&y, h, [(A41, &k1), (A42, &k2), (A43, &k3)]));
        let k5 = f(&combine(
            &y,
            h,
            [(A51, &k1), (A52, &k2), (A53, &k3), (A54, &k4)],
        ));
        let k6 = f(&combine(
            &y,
            h,
            [(A61, &k1), (A62, &k2), (A63, &k3), (A64, &k4), (A65, &k5)],
        ));
        let y1 = combine(
            &y,
            h,
            [(B1, &k1), (B3, &k3), (B4, &k4), (B5, &k5), (B6, &k6)],
        );
        let k7 = f(&y1);
        stats.nfe += 6;
        let err = combine(
            &[0.0; N],
            h,
            [
                (E1, &k1),
                (E3, &k3),
                (E4, &k4),
                (E5, &k5),
                (E6, &k6),
                (E7, &k7),
            ],
        );
        let norm = rms(&err, &y, &y1, rtol, atol);

        if norm <= 1.0 {
            stats.accepted += 1;
            y = y1;
            k1 = k7;
            if last {
                return Ok((y, stats));
            }
            t += h;
            let mut factor = (0.9 * (1.0 / norm.max(1e-10)).powf(1.0 / K)).clamp(0.2, 10.0);
            if last_rejected {
                factor = factor.min(1.0);
            }
            last_rejected = false;
            h_abs = h * factor;
        } else {
            stats.rejected += 1;
            last_rejected = true;
            let factor = if norm.is_finite() {
                (0.9 * norm.powf(-1.0 / K)).clamp(0.2, 0.9)
            } else {
                0.2
            };
            h_abs = h * factor;
            if h_abs < 16.0 * f64::EPSILON * t.abs().max(t1.abs()) {
                return Err(format!(
                    "step size underflow at t = {t} (error norm {norm:e})"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_decay_is_solved_to_tolerance() {
        let (y, stats) = solve(
            |y: &[f64; 1]| [-y[0]],
            (0.0, 2.0),
            [1.0],
            1e-10,
            1e-12,
            10_000,
        )
        .unwrap();
        assert!((y[0] - (-2.0f64).exp()).abs() < 1e-9);
        assert_eq!(stats.nfe, 2 + 6 * (stats.accepted + stats.rejected));
    }
}
