//! Loading a component again: the compiled code is shared within a runtime, and across
//! processes a file unchanged since its last full check is not hashed again, while any
//! change (mtime restored or not) is still caught.

use std::fs::{File, FileTimes, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

use flowtrace_plugins::cache::{CacheDir, CacheKey, CacheOutcome};
use flowtrace_plugins::manifest::{Capabilities, PluginKind};
use flowtrace_plugins::registry::{InstallRequest, LoadEnabledError, Registry, RegistryError};
use flowtrace_plugins::{
    testing, LoadError, LoadOptions, Plugin, PreparedTrace, Runtime, RuntimeConfig, Services,
};

use crate::registry::{file_source, pid, with_manifest};

fn score(plugin: &Plugin) -> f64 {
    plugin
        .evaluate(&PreparedTrace::new(testing::trace_with_spans(7)))
        .unwrap()
        .score
}

/// Flip the byte at the middle of `path` in place, then put its mtime (and atime) back:
/// what someone hiding an edit from a check of mtime and size does.
fn edit_keeping_mtime(path: &Path) {
    let before = std::fs::metadata(path).unwrap();
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mid = before.len() / 2;
    let mut byte = [0u8];
    file.read_exact_at(&mut byte, mid).unwrap();
    file.write_all_at(&[byte[0] ^ 0x55], mid).unwrap();
    file.set_times(
        FileTimes::new()
            .set_modified(before.modified().unwrap())
            .set_accessed(before.accessed().unwrap()),
    )
    .unwrap();
    drop(file);
    let after = std::fs::metadata(path).unwrap();
    assert_eq!(
        (after.modified().unwrap(), after.len()),
        (before.modified().unwrap(), before.len()),
        "the edit keeps the mtime and the size"
    );
}

#[test]
fn loads_of_one_component_share_its_code_until_the_last_is_dropped() {
    let rt = Runtime::new().unwrap();
    let bytes = testing::evaluator(&testing::guest_wat("behaviors"));
    let manifest = testing::manifest("shared", PluginKind::Evaluator);
    let load = || rt.load(&bytes, &manifest, LoadOptions::default()).unwrap();
    let first = load();
    assert_eq!(
        first.cache_outcome(),
        CacheOutcome::Disabled,
        "compiled once"
    );
    let more: Vec<Plugin> = (0..9).map(|_| load()).collect();
    for plugin in &more {
        assert_eq!(plugin.cache_outcome(), CacheOutcome::Shared);
        assert!(plugin.shares_code_with(&first));
        assert_eq!(score(plugin), 0.5, "the shared code runs");
    }
    // Another manifest over the same bytes shares the code too.
    let other = rt
        .load(
            &bytes,
            &testing::manifest("same-bytes", PluginKind::Evaluator),
            LoadOptions::default(),
        )
        .unwrap();
    assert!(other.shares_code_with(&first));
    assert_eq!(other.id().as_str(), "same-bytes");
    // Another component does not.
    let different = rt
        .load(
            &testing::evaluator(&testing::guest_wat("scan-infos")),
            &testing::manifest("different", PluginKind::Evaluator),
            LoadOptions::default(),
        )
        .unwrap();
    assert!(!different.shares_code_with(&first));
    assert_eq!(rt.shared_code_entries(), 2);

    drop(different);
    assert_eq!(rt.shared_code_entries(), 1, "its entry went with it");
    // A clone or a handle with other call options keeps the code alive.
    let handle = more[3].with_options(Default::default());
    drop((first, more, other));
    assert_eq!(rt.shared_code_entries(), 1);
    assert_eq!(score(&handle), 0.5);
    drop(handle);
    assert_eq!(rt.shared_code_entries(), 0, "freed with the last plugin");
    assert_eq!(
        load().cache_outcome(),
        CacheOutcome::Disabled,
        "compiled again"
    );
}

#[test]
fn shared_code_is_linked_with_each_plugins_own_grants() {
    let rt = Runtime::new().unwrap();
    let bytes = testing::componentize(
        &testing::guest_wat("services"),
        "package test:guest; world w {
            import flowtrace:plugin/log@0.1.0;
            import flowtrace:plugin/config@0.1.0;
            import flowtrace:plugin/kv@0.1.0;
            import wasi:cli/stdout@0.2.12;
            export flowtrace:plugin/evaluator@0.1.0;
        }",
    )
    .unwrap();
    let mut declares_storage = testing::manifest("kv-user", PluginKind::Evaluator);
    declares_storage.capabilities.storage = true;
    declares_storage.config.insert(
        "threshold".into(),
        flowtrace_plugins::manifest::ConfigField {
            ty: flowtrace_plugins::manifest::ConfigType::Float,
            default: Some(flowtrace_plugins::manifest::ConfigValue::Float(0.5)),
            description: None,
        },
    );
    let granted = rt
        .load(&bytes, &declares_storage, LoadOptions::default())
        .unwrap();
    // The same code, granted less than it imports: its own linker leaves `kv` out.
    let err = rt
        .load(
            &bytes,
            &declares_storage,
            LoadOptions {
                grants: Some(Capabilities::default()),
                ..LoadOptions::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, LoadError::Link { .. }), "{err:?}");
    // And a manifest that does not declare it is refused by the policy check, shared or not.
    let mut undeclared = declares_storage.clone();
    undeclared.capabilities.storage = false;
    let err = rt
        .load(&bytes, &undeclared, LoadOptions::default())
        .unwrap_err();
    assert!(matches!(err, LoadError::Policy { .. }), "{err:?}");
    let again = rt
        .load(&bytes, &declares_storage, LoadOptions::default())
        .unwrap();
    assert_eq!(again.cache_outcome(), CacheOutcome::Shared);
    assert!(again.shares_code_with(&granted));
    again
        .evaluate(&PreparedTrace::new(testing::trace_with_spans(0)))
        .unwrap();
}

fn installed(home: &Path, rt: &Runtime) -> Registry {
    let registry = Registry::open(home).unwrap().precompiling_with(rt);
    let manifest = "[plugin]\nid = \"ident\"\nname = \"ident\"\nversion = \"1.0.0\"\n\
                    kind = \"evaluator\"\n\n[build]\nlanguage = \"rust\"\n";
    let component = with_manifest(
        &testing::evaluator(&testing::guest_wat("behaviors")),
        manifest,
    );
    registry
        .install(InstallRequest::new(component, file_source("ident")))
        .unwrap();
    registry
}

#[test]
fn an_installed_component_edited_with_its_mtime_kept_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let rt = Runtime::new().unwrap();
    let registry = installed(home.path(), &rt);
    let id = pid("ident");
    // The install recorded the component's identity: loads do not hash it.
    assert!(registry.component_unchanged(&id).unwrap());
    let plugin = registry.load(&rt, &id, &Services::default()).unwrap();
    assert_eq!(plugin.cache_outcome(), CacheOutcome::Hit);
    assert_eq!(score(&plugin), 0.5);
    // A new process (runtime) too.
    let fresh = Runtime::new().unwrap();
    let plugin = registry.load(&fresh, &id, &Services::default()).unwrap();
    assert_eq!(plugin.cache_outcome(), CacheOutcome::Hit);
    assert_eq!(score(&plugin), 0.5);
    drop(plugin);

    let path = registry
        .store()
        .component_path(&id, &"1.0.0".parse().unwrap());
    edit_keeping_mtime(&path);
    assert!(
        !registry.component_unchanged(&id).unwrap(),
        "the ctime moved"
    );
    let err = registry
        .load(&Runtime::new().unwrap(), &id, &Services::default())
        .unwrap_err();
    assert!(
        matches!(
            err,
            LoadEnabledError::Registry(RegistryError::HashMismatch { .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("hash mismatch"), "{err}");
    assert!(matches!(
        registry.read_component(&id),
        Err(RegistryError::HashMismatch { .. })
    ));

    // Another file of the same size and mtime put in its place: another inode.
    edit_keeping_mtime(&path); // the original bytes again, checked in full
    registry.read_component(&id).unwrap();
    let original = std::fs::read(&path).unwrap();
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let mut forged = original.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let replacement = path.with_extension("new");
    std::fs::write(&replacement, &forged).unwrap();
    File::options()
        .write(true)
        .open(&replacement)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    std::fs::rename(&replacement, &path).unwrap();
    assert!(!registry.component_unchanged(&id).unwrap());
    assert!(matches!(
        registry.load(&rt, &id, &Services::default()),
        Err(LoadEnabledError::Registry(
            RegistryError::HashMismatch { .. }
        ))
    ));
}

#[test]
fn an_identity_record_not_sealed_with_this_homes_key_is_not_believed() {
    let home = tempfile::tempdir().unwrap();
    let rt = Runtime::new().unwrap();
    let registry = installed(home.path(), &rt);
    let id = pid("ident");
    assert!(registry.component_unchanged(&id).unwrap());
    // Another home's record of the same component (same id, version, bytes) copied in:
    // its identity is of another file, and its seal of another key.
    let other = tempfile::tempdir().unwrap();
    let other_registry = installed(other.path(), &rt);
    let version = "1.0.0".parse().unwrap();
    let record = |r: &Registry| {
        r.store()
            .version_dir(&id, &version)
            .join("plugin.wasm.verified")
    };
    std::fs::copy(record(&other_registry), record(&registry)).unwrap();
    assert!(!registry.component_unchanged(&id).unwrap());
    // A loaded plugin still comes out right (hashed in full).
    let plugin = registry.load(&rt, &id, &Services::default()).unwrap();
    assert_eq!(score(&plugin), 0.5);
}

fn home_runtime(dir: &Path) -> (Runtime, CacheDir) {
    let at = CacheDir::new(
        dir.join("cache"),
        CacheKey::load_or_create(&dir.join("cache.key")).unwrap(),
    );
    let rt = Runtime::with_config(RuntimeConfig {
        cache: Some(at.clone()),
        ..RuntimeConfig::default()
    })
    .unwrap();
    (rt, at)
}

fn cwasm_of(at: &CacheDir, sha256: &str) -> std::path::PathBuf {
    let sub = std::fs::read_dir(&at.dir).unwrap().next().unwrap().unwrap();
    sub.path().join(format!("{sha256}.cwasm"))
}

#[test]
fn compiled_code_checked_before_is_mapped_unread_and_edits_are_still_caught() {
    let bytes = testing::evaluator(&testing::guest_wat("behaviors"));
    let manifest = testing::manifest("cached", PluginKind::Evaluator);
    let dir = tempfile::tempdir().unwrap();
    let (rt, at) = home_runtime(dir.path());
    assert_eq!(rt.precompile(&bytes, &at).unwrap(), CacheOutcome::Miss);
    let sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let linux = cfg!(target_os = "linux");
    assert_eq!(
        testing::cache_entry_unchanged(&rt, &at, &sha256),
        linux,
        "precompile recorded the entry's identity"
    );
    // Mapped unread (on Linux), in this process and a new one.
    for rt in [&rt, &home_runtime(dir.path()).0] {
        let plugin = rt.load(&bytes, &manifest, LoadOptions::default()).unwrap();
        assert_eq!(plugin.cache_outcome(), CacheOutcome::Hit);
        assert_eq!(score(&plugin), 0.5);
    }

    // Compiled code edited in place, its mtime put back: checked in full, refused, replaced.
    let cwasm = cwasm_of(&at, &sha256);
    edit_keeping_mtime(&cwasm);
    assert!(!testing::cache_entry_unchanged(&rt, &at, &sha256));
    let plugin = rt.load(&bytes, &manifest, LoadOptions::default()).unwrap();
    assert_eq!(plugin.cache_outcome(), CacheOutcome::Replaced);
    assert_eq!(score(&plugin), 0.5);
    drop(plugin);

    // A forged entry (another home's key), copied in with that home's identity record.
    assert_eq!(rt.precompile(&bytes, &at).unwrap(), CacheOutcome::Hit);
    assert_eq!(testing::cache_entry_unchanged(&rt, &at, &sha256), linux);
    let attacker = tempfile::tempdir().unwrap();
    let (attacker_rt, attacker_at) = home_runtime(attacker.path());
    attacker_rt.precompile(&bytes, &attacker_at).unwrap();
    assert_eq!(
        testing::forge_cache_entries(&attacker_at.dir, &sha256, &attacker_at.key),
        1
    );
    let forged = cwasm_of(&attacker_at, &sha256);
    for ext in ["cwasm", "meta", "seen"] {
        let from = forged.with_extension(ext);
        if from.exists() {
            std::fs::copy(&from, cwasm.with_extension(ext)).unwrap();
        }
    }
    assert!(!testing::cache_entry_unchanged(&rt, &at, &sha256));
    let plugin = rt.load(&bytes, &manifest, LoadOptions::default()).unwrap();
    assert_eq!(
        plugin.cache_outcome(),
        CacheOutcome::Replaced,
        "the forged code is compiled again, not run"
    );
    assert_eq!(score(&plugin), 0.5);
}
