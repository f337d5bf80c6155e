//! A square grid of cell centres on `[−lim, lim]²` for heat maps and the density's integral.

/// `n × n` cells on `[−lim, lim]²`.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Half the side.
    pub lim: f64,
    /// Cells per side.
    pub n: usize,
}

impl Grid {
    /// The cell centres along one axis.
    pub fn axis(&self) -> Vec<f64> {
        let h = self.step();
        (0..self.n)
            .map(|i| -self.lim + h * (i as f64 + 0.5))
            .collect()
    }

    /// The side of a cell.
    pub fn step(&self) -> f64 {
        2.0 * self.lim / self.n as f64
    }

    /// The area of a cell.
    pub fn cell_area(&self) -> f64 {
        self.step() * self.step()
    }

    /// The centres as row-major `[x, y]` pairs, `x` fastest (`values[j·n + i]` at
    /// `(axis[i], axis[j])`, the heat map's layout).
    pub fn points(&self) -> Vec<f64> {
        let axis = self.axis();
        let mut out = Vec::with_capacity(2 * self.n * self.n);
        for &y in &axis {
            for &x in &axis {
                out.push(x);
                out.push(y);
            }
        }
        out
    }
}
