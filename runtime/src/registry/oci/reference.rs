//! `oci://HOST[:PORT]/REPOSITORY[:TAG|@DIGEST]`.

use std::fmt;

use super::artifact::is_sha256_digest;
use super::OciError;

/// A repository in a registry, optionally at a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciReference {
    /// `host[:port]`.
    pub registry: String,
    /// `path/of/repository`: lowercase `[a-z0-9]` with `.`, `_`, `__`, `-` separators,
    /// `/`-separated.
    pub repository: String,
    /// A tag.
    pub tag: Option<String>,
    /// A `sha256:` digest.
    pub digest: Option<String>,
}

/// The URL scheme of a reference on the command line and in the index.
pub const SCHEME: &str = "oci://";

impl OciReference {
    /// Parse `oci://HOST[:PORT]/REPOSITORY[:TAG][@DIGEST]` (the scheme may be left out).
    pub fn parse(text: &str) -> Result<Self, OciError> {
        let bad = |reason: &str| OciError::BadReference {
            reference: text.to_string(),
            reason: reason.to_string(),
        };
        let rest = text.strip_prefix(SCHEME).unwrap_or(text);
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| bad("expected `oci://HOST[:PORT]/REPOSITORY[:TAG]`"))?;
        if registry.is_empty() || !valid_registry(registry) {
            return Err(bad(
                "the registry must be a host name or address with an optional port",
            ));
        }
        let (path, digest) = match path.split_once('@') {
            Some((path, digest)) => {
                if !is_sha256_digest(digest) {
                    return Err(bad("a digest is `sha256:` and 64 lowercase hex digits"));
                }
                (path, Some(digest.to_string()))
            }
            None => (path, None),
        };
        // A tag follows the last `:` after the last `/`.
        let last_slash = path.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match path[last_slash..].rfind(':') {
            Some(i) => (&path[..last_slash + i], Some(&path[last_slash + i + 1..])),
            None => (path, None),
        };
        if repository.is_empty() || !repository.split('/').all(valid_component) {
            return Err(bad(
                "a repository is lowercase letters, digits and `.`, `_`, `-` separators, in \
                 `/`-separated parts",
            ));
        }
        if let Some(tag) = tag {
            if !valid_tag(tag) {
                return Err(bad(
                    "a tag is 1 to 128 of `[A-Za-z0-9_.-]`, not starting with `.` or `-`",
                ));
            }
        }
        Ok(OciReference {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// The same repository at `tag`.
    pub fn with_tag(&self, tag: &str) -> Self {
        OciReference {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        }
    }

    /// The same repository at `digest`.
    pub fn with_digest(&self, digest: &str) -> Self {
        OciReference {
            digest: Some(digest.to_string()),
            ..self.clone()
        }
    }

    /// The repository without tag or digest: `oci://host/repo`.
    pub fn repository_url(&self) -> String {
        format!("{SCHEME}{}/{}", self.registry, self.repository)
    }

    /// Whether the registry is on this machine (spoken to over plain HTTP).
    pub fn is_loopback(&self) -> bool {
        let host = host_of(&self.registry);
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// The `oci-client` reference.
    pub(crate) fn to_client(&self) -> oci_client::Reference {
        match (&self.tag, &self.digest) {
            (Some(tag), Some(digest)) => oci_client::Reference::with_tag_and_digest(
                self.registry.clone(),
                self.repository.clone(),
                tag.clone(),
                digest.clone(),
            ),
            (None, Some(digest)) => oci_client::Reference::with_digest(
                self.registry.clone(),
                self.repository.clone(),
                digest.clone(),
            ),
            (tag, None) => oci_client::Reference::with_tag(
                self.registry.clone(),
                self.repository.clone(),
                tag.clone().unwrap_or_else(|| "latest".into()),
            ),
        }
    }
}

impl fmt::Display for OciReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// `host` of `host:port`, `[v6]:port` or `host`.
fn host_of(registry: &str) -> &str {
    if let Some(rest) = registry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    registry.split(':').next().unwrap_or(registry)
}

fn valid_registry(registry: &str) -> bool {
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        match rest.split_once(']') {
            Some((v6, tail)) => {
                if v6.parse::<std::net::Ipv6Addr>().is_err() {
                    return false;
                }
                (None, tail.strip_prefix(':'))
            }
            None => return false,
        }
    } else {
        match registry.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(registry), None),
        }
    };
    let host_ok = host.is_none_or(|h| {
        !h.is_empty()
            && h.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            })
    });
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    host_ok && port_ok
}

fn valid_component(part: &str) -> bool {
    // `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` (the distribution spec's path component).
    let bytes = part.as_bytes();
    if bytes.is_empty() || !is_alnum(bytes[0]) || !is_alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if is_alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !is_alnum(bytes[i]) {
            i += 1;
        }
        let sep = &part[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse() {
        let r = OciReference::parse("oci://127.0.0.1:5000/flowtrace/my-eval:0.1.0").unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "flowtrace/my-eval");
        assert_eq!(r.tag.as_deref(), Some("0.1.0"));
        assert!(r.is_loopback());
        assert_eq!(
            r.to_string(),
            "oci://127.0.0.1:5000/flowtrace/my-eval:0.1.0"
        );
        let r = OciReference::parse("oci://ghcr.io/acme/evals/my-eval").unwrap();
        assert_eq!((r.registry.as_str(), r.tag.clone()), ("ghcr.io", None));
        assert!(!r.is_loopback());
        let digest = format!("sha256:{}", "a".repeat(64));
        let r = OciReference::parse(&format!("oci://localhost:5000/x@{digest}")).unwrap();
        assert_eq!(r.digest.as_deref(), Some(digest.as_str()));
        assert!(r.is_loopback());
        assert!(OciReference::parse("oci://[::1]:5000/x:1.0.0")
            .unwrap()
            .is_loopback());
    }

    #[test]
    fn bad_references_are_refused() {
        for bad in [
            "oci://",
            "oci://host",
            "oci:///repo",
            "oci://host:99999/repo",
            "oci://host/Repo",
            "oci://host/repo/../x",
            "oci://host/repo:",
            "oci://host/repo:-x",
            "oci://host/repo@sha256:xyz",
            "oci://ho st/repo",
        ] {
            assert!(OciReference::parse(bad).is_err(), "{bad}");
        }
    }
}
