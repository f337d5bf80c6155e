#!/usr/bin/env bash
# Runs every check sysdyn has, from a fresh machine: set-up, formatting, lints, all tests on
# every backend (ndarray, flex, wgpu on a software Vulkan device when no GPU is present), doc
# tests, and a quick smoke run of the examples and the bench.
#
#   bash scripts/test.sh            # everything (what CI runs)
#   SYSDYN_TEST_BACKENDS=flex,ndarray bash scripts/test.sh   # skip wgpu tests (no Vulkan)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# --- set-up -------------------------------------------------------------------------------
# wgpu needs a Vulkan loader and driver; Debian's lavapipe is a CPU implementation that lets the
# GPU code path run (slowly) on machines without a GPU.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' \
    || ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  step "installing the Vulkan loader and Mesa's software Vulkan driver (lavapipe)"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
fi
if command -v rustup >/dev/null 2>&1; then
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
fi
# A target directory outside the clone lets repeated runs (and CI on the same machine) reuse the
# long build of burn; a cold run builds it (about 20 minutes on 2 cores).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sysdyn-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Mesa's Vulkan loader wants a runtime directory; headless CI machines have none.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  export XDG_RUNTIME_DIR="/tmp/runtime-$(id -u)"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
fi

# --- checks -------------------------------------------------------------------------------
step "cargo fmt --check"
cargo fmt --all -- --check

step "one set of dependency features for every build (burn compiled once per profile)"
bash scripts/check-features.sh

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "API documentation (cargo doc, warnings are errors: broken links, missing docs)"
RUSTDOCFLAGS="${RUSTDOCFLAGS:-} -D warnings" cargo doc --workspace --no-deps -q

step "cargo test (unit, integration and doc tests; backends: ${SYSDYN_TEST_BACKENDS:-all compiled})"
cargo test --workspace

step "smoke run of the examples (cargo xtask tour --quick)"
cargo run -q -p xtask -- tour --quick --profile dev --out "$CARGO_TARGET_DIR/ci-tour"

step "smoke run of the bench (cargo xtask bench --quick)"
cargo run -q -p xtask -- bench --quick --out "$CARGO_TARGET_DIR/ci-bench"

step "all checks passed"
