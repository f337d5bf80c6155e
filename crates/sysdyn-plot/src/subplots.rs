//! A grid of figures saved as one image.

use std::path::Path;

use crate::PlotError;
use crate::figure::{Figure, check_size, save_scene};
use crate::font::cap_height;
use crate::output::{Saved, Skipped};
use crate::scene::{Anchor, Rect, Scene, Text};
use crate::{Color, raster, svg};

const SUPTITLE_SIZE: f64 = 17.0;

/// Figures side by side in a `rows × cols` grid, filled row by row, under one title; each
/// figure keeps its own title, axes and legend.
///
/// ```no_run
/// use sysdyn_plot::{Figure, Subplots};
///
/// let xs = [1.0, 2.0, 3.0];
/// Subplots::new("Three views", 1, 3)
///     .panel(Figure::new("a").line("", &xs, &[1.0, 2.0, 3.0]))
///     .panel(Figure::new("b").line("", &xs, &[3.0, 2.0, 1.0]))
///     .panel(Figure::new("c").y_log().line("", &xs, &[1.0, 10.0, 100.0]))
///     .save("out/three_views")?;
/// # Ok::<(), sysdyn_plot::PlotError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Subplots {
    title: String,
    rows: usize,
    cols: usize,
    panel_width: f64,
    panel_height: f64,
    png_scale: f64,
    panels: Vec<Figure>,
}

impl Subplots {
    /// An empty grid; each panel is 480 × 400 logical pixels by default.
    pub fn new(title: &str, rows: usize, cols: usize) -> Self {
        Subplots {
            title: title.to_string(),
            rows,
            cols,
            panel_width: 480.0,
            panel_height: 400.0,
            png_scale: 2.0,
            panels: Vec::new(),
        }
    }

    /// Adds the next panel (the panel's own size and PNG scale are ignored).
    pub fn panel(mut self, figure: Figure) -> Self {
        self.panels.push(figure);
        self
    }

    /// Size of each panel in logical pixels.
    pub fn panel_size(mut self, width: f64, height: f64) -> Self {
        self.panel_width = width;
        self.panel_height = height;
        self
    }

    /// PNG pixels per logical pixel (default 2).
    pub fn png_scale(mut self, scale: f64) -> Self {
        self.png_scale = scale;
        self
    }

    fn scene(&self) -> Result<(Scene, Vec<Skipped>), PlotError> {
        if self.rows == 0 || self.cols == 0 {
            return Err(PlotError::InvalidOption(format!(
                "a {} × {} subplot grid has no cells; use at least 1 × 1",
                self.rows, self.cols
            )));
        }
        if self.panels.is_empty() {
            return Err(PlotError::NothingToDraw {
                figure: self.title.clone(),
            });
        }
        if self.panels.len() > self.rows * self.cols {
            return Err(PlotError::InvalidOption(format!(
                "{} panels do not fit a {} × {} grid",
                self.panels.len(),
                self.rows,
                self.cols
            )));
        }
        check_size(self.panel_width, self.panel_height, self.png_scale)?;
        let header = if self.title.is_empty() {
            0.0
        } else {
            SUPTITLE_SIZE * 2.0
        };
        let width = self.panel_width * self.cols as f64;
        let height = header + self.panel_height * self.rows as f64;
        let mut scene = Scene::new(width, height);
        if !self.title.is_empty() {
            scene.text(Text {
                x: width / 2.0,
                y: 8.0 + cap_height(SUPTITLE_SIZE) + 2.0,
                text: self.title.clone(),
                size: SUPTITLE_SIZE,
                color: Color::BLACK,
                anchor: Anchor::Middle,
                vertical: false,
            });
        }
        let mut skipped = Vec::new();
        for (k, panel) in self.panels.iter().enumerate() {
            let area = Rect {
                x: (k % self.cols) as f64 * self.panel_width,
                y: header + (k / self.cols) as f64 * self.panel_height,
                w: self.panel_width,
                h: self.panel_height,
            };
            skipped.extend(panel.draw(&mut scene, area)?);
        }
        Ok((scene, skipped))
    }

    /// The grid as an SVG document.
    pub fn to_svg(&self) -> Result<String, PlotError> {
        svg::render(&self.scene()?.0)
    }

    /// The grid as a PNG file's bytes.
    pub fn to_png(&self) -> Result<Vec<u8>, PlotError> {
        raster::render(&self.scene()?.0, self.png_scale)
    }

    /// Writes `<stem>.svg` and `<stem>.png` atomically.
    pub fn save(&self, stem: impl AsRef<Path>) -> Result<Saved, PlotError> {
        let (scene, skipped) = self.scene()?;
        save_scene(&scene, self.png_scale, stem.as_ref(), skipped)
    }
}
