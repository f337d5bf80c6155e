//! The example's figures: translations side by side.

use std::path::Path;

use sysdyn_plot::{PlotError, Saved, image_mosaic};

use crate::data::{PIXELS, SIDE};

/// `rows` examples, one per row, each showing the image of every column in turn (`columns[k]`
/// holds the images of column `k`, flattened, `[0, 1]`).
pub fn side_by_side(
    dir: &Path,
    stem: &str,
    title: &str,
    columns: &[&[f64]],
    rows: usize,
) -> Result<Saved, PlotError> {
    let mut pixels = Vec::with_capacity(rows * columns.len() * PIXELS);
    for row in 0..rows {
        for column in columns {
            pixels.extend_from_slice(&column[row * PIXELS..(row + 1) * PIXELS]);
        }
    }
    image_mosaic(title, &pixels, SIDE, SIDE, columns.len()).save(dir.join(stem))
}
