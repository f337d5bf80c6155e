//! What a figure draws: line and scatter series, vector fields (quiver) and heatmaps.

use crate::color::{Color, Colormap};
use crate::scene::Dash;

/// A marker drawn at each point of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Marker {
    /// Filled disc.
    Circle,
    /// Filled square.
    Square,
    /// Filled triangle pointing up.
    Triangle,
    /// Filled diamond.
    Diamond,
    /// A plus sign.
    Plus,
}

/// A sequence of `(x, y)` points drawn as a line, markers, or both.
///
/// ```
/// use sysdyn_plot::{Color, Dash, Marker, Series};
///
/// let s = Series::line("rk4", &[1.0, 2.0, 3.0], &[1.0, 4.0, 9.0])
///     .color(Color::hex(0x1f77b4))
///     .dash(Dash::Dashed)
///     .marker(Marker::Circle);
/// assert_eq!(s.name(), "rk4");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub(crate) name: String,
    pub(crate) xs: Vec<f64>,
    pub(crate) ys: Vec<f64>,
    pub(crate) draw_line: bool,
    pub(crate) marker: Option<Marker>,
    pub(crate) color: Option<Color>,
    pub(crate) width: f64,
    pub(crate) dash: Dash,
    pub(crate) marker_size: f64,
    pub(crate) opacity: f64,
}

impl Series {
    fn new(name: &str, xs: &[f64], ys: &[f64], draw_line: bool, marker: Option<Marker>) -> Self {
        Series {
            name: name.to_string(),
            xs: xs.to_vec(),
            ys: ys.to_vec(),
            draw_line,
            marker,
            color: None,
            width: 1.6,
            dash: Dash::Solid,
            marker_size: 5.0,
            opacity: 1.0,
        }
    }

    /// A line through the points, in order. An empty `name` keeps the series out of the legend.
    /// A non-finite point breaks the line.
    pub fn line(name: &str, xs: &[f64], ys: &[f64]) -> Self {
        Series::new(name, xs, ys, true, None)
    }

    /// Markers at the points, no line.
    pub fn scatter(name: &str, xs: &[f64], ys: &[f64]) -> Self {
        Series::new(name, xs, ys, false, Some(Marker::Circle))
    }

    /// The name shown in the legend.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Colour (default: the next palette colour).
    pub fn color(mut self, color: Color) -> Self {
        self.color = Some(color);
        self
    }

    /// Line width in pixels (default 1.6).
    pub fn width(mut self, width: f64) -> Self {
        self.width = width;
        self
    }

    /// Dash pattern of the line.
    pub fn dash(mut self, dash: Dash) -> Self {
        self.dash = dash;
        self
    }

    /// Draws this marker at every point (on a line: in addition to the line).
    pub fn marker(mut self, marker: Marker) -> Self {
        self.marker = Some(marker);
        self
    }

    /// Marker diameter in pixels (default 5).
    pub fn marker_size(mut self, size: f64) -> Self {
        self.marker_size = size;
        self
    }

    /// Opacity in `[0, 1]` (default 1), for many overlapping series.
    pub fn opacity(mut self, opacity: f64) -> Self {
        self.opacity = opacity;
        self
    }
}

/// A vector field drawn as arrows: at each point `(x, y)` an arrow along `(u, v)`, centred on the
/// point.
///
/// By default arrow lengths are proportional to the vector's length (the longest arrow is about
/// one grid spacing); [`Quiver::normalized`] draws every arrow the same length, which shows the
/// direction of flow everywhere when magnitudes vary by orders of magnitude.
#[derive(Debug, Clone, PartialEq)]
pub struct Quiver {
    pub(crate) xs: Vec<f64>,
    pub(crate) ys: Vec<f64>,
    pub(crate) us: Vec<f64>,
    pub(crate) vs: Vec<f64>,
    pub(crate) color: Color,
    pub(crate) normalized: bool,
}

impl Quiver {
    /// Arrows `(us[i], vs[i])` at `(xs[i], ys[i])`.
    pub fn new(xs: &[f64], ys: &[f64], us: &[f64], vs: &[f64]) -> Self {
        Quiver {
            xs: xs.to_vec(),
            ys: ys.to_vec(),
            us: us.to_vec(),
            vs: vs.to_vec(),
            color: Color::GREY,
            normalized: false,
        }
    }

    /// Arrows `field(x, y)` on the grid `x_nodes × y_nodes`.
    pub fn from_fn(
        x_nodes: &[f64],
        y_nodes: &[f64],
        mut field: impl FnMut(f64, f64) -> (f64, f64),
    ) -> Self {
        let n = x_nodes.len() * y_nodes.len();
        let (mut xs, mut ys) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut us, mut vs) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for &y in y_nodes {
            for &x in x_nodes {
                let (u, v) = field(x, y);
                xs.push(x);
                ys.push(y);
                us.push(u);
                vs.push(v);
            }
        }
        Quiver::new(&xs, &ys, &us, &vs)
    }

    /// Draws every arrow the same length (direction only).
    pub fn normalized(mut self) -> Self {
        self.normalized = true;
        self
    }

    /// Arrow colour (default grey, so that the field stays behind the data).
    pub fn color(mut self, color: Color) -> Self {
        self.color = color;
        self
    }
}

/// Which contour lines a heatmap draws.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Contours {
    /// None.
    #[default]
    None,
    /// This many levels, evenly spaced in the colour scale (geometrically for a log colour scale).
    Count(usize),
    /// Exactly these levels.
    Levels(Vec<f64>),
}

/// A scalar field sampled on a grid, drawn as colours (with a colour bar), contour lines, or both.
///
/// `values[j * xs.len() + i]` is the value at `(xs[i], ys[j])`; between grid nodes the field is
/// interpolated bilinearly. Non-finite values are left blank.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    pub(crate) xs: Vec<f64>,
    pub(crate) ys: Vec<f64>,
    pub(crate) values: Vec<f64>,
    pub(crate) colormap: Colormap,
    pub(crate) log_color: bool,
    pub(crate) contours: Contours,
    pub(crate) fill: bool,
    pub(crate) label: String,
}

impl Heatmap {
    /// A field from its values on the grid `xs × ys` (row `j` holds `y = ys[j]`).
    pub fn new(xs: &[f64], ys: &[f64], values: &[f64]) -> Self {
        Heatmap {
            xs: xs.to_vec(),
            ys: ys.to_vec(),
            values: values.to_vec(),
            colormap: Colormap::default(),
            log_color: false,
            contours: Contours::None,
            fill: true,
            label: String::new(),
        }
    }

    /// A field `f(x, y)` sampled on the grid `xs × ys`.
    pub fn from_fn(xs: &[f64], ys: &[f64], mut f: impl FnMut(f64, f64) -> f64) -> Self {
        let values: Vec<f64> = ys
            .iter()
            .flat_map(|&y| xs.iter().map(move |&x| (x, y)))
            .map(|(x, y)| f(x, y))
            .collect();
        Heatmap::new(xs, ys, &values)
    }

    /// Colour map (default viridis).
    pub fn colormap(mut self, colormap: Colormap) -> Self {
        self.colormap = colormap;
        self
    }

    /// Colours by `log10` of the value (all finite values must then be positive): for losses and
    /// densities spanning orders of magnitude.
    pub fn log_color(mut self) -> Self {
        self.log_color = true;
        self
    }

    /// Draws `n` contour lines.
    pub fn contours(mut self, n: usize) -> Self {
        self.contours = Contours::Count(n);
        self
    }

    /// Draws contour lines at these levels.
    pub fn contour_levels(mut self, levels: &[f64]) -> Self {
        self.contours = Contours::Levels(levels.to_vec());
        self
    }

    /// Draws only the contour lines (coloured by level), without the colour fill.
    pub fn contours_only(mut self) -> Self {
        self.fill = false;
        self
    }

    /// Label of the colour bar.
    pub fn label(mut self, label: &str) -> Self {
        self.label = label.to_string();
        self
    }
}
