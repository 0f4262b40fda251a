//! The compiled-component cache: hits, and recovery from every kind of bad entry.

use std::path::{Path, PathBuf};

use flowtrace_plugins::cache::CacheOutcome;
use flowtrace_plugins::manifest::PluginKind;
use flowtrace_plugins::{testing, LoadOptions, PreparedTrace, Runtime, RuntimeConfig};

fn runtime(dir: &Path) -> Runtime {
    Runtime::with_config(RuntimeConfig {
        cache_dir: Some(dir.to_path_buf()),
        ..RuntimeConfig::default()
    })
    .unwrap()
}

fn entries(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for sub in std::fs::read_dir(dir).unwrap() {
        for entry in std::fs::read_dir(sub.unwrap().path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == ext) {
                found.push(path);
            }
        }
    }
    found
}

fn load_and_run(rt: &Runtime, bytes: &[u8]) -> CacheOutcome {
    let manifest = testing::manifest("cached", PluginKind::Evaluator);
    let plugin = rt.load(bytes, &manifest, LoadOptions::default()).unwrap();
    let score = plugin
        .evaluate(&PreparedTrace::new(testing::trace_with_spans(7)))
        .unwrap()
        .score;
    assert_eq!(score, 0.5, "the loaded code runs correctly");
    plugin.cache_outcome()
}

#[test]
fn second_load_hits_and_bad_entries_are_recompiled_never_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = testing::evaluator(&testing::guest_wat("behaviors"));
    let rt = runtime(dir.path());
    assert_eq!(load_and_run(&rt, &bytes), CacheOutcome::Miss);
    assert_eq!(load_and_run(&rt, &bytes), CacheOutcome::Hit);
    // A new runtime (a new process) with the same config reads the same entry.
    assert_eq!(
        load_and_run(&runtime(dir.path()), &bytes),
        CacheOutcome::Hit
    );

    let cwasm = entries(dir.path(), "cwasm").pop().unwrap();
    let meta = entries(dir.path(), "meta").pop().unwrap();

    // Flip bytes in the middle of the compiled code.
    let mut data = std::fs::read(&cwasm).unwrap();
    let mid = data.len() / 2;
    for b in &mut data[mid..mid + 64] {
        *b ^= 0xff;
    }
    std::fs::write(&cwasm, &data).unwrap();
    assert_eq!(load_and_run(&rt, &bytes), CacheOutcome::Replaced);
    assert_eq!(
        load_and_run(&rt, &bytes),
        CacheOutcome::Hit,
        "the entry was rewritten"
    );

    // Truncate it.
    let len = std::fs::metadata(&cwasm).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&cwasm)
        .unwrap()
        .set_len(len / 3)
        .unwrap();
    assert_eq!(load_and_run(&rt, &bytes), CacheOutcome::Replaced);

    // A sidecar that is not JSON, then one that is missing.
    std::fs::write(&meta, b"\x00garbage").unwrap();
    assert_eq!(load_and_run(&rt, &bytes), CacheOutcome::Replaced);
    std::fs::remove_file(&meta).unwrap();
    assert_eq!(load_and_run(&rt, &bytes), CacheOutcome::Replaced);

    // Another component's (valid) entry renamed into this one's place is not used.
    let other = testing::evaluator(&testing::guest_wat("scan-infos"));
    let manifest = testing::manifest("other", PluginKind::Evaluator);
    let other_plugin = rt.load(&other, &manifest, LoadOptions::default()).unwrap();
    let other_cwasm = cwasm.with_file_name(format!("{}.cwasm", other_plugin.sha256()));
    let other_meta = meta.with_file_name(format!("{}.meta", other_plugin.sha256()));
    std::fs::copy(&other_cwasm, &cwasm).unwrap();
    std::fs::copy(&other_meta, &meta).unwrap();
    assert_eq!(load_and_run(&rt, &bytes), CacheOutcome::Replaced);
    assert_eq!(load_and_run(&rt, &bytes), CacheOutcome::Hit);
}

#[test]
fn no_cache_dir_compiles_every_time() {
    let bytes = testing::evaluator(&testing::guest_wat("behaviors"));
    let rt = Runtime::new().unwrap();
    assert_eq!(load_and_run(&rt, &bytes), CacheOutcome::Disabled);
}

#[test]
fn a_plugin_can_keep_its_compiled_code_in_its_own_dir() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = testing::evaluator(&testing::guest_wat("behaviors"));
    let rt = Runtime::new().unwrap();
    let manifest = testing::manifest("cached", PluginKind::Evaluator);
    let load = || {
        rt.load(
            &bytes,
            &manifest,
            LoadOptions {
                cache_dir: Some(dir.path().to_path_buf()),
                ..LoadOptions::default()
            },
        )
        .unwrap()
        .cache_outcome()
    };
    assert_eq!(load(), CacheOutcome::Miss);
    assert_eq!(load(), CacheOutcome::Hit);
    assert_eq!(entries(dir.path(), "cwasm").len(), 1);
}
