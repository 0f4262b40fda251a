//! Reading the values of an OTLP/JSON document, in both the OTLP/JSON spec form and protobuf's
//! canonical JSON mapping: fields by either name, ids, 64-bit integers, `AnyValue`s.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde_json::{Map, Number, Value};

use super::error::{describe, Path, TraceError};
use super::model::{Attribute, AttributeValue};

pub(crate) type Object = Map<String, Value>;

/// The `attributes` of a resource, span or event, in order, duplicates included.
pub(crate) fn attributes(obj: &Object, path: Path<'_>) -> Result<Vec<Attribute>, TraceError> {
    let Some(list) = get(obj, "attributes") else {
        return Ok(Vec::new());
    };
    let list_path = path.key("attributes");
    let list = array(list, list_path)?;
    let mut attributes = Vec::with_capacity(list.len());
    for (i, kv) in list.iter().enumerate() {
        let path = list_path.index(i);
        let kv = object(kv, path)?;
        let key = opt_str(kv, "key", path)?.unwrap_or_default().to_owned();
        let value = get(kv, "value").map_or(AttributeValue::Json("null".into()), attribute_value);
        attributes.push(Attribute { key, value });
    }
    Ok(attributes)
}

/// An OTLP `AnyValue`, read leniently: a value of an unexpected shape is kept, never rejected.
enum Any<'v> {
    Str(&'v str),
    Int(i64),
    Double(f64),
    Bool(bool),
    Bytes(&'v str),
    Array(&'v [Value]),
    Kvlist(&'v [Value]),
    Empty,
    Raw(&'v Value),
}

/// The `values` of an `arrayValue` or `kvlistValue` (absent when empty).
fn values(value: &Value) -> Option<&[Value]> {
    match value.as_object()?.get("values") {
        None | Some(Value::Null) => Some(&[]),
        Some(list) => list.as_array().map(Vec::as_slice),
    }
}

fn classify(value: &Value) -> Any<'_> {
    let Some(obj) = value.as_object() else {
        return Any::Raw(value);
    };
    if obj.is_empty() {
        return Any::Empty;
    }
    let found = if let Some(v) = get(obj, "stringValue") {
        v.as_str().map(Any::Str)
    } else if let Some(v) = get(obj, "boolValue") {
        v.as_bool().map(Any::Bool)
    } else if let Some(v) = get(obj, "intValue") {
        match v {
            Value::Number(n) => n.as_i64(),
            Value::String(text) => text.parse().ok(),
            _ => None,
        }
        .map(Any::Int)
    } else if let Some(v) = get(obj, "doubleValue") {
        match v {
            Value::Number(n) => n.as_f64(),
            Value::String(text) => text.parse().ok(),
            _ => None,
        }
        .map(Any::Double)
    } else if let Some(v) = get(obj, "bytesValue") {
        v.as_str().map(Any::Bytes)
    } else if let Some(v) = get(obj, "arrayValue") {
        values(v).map(Any::Array)
    } else if let Some(v) = get(obj, "kvlistValue") {
        values(v).map(Any::Kvlist)
    } else {
        None
    };
    found.unwrap_or(Any::Raw(value))
}

/// An OTLP `AnyValue` as an attribute value; arrays and maps become their JSON text.
pub(crate) fn attribute_value(value: &Value) -> AttributeValue {
    match classify(value) {
        Any::Str(text) | Any::Bytes(text) => AttributeValue::Text(text.to_owned()),
        Any::Int(n) => AttributeValue::Integer(n),
        Any::Double(x) if x.is_finite() => AttributeValue::Float(x),
        Any::Double(x) => AttributeValue::Text(non_finite(x).to_owned()),
        Any::Bool(b) => AttributeValue::Boolean(b),
        Any::Array(_) | Any::Kvlist(_) => AttributeValue::Json(any_to_json(value).to_string()),
        Any::Empty => AttributeValue::Json("null".to_owned()),
        Any::Raw(raw) => AttributeValue::Json(raw.to_string()),
    }
}

/// An OTLP `AnyValue` as plain JSON (bytes stay base64; NaN and infinities become strings).
pub(crate) fn any_to_json(value: &Value) -> Value {
    match classify(value) {
        Any::Str(text) | Any::Bytes(text) => Value::String(text.to_owned()),
        Any::Int(n) => Value::from(n),
        Any::Double(x) => Number::from_f64(x)
            .map_or_else(|| Value::String(non_finite(x).to_owned()), Value::Number),
        Any::Bool(b) => Value::Bool(b),
        Any::Array(values) => values.iter().map(any_to_json).collect(),
        Any::Kvlist(entries) => Value::Object(
            entries
                .iter()
                .filter_map(Value::as_object)
                .map(|kv| {
                    let key = kv.get("key").and_then(Value::as_str).unwrap_or_default();
                    (
                        key.to_owned(),
                        get(kv, "value").map_or(Value::Null, any_to_json),
                    )
                })
                .collect(),
        ),
        Any::Empty => Value::Null,
        Any::Raw(raw) => raw.clone(),
    }
}

/// NaN and the infinities as protobuf's JSON mapping spells them (JSON has no number for them).
pub(crate) fn non_finite(x: f64) -> &'static str {
    match x {
        f64::INFINITY => "Infinity",
        f64::NEG_INFINITY => "-Infinity",
        _ => "NaN",
    }
}

// ---- ids ----------------------------------------------------------------------------------

const BASE64_CONFIG: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const BASE64: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, BASE64_CONFIG);
const BASE64_URL: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, BASE64_CONFIG);

/// An id as lowercase hex, which must be present and not all zeros.
pub(crate) fn required_id(
    obj: &Object,
    key: &str,
    bytes: usize,
    path: Path<'_>,
) -> Result<String, TraceError> {
    let id = id_field(obj, key, bytes, path)?.ok_or_else(|| TraceError::MissingField {
        path: path.key(key).to_string(),
    })?;
    if is_zero(&id) {
        return Err(TraceError::InvalidId {
            path: path.key(key).to_string(),
            value: get(obj, key).map(describe).unwrap_or_default(),
            reason: "an all-zero id is invalid".to_owned(),
        });
    }
    Ok(id)
}

/// An id as lowercase hex; `None` when absent, empty or all zeros (how some exporters write
/// "no parent").
pub(crate) fn optional_id(
    obj: &Object,
    key: &str,
    bytes: usize,
    path: Path<'_>,
) -> Result<Option<String>, TraceError> {
    Ok(id_field(obj, key, bytes, path)?.filter(|id| !is_zero(id)))
}

/// An id as lowercase hex; `None` when absent or empty.
fn id_field(
    obj: &Object,
    key: &str,
    bytes: usize,
    path: Path<'_>,
) -> Result<Option<String>, TraceError> {
    let Some(value) = get(obj, key) else {
        return Ok(None);
    };
    let text = value
        .as_str()
        .ok_or_else(|| TraceError::wrong_type(path.key(key), "a hex or base64 string", value))?;
    if text.is_empty() {
        return Ok(None);
    }
    parse_id(text, bytes)
        .map(Some)
        .map_err(|reason| TraceError::InvalidId {
            path: path.key(key).to_string(),
            value: describe(value),
            reason,
        })
}

/// Hex (`2 * bytes` digits, any case) or base64 (standard or URL-safe, padded or not). The
/// lengths never overlap (16 bytes: 32 hex digits, 22 to 24 base64 characters), so the length
/// decides which encoding is meant.
fn parse_id(text: &str, bytes: usize) -> Result<String, String> {
    if text.len() == 2 * bytes && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(text.to_ascii_lowercase());
    }
    let expected = format!(
        "expected {} hex digits or {} base64 characters ({bytes} bytes)",
        2 * bytes,
        bytes.div_ceil(3) * 4,
    );
    let engine = if text.contains(['-', '_']) {
        &BASE64_URL
    } else {
        &BASE64
    };
    match engine.decode(text) {
        Ok(decoded) if decoded.len() == bytes => {
            Ok(decoded.iter().map(|b| format!("{b:02x}")).collect())
        }
        _ if text.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Err(format!("{expected}, found {} hex digits", text.len()))
        }
        Ok(decoded) => Err(format!(
            "{expected}, found base64 of {} bytes",
            decoded.len()
        )),
        Err(_) => Err(format!("{expected}, found neither")),
    }
}

fn is_zero(hex: &str) -> bool {
    hex.bytes().all(|b| b == b'0')
}

// ---- JSON access --------------------------------------------------------------------------

/// A field by its lowerCamelCase name, or its snake_case proto name; JSON `null` is absent.
pub(crate) fn get<'v>(obj: &'v Object, key: &str) -> Option<&'v Value> {
    let value = match obj.get(key) {
        Some(value) => Some(value),
        None if key.bytes().any(|b| b.is_ascii_uppercase()) => obj.get(&snake_case(key)),
        None => None,
    };
    value.filter(|value| !value.is_null())
}

/// A field under its current name or the name it had before OTLP 1.0, with the name found.
pub(crate) fn alias<'v>(
    obj: &'v Object,
    key: &'static str,
    old: &'static str,
) -> Option<(&'static str, &'v Value)> {
    get(obj, key)
        .map(|v| (key, v))
        .or_else(|| get(obj, old).map(|v| (old, v)))
}

fn snake_case(camel: &str) -> String {
    let mut snake = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            snake.push('_');
        }
        snake.push(c.to_ascii_lowercase());
    }
    snake
}

pub(crate) fn object<'v>(value: &'v Value, path: Path<'_>) -> Result<&'v Object, TraceError> {
    value
        .as_object()
        .ok_or_else(|| TraceError::wrong_type(path, "an object", value))
}

pub(crate) fn array<'v>(value: &'v Value, path: Path<'_>) -> Result<&'v [Value], TraceError> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| TraceError::wrong_type(path, "an array", value))
}

pub(crate) fn opt_str<'v>(
    obj: &'v Object,
    key: &str,
    path: Path<'_>,
) -> Result<Option<&'v str>, TraceError> {
    match get(obj, key) {
        None => Ok(None),
        Some(value) => value
            .as_str()
            .map(Some)
            .ok_or_else(|| TraceError::wrong_type(path.key(key), "a string", value)),
    }
}

/// A `fixed64` time: a JSON number or a decimal string.
pub(crate) fn time(obj: &Object, key: &str, path: Path<'_>) -> Result<Option<u64>, TraceError> {
    let Some(value) = get(obj, key) else {
        return Ok(None);
    };
    let parsed = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse().ok()
        }
        _ => None,
    };
    parsed.map(Some).ok_or_else(|| TraceError::InvalidInteger {
        path: path.key(key).to_string(),
        expected: "nanoseconds as an unsigned 64-bit integer (a JSON number or a decimal string)",
        found: describe(value),
    })
}
