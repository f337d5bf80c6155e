//! The bundled font: text measurement for layout and glyph outlines for the PNG renderer.
//!
//! DejaVu Sans is compiled into the crate so that PNG text renders identically on machines with
//! no fonts installed. SVG files name the same family and let the viewer draw the text, so that
//! labels stay selectable and searchable; layout uses the bundled metrics for both.

use std::sync::OnceLock;

use ttf_parser::{Face, GlyphId, OutlineBuilder};

/// DejaVu Sans 2.37, unmodified; licence in `fonts/LICENSE-DejaVu.txt`.
static FONT_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// The CSS font stack written into SVG files: the bundled family first.
pub(crate) const SVG_FONT_FAMILY: &str = "DejaVu Sans, Bitstream Vera Sans, Verdana, sans-serif";

fn face() -> &'static Face<'static> {
    static FACE: OnceLock<Face<'static>> = OnceLock::new();
    FACE.get_or_init(|| {
        // The font is part of the crate and checked by a unit test; failing to parse it is a
        // build defect, not a user error.
        Face::parse(FONT_BYTES, 0).expect("the bundled DejaVu Sans font parses")
    })
}

fn glyph(c: char) -> GlyphId {
    // Characters outside the font fall back to the "missing glyph" box rather than vanishing.
    face().glyph_index(c).unwrap_or(GlyphId(0))
}

fn units_per_em() -> f64 {
    f64::from(face().units_per_em())
}

/// Width in pixels of `text` at font size `size` (pixels per em).
pub(crate) fn text_width(text: &str, size: f64) -> f64 {
    let face = face();
    let units: f64 = text
        .chars()
        .map(|c| f64::from(face.glyph_hor_advance(glyph(c)).unwrap_or(0)))
        .sum();
    units * size / units_per_em()
}

/// Height of capital letters above the baseline, in pixels, at font size `size`: used to centre
/// text vertically on a point.
pub(crate) fn cap_height(size: f64) -> f64 {
    let face = face();
    let units = face
        .capital_height()
        .map_or(0.72 * units_per_em(), f64::from);
    units * size / units_per_em()
}

/// Receives glyph outlines in pixels: text space has its origin at the start of the baseline,
/// x to the right and y downwards.
pub(crate) trait PathSink {
    fn move_to(&mut self, x: f64, y: f64);
    fn line_to(&mut self, x: f64, y: f64);
    fn quad_to(&mut self, x1: f64, y1: f64, x: f64, y: f64);
    fn cubic_to(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, x: f64, y: f64);
    fn close(&mut self);
}

struct Scaled<'a, P: PathSink> {
    sink: &'a mut P,
    scale: f64,
    pen_x: f64,
}

impl<P: PathSink> Scaled<'_, P> {
    fn x(&self, x: f32) -> f64 {
        self.pen_x + f64::from(x) * self.scale
    }
    fn y(&self, y: f32) -> f64 {
        // Font units point up; text space points down.
        -f64::from(y) * self.scale
    }
}

impl<P: PathSink> OutlineBuilder for Scaled<'_, P> {
    fn move_to(&mut self, x: f32, y: f32) {
        let (x, y) = (self.x(x), self.y(y));
        self.sink.move_to(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        let (x, y) = (self.x(x), self.y(y));
        self.sink.line_to(x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x1, y1, x, y) = (self.x(x1), self.y(y1), self.x(x), self.y(y));
        self.sink.quad_to(x1, y1, x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (x1, y1) = (self.x(x1), self.y(y1));
        let (x2, y2, x, y) = (self.x(x2), self.y(y2), self.x(x), self.y(y));
        self.sink.cubic_to(x1, y1, x2, y2, x, y);
    }
    fn close(&mut self) {
        self.sink.close();
    }
}

/// Writes the outlines of `text` at font size `size` into `sink`, in text space.
pub(crate) fn outline_text<P: PathSink>(text: &str, size: f64, sink: &mut P) {
    let face = face();
    let scale = size / units_per_em();
    let mut pen_x = 0.0;
    for c in text.chars() {
        let id = glyph(c);
        let mut scaled = Scaled {
            sink: &mut *sink,
            scale,
            pen_x,
        };
        // Spaces and other blank glyphs have no outline; only their advance matters.
        let _ = face.outline_glyph(id, &mut scaled);
        pen_x += f64::from(face.glyph_hor_advance(id).unwrap_or(0)) * scale;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_font_measures_and_covers_the_figure_alphabet() {
        // Characters used in titles and tick labels: en dash, Greek, superscript exponents.
        for c in "Lotka–Volterra λμσ 10⁻³ ×²".chars() {
            assert!(face().glyph_index(c).is_some(), "missing glyph for {c:?}");
        }
        let w1 = text_width("x", 10.0);
        let w2 = text_width("xx", 10.0);
        assert!(w1 > 3.0 && w1 < 10.0, "width of x at 10 px: {w1}");
        assert!((w2 - 2.0 * w1).abs() < 1e-12);
        assert!((text_width("abc", 20.0) - 2.0 * text_width("abc", 10.0)).abs() < 1e-12);
        let cap = cap_height(10.0);
        assert!(cap > 6.0 && cap < 8.0, "cap height at 10 px: {cap}");
    }
}
