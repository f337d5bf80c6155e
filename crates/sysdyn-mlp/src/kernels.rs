//! The numerical kernels: matrix products and the f32 tanh and sigmoid, with the CPU path
//! chosen once.
//!
//! The loops are written branch-free so the compiler vectorises them; on x86-64 they are
//! compiled twice more, with AVX2 and FMA and with AVX-512 (F, VL) on top, and the best copy the
//! CPU runs is used (checked once, at run time); the `gemm` crate (feature `x86-v4`) picks its
//! AVX-512 kernels by the same test. `SYSDYN_PORTABLE_KERNELS=1` forces the portable copy, so
//! that a machine with AVX2 or AVX-512 can check what one without them computes.
//!
//! On W4's RealNVP step (f32, widths 1–64–64–1, the 2-core AVX-512 Xeon), the engine's 16
//! forward and backward passes of 1024 rows went from 5.5 to 4.1 ms (minimum of 100, a shared
//! machine) with AVX-512 in the `gemm` kernels and in the elementwise loops of the engine's
//! passes (`mlp.rs` compiles them with it), and ReLU's derivative read off the tape.
//!
//! Which product runs where was measured (`benches/kernels.rs`, on the products of the bench
//! workloads W2, W3, W5, W6): with AVX2/FMA, the `gemm` crate (burn's `flex` backend uses it)
//! is faster than the hand-written register-blocked kernel on the hidden layers (widths 20–128:
//! 1.2–1.6× in f32 at widths 64–128, 4× at width 20, 4–9× in f64) and takes those; the *thin*
//! products from and to a 1–4-wide state stay hand-written, where gemm's packing costs
//! 1.2–6.7× the direct loops. The portable path is all hand-written, so forcing it reproduces a
//! machine where none of the AVX2 code may run.

use std::sync::OnceLock;

use crate::float::Float;
use crate::float::sealed::Kernels;

/// Which copy of the kernels runs on this machine. More instruction sets may be added (ARM's
/// SVE, AVX10): match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KernelPath {
    /// Compiled with AVX-512 (F and VL), AVX2 and FMA (x86-64 CPUs that have all of them); the
    /// `gemm` crate runs its own AVX-512 kernels there.
    Avx512,
    /// Compiled with AVX2 and FMA (x86-64 CPUs that have both).
    Avx2Fma,
    /// Portable: whatever the build's target features allow (SSE2 on x86-64).
    Portable,
}

/// The environment variable that forces [`KernelPath::Portable`] when set to `1`.
pub const PORTABLE_ENV: &str = "SYSDYN_PORTABLE_KERNELS";

/// The kernel path of this process: decided at the first call from the CPU's features and
/// [`PORTABLE_ENV`], then fixed (a path changing mid-run would change results mid-run).
pub fn kernel_path() -> KernelPath {
    static PATH: OnceLock<KernelPath> = OnceLock::new();
    *PATH.get_or_init(|| {
        if std::env::var(PORTABLE_ENV).is_ok_and(|v| v.trim() == "1") {
            return KernelPath::Portable;
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                return KernelPath::Avx512;
            }
            return KernelPath::Avx2Fma;
        }
        KernelPath::Portable
    })
}

/// Whether the AVX2/FMA instructions may run (also on the AVX-512 path: a superset).
#[inline(always)]
fn use_avx2() -> bool {
    kernel_path() != KernelPath::Portable
}

#[inline(always)]
pub(crate) fn use_avx512() -> bool {
    kernel_path() == KernelPath::Avx512
}

/// `c ← a b + β c`; see [`Float::gemm`]. The `gemm` crate for blocked shapes on the AVX2/FMA
/// path, the hand-written kernels otherwise.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<E: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[E],
    a_transposed: bool,
    b: &[E],
    b_transposed: bool,
    beta: E,
    c: &mut [E],
) {
    #[cfg(target_arch = "x86_64")]
    if m.min(k).min(n) > THIN && use_avx2() {
        check_lengths(m, k, n, a, b, c);
        let (rsa, csa) = strides(k, m, a_transposed);
        let (rsb, csb) = strides(n, k, b_transposed);
        crate_gemm(m, k, n, a, (rsa, csa), b, (rsb, csb), beta, c);
        return;
    }
    hand_written_gemm(m, k, n, a, a_transposed, b, b_transposed, beta, c);
}

/// The operands must hold the matrices their shapes describe: the engine sizes every buffer
/// itself, so a short one is an engine bug, caught before any unchecked access.
fn check_lengths<E>(m: usize, k: usize, n: usize, a: &[E], b: &[E], c: &[E]) {
    assert!(
        a.len() >= m * k && b.len() >= k * n && c.len() >= m * n,
        "gemm operands shorter than their shapes (an engine bug)"
    );
}

/// `c ← a b + β c` by the hand-written kernels only (thin or register-blocked, with AVX2/FMA
/// where [`kernel_path`] allows): what `benches/kernels.rs` measures against the `gemm` crate.
/// Not part of the supported API.
///
/// # Panics
///
/// If a slice is shorter than its matrix (`m·k`, `k·n`, `m·n`).
#[doc(hidden)]
#[allow(clippy::too_many_arguments)]
pub fn hand_written_gemm<E: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[E],
    a_transposed: bool,
    b: &[E],
    b_transposed: bool,
    beta: E,
    c: &mut [E],
) {
    check_lengths(m, k, n, a, b, c);
    if m == 0 || n == 0 {
        return;
    }
    let (rsa, csa) = strides(k, m, a_transposed);
    let (rsb, csb) = strides(n, k, b_transposed);
    if m.min(k).min(n) <= THIN {
        #[cfg(target_arch = "x86_64")]
        if use_avx512() {
            // SAFETY: kernel_path checked that the CPU supports AVX-512 F/VL, AVX2 and FMA.
            unsafe { thin_gemm_avx512::<E>(m, k, n, a, (rsa, csa), b, (rsb, csb), beta, c) };
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if use_avx2() {
            // SAFETY: kernel_path checked that the CPU supports AVX2 and FMA.
            unsafe { thin_gemm_avx2::<E>(m, k, n, a, (rsa, csa), b, (rsb, csb), beta, c) };
            return;
        }
        thin_gemm(m, k, n, a, (rsa, csa), b, (rsb, csb), beta, c);
        return;
    }
    let (sa, sb) = ((rsa as usize, csa as usize), (rsb as usize, csb as usize));
    #[cfg(target_arch = "x86_64")]
    if use_avx512() {
        // SAFETY: kernel_path checked that the CPU supports AVX-512 F/VL, AVX2 and FMA.
        unsafe { block_gemm_avx512::<E>(m, k, n, a, sa, b, sb, beta, c) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if use_avx2() {
        // SAFETY: kernel_path checked that the CPU supports AVX2 and FMA.
        unsafe { block_gemm_avx2::<E>(m, k, n, a, sa, b, sb, beta, c) };
        return;
    }
    block_gemm::<E, false>(m, k, n, a, sa, b, sb, beta, c);
}

/// `c ← a b + β c` by the `gemm` crate, one thread (the engine splits the batch itself).
#[allow(clippy::too_many_arguments)]
#[cfg(target_arch = "x86_64")]
fn crate_gemm<E: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[E],
    (rsa, csa): (isize, isize),
    b: &[E],
    (rsb, csb): (isize, isize),
    beta: E,
    c: &mut [E],
) {
    // SAFETY: `check_lengths` asserted that the slices hold the `m×k`, `k×n` and `m×n` matrices these
    // strides describe, `c` is a unique borrow (no aliasing with `a` or `b`), and `E` is f32 or
    // f64, which gemm dispatches on. gemm computes `dst ← α dst + β' a b` and reads `dst` only
    // when told to, so garbage in `c` is ignored for β = 0.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            beta != E::ZERO,
            a.as_ptr(),
            csa,
            rsa,
            b.as_ptr(),
            csb,
            rsb,
            beta,
            E::ONE,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// `x ← tanh x` in f32: the vectorisable [`tanh_f32`].
pub(crate) fn tanh_f32_slice(xs: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if use_avx512() {
        // SAFETY: kernel_path checked that the CPU supports AVX-512 F/VL, AVX2 and FMA.
        unsafe { tanh_f32_avx512(xs) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if use_avx2() {
        // SAFETY: kernel_path checked that the CPU supports AVX2 and FMA.
        unsafe { tanh_f32_avx2(xs) };
        return;
    }
    tanh_f32_loop(xs);
}

/// `x ← 1 / (1 + e^{-x})` in f32: the vectorisable [`sigmoid_f32_with`].
pub(crate) fn sigmoid_f32_slice(xs: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if use_avx512() {
        // SAFETY: kernel_path checked that the CPU supports AVX-512 F/VL, AVX2 and FMA.
        unsafe { sigmoid_f32_avx512(xs) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if use_avx2() {
        // SAFETY: kernel_path checked that the CPU supports AVX2 and FMA.
        unsafe { sigmoid_f32_avx2(xs) };
        return;
    }
    for x in xs {
        *x = sigmoid_f32_with::<false>(*x);
    }
}

/// `x ← 1 / (1 + e^{-x})` in f64, by the library exponential (of a non-positive number, so
/// nothing overflows).
pub(crate) fn sigmoid_f64_slice(xs: &mut [f64]) {
    for x in xs {
        let e = (-x.abs()).exp();
        let r = 1.0 / (1.0 + e);
        *x = if *x >= 0.0 { r } else { e * r };
    }
}

/// `x ← tanh x` in f64: double precision is for accuracy, so the library tanh, to the last bit.
pub(crate) fn tanh_f64_slice(xs: &mut [f64]) {
    for x in xs {
        *x = x.tanh();
    }
}

/// Strides `(row, column)` of a row-major `rows × cols` matrix, or of the transpose of a stored
/// `cols × rows` one.
fn strides(cols: usize, rows_stored: usize, transposed: bool) -> (isize, isize) {
    if transposed {
        (1, rows_stored as isize)
    } else {
        (cols as isize, 1)
    }
}

/// Up to this inner or outer dimension a product is "thin" (a layer from or to a 2-D state):
/// packing operands for a blocked kernel would cost more than the arithmetic.
const THIN: usize = 4;

/// `c ← a b + β c` by direct loops, for thin products. The loop order puts a long, contiguous
/// dimension innermost so it vectorises:
///
/// - `b` row-major and `n` not tiny: rows of `c` are updated along `j` (`c_i += a_ip b_p`);
/// - `a` stored transposed and `m` not tiny: columns are accumulated along `i` into a transposed
///   buffer (`cᵀ_j += b_pj aᵀ_p`);
/// - otherwise dot products along `p`, with `b`'s columns packed contiguous, summed in eight
///   independent lanes.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn thin_gemm<E: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[E],
    (rsa, csa): (isize, isize),
    b: &[E],
    (rsb, csb): (isize, isize),
    beta: E,
    c: &mut [E],
) {
    let (rsa, csa, rsb, csb) = (rsa as usize, csa as usize, rsb as usize, csb as usize);
    if csb != 1 && n >= 8 && k <= THIN {
        // A thin `b` stored transposed (`δ Wᵀ` back through a layer from a 2-D state): packing
        // its k·n entries row-major turns the product into row updates along `n`, instead of
        // m·n dot products of length k.
        let mut packed = vec![E::ZERO; k * n];
        for p in 0..k {
            for j in 0..n {
                packed[p * n + j] = b[p * rsb + j * csb];
            }
        }
        thin_gemm_strided(m, k, n, a, (rsa, csa), &packed, (n, 1), beta, c);
        return;
    }
    thin_gemm_strided(m, k, n, a, (rsa, csa), b, (rsb, csb), beta, c);
}

/// The loops of [`thin_gemm`] once `b` is laid out for them.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn thin_gemm_strided<E: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[E],
    (rsa, csa): (usize, usize),
    b: &[E],
    (rsb, csb): (usize, usize),
    beta: E,
    c: &mut [E],
) {
    let scale_row = |row: &mut [E]| {
        if beta == E::ZERO {
            row.fill(E::ZERO);
        } else if beta != E::ONE {
            for v in row.iter_mut() {
                *v = *v * beta;
            }
        }
    };
    if csb == 1 && n >= 8 {
        for i in 0..m {
            let row = &mut c[i * n..(i + 1) * n];
            scale_row(row);
            for p in 0..k {
                let aip = a[i * rsa + p * csa];
                let b_row = &b[p * rsb..p * rsb + n];
                for (v, &bv) in row.iter_mut().zip(b_row) {
                    *v += aip * bv;
                }
            }
        }
    } else if rsa == 1 && m >= 8 {
        // Column p of a is contiguous: a[p * csa .. p * csa + m].
        let mut ct = vec![E::ZERO; n * m];
        for p in 0..k {
            let a_col = &a[p * csa..p * csa + m];
            for j in 0..n {
                let bpj = b[p * rsb + j * csb];
                for (v, &av) in ct[j * m..(j + 1) * m].iter_mut().zip(a_col) {
                    *v += bpj * av;
                }
            }
        }
        for i in 0..m {
            let row = &mut c[i * n..(i + 1) * n];
            scale_row(row);
            for (j, v) in row.iter_mut().enumerate() {
                *v += ct[j * m + i];
            }
        }
    } else {
        // Dot products: row i of a (packed if strided) against column j of b (packed).
        let mut bt = vec![E::ZERO; n * k];
        for p in 0..k {
            for j in 0..n {
                bt[j * k + p] = b[p * rsb + j * csb];
            }
        }
        let mut packed_row = vec![E::ZERO; k];
        for i in 0..m {
            let a_row: &[E] = if csa == 1 {
                &a[i * rsa..i * rsa + k]
            } else {
                for (p, v) in packed_row.iter_mut().enumerate() {
                    *v = a[i * rsa + p * csa];
                }
                &packed_row
            };
            let row = &mut c[i * n..(i + 1) * n];
            scale_row(row);
            for (j, v) in row.iter_mut().enumerate() {
                *v += dot(a_row, &bt[j * k..(j + 1) * k]);
            }
        }
    }
}

/// `Σ x_p y_p` in eight independent lanes (so it vectorises), then summed.
#[inline(always)]
fn dot<E: Float>(x: &[E], y: &[E]) -> E {
    let mut lanes = [E::ZERO; 8];
    let (xc, yc) = (x.chunks_exact(8), y.chunks_exact(8));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (xs, ys) in xc.zip(yc) {
        for l in 0..8 {
            lanes[l] += xs[l] * ys[l];
        }
    }
    let mut sum = E::ZERO;
    for l in lanes {
        sum += l;
    }
    for (&a, &b) in xr.iter().zip(yr) {
        sum += a * b;
    }
    sum
}

/// Rows and columns of the register block of [`block_gemm`].
const BLOCK_ROWS: usize = 4;
const BLOCK_COLS: usize = 16;

/// `c ← a b + β c` for the moderate shapes of an MLP layer (tens to hundreds): `b` is made
/// row-major (copied when given transposed: `k × n` is a weight-sized matrix), then each
/// `4 × 16` block of `c` is accumulated in registers over the whole inner dimension, reading a
/// row of `b` and four entries of `a` per step. General-purpose kernels pack both operands into
/// panels first, which at these sizes costs as much as the arithmetic.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn block_gemm<E: Float, const FUSED: bool>(
    m: usize,
    k: usize,
    n: usize,
    a: &[E],
    (rsa, csa): (usize, usize),
    b: &[E],
    (rsb, csb): (usize, usize),
    beta: E,
    c: &mut [E],
) {
    let packed;
    let b: &[E] = if csb == 1 && rsb == n {
        &b[..k * n]
    } else {
        let mut p = vec![E::ZERO; k * n];
        for q in 0..k {
            for j in 0..n {
                p[q * n + j] = b[q * rsb + j * csb];
            }
        }
        packed = p;
        &packed
    };
    let full_rows = m - m % BLOCK_ROWS;
    let full_cols = n - n % BLOCK_COLS;
    for i0 in (0..full_rows).step_by(BLOCK_ROWS) {
        for j0 in (0..full_cols).step_by(BLOCK_COLS) {
            let mut acc = [[E::ZERO; BLOCK_COLS]; BLOCK_ROWS];
            for p in 0..k {
                let b_row: &[E; BLOCK_COLS] = b[p * n + j0..p * n + j0 + BLOCK_COLS]
                    .try_into()
                    .expect("a full block of columns");
                for (r, acc_row) in acc.iter_mut().enumerate() {
                    let av = a[(i0 + r) * rsa + p * csa];
                    for l in 0..BLOCK_COLS {
                        acc_row[l] = E::multiply_add::<FUSED>(av, b_row[l], acc_row[l]);
                    }
                }
            }
            for (r, acc_row) in acc.iter().enumerate() {
                let c_row = &mut c[(i0 + r) * n + j0..(i0 + r) * n + j0 + BLOCK_COLS];
                for (v, &s) in c_row.iter_mut().zip(acc_row) {
                    *v = if beta == E::ZERO { s } else { *v * beta + s };
                }
            }
        }
    }
    // Edges: the last rows (all columns) and the last columns of the full rows.
    let edge = |c: &mut [E], i: usize, j: usize| {
        let mut s = E::ZERO;
        for p in 0..k {
            s += a[i * rsa + p * csa] * b[p * n + j];
        }
        let v = &mut c[i * n + j];
        *v = if beta == E::ZERO { s } else { *v * beta + s };
    };
    for i in 0..full_rows {
        for j in full_cols..n {
            edge(c, i, j);
        }
    }
    for i in full_rows..m {
        for j in 0..n {
            edge(c, i, j);
        }
    }
}

/// [`block_gemm`] compiled with AVX2 and fused multiply–add.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn block_gemm_avx2<E: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[E],
    sa: (usize, usize),
    b: &[E],
    sb: (usize, usize),
    beta: E,
    c: &mut [E],
) {
    block_gemm::<E, true>(m, k, n, a, sa, b, sb, beta, c);
}

/// [`thin_gemm`] compiled with AVX2 (eight f32 lanes instead of four).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn thin_gemm_avx2<E: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[E],
    sa: (isize, isize),
    b: &[E],
    sb: (isize, isize),
    beta: E,
    c: &mut [E],
) {
    thin_gemm(m, k, n, a, sa, b, sb, beta, c);
}

/// [`block_gemm`] compiled with AVX-512 (sixteen f32 lanes: a block row in one register).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn block_gemm_avx512<E: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[E],
    sa: (usize, usize),
    b: &[E],
    sb: (usize, usize),
    beta: E,
    c: &mut [E],
) {
    block_gemm::<E, true>(m, k, n, a, sa, b, sb, beta, c);
}

/// [`thin_gemm`] compiled with AVX-512 (sixteen f32 lanes: a 64-wide row in four registers).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn thin_gemm_avx512<E: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[E],
    sa: (isize, isize),
    b: &[E],
    sb: (isize, isize),
    beta: E,
    c: &mut [E],
) {
    thin_gemm(m, k, n, a, sa, b, sb, beta, c);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
unsafe fn tanh_f32_avx512(xs: &mut [f32]) {
    for x in xs {
        *x = tanh_f32_with::<true>(*x);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
unsafe fn sigmoid_f32_avx512(xs: &mut [f32]) {
    for x in xs {
        *x = sigmoid_f32_with::<true>(*x);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tanh_f32_avx2(xs: &mut [f32]) {
    for x in xs {
        *x = tanh_f32_with::<true>(*x);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sigmoid_f32_avx2(xs: &mut [f32]) {
    for x in xs {
        *x = sigmoid_f32_with::<true>(*x);
    }
}

/// `1 / (1 + e^{-x})` in f32 to a few ulps, branch-free: `e = exp(-|x|)` (no overflow), then
/// `1 / (1 + e)` or `e / (1 + e)`. `|x|` is clamped at 87, where `e` is still a normal f32 (the
/// exponent trick of [`exp_nonpositive_f32`] needs that); beyond, the result is within 2e-38
/// of 0 or 1. NaN stays NaN.
#[inline(always)]
fn sigmoid_f32_with<const FUSED: bool>(x: f32) -> f32 {
    let e = exp_nonpositive_f32::<FUSED>(-x.abs().min(87.0));
    let r = 1.0 / (1.0 + e);
    let s = if x >= 0.0 { r } else { e * r };
    if x.is_nan() { x } else { s }
}

#[inline(always)]
fn tanh_f32_loop(xs: &mut [f32]) {
    for x in xs {
        *x = tanh_f32(*x);
    }
}

/// `tanh x` in f32 to a few ulps, branch-free so that loops over it vectorise.
///
/// A rational function `x P(x²) / Q(x²)` (numerator of degree 13, denominator of degree 6) on
/// `|x| ≤ 9`, where tanh reaches 1 in f32: one division and ten multiply–adds, half the work of
/// a Taylor polynomial blended with `(1 - e^{-2|x|}) / (1 + e^{-2|x|})`, which it replaced
/// (W2's taped step spent a tenth of its time in tanh). The coefficients are a fit for relative
/// error (weighted least squares with Lawson's reweighting towards minimax), made by
/// `scripts/fit_tanh.py` of this crate: 1e-8 relative in exact arithmetic, a few f32 ulps as
/// computed. NaN stays NaN.
#[inline(always)]
pub(crate) fn tanh_f32(x: f32) -> f32 {
    tanh_f32_with::<false>(x)
}

/// [`tanh_f32`] with the polynomials' multiply–adds fused when `FUSED` (where the CPU has FMA).
#[inline(always)]
fn tanh_f32_with<const FUSED: bool>(x: f32) -> f32 {
    const P: [f32; 7] = [
        -8.610_365e-14,
        5.325_947_5e-11,
        -2.032_636_3e-8,
        1.117_959_3e-5,
        0.003_106_399,
        0.130_862_07,
        0.999_999_995,
    ];
    const Q: [f32; 4] = [2.549_686_4e-4, 0.024_504_935, 0.464_195_35, 1.0];
    let fma = f32::multiply_add::<FUSED>;
    // `clamp` keeps NaN; ±∞ become ±9, whose tanh is ±1 in f32.
    let a = x.clamp(-9.0, 9.0);
    let s = a * a;
    let mut p = P[0];
    for c in &P[1..] {
        p = fma(s, p, *c);
    }
    let mut q = Q[0];
    for c in &Q[1..] {
        q = fma(s, q, *c);
    }
    // The fit may overshoot 1 by an ulp; from |x| = 9 on, tanh rounds to ±1 (NaN fails the
    // comparison and stays NaN).
    let t = (a * p / q).clamp(-1.0, 1.0);
    if x.abs() >= 9.0 {
        1.0f32.copysign(x)
    } else {
        t
    }
}

/// `e^y` for `y` in `[-87, 0]` in f32 (`2^n` stays a normal number): `y = n ln 2 + r` with `|r| ≤ ln2 / 2`, `e^r` by its
/// Taylor polynomial of degree 7 (truncation below 1e-8), `2^n` built in the exponent bits.
#[inline(always)]
fn exp_nonpositive_f32<const FUSED: bool>(y: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split so that n · LN2_HIGH is exact for |n| < 2^10.
    const LN2_HIGH: f32 = 0.693_145_75;
    const LN2_LOW: f32 = 1.428_606_8e-6;
    // Adding 1.5 · 2^23 rounds to the nearest integer n, which then sits in the low mantissa
    // bits: the bit patterns of `shifted` and `ROUND` differ by exactly n. Wrapping integer ops
    // (no overflow checks) keep the loop vectorisable.
    const ROUND: f32 = 12_582_912.0;
    let fma = f32::multiply_add::<FUSED>;
    let shifted = y * LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = (y - n * LN2_HIGH) - n * LN2_LOW;
    // Taylor coefficients 1/k! for k = 7 down to 0, by Horner's rule.
    let mut p = 0.000_198_412_7;
    for c in [
        0.001_388_888_9,
        0.008_333_334,
        0.041_666_668,
        0.166_666_67,
        0.5,
        1.0,
        1.0,
    ] {
        p = fma(r, p, c);
    }
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let scale = f32::from_bits(n_bits.wrapping_add(127) << 23);
    p * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_tanh_matches_the_library_to_a_few_ulps() {
        let mut worst_rel: f64 = 0.0;
        let mut worst_abs: f64 = 0.0;
        let mut x = -12.0f32;
        while x <= 12.0 {
            let exact = (x as f64).tanh();
            // Both forms: separate multiplies and adds, and fused (the AVX2 path).
            for got in [tanh_f32(x) as f64, tanh_f32_with::<true>(x) as f64] {
                worst_abs = worst_abs.max((got - exact).abs());
                if exact.abs() > 1e-30 {
                    worst_rel = worst_rel.max(((got - exact) / exact).abs());
                }
            }
            x += 1.0e-4;
        }
        assert!(worst_rel < 5e-7, "relative error {worst_rel:e}");
        // Five ulps of values near 1 (the f32 rounding of the rational form's terms, largest
        // around |x| = 7), far below what training at f32 notices.
        assert!(worst_abs < 3.5e-7, "absolute error {worst_abs:e}");
        let mut values = vec![-3.0f32, -0.1, 0.0, 1e-8, 0.5, 0.6, 20.0, f32::INFINITY];
        tanh_f32_slice(&mut values);
        assert_eq!(values[2], 0.0);
        assert_eq!(values[6], 1.0);
        assert_eq!(values[7], 1.0);
        assert!((values[3] - 1e-8).abs() < 1e-15);
        assert!(tanh_f32(f32::NAN).is_nan());
    }

    #[test]
    fn fast_sigmoid_matches_the_library_to_a_few_ulps() {
        let mut worst_rel: f64 = 0.0;
        let mut x = -100.0f32;
        while x <= 100.0 {
            let exact = 1.0 / (1.0 + (-(x as f64)).exp());
            for got in [sigmoid_f32_with::<false>(x), sigmoid_f32_with::<true>(x)] {
                let got = got as f64;
                if x.abs() <= 80.0 {
                    worst_rel = worst_rel.max(((got - exact) / exact).abs());
                } else {
                    assert!((got - exact).abs() < 2e-38, "{x}");
                }
            }
            x += 1.0e-3;
        }
        assert!(worst_rel < 1e-6, "relative error {worst_rel:e}");
        let mut values = vec![0.0f32, f32::INFINITY, f32::NEG_INFINITY, f32::NAN];
        sigmoid_f32_slice(&mut values);
        assert_eq!(&values[..2], &[0.5, 1.0]);
        // The clamp at |x| = 87 leaves e^-87 for -∞: zero to within the smallest normal f32.
        assert!(values[2] >= 0.0 && values[2] < 2e-38);
        assert!(values[3].is_nan());
    }

    /// Every compiled copy of the hand-written products that this CPU can run (portable, AVX2,
    /// AVX-512), called directly — the dispatch takes only the best one — against the exact
    /// products, in f32 (where the vector width shows) on thin and blocked shapes, both
    /// layouts of `b`.
    #[test]
    fn every_compiled_copy_of_the_products_is_exact() {
        type Product = fn(usize, usize, usize, &[f32], bool, &[f32], bool, &mut [f32]);
        let portable: Product = |m, k, n, a, a_t, b, b_t, c| {
            let (sa, sb) = (strides(k, m, a_t), strides(n, k, b_t));
            if m.min(k).min(n) <= THIN {
                thin_gemm(m, k, n, a, sa, b, sb, 0.5, c);
            } else {
                let us = |(r, c): (isize, isize)| (r as usize, c as usize);
                block_gemm::<f32, false>(m, k, n, a, us(sa), b, us(sb), 0.5, c);
            }
        };
        let mut copies = vec![("portable", portable)];
        #[cfg(target_arch = "x86_64")]
        {
            let avx2: Product = |m, k, n, a, a_t, b, b_t, c| {
                let (sa, sb) = (strides(k, m, a_t), strides(n, k, b_t));
                let us = |(r, c): (isize, isize)| (r as usize, c as usize);
                // SAFETY: only pushed below when the CPU has AVX2 and FMA.
                unsafe {
                    if m.min(k).min(n) <= THIN {
                        thin_gemm_avx2(m, k, n, a, sa, b, sb, 0.5, c);
                    } else {
                        block_gemm_avx2(m, k, n, a, us(sa), b, us(sb), 0.5, c);
                    }
                }
            };
            let avx512: Product = |m, k, n, a, a_t, b, b_t, c| {
                let (sa, sb) = (strides(k, m, a_t), strides(n, k, b_t));
                let us = |(r, c): (isize, isize)| (r as usize, c as usize);
                // SAFETY: only pushed below when the CPU has AVX-512 F/VL, AVX2 and FMA.
                unsafe {
                    if m.min(k).min(n) <= THIN {
                        thin_gemm_avx512(m, k, n, a, sa, b, sb, 0.5, c);
                    } else {
                        block_gemm_avx512(m, k, n, a, us(sa), b, us(sb), 0.5, c);
                    }
                }
            };
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") && has!("fma") {
                copies.push(("avx2", avx2));
                if has!("avx512f") && has!("avx512vl") {
                    copies.push(("avx512", avx512));
                }
            }
        }
        // Small integers and quarters: every product and sum is exact in f32.
        let value = |i: usize| ((i * 7919) % 23) as f32 * 0.25 - 2.5;
        for (name, product) in copies {
            for (m, k, n) in [
                (70, 1, 64),
                (70, 64, 1),
                (1, 70, 64),
                (64, 70, 1),
                (37, 21, 35),
            ] {
                for b_t in [false, true] {
                    let a: Vec<f32> = (0..m * k).map(value).collect();
                    let b: Vec<f32> = (0..k * n).map(|i| value(i + 5)).collect();
                    let b_at = |p: usize, j: usize| if b_t { b[j * k + p] } else { b[p * n + j] };
                    let mut c = vec![1.0f32; m * n];
                    product(m, k, n, &a, false, &b, b_t, &mut c);
                    for i in 0..m {
                        for j in 0..n {
                            let exact: f32 =
                                0.5 + (0..k).map(|p| a[i * k + p] * b_at(p, j)).sum::<f32>();
                            assert_eq!(c[i * n + j], exact, "{name} {m}x{k}x{n} b_t {b_t}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn gemm_handles_transposed_operands() {
        // a: 2×3, b: 3×2.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [1.0, -1.0, 0.5, 2.0, -2.0, 0.0];
        let mut c = [0.0; 4];
        f64::gemm(2, 3, 2, &a, false, &b, false, 0.0, &mut c);
        assert_eq!(c, [-4.0, 3.0, -5.5, 6.0]);
        // aᵀ stored 3×2 (a transposed back), bᵀ stored 2×3.
        let at = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
        let bt = [1.0, 0.5, -2.0, -1.0, 2.0, 0.0];
        let mut d = [1.0; 4];
        f64::gemm(2, 3, 2, &at, true, &bt, true, 1.0, &mut d);
        assert_eq!(d, [-3.0, 4.0, -4.5, 7.0]);
    }

    #[test]
    fn thin_and_blocked_products_agree() {
        // Every transpose combination, thin (n = 2 or k ≤ 4, also with n ≥ 8 where a transposed
        // `b` is packed) and blocked (all ≥ 5) shapes.
        let value = |i: usize| ((i * 7919) % 23) as f64 * 0.25 - 2.5;
        for (m, k, n) in [
            (37, 21, 19),
            (9, 3, 7),
            (9, 7, 2),
            (8, 6, 5),
            (2, 9, 6),
            (9, 2, 10),
            (12, 4, 9),
        ] {
            for a_t in [false, true] {
                for b_t in [false, true] {
                    let a: Vec<f64> = (0..m * k).map(value).collect();
                    let b: Vec<f64> = (0..k * n).map(|i| value(i + 5)).collect();
                    let a_at = |i: usize, p: usize| if a_t { a[p * m + i] } else { a[i * k + p] };
                    let b_at = |p: usize, j: usize| if b_t { b[j * k + p] } else { b[p * n + j] };
                    // The dispatched product (gemm's on AVX2 machines for blocked shapes) and
                    // the hand-written one.
                    let mut c = vec![1.0; m * n];
                    f64::gemm(m, k, n, &a, a_t, &b, b_t, 0.5, &mut c);
                    let mut h = vec![1.0; m * n];
                    hand_written_gemm(m, k, n, &a, a_t, &b, b_t, 0.5, &mut h);
                    for i in 0..m {
                        for j in 0..n {
                            let exact: f64 =
                                0.5 + (0..k).map(|p| a_at(i, p) * b_at(p, j)).sum::<f64>();
                            assert!((c[i * n + j] - exact).abs() < 1e-12, "{m}x{k}x{n}");
                            assert!((h[i * n + j] - exact).abs() < 1e-12, "{m}x{k}x{n}");
                        }
                    }
                    // β = 0 ignores whatever `c` held, NaN included.
                    let mut z = vec![f64::NAN; m * n];
                    f64::gemm(m, k, n, &a, a_t, &b, b_t, 0.0, &mut z);
                    assert!((z[0] - (c[0] - 0.5)).abs() < 1e-12, "{m}x{k}x{n}");
                }
            }
        }
    }
}
