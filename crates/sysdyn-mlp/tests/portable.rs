//! The portable kernels give the results the detected (AVX2/FMA) kernels give, so a machine
//! without AVX2 or FMA computes the same numbers to rounding.
//!
//! The kernel path is chosen once per process, so the portable run happens in a child process
//! of this test binary with `SYSDYN_PORTABLE_KERNELS=1`; it prints its results and the parent
//! compares them with its own. The binary has its own `main` (`harness = false`): the same
//! program is the parent, or the child when `CHILD_ENV` is set.

use std::process::Command;

use sysdyn_mlp::{Activation, Float, KernelPath, Mlp, PORTABLE_ENV, kernel_path};

/// Every engine result for a few networks, as f64, labelled.
fn results<E: Float>() -> Vec<(String, Vec<f64>)> {
    let mut out = Vec::new();
    // Blocked products (width 65, batch 200 split across workers) and thin ones (width 2).
    for (widths, batch) in [(&[3usize, 65, 65, 2][..], 200usize), (&[2, 3, 2], 7)] {
        for activation in Activation::ALL {
            let n: usize = widths.windows(2).map(|w| w[0] * w[1] + w[1]).sum();
            let params: Vec<E> = (0..n)
                .map(|i| E::from_f64((((i * 7919) % 101) as f64 / 50.0 - 1.0) * 0.4))
                .collect();
            let mlp = Mlp::from_flat(widths, &params, true, activation).unwrap();
            let input = widths[0];
            let d = widths[widths.len() - 1];
            let x: Vec<E> = (0..batch * input)
                .map(|i| E::from_f64(((i * 31) % 17) as f64 / 8.0 - 1.0))
                .collect();
            let cot: Vec<E> = (0..batch * d)
                .map(|i| E::from_f64(((i * 13) % 7) as f64 / 3.0 - 1.0))
                .collect();
            let cot_trace: Vec<E> = (0..batch)
                .map(|i| E::from_f64(0.5 + (i % 5) as f64 / 5.0))
                .collect();
            // No spaces: the child prints `label v v v …` on one line.
            let shape: Vec<String> = widths.iter().map(usize::to_string).collect();
            let shape = shape.join("x");
            let label = |what: &str| format!("{}-{activation:?}-{shape}-{what}", E::NAME);
            let f64s = |v: Vec<E>| v.into_iter().map(Float::to_f64).collect::<Vec<_>>();
            let (y, tape) = mlp.forward_taped(&x, batch).unwrap();
            let grads = mlp.backward(&tape, &cot).unwrap();
            let (both, trace_tape) = mlp.forward_trace_taped(&x, batch, ..d).unwrap();
            let vjp = mlp.backward_trace(&trace_tape, &cot, &cot_trace).unwrap();
            out.push((label("forward"), f64s(y)));
            out.push((label("input-vjp"), f64s(grads.input)));
            out.push((label("param-vjp"), f64s(grads.params)));
            out.push((
                label("jacobian"),
                f64s(mlp.jacobian(&x, batch, ..).unwrap()),
            ));
            out.push((label("trace"), f64s(both.trace)));
            out.push((
                label("laplacian"),
                f64s(mlp.laplacian(&x, batch, ..d).unwrap()),
            ));
            out.push((label("trace-param-vjp"), f64s(vjp.params)));
            out.push((label("trace-input-vjp"), f64s(vjp.input)));
        }
    }
    out
}

fn all_results() -> Vec<(String, Vec<f64>)> {
    let mut all = results::<f64>();
    all.extend(results::<f32>());
    all
}

/// Set in the child process.
const CHILD_ENV: &str = "SYSDYN_MLP_PORTABLE_CHILD";

/// The child: checks that it runs the portable kernels and prints every result, one line each
/// (`RESULT label v v v …`, shortest round-trip decimal forms).
fn print_results_for_the_parent() {
    assert_eq!(kernel_path(), KernelPath::Portable);
    for (label, values) in all_results() {
        let line: Vec<String> = values.iter().map(|v| format!("{v:e}")).collect();
        println!("RESULT {label} {}", line.join(" "));
    }
}

fn main() {
    if std::env::var_os(CHILD_ENV).is_some() {
        print_results_for_the_parent();
    } else {
        portable_kernels_give_the_same_results();
        println!("portable kernels give the detected kernels' results: ok");
    }
}

fn portable_kernels_give_the_same_results() {
    let exe = std::env::current_exe().unwrap();
    let child = Command::new(exe)
        .env(PORTABLE_ENV, "1")
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    assert!(
        child.status.success(),
        "the portable child run failed:\n{}",
        String::from_utf8_lossy(&child.stderr)
    );
    let stdout = String::from_utf8(child.stdout).unwrap();
    let portable: Vec<(String, Vec<f64>)> = stdout
        .lines()
        .filter_map(|l| l.find("RESULT ").map(|at| &l[at + "RESULT ".len()..]))
        .map(|l| {
            let mut parts = l.split(' ');
            let label = parts.next().unwrap().to_string();
            let values = parts
                .filter(|p| !p.is_empty())
                .map(|p| p.parse().unwrap())
                .collect();
            (label, values)
        })
        .collect();
    let detected = all_results();
    eprintln!(
        "this process runs {:?}; the child ran Portable",
        kernel_path()
    );
    assert_eq!(
        portable.len(),
        detected.len(),
        "the child printed every result"
    );
    for ((label, want), (child_label, got)) in detected.iter().zip(&portable) {
        assert_eq!(label, child_label);
        assert_eq!(want.len(), got.len(), "{label}");
        let tol = if label.starts_with("f32") {
            1e-5
        } else {
            1e-12
        };
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let err = want
            .iter()
            .zip(got)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f64, f64::max);
        assert!(
            err <= tol * scale,
            "{label}: portable and detected kernels differ by {err:e} (max |value| {scale:e})"
        );
    }
}
