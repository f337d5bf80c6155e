//! The Gaussian-kernel warp of de Bézenac et al. (2018) and its forecaster: the warp moves a
//! Gaussian blob by a constant displacement exactly and spreads it by the kernel's variance,
//! conserves mass on a periodic grid, has the gradient of central finite differences, and
//! leaves out no more than its stated truncation error; the tracer simulator translates and
//! spreads a blob as the analytic solution does; the penalties have their exact values.

use std::sync::OnceLock;

use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_physics::PhysicalModel;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::simulators::tracer::{CellularFlow, Tracer};
use sysdyn_physics::warping::data::{FrameSequences, TracerConfig};
use sysdyn_physics::warping::{
    DirectForecaster, Forecaster, GaussianWarp, WarpBoundary, WarpingForecaster, WarpingLoss,
};

fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut d: SysDevice = "flex:f64:autodiff"
                .parse::<DeviceSpec>()
                .unwrap()
                .init()
                .unwrap();
            d.configure_defaults().unwrap();
            d
        })
        .clone()
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

/// A Gaussian blob of variance `var` per axis centred at (row `cy`, column `cx`).
fn blob(n: usize, cy: f64, cx: f64, var: f64) -> Vec<f64> {
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let r2 = (i as f64 - cy).powi(2) + (j as f64 - cx).powi(2);
            v[i * n + j] = (-r2 / (2.0 * var)).exp();
        }
    }
    v
}

/// Mass, centre (row, column) and variances (rows, columns) of a field on an `n × n` grid.
fn moments(n: usize, v: &[f64]) -> (f64, [f64; 2], [f64; 2]) {
    let mass: f64 = v.iter().sum();
    let mut c = [0.0; 2];
    for i in 0..n {
        for j in 0..n {
            c[0] += i as f64 * v[i * n + j] / mass;
            c[1] += j as f64 * v[i * n + j] / mass;
        }
    }
    let mut s = [0.0; 2];
    for i in 0..n {
        for j in 0..n {
            s[0] += (i as f64 - c[0]).powi(2) * v[i * n + j] / mass;
            s[1] += (j as f64 - c[1]).powi(2) * v[i * n + j] / mass;
        }
    }
    (mass, c, s)
}

fn constant_motion(n: usize, wx: f64, wy: f64) -> Tensor<4> {
    let mut m = vec![wx; n * n];
    m.extend(vec![wy; n * n]);
    device().tensor(m, [1, 2, n, n]).unwrap()
}

#[test]
fn a_blob_moves_by_the_displacement_and_spreads_by_the_kernel_variance() {
    let n = 40;
    let (var0, kernel_var) = (4.0, 0.6);
    let (wx, wy) = (2.3, -1.7);
    for boundary in [WarpBoundary::Periodic, WarpBoundary::Zero] {
        let warp = GaussianWarp::with_variance(kernel_var, 7, boundary).unwrap();
        assert!(warp.truncation_error(2.3) < 1e-9);
        let frame = device()
            .tensor(blob(n, 19.0, 18.0, var0), [1, 1, n, n])
            .unwrap();
        let out = host(warp.apply(frame, constant_motion(n, wx, wy)).unwrap());
        let (_, centre, spread) = moments(n, &out);
        // Moves by +w: x (columns) by w_x, y (rows) by w_y; within 1 % of a cell (far better).
        assert!(
            (centre[0] - (19.0 + wy)).abs() < 1e-3,
            "{boundary:?} {centre:?}"
        );
        assert!(
            (centre[1] - (18.0 + wx)).abs() < 1e-3,
            "{boundary:?} {centre:?}"
        );
        for s in spread {
            assert!((s - (var0 + kernel_var)).abs() < 1e-4, "{boundary:?} {s}");
        }
    }
}

#[test]
fn the_diffusion_sets_the_kernel_variance() {
    // 2 D Δt / h² cells²: D = 0.05, Δt = 0.2, h = 0.1 gives 2.
    let warp = GaussianWarp::new(0.05, 0.2, 0.1, 5, WarpBoundary::Periodic).unwrap();
    assert!((warp.variance() - 2.0).abs() < 1e-12);
}

#[test]
fn mass_is_conserved_on_a_periodic_grid_for_a_constant_motion() {
    let n = 12;
    let mut rng = SeededRng::new(3);
    let values = rng.uniforms(n * n);
    let mass: f64 = values.iter().sum();
    let warp = GaussianWarp::with_variance(0.3, 3, WarpBoundary::Periodic).unwrap();
    let frame = device().tensor(values, [1, 1, n, n]).unwrap();
    let out = host(warp.apply(frame, constant_motion(n, 1.4, -0.6)).unwrap());
    let warped: f64 = out.iter().sum();
    assert!((warped - mass).abs() < 1e-11 * mass, "{warped} vs {mass}");
    // A constant field stays constant whatever the motion (normalised weights).
    let ones = device().tensor(vec![1.0; n * n], [1, 1, n, n]).unwrap();
    let motion = device()
        .tensor(rng.normals(2 * n * n), [1, 2, n, n])
        .unwrap();
    for v in host(warp.apply(ones, motion).unwrap()) {
        assert!((v - 1.0).abs() < 1e-13);
    }
}

#[test]
fn the_truncation_error_bounds_what_the_window_leaves_out() {
    // A window of radius 2 against one of radius 8 (exact to 1e-30 here), constant w = 1.5:
    // the difference of the warps is at most the omitted mass (times max |I| = 1, twice: the
    // renormalisation moves it inside).
    let n = 24;
    let var = 0.8;
    let small = GaussianWarp::with_variance(var, 2, WarpBoundary::Periodic).unwrap();
    let large = GaussianWarp::with_variance(var, 8, WarpBoundary::Periodic).unwrap();
    let bound = small.truncation_error(1.5);
    assert!(bound > 1e-3 && bound < 0.5, "{bound}");
    let mut rng = SeededRng::new(5);
    let frame = device().tensor(rng.uniforms(n * n), [1, 1, n, n]).unwrap();
    let a = host(
        small
            .apply(frame.clone(), constant_motion(n, 1.5, 1.5))
            .unwrap(),
    );
    let b = host(large.apply(frame, constant_motion(n, 1.5, 1.5)).unwrap());
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(worst <= 2.0 * bound, "{worst} vs {bound}");
    assert!(
        worst > 0.01 * bound,
        "the bound is not vacuous: {worst} vs {bound}"
    );
}

#[test]
fn the_gradient_matches_central_differences() {
    let d = device();
    let n = 5;
    let mut rng = SeededRng::new(9);
    let frame_v = rng.uniforms(n * n);
    let motion_v: Vec<f64> = rng.normals(2 * n * n).iter().map(|v| 0.6 * v).collect();
    let weights = rng.normals(n * n);
    for boundary in [WarpBoundary::Periodic, WarpBoundary::Zero] {
        let warp = GaussianWarp::with_variance(0.7, 2, boundary).unwrap();
        let objective = |f: &[f64], m: &[f64]| -> f64 {
            let frame = d.tensor(f.to_vec(), [1, 1, n, n]).unwrap();
            let motion = d.tensor(m.to_vec(), [1, 2, n, n]).unwrap();
            let out = host(warp.apply(frame, motion).unwrap());
            out.iter().zip(&weights).map(|(o, w)| o * w).sum()
        };
        let frame = d
            .tensor(frame_v.clone(), [1, 1, n, n])
            .unwrap()
            .require_grad();
        let motion = d
            .tensor(motion_v.clone(), [1, 2, n, n])
            .unwrap()
            .require_grad();
        let w = d.tensor(weights.clone(), [1, 1, n, n]).unwrap();
        let loss = (warp.apply(frame.clone(), motion.clone()).unwrap() * w).sum();
        let grads = loss.backward();
        let g_frame = host(frame.grad(&grads).unwrap());
        let g_motion = host(motion.grad(&grads).unwrap());
        let eps = 1e-6;
        for k in 0..n * n {
            let (mut up, mut down) = (frame_v.clone(), frame_v.clone());
            up[k] += eps;
            down[k] -= eps;
            let fd = (objective(&up, &motion_v) - objective(&down, &motion_v)) / (2.0 * eps);
            assert!((fd - g_frame[k]).abs() < 1e-7, "{boundary:?} frame {k}");
        }
        for k in 0..2 * n * n {
            let (mut up, mut down) = (motion_v.clone(), motion_v.clone());
            up[k] += eps;
            down[k] -= eps;
            let fd = (objective(&frame_v, &up) - objective(&frame_v, &down)) / (2.0 * eps);
            assert!(
                (fd - g_motion[k]).abs() < 1e-7 * (1.0 + fd.abs()),
                "{boundary:?} motion {k}: {fd} vs {}",
                g_motion[k]
            );
        }
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    assert!(matches!(
        GaussianWarp::new(-0.1, 0.1, 0.1, 3, WarpBoundary::Periodic),
        Err(PhysicsError::InvalidParameter {
            name: "diffusion D",
            ..
        })
    ));
    assert!(matches!(
        GaussianWarp::new(0.0, 0.1, 0.1, 3, WarpBoundary::Periodic),
        Err(PhysicsError::InvalidParameter { .. })
    ));
    assert!(matches!(
        GaussianWarp::with_variance(0.5, 0, WarpBoundary::Zero),
        Err(PhysicsError::InvalidParameter { name: "radius", .. })
    ));
    let warp = GaussianWarp::with_variance(0.5, 3, WarpBoundary::Periodic).unwrap();
    let d = device();
    let frame = d.zeros([1, 1, 8, 8]);
    assert!(matches!(
        warp.apply(frame.clone(), d.zeros([1, 2, 8, 7])),
        Err(PhysicsError::SizeMismatch { .. })
    ));
    assert!(matches!(
        warp.apply(frame.clone(), d.zeros([1, 3, 8, 8])),
        Err(PhysicsError::SizeMismatch { .. })
    ));
    assert!(matches!(
        warp.apply(d.zeros([1, 1, 5, 5]), d.zeros([1, 2, 5, 5])),
        Err(PhysicsError::GridTooSmall { .. })
    ));
    assert!(matches!(
        FrameSequences::new(2, 2, vec![vec![vec![0.0, f64::NAN, 0.0, 0.0]]]),
        Err(PhysicsError::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        FrameSequences::new(2, 2, vec![vec![vec![0.0; 3]]]),
        Err(PhysicsError::SizeMismatch { .. })
    ));
    assert!(matches!(
        WarpingLoss::new(-1.0, 0.0, 0.0, WarpBoundary::Periodic),
        Err(PhysicsError::InvalidParameter { .. })
    ));
    let mut rng = SeededRng::new(1);
    assert!(matches!(
        WarpingForecaster::new(2, 4, warp, 3.0, d.device(), &mut rng),
        Err(PhysicsError::InvalidParameter {
            name: "max_displacement",
            ..
        })
    ));
    let model = DirectForecaster::new(2, 4, d.device(), &mut rng).unwrap();
    assert!(matches!(
        model.forecast(d.zeros([1, 3, 8, 8])),
        Err(PhysicsError::SizeMismatch { .. })
    ));
    assert!(matches!(
        model.forecast(d.zeros([1, 2, 6, 6])),
        Err(PhysicsError::SizeMismatch { .. })
    ));
    assert!(matches!(
        Tracer::new(16, -0.01, TracerConfig::on_grid(64).flow),
        Err(PhysicsError::InvalidParameter {
            name: "diffusion",
            ..
        })
    ));
}

#[test]
fn the_tracer_translates_and_spreads_a_blob_as_the_analytic_solution() {
    // Uniform drift only: c(x, t) = blob centred at x0 + U t with variance σ² + 2 D t.
    let n = 48;
    let h = std::f64::consts::TAU / n as f64;
    let flow = CellularFlow {
        amplitude: 0.0,
        wavenumber: 1.0,
        drift: [0.8, -0.5],
        phase: [0.0, 0.0],
    };
    let diffusion = 0.02;
    let tracer = Tracer::new(n, diffusion, flow).unwrap();
    let var0_cells = 9.0;
    let y0 = blob(n, 24.0, 20.0, var0_cells);
    let mut field = sysdyn_physics::ModelField::dense(tracer.clone());
    let t = 1.0;
    let states = sysdyn_physics::model::simulate(
        &mut field,
        &sysdyn_solvers::methods::DOPRI5,
        y0,
        &[0.0, t],
        sysdyn_solvers::SolveConfig::adaptive(1e-9, 1e-9),
    )
    .unwrap();
    let (_, centre, spread) = moments(n, &states[1]);
    assert!(
        (centre[1] - (20.0 + 0.8 * t / h)).abs() < 2e-3,
        "{centre:?}"
    );
    assert!(
        (centre[0] - (24.0 - 0.5 * t / h)).abs() < 2e-3,
        "{centre:?}"
    );
    let expected = var0_cells + 2.0 * diffusion * t / (h * h);
    for s in spread {
        assert!((s - expected).abs() < 2e-3 * expected, "{s} vs {expected}");
    }
    // The exact solution on the grid: the blob moved by U t / h cells, its variance grown by
    // s² = 2 D t / h², its peak scaled by σ²/(σ² + s²) per axis.
    let s2 = 2.0 * diffusion * t / (h * h);
    let exact: Vec<f64> = blob(n, 24.0 - 0.5 * t / h, 20.0 + 0.8 * t / h, var0_cells + s2)
        .iter()
        .map(|v| v * var0_cells / (var0_cells + s2))
        .collect();
    let max_error = |a: &[f64]| {
        a.iter()
            .zip(&exact)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    };
    // The simulator's error is its fourth-order differences' dispersion.
    let simulated = max_error(&states[1]);
    assert!(simulated < 5e-3, "simulator vs exact: {simulated}");
    // One warp step of the same displacement and diffusion is the exact solution.
    let warp = GaussianWarp::new(diffusion, t, h, 16, WarpBoundary::Periodic).unwrap();
    assert!(warp.truncation_error(0.8 * t / h) < 1e-9);
    let motion = tracer.displacement_cells(t);
    let frame = device()
        .tensor(blob(n, 24.0, 20.0, var0_cells), [1, 1, n, n])
        .unwrap();
    let warped = host(
        warp.apply(frame, device().tensor(motion, [1, 2, n, n]).unwrap())
            .unwrap(),
    );
    let warped = max_error(&warped);
    assert!(warped < 1e-6, "warp vs exact: {warped}");
}

#[test]
fn the_tracer_tensor_field_is_its_host_rhs() {
    let config = TracerConfig {
        side: 16,
        ..TracerConfig::on_grid(64)
    };
    let mut tracer = config.tracer().unwrap();
    let mut rng = SeededRng::new(2);
    let y = tracer.random_blobs(3, &mut rng);
    let mut dy = vec![0.0; y.len()];
    tracer.rhs(0.0, &y, &mut dy).unwrap();
    let yt = device().tensor(y, [1, 256]).unwrap();
    let p = tracer.parameter_tensor(&yt);
    let dt = host(tracer.rhs_tensor(0.0, yt, p).unwrap());
    for (a, b) in dt.iter().zip(&dy) {
        assert!((a - b).abs() < 1e-12 * (1.0 + b.abs()));
    }
}

#[test]
fn the_penalties_have_their_exact_values() {
    // The Taylor–Green displacement is divergence-free (to the difference scheme's error);
    // a constant one has no gradient and magnitude |w|².
    let n = 32;
    let tracer = TracerConfig {
        side: n,
        ..TracerConfig::on_grid(64)
    }
    .tracer()
    .unwrap();
    let w = device()
        .tensor(tracer.displacement_cells(0.1), [1, 2, n, n])
        .unwrap();
    let div_only = WarpingLoss::new(1.0, 0.0, 0.0, WarpBoundary::Periodic).unwrap();
    let magnitude: f64 = host(w.clone().powi_scalar(2).sum())[0] / (n * n) as f64;
    let div = host(div_only.penalty(w))[0];
    assert!(div < 1e-4 * magnitude, "{div} vs {magnitude}");
    let all = WarpingLoss::new(1.0, 2.0, 3.0, WarpBoundary::Periodic).unwrap();
    let value = host(all.penalty(constant_motion(8, 0.3, -0.4)))[0];
    assert!((value - 2.0 * 0.25).abs() < 1e-14, "{value}");
}

#[test]
fn the_forecasters_give_frames_and_bounded_motion() {
    let d = device();
    let mut rng = SeededRng::new(4);
    let warp = GaussianWarp::with_variance(0.4, 4, WarpBoundary::Periodic).unwrap();
    let model = WarpingForecaster::new(3, 4, warp, 1.5, d.device(), &mut rng).unwrap();
    let frames = d
        .tensor(rng.normals(2 * 3 * 16 * 16), [2, 3, 16, 16])
        .unwrap();
    let (next, motion) = model.forecast(frames.clone()).unwrap();
    assert_eq!(next.dims(), [2, 1, 16, 16]);
    let motion = host(motion.unwrap());
    assert_eq!(motion.len(), 2 * 2 * 16 * 16);
    assert!(motion.iter().all(|m| m.abs() <= 1.5));
    let direct = DirectForecaster::new(3, 4, d.device(), &mut rng).unwrap();
    let (next, motion) = direct.forecast(frames).unwrap();
    assert_eq!(next.dims(), [2, 1, 16, 16]);
    assert!(motion.is_none());
    // Windows of k + 1 frames: 5 frames and k = 3 give 2 windows per sequence.
    let seq =
        FrameSequences::from_array(&[2, 5, 2, 2], &(0..40).map(f64::from).collect::<Vec<_>>())
            .unwrap();
    assert_eq!(seq.windows(3), vec![(0, 0), (0, 1), (1, 0), (1, 1)]);
    let (inputs, target) = seq.batch(&[(1, 1)], 3, d.device()).unwrap();
    assert_eq!(host(inputs)[0], 24.0);
    assert_eq!(host(target), vec![36.0, 37.0, 38.0, 39.0]);
}

#[test]
fn sst_like_arrays_load_from_an_npz_by_path() {
    use std::io::Write;
    // A [2 sequences, 3 frames, 2, 2] float64 array saved as numpy.savez would.
    let values: Vec<f64> = (0..24).map(|i| i as f64 * 0.5).collect();
    let mut header =
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 2, 2), }".to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    npy.extend((header.len() as u16).to_le_bytes());
    npy.extend(header.as_bytes());
    npy.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sst.npz");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    zip.start_file("sst.npy", zip::write::FileOptions::default())
        .unwrap();
    zip.write_all(&npy).unwrap();
    zip.finish().unwrap();
    let frames = FrameSequences::from_npz(&path, "sst").unwrap();
    assert_eq!((frames.rows, frames.cols), (2, 2));
    assert_eq!(frames.sequences.len(), 2);
    assert_eq!(frames.sequences[1][2], vec![10.0, 10.5, 11.0, 11.5]);
    assert!(matches!(
        FrameSequences::from_npz(&path, "temperature"),
        Err(PhysicsError::Data(_))
    ));
}
