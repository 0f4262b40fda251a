//! [`PluginError`]: why a plugin could not do its work.

use std::fmt;

use crate::bindings::wit;

/// Why a plugin could not do its work; the host shows it with the plugin's id.
///
/// Return it from any plugin method. Each variant carries a message in the house style:
/// lowercase, no trailing period, names in backticks.
///
/// ```
/// use flowtrace_plugin_sdk::PluginError;
///
/// let err = PluginError::invalid_input("the trace has no spans");
/// assert_eq!(err.to_string(), "invalid input: the trace has no spans");
/// assert!(matches!(err, PluginError::InvalidInput(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    /// The trace or texts given to the plugin are not usable by it.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::PluginError;
    /// let err = PluginError::InvalidInput("no root span".into());
    /// ```
    InvalidInput(String),
    /// The plugin's configuration is wrong (what [`crate::config::get`] returns for a value
    /// of the wrong type).
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::PluginError;
    /// let err = PluginError::InvalidConfig("`threshold` must be between 0 and 1".into());
    /// ```
    InvalidConfig(String),
    /// A service the plugin relies on (network, embeddings, storage) failed.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::PluginError;
    /// let err = PluginError::Unavailable("the embedding service timed out".into());
    /// ```
    Unavailable(String),
    /// Anything else.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::PluginError;
    /// let err = PluginError::Failed("unsupported format `xml`".into());
    /// ```
    Failed(String),
}

impl PluginError {
    /// [`PluginError::InvalidInput`] from anything printable.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::PluginError;
    /// let err = PluginError::invalid_input(format_args!("span {} has no id", 3));
    /// assert_eq!(err, PluginError::InvalidInput("span 3 has no id".into()));
    /// ```
    pub fn invalid_input(message: impl fmt::Display) -> Self {
        Self::InvalidInput(message.to_string())
    }

    /// [`PluginError::InvalidConfig`] from anything printable.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::PluginError;
    /// let err = PluginError::invalid_config("`model` is empty");
    /// ```
    pub fn invalid_config(message: impl fmt::Display) -> Self {
        Self::InvalidConfig(message.to_string())
    }

    /// [`PluginError::Unavailable`] from anything printable.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::PluginError;
    /// let err = PluginError::unavailable("the key-value store is full");
    /// ```
    pub fn unavailable(message: impl fmt::Display) -> Self {
        Self::Unavailable(message.to_string())
    }

    /// [`PluginError::Failed`] from anything printable; handy with `map_err` on errors of
    /// other crates.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::PluginError;
    /// let n: Result<u32, PluginError> = "x".parse::<u32>().map_err(PluginError::failed);
    /// assert_eq!(n, Err(PluginError::Failed("invalid digit found in string".into())));
    /// ```
    pub fn failed(message: impl fmt::Display) -> Self {
        Self::Failed(message.to_string())
    }

    /// The message without the kind.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::PluginError;
    /// assert_eq!(PluginError::unavailable("down").message(), "down");
    /// ```
    pub fn message(&self) -> &str {
        match self {
            Self::InvalidInput(m)
            | Self::InvalidConfig(m)
            | Self::Unavailable(m)
            | Self::Failed(m) => m,
        }
    }

    pub(crate) fn into_wit(self) -> wit::PluginError {
        match self {
            Self::InvalidInput(m) => wit::PluginError::InvalidInput(m),
            Self::InvalidConfig(m) => wit::PluginError::InvalidConfig(m),
            Self::Unavailable(m) => wit::PluginError::Unavailable(m),
            Self::Failed(m) => wit::PluginError::Failed(m),
        }
    }

    #[cfg(feature = "embeddings")]
    pub(crate) fn from_wit(e: wit::PluginError) -> Self {
        match e {
            wit::PluginError::InvalidInput(m) => Self::InvalidInput(m),
            wit::PluginError::InvalidConfig(m) => Self::InvalidConfig(m),
            wit::PluginError::Unavailable(m) => Self::Unavailable(m),
            wit::PluginError::Failed(m) => Self::Failed(m),
        }
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidInput(m) => write!(f, "invalid input: {m}"),
            Self::InvalidConfig(m) => write!(f, "invalid config: {m}"),
            Self::Unavailable(m) => write!(f, "unavailable: {m}"),
            Self::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for PluginError {}
