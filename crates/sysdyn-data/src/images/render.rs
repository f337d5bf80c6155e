//! Anti-aliased rasterisation by signed distance: a pixel's coverage is
//! `clamp(½ − d, 0, 1)` for the signed distance `d` (in pixels, negative inside) from its centre
//! to the shape's outline, which matches the exact area coverage of a straight edge crossing the
//! pixel along an axis and is smooth everywhere.

/// Coverage of a pixel whose centre is at signed distance `d` (pixels) from an outline.
#[inline]
pub(crate) fn coverage(d: f64) -> f64 {
    (0.5 - d).clamp(0.0, 1.0)
}

/// Renders `side × side` coverages of the signed distance function `sdf(x, y)` (pixel
/// coordinates, `x` rightwards and `y` downwards, pixel centres at half-integers).
pub(crate) fn rasterise(side: usize, sdf: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(side * side);
    for row in 0..side {
        for col in 0..side {
            out.push(coverage(sdf(col as f64 + 0.5, row as f64 + 0.5)));
        }
    }
    out
}

/// Distance from `p` to the segment `a`–`b`.
#[inline]
pub(crate) fn segment_distance(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (abx, aby) = (b[0] - a[0], b[1] - a[1]);
    let (apx, apy) = (p[0] - a[0], p[1] - a[1]);
    let len2 = abx * abx + aby * aby;
    let t = if len2 > 0.0 {
        ((apx * abx + apy * aby) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (apx - t * abx).hypot(apy - t * aby)
}

/// Signed distance to an axis-aligned box of half-sizes `hx`, `hy` centred at the origin.
#[inline]
pub(crate) fn box_distance(x: f64, y: f64, hx: f64, hy: f64) -> f64 {
    let (qx, qy) = (x.abs() - hx, y.abs() - hy);
    qx.max(0.0).hypot(qy.max(0.0)) + qx.max(qy).min(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disc_area_is_its_coverage_sum() {
        // A disc of radius 8 centred in a 32 × 32 image: the summed coverage is its area.
        let image = rasterise(32, |x, y| (x - 16.0).hypot(y - 16.0) - 8.0);
        let area: f64 = image.iter().sum();
        let exact = std::f64::consts::PI * 64.0;
        assert!((area - exact).abs() < 0.01 * exact, "{area} vs {exact}");
        assert!(image.iter().all(|v| (0.0..=1.0).contains(v)));
        // A box of half-sizes 5 × 3: area 60 exactly (edges on pixel boundaries).
        let image = rasterise(32, |x, y| box_distance(x - 16.0, y - 16.0, 5.0, 3.0));
        assert!((image.iter().sum::<f64>() - 60.0).abs() < 1e-9);
        assert_eq!(segment_distance([0.0, 1.0], [-1.0, 0.0], [1.0, 0.0]), 1.0);
        assert_eq!(segment_distance([3.0, 4.0], [0.0, 0.0], [0.0, 0.0]), 5.0);
    }
}
