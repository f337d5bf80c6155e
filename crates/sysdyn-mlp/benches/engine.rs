//! Whole engine calls on the networks and batches of the benchmark workloads
//! (bench/WORKLOADS.md), f32, on the rayon pool (all cores): what one network evaluation inside
//! a training step costs.
//!
//! ```text
//! cargo bench -p sysdyn-mlp --profile dev --bench engine
//! SYSDYN_PORTABLE_KERNELS=1 cargo bench -p sysdyn-mlp --profile dev --bench engine
//! ```
//!
//! (the root manifest builds this crate with `opt-level = 3` in the dev profile; the second run
//! shows what a machine without AVX2/FMA gets).

use std::hint::black_box;
use std::time::{Duration, Instant};

use sysdyn_mlp::{Activation, Mlp, kernel_path};

fn network(widths: &[usize], activation: Activation) -> Mlp<f32> {
    let n: usize = widths.windows(2).map(|w| w[0] * w[1] + w[1]).sum();
    let params: Vec<f32> = (0..n)
        .map(|i| (((i * 7919) % 101) as f32 / 50.0 - 1.0) * 0.3)
        .collect();
    Mlp::from_flat(widths, &params, true, activation).expect("valid widths")
}

fn inputs(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 31) % 17) as f32 / 8.0 - 1.0)
        .collect()
}

/// Median milliseconds per call of `f`, over at least 20 calls and 0.5 s.
fn median_ms(mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 20 || start.elapsed() < Duration::from_millis(500) {
        let t = Instant::now();
        f();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn report(name: &str, ms: f64) {
    println!("{name:<52} {ms:>9.3}");
}

fn main() {
    println!(
        "f32, {} rayon threads, kernel path {:?} (median ms per call)",
        rayon::current_num_threads(),
        kernel_path()
    );
    // W2: f(x) = L2 tanh L1 tanh L0, 2 → 64 → 64 → 2, batch 512.
    let w2 = network(&[2, 64, 64, 2], Activation::Tanh);
    let x = inputs(512 * 2);
    let cot = inputs(512 * 2);
    report(
        "W2 forward [512; 2,64,64,2] tanh",
        median_ms(|| {
            black_box(w2.forward(black_box(&x), 512).unwrap());
        }),
    );
    report(
        "W2 forward taped + backward",
        median_ms(|| {
            let (_, tape) = w2.forward_taped(black_box(&x), 512).unwrap();
            black_box(w2.backward(&tape, &cot).unwrap());
        }),
    );
    // W6: [z, t] → 64 → 64 → 2 with the exact 2×2 trace, batch 512.
    let w6 = network(&[3, 64, 64, 2], Activation::Tanh);
    let x = inputs(512 * 3);
    let cot_trace = inputs(512);
    report(
        "W6 forward + trace [512; 3,64,64,2] tanh",
        median_ms(|| {
            black_box(w6.forward_trace(black_box(&x), 512, ..2).unwrap());
        }),
    );
    report(
        "W6 forward + trace taped + backward of (y, tr)",
        median_ms(|| {
            let (_, tape) = w6.forward_trace_taped(black_box(&x), 512, ..2).unwrap();
            black_box(w6.backward_trace(&tape, &cot, &cot_trace).unwrap());
        }),
    );
    // W3: [x, emb] 34 → 128 → 128 → 128 → 2 with SiLU, batch 1024.
    let w3 = network(&[34, 128, 128, 128, 2], Activation::Silu);
    let x = inputs(1024 * 34);
    let cot = inputs(1024 * 2);
    report(
        "W3 forward [1024; 34,128,128,128,2] SiLU",
        median_ms(|| {
            black_box(w3.forward(black_box(&x), 1024).unwrap());
        }),
    );
    report(
        "W3 forward taped + backward",
        median_ms(|| {
            let (_, tape) = w3.forward_taped(black_box(&x), 1024).unwrap();
            black_box(w3.backward(&tape, &cot).unwrap());
        }),
    );
    // W5: (x, t) → 8 × 20 tanh → 1, 10000 collocation points: u, u_x, u_t, u_xx.
    let mut widths = vec![2];
    widths.extend([20; 8]);
    widths.push(1);
    let w5 = network(&widths, Activation::Tanh);
    let x = inputs(10000 * 2);
    report(
        "W5 forward [10000; 2,20×8,1] tanh",
        median_ms(|| {
            black_box(w5.forward(black_box(&x), 10000).unwrap());
        }),
    );
    report(
        "W5 Jacobian (u_x, u_t)",
        median_ms(|| {
            black_box(w5.jacobian(black_box(&x), 10000, ..).unwrap());
        }),
    );
    report(
        "W5 Laplacian in x (u_xx)",
        median_ms(|| {
            black_box(w5.laplacian(black_box(&x), 10000, ..1).unwrap());
        }),
    );
    // W4's coupling nets: 1 → 64 → 64 → 1 with ReLU, batch 1024.
    let w4 = network(&[1, 64, 64, 1], Activation::Relu);
    let x = inputs(1024);
    let cot = inputs(1024);
    report(
        "W4 coupling net taped + backward [1024; 1,64,64,1] ReLU",
        median_ms(|| {
            let (_, tape) = w4.forward_taped(black_box(&x), 1024).unwrap();
            black_box(w4.backward(&tape, &cot).unwrap());
        }),
    );
}
