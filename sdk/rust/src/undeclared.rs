//! Stand-ins for the capability modules when their feature is off, so that a call to an
//! undeclared capability fails to compile with an error that names the capability and the
//! manifest line to add, instead of "no `kv` in the root". Nothing here can be called.
//!
//! Each function has the signature of the real one plus a bound on `&'a ()`: a bound that
//! mentions a parameter is checked at each call rather than at the definition, and fails
//! there with the trait's `on_unimplemented` message.

#![allow(missing_docs)]

#[cfg(not(feature = "storage"))]
pub mod kv {
    use crate::PluginError;

    #[diagnostic::on_unimplemented(
        message = "`kv` needs the capability `storage`, which this plugin does not declare",
        label = "needs `storage = true` under `[capabilities]` in flowtrace.toml",
        note = "add `storage = true` under `[capabilities]` in flowtrace.toml; `cargo flowtrace build` then turns on the SDK feature `storage`"
    )]
    pub trait DeclareStorageCapability {}

    pub fn get<'a>(_key: &str) -> Option<Vec<u8>>
    where
        &'a (): DeclareStorageCapability,
    {
        unreachable!()
    }

    pub fn set<'a>(_key: &str, _value: impl AsRef<[u8]>) -> Result<(), PluginError>
    where
        &'a (): DeclareStorageCapability,
    {
        unreachable!()
    }

    pub fn delete<'a>(_key: &str)
    where
        &'a (): DeclareStorageCapability,
    {
        unreachable!()
    }

    pub fn keys<'a>(_prefix: &str) -> Vec<String>
    where
        &'a (): DeclareStorageCapability,
    {
        unreachable!()
    }
}

#[cfg(not(feature = "traces"))]
pub mod traces {
    pub use crate::query::Query;
    use crate::Trace;

    #[diagnostic::on_unimplemented(
        message = "`traces` needs the capability `traces`, which this plugin does not declare",
        label = "needs `traces = true` under `[capabilities]` in flowtrace.toml",
        note = "add `traces = true` under `[capabilities]` in flowtrace.toml; `cargo flowtrace build` then turns on the SDK feature `traces`"
    )]
    pub trait DeclareTracesCapability {}

    pub fn get<'a>(_id: &str) -> Option<Trace<'static>>
    where
        &'a (): DeclareTracesCapability,
    {
        unreachable!()
    }

    pub fn query<'a>(_query: &Query) -> Vec<String>
    where
        &'a (): DeclareTracesCapability,
    {
        unreachable!()
    }
}

#[cfg(not(feature = "embeddings"))]
pub mod embeddings {
    use crate::PluginError;

    #[diagnostic::on_unimplemented(
        message = "`embeddings` needs the capability `embeddings`, which this plugin does not declare",
        label = "needs `embeddings = true` under `[capabilities]` in flowtrace.toml",
        note = "add `embeddings = true` under `[capabilities]` in flowtrace.toml; `cargo flowtrace build` then turns on the SDK feature `embeddings`"
    )]
    pub trait DeclareEmbeddingsCapability {}

    pub fn dimension<'a>() -> Result<u32, PluginError>
    where
        &'a (): DeclareEmbeddingsCapability,
    {
        unreachable!()
    }

    pub fn embed<'a, S: AsRef<str>>(_texts: &[S]) -> Result<Vec<Vec<f32>>, PluginError>
    where
        &'a (): DeclareEmbeddingsCapability,
    {
        unreachable!()
    }

    pub fn embed_one<'a>(_text: &str) -> Result<Vec<f32>, PluginError>
    where
        &'a (): DeclareEmbeddingsCapability,
    {
        unreachable!()
    }
}
