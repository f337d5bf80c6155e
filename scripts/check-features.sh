#!/usr/bin/env bash
# Checks that every build this project makes resolves the same features for every dependency, so
# that burn, wgpu and their dependencies are compiled once per profile on a fresh machine (see
# workspace-hack/Cargo.toml). The builds compared:
#   - `cargo test --workspace` (every member, with dev-dependencies),
#   - `cargo xtask tour` (the examples, without dev-dependencies),
#   - `cargo xtask bench` (xtask alone).
# A dependency resolved with different features in two of them is printed with both feature sets;
# add the union to workspace-hack/Cargo.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

examples=()
for manifest in examples/*/Cargo.toml; do
  examples+=(-p "$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -n1)")
done

# `cargo tree --offline` resolves nothing for a build whose crates were never downloaded (on a
# fresh machine, the dev-dependencies before the first test build): fetch every build's first.
cargo fetch --quiet
resolve() { # prints "package version|features" for every external package of one build
  cargo tree --offline --prefix none --format '{p}|{f}' "$@" 2>/dev/null \
    | sed 's/ (\*)$//' | grep -v '(/' | grep '|' | sort -u || true
}
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
resolve --workspace --edges normal,build,dev >"$dir/test"
resolve "${examples[@]}" --edges normal,build >"$dir/tour"
resolve -p xtask --edges normal,build >"$dir/bench"

python3 - "$dir" <<'PY' || exit 1
import sys, os
builds = {}
for name in ("test", "tour", "bench"):
    packages = {}
    for line in open(os.path.join(sys.argv[1], name)):
        package, features = line.rstrip("\n").split("|", 1)
        packages[package] = set(f for f in features.split(",") if f)
    if not packages:
        sys.exit(f"check-features: `cargo tree` resolved nothing for the {name} build")
    builds[name] = packages
bad = 0
for package in sorted(set().union(*builds.values())):
    seen = {name: sorted(b[package]) for name, b in builds.items() if package in b}
    if len({tuple(f) for f in seen.values()}) > 1:
        bad += 1
        print(f"check-features: {package} is built with different features:")
        for name, features in seen.items():
            print(f"    {name:>5}: {','.join(features) or '(none)'}")
if bad:
    print(f"check-features: {bad} package(s) would be compiled more than once per profile; "
          "add the union of their features to workspace-hack/Cargo.toml")
    sys.exit(1)
print(f"check-features: {len(builds['test'])} packages, the same features in the test, tour and bench builds")
PY
