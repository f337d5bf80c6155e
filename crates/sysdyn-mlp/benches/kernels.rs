//! The engine's hand-written matrix products against the `gemm` crate's (which burn's `flex`
//! backend uses), on the products of the benchmark workloads' MLPs (bench/WORKLOADS.md), one
//! thread each (the engine splits the batch across workers itself, so each product sees one
//! worker's rows).
//!
//! Run optimised without a release build of burn: the root manifest builds this crate with
//! `opt-level = 3` in the dev profile, so
//!
//! ```text
//! cargo bench -p sysdyn-mlp --profile dev --bench kernels
//! ```
//!
//! prints, per shape, the median time of each and their ratio, and checks that both agree.
//!
//! Measured 2026-12-06 on the 2-core AVX2/FMA development machine (shared, so absolute times
//! are loose; the two are timed alternately, so the ratios hold), µs, ours / gemm:
//!
//! ```text
//!                               f32                     f64
//! W2 hidden  a W    256×64×64   54.5 /  40.4 (0.74)    333 /  83 (0.25)
//! W2 hidden  aᵀ δ   64×256×64   64.8 /  44.8 (0.69)    307 /  77 (0.25)
//! W2 in      x W0   256×2×64     3.8 /  25.1 (6.7)     5.5 /  24 (4.4)
//! W2 out     a W2   256×64×2     4.3 /   7.0 (1.6)     5.6 / 6.7 (1.2)
//! W2 out     δ W2ᵀ  256×2×64     4.0 /  25.7 (6.5)     6.3 /  24 (3.9)
//! W6 tangent τ W    512×64×64    113 /    84 (0.74)    657 / 165 (0.25)
//! W3 hidden  a W    512×128×128  448 /   333 (0.74)   2659 / 591 (0.22)
//! W3 hidden  aᵀ δ   128×512×128  557 /   337 (0.61)   5402 / 604 (0.11)
//! W5 hidden  a W    5000×20×20   602 /   146 (0.24)   1024 / 218 (0.21)
//! ```
//!
//! Hence the engine's products: gemm for the blocked shapes on AVX2/FMA
//! machines, the hand-written thin kernels for products with a side of at most 4.

use std::hint::black_box;
use std::time::{Duration, Instant};

use gemm::Parallelism;
use sysdyn_mlp::{Float, hand_written_gemm, kernel_path};

/// One product `c = a b` (`m×k` by `k×n`), operands possibly stored transposed.
struct Shape {
    name: &'static str,
    m: usize,
    k: usize,
    n: usize,
    a_t: bool,
    b_t: bool,
}

const fn shape(name: &'static str, m: usize, k: usize, n: usize, a_t: bool, b_t: bool) -> Shape {
    Shape {
        name,
        m,
        k,
        n,
        a_t,
        b_t,
    }
}

/// Per worker (2 workers): W2/W6 batch 512 → 256 rows, width 64; W6's trace stacks 2
/// directions (512 rows); W3 batch 1024 → 512 rows, width 128; W5's collocation batch 10000 →
/// 5000 rows, width 20. Forward `a W`, weight gradient `aᵀ δ`, input cotangent `δ Wᵀ`, and the
/// thin layers from and to the 2-D states.
const SHAPES: [Shape; 13] = [
    shape("W2 hidden  a W     ", 256, 64, 64, false, false),
    shape("W2 hidden  aᵀ δ    ", 64, 256, 64, true, false),
    shape("W2 hidden  δ Wᵀ    ", 256, 64, 64, false, true),
    shape("W2 in      x W0    ", 256, 2, 64, false, false),
    shape("W2 out     a W2    ", 256, 64, 2, false, false),
    shape("W2 out     δ W2ᵀ   ", 256, 2, 64, false, true),
    shape("W6 tangent τ W     ", 512, 64, 64, false, false),
    shape("W6 tangent τᵀ ū    ", 64, 512, 64, true, false),
    shape("W3 hidden  a W     ", 512, 128, 128, false, false),
    shape("W3 hidden  aᵀ δ    ", 128, 512, 128, true, false),
    shape("W3 in      a W0    ", 512, 34, 128, false, false),
    shape("W5 hidden  a W     ", 5000, 20, 20, false, false),
    shape("W5 hidden  aᵀ δ    ", 20, 5000, 20, true, false),
];

fn values<E: Float>(len: usize, seed: usize) -> Vec<E> {
    (0..len)
        .map(|i| E::from_f64((((i + seed) * 7919) % 113) as f64 / 56.5 - 1.0))
        .collect()
}

/// `c = a b` by the `gemm` crate, row-major operands (transposes by strides).
#[allow(clippy::too_many_arguments)]
fn gemm_crate<E: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[E],
    a_t: bool,
    b: &[E],
    b_t: bool,
    c: &mut [E],
) {
    let (a_cs, a_rs) = if a_t {
        (m as isize, 1)
    } else {
        (1, k as isize)
    };
    let (b_cs, b_rs) = if b_t {
        (k as isize, 1)
    } else {
        (1, n as isize)
    };
    // SAFETY: the pointers and strides describe the row-major buffers, which are long enough
    // (asserted), and `c` does not alias `a` or `b`.
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            E::ZERO,
            E::ONE,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

/// Median seconds per call of `f` and of `g`, timed alternately (at least 50 calls each and
/// 0.5 s) so that both see the same load from other processes on a shared machine.
fn medians(mut f: impl FnMut(), mut g: impl FnMut()) -> (f64, f64) {
    for _ in 0..5 {
        f();
        g();
    }
    let (mut tf, mut tg) = (Vec::new(), Vec::new());
    let start = Instant::now();
    while tf.len() < 50 || start.elapsed() < Duration::from_millis(500) {
        let t = Instant::now();
        f();
        tf.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        g();
        tg.push(t.elapsed().as_secs_f64());
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(tf), median(tg))
}

fn main() {
    run::<f32>(1e-5);
    run::<f64>(1e-12);
    println!("ratio = gemm time / ours (above 1: the hand-written product is faster)");
}

fn run<E: Float>(tol: f64) {
    println!(
        "{}, one thread, kernel path {:?} (median µs per product)",
        E::NAME,
        kernel_path()
    );
    println!(
        "{:<20} {:>16} {:>10} {:>10} {:>8} {:>9}",
        "shape", "m×k×n", "ours", "gemm", "ratio", "GFLOP/s"
    );
    for s in &SHAPES {
        let a = values::<E>(s.m * s.k, 1);
        let b = values::<E>(s.k * s.n, 2);
        let mut ours = vec![E::ZERO; s.m * s.n];
        let mut theirs = vec![E::ZERO; s.m * s.n];
        let (t_ours, t_gemm) = medians(
            || {
                hand_written_gemm::<E>(
                    s.m,
                    s.k,
                    s.n,
                    black_box(&a),
                    s.a_t,
                    black_box(&b),
                    s.b_t,
                    E::ZERO,
                    &mut ours,
                );
            },
            || {
                gemm_crate(
                    s.m,
                    s.k,
                    s.n,
                    black_box(&a),
                    s.a_t,
                    black_box(&b),
                    s.b_t,
                    &mut theirs,
                );
            },
        );
        let scale = ours.iter().fold(1.0f64, |m, v| m.max(v.to_f64().abs()));
        let worst = ours
            .iter()
            .zip(&theirs)
            .map(|(x, y)| (x.to_f64() - y.to_f64()).abs() / scale)
            .fold(0.0f64, f64::max);
        assert!(worst < tol, "{}: results differ by {worst:e}", s.name);
        let flops = 2.0 * (s.m * s.k * s.n) as f64;
        println!(
            "{:<20} {:>16} {:>10.2} {:>10.2} {:>8.2} {:>9.1}",
            s.name,
            format!("{}×{}×{}", s.m, s.k, s.n),
            t_ours * 1e6,
            t_gemm * 1e6,
            t_gemm / t_ours,
            flops / t_ours.min(t_gemm) / 1e9,
        );
    }
}
