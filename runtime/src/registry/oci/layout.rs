//! An artifact as an OCI image layout in one tar file (`<id>-<version>.oci.tar`): the form
//! `cargo flowtrace package` writes, `install` reads, and `skopeo copy oci-archive:FILE ...`
//! understands. Written byte for byte the same for the same artifact (sorted entries, zero
//! times and owners, fixed modes), so its sha256 is reproducible.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use super::artifact::{digest_of, is_sha256_digest, Artifact, ArtifactInfo, Descriptor};
use super::{annotations, OciError, MANIFEST_MEDIA_TYPE};

const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// The largest `index.json` / `oci-layout` read.
const MAX_SMALL: u64 = 1 << 20;
/// A plugin's layout has 5 files and 2 directories; more entries than this is not one.
const MAX_ENTRIES: usize = 64;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Index {
    schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    manifests: Vec<Descriptor>,
}

/// Write `artifact` as an OCI image layout tar to `out`, its manifest tagged with the
/// plugin's version.
pub fn write(artifact: &Artifact, out: impl Write) -> Result<(), OciError> {
    let info = artifact.info()?;
    let version = info
        .manifest
        .annotations
        .get(annotations::VERSION)
        .cloned()
        .unwrap_or_default();
    let index = Index {
        schema_version: 2,
        media_type: Some(INDEX_MEDIA_TYPE.into()),
        manifests: vec![Descriptor {
            media_type: MANIFEST_MEDIA_TYPE.into(),
            digest: info.digest.clone(),
            size: artifact.manifest.len() as u64,
            annotations: BTreeMap::from([(REF_NAME.to_string(), version)]),
        }],
    };
    let index = serde_json::to_vec(&index).expect("serialising plain data");
    let mut files: BTreeMap<String, &[u8]> = BTreeMap::new();
    files.insert("oci-layout".into(), br#"{"imageLayoutVersion":"1.0.0"}"#);
    files.insert("index.json".into(), &index);
    for (digest, data) in [
        (&info.digest, &artifact.manifest),
        (&info.manifest.config.digest, &artifact.config),
        (&info.layer().digest, &artifact.component),
    ] {
        files.insert(blob_path(digest), data);
    }
    let mut tar = tar::Builder::new(out);
    tar.mode(tar::HeaderMode::Deterministic);
    let io = |source| OciError::Io {
        action: "write",
        path: "<package>".into(),
        source,
    };
    for dir in ["blobs/", "blobs/sha256/"] {
        let mut header = header(tar::EntryType::Directory, 0o755, 0);
        tar.append_data(&mut header, dir, std::io::empty())
            .map_err(io)?;
    }
    for (path, data) in files {
        let mut header = header(tar::EntryType::Regular, 0o644, data.len() as u64);
        tar.append_data(&mut header, &path, data).map_err(io)?;
    }
    tar.into_inner().map_err(io)?.flush().map_err(io)?;
    Ok(())
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header
}

fn blob_path(digest: &str) -> String {
    format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))
}

/// Read an OCI image layout tar holding one plugin artifact. Only `oci-layout`,
/// `index.json` and `blobs/sha256/<hex>` regular files are read (anything else, a link or a
/// path out of the archive is refused), every blob must hash to its name, no blob may
/// exceed `max_blob` bytes, and all of them together no more than `max_blob` plus a few MiB
/// for the manifests and configs.
pub fn read(input: impl Read, max_blob: u64) -> Result<Artifact, OciError> {
    let bad = |reason: String| OciError::BadLayout { reason };
    let mut archive = tar::Archive::new(input);
    let mut blobs: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut index = None;
    let mut count = 0usize;
    let mut total = 0u64;
    let total_cap = max_blob.saturating_add(8 << 20);
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("not a tar archive ({e})")))?;
    for entry in entries {
        let entry = entry.map_err(|e| bad(format!("a damaged entry ({e})")))?;
        count += 1;
        if count > MAX_ENTRIES {
            return Err(bad(format!("more than {MAX_ENTRIES} entries")));
        }
        let path = entry
            .path()
            .map_err(|e| bad(format!("an entry with an unreadable name ({e})")))?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        let kind = entry.header().entry_type();
        if kind.is_dir()
            && matches!(
                path.as_str(),
                "blobs/" | "blobs/sha256/" | "blobs" | "blobs/sha256"
            )
        {
            continue;
        }
        if !kind.is_file() {
            return Err(bad(format!("`{path}` is not a regular file")));
        }
        let size = entry.header().size().unwrap_or(u64::MAX);
        let (cap, slot) = if path == "oci-layout" {
            (MAX_SMALL, None)
        } else if path == "index.json" {
            (MAX_SMALL, Some(None))
        } else if let Some(hex) = path.strip_prefix("blobs/sha256/") {
            let digest = format!("sha256:{hex}");
            if !is_sha256_digest(&digest) {
                return Err(bad(format!("`{path}` is not a blob name")));
            }
            (max_blob, Some(Some(digest)))
        } else {
            return Err(bad(format!("unexpected entry `{path}`")));
        };
        total = total.saturating_add(size);
        if size > cap || total > total_cap {
            return Err(OciError::TooLarge {
                digest: path,
                size,
                max: cap.min(total_cap),
            });
        }
        let mut data = Vec::with_capacity(size as usize);
        entry
            .take(cap.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|e| bad(format!("`{path}` cannot be read ({e})")))?;
        match slot {
            None => {}
            Some(None) => index = Some(data),
            Some(Some(digest)) => {
                let actual = digest_of(&data);
                if actual != digest {
                    return Err(OciError::DigestMismatch {
                        what: format!("`{path}`"),
                        expected: digest,
                        actual,
                    });
                }
                blobs.insert(digest, data);
            }
        }
    }
    let index = index.ok_or_else(|| bad("no `index.json`".into()))?;
    let index: Index = serde_json::from_slice(&index)
        .map_err(|e| bad(format!("`index.json` is not an image index ({e})")))?;
    let [descriptor] = index.manifests.as_slice() else {
        return Err(bad(format!(
            "`index.json` lists {} manifests, not one",
            index.manifests.len()
        )));
    };
    let manifest = blobs
        .get(&descriptor.digest)
        .ok_or_else(|| {
            bad(format!(
                "the manifest blob {} is missing",
                descriptor.digest
            ))
        })?
        .clone();
    let info = ArtifactInfo::parse(&manifest, None)?;
    let take = |digest: &str| {
        blobs
            .get(digest)
            .cloned()
            .ok_or_else(|| bad(format!("the blob {digest} is missing")))
    };
    let config = take(&info.manifest.config.digest)?;
    let component = take(&info.layer().digest)?;
    if component.len() as u64 != info.layer().size {
        return Err(bad("the component's size is not the manifest's".into()));
    }
    Ok(Artifact {
        manifest,
        config,
        component,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        for (path, data) in entries {
            let mut header = header(tar::EntryType::Regular, 0o644, data.len() as u64);
            tar.append_data(&mut header, path, data.as_slice()).unwrap();
        }
        tar.into_inner().unwrap()
    }

    #[test]
    fn hostile_layouts_are_refused() {
        let blob = |data: &[u8]| {
            (
                format!("blobs/sha256/{}", &digest_of(data)[7..]),
                data.to_vec(),
            )
        };
        // Many valid blobs: over the total, though each is under the cap.
        let many: Vec<(String, Vec<u8>)> = (0..40u8).map(|i| blob(&vec![i; 1 << 20])).collect();
        let many: Vec<(&str, Vec<u8>)> =
            many.iter().map(|(p, d)| (p.as_str(), d.clone())).collect();
        let error = read(tar_of(&many).as_slice(), 16 << 20).unwrap_err();
        assert!(matches!(error, OciError::TooLarge { .. }), "{error}");
        // A blob whose name is not its digest; an unexpected file; a path out.
        let wrong = format!("blobs/sha256/{}", "0".repeat(64));
        for (entries, expected) in [
            (vec![(wrong.as_str(), b"x".to_vec())], "digest mismatch"),
            (vec![("etc/passwd", b"x".to_vec())], "unexpected entry"),
            (vec![("blobs/sha256/xyz", b"x".to_vec())], "not a blob name"),
            (vec![("oci-layout", b"{}".to_vec())], "no `index.json`"),
        ] {
            let error = read(tar_of(&entries).as_slice(), 1 << 20).unwrap_err();
            assert!(error.to_string().contains(expected), "{error}");
        }
    }
}
