//! The plugin's settings: the `[config]` table of its `flowtrace.toml`, with the user's
//! overrides, checked by the host against the declared types before the plugin runs.
//!
//! ```toml
//! [config]
//! threshold = { type = "float", default = 0.7 }
//! max-output-chars = { type = "integer", default = 20000 }
//! ```
//!
//! ```no_run
//! use flowtrace_plugin_sdk::{config, PluginError};
//!
//! fn settings() -> Result<(f64, usize), PluginError> {
//!     Ok((config::get("threshold")?, config::get("max-output-chars")?))
//! }
//! ```
//!
//! The functions here call the host; on a native target (doc tests, `cargo test`) they
//! panic, so their examples are `no_run`.

use std::fmt;

use crate::bindings::flowtrace::plugin::config as host;
use crate::PluginError;

/// A configuration value as the host stores it: one variant per `type` of `[config]`.
///
/// ```
/// use flowtrace_plugin_sdk::config::ConfigValue;
///
/// let v = ConfigValue::Integer(20000);
/// assert_eq!(v.type_name(), "integer");
/// assert_eq!(v.to_string(), "20000");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    /// `type = "string"`.
    Text(String),
    /// `type = "integer"`.
    Integer(i64),
    /// `type = "float"`.
    Float(f64),
    /// `type = "boolean"`.
    Boolean(bool),
    /// `type = "string-list"`.
    TextList(Vec<String>),
}

impl ConfigValue {
    /// The manifest's name of the value's type (`string`, `integer`, `float`, `boolean`,
    /// `string-list`).
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::config::ConfigValue;
    /// assert_eq!(ConfigValue::TextList(vec![]).type_name(), "string-list");
    /// ```
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Text(_) => "string",
            Self::Integer(_) => "integer",
            Self::Float(_) => "float",
            Self::Boolean(_) => "boolean",
            Self::TextList(_) => "string-list",
        }
    }

    fn from_wit(v: host::ConfigValue) -> Self {
        match v {
            host::ConfigValue::Text(s) => Self::Text(s),
            host::ConfigValue::Integer(i) => Self::Integer(i),
            host::ConfigValue::Float(f) => Self::Float(f),
            host::ConfigValue::Boolean(b) => Self::Boolean(b),
            host::ConfigValue::TextList(l) => Self::TextList(l),
        }
    }
}

impl fmt::Display for ConfigValue {
    /// The value as TOML would write it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(s) => write!(f, "{s:?}"),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x:?}"),
            Self::Boolean(b) => write!(f, "{b}"),
            Self::TextList(l) => write!(f, "{l:?}"),
        }
    }
}

/// A Rust type a configuration value converts into, for [`get`].
///
/// Implemented for `f64` (from `float` or `integer`), `i64`, `u64`, `u32`, `usize` (from
/// `integer`, range-checked), `bool`, `String`, `Vec<String>` (from `string-list`) and
/// [`ConfigValue`] itself. Implement it for your own types to parse settings once:
///
/// ```
/// use flowtrace_plugin_sdk::config::{ConfigValue, FromConfig};
///
/// enum Mode { Strict, Lenient }
///
/// impl FromConfig for Mode {
///     const EXPECTED: &'static str = "`strict` or `lenient`";
///
///     fn from_config(value: ConfigValue) -> Result<Self, String> {
///         match value {
///             ConfigValue::Text(s) if s == "strict" => Ok(Mode::Strict),
///             ConfigValue::Text(s) if s == "lenient" => Ok(Mode::Lenient),
///             other => Err(format!("expected {}, found {other}", Self::EXPECTED)),
///         }
///     }
/// }
///
/// assert!(Mode::from_config(ConfigValue::Text("strict".into())).is_ok());
/// ```
pub trait FromConfig: Sized {
    /// What the conversion accepts, for error messages, e.g. `a float`.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::config::FromConfig;
    /// assert_eq!(<bool as FromConfig>::EXPECTED, "a boolean");
    /// ```
    const EXPECTED: &'static str;

    /// Convert, or say why not (without the key: [`get`] adds it).
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::config::{ConfigValue, FromConfig};
    /// assert_eq!(f64::from_config(ConfigValue::Integer(2)), Ok(2.0));
    /// assert_eq!(
    ///     bool::from_config(ConfigValue::Text("yes".into())),
    ///     Err("expected a boolean, found a string (\"yes\")".to_string()),
    /// );
    /// ```
    fn from_config(value: ConfigValue) -> Result<Self, String>;
}

fn mismatch<T: FromConfig>(value: &ConfigValue) -> String {
    let article = if value.type_name() == "integer" {
        "an"
    } else {
        "a"
    };
    format!(
        "expected {}, found {article} {} ({value})",
        T::EXPECTED,
        value.type_name()
    )
}

impl FromConfig for ConfigValue {
    const EXPECTED: &'static str = "any value";

    fn from_config(value: ConfigValue) -> Result<Self, String> {
        Ok(value)
    }
}

impl FromConfig for f64 {
    const EXPECTED: &'static str = "a float";

    fn from_config(value: ConfigValue) -> Result<Self, String> {
        match value {
            ConfigValue::Float(f) => Ok(f),
            ConfigValue::Integer(i) => Ok(i as f64),
            other => Err(mismatch::<Self>(&other)),
        }
    }
}

impl FromConfig for i64 {
    const EXPECTED: &'static str = "an integer";

    fn from_config(value: ConfigValue) -> Result<Self, String> {
        match value {
            ConfigValue::Integer(i) => Ok(i),
            other => Err(mismatch::<Self>(&other)),
        }
    }
}

macro_rules! from_config_unsigned {
    ($($ty:ty),*) => {$(
        impl FromConfig for $ty {
            const EXPECTED: &'static str =
                concat!("a non-negative integer (", stringify!($ty), ")");

            fn from_config(value: ConfigValue) -> Result<Self, String> {
                match value {
                    ConfigValue::Integer(i) => <$ty>::try_from(i).map_err(|_| {
                        format!("{i} is out of range for {}", stringify!($ty))
                    }),
                    other => Err(mismatch::<Self>(&other)),
                }
            }
        }
    )*};
}

from_config_unsigned!(u32, u64, usize);

impl FromConfig for bool {
    const EXPECTED: &'static str = "a boolean";

    fn from_config(value: ConfigValue) -> Result<Self, String> {
        match value {
            ConfigValue::Boolean(b) => Ok(b),
            other => Err(mismatch::<Self>(&other)),
        }
    }
}

impl FromConfig for String {
    const EXPECTED: &'static str = "a string";

    fn from_config(value: ConfigValue) -> Result<Self, String> {
        match value {
            ConfigValue::Text(s) => Ok(s),
            other => Err(mismatch::<Self>(&other)),
        }
    }
}

impl FromConfig for Vec<String> {
    const EXPECTED: &'static str = "a string-list";

    fn from_config(value: ConfigValue) -> Result<Self, String> {
        match value {
            ConfigValue::TextList(l) => Ok(l),
            other => Err(mismatch::<Self>(&other)),
        }
    }
}

/// The value of `key`, converted.
///
/// Errors, as [`PluginError::InvalidConfig`] naming the key: the key is not declared in
/// `[config]` or has neither a default nor a user value; or the value does not convert
/// (wrong type, out of range).
///
/// ```no_run
/// use flowtrace_plugin_sdk::config;
///
/// # fn f() -> Result<(), flowtrace_plugin_sdk::PluginError> {
/// let threshold: f64 = config::get("threshold")?;
/// let labels = config::get::<Vec<String>>("labels")?;
/// # Ok(()) }
/// ```
pub fn get<T: FromConfig>(key: &str) -> Result<T, PluginError> {
    get_opt(key)?.ok_or_else(|| {
        PluginError::InvalidConfig(format!(
            "config `{key}` has no value: declare it under `[config]` in flowtrace.toml with a default"
        ))
    })
}

/// The value of `key` converted, or `None` when it has no value (not declared, or
/// declared without a default and not set by the user).
///
/// ```no_run
/// use flowtrace_plugin_sdk::config;
///
/// # fn f() -> Result<(), flowtrace_plugin_sdk::PluginError> {
/// let api_base = config::get_opt::<String>("api-base")?
///     .unwrap_or_else(|| "https://api.openai.com".into());
/// # Ok(()) }
/// ```
pub fn get_opt<T: FromConfig>(key: &str) -> Result<Option<T>, PluginError> {
    let Some(value) = host::get(key) else {
        return Ok(None);
    };
    T::from_config(ConfigValue::from_wit(value))
        .map(Some)
        .map_err(|reason| PluginError::InvalidConfig(format!("config `{key}`: {reason}")))
}

/// The keys of `[config]`, as the host reports them.
///
/// ```no_run
/// for key in flowtrace_plugin_sdk::config::keys() {
///     flowtrace_plugin_sdk::debug!("config key `{key}`");
/// }
/// ```
pub fn keys() -> Vec<String> {
    host::keys()
}
