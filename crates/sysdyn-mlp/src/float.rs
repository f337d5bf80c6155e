//! [`Float`]: the element types the engine runs in (`f32`, `f64`).

use crate::kernels;

pub(crate) mod sealed {
    /// The kernels behind [`Float`](super::Float): public in a private module, so the engine
    /// calls them on any `E: Float` but users can neither call them with unchecked buffers nor
    /// implement `Float` for another type.
    pub trait Kernels: Sized {
        /// `c ← a b + β c` for row-major `a: m×k` (or, when `a_transposed`, stored `k×m`),
        /// `b: k×n` (or stored `n×k` when `b_transposed`), `c: m×n`. The slices must be at least
        /// that long (checked: an internal bug, not user input, if not).
        #[allow(clippy::too_many_arguments)]
        fn gemm(
            m: usize,
            k: usize,
            n: usize,
            a: &[Self],
            a_transposed: bool,
            b: &[Self],
            b_transposed: bool,
            beta: Self,
            c: &mut [Self],
        );

        /// `x ← tanh x` elementwise.
        fn tanh_in_place(xs: &mut [Self]);

        /// `x ← 1 / (1 + e^{-x})` elementwise.
        fn sigmoid_in_place(xs: &mut [Self]);

        /// `a · b + c`, fused when `FUSED` (only used where the CPU has FMA: the library call is
        /// slow without it).
        fn multiply_add<const FUSED: bool>(a: Self, b: Self, c: Self) -> Self;
    }
}

/// A float type the engine runs in: `f32` or `f64`.
///
/// The matrix products and the elementwise kernels are chosen per type (and per CPU, see
/// [`kernel_path`](crate::kernel_path)); the rest of the engine is written once, generically.
pub trait Float:
    sealed::Kernels
    + Copy
    + Default
    + Send
    + Sync
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::AddAssign
    + std::fmt::Debug
    + std::fmt::Display
    + 'static
{
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// The name of the type, for messages.
    const NAME: &'static str;

    /// Conversion from f64 (rounding to nearest for f32).
    fn from_f64(v: f64) -> Self;
    /// Conversion to f64 (exact).
    fn to_f64(self) -> f64;
    /// `|x|`.
    fn abs(self) -> Self;
    /// `e^x`.
    fn exp(self) -> Self;
    /// `log(1 + x)`.
    fn ln_1p(self) -> Self;
    /// `sin x`.
    fn sin(self) -> Self;
    /// `cos x`.
    fn cos(self) -> Self;
}

macro_rules! float_impl {
    ($t:ty, $name:literal, $tanh:path, $sigmoid:path) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const NAME: &'static str = $name;

            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline(always)]
            fn ln_1p(self) -> Self {
                <$t>::ln_1p(self)
            }
            #[inline(always)]
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
        }

        impl sealed::Kernels for $t {
            fn gemm(
                m: usize,
                k: usize,
                n: usize,
                a: &[Self],
                a_transposed: bool,
                b: &[Self],
                b_transposed: bool,
                beta: Self,
                c: &mut [Self],
            ) {
                kernels::gemm(m, k, n, a, a_transposed, b, b_transposed, beta, c);
            }

            fn tanh_in_place(xs: &mut [Self]) {
                $tanh(xs);
            }

            fn sigmoid_in_place(xs: &mut [Self]) {
                $sigmoid(xs);
            }

            #[inline(always)]
            fn multiply_add<const FUSED: bool>(a: Self, b: Self, c: Self) -> Self {
                if FUSED { a.mul_add(b, c) } else { a * b + c }
            }
        }
    };
}

float_impl!(
    f32,
    "f32",
    kernels::tanh_f32_slice,
    kernels::sigmoid_f32_slice
);
float_impl!(
    f64,
    "f64",
    kernels::tanh_f64_slice,
    kernels::sigmoid_f64_slice
);
