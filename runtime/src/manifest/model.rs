//! Validated manifest types: what a `flowtrace.toml` means once every rule has been checked.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// The manifest schema this runtime writes and reads natively.
pub const CURRENT_MANIFEST_VERSION: u32 = 1;

/// A validated plugin manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Schema version the file was written in (`manifest-version`, default 1).
    pub manifest_version: u32,
    /// `[plugin]`
    pub plugin: PluginInfo,
    /// `[build]`
    pub build: BuildInfo,
    /// `[capabilities]`
    pub capabilities: Capabilities,
    /// `[config]`, by key.
    pub config: BTreeMap<String, ConfigField>,
    /// `[dependencies]`: plugin id to semver requirement.
    pub dependencies: BTreeMap<PluginId, semver::VersionReq>,
    /// `[limits]`
    pub limits: Limits,
}

/// `[plugin]`
#[derive(Debug, Clone, PartialEq)]
pub struct PluginInfo {
    /// `id`: the plugin's identity, also its directory name in the registry.
    pub id: PluginId,
    /// `name`: what people call it; no control characters.
    pub name: String,
    /// `version`: the plugin's own semver version.
    pub version: semver::Version,
    /// `kind`: which interface it exports.
    pub kind: PluginKind,
    /// `description`: one or more lines about what it does.
    pub description: Option<String>,
    /// Which versions of the `flowtrace:plugin` contract the plugin runs on (`flowtrace`,
    /// default `^0.1`).
    pub flowtrace: semver::VersionReq,
    /// `authors`: free-form, usually `Name <email>`.
    pub authors: Vec<String>,
    /// `license`: usually an SPDX expression; not checked.
    pub license: Option<String>,
    /// `stateless`: the author's word that the plugin keeps nothing from one trace to the
    /// next (no global, static or module state that a trace's evaluation changes), so a host
    /// may evaluate several traces in one instance (default `false`: each trace gets a fresh
    /// instance, and no trace can see state another left). The author's word: not checked.
    pub stateless: bool,
}

/// `[build]`
#[derive(Debug, Clone, PartialEq)]
pub struct BuildInfo {
    /// `language`: picks the build driver.
    pub language: Language,
    /// `entry`: the plugin's main source file, relative to the manifest's directory,
    /// `/`-separated and normalised (Python: the module to build, default `app.py`;
    /// TypeScript: the module to bundle, default `src/index.ts`). Rust plugins have none:
    /// cargo's `Cargo.toml` says what to build.
    pub entry: Option<String>,
}

impl BuildInfo {
    /// The entry file: `entry`, else the language's default (`None` for Rust).
    pub fn entry_or_default(&self) -> Option<&str> {
        self.entry
            .as_deref()
            .or_else(|| self.language.default_entry())
    }
}

/// A plugin id: one path component, `[a-z0-9][a-z0-9-]*`, at most 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PluginId(String);

impl PluginId {
    /// Check `s` against the id rules; the error says which rule it breaks.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("an id cannot be empty".into());
        }
        if s.len() > 64 {
            return Err(format!(
                "an id is at most 64 bytes, this one is {}",
                s.len()
            ));
        }
        let first = s.as_bytes()[0];
        if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
            return Err("an id starts with a lowercase ASCII letter or a digit".into());
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(format!(
                "an id holds only lowercase ASCII letters, digits and `-`, not {c:?}"
            ));
        }
        // Device names that Windows refuses as a file name, whatever the extension.
        const RESERVED: &[&str] = &[
            "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7",
            "com8", "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
        ];
        if RESERVED.contains(&s) {
            return Err(format!("`{s}` is a reserved device name on Windows"));
        }
        Ok(Self(s.to_string()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PluginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub use crate::plugin::PluginKind;

/// The language a plugin is written in; picks the build driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// Built with cargo for `wasm32-wasip2`.
    Rust,
    /// Built with componentize-py.
    Python,
    /// Built with jco / componentize-js.
    TypeScript,
}

impl Language {
    /// Every language, in the order they are listed.
    pub const ALL: [Language; 3] = [Language::Rust, Language::Python, Language::TypeScript];

    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::TypeScript => "typescript",
        }
    }

    /// The entry file a plugin in this language has without `[build] entry`.
    pub fn default_entry(self) -> Option<&'static str> {
        match self {
            Language::Rust => None,
            Language::Python => Some("app.py"),
            Language::TypeScript => Some("src/index.ts"),
        }
    }

    /// The file extensions an entry file in this language may have.
    pub fn entry_extensions(self) -> &'static [&'static str] {
        match self {
            Language::Rust => &[],
            Language::Python => &["py"],
            Language::TypeScript => &["ts", "mts", "js", "mjs"],
        }
    }

    /// Parse the manifest spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Language::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[capabilities]`: everything a plugin may do beyond computing, logging and reading its
/// config. The default grants nothing.
///
/// Serialised (the registry records grants) with kebab-case keys, hosts as their manifest
/// spelling; a missing key reads as "not granted".
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct Capabilities {
    /// `network = { hosts = [...] }`: outgoing HTTP to these hosts only. `None` or an empty
    /// list means no network at all.
    pub network: Option<Vec<HostPattern>>,
    /// `env = [...]`: environment variables the plugin may read.
    pub env: Vec<String>,
    /// `fs-read = [...]`: directories (relative to the plugin's data dir) it may read.
    pub fs_read: Vec<String>,
    /// `storage = true`: a per-plugin key-value store (`flowtrace:plugin/kv`).
    pub storage: bool,
    /// `traces = true`: read other recorded traces (`flowtrace:plugin/traces`).
    pub traces: bool,
    /// `embeddings = true`: embed texts through the host (`flowtrace:plugin/embeddings`).
    pub embeddings: bool,
}

impl Capabilities {
    /// Whether any network host is granted.
    pub fn has_network(&self) -> bool {
        self.network.as_ref().is_some_and(|h| !h.is_empty())
    }

    /// Whether `host` (a lowercase DNS name or IP literal, no port) is allowed.
    pub fn allows_host(&self, host: &str) -> bool {
        self.network
            .as_ref()
            .is_some_and(|hosts| hosts.iter().any(|p| p.matches(host)))
    }
}

/// An allowed network host: an exact name (`api.openai.com`), an IP literal, or one wildcard
/// label in front (`*.example.com`, which matches `a.example.com` but not `example.com`).
/// An optional port narrows it (`localhost:8080`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPattern {
    /// Lowercase host, without the `*.` of a wildcard and without a trailing `.`. IP
    /// literals are in canonical form; an IPv6 one keeps its brackets (`[::1]`), as
    /// `http::Uri::host` returns it.
    pub host: String,
    /// Whether it was written `*.host`: any name strictly under `host` matches.
    pub wildcard: bool,
    /// Only this port, when set; any port otherwise.
    pub port: Option<u16>,
}

impl HostPattern {
    /// Whether `host` (no port) matches, ignoring the port.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if self.wildcard {
            host.len() > self.host.len() + 1
                && host.ends_with(&self.host)
                && host.as_bytes()[host.len() - self.host.len() - 1] == b'.'
        } else {
            host == self.host
        }
    }

    /// Whether `host:port` matches.
    pub fn matches_authority(&self, host: &str, port: u16) -> bool {
        self.matches(host) && self.port.is_none_or(|p| p == port)
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.wildcard {
            f.write_str("*.")?;
        }
        f.write_str(&self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

/// The type of a `[config]` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    /// `"string"`
    String,
    /// `"integer"`: a 64-bit signed integer.
    Integer,
    /// `"float"`: a 64-bit float; an integer default is accepted.
    Float,
    /// `"boolean"`
    Boolean,
    /// `"string-list"`: an array of strings.
    StringList,
}

impl ConfigType {
    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigType::String => "string",
            ConfigType::Integer => "integer",
            ConfigType::Float => "float",
            ConfigType::Boolean => "boolean",
            ConfigType::StringList => "string-list",
        }
    }
}

/// A typed config value.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    /// A `string` value.
    String(String),
    /// An `integer` value.
    Integer(i64),
    /// A `float` value.
    Float(f64),
    /// A `boolean` value.
    Boolean(bool),
    /// A `string-list` value.
    StringList(Vec<String>),
}

impl ConfigValue {
    /// The type of this value.
    pub fn ty(&self) -> ConfigType {
        match self {
            ConfigValue::String(_) => ConfigType::String,
            ConfigValue::Integer(_) => ConfigType::Integer,
            ConfigValue::Float(_) => ConfigType::Float,
            ConfigValue::Boolean(_) => ConfigType::Boolean,
            ConfigValue::StringList(_) => ConfigType::StringList,
        }
    }
}

/// One `[config]` entry: `threshold = { type = "float", default = 0.7, description = "..." }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigField {
    /// `type`: what values the field takes.
    pub ty: ConfigType,
    /// `None` makes the field required: the user must set it.
    pub default: Option<ConfigValue>,
    /// `description`: what the setting does, for people.
    pub description: Option<String>,
}

/// `[limits]`: what the plugin asks for; the host clamps to its own caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// Linear memory, bytes.
    pub memory: Option<u64>,
    /// Wall-clock time per call.
    pub timeout: Option<Duration>,
    /// Size of what the plugin returns, bytes.
    pub output: Option<u64>,
}

// Serde for the types the registry records (`index.json`) and the CLI prints as JSON: each
// as its manifest spelling, read back through the manifest's own rules, so a hand-edited
// index cannot bring in an id (a directory name) or a host the manifest would refuse.

macro_rules! serde_as_str {
    ($ty:ty, $to:expr, $from:expr, $what:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let to: fn(&$ty) -> String = $to;
                s.serialize_str(&to(self))
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                let from: fn(&str) -> Result<$ty, String> = $from;
                from(&text).map_err(|reason| {
                    serde::de::Error::custom(format!(
                        concat!("invalid ", $what, " `{}`: {}"),
                        text, reason
                    ))
                })
            }
        }
    };
}

serde_as_str!(PluginId, |id| id.0.clone(), PluginId::parse, "plugin id");
serde_as_str!(
    PluginKind,
    |k| k.as_str().to_string(),
    |s| PluginKind::parse(s).ok_or_else(|| "not a plugin kind".to_string()),
    "plugin kind"
);
serde_as_str!(
    Language,
    |l| l.as_str().to_string(),
    |s| Language::parse(s).ok_or_else(|| "not a plugin language".to_string()),
    "language"
);
serde_as_str!(
    HostPattern,
    |h| h.to_string(),
    |s| super::capabilities::parse_host_pattern(s).map_err(|(reason, _)| reason),
    "network host"
);
