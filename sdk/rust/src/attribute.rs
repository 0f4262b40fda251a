//! Span and trace attributes: [`Attribute`], [`AttributeValue`].

use crate::bindings::wit;
use crate::json;

/// A typed attribute value: the OpenTelemetry `AnyValue` minus nesting. Arrays and maps
/// arrive as their JSON text in [`AttributeValue::Json`].
///
/// ```
/// use flowtrace_plugin_sdk::AttributeValue;
///
/// let reasons = AttributeValue::Json(r#"["length"]"#.into());
/// assert_eq!(reasons.to_string_list(), Some(vec!["length".to_string()]));
/// assert_eq!(AttributeValue::Integer(3).as_f64(), Some(3.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    /// A string.
    Text(String),
    /// A 64-bit integer.
    Integer(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Boolean(bool),
    /// An array or a map, as JSON text (`["stop"]`, `{"k":1}`).
    Json(String),
}

impl AttributeValue {
    /// The text of a [`Text`](Self::Text) value.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::AttributeValue;
    /// assert_eq!(AttributeValue::from("gpt-4o").as_str(), Some("gpt-4o"));
    /// assert_eq!(AttributeValue::from(1).as_str(), None);
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Text(s) => Some(s),
            _ => None,
        }
    }

    /// An [`Integer`](Self::Integer) value.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::AttributeValue;
    /// assert_eq!(AttributeValue::Integer(42).as_i64(), Some(42));
    /// ```
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// A [`Float`](Self::Float) value, or an [`Integer`](Self::Integer) as a float.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::AttributeValue;
    /// assert_eq!(AttributeValue::Float(0.5).as_f64(), Some(0.5));
    /// assert_eq!(AttributeValue::Integer(2).as_f64(), Some(2.0));
    /// ```
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Float(f) => Some(*f),
            Self::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// A [`Boolean`](Self::Boolean) value.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::AttributeValue;
    /// assert_eq!(AttributeValue::Boolean(true).as_bool(), Some(true));
    /// ```
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The JSON text of a [`Json`](Self::Json) value.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::AttributeValue;
    /// assert_eq!(AttributeValue::Json("[1,2]".into()).as_json(), Some("[1,2]"));
    /// ```
    pub fn as_json(&self) -> Option<&str> {
        match self {
            Self::Json(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a list of strings: a [`Text`](Self::Text) is a list of one, a
    /// [`Json`](Self::Json) array of strings is parsed; anything else is `None`.
    ///
    /// Instrumentations disagree on whether a list attribute such as
    /// `gen_ai.response.finish_reasons` is a string or an array; this reads both.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::AttributeValue;
    /// let one = AttributeValue::Text("stop".into());
    /// let many = AttributeValue::Json(r#"["stop", "len\"gth"]"#.into());
    /// assert_eq!(one.to_string_list(), Some(vec!["stop".to_string()]));
    /// assert_eq!(many.to_string_list(), Some(vec!["stop".to_string(), "len\"gth".to_string()]));
    /// assert_eq!(AttributeValue::Json("[1]".into()).to_string_list(), None);
    /// ```
    pub fn to_string_list(&self) -> Option<Vec<String>> {
        match self {
            Self::Text(s) => Some(vec![s.clone()]),
            Self::Json(s) => json::parse_string_array(s),
            _ => None,
        }
    }

    pub(crate) fn from_wit(v: wit::AttributeValue) -> Self {
        match v {
            wit::AttributeValue::Text(s) => Self::Text(s),
            wit::AttributeValue::Integer(i) => Self::Integer(i),
            wit::AttributeValue::Float(f) => Self::Float(f),
            wit::AttributeValue::Boolean(b) => Self::Boolean(b),
            wit::AttributeValue::Json(s) => Self::Json(s),
        }
    }

    pub(crate) fn into_wit(self) -> wit::AttributeValue {
        match self {
            Self::Text(s) => wit::AttributeValue::Text(s),
            Self::Integer(i) => wit::AttributeValue::Integer(i),
            Self::Float(f) => wit::AttributeValue::Float(f),
            Self::Boolean(b) => wit::AttributeValue::Boolean(b),
            Self::Json(s) => wit::AttributeValue::Json(s),
        }
    }
}

impl From<&str> for AttributeValue {
    /// ```
    /// # use flowtrace_plugin_sdk::AttributeValue;
    /// assert_eq!(AttributeValue::from("x"), AttributeValue::Text("x".into()));
    /// ```
    fn from(s: &str) -> Self {
        Self::Text(s.to_string())
    }
}

impl From<String> for AttributeValue {
    /// ```
    /// # use flowtrace_plugin_sdk::AttributeValue;
    /// assert_eq!(AttributeValue::from(String::from("x")), AttributeValue::Text("x".into()));
    /// ```
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<i64> for AttributeValue {
    /// ```
    /// # use flowtrace_plugin_sdk::AttributeValue;
    /// assert_eq!(AttributeValue::from(7), AttributeValue::Integer(7));
    /// ```
    fn from(i: i64) -> Self {
        Self::Integer(i)
    }
}

impl From<f64> for AttributeValue {
    /// ```
    /// # use flowtrace_plugin_sdk::AttributeValue;
    /// assert_eq!(AttributeValue::from(0.5), AttributeValue::Float(0.5));
    /// ```
    fn from(f: f64) -> Self {
        Self::Float(f)
    }
}

impl From<bool> for AttributeValue {
    /// ```
    /// # use flowtrace_plugin_sdk::AttributeValue;
    /// assert_eq!(AttributeValue::from(true), AttributeValue::Boolean(true));
    /// ```
    fn from(b: bool) -> Self {
        Self::Boolean(b)
    }
}

/// One attribute of a span or a trace.
///
/// ```
/// use flowtrace_plugin_sdk::{Attribute, AttributeValue};
///
/// let attr = Attribute::new("gen_ai.request.model", "gpt-4o-mini");
/// assert_eq!(attr.value, AttributeValue::Text("gpt-4o-mini".into()));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// The key, e.g. `gen_ai.request.model`.
    pub key: String,
    /// The value.
    pub value: AttributeValue,
}

impl Attribute {
    /// An attribute from a key and anything that converts into a value.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::Attribute;
    /// let attr = Attribute::new("redacted", true);
    /// assert_eq!(attr.key, "redacted");
    /// ```
    pub fn new(key: impl Into<String>, value: impl Into<AttributeValue>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }

    pub(crate) fn from_wit(a: wit::Attribute) -> Self {
        Self {
            key: a.key,
            value: AttributeValue::from_wit(a.value),
        }
    }

    pub(crate) fn into_wit(self) -> wit::Attribute {
        wit::Attribute {
            key: self.key,
            value: self.value.into_wit(),
        }
    }
}
