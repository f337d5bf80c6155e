//! Figures as a user sees them: the SVG's text, the PNG's pixels, the files on disk and the
//! typed errors.

use sysdyn_plot::{Figure, Heatmap, PlotError, Quiver, Series, Subplots, linspace};

/// Decodes a PNG into (width, height, RGB bytes).
fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a valid PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sane size")];
    let info = reader.next_frame(&mut buf).expect("valid PNG data");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn pixel(rgb: &[u8], width: u32, x: u32, y: u32) -> [u8; 3] {
    let i = 3 * (y * width + x) as usize;
    [rgb[i], rgb[i + 1], rgb[i + 2]]
}

fn sine_figure() -> Figure {
    let xs = linspace(0.0, 6.0, 100);
    let ys: Vec<f64> = xs.iter().map(|x| x.sin()).collect();
    let cs: Vec<f64> = xs.iter().map(|x| x.cos()).collect();
    Figure::new("Lotka–Volterra & friends")
        .x_label("prey <x>")
        .y_label("predator")
        .line("sine", &xs, &ys)
        .scatter("cosine", &xs, &cs)
}

#[test]
fn svg_names_the_title_labels_and_every_series() {
    let svg = sine_figure().to_svg().unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    // Text is kept as (escaped) text, so it stays searchable and selectable.
    assert!(svg.contains(">Lotka–Volterra &amp; friends</text>"));
    assert!(svg.contains(">prey &lt;x&gt;</text>"));
    assert!(svg.contains(">predator</text>"));
    assert!(svg.contains(">sine</text>") && svg.contains(">cosine</text>"));
    // The vertical label is rotated; the scatter's 100 points are 100 markers (plus one in the
    // legend).
    assert!(svg.contains("rotate(-90"));
    assert_eq!(svg.matches("<circle").count(), 101);
    // Series colours from the palette.
    assert!(svg.contains("#1f77b4") && svg.contains("#ff7f0e"));
}

#[test]
fn png_has_the_scaled_size_and_shows_the_series() {
    let fig = sine_figure().size(400.0, 300.0).png_scale(2.0);
    let (w, h, rgb) = decode(&fig.to_png().unwrap());
    assert_eq!((w, h), (800, 600));
    let non_white = rgb
        .chunks_exact(3)
        .filter(|p| p != &[255, 255, 255])
        .count();
    let fraction = non_white as f64 / f64::from(w * h);
    assert!(
        fraction > 0.01 && fraction < 0.5,
        "{fraction} of the pixels are drawn"
    );
    // Pixels of the first palette colour (#1f77b4, the line) and the second (the markers).
    let near = |p: &[u8], c: [u8; 3]| p.iter().zip(c).all(|(a, b)| a.abs_diff(b) <= 12);
    assert!(
        rgb.chunks_exact(3)
            .filter(|p| near(p, [0x1f, 0x77, 0xb4]))
            .count()
            > 200
    );
    assert!(
        rgb.chunks_exact(3)
            .filter(|p| near(p, [0xff, 0x7f, 0x0e]))
            .count()
            > 200
    );
    let (w1, h1, _) = decode(&fig.png_scale(1.0).to_png().unwrap());
    assert_eq!((w1, h1), (400, 300));
}

#[test]
fn png_text_is_drawn_from_the_bundled_font() {
    // Only the title lives in the top band; its ink must span about the text's advance width
    // (DejaVu Sans at 15 px: "WWWWWWWWWW" is 10 × 0.989 em ≈ 148 logical pixels).
    let fig = Figure::new("WWWWWWWWWW")
        .line("", &[0.0, 1.0], &[0.0, 1.0])
        .size(600.0, 300.0)
        .png_scale(2.0);
    let (w, _, rgb) = decode(&fig.to_png().unwrap());
    let band = 2 * 30;
    let dark: Vec<u32> = (0..band)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .filter(|&(x, y)| pixel(&rgb, w, x, y).iter().all(|&c| c < 100))
        .map(|(x, _)| x)
        .collect();
    assert!(
        dark.len() > 500,
        "only {} dark pixels in the title band",
        dark.len()
    );
    let span = f64::from(dark.iter().max().unwrap() - dark.iter().min().unwrap()) / 2.0;
    assert!(
        (span - 148.0).abs() < 10.0,
        "title ink spans {span} logical pixels"
    );
}

#[test]
fn save_writes_both_files_atomically_and_leaves_no_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("nested/lv/phase_portrait");
    let saved = sine_figure().save(&stem).unwrap();
    assert_eq!(saved.svg, dir.path().join("nested/lv/phase_portrait.svg"));
    assert_eq!(saved.png, dir.path().join("nested/lv/phase_portrait.png"));
    assert_eq!(saved.skipped_points(), 0);
    // Saving again replaces the files in place.
    let saved = sine_figure().size(500.0, 400.0).save(&stem).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("nested/lv"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["phase_portrait.png", "phase_portrait.svg"]);
    let (w, h, _) = decode(&std::fs::read(&saved.png).unwrap());
    assert_eq!((w, h), (1000, 800));
    let svg = std::fs::read_to_string(&saved.svg).unwrap();
    assert!(svg.contains(r#"width="500" height="400""#));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&saved.png).unwrap().permissions().mode();
        assert_eq!(mode & 0o644, 0o644, "figures are readable by others");
    }
}

#[test]
fn an_unwritable_path_is_a_typed_error_and_leaves_no_debris() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where a directory is needed: fails even for root.
    let blocker = dir.path().join("not_a_dir");
    std::fs::write(&blocker, b"x").unwrap();
    let err = sine_figure().save(blocker.join("fig")).unwrap_err();
    match &err {
        PlotError::Write { path, .. } => assert!(path.starts_with(&blocker), "{path:?}"),
        other => panic!("expected a write error, got {other:?}"),
    }
    assert!(err.to_string().contains("not_a_dir"));
    let entries = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(entries, 1);
}

#[test]
fn log_axes_reject_non_positive_values() {
    let err = Figure::new("errors")
        .y_log()
        .line("dopri5", &[1.0, 2.0, 3.0], &[1e-3, 0.0, 1e-5])
        .to_svg()
        .unwrap_err();
    assert!(
        matches!(
            &err,
            PlotError::NonPositiveOnLogAxis { series, axis: "y", index: 1, value } if series == "dopri5" && *value == 0.0
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("logarithmic y"));
    let err = Figure::new("")
        .x_log()
        .line("a", &[-1.0, 2.0], &[1.0, 2.0])
        .to_png()
        .unwrap_err();
    assert!(matches!(
        err,
        PlotError::NonPositiveOnLogAxis {
            axis: "x",
            index: 0,
            ..
        }
    ));
    let err = Figure::new("")
        .heatmap(Heatmap::new(&[0.0, 1.0], &[0.0, 1.0], &[1.0, 2.0, -3.0, 4.0]).log_color())
        .to_svg()
        .unwrap_err();
    assert!(matches!(
        err,
        PlotError::NonPositiveOnLogAxis {
            axis: "colour",
            index: 2,
            ..
        }
    ));
    // Positive data on log axes renders, ticks labelled by powers of ten.
    let svg = Figure::new("")
        .x_log()
        .y_log()
        .line("ok", &[10.0, 1e4], &[1e-2, 1e-8])
        .to_svg()
        .unwrap();
    assert!(svg.contains(">10³</text>") && svg.contains(">10⁻⁶</text>"));
}

#[test]
fn non_finite_points_are_skipped_and_counted_until_nothing_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let xs = [0.0, 1.0, 2.0, 3.0, 4.0];
    let saved = Figure::new("gappy")
        .line("a", &xs, &[0.0, f64::NAN, 2.0, 3.0, f64::INFINITY])
        .line("b", &xs, &[1.0, 1.0, 1.0, 1.0, 1.0])
        .save(dir.path().join("gappy"))
        .unwrap();
    assert_eq!(saved.skipped_points(), 2);
    assert_eq!(saved.skipped.len(), 1);
    assert_eq!(saved.skipped[0].series, "a");
    let err = Figure::new("all bad")
        .line("a", &[f64::NAN, 1.0], &[1.0, f64::NEG_INFINITY])
        .to_svg()
        .unwrap_err();
    assert!(
        matches!(err, PlotError::NoFiniteData { skipped: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn malformed_input_gets_typed_errors() {
    let err = Figure::new("t").to_svg().unwrap_err();
    assert!(matches!(err, PlotError::NothingToDraw { .. }));
    let err = Figure::new("t").line("a", &[], &[]).to_svg().unwrap_err();
    assert!(matches!(err, PlotError::EmptyData { ref series } if series == "a"));
    let err = Figure::new("t")
        .line("a", &[1.0, 2.0], &[1.0])
        .to_svg()
        .unwrap_err();
    assert!(matches!(
        err,
        PlotError::LengthMismatch {
            what: "ys",
            expected: 2,
            got: 1,
            ..
        }
    ));
    let err = Figure::new("t")
        .quiver(Quiver::new(&[0.0], &[0.0], &[1.0], &[]))
        .to_svg()
        .unwrap_err();
    assert!(matches!(err, PlotError::LengthMismatch { what: "vs", .. }));
    let err = Figure::new("t")
        .heatmap(Heatmap::new(&[0.0, 1.0], &[1.0, 0.0], &[0.0; 4]))
        .to_svg()
        .unwrap_err();
    assert!(matches!(err, PlotError::InvalidGrid { what: "ys", .. }));
    let err = Figure::new("t")
        .y_log()
        .y_range(0.0, 1.0)
        .line("a", &[1.0], &[1.0])
        .to_svg()
        .unwrap_err();
    assert!(matches!(err, PlotError::InvalidRange { axis: "y", .. }));
    let err = sine_figure().size(10.0, 10.0).to_png().unwrap_err();
    assert!(matches!(err, PlotError::InvalidOption(_)));
}

#[test]
fn heatmap_contours_and_colorbar_render_in_both_formats() {
    let xs = linspace(-2.0, 2.0, 41);
    let fig = Figure::new("bowl")
        .heatmap(
            Heatmap::from_fn(&xs, &xs, |x, y| x * x + y * y + 0.1)
                .log_color()
                .contours(5)
                .label("f"),
        )
        .series(Series::scatter("min", &[0.0], &[0.0]));
    let svg = fig.to_svg().unwrap();
    assert_eq!(
        svg.matches("data:image/png;base64,").count(),
        2,
        "field and colour bar"
    );
    assert!(svg.contains(">f</text>"));
    let (w, h, rgb) = decode(&fig.to_png().unwrap());
    assert_eq!((w, h), (1440, 960));
    // Viridis: the minimum at the centre is dark purple, the edges yellow-green. The plot's
    // middle row, sampled left to right, goes bright → dark → bright.
    let row: Vec<[u8; 3]> = (0..w).map(|x| pixel(&rgb, w, x, h / 2)).collect();
    let yellow = |p: &[u8; 3]| p[1] > 170 && p[2] < 120;
    let purple = |p: &[u8; 3]| p[0] < 90 && p[1] < 60 && p[2] > 80;
    let first_yellow = row.iter().position(yellow).expect("yellow on the left");
    let dark = row.iter().position(purple).expect("purple in the middle");
    let last_yellow = row.iter().rposition(yellow).expect("yellow on the right");
    assert!(first_yellow < dark && dark < last_yellow);
}

#[test]
fn subplots_tile_panels_under_one_title() {
    let xs = [1.0, 2.0, 3.0];
    let grid = Subplots::new("three", 1, 3)
        .panel(Figure::new("a").line("", &xs, &[1.0, 2.0, 3.0]))
        .panel(Figure::new("b").line("", &xs, &[3.0, 2.0, 1.0]))
        .panel(Figure::new("c").y_log().line("", &xs, &[1.0, 10.0, 100.0]))
        .panel_size(300.0, 250.0)
        .png_scale(1.0);
    let (w, h, _) = decode(&grid.to_png().unwrap());
    assert_eq!((w, h), (900, 250 + 34));
    let svg = grid.to_svg().unwrap();
    for title in ["three", "a", "b", "c"] {
        assert!(svg.contains(&format!(">{title}</text>")));
    }
    let err = grid
        .panel(Figure::new("d").line("", &xs, &xs))
        .to_svg()
        .unwrap_err();
    assert!(matches!(err, PlotError::InvalidOption(_)));
}
