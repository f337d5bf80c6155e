//! The data-set generators: the papers' grids and initial-condition laws, bit-reproducible for
//! a seed across runs and across rayon thread counts (1 vs 2 threads in local pools), and the
//! behaviour of the reaction–diffusion data: FitzHugh–Nagumo's Turing instability grows at the
//! rate its dispersion relation predicts; Gray–Scott's spots spread and FitzHugh–Nagumo's
//! noise is smoothed while staying bounded (qualitative pattern statistics).

use sysdyn_physics::model::{ModelField, simulate, uniform_times};
use sysdyn_physics::simulators::fitzhugh_nagumo::FitzHughNagumo;
use sysdyn_physics::simulators::gray_scott::GrayScott;
use sysdyn_physics::simulators::lorenz::Lorenz63;
use sysdyn_physics::simulators::lotka_volterra::LotkaVolterra;
use sysdyn_physics::simulators::navier_stokes::{NavierStokes2d, leads_forcing};
use sysdyn_physics::simulators::pendulum::DampedPendulum;
use sysdyn_physics::simulators::wave::DampedWave;
use sysdyn_physics::simulators::{Dataset, trajectory_rng};
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::DOPRI5;

fn bits(d: &Dataset) -> Vec<u64> {
    d.trajectories
        .iter()
        .flat_map(|t| t.states.iter().flatten().map(|v| v.to_bits()))
        .collect()
}

fn with_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// The same bits from 1 and 2 threads and from a second run; another seed differs.
fn check_reproducible(make: impl Fn(u64) -> Dataset + Sync) {
    let one = with_threads(1, || make(42));
    let two = with_threads(2, || make(42));
    let again = with_threads(2, || make(42));
    assert_eq!(bits(&one), bits(&two), "{}: 1 vs 2 threads", one.name);
    assert_eq!(bits(&two), bits(&again), "{}: two runs", one.name);
    assert_ne!(bits(&one), bits(&make(43)), "{}: seeds 42 and 43", one.name);
}

#[test]
fn pendulum_data_follow_aphynity_and_reproduce() {
    let p = DampedPendulum::aphynity();
    let data = p.dataset(25, 1).unwrap();
    assert_eq!(data.times.len(), 40);
    assert_eq!(data.times[39], 19.5);
    assert_eq!(data.trajectories.len(), 25);
    for t in &data.trajectories {
        let r = (t.states[0][0].powi(2) + t.states[0][1].powi(2)).sqrt();
        assert!((1.3..2.3).contains(&r), "initial radius {r}");
        assert_eq!(t.states.len(), 40);
    }
    check_reproducible(|seed| p.dataset(6, seed).unwrap());
    let (train, test) = p.aphynity_train_test(1).unwrap();
    assert_eq!(train, data);
    assert_eq!(test.trajectories.len(), 25);
    for a in &train.trajectories {
        assert!(test.trajectories.iter().all(|b| b.states[0] != a.states[0]));
    }
}

#[test]
fn ode_data_reproduce_across_threads() {
    check_reproducible(|seed| LotkaVolterra::leads_dataset(2, seed).unwrap());
    let lorenz = Lorenz63::default();
    let times = uniform_times(2.0, 0.01).unwrap();
    check_reproducible(|seed| lorenz.dataset(4, seed, &times).unwrap());
    let lv = LotkaVolterra::leads_dataset(3, 5).unwrap();
    assert_eq!(lv.env_parameters.len(), 10);
    assert_eq!(lv.times.len(), 20);
    for (i, t) in lv.trajectories.iter().enumerate() {
        assert_eq!(t.env, i / 3);
        assert!(t.states[0].iter().all(|v| (1.0..2.0).contains(v)));
    }
}

#[test]
fn pde_data_reproduce_across_threads() {
    let fhn = FitzHughNagumo::new(8, [1e-3, 5e-3, 5e-3]).unwrap();
    let times = uniform_times(0.5, 0.1).unwrap();
    check_reproducible(|seed| fhn.dataset_on(3, seed, &times).unwrap());
    let gs = GrayScott::new(12, 1.0, [0.2097, 0.105, 0.037, 0.06]).unwrap();
    let times = uniform_times(20.0, 5.0).unwrap();
    check_reproducible(|seed| {
        gs.dataset_environments(&GrayScott::leads_environments(), 1, seed, &times)
            .unwrap()
    });
    let ns = NavierStokes2d::new(8, 1.0, 1e-3)
        .unwrap()
        .with_forcing(leads_forcing(8, 0).unwrap())
        .unwrap();
    let times = uniform_times(1.0, 0.5).unwrap();
    check_reproducible(|seed| ns.dataset_on(2, seed, &times).unwrap());
    let wave = DampedWave::new(64, 1.0, [330.0, 50.0]).unwrap();
    let data = wave.dataset(1, 3).unwrap();
    assert_eq!(data.times.len(), 25);
    assert_eq!(data.state_shape, vec![2, 64, 64]);
}

#[test]
fn gray_scott_spots_spread_and_stay_bounded() {
    // LEADS's first environment from its three-square seed: the v-rich region grows (spot
    // replication), and u, v stay in [0, 1]. A qualitative check of pattern formation.
    let gs = GrayScott::leads();
    let mut rng = trajectory_rng(9, 0);
    let y0 = gs.initial_condition(&mut rng);
    let n = 32 * 32;
    let active = |y: &[f64]| y[n..].iter().filter(|v| **v > 0.2).count();
    let seeded = active(&y0);
    assert!((9..=27).contains(&seeded), "{seeded}");
    let mut field = ModelField::new(gs).unwrap();
    let times = uniform_times(2000.0, 400.0).unwrap();
    let states = simulate(
        &mut field,
        &DOPRI5,
        y0,
        &times,
        SolveConfig::adaptive(1e-7, 1e-9),
    )
    .unwrap();
    let last = states.last().unwrap();
    let grown = active(last);
    eprintln!(
        "Gray-Scott cells with v > 0.2: {seeded} at t = 0, {grown} at t = {}",
        times[times.len() - 1]
    );
    assert!(grown > 3 * seeded, "{seeded} → {grown}");
    assert!(
        states
            .iter()
            .flatten()
            .all(|v| (-1e-6..=1.0 + 1e-6).contains(v))
    );
}

#[test]
fn fitzhugh_nagumo_data_stay_bounded_and_smooth_out() {
    // From APHYNITY's uniform [0, 1) noise the diffusion smooths the field (the spatial
    // variance of u falls) while the reaction keeps u, v bounded (|u| ≤ ~1.1).
    let fhn = FitzHughNagumo::aphynity();
    let data = fhn.dataset(2, 4).unwrap();
    assert_eq!(data.times.len(), 30);
    assert_eq!(data.state_shape, vec![2, 32, 32]);
    let n = 32 * 32;
    let var = |u: &[f64]| {
        let m = u.iter().sum::<f64>() / u.len() as f64;
        u.iter().map(|v| (v - m).powi(2)).sum::<f64>() / u.len() as f64
    };
    for t in &data.trajectories {
        let v0 = var(&t.states[0][..n]);
        let v1 = var(&t.states[29][..n]);
        eprintln!("FHN var(u): {v0:.4} at t = 0, {v1:.4} at t = 2.9");
        assert!(v1 < v0, "{v0} → {v1}");
        assert!(t.states.iter().flatten().all(|v| v.abs() < 1.2));
    }
}

#[test]
fn burgers_kdv_and_cardiac_data_reproduce_and_respect_their_physics() {
    use sysdyn_physics::simulators::burgers::Burgers;
    use sysdyn_physics::simulators::cardiac::{AlievPanfilov, MitchellSchaeffer};
    use sysdyn_physics::simulators::kdv::KdV;

    // Burgers: the mean is conserved and max |u| never grows (maximum principle).
    let burgers = Burgers::new(64, 0.05).unwrap();
    let times = uniform_times(1.0, 0.25).unwrap();
    check_reproducible(|seed| burgers.dataset(3, seed, &times).unwrap());
    for t in &burgers.dataset(3, 1, &times).unwrap().trajectories {
        let mean0 = t.states[0].iter().sum::<f64>() / 64.0;
        let mut peak = f64::INFINITY;
        for s in &t.states {
            assert!((s.iter().sum::<f64>() / 64.0 - mean0).abs() < 1e-10);
            let m = s.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            assert!(m <= peak + 1e-9);
            peak = m;
        }
    }

    // KdV: the mass ∫u and the momentum ∫u² are invariants.
    let kdv = KdV::new(256, -30.0, 60.0).unwrap();
    let times = uniform_times(2.0, 0.5).unwrap();
    check_reproducible(|seed| kdv.dataset(2, seed, &times, 2e-3).unwrap());
    for t in &kdv.dataset(2, 1, &times, 2e-3).unwrap().trajectories {
        let mass = |s: &Vec<f64>| s.iter().sum::<f64>();
        let momentum = |s: &Vec<f64>| s.iter().map(|v| v * v).sum::<f64>();
        for s in &t.states {
            assert!((mass(s) / mass(&t.states[0]) - 1.0).abs() < 1e-10);
            assert!((momentum(s) / momentum(&t.states[0]) - 1.0).abs() < 1e-6);
        }
    }

    // Aliev-Panfilov tissue: the stimulus launches a wave that excites the whole 16 × 16 sheet.
    let ap = AlievPanfilov::tissue(16, 16, 1.0).unwrap();
    let times = uniform_times(40.0, 2.0).unwrap();
    check_reproducible(|seed| ap.dataset(1, seed, &times).unwrap());
    let data = ap.dataset(1, 2, &times).unwrap();
    let n = 256;
    let excited_ever: usize = (0..n)
        .filter(|&c| data.trajectories[0].states.iter().any(|s| s[c] > 0.5))
        .count();
    assert!(
        excited_ever == n,
        "only {excited_ever} of {n} cells excited"
    );

    let ms = MitchellSchaeffer::cell();
    let times = uniform_times(50.0, 5.0).unwrap();
    check_reproducible(|seed| ms.dataset(3, seed, &times).unwrap());
}

#[test]
fn leads_navier_stokes_environments_share_initial_law_and_differ_in_forcing() {
    let data = NavierStokes2d::leads_dataset(1, 3);
    let data = data.unwrap();
    assert_eq!(data.trajectories.len(), 4);
    assert_eq!(data.times.len(), 10);
    for (e, t) in data.trajectories.iter().enumerate() {
        assert_eq!(t.env, e);
        assert!(t.states.iter().flatten().all(|v| v.is_finite()));
    }
}

#[test]
fn fitzhugh_nagumo_turing_instability_grows_at_the_predicted_rate() {
    // APHYNITY's parameters make the homogeneous state u = v = −k^{1/3} stable without
    // diffusion but Turing-unstable with it (b/a = 5). From a tiny perturbation the spatial
    // variance grows like e^{2σt}, σ the largest growth rate over the discrete modes of the
    // five-point Laplacian: μ = −(4/h²)(sin²(π m_x/n) + sin²(π m_y/n)), eigenvalues of
    // [[1 − 3u*² + aμ, −1], [1, −1 + bμ]].
    let fhn = FitzHughNagumo::aphynity();
    let [a, b, k]: [f64; 3] = [1e-3, 5e-3, 5e-3];
    let n = 32;
    let h = 2.0 / n as f64;
    let us = -k.cbrt();
    let j11 = 1.0 - 3.0 * us * us;
    let mut sigma = f64::NEG_INFINITY;
    for mx in 0..n {
        for my in 0..n {
            let s = |m: usize| (std::f64::consts::PI * m as f64 / n as f64).sin().powi(2);
            let mu = -4.0 / (h * h) * (s(mx) + s(my));
            let (p, q) = (j11 + a * mu, -1.0 + b * mu);
            let (tr, det) = (p + q, p * q + 1.0);
            let disc = tr * tr / 4.0 - det;
            let re = if disc >= 0.0 {
                tr / 2.0 + disc.sqrt()
            } else {
                tr / 2.0
            };
            sigma = sigma.max(re);
        }
    }
    assert!(sigma > 0.0);
    let mut rng = trajectory_rng(5, 0);
    let y0: Vec<f64> = (0..2 * n * n)
        .map(|_| us + 1e-6 * (rng.uniform() - 0.5))
        .collect();
    let var = |y: &[f64]| {
        let u = &y[..n * n];
        let m = u.iter().sum::<f64>() / u.len() as f64;
        u.iter().map(|v| (v - m).powi(2)).sum::<f64>() / u.len() as f64
    };
    let times = [0.0, 20.0, 40.0];
    let mut field = ModelField::new(fhn).unwrap();
    let states = simulate(
        &mut field,
        &DOPRI5,
        y0,
        &times,
        SolveConfig::adaptive(1e-10, 1e-14),
    )
    .unwrap();
    let rate = (var(&states[2]) / var(&states[1])).ln() / (2.0 * 20.0);
    eprintln!(
        "FHN Turing growth: measured σ = {rate:.4}, predicted {sigma:.4}; var {:.2e} → {:.2e}",
        var(&states[0]),
        var(&states[2])
    );
    assert!((rate / sigma - 1.0).abs() < 0.05, "{rate} vs {sigma}");
    assert!(var(&states[2]) > 100.0 * var(&states[0]));
}
