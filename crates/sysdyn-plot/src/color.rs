//! Colours: the series palette and the colour map of heatmaps.

/// An sRGB colour with straight (not premultiplied) alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Color {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
    /// Opacity (255 = opaque).
    pub a: u8,
}

impl Color {
    /// An opaque colour.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Self {
        Color { r, g, b, a: 255 }
    }

    /// An opaque colour from `0xRRGGBB`.
    pub const fn hex(rgb: u32) -> Self {
        Color::rgb((rgb >> 16) as u8, (rgb >> 8) as u8, rgb as u8)
    }

    /// The same colour with opacity `alpha` in `[0, 1]`.
    pub fn with_alpha(self, alpha: f64) -> Self {
        Color {
            a: (alpha.clamp(0.0, 1.0) * 255.0).round() as u8,
            ..self
        }
    }

    /// Black.
    pub const BLACK: Color = Color::rgb(0, 0, 0);
    /// White.
    pub const WHITE: Color = Color::rgb(255, 255, 255);
    /// The grey of axes, ticks and text.
    pub const DARK_GREY: Color = Color::hex(0x333333);
    /// The grey of vector-field arrows.
    pub const GREY: Color = Color::hex(0x8c8c8c);
    /// The grey of grid lines.
    pub const LIGHT_GREY: Color = Color::hex(0xe3e3e3);

    /// `#rrggbb` for SVG.
    pub(crate) fn svg_hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }

    /// Opacity in `[0, 1]`.
    pub(crate) fn opacity(self) -> f64 {
        f64::from(self.a) / 255.0
    }

    fn lerp(self, other: Color, s: f64) -> Color {
        let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * s).round() as u8;
        Color {
            r: mix(self.r, other.r),
            g: mix(self.g, other.g),
            b: mix(self.b, other.b),
            a: mix(self.a, other.a),
        }
    }
}

/// The colours given to series in order (a colour-blind-friendly qualitative palette, the
/// "Tableau 10" colours); the eleventh series reuses the first colour.
pub const PALETTE: [Color; 10] = [
    Color::hex(0x1f77b4),
    Color::hex(0xff7f0e),
    Color::hex(0x2ca02c),
    Color::hex(0xd62728),
    Color::hex(0x9467bd),
    Color::hex(0x8c564b),
    Color::hex(0xe377c2),
    Color::hex(0x7f7f7f),
    Color::hex(0xbcbd22),
    Color::hex(0x17becf),
];

/// The `i`-th palette colour (cycling).
pub fn palette(i: usize) -> Color {
    PALETTE[i % PALETTE.len()]
}

/// A colour map from `[0, 1]` to colours, for heatmaps and their colour bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Colormap {
    /// Perceptually uniform dark blue → green → yellow (readable in grey scale and by colour-blind
    /// readers).
    #[default]
    Viridis,
    /// White → dark blue, for densities where zero should vanish into the background.
    Blues,
    /// Grey scale, black → white.
    Greys,
}

impl Colormap {
    fn stops(self) -> &'static [Color] {
        // Evenly spaced stops; linear interpolation between them is visually indistinguishable
        // from the full 256-entry tables at figure sizes.
        const VIRIDIS: [Color; 10] = [
            Color::hex(0x440154),
            Color::hex(0x482878),
            Color::hex(0x3e4a89),
            Color::hex(0x31688e),
            Color::hex(0x26828e),
            Color::hex(0x1f9e89),
            Color::hex(0x35b779),
            Color::hex(0x6dcd59),
            Color::hex(0xb4de2c),
            Color::hex(0xfde725),
        ];
        const BLUES: [Color; 5] = [
            Color::hex(0xf7fbff),
            Color::hex(0xc6dbef),
            Color::hex(0x6baed6),
            Color::hex(0x2171b5),
            Color::hex(0x08306b),
        ];
        const GREYS: [Color; 2] = [Color::BLACK, Color::WHITE];
        match self {
            Colormap::Viridis => &VIRIDIS,
            Colormap::Blues => &BLUES,
            Colormap::Greys => &GREYS,
        }
    }

    /// The colour at `s` (clamped to `[0, 1]`).
    pub fn at(self, s: f64) -> Color {
        let stops = self.stops();
        let s = if s.is_nan() { 0.0 } else { s.clamp(0.0, 1.0) };
        let pos = s * (stops.len() - 1) as f64;
        let i = (pos.floor() as usize).min(stops.len() - 2);
        stops[i].lerp(stops[i + 1], pos - i as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colormap_ends_are_its_first_and_last_stops() {
        assert_eq!(Colormap::Viridis.at(0.0), Color::hex(0x440154));
        assert_eq!(Colormap::Viridis.at(1.0), Color::hex(0xfde725));
        assert_eq!(Colormap::Greys.at(0.5), Color::rgb(128, 128, 128));
        assert_eq!(Colormap::Viridis.at(7.0), Colormap::Viridis.at(1.0));
    }
}
