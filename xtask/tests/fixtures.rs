//! The repository's bench folder (`bench/` at its root: WORKLOADS.md and fixtures/) is a copy of
//! the shared bench folder that the reference runs used. Where that folder exists beside the
//! repository (`../shared/bench`, or `$SYSDYN_SHARED/bench`), the copy must equal it byte for
//! byte, so the bench cannot drift from the workloads it is compared with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ sits in the repository")
        .to_path_buf()
}

/// The files of the bench folder that the repository carries: WORKLOADS.md and every file of
/// fixtures/, by path relative to `bench_dir`.
fn bench_files(bench_dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    files.insert(
        "WORKLOADS.md".to_string(),
        std::fs::read(bench_dir.join("WORKLOADS.md")).unwrap(),
    );
    for entry in std::fs::read_dir(bench_dir.join("fixtures")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            files.insert(format!("fixtures/{name}"), std::fs::read(&path).unwrap());
        }
    }
    files
}

#[test]
fn the_repository_carries_the_workloads_and_every_fixture() {
    let files = bench_files(&repo_root().join("bench"));
    for name in [
        "WORKLOADS.md",
        "fixtures/checksums.json",
        "fixtures/node.npz",
        "fixtures/cnf.npz",
    ] {
        assert!(files.contains_key(name), "bench/{name} is missing");
    }
}

#[test]
fn the_repository_copy_equals_the_shared_bench_folder() {
    let shared = std::env::var_os("SYSDYN_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("..").join("shared"))
        .join("bench");
    if !shared.join("fixtures").is_dir() {
        println!(
            "note: no shared bench folder at {}: nothing to compare the repository's bench/ with",
            shared.display()
        );
        return;
    }
    let ours = bench_files(&repo_root().join("bench"));
    let theirs = bench_files(&shared);
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&ours),
        names(&theirs),
        "bench/ and {} list different files; copy WORKLOADS.md and fixtures/ again",
        shared.display()
    );
    for (name, bytes) in &ours {
        assert!(
            *bytes == theirs[name],
            "bench/{name} differs from {}; copy it again",
            shared.join(name).display()
        );
    }
}
