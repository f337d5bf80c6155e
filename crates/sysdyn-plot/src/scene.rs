//! A figure laid out as drawing primitives in logical pixels (origin top left, y down).
//!
//! Layout happens once; the SVG and PNG renderers each draw the same [`Scene`], so the two files
//! show the same picture.

use crate::color::Color;

/// An axis-aligned rectangle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.w
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
    pub fn contains(&self, (px, py): (f64, f64)) -> bool {
        px >= self.x && px <= self.right() && py >= self.y && py <= self.bottom()
    }
}

/// Line dash pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dash {
    /// Solid line.
    #[default]
    Solid,
    /// Long dashes.
    Dashed,
    /// Dots.
    Dotted,
    /// Dash, dot.
    DashDot,
}

impl Dash {
    /// On/off lengths in multiples of the line width (empty for solid).
    pub(crate) fn pattern(self, width: f64) -> Vec<f64> {
        let w = width.max(1.0);
        match self {
            Dash::Solid => Vec::new(),
            Dash::Dashed => vec![4.0 * w, 2.5 * w],
            Dash::Dotted => vec![1.0 * w, 1.8 * w],
            Dash::DashDot => vec![4.0 * w, 1.8 * w, 1.0 * w, 1.8 * w],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stroke {
    pub color: Color,
    pub width: f64,
    pub dash: Dash,
}

impl Stroke {
    pub fn solid(color: Color, width: f64) -> Self {
        Stroke {
            color,
            width,
            dash: Dash::Solid,
        }
    }
}

/// Horizontal alignment of text relative to its anchor point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Text {
    /// Anchor point on the baseline.
    pub x: f64,
    pub y: f64,
    pub text: String,
    pub size: f64,
    pub color: Color,
    pub anchor: Anchor,
    /// Rotated a quarter turn counter-clockwise (reads bottom to top), about the anchor point.
    pub vertical: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape {
    /// Polylines (each subpath at least two points), optionally closed and filled.
    Path {
        subpaths: Vec<Vec<(f64, f64)>>,
        closed: bool,
        fill: Option<Color>,
        stroke: Option<Stroke>,
    },
    Circle {
        center: (f64, f64),
        radius: f64,
        fill: Option<Color>,
        stroke: Option<Stroke>,
    },
    Text(Text),
    /// An RGBA image (straight alpha, row-major from the top) stretched over `rect`.
    Image {
        rect: Rect,
        width: u32,
        height: u32,
        rgba: Vec<u8>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub shape: Shape,
    /// Index into [`Scene::clips`] of the rectangle this item is clipped to.
    pub clip: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scene {
    pub width: f64,
    pub height: f64,
    pub background: Color,
    pub clips: Vec<Rect>,
    pub items: Vec<Item>,
}

impl Scene {
    pub fn new(width: f64, height: f64) -> Self {
        Scene {
            width,
            height,
            background: Color::WHITE,
            clips: Vec::new(),
            items: Vec::new(),
        }
    }

    pub fn add_clip(&mut self, rect: Rect) -> usize {
        self.clips.push(rect);
        self.clips.len() - 1
    }

    pub fn push(&mut self, shape: Shape, clip: Option<usize>) {
        self.items.push(Item { shape, clip });
    }

    pub fn line(&mut self, points: Vec<(f64, f64)>, stroke: Stroke, clip: Option<usize>) {
        self.push(
            Shape::Path {
                subpaths: vec![points],
                closed: false,
                fill: None,
                stroke: Some(stroke),
            },
            clip,
        );
    }

    pub fn rect(&mut self, r: Rect, fill: Option<Color>, stroke: Option<Stroke>) {
        self.push(
            Shape::Path {
                subpaths: vec![vec![
                    (r.x, r.y),
                    (r.right(), r.y),
                    (r.right(), r.bottom()),
                    (r.x, r.bottom()),
                ]],
                closed: true,
                fill,
                stroke,
            },
            None,
        );
    }

    pub fn text(&mut self, text: Text) {
        self.push(Shape::Text(text), None);
    }
}
