//! The built binary as a user meets it (`--help`, bad flags, no checkpoints to load), the
//! `.npy` reader on arrays written byte by byte, and the energy targets' grid normalisers
//! against the closed forms of the ring and the Gaussian mixture.

use flows_2d::grid::Grid;
use flows_2d::tabular::parse_npy;
use flows_2d::targets::{Target, log_normaliser};
use sysdyn_core::device::DeviceSpec;
use sysdyn_testing::cli::ExampleBinary;

fn binary() -> ExampleBinary {
    ExampleBinary::new(env!("CARGO_BIN_EXE_flows-2d"), "flows-2d")
}

#[test]
fn help_shows_the_usage_and_every_option() {
    binary().assert_help_lists(&[
        "--full",
        "--iterations",
        "--seeds",
        "--families",
        "--power",
        "--gas",
    ]);
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    binary().assert_bad_flags_exit_2();
    let err = flows_2d::Options::from_args(&["--families".into(), "glowing".into()]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn load_and_resume_are_refused() {
    binary().assert_checkpoint_flags_refused();
}

/// A `.npy` file of format 1.0: magic, version, header length, header padded to 64 bytes.
fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
        if fortran { "True" } else { "False" }
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

#[test]
fn the_npy_reader_takes_c_ordered_float_tables_and_refuses_the_rest() {
    let values = [1.5, -2.0, 0.25, 3.0e10, -1e-7, 7.0];
    let f8: Vec<u8> = values.iter().flat_map(|v: &f64| v.to_le_bytes()).collect();
    let table = parse_npy(&npy("<f8", false, "(3, 2)", &f8)).unwrap();
    assert_eq!((table.rows, table.cols), (3, 2));
    assert_eq!(table.values, values);
    let f4: Vec<u8> = values
        .iter()
        .flat_map(|v| (*v as f32).to_le_bytes())
        .collect();
    let table = parse_npy(&npy("<f4", false, "(2, 3)", &f4)).unwrap();
    assert_eq!((table.rows, table.cols), (2, 3));
    for (a, b) in table.values.iter().zip(values) {
        assert_eq!(*a, f64::from(b as f32));
    }
    let refused = [
        (npy("<f8", true, "(3, 2)", &f8), "Fortran"),
        (npy(">f8", false, "(3, 2)", &f8), "little-endian"),
        (npy("<f8", false, "(6,)", &f8), "1-dimensional"),
        (npy("<f8", false, "(4, 2)", &f8), "bytes of data"),
        (b"PK\x03\x04 not numpy".to_vec(), "magic"),
    ];
    for (bytes, why) in refused {
        let err = parse_npy(&bytes).unwrap_err();
        assert!(err.contains(why), "`{err}` should say {why}");
    }
}

#[test]
fn grid_normalisers_match_the_closed_forms() {
    let device = "flex:f64".parse::<DeviceSpec>().unwrap().init().unwrap();
    let grid = Grid { lim: 6.0, n: 600 };
    let points = device.tensor(grid.points(), [grid.n * grid.n, 2]).unwrap();
    let log_z = |target: Target| {
        let values = target
            .log_density(&points)
            .into_data()
            .convert::<f64>()
            .try_into_vec::<f64>()
            .unwrap();
        log_normaliser(&values, grid.cell_area())
    };
    // Four unnormalised Gaussians of σ = 0.3: 4 · 2πσ².
    let mixture = (4.0 * 2.0 * std::f64::consts::PI * 0.09_f64).ln();
    // A ring exp(−½((r − 2)/0.2)²): 2π ∫ r e^{…} dr = 2π · 2 · √(2π) · 0.2 (r < 0 is 10σ away).
    let ring =
        (2.0 * std::f64::consts::PI * 2.0 * (2.0 * std::f64::consts::PI).sqrt() * 0.2_f64).ln();
    let (got_mixture, got_ring) = (log_z(Target::Mixture), log_z(Target::Ring));
    assert!(
        (got_mixture - mixture).abs() < 1e-6,
        "{got_mixture} vs {mixture}"
    );
    assert!((got_ring - ring).abs() < 1e-4, "{got_ring} vs {ring}");
}
