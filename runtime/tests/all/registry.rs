//! The plugin registry on real files, with real processes: install, list, enable, disable,
//! uninstall, grants, dependencies, archives, git, locking, crash recovery, tampering.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use flowtrace_plugins::inspect;
use flowtrace_plugins::manifest::PluginId;
use flowtrace_plugins::registry::archive::{self, ArchiveError, ArchiveLimits};
use flowtrace_plugins::registry::git::{self, GitError, GitSource};
use flowtrace_plugins::registry::{
    DependencyState, InstallAction, InstallOutcome, InstallRequest, InstallStep, Recovered,
    Registry, RegistryError, ResolveError, Source, Warning,
};
use flowtrace_plugins::testing;
use flowtrace_plugins::Fix;

// ---------------------------------------------------------------------------------------
// Helpers

fn base_component() -> &'static [u8] {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    BASE.get_or_init(|| testing::evaluator(&testing::guest_wat("behaviors")))
}

/// Embed a manifest, the way `cargo flowtrace build` does.
pub(crate) fn with_manifest(component: &[u8], text: &str) -> Vec<u8> {
    let out = inspect::embed_manifest(component, text).unwrap();
    wasmparser::Validator::new_with_features(inspect::FEATURES)
        .validate_all(&out)
        .expect("a valid component");
    out
}

fn manifest(id: &str, version: &str, extra: &str) -> String {
    format!(
        "[plugin]\nid = \"{id}\"\nname = \"{id}\"\nversion = \"{version}\"\nkind = \"evaluator\"\n\n\
         [build]\nlanguage = \"rust\"\n\n{extra}\n"
    )
}

fn component(id: &str, version: &str, extra: &str) -> Vec<u8> {
    with_manifest(base_component(), &manifest(id, version, extra))
}

pub(crate) fn file_source(id: &str) -> Source {
    Source::File {
        path: PathBuf::from(format!("{id}.wasm")),
    }
}

fn request(id: &str, version: &str, extra: &str) -> InstallRequest {
    InstallRequest::new(component(id, version, extra), file_source(id))
}

fn install(reg: &Registry, id: &str, version: &str, extra: &str) -> InstallOutcome {
    reg.install(request(id, version, extra))
        .unwrap_or_else(|e| panic!("install {id} {version}: {e}"))
}

pub(crate) fn pid(s: &str) -> PluginId {
    PluginId::parse(s).unwrap()
}

pub(crate) fn home() -> (tempfile::TempDir, Registry) {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::open(dir.path()).unwrap();
    (dir, reg)
}

fn tmp_entries(reg: &Registry) -> Vec<String> {
    std::fs::read_dir(reg.store().tmp_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

pub(crate) fn index_json(reg: &Registry) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(reg.store().index_path()).unwrap()).unwrap()
}

fn write_index(reg: &Registry, value: &serde_json::Value) {
    std::fs::write(
        reg.store().index_path(),
        serde_json::to_vec_pretty(value).unwrap(),
    )
    .unwrap();
}

fn deps_error(e: RegistryError) -> ResolveError {
    match e {
        RegistryError::Dependencies { source, .. } => *source,
        other => panic!("expected a dependency error, got: {other}"),
    }
}

// ---------------------------------------------------------------------------------------
// Install, list, enable, disable, uninstall

#[test]
fn limits_above_the_host_caps_are_refused_at_install_all_of_them() {
    let (_home, reg) = home();
    let extra = "[limits]\nmemory = \"4GiB\"\noutput = \"1MiB\"\ntimeout = \"10m\"\n";
    let error = reg.install(request("greedy", "0.1.0", extra)).unwrap_err();
    let RegistryError::LimitsAboveCaps { id, source, .. } = &error else {
        panic!("expected LimitsAboveCaps, got: {error}");
    };
    assert_eq!(id.as_str(), "greedy");
    let shown: Vec<String> = source
        .diagnostics()
        .iter()
        .map(|d| {
            format!(
                "{}:{}: {} (help: {})",
                d.line,
                d.column,
                d.message,
                d.help.as_deref().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            "11:10: `memory = \"4GiB\"` is above the host's cap of `128MiB` (help: ask for at \
             most `memory = \"128MiB\"`, or leave `memory` out to get the host's cap)",
            "13:11: `timeout = \"10m\"` is above the host's cap of `5s` (help: ask for at most \
             `timeout = \"5s\"`, or leave `timeout` out to get the host's cap)",
        ]
    );
    assert!(
        source.path().ends_with("greedy.wasm#flowtrace-manifest"),
        "{source}"
    );
    // Nothing was installed; the same limits are accepted by a host with higher caps.
    assert!(reg.list().unwrap().is_empty());
    let caps = flowtrace_plugins::HostCaps {
        memory: 4 << 30,
        timeout: Duration::from_secs(600),
        ..Default::default()
    };
    let reg = reg.with_caps(caps);
    install(&reg, "greedy", "0.1.0", extra);
}

#[test]
fn install_round_trip() {
    let (_home, reg) = home();
    let bytes = component("round-trip", "0.1.0", "");
    let outcome = reg
        .install(InstallRequest::new(
            bytes.clone(),
            file_source("round-trip"),
        ))
        .unwrap();
    assert_eq!(outcome.action, InstallAction::Installed);
    assert_eq!(outcome.previous, None);
    assert!(outcome.enabled);
    assert!(outcome.pending.is_empty());
    assert_eq!(
        outcome.path,
        reg.store()
            .version_dir(&pid("round-trip"), &"0.1.0".parse().unwrap())
    );

    // The files are where the store says, byte for byte.
    let id = pid("round-trip");
    let version = "0.1.0".parse().unwrap();
    assert_eq!(
        std::fs::read(reg.store().component_path(&id, &version)).unwrap(),
        bytes
    );
    assert_eq!(
        std::fs::read_to_string(reg.store().manifest_path(&id, &version)).unwrap(),
        manifest("round-trip", "0.1.0", "")
    );
    assert!(reg.store().precompiled_dir(&id, &version).is_dir());

    let loaded = reg.read_component(&id).unwrap();
    assert_eq!(loaded.bytes, bytes);
    assert_eq!(loaded.manifest.plugin.id, id);
    assert_eq!(loaded.sha256, outcome.sha256);
    assert!(loaded.enabled);

    let list = reg.list().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, id);
    assert_eq!(list[0].version.to_string(), "0.1.0");
    assert_eq!(list[0].source, file_source("round-trip"));

    let json = index_json(&reg);
    assert_eq!(json["format-version"], 1);
    let entry = &json["plugins"]["round-trip"]["versions"]["0.1.0"];
    assert_eq!(entry["sha256"], outcome.sha256.as_str());
    assert_eq!(entry["source"]["type"], "file");
    let at = entry["installed-at"].as_str().unwrap();
    assert!(at.len() == 20 && at.ends_with('Z'), "{at}");
    assert!(tmp_entries(&reg).is_empty());

    // The same version again: refused without --force, reinstalled with it.
    let again = reg.install(request("round-trip", "0.1.0", "")).unwrap_err();
    assert_eq!(
        again.to_string(),
        "plugin `round-trip` 0.1.0 is already installed"
    );
    let mut forced = request("round-trip", "0.1.0", "");
    forced.force = true;
    assert_eq!(
        reg.install(forced).unwrap().action,
        InstallAction::Reinstalled
    );
    assert_eq!(reg.list().unwrap()[0].versions.len(), 1);
}

#[test]
fn enable_disable_uninstall_round_trip() {
    let (_home, reg) = home();
    let id = pid("toggle");
    install(&reg, "toggle", "1.0.0", "");
    install(&reg, "toggle", "1.1.0", "");
    assert_eq!(reg.enabled(None).unwrap().len(), 1);

    let off = reg.disable(&id, false).unwrap();
    assert!(!off.unchanged);
    assert!(!reg.list().unwrap()[0].enabled);
    assert!(reg.enabled(None).unwrap().is_empty());
    assert!(reg.disable(&id, false).unwrap().unchanged);

    let on = reg.enable(&id, false).unwrap();
    assert!(!on.unchanged);
    assert!(reg.list().unwrap()[0].enabled);
    assert!(reg.enable(&id, false).unwrap().unchanged);

    // One inactive version, then the plugin.
    let active = reg
        .uninstall(&id, Some(&"1.1.0".parse().unwrap()), false)
        .unwrap_err();
    assert!(
        matches!(active, RegistryError::ActiveVersion { .. }),
        "{active}"
    );
    let old = reg
        .uninstall(&id, Some(&"1.0.0".parse().unwrap()), false)
        .unwrap();
    assert_eq!(old.remaining, ["1.1.0".parse().unwrap()]);
    assert!(!reg
        .store()
        .version_dir(&id, &"1.0.0".parse().unwrap())
        .exists());
    let all = reg.uninstall(&id, None, false).unwrap();
    assert_eq!(all.removed, ["1.1.0".parse().unwrap()]);
    assert!(reg.list().unwrap().is_empty());
    assert!(!reg.store().plugin_dir(&id).exists());
    assert!(tmp_entries(&reg).is_empty());

    let gone = reg.enable(&id, false).unwrap_err();
    assert_eq!(gone.to_string(), "plugin `toggle` is not installed");
    assert!(matches!(
        reg.read_component(&id),
        Err(RegistryError::NotInstalled { .. })
    ));
}

#[test]
fn upgrade_asking_for_more_stays_disabled_until_granted() {
    let (_home, reg) = home();
    let id = pid("escalate");
    let v1 = "[capabilities]\nnetwork = { hosts = [\"api.a.com\"] }\n";
    let first = install(&reg, "escalate", "1.0.0", v1);
    assert_eq!(
        first
            .changes
            .added
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["network host api.a.com"]
    );

    // A new host, a new env var and a new switch: installed, but disabled and pending.
    let v2 = "[capabilities]\nnetwork = { hosts = [\"api.a.com\", \"api.b.com\"] }\n\
              env = [\"B_KEY\"]\nstorage = true\n";
    let up = install(&reg, "escalate", "2.0.0", v2);
    assert_eq!(up.action, InstallAction::Upgraded);
    assert!(!up.enabled);
    let pending: Vec<String> = up.pending.iter().map(ToString::to_string).collect();
    assert_eq!(pending, ["network host api.b.com", "env B_KEY", "storage"]);
    assert_eq!(up.granted.network.as_ref().unwrap().len(), 1);
    let row = &reg.list().unwrap()[0];
    assert!(!row.enabled);
    assert_eq!(row.version.to_string(), "2.0.0");
    assert_eq!(row.pending_grants, up.pending);
    // What would run links only the old grants.
    assert!(!reg.read_component(&id).unwrap().grants.storage);

    let refused = reg.enable(&id, false).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "plugin `escalate` 2.0.0 asks for capabilities not granted yet: network host \
         api.b.com, env B_KEY, storage"
    );
    // The fix is data (the id in the variant): the CLI words it.
    assert!(matches!(&refused, RegistryError::GrantsPending { id: i, .. } if *i == id));
    assert_eq!(refused.fix(), Some(Fix::Grant { id: id.clone() }));
    let granted = reg.enable(&id, true).unwrap();
    assert_eq!(granted.granted, up.pending);
    let loaded = reg.read_component(&id).unwrap();
    assert!(loaded.enabled && loaded.grants.storage);
    assert_eq!(loaded.grants, loaded.manifest.capabilities);
    assert!(reg.list().unwrap()[0].pending_grants.is_empty());

    // Asking for less: stays enabled, and the grants narrow to what it asks.
    let down = install(&reg, "escalate", "2.1.0", v1);
    assert!(down.enabled && down.pending.is_empty());
    assert_eq!(down.changes.removed.len(), 3);
    assert!(!reg.read_component(&id).unwrap().grants.storage);
}

#[test]
fn downgrade_needs_the_flag() {
    let (_home, reg) = home();
    install(&reg, "downgrade", "2.0.0", "");
    let refused = reg.install(request("downgrade", "1.0.0", "")).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "plugin `downgrade` 2.0.0 is installed: installing 1.0.0 would downgrade it"
    );
    // The fix is data: the runtime names no command line flag.
    assert_eq!(
        refused.fix(),
        Some(flowtrace_plugins::Fix::AllowDowngrade {
            id: PluginId::parse("downgrade").unwrap(),
            version: "1.0.0".parse().unwrap(),
        })
    );
    assert_eq!(
        refused.help().unwrap(),
        "allow the downgrade to install `downgrade` 1.0.0"
    );
    let mut allowed = request("downgrade", "1.0.0", "");
    allowed.allow_downgrade = true;
    let outcome = reg.install(allowed).unwrap();
    assert_eq!(outcome.action, InstallAction::Downgraded);
    assert_eq!(outcome.previous, Some("2.0.0".parse().unwrap()));
    let row = &reg.list().unwrap()[0];
    assert_eq!(row.version.to_string(), "1.0.0");
    assert_eq!(row.versions.len(), 2);
}

#[test]
fn components_that_cannot_be_installed() {
    let (_home, reg) = home();
    let bare = reg
        .install(InstallRequest::new(
            base_component().to_vec(),
            file_source("bare"),
        ))
        .unwrap_err();
    assert_eq!(
        bare.to_string(),
        "the component has no embedded `flowtrace-manifest` section"
    );
    assert_eq!(bare.fix(), Some(Fix::EmbedManifest));
    assert!(bare.help().unwrap().contains("embeds `flowtrace.toml`"));

    let garbage = reg
        .install(InstallRequest::new(
            b"\0asm garbage".to_vec(),
            file_source("g"),
        ))
        .unwrap_err();
    assert!(
        matches!(garbage, RegistryError::InvalidComponent { .. }),
        "{garbage}"
    );

    let mut named = request("actual-id", "1.0.0", "");
    named.expected_id = Some(pid("asked-id"));
    assert_eq!(
        reg.install(named).unwrap_err().to_string(),
        "expected plugin `asked-id`, but the component's manifest says `actual-id`"
    );

    let text = manifest("future", "1.0.0", "").replace(
        "kind = \"evaluator\"",
        "kind = \"evaluator\"\nflowtrace = \"^9\"",
    );
    let contract = reg
        .install(InstallRequest::new(
            with_manifest(base_component(), &text),
            file_source("future"),
        ))
        .unwrap_err();
    assert_eq!(
        contract.to_string(),
        "plugin `future` 1.0.0 requires the plugin contract `^9`, but this runtime implements 0.1.0"
    );

    // A `traces` import the manifest does not declare fails the capability check.
    let traces_user = testing::componentize(
        &testing::guest_wat("traces-user"),
        "package test:guest; world w { import flowtrace:plugin/traces@0.1.0; export flowtrace:plugin/evaluator@0.1.0; }",
    )
    .unwrap();
    let policy = reg
        .install(InstallRequest::new(
            with_manifest(&traces_user, &manifest("traces-user", "1.0.0", "")),
            file_source("traces-user"),
        ))
        .unwrap_err();
    assert!(matches!(policy, RegistryError::Policy { .. }), "{policy}");
    // Declared, it installs.
    reg.install(InstallRequest::new(
        with_manifest(
            &traces_user,
            &manifest("traces-user", "1.0.0", "[capabilities]\ntraces = true\n"),
        ),
        file_source("traces-user"),
    ))
    .unwrap();
    assert_eq!(reg.list().unwrap().len(), 1);
    assert!(tmp_entries(&reg).is_empty());
}

#[test]
fn precompiler_runs_before_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::open(dir.path()).unwrap().with_precompiler(|p| {
        std::fs::write(
            p.cache.dir.join("native.bin"),
            p.component.len().to_string(),
        )?;
        Ok(())
    });
    let out = install(&reg, "compiled", "1.0.0", "");
    let native = reg
        .store()
        .precompiled_dir(&out.id, &out.version)
        .join("native.bin");
    assert!(native.is_file());

    let failing = Registry::open(dir.path())
        .unwrap()
        .with_precompiler(|_| Err("no compiler here".into()));
    let err = failing
        .install(request("not-compiled", "1.0.0", ""))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to precompile plugin `not-compiled` 1.0.0"
    );
    assert_eq!(reg.list().unwrap().len(), 1);
    assert!(!reg.store().plugin_dir(&pid("not-compiled")).exists());
    assert!(tmp_entries(&reg).is_empty());
}

// ---------------------------------------------------------------------------------------
// Dependencies

#[test]
fn dependencies_satisfied_and_missing() {
    let (_home, reg) = home();
    install(&reg, "embed", "1.2.0", "");
    install(
        &reg,
        "uses-embed",
        "1.0.0",
        "[dependencies]\nembed = \"^1.1\"\n",
    );
    let info = reg.info(&pid("embed")).unwrap();
    assert_eq!(info.dependents, [pid("uses-embed")]);

    let missing = reg
        .install(request(
            "lonely",
            "1.0.0",
            "[dependencies]\nnowhere = \"^1\"\n",
        ))
        .unwrap_err();
    assert_eq!(
        missing.to_string(),
        "cannot satisfy the dependencies of plugin `lonely` 1.0.0"
    );
    let cause = deps_error(missing);
    assert_eq!(
        cause.to_string(),
        "`lonely 1.0.0` requires `nowhere ^1`, which is not installed"
    );
    assert_eq!(
        cause.help().unwrap(),
        "install a version of `nowhere` that matches `^1` first"
    );

    let too_new = reg
        .install(request(
            "wants-new",
            "1.0.0",
            "[dependencies]\nembed = \"^1.5\"\n",
        ))
        .unwrap_err();
    assert_eq!(
        deps_error(too_new).to_string(),
        "`wants-new 1.0.0` requires `embed ^1.5`, which `embed 1.2.0` does not satisfy"
    );
    assert_eq!(reg.list().unwrap().len(), 2);
}

#[test]
fn dependency_conflict_names_both_requirers() {
    let (_home, reg) = home();
    install(&reg, "shared", "1.0.0", "");
    install(
        &reg,
        "old-user",
        "1.0.0",
        "[dependencies]\nshared = \"^1\"\n",
    );
    let conflict = reg
        .install(request(
            "new-user",
            "1.0.0",
            "[dependencies]\nshared = \"^2\"\n",
        ))
        .unwrap_err();
    assert_eq!(
        deps_error(conflict).to_string(),
        "conflicting requirements on `shared`: `old-user 1.0.0` requires `^1` and `new-user \
         1.0.0` requires `^2`"
    );

    // Upgrading the dependency past what an enabled plugin accepts is refused too.
    let upgrade = reg.install(request("shared", "2.0.0", "")).unwrap_err();
    assert_eq!(
        deps_error(upgrade).to_string(),
        "`old-user 1.0.0` requires `shared ^1`, which `shared 2.0.0` does not satisfy"
    );
    assert_eq!(reg.list().unwrap().len(), 2);
    assert_eq!(reg.list().unwrap()[1].version.to_string(), "1.0.0");
}

#[test]
fn dependency_cycle_prints_the_chain() {
    let (_home, reg) = home();
    install(&reg, "cyc-a", "1.0.0", "");
    install(&reg, "cyc-b", "1.0.0", "[dependencies]\ncyc-a = \"^1\"\n");
    let cycle = reg
        .install(request(
            "cyc-a",
            "1.1.0",
            "[dependencies]\ncyc-b = \"^1\"\n",
        ))
        .unwrap_err();
    let cause = deps_error(cycle);
    assert_eq!(
        cause.to_string(),
        "dependency cycle: cyc-a -> cyc-b -> cyc-a"
    );
    assert_eq!(reg.list().unwrap()[0].version.to_string(), "1.0.0");
}

#[test]
fn dependencies_block_disable_and_uninstall_unless_forced() {
    let (_home, reg) = home();
    let base = pid("base-dep");
    install(&reg, "base-dep", "1.0.0", "");
    install(
        &reg,
        "user-one",
        "1.0.0",
        "[dependencies]\nbase-dep = \"^1\"\n",
    );
    install(
        &reg,
        "user-two",
        "1.0.0",
        "[dependencies]\nbase-dep = \"1\"\n",
    );

    let uninstall = reg.uninstall(&base, None, false).unwrap_err();
    assert_eq!(
        uninstall.to_string(),
        "cannot uninstall plugin `base-dep`: enabled plugins depend on it: `user-one`, `user-two`"
    );
    assert_eq!(
        uninstall.fix(),
        Some(Fix::DependentsFirst {
            action: "uninstall"
        })
    );
    assert_eq!(
        uninstall.help().unwrap(),
        "uninstall them first, or force it to uninstall it anyway"
    );
    let disable = reg.disable(&base, false).unwrap_err();
    assert!(matches!(
        disable,
        RegistryError::HasDependents {
            action: "disable",
            ..
        }
    ));

    // A disabled dependent does not count.
    reg.disable(&pid("user-two"), false).unwrap();
    let forced = reg.disable(&base, true).unwrap();
    assert_eq!(
        forced.warnings,
        [Warning::Dependents {
            dependency: base.clone(),
            dependents: vec![pid("user-one")],
            state: DependencyState::Disabled,
        }]
    );
    assert_eq!(
        forced.warnings[0].to_string(),
        "enabled plugin `user-one` depends on `base-dep`, which is now disabled"
    );

    // Enabling something that needs the disabled dependency is refused.
    let enable = reg.enable(&pid("user-two"), false).unwrap_err();
    assert_eq!(
        deps_error(enable).to_string(),
        "`user-two 1.0.0` requires `base-dep`, which is disabled"
    );

    let gone = reg.uninstall(&base, None, true).unwrap();
    assert_eq!(gone.warnings.len(), 1);
    assert!(reg.list().unwrap().iter().all(|p| p.id != base));
    // An unrelated install is not blocked by the broken plugin.
    install(&reg, "unrelated", "1.0.0", "");
}

// ---------------------------------------------------------------------------------------
// Tampering and the index

#[test]
fn tampered_component_is_refused_with_the_hash_message() {
    let (_home, reg) = home();
    let out = install(&reg, "tampered", "1.0.0", "");
    let path = reg.store().component_path(&out.id, &out.version);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.push(0);
    std::fs::write(&path, &bytes).unwrap();
    let found = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let err = reg.read_component(&out.id).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "refusing to load `{}`: hash mismatch: recorded sha256:{} found sha256:{found}",
            path.display(),
            out.sha256
        )
    );

    // The manifest next to it is checked too.
    bytes.pop();
    std::fs::write(&path, &bytes).unwrap();
    reg.read_component(&out.id).unwrap();
    let manifest = reg.store().manifest_path(&out.id, &out.version);
    std::fs::write(&manifest, manifest_text_with_storage()).unwrap();
    assert!(matches!(
        reg.read_component(&out.id),
        Err(RegistryError::HashMismatch { .. })
    ));
}

fn manifest_text_with_storage() -> String {
    manifest("tampered", "1.0.0", "[capabilities]\nstorage = true\n")
}

#[test]
fn an_entry_without_a_hash_is_an_error() {
    let (_home, reg) = home();
    let out = install(&reg, "no-hash", "1.0.0", "");
    let mut json = index_json(&reg);
    let entry = &mut json["plugins"]["no-hash"]["versions"]["1.0.0"];
    entry.as_object_mut().unwrap().remove("sha256");
    write_index(&reg, &json);
    let err = reg.read_component(&out.id).unwrap_err();
    assert_eq!(
        err.to_string(),
        "refusing to load plugin `no-hash` 1.0.0: the registry index records no sha256 for its \
         component"
    );
    json["plugins"]["no-hash"]["versions"]["1.0.0"]["sha256"] = "".into();
    write_index(&reg, &json);
    assert!(matches!(
        reg.read_component(&out.id),
        Err(RegistryError::MissingHash { .. })
    ));
}

#[test]
fn the_index_keeps_unknown_fields_and_refuses_newer_formats() {
    let (_home, reg) = home();
    let out = install(&reg, "future-proof", "1.0.0", "");
    let mut json = index_json(&reg);
    json["x-top"] = 1.into();
    json["plugins"]["future-proof"]["x-plugin"] = "kept".into();
    json["plugins"]["future-proof"]["versions"]["1.0.0"]["x-version"] = true.into();
    write_index(&reg, &json);
    reg.disable(&out.id, false).unwrap();
    let json = index_json(&reg);
    assert_eq!(json["x-top"], 1);
    assert_eq!(json["plugins"]["future-proof"]["x-plugin"], "kept");
    assert_eq!(
        json["plugins"]["future-proof"]["versions"]["1.0.0"]["x-version"],
        true
    );
    assert_eq!(json["plugins"]["future-proof"]["enabled"], false);

    let mut newer = json.clone();
    newer["format-version"] = 2.into();
    write_index(&reg, &newer);
    let err = reg.list().unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::IndexTooNew {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err}"
    );

    std::fs::write(reg.store().index_path(), b"{ not json").unwrap();
    assert!(matches!(
        reg.list(),
        Err(RegistryError::IndexCorrupt { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Archives

enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    /// Any type, with the name written raw (the tar crate refuses to write `..` itself).
    Raw(&'a str, tar::EntryType, Option<&'a str>, u64),
}

fn tar_gz(entries: &[Entry<'_>]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(gz);
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        match entry {
            Entry::File(path, data) => {
                header.set_size(data.len() as u64);
                header.set_entry_type(tar::EntryType::Regular);
                builder.append_data(&mut header, path, *data).unwrap();
            }
            Entry::Dir(path) => {
                header.set_size(0);
                header.set_entry_type(tar::EntryType::Directory);
                builder.append_data(&mut header, path, &[][..]).unwrap();
            }
            Entry::Raw(path, kind, link, size) => {
                let name = &mut header.as_gnu_mut().unwrap().name;
                name[..path.len()].copy_from_slice(path.as_bytes());
                header.set_entry_type(*kind);
                header.set_size(*size);
                if let Some(link) = link {
                    let field = &mut header.as_gnu_mut().unwrap().linkname;
                    field[..link.len()].copy_from_slice(link.as_bytes());
                }
                header.set_cksum();
                builder
                    .append(&header, std::io::repeat(0).take_bytes(*size))
                    .unwrap();
            }
        }
    }
    builder.into_inner().unwrap().finish().unwrap()
}

trait TakeBytes: std::io::Read + Sized {
    fn take_bytes(self, n: u64) -> std::io::Take<Self> {
        std::io::Read::take(self, n)
    }
}
impl<R: std::io::Read> TakeBytes for R {}

fn extract(
    archive: &[u8],
    limits: &ArchiveLimits,
) -> (tempfile::TempDir, Result<archive::Extracted, ArchiveError>) {
    let dir = tempfile::tempdir().unwrap();
    let result = archive::extract_tar_gz(Cursor::new(archive), &dir.path().join("out"), limits);
    (dir, result)
}

#[test]
fn archive_extracts_files_and_dirs() {
    let archive = tar_gz(&[
        Entry::Dir("./plugin/"),
        Entry::File("./plugin/flowtrace.toml", b"[plugin]\n"),
        Entry::File("plugin/src/lib.rs", b"fn main() {}\n"),
        Entry::Dir("plugin/src"),
    ]);
    let (dir, result) = extract(&archive, &ArchiveLimits::default());
    let extracted = result.unwrap();
    assert_eq!((extracted.files, extracted.bytes), (2, 22));
    let out = dir.path().join("out");
    assert_eq!(
        std::fs::read(out.join("plugin/flowtrace.toml")).unwrap(),
        b"[plugin]\n"
    );
    assert_eq!(
        std::fs::read(out.join("plugin/src/lib.rs")).unwrap(),
        b"fn main() {}\n"
    );
}

#[test]
fn archive_attacks_are_refused_before_anything_is_written() {
    use tar::EntryType as T;
    let good = Entry::File("plugin.wasm", b"\0asm");
    let cases: Vec<(&str, Vec<u8>, &str)> =
        vec![
        (
            "parent",
            tar_gz(&[good, Entry::Raw("a/../../x", T::Regular, None, 1)]),
            "unsafe path in archive: `a/../../x`: a `..` component leaves the plugin",
        ),
        (
            "absolute",
            tar_gz(&[Entry::File("ok.txt", b"1"), Entry::Raw("/etc/x", T::Regular, None, 1)]),
            "unsafe path in archive: `/etc/x`: an absolute path",
        ),
        (
            "symlink",
            tar_gz(&[Entry::Raw("link", T::Symlink, Some("/etc/passwd"), 0)]),
            "the archive holds a symlink `link` -> `/etc/passwd`: links are not allowed",
        ),
        (
            "hardlink",
            tar_gz(&[Entry::File("a", b"1"), Entry::Raw("b", T::Link, Some("a"), 0)]),
            "the archive holds a hardlink `b` -> `a`: links are not allowed",
        ),
        (
            "device",
            tar_gz(&[Entry::Raw("null", T::Char, None, 0)]),
            "the archive holds a character device `null`: only files and directories are allowed",
        ),
        (
            "fifo",
            tar_gz(&[Entry::Raw("pipe", T::Fifo, None, 0)]),
            "the archive holds a fifo `pipe`: only files and directories are allowed",
        ),
        (
            "duplicate",
            tar_gz(&[Entry::File("a", b"1"), Entry::File("a", b"2")]),
            "the archive holds `a` twice, or under a file of the same name",
        ),
        (
            "under a file",
            tar_gz(&[Entry::File("a", b"1"), Entry::File("a/b", b"2")]),
            "the archive holds `a/b` twice, or under a file of the same name",
        ),
    ];
    for (name, archive, message) in cases {
        let (dir, result) = extract(&archive, &ArchiveLimits::default());
        let err = result.unwrap_err();
        assert_eq!(err.to_string(), message, "{name}");
        // Nothing at all was written: not the destination, not a file beside it.
        let written: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(written.is_empty(), "{name}: {written:?}");
    }
}

#[test]
fn archive_bombs_are_stopped() {
    // 32 MiB of zeros gzip to about 32 KiB: far past 20x.
    let bomb = tar_gz(&[Entry::Raw("zeros", tar::EntryType::Regular, None, 32 << 20)]);
    assert!(bomb.len() < 200 << 10, "{}", bomb.len());
    let (dir, result) = extract(&bomb, &ArchiveLimits::default());
    let err = result.unwrap_err();
    let limit = ArchiveLimits::default().budget(bomb.len() as u64);
    assert_eq!(
        err.to_string(),
        format!(
            "the archive expands past {limit} bytes ({} bytes compressed): stopped",
            bomb.len()
        )
    );
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());

    // The fixed cap holds whatever the ratio, and so does the entry count.
    let plain = tar_gz(&[Entry::File("a", &[7u8; 4096])]);
    let capped = ArchiveLimits {
        max_bytes: 2048,
        ..ArchiveLimits::default()
    };
    assert!(matches!(
        extract(&plain, &capped).1,
        Err(ArchiveError::TooLarge { limit: 2048, .. })
    ));
    let names: Vec<String> = (0..6).map(|i| format!("f{i}")).collect();
    let many: Vec<Entry<'_>> = names.iter().map(|n| Entry::File(n, b"x")).collect();
    let few = ArchiveLimits {
        max_entries: 5,
        ..ArchiveLimits::default()
    };
    assert_eq!(
        extract(&tar_gz(&many), &few).1.unwrap_err().to_string(),
        "the archive holds more than 5 entries: stopped"
    );
}

// ---------------------------------------------------------------------------------------
// Git

fn run_git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn git_clone_records_the_commit_and_installs_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    run_git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("plugin.wasm"), component("from-git", "1.0.0", "")).unwrap();
    run_git(&repo, &["add", "."]);
    run_git(&repo, &["commit", "-q", "-m", "v1"]);
    run_git(&repo, &["tag", "v1"]);
    let first = run_git(&repo, &["rev-parse", "HEAD"]);
    std::fs::write(repo.join("plugin.wasm"), component("from-git", "2.0.0", "")).unwrap();
    run_git(&repo, &["commit", "-q", "-am", "v2"]);
    let second = run_git(&repo, &["rev-parse", "HEAD"]);

    // Default branch, by path.
    let head = dir.path().join("head");
    let commit = git::clone(repo.to_str().unwrap(), None, &head).unwrap();
    assert_eq!(commit, second);

    // A tag, through a file:// URL, parsed from `url#rev`.
    let url = format!("file://{}#v1", repo.display());
    let source = GitSource::parse(&url).unwrap();
    assert_eq!(source.rev.as_deref(), Some("v1"));
    let tagged = dir.path().join("tagged");
    let commit = git::clone(&source.url, source.rev.as_deref(), &tagged).unwrap();
    assert_eq!(commit, first);

    let (_home, reg) = home();
    let outcome = reg
        .install(InstallRequest::new(
            std::fs::read(tagged.join("plugin.wasm")).unwrap(),
            Source::Git {
                url: source.url.clone(),
                rev: source.rev.clone(),
                commit: commit.clone(),
                path: None,
            },
        ))
        .unwrap();
    assert_eq!(outcome.version.to_string(), "1.0.0");
    let row = &reg.list().unwrap()[0];
    assert_eq!(
        row.source.to_string(),
        format!("{}@{}", source.url, &first[..12])
    );
    assert_eq!(
        index_json(&reg)["plugins"]["from-git"]["versions"]["1.0.0"]["source"]["commit"],
        first
    );

    let missing = git::clone(
        repo.to_str().unwrap(),
        Some("no-such-branch"),
        &dir.path().join("x"),
    );
    assert!(
        matches!(missing, Err(GitError::RevNotFound { .. })),
        "{missing:?}"
    );
}

#[test]
fn dangerous_git_sources_are_refused_before_git_runs() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pwned");
    let cases = [
        (
            "-x",
            "it starts with `-`, which git would read as an option",
        ),
        (
            "--upload-pack=touch /tmp/x",
            "it starts with `-`, which git would read as an option",
        ),
        (
            "ext::sh -c touch% /tmp/pwned",
            "`<transport>::` URLs run commands (`ext::`) or helpers",
        ),
        (
            "fd::17",
            "`<transport>::` URLs run commands (`ext::`) or helpers",
        ),
        (
            "ssh://host/repo.git",
            "only `https://` and `file://` URLs are cloned",
        ),
        (
            "http://host/repo.git",
            "only `https://` and `file://` URLs are cloned",
        ),
        (
            "git@github.com:o/r.git",
            "`host:path` (ssh) sources are not cloned; use an `https://` URL",
        ),
    ];
    for (url, reason) in cases {
        let err = git::clone(url, None, &dir.path().join("dest")).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("refusing git source `{url}`: {reason}")
        );
        assert!(GitSource::parse(url).is_err());
    }
    let rev = git::clone(
        "https://example.com/r.git",
        Some("--output=/tmp/x"),
        &dir.path().join("d"),
    );
    assert!(matches!(rev, Err(GitError::InvalidRev { .. })));
    assert!(!marker.exists());
    assert!(!dir.path().join("dest").exists());
}

// ---------------------------------------------------------------------------------------
// Processes: concurrent installs, the lock, crashes

/// Run by the tests below in a child process (this test binary, re-executed): install the
/// component in `FLOWTRACE_TEST_COMPONENT` into `FLOWTRACE_TEST_HOME`, then print
/// `RESULT: ok <action>` or `RESULT: err <message>`.
///
/// - `FLOWTRACE_TEST_CRASH_AFTER=<step>` aborts the process after that install step;
/// - `FLOWTRACE_TEST_HOLD=<dir>`: once locked, create `<dir>/held` and wait for `<dir>/go`;
/// - `FLOWTRACE_TEST_SIGNAL=<dir>`: when waiting for the lock, write the message to
///   `<dir>/waiting`.
#[test]
#[ignore = "a child process of other tests"]
fn child_process() {
    let Some(home) = std::env::var_os("FLOWTRACE_TEST_HOME") else {
        return;
    };
    let component = std::fs::read(std::env::var_os("FLOWTRACE_TEST_COMPONENT").unwrap()).unwrap();
    let crash: Option<InstallStep> = std::env::var("FLOWTRACE_TEST_CRASH_AFTER")
        .ok()
        .map(|s| s.parse().unwrap());
    let hold = std::env::var_os("FLOWTRACE_TEST_HOLD").map(PathBuf::from);
    let signal = std::env::var_os("FLOWTRACE_TEST_SIGNAL").map(PathBuf::from);
    let reg = Registry::open(Path::new(&home))
        .unwrap()
        .with_lock_timeout(Duration::from_secs(60))
        .on_install_step(move |step| {
            if Some(step) == crash {
                std::process::abort();
            }
            if let (InstallStep::Locked, Some(hold)) = (step, &hold) {
                std::fs::write(hold.join("held"), std::process::id().to_string()).unwrap();
                wait_for(&hold.join("go"));
            }
        })
        .on_lock_wait(move |wait| {
            if let Some(signal) = &signal {
                std::fs::write(signal.join("waiting"), wait.to_string()).unwrap();
            }
        });
    let mut request = InstallRequest::new(component, file_source("child"));
    request.force = std::env::var_os("FLOWTRACE_TEST_FORCE").is_some();
    match reg.install(request) {
        // On a line of its own: libtest has printed `test ... ` without a newline.
        Ok(outcome) => println!("\nRESULT: ok {}", outcome.action),
        Err(e) => println!("\nRESULT: err {e}"),
    }
    std::io::stdout().flush().unwrap();
}

fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "waited too long for {path:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn child(home: &Path, component: &Path, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "registry::child_process",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("FLOWTRACE_TEST_HOME", home)
    .env("FLOWTRACE_TEST_COMPONENT", component)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn result(out: &Output) -> Option<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.split_once("RESULT: ").map(|(_, r)| r.to_string()))
}

fn expect_result(out: &Output) -> String {
    result(out).unwrap_or_else(|| {
        panic!(
            "the child printed no result ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn component_file(dir: &Path, id: &str, version: &str, extra: &str) -> PathBuf {
    let path = dir.join(format!("{id}-{version}-{}.wasm", extra.len()));
    std::fs::write(&path, component(id, version, extra)).unwrap();
    path
}

#[test]
fn concurrent_installs_serialise() {
    let (home, reg) = home();
    let files = tempfile::tempdir().unwrap();
    let v1 = component_file(files.path(), "race", "1.0.0", "");
    let v2 = component_file(files.path(), "race", "2.0.0", "");

    // Free-running: whichever goes first, 2.0.0 ends up active and the index parses.
    let a = child(home.path(), &v1, &[]).spawn().unwrap();
    let b = child(home.path(), &v2, &[]).spawn().unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let (ra, rb) = (expect_result(&a), expect_result(&b));
    if ra == "ok installed" {
        assert_eq!(rb, "ok upgraded");
    } else {
        assert_eq!(rb, "ok installed");
        assert_eq!(
            ra,
            "err plugin `race` 2.0.0 is installed: installing 1.0.0 would downgrade it"
        );
    }
    let list = reg.list().unwrap();
    assert_eq!(list[0].version.to_string(), "2.0.0");
    reg.read_component(&pid("race")).unwrap();

    // In lock step: the second waits, is told who holds the lock, then finds it installed.
    let sync = tempfile::tempdir().unwrap();
    let sync_arg = sync.path().to_str().unwrap();
    let v3 = component_file(files.path(), "race", "3.0.0", "");
    let first = child(home.path(), &v3, &[("FLOWTRACE_TEST_HOLD", sync_arg)])
        .spawn()
        .unwrap();
    wait_for(&sync.path().join("held"));
    let holder: u32 = std::fs::read_to_string(sync.path().join("held"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(holder, first.id());
    let second = child(home.path(), &v3, &[("FLOWTRACE_TEST_SIGNAL", sync_arg)])
        .spawn()
        .unwrap();
    wait_for(&sync.path().join("waiting"));
    let told = std::fs::read_to_string(sync.path().join("waiting")).unwrap();
    assert_eq!(
        told,
        format!(
            "waiting for file lock on {} (held by pid {holder})",
            reg.store().lock_path().display()
        )
    );

    // Meanwhile this process gives up after its timeout, naming the holder.
    let impatient = Registry::open(home.path())
        .unwrap()
        .with_lock_timeout(Duration::from_millis(50));
    let err = impatient
        .install(request("other", "1.0.0", ""))
        .unwrap_err();
    match &err {
        RegistryError::LockTimeout {
            holder: Some(h), ..
        } => assert_eq!(h.pid, holder),
        other => panic!("expected a lock timeout, got {other}"),
    }
    assert!(
        err.to_string()
            .contains(&format!("(held by pid {holder} (")),
        "{err}"
    );

    std::fs::write(sync.path().join("go"), "").unwrap();
    let (first, second) = (
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    );
    assert_eq!(expect_result(&first), "ok upgraded");
    assert_eq!(
        expect_result(&second),
        "err plugin `race` 3.0.0 is already installed"
    );
    // 1.0.0 is kept only when it won the free-running race (2.0.0 then upgraded it).
    let expected_versions = if ra == "ok installed" { 3 } else { 2 };
    assert_eq!(reg.list().unwrap()[0].versions.len(), expected_versions);
    assert!(tmp_entries(&reg).is_empty());
}

#[test]
fn a_crash_after_any_install_step_leaves_the_old_or_the_new_state() {
    let files = tempfile::tempdir().unwrap();
    let upgrade = component_file(files.path(), "crashy", "2.0.0", "");
    let id = pid("crashy");
    // An upgrade: 1.0.0 installed, 2.0.0 crashing. No directory to move aside.
    for step in InstallStep::ALL
        .into_iter()
        .filter(|s| *s != InstallStep::Displaced)
    {
        let (home, reg) = home();
        let old = install(&reg, "crashy", "1.0.0", "");
        let out = child(
            home.path(),
            &upgrade,
            &[("FLOWTRACE_TEST_CRASH_AFTER", step.as_str())],
        )
        .output()
        .unwrap();
        assert!(
            !out.status.success() && result(&out).is_none(),
            "{step}: {out:?}"
        );

        let reg = Registry::open(home.path()).unwrap();
        let committed = matches!(step, InstallStep::Committed | InstallStep::Cleaned);
        let loaded = reg.read_component(&id).unwrap();
        let versions: Vec<String> = reg.list().unwrap()[0]
            .versions
            .iter()
            .map(ToString::to_string)
            .collect();
        if committed {
            assert_eq!(loaded.version.to_string(), "2.0.0", "{step}");
            assert_eq!(versions, ["1.0.0", "2.0.0"], "{step}");
        } else {
            assert_eq!(loaded.sha256, old.sha256, "{step}");
            assert_eq!(versions, ["1.0.0"], "{step}");
            assert!(
                !reg.store()
                    .version_dir(&id, &"2.0.0".parse().unwrap())
                    .exists(),
                "{step}"
            );
        }
        // Nothing to clean when it died before writing or after cleaning up.
        let clean = matches!(step, InstallStep::Locked | InstallStep::Cleaned);
        assert_eq!(
            reg.recovered().is_empty(),
            clean,
            "{step}: {:?}",
            reg.recovered()
        );
        assert!(
            tmp_entries(&reg).is_empty(),
            "{step}: {:?}",
            tmp_entries(&reg)
        );
    }

    // A forced reinstall of other bytes under the same version: the old directory is moved
    // aside, so every step matters.
    let replacement = component_file(files.path(), "crashy", "1.0.0", "# rebuilt");
    for step in InstallStep::ALL {
        let (home, reg) = home();
        let old = install(&reg, "crashy", "1.0.0", "");
        let out = child(
            home.path(),
            &replacement,
            &[
                ("FLOWTRACE_TEST_CRASH_AFTER", step.as_str()),
                ("FLOWTRACE_TEST_FORCE", "1"),
            ],
        )
        .output()
        .unwrap();
        assert!(!out.status.success(), "{step}: {out:?}");

        let reg = Registry::open(home.path()).unwrap();
        let loaded = reg.read_component(&id).unwrap();
        let committed = matches!(step, InstallStep::Committed | InstallStep::Cleaned);
        assert_eq!(loaded.sha256 == old.sha256, !committed, "{step}");
        let recovered = reg.recovered();
        if step == InstallStep::Displaced || step == InstallStep::Placed {
            assert!(
                recovered
                    .iter()
                    .any(|r| matches!(r, Recovered::RolledBack { .. })),
                "{step}: {recovered:?}"
            );
        }
        assert!(tmp_entries(&reg).is_empty(), "{step}");
    }
}

#[test]
fn open_cleans_stale_leftovers_but_not_live_scratch_dirs() {
    let (home, reg) = home();
    let live = reg.scratch_dir("clone-").unwrap();
    std::fs::write(live.path().join("file"), "x").unwrap();
    let stale = reg.store().tmp_dir().join("install-crashed");
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("half"), "x").unwrap();

    let again = Registry::open(home.path()).unwrap();
    assert!(live.path().join("file").exists());
    assert!(!stale.exists());
    assert_eq!(
        again.recovered(),
        [Recovered::Discarded {
            path: stale.clone()
        }]
    );
    let path = live.path().to_path_buf();
    drop(live);
    assert!(!path.exists());
    assert!(tmp_entries(&reg).is_empty());
}

#[test]
fn a_failed_commit_puts_the_old_version_back() {
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("index.json");
    let reg = Registry::open(dir.path()).unwrap();
    let old = install(&reg, "unlucky", "1.0.0", "");
    // Once the new bytes are in place, make the index impossible to replace.
    let blocker = index.clone();
    let failing = Registry::open(dir.path())
        .unwrap()
        .on_install_step(move |step| {
            if step == InstallStep::Placed {
                std::fs::rename(&blocker, blocker.with_extension("bak")).unwrap();
                std::fs::create_dir(&blocker).unwrap();
                std::fs::write(blocker.join("in-the-way"), "").unwrap();
            }
        });
    let mut forced = request("unlucky", "1.0.0", "# rebuilt");
    forced.force = true;
    let err = failing.install(forced).unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::Io {
                action: "replace",
                ..
            }
        ),
        "{err}"
    );
    // The index could not be read back, so the staging dir was left for the next open.
    assert_eq!(tmp_entries(&reg).len(), 1);

    std::fs::remove_dir_all(&index).unwrap();
    std::fs::rename(index.with_extension("bak"), &index).unwrap();
    let reopened = Registry::open(dir.path()).unwrap();
    assert_eq!(
        reopened.recovered(),
        [Recovered::RolledBack {
            id: pid("unlucky"),
            version: "1.0.0".parse().unwrap()
        }]
    );
    assert_eq!(
        reopened.read_component(&pid("unlucky")).unwrap().sha256,
        old.sha256
    );
    assert!(tmp_entries(&reopened).is_empty());
}

// ---------------------------------------------------------------------------------------
// Loading what is installed

#[test]
fn enabled_plugins_load_precompiled_with_their_grants_and_a_tampered_one_is_refused() {
    use flowtrace_plugins::cache::CacheOutcome;
    use flowtrace_plugins::registry::LoadEnabledError;
    use flowtrace_plugins::{PreparedTrace, Runtime, Services};

    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::new().unwrap();
    let reg = Registry::open(dir.path())
        .unwrap()
        .precompiling_with(&runtime);
    install(&reg, "alpha", "1.0.0", "");
    install(&reg, "beta", "1.0.0", "");
    install(&reg, "gamma", "1.0.0", "");
    reg.disable(&pid("gamma"), false).unwrap();

    // Tamper with beta's component after install.
    let beta = reg.read_component(&pid("beta")).unwrap();
    let path = reg.store().component_path(&pid("beta"), &beta.version);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, &bytes).unwrap();

    let loaded = reg
        .load_enabled(&runtime, None, &Services::default())
        .unwrap();
    let ids: Vec<&str> = loaded.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["alpha", "beta"], "gamma is disabled");
    let alpha = loaded[0].plugin.as_ref().unwrap();
    assert_eq!(
        alpha.cache_outcome(),
        CacheOutcome::Hit,
        "compiled at install"
    );
    let r = alpha
        .evaluate(&PreparedTrace::new(testing::trace_with_spans(7)))
        .unwrap();
    assert_eq!(r.score, 0.5);
    match &loaded[1].plugin {
        Err(LoadEnabledError::Registry(e)) => {
            let text = e.to_string();
            assert!(text.contains("hash mismatch: recorded sha256:"), "{text}");
        }
        other => panic!("expected a hash mismatch, got {other:?}"),
    }
}

#[test]
fn one_plugin_loads_by_id_disabled_or_not_with_checked_config() {
    use std::collections::BTreeMap;

    use flowtrace_plugins::cache::CacheOutcome;
    use flowtrace_plugins::manifest::ConfigValue;
    use flowtrace_plugins::registry::LoadEnabledError;
    use flowtrace_plugins::{LoadError, PreparedTrace, Runtime, Services};

    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::new().unwrap();
    let reg = Registry::open(dir.path()).unwrap();
    let config = "[config]\nlimit = { type = \"float\", default = 0.5 }";
    install(&reg, "delta", "1.0.0", config);
    reg.disable(&pid("delta"), false).unwrap();

    // Installed without a precompiler: the first load compiles into `precompiled/`, the
    // next one loads from there.
    let first = reg
        .load(&runtime, &pid("delta"), &Services::default())
        .unwrap();
    assert_eq!(first.cache_outcome(), CacheOutcome::Miss);
    let r = first
        .evaluate(&PreparedTrace::new(testing::trace_with_spans(0)))
        .unwrap();
    assert_eq!(r.score, 1.0);
    // Dropped, so the next load reads the cache instead of sharing its compiled code.
    drop(first);
    let overrides = BTreeMap::from([("limit".to_string(), ConfigValue::Float(0.25))]);
    let second = reg
        .load_with_config(&runtime, &pid("delta"), &Services::default(), overrides)
        .unwrap();
    assert_eq!(second.cache_outcome(), CacheOutcome::Hit);

    let wrong = BTreeMap::from([("limit".to_string(), ConfigValue::Boolean(true))]);
    match reg.load_with_config(&runtime, &pid("delta"), &Services::default(), wrong) {
        Err(LoadEnabledError::Load(LoadError::Config { problems, .. })) => {
            assert_eq!(problems, ["`limit` is a float, not a boolean"]);
        }
        other => panic!("expected a config error, got {other:?}"),
    }
    match reg.load(&runtime, &pid("nobody"), &Services::default()) {
        Err(LoadEnabledError::Registry(RegistryError::NotInstalled { id })) => {
            assert_eq!(id.as_str(), "nobody");
        }
        other => panic!("expected not installed, got {other:?}"),
    }
}

#[test]
fn a_plugin_waiting_for_grants_is_refused_at_load_with_its_id() {
    use flowtrace_plugins::registry::LoadEnabledError;
    use flowtrace_plugins::{Runtime, Services};

    let (_home, reg) = home();
    let runtime = Runtime::new().unwrap();
    install(&reg, "counter", "1.0.0", "");
    // Version 2 imports `kv` and `traces`: installed, but disabled until they are granted.
    let counter = testing::componentize(&testing::guest_wat("counter"), testing::COUNTER_WORLD)
        .expect("the counter guest builds");
    let caps = "[capabilities]\nstorage = true\ntraces = true\n";
    let up = reg
        .install(InstallRequest::new(
            with_manifest(&counter, &manifest("counter", "2.0.0", caps)),
            file_source("counter"),
        ))
        .unwrap();
    assert!(!up.enabled);

    let err = match reg.load(&runtime, &pid("counter"), &Services::default()) {
        Err(LoadEnabledError::Registry(e)) => e,
        Err(other) => panic!("expected the registry to refuse it, got: {other}"),
        Ok(_) => panic!("a plugin waiting for grants loaded"),
    };
    match &err {
        RegistryError::GrantsPending { id, version, added } => {
            assert_eq!(id.as_str(), "counter");
            assert_eq!(version.to_string(), "2.0.0");
            let added: Vec<String> = added.iter().map(ToString::to_string).collect();
            assert_eq!(added, ["storage", "traces"]);
        }
        other => panic!("expected GrantsPending, got: {other}"),
    }
    assert_eq!(
        err.to_string(),
        "plugin `counter` 2.0.0 asks for capabilities not granted yet: storage, traces"
    );
    // The fix is data (the id); the words are the embedder's.
    assert_eq!(err.fix(), Some(Fix::Grant { id: pid("counter") }));

    reg.enable(&pid("counter"), true).unwrap();
    reg.load(&runtime, &pid("counter"), &Services::default())
        .expect("granted, it loads");
}

#[test]
fn one_broken_index_record_leaves_the_other_plugins_usable() {
    use flowtrace_plugins::{Runtime, Services};

    let (_home, reg) = home();
    let runtime = Runtime::new().unwrap();
    install(&reg, "good", "1.0.0", "");
    install(&reg, "broken", "1.0.0", "");
    let mut json = index_json(&reg);
    json["plugins"]["broken"]["active"] = "9.9.9".into();
    json["plugins"]["broken"]["x-kept"] = true.into();
    write_index(&reg, &json);

    let ids: Vec<String> = reg
        .list()
        .unwrap()
        .iter()
        .map(|p| p.id.to_string())
        .collect();
    assert_eq!(ids, ["good"]);
    let broken = reg.broken().unwrap();
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].id.as_str(), "broken");
    assert_eq!(broken[0].active.to_string(), "9.9.9");
    assert_eq!(
        broken[0].problem,
        "active version 9.9.9 has no record in the index"
    );

    reg.load(&runtime, &pid("good"), &Services::default())
        .expect("the good plugin loads");
    let loaded = reg
        .load_enabled(&runtime, None, &Services::default())
        .unwrap();
    let ids: Vec<&str> = loaded.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["good"]);

    let err = reg.read_component(&pid("broken")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "the registry index `{}` is invalid: plugin `broken` has active version 9.9.9 but \
             no record of it",
            reg.store().index_path().display()
        )
    );
    assert!(matches!(
        reg.info(&pid("broken")),
        Err(RegistryError::IndexInvalid { .. })
    ));

    // Writing the index for another plugin keeps the broken record as it was.
    reg.disable(&pid("good"), false).unwrap();
    let json = index_json(&reg);
    assert_eq!(json["plugins"]["broken"]["active"], "9.9.9");
    assert_eq!(json["plugins"]["broken"]["x-kept"], true);
    assert_eq!(json["plugins"]["good"]["enabled"], false);

    // Reinstalling replaces it.
    install(&reg, "broken", "1.0.1", "");
    assert!(reg.broken().unwrap().is_empty());
    let ids: Vec<String> = reg
        .list()
        .unwrap()
        .iter()
        .map(|p| p.id.to_string())
        .collect();
    assert_eq!(ids, ["broken", "good"]);

    // Uninstalling a broken one removes it and what it lists.
    let mut json = index_json(&reg);
    json["plugins"]["broken"]["active"] = "9.9.9".into();
    write_index(&reg, &json);
    let out = reg.uninstall(&pid("broken"), None, false).unwrap();
    assert_eq!(out.removed.len(), 2);
    assert!(reg.broken().unwrap().is_empty());
    assert!(index_json(&reg)["plugins"].get("broken").is_none());
    assert!(!reg.store().plugin_dir(&pid("broken")).exists());
}

#[test]
fn a_component_with_two_manifest_sections_is_refused_as_such() {
    let (_home, reg) = home();
    let once = component("twice", "1.0.0", "");
    let twice = testing::with_custom_section(
        once,
        inspect::MANIFEST_SECTION,
        manifest("twice", "2.0.0", "").as_bytes(),
        None,
    );
    let twice = wasmparser::Validator::new_with_features(inspect::FEATURES)
        .validate_all(&twice)
        .map(|_| twice)
        .expect("a valid component");
    let err = reg
        .install(InstallRequest::new(twice, file_source("twice")))
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::DuplicateManifest { count: 2 }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "the component has two `flowtrace-manifest` sections: exactly one must describe the \
         plugin"
    );
    assert!(reg.list().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// Index recovery

#[test]
fn a_corrupt_index_is_rebuilt_from_the_plugin_directories_checked_against_their_records() {
    let (_home, reg) = home();
    let storage = "[capabilities]\nstorage = true\n";
    install(&reg, "kept", "1.0.0", storage);
    install(&reg, "kept", "1.1.0", storage);
    install(&reg, "quiet", "0.1.0", "");
    reg.disable(&pid("quiet"), false).unwrap();
    install(&reg, "tampered", "1.0.0", "");
    install(&reg, "unrecorded", "1.0.0", "");
    install(&reg, "late", "2.0.0", storage);
    // The backup is a copy of the last index written.
    let backup = reg.store().index_backup_path();
    assert_eq!(
        std::fs::read(&backup).unwrap(),
        std::fs::read(reg.store().index_path()).unwrap()
    );
    let backup_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&backup).unwrap()).unwrap();

    // Damage: one component changed, one version whose records are both gone, and the
    // index cut short.
    let tampered = reg
        .store()
        .component_path(&pid("tampered"), &"1.0.0".parse().unwrap());
    let mut bytes = std::fs::read(&tampered).unwrap();
    bytes.push(0);
    std::fs::write(&tampered, bytes).unwrap();
    let unrecorded = reg
        .store()
        .version_dir(&pid("unrecorded"), &"1.0.0".parse().unwrap());
    std::fs::remove_file(unrecorded.join("install.json")).unwrap();
    // A backup that does not know two plugins: `unrecorded` cannot be verified then,
    // `late` can (by its own record) but comes back disabled.
    let mut backup_json = backup_json;
    let plugins = backup_json["plugins"].as_object_mut().unwrap();
    plugins.remove("unrecorded");
    plugins.remove("late");
    std::fs::write(&backup, serde_json::to_vec(&backup_json).unwrap()).unwrap();
    let index = reg.store().index_path();
    let whole = std::fs::read(&index).unwrap();
    std::fs::write(&index, &whole[..whole.len() / 2]).unwrap();

    // The registry is unusable, and says what would fix it.
    let error = reg.list().unwrap_err();
    assert!(
        matches!(error, RegistryError::IndexCorrupt { .. }),
        "{error}"
    );
    assert_eq!(error.fix(), Some(Fix::RepairIndex));

    let outcome = reg.repair_index().unwrap();
    assert!(outcome.repaired);
    assert_eq!(outcome.backup.as_deref(), Some(backup.as_path()));
    assert_eq!(
        std::fs::read(outcome.corrupt.as_ref().unwrap()).unwrap(),
        &whole[..whole.len() / 2]
    );
    let recovered: Vec<String> = outcome
        .plugins
        .iter()
        .map(|p| {
            format!(
                "{} {} {:?} enabled={} from-backup={}",
                p.id, p.active, p.versions, p.enabled, p.from_backup
            )
        })
        .collect();
    assert_eq!(
        recovered,
        [
            "kept 1.1.0 [Version { major: 1, minor: 0, patch: 0 }, Version { major: 1, minor: 1, \
             patch: 0 }] enabled=true from-backup=true",
            "late 2.0.0 [Version { major: 2, minor: 0, patch: 0 }] enabled=false from-backup=false",
            "quiet 0.1.0 [Version { major: 0, minor: 1, patch: 0 }] enabled=false from-backup=true",
        ]
    );
    let left_out: Vec<(PathBuf, &str)> = outcome
        .unverified
        .iter()
        .map(|u| (u.path.clone(), u.reason.split(':').next().unwrap()))
        .collect();
    assert_eq!(
        left_out,
        [
            (
                tampered.parent().unwrap().to_path_buf(),
                "the component does not match its record"
            ),
            (unrecorded, "no record of its hashes (no readable `install.json`, and the index backup does not list it)"),
        ]
    );

    // Usable again: grants as they were, the unknown plugin waiting for its grants, and every
    // component still checked against its hash at load.
    let list = reg.list().unwrap();
    let kept = list.iter().find(|p| p.id.as_str() == "kept").unwrap();
    assert!(kept.enabled && kept.capabilities.storage);
    let late = list.iter().find(|p| p.id.as_str() == "late").unwrap();
    assert!(!late.enabled);
    assert_eq!(late.pending_grants.len(), 1);
    let error = reg.enable(&pid("late"), false).unwrap_err();
    assert!(
        matches!(error, RegistryError::GrantsPending { .. }),
        "{error}"
    );
    reg.enable(&pid("late"), true).unwrap();
    reg.read_component(&pid("kept")).unwrap();
    assert!(!reg.repair_index().unwrap().repaired);
}
