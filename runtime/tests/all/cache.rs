//! The compiled-component cache: hits, and recovery from every kind of bad entry.

use std::path::{Path, PathBuf};

use sha2::Digest;

use flowtrace_plugins::cache::{CacheDir, CacheKey, CacheOutcome};
use flowtrace_plugins::manifest::PluginKind;
use flowtrace_plugins::{testing, LoadOptions, PreparedTrace, Runtime, RuntimeConfig};

/// A runtime whose cache is `<dir>/cache`, sealed with the key in `<dir>/cache.key` (as a
/// Flowtrace home holds it): every runtime made for one `dir` reads the same key.
fn runtime(dir: &Path) -> Runtime {
    runtime_with_key(&dir.join("cache"), home_key(dir))
}

fn home_key(dir: &Path) -> CacheKey {
    CacheKey::load_or_create(&dir.join("cache.key")).unwrap()
}

fn runtime_with_key(cache: &Path, key: CacheKey) -> Runtime {
    Runtime::with_config(RuntimeConfig {
        cache: Some(CacheDir::new(cache, key)),
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

    let cwasm = entries(&dir.path().join("cache"), "cwasm").pop().unwrap();
    let meta = entries(&dir.path().join("cache"), "meta").pop().unwrap();

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
    let key = CacheKey::ephemeral().unwrap();
    let load = || {
        rt.load(
            &bytes,
            &manifest,
            LoadOptions {
                cache: Some(CacheDir::new(dir.path(), key.clone())),
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

// Forged compiled code (a sandbox escape if it ran): entries that this home's key did not
// seal are compiled again, whoever made them and however well they are made.

/// A valid entry for the `behaviors` guest under `dir`'s home key, its code replaced by
/// `int3` (a trap instruction on x86; illegal bytes elsewhere) and sealed again with that
/// same key: the forgery the old checksum let through.
fn forged_entry(dir: &Path, bytes: &[u8]) {
    assert_eq!(load_and_run(&runtime(dir), bytes), CacheOutcome::Miss);
    let sha256 = hex::encode(sha2::Sha256::digest(bytes));
    assert_eq!(
        testing::forge_cache_entries(&dir.join("cache"), &sha256, &home_key(dir)),
        1
    );
}

#[test]
fn forged_code_sealed_with_another_homes_key_is_never_run() {
    let bytes = testing::evaluator(&testing::guest_wat("behaviors"));
    // The attacker's home made and sealed the forged entry; the victim's home copies the
    // cache whole (a plugin directory cloned with its `target/`).
    let attacker = tempfile::tempdir().unwrap();
    forged_entry(attacker.path(), &bytes);
    let victim = tempfile::tempdir().unwrap();
    copy_dir(&attacker.path().join("cache"), &victim.path().join("cache"));
    let rt = runtime(victim.path());
    assert_eq!(
        load_and_run(&rt, &bytes),
        CacheOutcome::Replaced,
        "the forged entry is compiled again, not run"
    );
    assert_eq!(load_and_run(&rt, &bytes), CacheOutcome::Hit, "and replaced");

    // A genuine entry of another home is not trusted either.
    let other = tempfile::tempdir().unwrap();
    assert_eq!(
        load_and_run(&runtime(other.path()), &bytes),
        CacheOutcome::Miss
    );
    let copied = tempfile::tempdir().unwrap();
    copy_dir(&other.path().join("cache"), &copied.path().join("cache"));
    assert_eq!(
        load_and_run(&runtime(copied.path()), &bytes),
        CacheOutcome::Replaced
    );
}

#[test]
fn the_forgery_would_crash_the_host_if_its_seal_were_trusted() {
    // Proves the test above guards something real: the same forged entry, loaded by the home
    // whose key sealed it (the one case the seal cannot tell apart), kills the process.
    let bytes = testing::evaluator(&testing::guest_wat("behaviors"));
    let dir = tempfile::tempdir().unwrap();
    forged_entry(dir.path(), &bytes);
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "cache::forged_cache_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("FLOWTRACE_TEST_FORGED_HOME", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "the forged code ran to completion: {stdout}"
    );
    assert!(
        !stdout.contains("CHILD: survived"),
        "the forged code did not run: {stdout}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert!(
            out.status.signal().is_some(),
            "died by a signal (SIGTRAP or SIGILL), not an error: {:?} {stdout}",
            out.status
        );
    }
}

#[test]
#[ignore = "a child process of the_forgery_would_crash_the_host_if_its_seal_were_trusted"]
fn forged_cache_child() {
    let Some(dir) = std::env::var_os("FLOWTRACE_TEST_FORGED_HOME") else {
        return;
    };
    let bytes = testing::evaluator(&testing::guest_wat("behaviors"));
    let outcome = load_and_run(&runtime(Path::new(&dir)), &bytes);
    println!("\nCHILD: survived with {outcome:?}");
}

#[test]
fn a_cache_key_others_can_read_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.key");
    let first = CacheKey::load_or_create(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "created readable by its owner only");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let second = CacheKey::load_or_create(&path).unwrap();
        assert_ne!(first, second, "a key others could read is not trusted");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(second, CacheKey::load_or_create(&path).unwrap());
    }
    std::fs::write(&path, b"short").unwrap();
    let third = CacheKey::load_or_create(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap().len(), 32);
    assert_eq!(third, CacheKey::load_or_create(&path).unwrap());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
