//! Component import and export names: `wasi:http/outgoing-handler@0.2.3` and plain names.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An interface name, `namespace:package/interface@version`, as the component model spells
/// imports and exports of WIT interfaces.
///
/// `wasi:http/outgoing-handler@0.2.3` has namespace `wasi`, package `http`, interface
/// `outgoing-handler` and version `0.2.3`. The version is optional in the component model.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct InterfaceName {
    /// `wasi` in `wasi:http/types@0.2.3`.
    pub namespace: String,
    /// `http` in `wasi:http/types@0.2.3`.
    pub package: String,
    /// `types` in `wasi:http/types@0.2.3`.
    pub interface: String,
    /// `0.2.3` in `wasi:http/types@0.2.3`, when the name carries a version.
    pub version: Option<semver::Version>,
}

impl InterfaceName {
    /// Parse an interface name; `None` for a plain name (`run`, `my-func`), for the
    /// `url=`/`hash=`/`locked-dep=` forms and for anything that is not one interface of one
    /// package (nested namespaces or packages, a version that is not semver).
    pub fn parse(name: &str) -> Option<Self> {
        let (path, version) = match name.split_once('@') {
            Some((path, version)) => (path, Some(semver::Version::parse(version).ok()?)),
            None => (name, None),
        };
        let (package_path, interface) = path.split_once('/')?;
        let (namespace, package) = package_path.split_once(':')?;
        let is_word =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !(is_word(namespace) && is_word(package) && is_word(interface)) {
            return None;
        }
        Some(Self {
            namespace: namespace.to_string(),
            package: package.to_string(),
            interface: interface.to_string(),
            version,
        })
    }

    /// `namespace:package`, e.g. `wasi:http`.
    pub fn package_name(&self) -> String {
        format!("{}:{}", self.namespace, self.package)
    }

    /// The name without its version, e.g. `wasi:http/types`.
    pub fn unversioned(&self) -> String {
        format!("{}:{}/{}", self.namespace, self.package, self.interface)
    }

    /// Whether this interface belongs to package `namespace:package`.
    pub fn is_in(&self, namespace: &str, package: &str) -> bool {
        self.namespace == namespace && self.package == package
    }
}

impl fmt::Display for InterfaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.namespace, self.package, self.interface)?;
        if let Some(version) = &self.version {
            write!(f, "@{version}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::InterfaceName;

    #[test]
    fn parses_versioned_interface_names() {
        let name = InterfaceName::parse("wasi:http/outgoing-handler@0.2.3").unwrap();
        assert_eq!(name.namespace, "wasi");
        assert_eq!(name.package, "http");
        assert_eq!(name.interface, "outgoing-handler");
        assert_eq!(name.version, Some(semver::Version::new(0, 2, 3)));
        assert_eq!(name.to_string(), "wasi:http/outgoing-handler@0.2.3");
        assert_eq!(name.unversioned(), "wasi:http/outgoing-handler");
        assert_eq!(name.package_name(), "wasi:http");
    }

    #[test]
    fn parses_unversioned_interface_names() {
        let name = InterfaceName::parse("flowtrace:plugin/kv").unwrap();
        assert_eq!(name.version, None);
        assert_eq!(name.to_string(), "flowtrace:plugin/kv");
    }

    #[test]
    fn plain_and_odd_names_are_not_interfaces() {
        for name in [
            "run",
            "my-func",
            "wasi:http",
            "wasi:http/",
            ":http/types",
            "a:b:c/d",
            "a:b/c/d",
            "wasi:http/types@not-a-version",
            "url=<https://example.com>",
            "wasi:http/types stuff",
        ] {
            assert_eq!(InterfaceName::parse(name), None, "{name}");
        }
    }
}
