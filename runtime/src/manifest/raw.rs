//! The manifest as written: serde shapes of `flowtrace.toml`, every value with its span.
//!
//! Every field is optional here, even the required ones, so that one missing key does not hide
//! the other problems: `validate` reports what is missing. Every value is a [`Typed`], which
//! keeps serde's complaint about a value of the wrong type instead of ending the whole
//! deserialization, so every bad value in the file is reported. Values stay loosely typed
//! where the rules give better messages than serde would (`kind` is a string here, checked
//! against the kinds later). Unknown keys are refused (`deny_unknown_fields`); the loader finds
//! them all first, with [`fields_of`], so it can name every one and suggest the closest key.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_spanned::Spanned;

/// Just enough of the file to learn its schema version, before anything else is read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawVersionProbe {
    pub manifest_version: Option<Spanned<i64>>,
}

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", expecting = "a table")]
pub(crate) struct RawManifest {
    /// Read first, by `compat::probe`; here too so that its type is checked with the rest.
    pub manifest_version: Field<i64>,
    pub plugin: Option<Spanned<RawPlugin>>,
    pub build: Option<Spanned<RawBuild>>,
    pub capabilities: Option<Spanned<RawCapabilities>>,
    pub config: Option<Spanned<RawEntries<Spanned<RawConfigField>>>>,
    pub dependencies: Option<Spanned<RawEntries<Spanned<Typed<String>>>>>,
    pub limits: Option<Spanned<RawLimits>>,
}

/// `[plugin]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", expecting = "a table")]
pub(crate) struct RawPlugin {
    pub id: Field<String>,
    pub name: Field<String>,
    pub version: Field<String>,
    pub kind: Field<String>,
    pub description: Field<String>,
    pub flowtrace: Field<String>,
    pub authors: Field<StringList>,
    pub license: Field<String>,
    pub stateless: Field<bool>,
}

/// `[build]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", expecting = "a table")]
pub(crate) struct RawBuild {
    pub language: Field<String>,
    pub entry: Field<String>,
}

/// `[capabilities]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", expecting = "a table")]
pub(crate) struct RawCapabilities {
    pub network: Option<Spanned<RawNetwork>>,
    pub env: Field<StringList>,
    pub fs_read: Field<StringList>,
    pub storage: Field<bool>,
    pub traces: Field<bool>,
    pub embeddings: Field<bool>,
}

/// `network = { hosts = [...] }` in `[capabilities]`
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a table like `{ hosts = [\"api.example.com\"] }`"
)]
pub(crate) struct RawNetwork {
    pub hosts: Field<StringList>,
}

/// One `[config]` entry: `{ type = "float", default = 0.7, description = "..." }`
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a table like `{ type = \"string\" }`"
)]
pub(crate) struct RawConfigField {
    #[serde(rename = "type")]
    pub ty: Field<String>,
    pub default: Field<RawConfigValue>,
    pub description: Field<String>,
}

/// `[limits]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", expecting = "a table")]
pub(crate) struct RawLimits {
    pub memory: Field<RawQuantity>,
    pub timeout: Field<RawQuantity>,
    pub output: Field<RawQuantity>,
}

/// An optional value that may have the wrong type.
pub(crate) type Field<T> = Option<Spanned<Typed<T>>>;

/// A list of strings, each of which may have the wrong type.
pub(crate) type StringList = Vec<Spanned<Typed<String>>>;

/// A value, or serde's complaint about it (`invalid type: integer `1`, expected a string`).
///
/// Catching the error here, per value, lets deserialization go on with the next key: the
/// TOML deserializer hands each value over whole, so a failed value leaves nothing half-read.
#[derive(Debug)]
pub(crate) enum Typed<T> {
    Ok(T),
    Wrong(String),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Typed<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match T::deserialize(deserializer) {
            Ok(value) => Typed::Ok(value),
            Err(e) => Typed::Wrong(e.to_string().trim().to_string()),
        })
    }
}

/// A table with free-form keys, in the order they were written, each key with its span.
#[derive(Debug)]
pub(crate) struct RawEntries<V>(pub Vec<(Spanned<String>, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for RawEntries<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
            type Value = RawEntries<V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(RawEntries(entries))
            }
        }

        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

/// Any value a `[config]` default may hold; checked against the declared type later.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawConfigValue {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Array(Vec<Spanned<RawConfigValue>>),
}

impl RawConfigValue {
    /// How the value reads in a message: "a string", "an integer", ...
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            RawConfigValue::String(_) => "a string",
            RawConfigValue::Integer(_) => "an integer",
            RawConfigValue::Float(_) => "a float",
            RawConfigValue::Boolean(_) => "a boolean",
            RawConfigValue::Array(_) => "an array",
        }
    }
}

impl<'de> Deserialize<'de> for RawConfigValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;

        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = RawConfigValue;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, integer, float, boolean or array")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawConfigValue::String(v.to_string()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(RawConfigValue::String(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(RawConfigValue::Integer(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v)
                    .map(RawConfigValue::Integer)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(RawConfigValue::Float(v))
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(RawConfigValue::Boolean(v))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(RawConfigValue::Array(items))
            }
        }

        deserializer.deserialize_any(ValueVisitor)
    }
}

/// A size or duration limit: a bare integer or a string with a unit (`"64MiB"`, `"2s"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawQuantity {
    Integer(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for RawQuantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct QuantityVisitor;

        impl<'de> Visitor<'de> for QuantityVisitor {
            type Value = RawQuantity;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size or a duration, like `\"64MiB\"` or `\"2s\"`")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawQuantity::Text(v.to_string()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(RawQuantity::Integer(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v)
                    .map(RawQuantity::Integer)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
        }

        deserializer.deserialize_any(QuantityVisitor)
    }
}

/// The keys a serde struct accepts, as written in the file (after renaming).
///
/// Asks the struct's `Deserialize` impl, which hands its field list to the deserializer, so
/// the loader's list of valid keys can never drift from the structs above.
pub(crate) fn fields_of<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    match T::deserialize(FieldProbe) {
        Err(FieldList(fields)) => fields,
        Ok(_) => &[],
    }
}

/// A deserializer that only records the field list of the struct asked of it.
struct FieldProbe;

#[derive(Debug)]
struct FieldList(&'static [&'static str]);

impl fmt::Display for FieldList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field probe")
    }
}

impl std::error::Error for FieldList {}

impl de::Error for FieldList {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        FieldList(&[])
    }
}

impl<'de> Deserializer<'de> for FieldProbe {
    type Error = FieldList;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, FieldList> {
        Err(FieldList(&[]))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, FieldList> {
        Err(FieldList(fields))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_lists_come_from_the_structs() {
        assert_eq!(fields_of::<RawLimits>(), ["memory", "timeout", "output"]);
        assert_eq!(
            fields_of::<RawConfigField>(),
            ["type", "default", "description"]
        );
        assert!(fields_of::<RawCapabilities>().contains(&"fs-read"));
        assert!(fields_of::<RawManifest>().contains(&"manifest-version"));
    }
}
