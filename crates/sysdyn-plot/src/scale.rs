//! Axis scales, ranges, ticks and tick labels.

/// How data values map to positions along an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scale {
    /// Equal distances for equal differences.
    #[default]
    Linear,
    /// Equal distances for equal ratios (base 10); only positive values can be shown.
    Log,
}

impl Scale {
    /// The value in the coordinates where the axis is linear.
    pub(crate) fn forward(self, v: f64) -> f64 {
        match self {
            Scale::Linear => v,
            Scale::Log => v.log10(),
        }
    }
}

/// An axis: a data range mapped onto a pixel interval (`px0` for `lo`, `px1` for `hi`; for a
/// vertical axis `px0` is the bottom).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Axis {
    pub scale: Scale,
    /// Range in transformed coordinates (log10 for log axes).
    pub t_lo: f64,
    pub t_hi: f64,
    pub px0: f64,
    pub px1: f64,
}

impl Axis {
    /// Pixel position of a data value.
    pub fn px(&self, v: f64) -> f64 {
        self.px_t(self.scale.forward(v))
    }

    /// Pixel position of a transformed value.
    pub fn px_t(&self, t: f64) -> f64 {
        self.px0 + (t - self.t_lo) / (self.t_hi - self.t_lo) * (self.px1 - self.px0)
    }

    /// Pixels per unit data change at `v` (the derivative of [`Axis::px`]).
    pub fn px_per_unit(&self, v: f64) -> f64 {
        let dt_dv = match self.scale {
            Scale::Linear => 1.0,
            Scale::Log => 1.0 / (v * std::f64::consts::LN_10),
        };
        dt_dv * (self.px1 - self.px0) / (self.t_hi - self.t_lo)
    }
}

/// Display range (transformed coordinates) for data spanning `[t_min, t_max]` (transformed).
///
/// Both scales get a small margin (in decades on a log axis) so markers at the ends stay inside
/// the frame. A zero-width range is widened.
pub(crate) fn auto_range(scale: Scale, t_min: f64, t_max: f64, margin: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (t_min, t_max);
    if hi - lo <= 1e-12 * lo.abs().max(hi.abs()).max(1e-300) {
        let half = match scale {
            Scale::Log => 0.5,
            Scale::Linear if lo == 0.0 => 1.0,
            Scale::Linear => 0.1 * lo.abs(),
        };
        lo -= half;
        hi += half;
    }
    if !margin {
        return (lo, hi);
    }
    match scale {
        Scale::Linear => {
            let pad = 0.04 * (hi - lo);
            (lo - pad, hi + pad)
        }
        Scale::Log => {
            // The same margin in decades: points on a power of ten stay clear of the frame.
            let pad = 0.04 * (hi - lo).max(1.0);
            (lo - pad, hi + pad)
        }
    }
}

/// A tick: position (transformed) and label (empty for a minor tick).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tick {
    pub t: f64,
    pub label: String,
    pub major: bool,
}

/// The nice step (1, 2 or 5 times a power of ten, or 2.5) at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let exp = raw.log10().floor();
    let base = 10f64.powf(exp);
    let m = raw / base;
    let nice = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .find(|&n| n >= m * (1.0 - 1e-9))
        .unwrap_or(10.0);
    nice * base
}

/// Ticks for an axis of `length_px` pixels, about one per `spacing_px` pixels.
pub(crate) fn ticks(axis: &Axis, length_px: f64, spacing_px: f64) -> Vec<Tick> {
    let target = (length_px / spacing_px).clamp(2.0, 10.0);
    match axis.scale {
        Scale::Linear => linear_ticks(axis.t_lo, axis.t_hi, target),
        Scale::Log => log_ticks(axis.t_lo, axis.t_hi, target),
    }
}

fn linear_ticks(lo: f64, hi: f64, target: f64) -> Vec<Tick> {
    let step = nice_step((hi - lo) / target);
    let first = (lo / step - 1e-6).ceil() as i64;
    let last = (hi / step + 1e-6).floor() as i64;
    let values: Vec<f64> = (first..=last).map(|k| k as f64 * step).collect();
    let labels = linear_labels(&values, step);
    values
        .into_iter()
        .zip(labels)
        .map(|(t, label)| Tick {
            t,
            label,
            major: true,
        })
        .collect()
}

/// Labels with the fewest decimals that tell the ticks apart; scientific notation for very large
/// or very small magnitudes.
fn linear_labels(values: &[f64], step: f64) -> Vec<String> {
    let biggest = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let step_exp = step.log10().floor() as i32;
    // 2.5 × 10^k needs one more digit than 1, 2 or 5 × 10^k.
    let extra = i32::from(((step / 10f64.powi(step_exp)) - 2.5).abs() < 1e-6);
    let scientific = biggest >= 1e5 || (biggest > 0.0 && biggest < 1e-3);
    values
        .iter()
        .map(|&v| {
            // Values within rounding of zero print as 0, not 1e-17 or -0.
            let v = if v.abs() < step * 1e-6 { 0.0 } else { v };
            if scientific {
                if v == 0.0 {
                    return "0".to_string();
                }
                let exp = v.abs().log10().floor() as i32;
                let digits = (exp - step_exp + extra).clamp(0, 6) as usize;
                typographic_minus(format!("{v:.digits$e}"))
            } else {
                let decimals = (-step_exp + extra).max(0) as usize;
                typographic_minus(format!("{v:.decimals$}"))
            }
        })
        .collect()
}

/// A minus sign as wide as a digit, as in print, rather than a hyphen.
fn typographic_minus(label: String) -> String {
    label.replace('-', "−")
}

/// `n` as superscript digits, for powers of ten.
pub(crate) fn superscript(n: i64) -> String {
    n.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect()
}

fn power_label(decade: i64) -> String {
    match decade {
        0 => "1".to_string(),
        1 => "10".to_string(),
        _ => format!("10{}", superscript(decade)),
    }
}

/// `m × 10^d` as a short label: plain digits for moderate magnitudes, else `m×10ⁿ`.
fn mantissa_label(m: i32, d: i64) -> String {
    if (-3..=4).contains(&d) {
        let decimals = (-d).max(0) as usize;
        format!("{:.decimals$}", f64::from(m) * 10f64.powi(d as i32))
    } else if m == 1 {
        power_label(d)
    } else {
        format!("{m}×{}", power_label(d))
    }
}

fn log_ticks(lo: f64, hi: f64, target: f64) -> Vec<Tick> {
    let first = (lo - 1e-9).ceil() as i64;
    let last = (hi + 1e-9).floor() as i64;
    let decades = (last - first).max(0) as f64;
    let every = (decades / target).ceil().max(1.0) as i64;
    let mut out = Vec::new();
    if last <= first {
        // At most one power of ten in view: label the 1-2-5 values too, so the scale can be read.
        for d in (lo.floor() as i64)..=(hi.ceil() as i64) {
            for m in 1..=9 {
                let t = (f64::from(m) * 10f64.powi(d as i32)).log10();
                if t >= lo - 1e-9 && t <= hi + 1e-9 {
                    let major = matches!(m, 1 | 2 | 5);
                    out.push(Tick {
                        t,
                        label: if major {
                            mantissa_label(m, d)
                        } else {
                            String::new()
                        },
                        major,
                    });
                }
            }
        }
        return out;
    }
    for d in (lo.floor() as i64)..=(hi.ceil() as i64) {
        let t = d as f64;
        if t >= lo - 1e-9 && t <= hi + 1e-9 && (d - first) % every == 0 {
            out.push(Tick {
                t,
                label: power_label(d),
                major: true,
            });
        }
        // Minor ticks at 2..9 × 10^d while they are not too dense to see.
        if every == 1 && decades <= 8.0 {
            for m in 2..=9 {
                let tm = t + (m as f64).log10();
                if tm >= lo - 1e-9 && tm <= hi + 1e-9 {
                    out.push(Tick {
                        t: tm,
                        label: String::new(),
                        major: false,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(ticks: &[Tick]) -> Vec<&str> {
        ticks
            .iter()
            .filter(|t| t.major)
            .map(|t| t.label.as_str())
            .collect()
    }

    #[test]
    fn linear_ticks_are_round_and_inside_the_range() {
        let t = linear_ticks(-0.13, 7.9, 5.0);
        assert_eq!(labels(&t), ["0", "2", "4", "6"]);
        let t = linear_ticks(-1.0, 1.0, 4.0);
        assert_eq!(labels(&t), ["−1.0", "−0.5", "0.0", "0.5", "1.0"]);
        let t = linear_ticks(0.0, 1.0, 4.0);
        assert_eq!(labels(&t), ["0.00", "0.25", "0.50", "0.75", "1.00"]);
        let t = linear_ticks(0.1, 0.3, 4.0);
        assert_eq!(labels(&t), ["0.10", "0.15", "0.20", "0.25", "0.30"]);
        let t = linear_ticks(0.0, 3e5, 3.0);
        assert_eq!(labels(&t), ["0", "1e5", "2e5", "3e5"]);
    }

    #[test]
    fn log_ticks_label_powers_of_ten() {
        let t = log_ticks(-12.0, -3.0, 6.0);
        assert_eq!(labels(&t), ["10⁻¹²", "10⁻¹⁰", "10⁻⁸", "10⁻⁶", "10⁻⁴"]);
        let t = log_ticks(0.0, 3.0, 6.0);
        assert_eq!(labels(&t), ["1", "10", "10²", "10³"]);
        assert_eq!(t.iter().filter(|t| !t.major).count(), 3 * 8);
        // Inside one decade: 1-2-5 labels.
        let t = log_ticks(2f64.log10() - 0.01, 6f64.log10(), 5.0);
        assert_eq!(labels(&t), ["2", "5"]);
        // One power of ten in view.
        let t = log_ticks(-7.5, -6.2, 5.0);
        assert_eq!(labels(&t), ["5×10⁻⁸", "10⁻⁷", "2×10⁻⁷", "5×10⁻⁷"]);
    }

    #[test]
    fn auto_range_pads_both_scales() {
        let (lo, hi) = auto_range(Scale::Linear, 0.0, 10.0, true);
        assert!((lo + 0.4).abs() < 1e-12 && (hi - 10.4).abs() < 1e-12);
        let (lo, hi) = auto_range(Scale::Log, -7.0, -2.0, true);
        assert!((lo + 7.2).abs() < 1e-12 && (hi + 1.8).abs() < 1e-12);
        let (lo, hi) = auto_range(Scale::Log, 2.0, 2.0, true);
        assert!(lo < 1.5 && hi > 2.5);
        let (lo, hi) = auto_range(Scale::Linear, 5.0, 5.0, true);
        assert!(lo < 5.0 && hi > 5.0);
    }
}
