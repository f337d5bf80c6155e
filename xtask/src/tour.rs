//! `cargo xtask tour`.

/// Runs the tour of the examples.
pub fn run(_args: &[String]) -> Result<(), String> {
    Err("tour: not built yet".into())
}
