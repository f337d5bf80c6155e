//! Contour lines of a gridded field by marching squares.

/// The segments of the level set `value = level` of the bilinear-in-cells field `values` (row
/// `j` at `ys[j]`) as pairs of `(x, y)` points. Cells with a non-finite corner are skipped.
pub(crate) fn segments(xs: &[f64], ys: &[f64], values: &[f64], level: f64) -> Vec<[(f64, f64); 2]> {
    let nx = xs.len();
    let at = |i: usize, j: usize| values[j * nx + i];
    let mut out = Vec::new();
    for j in 0..ys.len().saturating_sub(1) {
        for i in 0..nx.saturating_sub(1) {
            // Corners counter-clockwise from the lower left.
            let v = [at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)];
            if v.iter().any(|x| !x.is_finite()) {
                continue;
            }
            let p = [
                (xs[i], ys[j]),
                (xs[i + 1], ys[j]),
                (xs[i + 1], ys[j + 1]),
                (xs[i], ys[j + 1]),
            ];
            // Where the level crosses edge k (from corner k to corner k+1).
            let crossing = |k: usize| {
                let (a, b) = (k, (k + 1) % 4);
                let s = (level - v[a]) / (v[b] - v[a]);
                (
                    p[a].0 + s * (p[b].0 - p[a].0),
                    p[a].1 + s * (p[b].1 - p[a].1),
                )
            };
            let above: Vec<bool> = v.iter().map(|&x| x > level).collect();
            let crossed: Vec<usize> = (0..4).filter(|&k| above[k] != above[(k + 1) % 4]).collect();
            match crossed.len() {
                2 => out.push([crossing(crossed[0]), crossing(crossed[1])]),
                4 => {
                    // A saddle: the cell centre's value decides which corners connect.
                    let centre = v.iter().sum::<f64>() / 4.0;
                    if (centre > level) == above[0] {
                        out.push([crossing(0), crossing(1)]);
                        out.push([crossing(2), crossing(3)]);
                    } else {
                        out.push([crossing(3), crossing(0)]);
                        out.push([crossing(1), crossing(2)]);
                    }
                }
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circle_contour_points_lie_near_the_circle() {
        // f = x² + y², level 1: every segment end lies on the unit circle up to the bilinear
        // interpolation error, O(h²).
        let n = 81;
        let grid: Vec<f64> = (0..n)
            .map(|k| -2.0 + 4.0 * k as f64 / (n - 1) as f64)
            .collect();
        let values: Vec<f64> = grid
            .iter()
            .flat_map(|&y| grid.iter().map(move |&x| x * x + y * y))
            .collect();
        let segs = segments(&grid, &grid, &values, 1.0);
        assert!(segs.len() > 50, "{} segments", segs.len());
        let h = 4.0 / (n - 1) as f64;
        for seg in &segs {
            for &(x, y) in seg {
                let r = (x * x + y * y).sqrt();
                assert!((r - 1.0).abs() < h * h, "point at radius {r}");
            }
        }
        // The contour closes: its total length approaches 2π.
        let length: f64 = segs
            .iter()
            .map(|[a, b]| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt())
            .sum();
        assert!(
            (length - 2.0 * std::f64::consts::PI).abs() < 0.01,
            "{length}"
        );
    }
}
