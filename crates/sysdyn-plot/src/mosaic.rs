//! Image mosaics: many small grey images tiled into one figure (GAN samples, translations side
//! by side).

use crate::color::Colormap;
use crate::figure::Figure;
use crate::series::Heatmap;

/// Blank pixels between tiles.
const GAP: usize = 2;

/// A figure tiling grey images `cols` to a row, first image top left. `pixels` holds the images
/// one after the other, each `rows × cols_px` values in `[0, 1]` (black to white; values outside
/// are clamped by the colour scale); gaps between tiles are left blank.
pub fn image_mosaic(
    title: &str,
    pixels: &[f64],
    image_rows: usize,
    image_cols: usize,
    cols: usize,
) -> Figure {
    let image_len = (image_rows * image_cols).max(1);
    let count = pixels.len() / image_len;
    let cols = cols.max(1);
    let tile_rows = count.div_ceil(cols).max(1);
    let width = cols * (image_cols + GAP) - GAP;
    let height = tile_rows * (image_rows + GAP) - GAP;
    let mut values = vec![f64::NAN; width * height];
    for k in 0..count {
        let (tile_row, tile_col) = (k / cols, k % cols);
        let image = &pixels[k * image_len..(k + 1) * image_len];
        for r in 0..image_rows {
            for c in 0..image_cols {
                let y = tile_row * (image_rows + GAP) + r;
                let x = tile_col * (image_cols + GAP) + c;
                // Row j of a heatmap is drawn at height j: flip so the first image is on top.
                values[(height - 1 - y) * width + x] = image[r * image_cols + c].clamp(0.0, 1.0);
            }
        }
    }
    let xs: Vec<f64> = (0..width).map(|i| i as f64).collect();
    let ys: Vec<f64> = (0..height).map(|j| j as f64).collect();
    Figure::new(title)
        .size(440.0, 440.0 * height as f64 / width as f64 + 40.0)
        .heatmap(
            Heatmap::new(&xs, &ys, &values)
                .colormap(Colormap::Greys)
                .label("pixel"),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mosaic_renders_and_places_the_first_image_on_top() {
        // Two 2×2 images side by side: the first all white, the second all black.
        let pixels = [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        let figure = image_mosaic("two", &pixels, 2, 2, 2);
        let svg = figure.to_svg().unwrap();
        assert!(svg.contains("two"));
        assert!(!figure.to_png().unwrap().is_empty());
    }
}
