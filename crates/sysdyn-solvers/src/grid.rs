//! Fixed steps that land exactly on given times (output times and the end of the span), shared by
//! the fixed-step symplectic and SDE solvers.

use crate::solve::fixed_step_count;

/// The ends of steps of size `dt` (> 0) from `t0` through each of `stops` in turn (ordered in the
/// direction of integration, the last one the end of the span). Each stop is reached exactly by
/// shortening the step before it. An entry is `(end, Some(k))` when `end` is `stops[k]`; a stop
/// equal to the time already reached gives an entry with no step to take.
pub(crate) fn fixed_step_ends(t0: f64, stops: &[f64], dt: f64) -> Vec<(f64, Option<usize>)> {
    let mut ends = Vec::new();
    let mut t = t0;
    for (k, &stop) in stops.iter().enumerate() {
        let n = if stop == t {
            0
        } else {
            fixed_step_count((stop - t).abs(), dt)
        };
        let h = dt * (stop - t).signum();
        let start = t;
        for i in 1..n {
            ends.push((start + i as f64 * h, None));
        }
        ends.push((stop, Some(k)));
        t = stop;
    }
    ends
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_land_on_every_stop() {
        let ends = fixed_step_ends(0.0, &[0.25, 0.25, 1.0], 0.1);
        let times: Vec<f64> = ends.iter().map(|e| e.0).collect();
        let expected = [
            0.1, 0.2, 0.25, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95, 1.0,
        ];
        assert_eq!(times.len(), expected.len());
        for (t, e) in times.iter().zip(expected) {
            assert!((t - e).abs() < 1e-12, "{times:?}");
        }
        assert_eq!(ends[2].1, Some(0));
        assert_eq!(ends[3].1, Some(1));
        assert_eq!(ends.last().unwrap().1, Some(2));
        let back = fixed_step_ends(1.0, &[0.0], 0.5);
        assert_eq!(back, vec![(0.5, None), (0.0, Some(0))]);
    }
}
