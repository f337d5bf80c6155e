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

/// Robertson's chemical kinetics (1966), the classic stiff test problem:
/// `y1' = -k1 y1 + k3 y2 y3`, `y2' = k1 y1 - k2 y2² - k3 y2 y3`, `y3' = k2 y2²`,
/// `y(0) = (1, 0, 0)`.
/// Rate constants ten orders of magnitude apart make it stiff; `y1 + y2 + y3 = 1` is conserved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Robertson {
    /// Rate of `A → B`.
    pub k1: f64,
    /// Rate of `B + B → C + B`.
    pub k2: f64,
    /// Rate of `B + C → A + C`.
    pub k3: f64,
}

impl Robertson {
    /// The standard constants `k1 = 0.04`, `k2 = 3e7`, `k3 = 1e4`.
    pub const STANDARD: Robertson = Robertson {
        k1: 0.04,
        k2: 3e7,
        k3: 1e4,
    };
    /// The initial state.
    pub const Y0: [f64; 3] = [1.0, 0.0, 0.0];
    /// The state at `t = 40` as published (Hairer & Wanner, *Solving ODEs II*, and the IVP test
    /// sets built on it): `(0.7158270687, 9.185534765e-6, 0.2841637457)`.
    pub const AT_40: [f64; 3] = [0.7158270687193267, 9.185534764529399e-6, 0.284163745745862];
    /// The state at `t = 1e5`, computed with ESDIRK4 at rtol 1e-12 (atol 1e-16). TR-BDF2 at
    /// rtol 1e-10, 1e-11 and 1e-12 converges to it (relative differences 1.5e-7, 3.1e-8, 6.5e-9
    /// in `y1`); the stiff test suite redoes both methods at rtol 1e-11.
    pub const AT_1E5: [f64; 3] = [0.017865921142614, 7.2747514685798e-8, 0.98213400610987];
    /// The state at `t = 1e11`, the end of the long run (Hairer & Wanner, *Solving ODEs II*,
    /// IV.10), as published in the Test Set for IVP Solvers (Mazzia & Magherini, problem ROBER).
    /// It agrees with the late-time asymptotics: with `y2` in quasi-equilibrium,
    /// `y2 ≈ (k1/k3) y1` and `y1' ≈ -k2 (k1/k3)² y1²`, so `y1 ≈ k3² / (k2 k1² t)` = 2.0833e-8.
    pub const AT_1E11: [f64; 3] = [
        0.2083340149701255e-7,
        0.8333360770334713e-13,
        0.999999979166505,
    ];

    /// The vector field.
    #[inline]
    pub fn field(&self, y: &[f64; 3]) -> [f64; 3] {
        let r1 = self.k1 * y[0];
        let r2 = self.k2 * y[1] * y[1];
        let r3 = self.k3 * y[1] * y[2];
        [-r1 + r3, r1 - r2 - r3, r2]
    }

    /// The Jacobian `∂f/∂y`, row by row.
    pub fn jacobian(&self, y: &[f64; 3]) -> [[f64; 3]; 3] {
        [
            [-self.k1, self.k3 * y[2], self.k3 * y[1]],
            [
                self.k1,
                -2.0 * self.k2 * y[1] - self.k3 * y[2],
                -self.k3 * y[1],
            ],
            [0.0, 2.0 * self.k2 * y[1], 0.0],
        ]
    }
}

/// The Van der Pol oscillator `x'' = μ (1 - x²) x' - x` as `y = (x, x')`. For large `μ` it is stiff
/// with relaxation oscillations of period about `(3 - 2 ln 2) μ`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VanDerPol {
    /// The damping parameter μ.
    pub mu: f64,
}

impl VanDerPol {
    /// The usual initial state `(2, 0)`.
    pub const Y0: [f64; 2] = [2.0, 0.0];

    /// The vector field `(x', μ (1 - x²) x' - x)` (the form of MATLAB's `vdp1000` example).
    #[inline]
    pub fn field(&self, y: &[f64; 2]) -> [f64; 2] {
        [y[1], self.mu * (1.0 - y[0] * y[0]) * y[1] - y[0]]
    }

    /// The Jacobian `∂f/∂y`, row by row.
    pub fn jacobian(&self, y: &[f64; 2]) -> [[f64; 2]; 2] {
        [
            [0.0, 1.0],
            [
                -2.0 * self.mu * y[0] * y[1] - 1.0,
                self.mu * (1.0 - y[0] * y[0]),
            ],
        ]
    }

    /// The period of the limit cycle to leading order in μ, `(3 - 2 ln 2) μ`.
    pub fn relaxation_period(&self) -> f64 {
        (3.0 - 2.0 * std::f64::consts::LN_2) * self.mu
    }
}

/// The Kepler problem `H(q, p) = |p|²/2 - 1/|q|` in the plane (gravitational constant and mass
/// one), started at the pericentre of an orbit of eccentricity `e`, semi-major axis one and
/// period 2π.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kepler {
    /// Eccentricity in `[0, 1)`.
    pub eccentricity: f64,
}

impl Kepler {
    /// The period of every orbit of semi-major axis one.
    pub const PERIOD: f64 = std::f64::consts::TAU;

    /// Initial position `(1 - e, 0)`.
    pub fn q0(&self) -> [f64; 2] {
        [1.0 - self.eccentricity, 0.0]
    }

    /// Initial momentum `(0, sqrt((1 + e)/(1 - e)))`.
    pub fn p0(&self) -> [f64; 2] {
        let e = self.eccentricity;
        [0.0, ((1.0 + e) / (1.0 - e)).sqrt()]
    }

    /// `∂H/∂p = p`.
    pub fn velocity(&self, p: &[f64; 2]) -> [f64; 2] {
        *p
    }

    /// `-∂H/∂q = -q/|q|³`.
    pub fn force(&self, q: &[f64; 2]) -> [f64; 2] {
        let r2 = q[0] * q[0] + q[1] * q[1];
        let inv_r3 = 1.0 / (r2 * r2.sqrt());
        [-q[0] * inv_r3, -q[1] * inv_r3]
    }

    /// The energy `|p|²/2 - 1/|q|` (exactly -1/2 on these orbits).
    pub fn energy(&self, q: &[f64; 2], p: &[f64; 2]) -> f64 {
        0.5 * (p[0] * p[0] + p[1] * p[1]) - 1.0 / (q[0] * q[0] + q[1] * q[1]).sqrt()
    }
}

/// Geometric Brownian motion `dy = μ y dt + σ y dW` (Itô), with exact solution
/// `y(t) = y0 exp((μ - σ²/2) t + σ W(t))` driven by the same Brownian path. The equivalent
/// Stratonovich equation has drift `(μ - σ²/2) y`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeometricBrownianMotion {
    /// Drift rate μ.
    pub mu: f64,
    /// Volatility σ.
    pub sigma: f64,
}

impl GeometricBrownianMotion {
    /// The exact solution at time `t` (from 0) given the Brownian value `w = W(t) - W(0)`.
    pub fn exact(&self, t: f64, y0: f64, w: f64) -> f64 {
        y0 * ((self.mu - 0.5 * self.sigma * self.sigma) * t + self.sigma * w).exp()
    }

    /// The Stratonovich drift coefficient `μ - σ²/2`.
    pub fn stratonovich_rate(&self) -> f64 {
        self.mu - 0.5 * self.sigma * self.sigma
    }
}

/// The Ornstein–Uhlenbeck process `dy = θ (m - y) dt + σ dW`: Gaussian, with known mean and
/// variance at every time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrnsteinUhlenbeck {
    /// Mean-reversion rate θ.
    pub theta: f64,
    /// Long-run mean m.
    pub mean: f64,
    /// Noise amplitude σ.
    pub sigma: f64,
}

impl OrnsteinUhlenbeck {
    /// `E[y(t)] = m + (y0 - m) e^{-θ t}`.
    pub fn mean_at(&self, t: f64, y0: f64) -> f64 {
        self.mean + (y0 - self.mean) * (-self.theta * t).exp()
    }

    /// `Var[y(t)] = σ² (1 - e^{-2θ t}) / (2θ)` for a deterministic start.
    pub fn variance_at(&self, t: f64) -> f64 {
        self.sigma * self.sigma * (1.0 - (-2.0 * self.theta * t).exp()) / (2.0 * self.theta)
    }
}

/// A ball dropped from rest at height `h0` under gravity `g`; at each impact its velocity is
/// reversed and multiplied by the restitution `e`. State `(height, velocity)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BouncingBall {
    /// Gravitational acceleration.
    pub g: f64,
    /// Initial height.
    pub h0: f64,
    /// Coefficient of restitution in `(0, 1]`.
    pub restitution: f64,
}

impl BouncingBall {
    /// The vector field (free fall).
    pub fn field(&self, y: &[f64; 2]) -> [f64; 2] {
        [y[1], -self.g]
    }

    /// The initial state `(h0, 0)`.
    pub fn y0(&self) -> [f64; 2] {
        [self.h0, 0.0]
    }

    /// Time of the `k`-th impact (`k = 1` is the first): `t1 = sqrt(2 h0 / g)`, and between
    /// impacts `k` and `k + 1` the ball flies for `2 e^k v1 / g` with `v1 = g t1`.
    pub fn impact_time(&self, k: usize) -> f64 {
        let t1 = (2.0 * self.h0 / self.g).sqrt();
        let v1 = self.g * t1;
        (1..k).fold(t1, |t, j| {
            t + 2.0 * self.restitution.powi(j as i32) * v1 / self.g
        })
    }
}
