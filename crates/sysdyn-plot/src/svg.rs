//! SVG renderer: a [`Scene`] as an SVG 1.1 document.

use std::fmt::Write;

use crate::PlotError;
use crate::color::Color;
use crate::font::SVG_FONT_FAMILY;
use crate::raster::encode_png_rgba;
use crate::scene::{Anchor, Item, Scene, Shape, Stroke};

/// Coordinates with two decimals: sub-pixel precision without bloating the file.
fn num(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

fn paint_attrs(out: &mut String, fill: Option<Color>, stroke: Option<&Stroke>) {
    match fill {
        Some(c) => {
            let _ = write!(out, r#" fill="{}""#, c.svg_hex());
            if c.a < 255 {
                let _ = write!(out, r#" fill-opacity="{}""#, num(c.opacity()));
            }
        }
        None => out.push_str(r#" fill="none""#),
    }
    if let Some(s) = stroke {
        let _ = write!(
            out,
            r#" stroke="{}" stroke-width="{}" stroke-linecap="round" stroke-linejoin="round""#,
            s.color.svg_hex(),
            num(s.width)
        );
        if s.color.a < 255 {
            let _ = write!(out, r#" stroke-opacity="{}""#, num(s.color.opacity()));
        }
        let dash = s.dash.pattern(s.width);
        if !dash.is_empty() {
            let list: Vec<String> = dash.iter().map(|&d| num(d)).collect();
            let _ = write!(out, r#" stroke-dasharray="{}""#, list.join(" "));
        }
    }
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn item(out: &mut String, item: &Item) -> Result<(), PlotError> {
    match &item.shape {
        Shape::Path {
            subpaths,
            closed,
            fill,
            stroke,
        } => {
            let mut d = String::new();
            for sub in subpaths {
                for (i, &(x, y)) in sub.iter().enumerate() {
                    d.push(if i == 0 { 'M' } else { 'L' });
                    d.push_str(&num(x));
                    d.push(' ');
                    d.push_str(&num(y));
                }
                if *closed {
                    d.push('Z');
                }
            }
            let _ = write!(out, r#"<path d="{d}""#);
            paint_attrs(out, *fill, stroke.as_ref());
        }
        Shape::Circle {
            center,
            radius,
            fill,
            stroke,
        } => {
            let _ = write!(
                out,
                r#"<circle cx="{}" cy="{}" r="{}""#,
                num(center.0),
                num(center.1),
                num(*radius)
            );
            paint_attrs(out, *fill, stroke.as_ref());
        }
        Shape::Text(t) => {
            let anchor = match t.anchor {
                Anchor::Start => "start",
                Anchor::Middle => "middle",
                Anchor::End => "end",
            };
            let _ = write!(
                out,
                r#"<text x="{}" y="{}" font-size="{}" text-anchor="{anchor}" fill="{}""#,
                num(t.x),
                num(t.y),
                num(t.size),
                t.color.svg_hex()
            );
            if t.vertical {
                let _ = write!(out, r#" transform="rotate(-90 {} {})""#, num(t.x), num(t.y));
            }
            let _ = write!(out, ">{}</text>", escape(&t.text));
        }
        Shape::Image {
            rect,
            width,
            height,
            rgba,
        } => {
            let png = encode_png_rgba(*width, *height, rgba)?;
            let _ = write!(
                out,
                r#"<image x="{}" y="{}" width="{}" height="{}" preserveAspectRatio="none" href="data:image/png;base64,{}""#,
                num(rect.x),
                num(rect.y),
                num(rect.w),
                num(rect.h),
                base64(&png)
            );
        }
    }
    if let (Some(clip), Shape::Path { .. } | Shape::Circle { .. } | Shape::Image { .. }) =
        (item.clip, &item.shape)
    {
        let _ = write!(out, r#" clip-path="url(#clip{clip})""#);
    }
    if !matches!(item.shape, Shape::Text(_)) {
        out.push_str("/>");
    }
    out.push('\n');
    Ok(())
}

/// The scene as an SVG document.
pub(crate) fn render(scene: &Scene) -> Result<String, PlotError> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{SVG_FONT_FAMILY}">"#,
        w = num(scene.width),
        h = num(scene.height),
    );
    if !scene.clips.is_empty() {
        out.push_str("<defs>\n");
        for (i, r) in scene.clips.iter().enumerate() {
            let _ = writeln!(
                out,
                r#"<clipPath id="clip{i}"><rect x="{}" y="{}" width="{}" height="{}"/></clipPath>"#,
                num(r.x),
                num(r.y),
                num(r.w),
                num(r.h)
            );
        }
        out.push_str("</defs>\n");
    }
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" fill="{}"/>"#,
        scene.background.svg_hex()
    );
    for it in &scene.items {
        item(&mut out, it)?;
    }
    out.push_str("</svg>\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_4648_test_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn text_is_escaped_and_numbers_are_short() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(num(1.0), "1");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(2.3456), "2.35");
    }
}
