//! Reference problems. Each gives its vector field on plain arrays and, where one exists, its
//! exact solution, so solver tests compare against mathematics rather than against stored output.

/// Lotka–Volterra predator–prey model `x' = a x - b x y`, `y' = d x y - g y` (workload W1).
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
    /// The parameters of workload W1: a = 1.5, b = 1, d = 1, g = 3.
    pub const W1: LotkaVolterra = LotkaVolterra {
        a: 1.5,
        b: 1.0,
        d: 1.0,
        g: 3.0,
    };
    /// W1's initial state.
    pub const W1_Y0: [f64; 2] = [1.0, 1.0];
    /// W1's time span.
    pub const W1_SPAN: (f64, f64) = (0.0, 15.0);
    /// W1's reference final state x(15), y(15).
    pub const W1_FINAL: [f64; 2] = [6.341918388491167, 0.7323209718374818];

    /// The vector field.
    #[inline]
    pub fn field(&self, y: &[f64; 2]) -> [f64; 2] {
        [
            self.a * y[0] - self.b * y[0] * y[1],
            self.d * y[0] * y[1] - self.g * y[1],
        ]
    }

    /// The conserved quantity `V = d x - g ln x + b y - a ln y`.
    pub fn invariant(&self, y: &[f64; 2]) -> f64 {
        self.d * y[0] - self.g * y[0].ln() + self.b * y[1] - self.a * y[1].ln()
    }
}

/// `y' = λ y`, exact `y(t) = y0 e^{λ t}`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExponentialDecay {
    /// The rate λ.
    pub lambda: f64,
}

impl ExponentialDecay {
    /// The vector field.
    pub fn field(&self, y: &[f64; 1]) -> [f64; 1] {
        [self.lambda * y[0]]
    }

    /// The exact solution.
    pub fn exact(&self, t: f64, y0: &[f64; 1]) -> [f64; 1] {
        [y0[0] * (self.lambda * t).exp()]
    }
}

/// The harmonic oscillator `q' = p`, `p' = -ω² q`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HarmonicOscillator {
    /// Angular frequency ω.
    pub omega: f64,
}

impl HarmonicOscillator {
    /// The vector field on `[q, p]`.
    pub fn field(&self, y: &[f64; 2]) -> [f64; 2] {
        [y[1], -self.omega * self.omega * y[0]]
    }

    /// The exact solution.
    pub fn exact(&self, t: f64, y0: &[f64; 2]) -> [f64; 2] {
        let (s, c) = (self.omega * t).sin_cos();
        [
            y0[0] * c + y0[1] / self.omega * s,
            -y0[0] * self.omega * s + y0[1] * c,
        ]
    }

    /// The energy `½ p² + ½ ω² q²`.
    pub fn energy(&self, y: &[f64; 2]) -> f64 {
        0.5 * y[1] * y[1] + 0.5 * self.omega * self.omega * y[0] * y[0]
    }
}

/// A non-autonomous linear system with an exact solution:
/// `y' = cos(t) y`, exact `y(t) = y0 e^{sin t - sin t0}`, and `z' = 2 t z`, exact
/// `z(t) = z0 e^{t² - t0²}`; the state is `[y, z]`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NonAutonomousLinear;

impl NonAutonomousLinear {
    /// The vector field.
    pub fn field(&self, t: f64, y: &[f64; 2]) -> [f64; 2] {
        [t.cos() * y[0], 2.0 * t * y[1]]
    }

    /// The exact solution from `(t0, y0)`.
    pub fn exact(&self, t0: f64, t: f64, y0: &[f64; 2]) -> [f64; 2] {
        [
            y0[0] * (t.sin() - t0.sin()).exp(),
            y0[1] * (t * t - t0 * t0).exp(),
        ]
    }
}
