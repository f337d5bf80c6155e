//! # sysdyn-plot
//!
//! Small, dependable figures for sysdyn's examples, written as both SVG and PNG:
//!
//! - line plots with several series and a legend, scatter plots, markers and dashes;
//! - phase portraits: trajectories over a vector field drawn as arrows ([`Quiver`]);
//! - logarithmic x and y axes (error against step size or work, convergence);
//! - heatmaps of a scalar field on a grid with a colour bar and contour lines ([`Heatmap`]);
//! - grids of figures ([`Subplots`]).
//!
//! Everything is pure Rust with a bundled font (DejaVu Sans), so text renders in the PNG on a
//! machine without fonts, a network or C libraries. Each figure is laid out once and drawn by
//! both renderers, so the two files show the same picture; the SVG keeps text as text.
//!
//! Files are written atomically (a temporary file renamed into place, by
//! `sysdyn_core::fs::write_atomic`). Bad input is a typed
//! [`PlotError`]; non-finite points are left out (a line breaks there) and counted in
//! [`Saved::skipped`], and only a figure with no finite data at all is an error.
//!
//! ```no_run
//! use sysdyn_plot::{Figure, linspace};
//!
//! let hs = [0.1, 0.05, 0.025, 0.0125];
//! let errors: Vec<f64> = hs.iter().map(|h: &f64| 0.3 * h.powi(4)).collect();
//! Figure::new("RK4 convergence")
//!     .x_label("step size h")
//!     .y_label("error at t = 1")
//!     .x_log()
//!     .y_log()
//!     .series(sysdyn_plot::Series::line("rk4", &hs, &errors).marker(sysdyn_plot::Marker::Circle))
//!     .save("out/convergence")?;
//! # let _ = linspace(0.0, 1.0, 3);
//! # Ok::<(), sysdyn_plot::PlotError>(())
//! ```

#![warn(missing_docs)]

mod color;
mod contour;
mod error;
mod figure;
mod font;
mod mosaic;
mod output;
mod raster;
mod scale;
mod scene;
mod series;
mod subplots;
mod svg;

pub use color::{Color, Colormap, PALETTE, palette};
pub use error::PlotError;
pub use figure::{Figure, Legend};
pub use mosaic::image_mosaic;
pub use output::{Saved, Skipped};
pub use scale::Scale;
pub use scene::Dash;
pub use series::{Contours, Heatmap, Marker, Quiver, Series};
pub use subplots::Subplots;

/// `n` evenly spaced values from `start` to `end` inclusive (`n = 1` gives `[start]`).
pub fn linspace(start: f64, end: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![start],
        _ => (0..n)
            .map(|k| start + (end - start) * k as f64 / (n - 1) as f64)
            .collect(),
    }
}

/// `n` values from `start` to `end` inclusive, evenly spaced on a log scale (both positive).
pub fn logspace(start: f64, end: f64, n: usize) -> Vec<f64> {
    linspace(start.log10(), end.log10(), n)
        .into_iter()
        .map(|e| 10f64.powf(e))
        .collect()
}
