//! The [`Figure`] builder (one set of axes) and its layout into a [`Scene`].

use std::path::Path;

use crate::color::{Color, Colormap, palette};
use crate::contour;
use crate::font::{cap_height, text_width};
use crate::output::{Saved, Skipped, output_paths, write_atomic};
use crate::scale::{Axis, Scale, Tick, auto_range, ticks};
use crate::scene::{Anchor, Rect, Scene, Shape, Stroke, Text};
use crate::series::{Contours, Heatmap, Marker, Quiver, Series};
use crate::{PlotError, raster, svg};

const TITLE_SIZE: f64 = 15.0;
const LABEL_SIZE: f64 = 13.0;
const TICK_SIZE: f64 = 11.0;
const LEGEND_SIZE: f64 = 11.0;
const TICK_LEN: f64 = 5.0;
const PAD: f64 = 10.0;
const COLORBAR_WIDTH: f64 = 14.0;

/// Where the legend goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Legend {
    /// The inside corner that covers the fewest data points.
    #[default]
    Auto,
    /// Upper right corner, inside the axes.
    UpperRight,
    /// Upper left corner, inside the axes.
    UpperLeft,
    /// Lower left corner, inside the axes.
    LowerLeft,
    /// Lower right corner, inside the axes.
    LowerRight,
    /// To the right of the axes (and of the colour bar), top-aligned: for many entries, or data
    /// in every corner. The axes get narrower to make room.
    Outside,
    /// No legend.
    Hidden,
}

/// A figure with one set of axes: lines, scatter, vector fields and heatmaps, with title, axis
/// labels, ticks and a legend; saved as SVG and PNG.
///
/// ```no_run
/// use sysdyn_plot::{Figure, Quiver, linspace};
///
/// let ts = linspace(0.0, 6.0, 200);
/// let (xs, ys): (Vec<f64>, Vec<f64>) = ts.iter().map(|t| (t.cos(), t.sin())).unzip();
/// let saved = Figure::new("Harmonic oscillator")
///     .x_label("q")
///     .y_label("p")
///     .quiver(Quiver::from_fn(&linspace(-1.2, 1.2, 13), &linspace(-1.2, 1.2, 13), |q, p| (p, -q)))
///     .line("orbit", &xs, &ys)
///     .scatter("start", &xs[..1], &ys[..1])
///     .save("out/oscillator/phase_portrait")?;
/// println!("wrote {} and {}", saved.svg.display(), saved.png.display());
/// # Ok::<(), sysdyn_plot::PlotError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub(crate) title: String,
    x_label: String,
    y_label: String,
    pub(crate) width: f64,
    pub(crate) height: f64,
    x_scale: Scale,
    y_scale: Scale,
    x_range: Option<(f64, f64)>,
    y_range: Option<(f64, f64)>,
    series: Vec<Series>,
    quivers: Vec<Quiver>,
    heatmaps: Vec<Heatmap>,
    legend: Legend,
    pub(crate) png_scale: f64,
}

impl Figure {
    /// An empty 720 × 480 figure with this title (may be empty).
    pub fn new(title: &str) -> Self {
        Figure {
            title: title.to_string(),
            x_label: String::new(),
            y_label: String::new(),
            width: 720.0,
            height: 480.0,
            x_scale: Scale::Linear,
            y_scale: Scale::Linear,
            x_range: None,
            y_range: None,
            series: Vec::new(),
            quivers: Vec::new(),
            heatmaps: Vec::new(),
            legend: Legend::Auto,
            png_scale: 2.0,
        }
    }

    /// Label of the x axis.
    pub fn x_label(mut self, label: &str) -> Self {
        self.x_label = label.to_string();
        self
    }

    /// Label of the y axis.
    pub fn y_label(mut self, label: &str) -> Self {
        self.y_label = label.to_string();
        self
    }

    /// Size in logical pixels (default 720 × 480). The PNG has `png_scale` times as many pixels.
    pub fn size(mut self, width: f64, height: f64) -> Self {
        self.width = width;
        self.height = height;
        self
    }

    /// PNG pixels per logical pixel (default 2, sharp on high-density screens).
    pub fn png_scale(mut self, scale: f64) -> Self {
        self.png_scale = scale;
        self
    }

    /// Scale of the x axis.
    pub fn x_scale(mut self, scale: Scale) -> Self {
        self.x_scale = scale;
        self
    }

    /// Scale of the y axis.
    pub fn y_scale(mut self, scale: Scale) -> Self {
        self.y_scale = scale;
        self
    }

    /// Logarithmic x axis.
    pub fn x_log(self) -> Self {
        self.x_scale(Scale::Log)
    }

    /// Logarithmic y axis.
    pub fn y_log(self) -> Self {
        self.y_scale(Scale::Log)
    }

    /// Fixes the x range (default: fitted to the data).
    pub fn x_range(mut self, lo: f64, hi: f64) -> Self {
        self.x_range = Some((lo, hi));
        self
    }

    /// Fixes the y range (default: fitted to the data).
    pub fn y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y_range = Some((lo, hi));
        self
    }

    /// Legend placement (default: the emptiest inside corner).
    pub fn legend(mut self, legend: Legend) -> Self {
        self.legend = legend;
        self
    }

    /// Adds a line (next palette colour); an empty name keeps it out of the legend.
    pub fn line(self, name: &str, xs: &[f64], ys: &[f64]) -> Self {
        self.series(Series::line(name, xs, ys))
    }

    /// Adds markers at points (next palette colour).
    pub fn scatter(self, name: &str, xs: &[f64], ys: &[f64]) -> Self {
        self.series(Series::scatter(name, xs, ys))
    }

    /// Adds a styled series.
    pub fn series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    /// Adds a vector field, drawn beneath the series.
    pub fn quiver(mut self, quiver: Quiver) -> Self {
        self.quivers.push(quiver);
        self
    }

    /// Adds a heatmap, drawn beneath vector fields and series; the first filled heatmap gets a
    /// colour bar.
    pub fn heatmap(mut self, heatmap: Heatmap) -> Self {
        self.heatmaps.push(heatmap);
        self
    }

    /// The figure as an SVG document.
    pub fn to_svg(&self) -> Result<String, PlotError> {
        let (scene, _) = self.scene()?;
        svg::render(&scene)
    }

    /// The figure as a PNG file's bytes (`png_scale` × size pixels).
    pub fn to_png(&self) -> Result<Vec<u8>, PlotError> {
        let (scene, _) = self.scene()?;
        raster::render(&scene, self.png_scale)
    }

    /// Writes `<stem>.svg` and `<stem>.png` atomically (creating the directory if needed).
    pub fn save(&self, stem: impl AsRef<Path>) -> Result<Saved, PlotError> {
        let (scene, skipped) = self.scene()?;
        save_scene(&scene, self.png_scale, stem.as_ref(), skipped)
    }

    fn scene(&self) -> Result<(Scene, Vec<Skipped>), PlotError> {
        check_size(self.width, self.height, self.png_scale)?;
        let mut scene = Scene::new(self.width, self.height);
        let area = Rect {
            x: 0.0,
            y: 0.0,
            w: self.width,
            h: self.height,
        };
        let skipped = self.draw(&mut scene, area)?;
        Ok((scene, skipped))
    }
}

pub(crate) fn check_size(width: f64, height: f64, scale: f64) -> Result<(), PlotError> {
    let ok = |v: f64, lo: f64, hi: f64| v.is_finite() && v >= lo && v <= hi;
    if !ok(width, 120.0, 20_000.0) || !ok(height, 100.0, 20_000.0) {
        return Err(PlotError::InvalidOption(format!(
            "size {width} × {height}: width must be in [120, 20000] and height in [100, 20000] \
             logical pixels"
        )));
    }
    if !ok(scale, 0.25, 8.0) {
        return Err(PlotError::InvalidOption(format!(
            "png_scale {scale}: must be in [0.25, 8]"
        )));
    }
    Ok(())
}

pub(crate) fn save_scene(
    scene: &Scene,
    png_scale: f64,
    stem: &Path,
    skipped: Vec<Skipped>,
) -> Result<Saved, PlotError> {
    let svg_text = svg::render(scene)?;
    let png_bytes = raster::render(scene, png_scale)?;
    let (svg_path, png_path) = output_paths(stem);
    write_atomic(&svg_path, svg_text.as_bytes())?;
    write_atomic(&png_path, &png_bytes)?;
    Ok(Saved {
        svg: svg_path,
        png: png_path,
        skipped,
    })
}

/// Running min/max of transformed coordinates.
#[derive(Debug, Clone, Copy)]
struct Extent {
    lo: f64,
    hi: f64,
}

impl Extent {
    const EMPTY: Extent = Extent {
        lo: f64::INFINITY,
        hi: f64::NEG_INFINITY,
    };
    fn include(&mut self, t: f64) {
        self.lo = self.lo.min(t);
        self.hi = self.hi.max(t);
    }
    fn is_empty(&self) -> bool {
        self.lo > self.hi
    }
}

/// A series reduced to its finite points, split where non-finite points were.
struct CleanSeries<'a> {
    series: &'a Series,
    color: Color,
    /// Runs of consecutive finite points (data coordinates).
    runs: Vec<Vec<(f64, f64)>>,
}

/// A heatmap with the colour transform applied (log10 for a log colour scale).
struct CleanHeatmap<'a> {
    heatmap: &'a Heatmap,
    xt: Vec<f64>,
    yt: Vec<f64>,
    values: Vec<f64>,
    vmin: f64,
    vmax: f64,
}

fn check_len(
    series: &str,
    what: &'static str,
    expected: usize,
    got: usize,
) -> Result<(), PlotError> {
    if expected == got {
        Ok(())
    } else {
        Err(PlotError::LengthMismatch {
            series: series.to_string(),
            what,
            expected,
            got,
        })
    }
}

fn check_log(
    series: &str,
    axis: &'static str,
    scale: Scale,
    values: &[f64],
) -> Result<(), PlotError> {
    if scale != Scale::Log {
        return Ok(());
    }
    match values
        .iter()
        .enumerate()
        .find(|(_, v)| v.is_finite() && **v <= 0.0)
    {
        Some((index, &value)) => Err(PlotError::NonPositiveOnLogAxis {
            series: series.to_string(),
            axis,
            index,
            value,
        }),
        None => Ok(()),
    }
}

fn check_grid(what: &'static str, nodes: &[f64]) -> Result<(), PlotError> {
    let bad = |reason: String| PlotError::InvalidGrid { what, reason };
    if nodes.len() < 2 {
        return Err(bad(format!("has {} nodes", nodes.len())));
    }
    if let Some(i) = nodes.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!("node {i} is {}", nodes[i])));
    }
    if let Some(i) = nodes.windows(2).position(|w| w[1] <= w[0]) {
        return Err(bad(format!(
            "nodes {i} and {} are not increasing ({} then {})",
            i + 1,
            nodes[i],
            nodes[i + 1]
        )));
    }
    Ok(())
}

fn series_label(s: &Series, index: usize) -> String {
    if s.name.is_empty() {
        format!("series {index}")
    } else {
        s.name.clone()
    }
}

/// Bilinear interpolation of the grid field at `(tx, ty)` (transformed coordinates).
fn sample(h: &CleanHeatmap<'_>, tx: f64, ty: f64) -> f64 {
    let cell = |nodes: &[f64], t: f64| {
        let i = nodes.partition_point(|&n| n <= t).clamp(1, nodes.len() - 1);
        let s = (t - nodes[i - 1]) / (nodes[i] - nodes[i - 1]);
        (i - 1, s.clamp(0.0, 1.0))
    };
    let (i, s) = cell(&h.xt, tx);
    let (j, r) = cell(&h.yt, ty);
    let nx = h.xt.len();
    let v = |i: usize, j: usize| h.values[j * nx + i];
    let bottom = v(i, j) * (1.0 - s) + v(i + 1, j) * s;
    let top = v(i, j + 1) * (1.0 - s) + v(i + 1, j + 1) * s;
    bottom * (1.0 - r) + top * r
}

fn normalized(v: f64, vmin: f64, vmax: f64) -> f64 {
    if vmax > vmin {
        (v - vmin) / (vmax - vmin)
    } else {
        0.5
    }
}

fn marker_shape(marker: Marker, (x, y): (f64, f64), size: f64, color: Color) -> Shape {
    let r = size / 2.0;
    let polygon = |points: Vec<(f64, f64)>| Shape::Path {
        subpaths: vec![points],
        closed: true,
        fill: Some(color),
        stroke: None,
    };
    match marker {
        Marker::Circle => Shape::Circle {
            center: (x, y),
            radius: r,
            fill: Some(color),
            stroke: None,
        },
        Marker::Square => {
            let a = 0.88 * r;
            polygon(vec![
                (x - a, y - a),
                (x + a, y - a),
                (x + a, y + a),
                (x - a, y + a),
            ])
        }
        Marker::Triangle => {
            let a = 1.2 * r;
            polygon(vec![
                (x, y - a),
                (x + 0.87 * a, y + 0.5 * a),
                (x - 0.87 * a, y + 0.5 * a),
            ])
        }
        Marker::Diamond => {
            let a = 1.25 * r;
            polygon(vec![
                (x, y - a),
                (x + 0.75 * a, y),
                (x, y + a),
                (x - 0.75 * a, y),
            ])
        }
        Marker::Plus => Shape::Path {
            subpaths: vec![vec![(x - r, y), (x + r, y)], vec![(x, y - r), (x, y + r)]],
            closed: false,
            fill: None,
            stroke: Some(Stroke::solid(color, 1.5)),
        },
    }
}

/// Pixel positions are kept within this distance of the figure so that far-away points (an
/// explicit range that cuts the data) stay finite for the rasteriser.
const FAR: f64 = 1e6;

fn to_px(ax: &Axis, ay: &Axis, (x, y): (f64, f64)) -> (f64, f64) {
    (ax.px(x).clamp(-FAR, FAR), ay.px(y).clamp(-FAR, FAR))
}

/// Drops points closer than a third of a pixel to the previous one: invisible, but they bloat
/// the SVG of a long, finely sampled trajectory.
fn thin(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let n = points.len();
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(n);
    for (i, p) in points.into_iter().enumerate() {
        match out.last() {
            Some(q) if i + 1 < n && (p.0 - q.0).hypot(p.1 - q.1) < 0.33 => {}
            _ => out.push(p),
        }
    }
    out
}

struct Layout {
    plot: Rect,
    x_axis: Axis,
    y_axis: Axis,
    x_ticks: Vec<Tick>,
    y_ticks: Vec<Tick>,
    y_tick_width: f64,
    colorbar: Option<(Rect, Axis, Vec<Tick>, f64)>,
}

fn max_label_width(ticks: &[Tick]) -> f64 {
    ticks
        .iter()
        .map(|t| text_width(&t.label, TICK_SIZE))
        .fold(0.0, f64::max)
}

impl Figure {
    fn resolve_range(
        &self,
        axis: &'static str,
        scale: Scale,
        fixed: Option<(f64, f64)>,
        extent: Extent,
        margin: bool,
    ) -> Result<(f64, f64), PlotError> {
        match fixed {
            Some((lo, hi)) => {
                let ok = lo.is_finite()
                    && hi.is_finite()
                    && lo < hi
                    && (scale == Scale::Linear || lo > 0.0);
                if ok {
                    Ok((scale.forward(lo), scale.forward(hi)))
                } else {
                    Err(PlotError::InvalidRange { axis, lo, hi })
                }
            }
            None => Ok(auto_range(scale, extent.lo, extent.hi, margin)),
        }
    }

    /// Lays the figure out in `area` of `scene`; returns the non-finite points left out.
    pub(crate) fn draw(&self, scene: &mut Scene, area: Rect) -> Result<Vec<Skipped>, PlotError> {
        if self.series.is_empty() && self.quivers.is_empty() && self.heatmaps.is_empty() {
            return Err(PlotError::NothingToDraw {
                figure: self.title.clone(),
            });
        }
        let mut skipped = Vec::new();
        let mut total_skipped = 0;
        let (mut x_ext, mut y_ext) = (Extent::EMPTY, Extent::EMPTY);

        // Series: validate, drop non-finite points, measure.
        let mut clean = Vec::new();
        // Like a colour cycle: only series without an explicit colour take the next one.
        let mut next_color = 0;
        for (index, s) in self.series.iter().enumerate() {
            let label = series_label(s, index);
            if s.xs.is_empty() {
                return Err(PlotError::EmptyData { series: label });
            }
            check_len(&label, "ys", s.xs.len(), s.ys.len())?;
            check_log(&label, "x", self.x_scale, &s.xs)?;
            check_log(&label, "y", self.y_scale, &s.ys)?;
            let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            let mut dropped = 0;
            for (&x, &y) in s.xs.iter().zip(&s.ys) {
                if x.is_finite() && y.is_finite() {
                    x_ext.include(self.x_scale.forward(x));
                    y_ext.include(self.y_scale.forward(y));
                    if let Some(run) = runs.last_mut() {
                        run.push((x, y));
                    }
                } else {
                    dropped += 1;
                    if runs.last().is_some_and(|r| !r.is_empty()) {
                        runs.push(Vec::new());
                    }
                }
            }
            runs.retain(|r| !r.is_empty());
            if dropped > 0 {
                total_skipped += dropped;
                skipped.push(Skipped {
                    series: label,
                    count: dropped,
                });
            }
            let color = s.color.unwrap_or_else(|| {
                next_color += 1;
                palette(next_color - 1)
            });
            clean.push(CleanSeries {
                series: s,
                color: color.with_alpha(s.opacity * color.opacity()),
                runs,
            });
        }

        // Vector fields.
        for q in &self.quivers {
            let n = q.xs.len();
            if n == 0 {
                return Err(PlotError::EmptyData {
                    series: "quiver".into(),
                });
            }
            check_len("quiver", "ys", n, q.ys.len())?;
            check_len("quiver", "us", n, q.us.len())?;
            check_len("quiver", "vs", n, q.vs.len())?;
            check_log("quiver", "x", self.x_scale, &q.xs)?;
            check_log("quiver", "y", self.y_scale, &q.ys)?;
            let mut dropped = 0;
            for i in 0..n {
                if [q.xs[i], q.ys[i], q.us[i], q.vs[i]]
                    .iter()
                    .all(|v| v.is_finite())
                {
                    x_ext.include(self.x_scale.forward(q.xs[i]));
                    y_ext.include(self.y_scale.forward(q.ys[i]));
                } else {
                    dropped += 1;
                }
            }
            if dropped > 0 {
                total_skipped += dropped;
                skipped.push(Skipped {
                    series: "quiver".into(),
                    count: dropped,
                });
            }
        }

        // Heatmaps: their grids fix the range exactly (no margin around an image).
        let mut heat = Vec::new();
        for h in &self.heatmaps {
            check_grid("xs", &h.xs)?;
            check_grid("ys", &h.ys)?;
            check_len("heatmap", "values", h.xs.len() * h.ys.len(), h.values.len())?;
            check_log("heatmap", "x", self.x_scale, &h.xs)?;
            check_log("heatmap", "y", self.y_scale, &h.ys)?;
            if h.log_color {
                check_log("heatmap", "colour", Scale::Log, &h.values)?;
            }
            let color_scale = if h.log_color {
                Scale::Log
            } else {
                Scale::Linear
            };
            let values: Vec<f64> = h.values.iter().map(|&v| color_scale.forward(v)).collect();
            let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
            let dropped = values.len() - finite.len();
            if dropped > 0 {
                total_skipped += dropped;
                skipped.push(Skipped {
                    series: "heatmap".into(),
                    count: dropped,
                });
            }
            if finite.is_empty() {
                continue;
            }
            let xt: Vec<f64> = h.xs.iter().map(|&v| self.x_scale.forward(v)).collect();
            let yt: Vec<f64> = h.ys.iter().map(|&v| self.y_scale.forward(v)).collect();
            x_ext.include(xt[0]);
            x_ext.include(xt[xt.len() - 1]);
            y_ext.include(yt[0]);
            y_ext.include(yt[yt.len() - 1]);
            heat.push(CleanHeatmap {
                heatmap: h,
                xt,
                yt,
                vmin: finite.iter().copied().fold(f64::INFINITY, f64::min),
                vmax: finite.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                values,
            });
        }

        if x_ext.is_empty() || y_ext.is_empty() {
            return Err(PlotError::NoFiniteData {
                figure: self.title.clone(),
                skipped: total_skipped,
            });
        }
        let margin = heat.is_empty();
        let (xt_lo, xt_hi) = self.resolve_range("x", self.x_scale, self.x_range, x_ext, margin)?;
        let (yt_lo, yt_hi) = self.resolve_range("y", self.y_scale, self.y_range, y_ext, margin)?;

        let colorbar_source = heat.iter().find(|h| h.heatmap.fill);
        let outside_legend = match self.legend {
            Legend::Outside => legend_size(&clean).map(|(w, _)| w),
            _ => None,
        };
        let layout = self.layout(
            area,
            (xt_lo, xt_hi),
            (yt_lo, yt_hi),
            colorbar_source,
            outside_legend,
        )?;
        let plot = layout.plot;
        let (ax, ay) = (&layout.x_axis, &layout.y_axis);

        // Grid lines under everything.
        let grid = Stroke::solid(Color::LIGHT_GREY, 1.0);
        for t in layout.x_ticks.iter().filter(|t| t.major) {
            let x = ax.px_t(t.t);
            scene.line(vec![(x, plot.y), (x, plot.bottom())], grid.clone(), None);
        }
        for t in layout.y_ticks.iter().filter(|t| t.major) {
            let y = ay.px_t(t.t);
            scene.line(vec![(plot.x, y), (plot.right(), y)], grid.clone(), None);
        }
        let clip = Some(scene.add_clip(plot));

        for h in &heat {
            self.draw_heatmap(scene, h, ax, ay, clip);
        }
        for q in &self.quivers {
            draw_quiver(scene, q, ax, ay, &plot, clip);
        }
        for c in &clean {
            let s = c.series;
            if s.draw_line {
                let subpaths: Vec<Vec<(f64, f64)>> = c
                    .runs
                    .iter()
                    .map(|run| thin(run.iter().map(|&p| to_px(ax, ay, p)).collect()))
                    .filter(|run| run.len() >= 2)
                    .collect();
                if !subpaths.is_empty() {
                    scene.push(
                        Shape::Path {
                            subpaths,
                            closed: false,
                            fill: None,
                            stroke: Some(Stroke {
                                color: c.color,
                                width: s.width,
                                dash: s.dash,
                            }),
                        },
                        clip,
                    );
                }
            }
            if let Some(marker) = s.marker {
                for &p in c.runs.iter().flatten() {
                    scene.push(
                        marker_shape(marker, to_px(ax, ay, p), s.marker_size, c.color),
                        clip,
                    );
                }
            }
        }

        self.draw_frame_and_labels(scene, area, &layout);
        if self.legend != Legend::Hidden {
            // Outside: against the right edge, in the margin `layout` reserved for it.
            let outside_x = area.right() - 6.0 - outside_legend.unwrap_or(0.0);
            draw_legend(scene, self.legend, &clean, ax, ay, &plot, outside_x);
        }
        if let (Some((bar, axis, cb_ticks, _)), Some(h)) = (&layout.colorbar, colorbar_source) {
            draw_colorbar(scene, h, bar, axis, cb_ticks);
        }
        Ok(skipped)
    }

    fn layout(
        &self,
        area: Rect,
        (xt_lo, xt_hi): (f64, f64),
        (yt_lo, yt_hi): (f64, f64),
        colorbar: Option<&CleanHeatmap<'_>>,
        outside_legend: Option<f64>,
    ) -> Result<Layout, PlotError> {
        let title_h = if self.title.is_empty() {
            0.0
        } else {
            TITLE_SIZE * 1.7
        };
        let top = area.y + PAD + title_h;
        let x_label_h = if self.x_label.is_empty() {
            0.0
        } else {
            LABEL_SIZE + 6.0
        };
        let bottom_margin = TICK_LEN + 4.0 + cap_height(TICK_SIZE) + 4.0 + x_label_h + PAD;
        let y_label_w = if self.y_label.is_empty() {
            0.0
        } else {
            LABEL_SIZE + 8.0
        };
        let plot_h = area.h - (top - area.y) - bottom_margin;
        // The colour bar's width depends on its tick labels, which depend on its height: the
        // plot's height, known already.
        let colorbar_axis = colorbar.map(|h| {
            let axis = Axis {
                scale: if h.heatmap.log_color {
                    Scale::Log
                } else {
                    Scale::Linear
                },
                t_lo: h.vmin,
                t_hi: if h.vmax > h.vmin {
                    h.vmax
                } else {
                    h.vmin + 1.0
                },
                px0: top + plot_h,
                px1: top,
            };
            let cb_ticks = ticks(&axis, plot_h, 40.0);
            let label_w = max_label_width(&cb_ticks);
            let label_extra = if h.heatmap.label.is_empty() {
                0.0
            } else {
                LABEL_SIZE + 8.0
            };
            let width = 14.0 + COLORBAR_WIDTH + TICK_LEN + 4.0 + label_w + label_extra;
            (axis, cb_ticks, width)
        });
        let right_margin = 18.0
            + colorbar_axis.as_ref().map_or(0.0, |c| c.2)
            + outside_legend.map_or(0.0, |w| w + 12.0);
        // Left margin depends on the widest y tick label, which depends on the plot height only.
        let probe = Axis {
            scale: self.y_scale,
            t_lo: yt_lo,
            t_hi: yt_hi,
            px0: top + plot_h,
            px1: top,
        };
        let y_ticks = ticks(&probe, plot_h, 45.0);
        let y_tick_width = max_label_width(&y_ticks);
        let left = area.x + PAD + y_label_w + y_tick_width + 4.0 + TICK_LEN;
        let plot_w = area.right() - right_margin - left;
        if plot_w < 40.0 || plot_h < 40.0 {
            return Err(PlotError::InvalidOption(format!(
                "figure `{}` of {} × {} pixels leaves a {:.0} × {:.0} pixel plot after labels; \
                 make it larger",
                self.title, area.w, area.h, plot_w, plot_h
            )));
        }
        let plot = Rect {
            x: left,
            y: top,
            w: plot_w,
            h: plot_h,
        };
        let x_axis = Axis {
            scale: self.x_scale,
            t_lo: xt_lo,
            t_hi: xt_hi,
            px0: plot.x,
            px1: plot.right(),
        };
        let x_ticks = ticks(&x_axis, plot.w, 80.0);
        let colorbar = colorbar_axis.map(|(axis, cb_ticks, _)| {
            let bar = Rect {
                x: plot.right() + 14.0,
                y: plot.y,
                w: COLORBAR_WIDTH,
                h: plot.h,
            };
            let label_w = max_label_width(&cb_ticks);
            (bar, axis, cb_ticks, label_w)
        });
        Ok(Layout {
            plot,
            x_axis,
            y_axis: probe,
            x_ticks,
            y_ticks,
            y_tick_width,
            colorbar,
        })
    }

    fn draw_heatmap(
        &self,
        scene: &mut Scene,
        h: &CleanHeatmap<'_>,
        ax: &Axis,
        ay: &Axis,
        clip: Option<usize>,
    ) {
        let hm = h.heatmap;
        let (x0, x1) = (ax.px_t(h.xt[0]), ax.px_t(h.xt[h.xt.len() - 1]));
        let (y0, y1) = (ay.px_t(h.yt[h.yt.len() - 1]), ay.px_t(h.yt[0]));
        if hm.fill {
            // One image pixel per logical pixel: the PNG's bilinear scaling and the SVG viewer's
            // keep it smooth, and the embedded image stays small.
            let w = ((x1 - x0).round() as u32).clamp(2, 1200);
            let hgt = ((y1 - y0).round() as u32).clamp(2, 1200);
            let (tx0, tx1) = (h.xt[0], h.xt[h.xt.len() - 1]);
            let (ty0, ty1) = (h.yt[0], h.yt[h.yt.len() - 1]);
            let mut rgba = Vec::with_capacity((w * hgt * 4) as usize);
            for j in 0..hgt {
                let ty = ty1 - (f64::from(j) + 0.5) / f64::from(hgt) * (ty1 - ty0);
                for i in 0..w {
                    let tx = tx0 + (f64::from(i) + 0.5) / f64::from(w) * (tx1 - tx0);
                    let v = sample(h, tx, ty);
                    if v.is_finite() {
                        let c = hm.colormap.at(normalized(v, h.vmin, h.vmax));
                        rgba.extend_from_slice(&[c.r, c.g, c.b, 255]);
                    } else {
                        rgba.extend_from_slice(&[0, 0, 0, 0]);
                    }
                }
            }
            scene.push(
                Shape::Image {
                    rect: Rect {
                        x: x0,
                        y: y0,
                        w: x1 - x0,
                        h: y1 - y0,
                    },
                    width: w,
                    height: hgt,
                    rgba,
                },
                clip,
            );
        }
        let levels: Vec<f64> = match &hm.contours {
            Contours::None => Vec::new(),
            Contours::Count(n) => (1..=*n)
                .map(|k| h.vmin + (h.vmax - h.vmin) * k as f64 / (*n + 1) as f64)
                .collect(),
            Contours::Levels(levels) => levels
                .iter()
                .filter(|v| !hm.log_color || **v > 0.0)
                .map(|&v| if hm.log_color { v.log10() } else { v })
                .collect(),
        };
        for level in levels {
            let segments = contour::segments(&h.xt, &h.yt, &h.values, level);
            if segments.is_empty() {
                continue;
            }
            let subpaths = segments
                .iter()
                .map(|seg| {
                    seg.iter()
                        .map(|&(tx, ty)| (ax.px_t(tx), ay.px_t(ty)))
                        .collect()
                })
                .collect();
            let stroke = if hm.fill {
                Stroke::solid(Color::WHITE.with_alpha(0.7), 0.9)
            } else {
                Stroke::solid(hm.colormap.at(normalized(level, h.vmin, h.vmax)), 1.3)
            };
            scene.push(
                Shape::Path {
                    subpaths,
                    closed: false,
                    fill: None,
                    stroke: Some(stroke),
                },
                clip,
            );
        }
    }

    fn draw_frame_and_labels(&self, scene: &mut Scene, area: Rect, layout: &Layout) {
        let plot = layout.plot;
        let ink = Color::DARK_GREY;
        scene.rect(plot, None, Some(Stroke::solid(ink, 1.0)));
        let tick_cap = cap_height(TICK_SIZE);
        let mut marks = Vec::new();
        for t in &layout.x_ticks {
            let x = layout.x_axis.px_t(t.t);
            let len = if t.major { TICK_LEN } else { TICK_LEN * 0.6 };
            marks.push(vec![(x, plot.bottom()), (x, plot.bottom() + len)]);
            if t.major {
                scene.text(Text {
                    x,
                    y: plot.bottom() + TICK_LEN + 4.0 + tick_cap,
                    text: t.label.clone(),
                    size: TICK_SIZE,
                    color: ink,
                    anchor: Anchor::Middle,
                    vertical: false,
                });
            }
        }
        for t in &layout.y_ticks {
            let y = layout.y_axis.px_t(t.t);
            let len = if t.major { TICK_LEN } else { TICK_LEN * 0.6 };
            marks.push(vec![(plot.x - len, y), (plot.x, y)]);
            if t.major {
                scene.text(Text {
                    x: plot.x - TICK_LEN - 4.0,
                    y: y + tick_cap / 2.0,
                    text: t.label.clone(),
                    size: TICK_SIZE,
                    color: ink,
                    anchor: Anchor::End,
                    vertical: false,
                });
            }
        }
        scene.push(
            Shape::Path {
                subpaths: marks,
                closed: false,
                fill: None,
                stroke: Some(Stroke::solid(ink, 1.0)),
            },
            None,
        );
        if !self.x_label.is_empty() {
            scene.text(Text {
                x: plot.x + plot.w / 2.0,
                y: plot.bottom() + TICK_LEN + 4.0 + tick_cap + 6.0 + LABEL_SIZE,
                text: self.x_label.clone(),
                size: LABEL_SIZE,
                color: Color::BLACK,
                anchor: Anchor::Middle,
                vertical: false,
            });
        }
        if !self.y_label.is_empty() {
            scene.text(Text {
                x: plot.x - TICK_LEN - 4.0 - layout.y_tick_width - 8.0 - 0.25 * LABEL_SIZE,
                y: plot.y + plot.h / 2.0,
                text: self.y_label.clone(),
                size: LABEL_SIZE,
                color: Color::BLACK,
                anchor: Anchor::Middle,
                vertical: true,
            });
        }
        if !self.title.is_empty() {
            scene.text(Text {
                x: plot.x + plot.w / 2.0,
                y: area.y + PAD + cap_height(TITLE_SIZE) + 2.0,
                text: self.title.clone(),
                size: TITLE_SIZE,
                color: Color::BLACK,
                anchor: Anchor::Middle,
                vertical: false,
            });
        }
    }
}

fn draw_quiver(
    scene: &mut Scene,
    q: &Quiver,
    ax: &Axis,
    ay: &Axis,
    plot: &Rect,
    clip: Option<usize>,
) {
    // Arrows in pixel space: base point and pixel-space vector.
    let arrows: Vec<((f64, f64), (f64, f64))> = (0..q.xs.len())
        .filter(|&i| {
            [q.xs[i], q.ys[i], q.us[i], q.vs[i]]
                .iter()
                .all(|v| v.is_finite())
        })
        .map(|i| {
            let base = to_px(ax, ay, (q.xs[i], q.ys[i]));
            let d = (
                q.us[i] * ax.px_per_unit(q.xs[i]),
                q.vs[i] * ay.px_per_unit(q.ys[i]),
            );
            (base, d)
        })
        .filter(|(b, _)| plot.contains(*b))
        .collect();
    if arrows.is_empty() {
        return;
    }
    let spacing = (plot.w * plot.h / arrows.len() as f64).sqrt();
    let longest = arrows
        .iter()
        .map(|(_, d)| d.0.hypot(d.1))
        .fold(0.0, f64::max);
    let (mut shafts, mut heads) = (Vec::new(), Vec::new());
    for ((bx, by), (dx, dy)) in arrows {
        let len_px = dx.hypot(dy);
        if len_px.is_nan() || len_px <= 0.0 {
            continue;
        }
        let length = if q.normalized {
            0.7 * spacing
        } else {
            0.9 * spacing * len_px / longest
        };
        let (ux, uy) = (dx / len_px, dy / len_px);
        let (tail, tip) = (
            (bx - ux * length / 2.0, by - uy * length / 2.0),
            (bx + ux * length / 2.0, by + uy * length / 2.0),
        );
        let head = (0.35 * length).min(7.0);
        let half = 0.45 * head;
        let neck = (tip.0 - ux * head, tip.1 - uy * head);
        shafts.push(vec![
            tail,
            (tip.0 - ux * head * 0.8, tip.1 - uy * head * 0.8),
        ]);
        heads.push(vec![
            tip,
            (neck.0 - uy * half, neck.1 + ux * half),
            (neck.0 + uy * half, neck.1 - ux * half),
        ]);
    }
    scene.push(
        Shape::Path {
            subpaths: shafts,
            closed: false,
            fill: None,
            stroke: Some(Stroke::solid(q.color, 1.0)),
        },
        clip,
    );
    scene.push(
        Shape::Path {
            subpaths: heads,
            closed: true,
            fill: Some(q.color),
            stroke: None,
        },
        clip,
    );
}

const LEGEND_ROW: f64 = LEGEND_SIZE * 1.6;
const LEGEND_SWATCH: f64 = 26.0;

/// Size of the legend box of these series (`None` when no series has a name).
fn legend_size(clean: &[CleanSeries<'_>]) -> Option<(f64, f64)> {
    let names: Vec<&str> = clean
        .iter()
        .map(|c| c.series.name.as_str())
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        return None;
    }
    let text_w = names
        .iter()
        .map(|n| text_width(n, LEGEND_SIZE))
        .fold(0.0, f64::max);
    Some((
        8.0 + LEGEND_SWATCH + 6.0 + text_w + 8.0,
        6.0 + LEGEND_ROW * names.len() as f64 + 4.0,
    ))
}

fn draw_legend(
    scene: &mut Scene,
    placement: Legend,
    clean: &[CleanSeries<'_>],
    ax: &Axis,
    ay: &Axis,
    plot: &Rect,
    outside_x: f64,
) {
    let entries: Vec<&CleanSeries<'_>> =
        clean.iter().filter(|c| !c.series.name.is_empty()).collect();
    let Some((w, h)) = legend_size(clean) else {
        return;
    };
    let (row, swatch) = (LEGEND_ROW, LEGEND_SWATCH);
    let inset = 8.0;
    let corner = |which: Legend| {
        if which == Legend::Outside {
            return Rect {
                x: outside_x,
                y: plot.y,
                w,
                h,
            };
        }
        let x = match which {
            Legend::UpperLeft | Legend::LowerLeft => plot.x + inset,
            _ => plot.right() - inset - w,
        };
        let y = match which {
            Legend::LowerLeft | Legend::LowerRight => plot.bottom() - inset - h,
            _ => plot.y + inset,
        };
        Rect { x, y, w, h }
    };
    let placement = if placement == Legend::Auto {
        // The corner hiding the fewest points (sampled: at most ~400 per series).
        let candidates = [
            Legend::UpperRight,
            Legend::UpperLeft,
            Legend::LowerLeft,
            Legend::LowerRight,
        ];
        let covered = |which: Legend| {
            let r = corner(which);
            clean
                .iter()
                .map(|c| {
                    let points: Vec<&(f64, f64)> = c.runs.iter().flatten().collect();
                    let stride = (points.len() / 400).max(1);
                    points
                        .iter()
                        .step_by(stride)
                        .filter(|&&&p| r.contains(to_px(ax, ay, p)))
                        .count()
                })
                .sum::<usize>()
        };
        candidates
            .into_iter()
            .min_by_key(|&c| covered(c))
            .unwrap_or(Legend::UpperRight)
    } else {
        placement
    };
    let bx = corner(placement);
    if placement != Legend::Outside && (bx.w > plot.w || bx.h > plot.h) {
        // Too many or too long entries for the axes: better no legend than one hiding the data.
        return;
    }
    scene.rect(
        bx,
        Some(Color::WHITE.with_alpha(0.88)),
        Some(Stroke::solid(Color::hex(0xcccccc), 1.0)),
    );
    for (k, c) in entries.iter().enumerate() {
        let cy = bx.y + 6.0 + (k as f64 + 0.5) * row;
        let (x0, x1) = (bx.x + 8.0, bx.x + 8.0 + swatch);
        if c.series.draw_line {
            scene.line(
                vec![(x0, cy), (x1, cy)],
                Stroke {
                    color: c.color,
                    width: c.series.width,
                    dash: c.series.dash,
                },
                None,
            );
        }
        if let Some(m) = c.series.marker {
            scene.push(
                marker_shape(m, ((x0 + x1) / 2.0, cy), c.series.marker_size, c.color),
                None,
            );
        }
        scene.text(Text {
            x: x1 + 6.0,
            y: cy + cap_height(LEGEND_SIZE) / 2.0,
            text: c.series.name.clone(),
            size: LEGEND_SIZE,
            color: Color::BLACK,
            anchor: Anchor::Start,
            vertical: false,
        });
    }
}

fn draw_colorbar(scene: &mut Scene, h: &CleanHeatmap<'_>, bar: &Rect, axis: &Axis, ticks: &[Tick]) {
    let steps = 256u32;
    let colormap: Colormap = h.heatmap.colormap;
    let mut rgba = Vec::with_capacity(steps as usize * 4);
    for j in 0..steps {
        let c = colormap.at(1.0 - (f64::from(j) + 0.5) / f64::from(steps));
        rgba.extend_from_slice(&[c.r, c.g, c.b, 255]);
    }
    scene.push(
        Shape::Image {
            rect: *bar,
            width: 1,
            height: steps,
            rgba,
        },
        None,
    );
    let ink = Color::DARK_GREY;
    scene.rect(*bar, None, Some(Stroke::solid(ink, 1.0)));
    let mut marks = Vec::new();
    let mut label_w: f64 = 0.0;
    for t in ticks {
        let y = axis.px_t(t.t);
        let len = if t.major { TICK_LEN } else { TICK_LEN * 0.6 };
        marks.push(vec![(bar.right(), y), (bar.right() + len, y)]);
        if t.major {
            label_w = label_w.max(text_width(&t.label, TICK_SIZE));
            scene.text(Text {
                x: bar.right() + TICK_LEN + 4.0,
                y: y + cap_height(TICK_SIZE) / 2.0,
                text: t.label.clone(),
                size: TICK_SIZE,
                color: ink,
                anchor: Anchor::Start,
                vertical: false,
            });
        }
    }
    scene.push(
        Shape::Path {
            subpaths: marks,
            closed: false,
            fill: None,
            stroke: Some(Stroke::solid(ink, 1.0)),
        },
        None,
    );
    if !h.heatmap.label.is_empty() {
        scene.text(Text {
            x: bar.right() + TICK_LEN + 4.0 + label_w + 8.0 + cap_height(LABEL_SIZE),
            y: bar.y + bar.h / 2.0,
            text: h.heatmap.label.clone(),
            size: LABEL_SIZE,
            color: Color::BLACK,
            anchor: Anchor::Middle,
            vertical: true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrow_heads(fig: &Figure) -> Vec<Vec<(f64, f64)>> {
        let (scene, _) = fig.scene().unwrap();
        scene
            .items
            .into_iter()
            .find_map(|item| match item.shape {
                Shape::Path {
                    subpaths,
                    closed: true,
                    fill: Some(c),
                    ..
                } if c == Color::GREY => Some(subpaths),
                _ => None,
            })
            .expect("the quiver's arrow heads")
    }

    #[test]
    fn arrows_point_along_the_field_in_screen_coordinates() {
        let base = Figure::new("").x_range(-1.0, 1.0).y_range(-1.0, 1.0);
        // Up in data is up on screen (smaller pixel y); right is right.
        for ((u, v), check) in [
            (
                (0.0, 1.0),
                (|tip: (f64, f64), c: (f64, f64)| tip.1 < c.1 - 5.0) as fn(_, _) -> bool,
            ),
            ((1.0, 0.0), |tip, c| tip.0 > c.0 + 5.0),
            ((-1.0, 0.0), |tip, c| tip.0 < c.0 - 5.0),
        ] {
            let fig = base.clone().quiver(Quiver::new(&[0.0], &[0.0], &[u], &[v]));
            let heads = arrow_heads(&fig);
            let (scene, _) = fig.scene().unwrap();
            let plot = scene.clips[0];
            let centre = (plot.x + plot.w / 2.0, plot.y + plot.h / 2.0);
            assert!(
                check(heads[0][0], centre),
                "({u}, {v}): tip {:?}",
                heads[0][0]
            );
        }
        // On a log x axis an arrow's screen direction follows the local scale: equal data
        // vectors at x = 1 and x = 10 are ten times shorter in screen units at x = 10, which the
        // proportional (not normalised) lengths show.
        let fig = Figure::new("").x_log().quiver(Quiver::new(
            &[1.0, 10.0],
            &[0.0, 0.0],
            &[1.0, 1.0],
            &[0.0, 0.0],
        ));
        let (scene, _) = fig.scene().unwrap();
        let shafts = scene
            .items
            .iter()
            .find_map(|item| match &item.shape {
                Shape::Path {
                    subpaths,
                    closed: false,
                    stroke: Some(s),
                    ..
                } if s.color == Color::GREY => Some(subpaths.clone()),
                _ => None,
            })
            .unwrap();
        let len = |s: &Vec<(f64, f64)>| (s[1].0 - s[0].0).hypot(s[1].1 - s[0].1);
        let head_len = |s: &Vec<(f64, f64)>| (0.35 * len(s) / (1.0 - 0.35 * 0.8)).min(7.0);
        let total = |s: &Vec<(f64, f64)>| len(s) + 0.8 * head_len(s);
        let ratio = total(&shafts[0]) / total(&shafts[1]);
        assert!((ratio - 10.0).abs() < 0.3, "length ratio {ratio}");
    }

    #[test]
    fn heatmap_pixels_follow_the_field() {
        let xs = linspace(0.0, 1.0, 11);
        let fig = Figure::new("")
            .heatmap(Heatmap::from_fn(&xs, &xs, |x, y| x + 2.0 * y).colormap(Colormap::Greys));
        let (scene, _) = fig.scene().unwrap();
        let (width, height, rgba) = scene
            .items
            .into_iter()
            .find_map(|item| match item.shape {
                Shape::Image {
                    width,
                    height,
                    rgba,
                    ..
                } if width > 1 => Some((width, height, rgba)),
                _ => None,
            })
            .unwrap();
        let grey = |i: u32, j: u32| f64::from(rgba[4 * (j * width + i) as usize]) / 255.0;
        // Greys maps the field's range [0, 3] to black → white; rows run top-down.
        let expect = |i: u32, j: u32| {
            let x = (f64::from(i) + 0.5) / f64::from(width);
            let y = 1.0 - (f64::from(j) + 0.5) / f64::from(height);
            (x + 2.0 * y) / 3.0
        };
        for (i, j) in [
            (0, 0),
            (width - 1, height - 1),
            (width / 3, height / 2),
            (0, height - 1),
        ] {
            assert!((grey(i, j) - expect(i, j)).abs() < 0.01, "pixel ({i}, {j})");
        }
    }

    fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
        crate::linspace(a, b, n)
    }

    #[test]
    fn an_outside_legend_sits_right_of_the_axes_inside_the_figure() {
        let fig = Figure::new("")
            .line("a rather long series name", &[0.0, 1.0], &[0.0, 1.0])
            .legend(Legend::Outside);
        let (scene, _) = fig.scene().unwrap();
        let plot = scene.clips[0];
        let (inside_scene, _) = fig.clone().legend(Legend::UpperLeft).scene().unwrap();
        assert!(
            plot.w < inside_scene.clips[0].w - 100.0,
            "the axes make room"
        );
        let legend = scene
            .items
            .iter()
            .find_map(|item| match &item.shape {
                Shape::Path {
                    subpaths,
                    closed: true,
                    fill: Some(c),
                    ..
                } if c.a < 255 && c.r == 255 => Some(subpaths[0].clone()),
                _ => None,
            })
            .expect("a legend box");
        assert!(
            legend[0].0 > plot.right(),
            "legend starts at {}",
            legend[0].0
        );
        assert!(legend[2].0 <= scene.width, "legend ends at {}", legend[2].0);
    }

    #[test]
    fn automatic_legend_avoids_the_data() {
        // Data crowd the upper right: the legend must go elsewhere and cover no point.
        let xs: Vec<f64> = (0..50).map(|k| 5.0 + 5.0 * f64::from(k) / 49.0).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 10.0 - (x - 7.5).abs() * 0.2).collect();
        let fig = Figure::new("")
            .line("crowded", &xs, &ys)
            .scatter("anchor", &[0.0], &[0.0]);
        let (scene, _) = fig.scene().unwrap();
        let legend = scene
            .items
            .iter()
            .find_map(|item| match &item.shape {
                Shape::Path {
                    subpaths,
                    closed: true,
                    fill: Some(c),
                    ..
                } if c.a < 255 && c.r == 255 => Some(subpaths[0].clone()),
                _ => None,
            })
            .expect("a legend box");
        let (lx0, ly0, lx1, ly1) = (legend[0].0, legend[0].1, legend[2].0, legend[2].1);
        let plot = scene.clips[0];
        let ax = Axis {
            scale: Scale::Linear,
            t_lo: -0.4,
            t_hi: 10.4,
            px0: plot.x,
            px1: plot.right(),
        };
        let ay = Axis {
            scale: Scale::Linear,
            t_lo: -0.4,
            t_hi: 10.4,
            px0: plot.bottom(),
            px1: plot.y,
        };
        for (&x, &y) in xs.iter().zip(&ys) {
            let (px, py) = (ax.px(x), ay.px(y));
            assert!(
                !(px >= lx0 && px <= lx1 && py >= ly0 && py <= ly1),
                "covers ({x}, {y})"
            );
        }
    }
}
