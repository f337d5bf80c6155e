//! PNG renderer: a [`Scene`] rasterised with tiny-skia (anti-aliased), text drawn from the
//! bundled font's glyph outlines.

use tiny_skia::{
    FillRule, FilterQuality, IntSize, LineCap, LineJoin, Mask, Paint, PathBuilder, Pixmap,
    PixmapPaint, Transform,
};

use crate::PlotError;
use crate::color::Color;
use crate::font::{self, PathSink};
use crate::scene::{Anchor, Rect, Scene, Shape, Stroke};

impl PathSink for PathBuilder {
    fn move_to(&mut self, x: f64, y: f64) {
        PathBuilder::move_to(self, x as f32, y as f32);
    }
    fn line_to(&mut self, x: f64, y: f64) {
        PathBuilder::line_to(self, x as f32, y as f32);
    }
    fn quad_to(&mut self, x1: f64, y1: f64, x: f64, y: f64) {
        PathBuilder::quad_to(self, x1 as f32, y1 as f32, x as f32, y as f32);
    }
    fn cubic_to(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, x: f64, y: f64) {
        PathBuilder::cubic_to(
            self, x1 as f32, y1 as f32, x2 as f32, y2 as f32, x as f32, y as f32,
        );
    }
    fn close(&mut self) {
        PathBuilder::close(self);
    }
}

fn paint(color: Color) -> Paint<'static> {
    let mut paint = Paint::default();
    paint.set_color_rgba8(color.r, color.g, color.b, color.a);
    paint.anti_alias = true;
    paint
}

fn skia_stroke(s: &Stroke) -> tiny_skia::Stroke {
    let dash: Vec<f32> = s.dash.pattern(s.width).iter().map(|&d| d as f32).collect();
    tiny_skia::Stroke {
        width: s.width as f32,
        line_cap: LineCap::Round,
        line_join: LineJoin::Round,
        dash: if dash.is_empty() {
            None
        } else {
            tiny_skia::StrokeDash::new(dash, 0.0)
        },
        ..tiny_skia::Stroke::default()
    }
}

fn rect_mask(rect: &Rect, width: u32, height: u32, base: Transform) -> Option<Mask> {
    let mut mask = Mask::new(width, height)?;
    let r = tiny_skia::Rect::from_xywh(rect.x as f32, rect.y as f32, rect.w as f32, rect.h as f32)?;
    mask.fill_path(&PathBuilder::from_rect(r), FillRule::Winding, true, base);
    Some(mask)
}

/// Premultiplies straight-alpha RGBA, as tiny-skia stores pixels.
fn premultiply(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .flat_map(|p| {
            let a = u16::from(p[3]);
            let pm = |c: u8| ((u16::from(c) * a + 127) / 255) as u8;
            [pm(p[0]), pm(p[1]), pm(p[2]), p[3]]
        })
        .collect()
}

/// Draws `scene` at `scale` device pixels per logical pixel.
pub(crate) fn rasterize(scene: &Scene, scale: f64) -> Result<Pixmap, PlotError> {
    let width = (scene.width * scale).round().max(1.0) as u32;
    let height = (scene.height * scale).round().max(1.0) as u32;
    let mut pixmap = Pixmap::new(width, height).ok_or_else(|| {
        PlotError::InvalidOption(format!(
            "a {width}×{height} pixel image is too large to allocate; reduce the size or the PNG \
             scale"
        ))
    })?;
    let bg = scene.background;
    pixmap.fill(tiny_skia::Color::from_rgba8(bg.r, bg.g, bg.b, bg.a));
    let base = Transform::from_scale(scale as f32, scale as f32);
    let masks: Vec<Option<Mask>> = scene
        .clips
        .iter()
        .map(|r| rect_mask(r, width, height, base))
        .collect();

    for item in &scene.items {
        let mask = item
            .clip
            .and_then(|i| masks.get(i))
            .and_then(Option::as_ref);
        match &item.shape {
            Shape::Path {
                subpaths,
                closed,
                fill,
                stroke,
            } => {
                let mut pb = PathBuilder::new();
                for sub in subpaths.iter().filter(|s| s.len() >= 2) {
                    pb.move_to(sub[0].0 as f32, sub[0].1 as f32);
                    for &(x, y) in &sub[1..] {
                        pb.line_to(x as f32, y as f32);
                    }
                    if *closed {
                        pb.close();
                    }
                }
                let Some(path) = pb.finish() else { continue };
                if let Some(c) = fill {
                    pixmap.fill_path(&path, &paint(*c), FillRule::Winding, base, mask);
                }
                if let Some(s) = stroke {
                    pixmap.stroke_path(&path, &paint(s.color), &skia_stroke(s), base, mask);
                }
            }
            Shape::Circle {
                center,
                radius,
                fill,
                stroke,
            } => {
                let Some(path) =
                    PathBuilder::from_circle(center.0 as f32, center.1 as f32, *radius as f32)
                else {
                    continue;
                };
                if let Some(c) = fill {
                    pixmap.fill_path(&path, &paint(*c), FillRule::Winding, base, mask);
                }
                if let Some(s) = stroke {
                    pixmap.stroke_path(&path, &paint(s.color), &skia_stroke(s), base, mask);
                }
            }
            Shape::Text(t) => {
                let mut pb = PathBuilder::new();
                font::outline_text(&t.text, t.size, &mut pb);
                let Some(path) = pb.finish() else { continue };
                let offset = match t.anchor {
                    Anchor::Start => 0.0,
                    Anchor::Middle => font::text_width(&t.text, t.size) / 2.0,
                    Anchor::End => font::text_width(&t.text, t.size),
                };
                let mut transform = base.pre_translate(t.x as f32, t.y as f32);
                if t.vertical {
                    transform = transform.pre_rotate(-90.0);
                }
                let transform = transform.pre_translate(-offset as f32, 0.0);
                pixmap.fill_path(&path, &paint(t.color), FillRule::Winding, transform, mask);
            }
            Shape::Image {
                rect,
                width: iw,
                height: ih,
                rgba,
            } => {
                let Some(size) = IntSize::from_wh(*iw, *ih) else {
                    continue;
                };
                let Some(image) = Pixmap::from_vec(premultiply(rgba), size) else {
                    continue;
                };
                let transform = base.pre_translate(rect.x as f32, rect.y as f32).pre_scale(
                    (rect.w / f64::from(*iw)) as f32,
                    (rect.h / f64::from(*ih)) as f32,
                );
                let paint = PixmapPaint {
                    quality: FilterQuality::Bilinear,
                    ..PixmapPaint::default()
                };
                pixmap.draw_pixmap(0, 0, image.as_ref(), &paint, transform, mask);
            }
        }
    }
    Ok(pixmap)
}

/// Encodes straight-alpha RGBA pixels as a PNG file.
pub(crate) fn encode_png_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<Vec<u8>, PlotError> {
    encode(width, height, png::ColorType::Rgba, rgba)
}

fn encode(
    width: u32,
    height: u32,
    color: png::ColorType,
    data: &[u8],
) -> Result<Vec<u8>, PlotError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| PlotError::Encode(e.to_string()))?;
    writer
        .write_image_data(data)
        .map_err(|e| PlotError::Encode(e.to_string()))?;
    writer
        .finish()
        .map_err(|e| PlotError::Encode(e.to_string()))?;
    Ok(out)
}

/// The scene as a PNG file (RGB: figures have an opaque background).
pub(crate) fn render(scene: &Scene, scale: f64) -> Result<Vec<u8>, PlotError> {
    let pixmap = rasterize(scene, scale)?;
    let rgb: Vec<u8> = pixmap
        .pixels()
        .iter()
        .flat_map(|p| {
            let c = p.demultiply();
            [c.red(), c.green(), c.blue()]
        })
        .collect();
    encode(pixmap.width(), pixmap.height(), png::ColorType::Rgb, &rgb)
}
