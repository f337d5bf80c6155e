//! The bilinear game min_x max_y xy: simultaneous descent-ascent spirals out by exactly
//! √(1+η²) per step, alternating play stays on a conserved ellipse, extragradient and
//! optimistic play converge. The Jacobian's eigenvalues (±i) and the iteration matrices'
//! spectra predict each behaviour.

use sysdyn_optim::analysis::{Complex, Matrix, measured_rate};
use sysdyn_optim::game::{BilinearGame, ClosureGame, Game, GameScheme, play};
use sysdyn_optim::{OptimError, Player};

const ORIGIN: [f64; 1] = [0.0];

fn distances(scheme: GameScheme, eta: f64, steps: usize) -> Vec<f64> {
    play(
        &BilinearGame::scalar(),
        scheme,
        [eta, eta],
        &[1.0],
        &[0.5],
        steps,
    )
    .unwrap()
    .distances_to(&ORIGIN, &ORIGIN)
}

#[test]
fn simultaneous_play_grows_by_sqrt_one_plus_eta_squared() {
    for eta in [0.01, 0.1, 0.5, 1.0] {
        let d = distances(GameScheme::Simultaneous, eta, 200);
        let factor = (1.0 + eta * eta).sqrt();
        let worst = d
            .windows(2)
            .map(|w| (w[1] / w[0] - factor).abs())
            .fold(0.0, f64::max);
        println!("simultaneous η={eta}: per-step factor error {worst:.1e}");
        assert!(worst < 1e-12, "η={eta}: {worst}");
    }
}

#[test]
fn alternating_play_stays_bounded_on_a_conserved_ellipse() {
    // x' = x - ηy, y' = y + ηx' conserves Q = x² + y² - ηxy exactly, so for η < 2
    // |z|² ∈ [Q/(1+η/2), Q/(1-η/2)]: bounded, and bounded away from the equilibrium.
    for eta in [0.1, 0.5, 1.5] {
        let t = play(
            &BilinearGame::scalar(),
            GameScheme::Alternating,
            [eta, eta],
            &[1.0],
            &[0.5],
            10_000,
        )
        .unwrap();
        let q0 = 1.0 + 0.25 - eta * 0.5;
        let mut max_q_drift: f64 = 0.0;
        for (x, y) in t.xs.iter().zip(&t.ys) {
            let (x, y) = (x[0], y[0]);
            let q = x * x + y * y - eta * x * y;
            max_q_drift = max_q_drift.max((q - q0).abs() / q0);
            let r2 = x * x + y * y;
            assert!(
                r2 <= q0 / (1.0 - eta / 2.0) * (1.0 + 1e-9),
                "η={eta}: |z|²={r2}"
            );
            assert!(
                r2 >= q0 / (1.0 + eta / 2.0) * (1.0 - 1e-9),
                "η={eta}: |z|²={r2}"
            );
        }
        let d = t.distances_to(&ORIGIN, &ORIGIN);
        let max = d.iter().copied().fold(0.0, f64::max);
        println!("alternating η={eta}: max |z| {max:.4} over 1e4 steps, Q drift {max_q_drift:.1e}");
        assert!(max_q_drift < 1e-10);
    }
}

#[test]
fn extragradient_converges_at_its_predicted_rate() {
    // z' = (I - ηJ + η²J²) z with J² = -I: eigenvalues (1-η²) ∓ iη, modulus √(1-η²+η⁴).
    for (eta, steps) in [(0.1, 3000), (0.5, 150)] {
        let d = distances(GameScheme::Extragradient, eta, steps);
        let predicted = (1.0 - eta * eta + eta.powi(4)).sqrt();
        let measured = measured_rate(&d, 0, steps).unwrap();
        println!(
            "extragradient η={eta}: distance {:.2e} after {steps} steps, rate {measured:.8} vs {predicted:.8}",
            d[steps]
        );
        assert!(d[steps] < 1e-6, "η={eta}: {}", d[steps]);
        assert!((measured - predicted).abs() < 1e-10);
    }
}

#[test]
fn optimistic_play_converges() {
    let d = distances(GameScheme::Optimistic, 0.2, 2000);
    println!(
        "optimistic η=0.2: distance {:.2e} after 2000 steps",
        d[2000]
    );
    assert!(d[2000] < 1e-6);
    // And it does so monotonically in the long run (no spiralling out).
    assert!(d[2000] < d[1000] && d[1000] < d[500]);
}

#[test]
fn jacobian_eigenvalues_explain_the_schemes() {
    let game = BilinearGame::scalar();
    let j = game.jacobian(&[0.3], &[-0.2]).unwrap();
    assert_eq!(j, Matrix::from_rows(&[[0.0, 1.0], [-1.0, 0.0]]).unwrap());
    let eig = j.eigenvalues().unwrap();
    assert_eq!(eig, vec![Complex::new(0.0, 1.0), Complex::new(0.0, -1.0)]);

    // The same Jacobian by central differences, from a closure game.
    let xy = ClosureGame::new(
        (1, 1),
        |_x: &[f64], y: &[f64]| y.to_vec(),
        |x: &[f64], _y: &[f64]| vec![-x[0]],
    );
    let fd = xy.jacobian(&[0.3], &[-0.2]).unwrap();
    for (a, b) in fd.as_slice().iter().zip(j.as_slice()) {
        assert!((a - b).abs() < 1e-10);
    }

    // Iteration matrices: simultaneous I - ηJ has spectral radius √(1+η²) > 1; extragradient
    // I - ηJ + η²J² has √(1-η²+η⁴) < 1.
    let eta = 0.3;
    let id = Matrix::identity(2);
    let sim = Matrix::from_row_major(
        2,
        2,
        id.as_slice()
            .iter()
            .zip(j.as_slice())
            .map(|(i, a)| i - eta * a)
            .collect(),
    )
    .unwrap();
    assert!((sim.spectral_radius().unwrap() - (1.0 + eta * eta).sqrt()).abs() < 1e-14);
    let j2 = j.matmul(&j).unwrap();
    let eg = Matrix::from_row_major(
        2,
        2,
        (0..4)
            .map(|k| id.as_slice()[k] - eta * j.as_slice()[k] + eta * eta * j2.as_slice()[k])
            .collect(),
    )
    .unwrap();
    let predicted = (1.0 - eta * eta + eta.powi(4)).sqrt();
    assert!((eg.spectral_radius().unwrap() - predicted).abs() < 1e-14);
}

#[test]
fn higher_dimensional_bilinear_games_spiral_by_their_singular_values() {
    // For min_x max_y xᵀAy the Jacobian [[0, A], [-Aᵀ, 0]] has eigenvalues ±iσ_j (σ_j the
    // singular values of A), so simultaneous play grows like √(1+η²σ_max²) per step.
    let a = Matrix::from_rows(&[[2.0, 0.5, 0.0], [0.0, 1.0, -0.3], [0.4, 0.0, 0.7]]).unwrap();
    let game = BilinearGame::new(a.clone());
    let j = game.jacobian(&[0.0; 3], &[0.0; 3]).unwrap();
    let eig = j.eigenvalues().unwrap();
    assert!(eig.iter().all(|z| z.re.abs() < 1e-12), "{eig:?}");
    let ata = a.transpose().matmul(&a).unwrap();
    let sigma_max = ata.eigenvalues().unwrap()[0].re.sqrt();
    let im_max = eig.iter().map(|z| z.im).fold(0.0, f64::max);
    assert!((im_max - sigma_max).abs() < 1e-12);
    let eta = 0.05;
    let d = play(
        &game,
        GameScheme::Simultaneous,
        [eta, eta],
        &[1.0, -1.0, 0.5],
        &[0.2, 0.3, -0.4],
        3000,
    )
    .unwrap()
    .distances_to(&[0.0; 3], &[0.0; 3]);
    let measured = measured_rate(&d, 1000, 3000).unwrap();
    let predicted = (1.0 + eta * eta * sigma_max * sigma_max).sqrt();
    assert!(
        (measured - predicted).abs() < 1e-6,
        "{measured} vs {predicted}"
    );
}

#[test]
fn bad_setups_are_typed_errors() {
    let g = BilinearGame::scalar();
    assert!(matches!(
        play(
            &g,
            GameScheme::Extragradient,
            [-0.1, 0.1],
            &[1.0],
            &[1.0],
            3
        ),
        Err(OptimError::InvalidHyperParameter { .. })
    ));
    assert!(matches!(
        play(
            &g,
            GameScheme::Simultaneous,
            [0.1, 0.1],
            &[1.0, 2.0],
            &[1.0],
            3
        ),
        Err(OptimError::DimensionMismatch { .. })
    ));
    assert_eq!(g.gradient(Player::Second, &[2.0], &[0.0]), vec![-2.0]);
}
