//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through every target, so each
//! input the fuzzer kept, crashes it once found included, is checked on every `cargo test`
//! with the stable toolchain.

use std::path::{Path, PathBuf};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

fn replay(target: &str, run: fn(&[u8])) {
    let dir = corpus_dir(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "the corpus of {target} is missing at {}: {e}",
            dir.display()
        )
    });
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a corpus directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    // An empty corpus would let this test pass while checking nothing.
    assert!(
        !files.is_empty(),
        "the corpus of {target} at {} is empty",
        dir.display()
    );
    // Every file runs, so that one report names all the inputs a change broke.
    let failures: Vec<String> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("a readable corpus file");
            std::panic::catch_unwind(|| run(&data)).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failures.is_empty(),
        "{target} panics on {} corpus file(s): {failures:#?}",
        failures.len()
    );
}

#[test]
fn every_target_has_a_test() {
    let names: Vec<&str> = fuzz_targets::TARGETS
        .iter()
        .map(|(name, _)| *name)
        .collect();
    assert_eq!(
        names,
        [
            "statement",
            "multipart",
            "manifest",
            "package_zip",
            "cmi",
            "statement_query"
        ]
    );
}

#[test]
fn statement() {
    replay("statement", fuzz_targets::statement);
}

#[test]
fn multipart() {
    replay("multipart", fuzz_targets::multipart);
}

#[test]
fn manifest() {
    replay("manifest", fuzz_targets::manifest);
}

#[test]
fn package_zip() {
    replay("package_zip", fuzz_targets::package_zip);
}

#[test]
fn cmi() {
    replay("cmi", fuzz_targets::cmi);
}

#[test]
fn statement_query() {
    replay("statement_query", fuzz_targets::statement_query);
}
