//! Feature unification for the sysdyn workspace (no code).
//!
//! Cargo compiles a dependency once for each distinct set of features it is asked for. The
//! examples, xtask and the test suites pull in different small crates (`zip`, `tiny-skia`,
//! `tempfile`) that switch on different features of crates deep under burn and wgpu, so each of
//! those builds used to recompile burn. Every example, xtask and `sysdyn-testing` depend on this
//! crate, whose manifest asks for the union of those features: every build of the workspace then
//! resolves the same features and burn is compiled once per profile. `scripts/check-features.sh`
//! fails when a new dependency breaks that.
