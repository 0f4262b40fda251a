//! OCI registries end to end, against a real registry server on loopback (Debian's
//! `docker-registry`): package, publish, install by reference, by id and from a package
//! file; auth; and every way a registry or the network can be wrong, each leaving the
//! local registry as it was.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use flowtrace_plugins::inspect;
use flowtrace_plugins::registry::oci::{layout, Artifact};
use flowtrace_plugins::testing;
use serde_json::Value;

use crate::build::{in_plugin, new_plugin};
use crate::registry_server::{faulty_proxy, Fault, TestRegistry};
use crate::support::{flowtrace, run, tmp, validated, Run};

fn manifest_text(id: &str, version: &str, extra: &str) -> String {
    format!(
        "[plugin]\nid = \"{id}\"\nname = \"{id}\"\nversion = \"{version}\"\nkind = \"evaluator\"\n\n\
         [build]\nlanguage = \"rust\"\n{extra}"
    )
}

/// A real evaluator (the runtime's WAT guest) with its manifest embedded, padded with a
/// custom section to `pad` bytes so a transfer can be cut in the middle of it.
fn component(id: &str, version: &str, extra: &str, pad: usize) -> Vec<u8> {
    let bare = testing::evaluator(&testing::guest_wat("scan-infos"));
    let bare = testing::with_custom_section(bare, "padding", &vec![7u8; pad], None);
    validated(inspect::embed_manifest(&bare, &manifest_text(id, version, extra)).unwrap())
}

/// A package file of `component`, as `cargo flowtrace package` writes it.
fn package_file(dir: &Path, component: Vec<u8>) -> PathBuf {
    let artifact = Artifact::from_component(component, "1970-01-01T00:00:00Z").unwrap();
    let path = dir.join(format!("{}.oci.tar", &artifact.digest()[7..19]));
    let mut bytes = Vec::new();
    layout::write(&artifact, &mut bytes).unwrap();
    fs::write(&path, bytes).unwrap();
    path
}

fn cli(dir: &Path, args: &[&str]) -> Run {
    run(flowtrace(dir), args)
}

fn home(dir: &Path) -> PathBuf {
    dir.join("flowtrace-home")
}

fn configure(dir: &Path, text: &str) {
    fs::create_dir_all(home(dir)).unwrap();
    fs::write(home(dir).join("config.toml"), text).unwrap();
}

fn listed(dir: &Path) -> Vec<Value> {
    let lines = cli(dir, &["list", "--message-format", "json"])
        .expect_code(0)
        .json_lines();
    assert_eq!(lines[0]["reason"], "plugin-list");
    lines[0]["plugins"].as_array().unwrap().clone()
}

/// The index file's bytes (absent: empty), to show a failure changed nothing.
fn index_bytes(dir: &Path) -> Vec<u8> {
    fs::read(home(dir).join("index.json")).unwrap_or_default()
}

fn publish(dir: &Path, package: &Path, repository: &str) -> Run {
    cli(
        dir,
        &[
            "publish",
            "--package",
            package.to_str().unwrap(),
            repository,
        ],
    )
}

#[test]
fn a_scaffolded_plugin_is_packaged_published_and_installed_from_the_registry() {
    let registry = TestRegistry::start();
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "shared-eval", "rust-evaluator");

    // `package` twice: the same bytes, the digest on stdout.
    let first = in_plugin(&plugin, ["package", "--message-format", "json"]).expect_code(0);
    let packaged = first
        .json_lines()
        .into_iter()
        .find(|m| m["reason"] == "plugin-packaged")
        .unwrap();
    let path = PathBuf::from(packaged["path"].as_str().unwrap());
    assert!(path.ends_with("shared-eval-0.1.0.oci.tar"), "{path:?}");
    let bytes = fs::read(&path).unwrap();
    let again = in_plugin(&plugin, ["package", "-q"]).expect_code(0);
    assert_eq!(
        fs::read(&path).unwrap(),
        bytes,
        "packaging is deterministic"
    );
    let digest = packaged["digest"].as_str().unwrap();
    assert_eq!(again.stdout.trim(), digest);
    assert_eq!(packaged["profile"], "release");

    // `publish`: the digest the registry serves is the package's.
    let repository = registry.url("team/shared-eval");
    let out = in_plugin(&plugin, ["publish", &repository]).expect_code(0);
    assert!(out.stdout.trim().ends_with(digest), "{}", out.stdout);
    let served = registry.raw_manifest("team/shared-eval:0.1.0").unwrap();
    assert_eq!(
        flowtrace_plugins::registry::oci::digest_of(&served),
        digest,
        "the registry serves the package's manifest byte for byte"
    );
    let manifest: Value = serde_json::from_slice(&served).unwrap();
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(
        manifest["annotations"]["dev.flowtrace.plugin.id"],
        "shared-eval"
    );
    assert_eq!(
        manifest["annotations"]["dev.flowtrace.plugin.kind"],
        "evaluator"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.version"],
        "0.1.0"
    );

    // Readable by another tool: skopeo sees the same manifest.
    if let Some(raw) = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{}/team/shared-eval:0.1.0", registry.addr),
    ]) {
        assert_eq!(raw.as_bytes(), served.as_slice());
    }

    // Installed on a machine without the sources: another home, by reference.
    let other = tmp();
    let out = cli(other.path(), &["install", &format!("{repository}:0.1.0")]).expect_code(0);
    assert!(
        out.stderr.contains("Installed shared-eval v0.1.0"),
        "{}",
        out.stderr
    );
    let plugins = listed(other.path());
    assert_eq!(plugins.len(), 1);
    assert_eq!(plugins[0]["source"]["type"], "oci", "{}", plugins[0]);
    assert_eq!(
        plugins[0]["source"]["reference"],
        format!("{repository}:0.1.0")
    );
    assert_eq!(plugins[0]["source"]["digest"], digest);
    // It runs.
    let out = cli(
        other.path(),
        &[
            "eval",
            "shared-eval",
            plugin.join("tests/traces/agent.json").to_str().unwrap(),
            "--message-format",
            "json",
        ],
    )
    .expect_code(0);
    let summary = out.json_lines().pop().unwrap();
    assert_eq!(summary["traces"], 1, "{}", out.stdout);
    assert_eq!(summary["errors"], 0, "{}", out.stdout);
}

fn skopeo(args: &[&str]) -> Option<String> {
    let out = Command::new("skopeo").args(args).output().ok()?;
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

#[test]
fn ids_and_requirements_resolve_against_the_configured_registries() {
    let registry = TestRegistry::start();
    let dir = tmp();
    for version in ["0.9.0", "1.0.0", "1.2.0", "2.0.0"] {
        let package = package_file(dir.path(), component("resolved", version, "", 0));
        publish(dir.path(), &package, &registry.url("ns/resolved")).expect_code(0);
    }
    // Without a registry configured, the fix is named.
    let out = cli(dir.path(), &["install", "resolved@^1"]).expect_code(1);
    assert!(
        out.stderr.contains("no registry is configured"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("config.toml"), "{}", out.stderr);

    configure(
        dir.path(),
        &format!("registries = [\"{}\"]\n", registry.url("ns")),
    );
    let out = cli(dir.path(), &["install", "resolved@^1"]).expect_code(0);
    assert!(
        out.stderr.contains("Installed resolved v1.2.0"),
        "{}",
        out.stderr
    );
    let out = cli(dir.path(), &["install", "resolved"]).expect_code(0);
    assert!(
        out.stderr.contains("Upgraded resolved v1.2.0 -> v2.0.0"),
        "{}",
        out.stderr
    );
    let out = cli(dir.path(), &["install", "resolved@^3"]).expect_code(1);
    assert!(
        out.stderr.contains("no version of `resolved` matches `^3`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("0.9.0, 1.0.0, 1.2.0, 2.0.0"),
        "{}",
        out.stderr
    );
    // `oci://` without a tag: the highest version.
    let other = tmp();
    let out = cli(other.path(), &["install", &registry.url("ns/resolved")]).expect_code(0);
    assert!(
        out.stderr.contains("Installed resolved v2.0.0"),
        "{}",
        out.stderr
    );

    // A package file installs too.
    let package = package_file(dir.path(), component("from-file", "0.3.0", "", 0));
    let out = cli(other.path(), &["install", package.to_str().unwrap()]).expect_code(0);
    assert!(
        out.stderr.contains("Installed from-file v0.3.0"),
        "{}",
        out.stderr
    );
}

#[test]
fn publish_refuses_a_tag_that_is_not_the_version() {
    let registry = TestRegistry::start();
    let dir = tmp();
    let package = package_file(dir.path(), component("tagged", "1.0.0", "", 0));
    let out = publish(dir.path(), &package, &registry.url("ns/tagged:latest")).expect_code(1);
    assert!(
        out.stderr
            .contains("tags the plugin `latest`, but its version is 1.0.0"),
        "{}",
        out.stderr
    );
    assert!(registry.raw_manifest("ns/tagged:latest").is_none());
    // A version is published once: other bytes under the same version are refused, naming
    // both digests; the same artifact again is harmless; `--force` moves the tag.
    publish(dir.path(), &package, &registry.url("ns/tagged")).expect_code(0);
    let first = registry.raw_manifest("ns/tagged:1.0.0").unwrap();
    let out = publish(dir.path(), &package, &registry.url("ns/tagged")).expect_code(0);
    assert!(
        out.stderr.contains("is this artifact already"),
        "{}",
        out.stderr
    );
    let changed = package_file(
        dir.path(),
        component("tagged", "1.0.0", "\n[limits]\ntimeout = \"1s\"\n", 0),
    );
    let out = publish(dir.path(), &changed, &registry.url("ns/tagged")).expect_code(1);
    assert!(
        out.stderr.contains("is published already at"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("bump `version`"), "{}", out.stderr);
    assert_eq!(registry.raw_manifest("ns/tagged:1.0.0").unwrap(), first);
    cli(
        dir.path(),
        &[
            "publish",
            "--force",
            "--package",
            changed.to_str().unwrap(),
            &registry.url("ns/tagged"),
        ],
    )
    .expect_code(0);
    assert_ne!(registry.raw_manifest("ns/tagged:1.0.0").unwrap(), first);
    // Nothing configured, nothing given.
    let out = cli(
        dir.path(),
        &["publish", "--package", package.to_str().unwrap()],
    )
    .expect_code(1);
    assert!(
        out.stderr.contains("no registry configured"),
        "{}",
        out.stderr
    );
}

#[test]
fn credentials_come_from_the_environment_or_docker_and_are_never_printed() {
    let registry = TestRegistry::with_auth("flow", "s3cret-pass");
    let dir = tmp();
    let package = package_file(dir.path(), component("private", "1.0.0", "", 0));
    let repository = registry.url("ns/private");

    let out = publish(dir.path(), &package, &repository).expect_code(1);
    assert!(out.stderr.contains("refused access"), "{}", out.stderr);
    assert!(out.stderr.contains("docker login"), "{}", out.stderr);

    let with_env = |args: &[&str], password: &str| {
        let mut command = flowtrace(dir.path());
        command
            .env("FLOWTRACE_REGISTRY_USERNAME", "flow")
            .env("FLOWTRACE_REGISTRY_PASSWORD", password);
        run(command, args)
    };
    let out = with_env(
        &[
            "publish",
            "--package",
            package.to_str().unwrap(),
            &repository,
        ],
        "wrong-pass",
    )
    .expect_code(1);
    assert!(
        out.stderr.contains("check the credentials"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("wrong-pass"), "{}", out.stderr);
    let out = with_env(
        &[
            "publish",
            "--package",
            package.to_str().unwrap(),
            &repository,
        ],
        "s3cret-pass",
    )
    .expect_code(0);
    assert!(!out.stderr.contains("s3cret-pass") && !out.stdout.contains("s3cret-pass"));

    // Docker's config.json, as `docker login` writes it.
    let docker = dir.path().join("docker");
    fs::create_dir_all(&docker).unwrap();
    let auth = base64_encode(b"flow:s3cret-pass");
    fs::write(
        docker.join("config.json"),
        format!(
            "{{\"auths\": {{\"{}\": {{\"auth\": \"{auth}\"}}}}}}",
            registry.addr
        ),
    )
    .unwrap();
    let mut command = flowtrace(dir.path());
    command.env("DOCKER_CONFIG", &docker);
    let out = run(command, ["install", &format!("{repository}:1.0.0"), "-v"]).expect_code(0);
    assert!(
        out.stderr.contains("Installed private v1.0.0"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("s3cret-pass"), "{}", out.stderr);
}

fn base64_encode(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[test]
fn bad_registries_and_artifacts_are_refused_and_install_nothing() {
    let registry = TestRegistry::start();
    let dir = tmp();
    // Something installed already: every failure below must leave it exactly so.
    let package = package_file(dir.path(), component("kept", "1.0.0", "", 0));
    cli(dir.path(), &["install", package.to_str().unwrap()]).expect_code(0);
    let before = index_bytes(dir.path());
    let refused = |args: &[&str], expected: &str| {
        let out = cli(dir.path(), args).expect_code(1);
        assert!(out.stderr.contains(expected), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("help:"), "{args:?}: {}", out.stderr);
        assert_eq!(
            index_bytes(dir.path()),
            before,
            "{args:?} changed the index"
        );
    };

    // Unreachable, unknown repository, unknown tag, bad reference.
    let closed = TestRegistry::start();
    let closed_url = closed.url("ns/x:1.0.0");
    drop(closed);
    refused(&["install", &closed_url], "cannot reach the registry");
    refused(
        &["install", &registry.url("ns/none:1.0.0")],
        "does not exist in the registry",
    );
    let big = component("big", "1.0.0", "", 300_000);
    let big_package = package_file(dir.path(), big);
    publish(dir.path(), &big_package, &registry.url("ns/big")).expect_code(0);
    refused(
        &["install", &registry.url("ns/big:9.9.9")],
        "does not exist in the registry",
    );
    refused(
        &["install", "oci://127.0.0.1:5000/Bad/Name"],
        "invalid registry reference",
    );

    // A blob over the cap.
    configure(dir.path(), "max-blob-size = \"64KiB\"\n");
    refused(
        &["install", &registry.url("ns/big:1.0.0")],
        "over the 65536-byte cap",
    );
    configure(dir.path(), "max-blob-size = \"nonsense\"\n");
    refused(
        &["install", &registry.url("ns/big:1.0.0")],
        "invalid `max-blob-size",
    );
    configure(dir.path(), "registries = [\"oci://h/ns\"]\nmirrors = 1\n");
    refused(
        &["install", &registry.url("ns/big:1.0.0")],
        "unknown field `mirrors`",
    );
    fs::remove_file(home(dir.path()).join("config.toml")).unwrap();

    // The connection cut in the middle of the component, then a byte of it flipped.
    let cut = faulty_proxy(&registry.addr, Fault::CutAfter(120_000));
    refused(
        &["install", &format!("oci://{cut}/ns/big:1.0.0")],
        "broke off",
    );
    let flipped = faulty_proxy(&registry.addr, Fault::FlipAt(150_000));
    refused(
        &["install", &format!("oci://{flipped}/ns/big:1.0.0")],
        "digest mismatch",
    );

    // Not a Flowtrace plugin: a container image pushed by another tool.
    let image = oci_layout_dir(
        dir.path(),
        "image",
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.oci.image.layer.v1.tar",
        b"{}",
        b"not a tar",
    );
    skopeo_copy(&image, &registry, "ns/image:1.0.0");
    refused(
        &["install", &registry.url("ns/image:1.0.0")],
        "not a Flowtrace plugin",
    );

    // Only tags that are not versions.
    skopeo_copy(&image, &registry, "ns/image-latest:latest");
    refused(
        &["install", &registry.url("ns/image-latest")],
        "has no semver tag",
    );

    // The artifact in `ns/wanted` is plugin `other`.
    configure(
        dir.path(),
        &format!("registries = [\"{}\"]\n", registry.url("ns")),
    );
    let other = package_file(dir.path(), component("other", "1.0.0", "", 0));
    publish(dir.path(), &other, &registry.url("ns/wanted")).expect_code(0);
    refused(
        &["install", "wanted@1"],
        "holds plugin `other`, not `wanted`",
    );

    // A tag that lies about the version.
    let mislabeled = oci_layout_from_package(dir.path(), &other);
    skopeo_copy(&mislabeled, &registry, "ns/liar:2.0.0");
    refused(
        &["install", &registry.url("ns/liar:2.0.0")],
        "holds version 1.0.0 under the tag 2.0.0",
    );

    assert_eq!(listed(dir.path()).len(), 1);
}

/// An OCI image layout directory with one manifest of the given media types.
fn oci_layout_dir(
    dir: &Path,
    name: &str,
    config_type: &str,
    layer_type: &str,
    config: &[u8],
    layer: &[u8],
) -> PathBuf {
    use flowtrace_plugins::registry::oci::digest_of;
    let root = dir.join(name);
    let blobs = root.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    let put = |data: &[u8]| {
        let digest = digest_of(data);
        fs::write(blobs.join(&digest[7..]), data).unwrap();
        digest
    };
    let config_digest = put(config);
    let layer_digest = put(layer);
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"{config_type}","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"{layer_type}","digest":"{layer_digest}","size":{}}}]}}"#,
        config.len(),
        layer.len()
    );
    let manifest_digest = put(manifest.as_bytes());
    fs::write(root.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    fs::write(
        root.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{manifest_digest}","size":{}}}]}}"#,
            manifest.len()
        ),
    )
    .unwrap();
    root
}

/// The package's layout, unpacked into a directory (for skopeo's `oci:` transport).
fn oci_layout_from_package(dir: &Path, package: &Path) -> PathBuf {
    let root = dir.join(format!(
        "unpacked-{}",
        package.file_name().unwrap().to_string_lossy()
    ));
    tar::Archive::new(fs::File::open(package).unwrap())
        .unpack(&root)
        .unwrap();
    root
}

fn skopeo_copy(layout: &Path, registry: &TestRegistry, repo_tag: &str) {
    let out = Command::new("skopeo")
        .args([
            "copy",
            "--dest-tls-verify=false",
            "--preserve-digests",
            &format!("oci:{}", layout.display()),
            &format!("docker://{}/{repo_tag}", registry.addr),
        ])
        .output()
        .expect("skopeo runs (apt-get install -y skopeo, as .ci/run does)");
    assert!(
        out.status.success(),
        "skopeo copy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_artifact_pushed_by_another_tool_installs() {
    // The WebAssembly OCI artifact layout, written by hand and pushed by skopeo (what wkg or
    // wash push): config `application/vnd.wasm.config.v0+json`, one `application/wasm` layer.
    let registry = TestRegistry::start();
    let dir = tmp();
    let wasm = component("foreign", "0.4.0", "", 0);
    let layout = oci_layout_dir(
        dir.path(),
        "foreign",
        "application/vnd.wasm.config.v0+json",
        "application/wasm",
        br#"{"architecture":"wasm","os":"wasip2","layerDigests":[]}"#,
        &wasm,
    );
    skopeo_copy(&layout, &registry, "elsewhere/foreign:0.4.0");
    let out = cli(
        dir.path(),
        &["install", &registry.url("elsewhere/foreign:0.4.0")],
    )
    .expect_code(0);
    assert!(
        out.stderr.contains("Installed foreign v0.4.0"),
        "{}",
        out.stderr
    );
}

#[test]
fn signatures_are_made_by_your_key_and_checked_against_the_keys_you_trust() {
    let registry = TestRegistry::start();
    let publisher = tmp();
    let user = tmp();
    let out = cli(publisher.path(), &["key", "generate"]).expect_code(0);
    let public_key = out.stdout.trim().to_string();
    assert!(public_key.starts_with("ed25519:"), "{}", out.stdout);
    let key_file = home(publisher.path()).join("keys/default.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the private key is readable by its owner only"
        );
    }
    cli(publisher.path(), &["key", "generate"]).expect_code(1);

    let package = package_file(publisher.path(), component("signed", "1.0.0", "", 0));
    let repository = registry.url("ns/signed");
    let out = publish(publisher.path(), &package, &repository).expect_code(0);
    assert!(out.stderr.contains("Signed sha256:"), "{}", out.stderr);

    // A user who does not trust the key: refused, with the command that trusts it.
    let reference = format!("{repository}:1.0.0");
    let out = cli(user.path(), &["install", &reference]).expect_code(1);
    assert!(
        out.stderr.contains("which is not trusted"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "cargo flowtrace trust add {public_key} --name <publisher>"
        )),
        "{}",
        out.stderr
    );
    assert_eq!(index_bytes(user.path()), b"");
    cli(
        user.path(),
        &["trust", "add", &public_key, "--name", "acme"],
    )
    .expect_code(0);
    let out = cli(user.path(), &["trust", "list"]).expect_code(0);
    assert!(out.stdout.starts_with("acme  "), "{}", out.stdout);
    let out = cli(user.path(), &["install", &reference, "--require-signature"]).expect_code(0);
    assert!(
        out.stderr.contains("Verified signature of sha256:"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("by `acme`"), "{}", out.stderr);
    let plugins = listed(user.path());
    assert!(
        plugins[0]["source"]["signed-by"].is_string(),
        "{}",
        plugins[0]
    );

    // The same version pushed again with other bytes: its digest has no signature.
    let other = package_file(
        publisher.path(),
        component("signed", "1.0.0", "\n[limits]\ntimeout = \"1s\"\n", 0),
    );
    cli(
        publisher.path(),
        &[
            "publish",
            "--no-sign",
            "--force",
            "--package",
            other.to_str().unwrap(),
            &repository,
        ],
    )
    .expect_code(0);
    let out = cli(
        user.path(),
        &["install", &reference, "--force", "--require-signature"],
    )
    .expect_code(1);
    assert!(
        out.stderr
            .contains("is not signed, and signatures are required"),
        "{}",
        out.stderr
    );
    configure(user.path(), "require-signature = true\n");
    let out = cli(user.path(), &["install", &reference, "--force"]).expect_code(1);
    assert!(out.stderr.contains("is not signed"), "{}", out.stderr);
    configure(user.path(), "");
    let out = cli(user.path(), &["install", &reference, "--force"]).expect_code(0);
    assert!(out.stderr.contains("warning: `"), "{}", out.stderr);
    assert!(out.stderr.contains("is not signed"), "{}", out.stderr);

    // Package files carry their signature beside them: altered, or another package's, it is
    // refused.
    let signed_package = publisher.path().join("signed.oci.tar");
    fs::copy(&package, &signed_package).unwrap();
    let sig = signed_package.with_extension("tar.sig");
    let document = key_sign(publisher.path(), &signed_package);
    fs::write(&sig, &document).unwrap();
    let out = cli(
        user.path(),
        &["install", signed_package.to_str().unwrap(), "--force"],
    )
    .expect_code(0);
    assert!(out.stderr.contains("Verified signature"), "{}", out.stderr);
    let tampered = String::from_utf8(document.clone()).unwrap();
    let at = tampered.find("\"signature\": \"").unwrap() + 15;
    let flipped = if &tampered[at..at + 1] == "A" {
        "B"
    } else {
        "A"
    };
    let tampered = format!("{}{flipped}{}", &tampered[..at], &tampered[at + 1..]);
    fs::write(&sig, tampered).unwrap();
    let out = cli(
        user.path(),
        &["install", signed_package.to_str().unwrap(), "--force"],
    )
    .expect_code(1);
    assert!(out.stderr.contains("does not verify"), "{}", out.stderr);
    assert!(out.stderr.contains("do not install it"), "{}", out.stderr);
    fs::copy(&package, &signed_package).unwrap();
    fs::copy(&other, &signed_package).unwrap();
    fs::write(&sig, &document).unwrap();
    let out = cli(
        user.path(),
        &["install", signed_package.to_str().unwrap(), "--force"],
    )
    .expect_code(1);
    assert!(
        out.stderr.contains("the signature is for sha256:"),
        "{}",
        out.stderr
    );
}

/// Sign a package file as `publish --package` would, through the publisher's default key.
fn key_sign(publisher: &Path, package: &Path) -> Vec<u8> {
    use flowtrace_plugins::registry::oci::SigningKey;
    let key = SigningKey::load(&home(publisher).join("keys/default.key")).unwrap();
    let artifact = layout::read(fs::File::open(package).unwrap(), u64::MAX).unwrap();
    key.sign(&artifact.digest())
}

#[test]
fn dependencies_are_fetched_from_the_registry_with_the_highest_match() {
    let registry = TestRegistry::start();
    let dir = tmp();
    let deps = |list: &str| format!("\n[dependencies]\n{list}\n");
    let mut pinned_middle = String::new();
    for (id, version, extra) in [
        ("base", "1.0.0", String::new()),
        ("base", "1.1.0", String::new()),
        ("base", "2.0.0", String::new()),
        ("middle", "0.2.0", deps("base = \"^1\"")),
        ("top", "3.0.0", deps("middle = \"^0.2\"")),
        ("loop-a", "1.0.0", deps("loop-b = \"1\"")),
        ("loop-b", "1.0.0", deps("loop-a = \"1\"")),
    ] {
        let package = package_file(dir.path(), component(id, version, &extra, 0));
        let out = publish(dir.path(), &package, &registry.url(&format!("ns/{id}"))).expect_code(0);
        if id == "middle" {
            pinned_middle = out.stdout.trim().to_string();
        }
    }
    // No registry configured: the dependencies come from the namespace `top` came from.
    let out = cli(dir.path(), &["install", &registry.url("ns/top:3.0.0")]).expect_code(0);
    assert!(
        out.stderr
            .contains("Resolved middle@^0.2 -> v0.2.0 (for top)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("Resolved base@^1 -> v1.1.0 (for middle)"),
        "{}",
        out.stderr
    );
    let mut versions: Vec<(String, String)> = listed(dir.path())
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    versions.sort();
    assert_eq!(
        versions,
        [("base", "1.1.0"), ("middle", "0.2.0"), ("top", "3.0.0")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // A cycle is named, and nothing of it is installed.
    let before = index_bytes(dir.path());
    let out = cli(dir.path(), &["install", &registry.url("ns/loop-a:1.0.0")]).expect_code(1);
    assert!(
        out.stderr
            .contains("dependency cycle: `loop-a` -> `loop-b` -> `loop-a`"),
        "{}",
        out.stderr
    );
    assert_eq!(index_bytes(dir.path()), before);

    // Pinned by digest (`oci://host/ns/middle@sha256:...`): the namespace is still `ns`.
    assert!(
        pinned_middle.contains("/ns/middle@sha256:"),
        "{pinned_middle}"
    );
    let other = tmp();
    let out = cli(other.path(), &["install", &pinned_middle]).expect_code(0);
    assert!(
        out.stderr
            .contains("Resolved base@^1 -> v1.1.0 (for middle)"),
        "{}",
        out.stderr
    );
}

#[test]
fn registries_off_this_machine_need_tls_unless_insecure() {
    // `.invalid` never resolves: the error shows the URL that was tried, scheme included.
    let dir = tmp();
    let reference = "oci://registry.flowtrace-test.invalid/ns/x:1.0.0";
    let out = cli(dir.path(), &["install", reference]).expect_code(1);
    assert!(
        out.stderr
            .contains("https://registry.flowtrace-test.invalid/v2/"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("cannot reach the registry"),
        "{}",
        out.stderr
    );
    let out = cli(dir.path(), &["install", "--insecure", reference]).expect_code(1);
    assert!(
        out.stderr
            .contains("http://registry.flowtrace-test.invalid/v2/"),
        "{}",
        out.stderr
    );
}
