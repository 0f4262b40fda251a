//! [`Query`], for `traces::query` (capability `traces`). Always compiled, so that code
//! building a query without the capability fails at the call, with the capability's name.

/// Which traces `traces::query` returns.
///
/// ```
/// use flowtrace_plugin_sdk::traces::Query;
///
/// let q = Query::new().name_contains("checkout").since_ns(1_700_000_000 * 1_000_000_000).limit(20);
/// assert_eq!(q.limit, 20);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Only traces whose root span name contains this text.
    pub name_contains: Option<String>,
    /// Only traces that started at or after this time (ns since the Unix epoch).
    pub since_ns: Option<u64>,
    /// Only traces that started before this time (ns since the Unix epoch).
    pub until_ns: Option<u64>,
    /// At most this many ids (the host caps it too). Default 100.
    pub limit: u32,
}

impl Default for Query {
    fn default() -> Self {
        Self {
            name_contains: None,
            since_ns: None,
            until_ns: None,
            limit: 100,
        }
    }
}

impl Query {
    /// Every trace, newest first, at most 100.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::traces::Query;
    /// assert_eq!(Query::new().limit, 100);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Only traces whose root span name contains `text`.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::traces::Query;
    /// let q = Query::new().name_contains("agent run");
    /// ```
    pub fn name_contains(mut self, text: impl Into<String>) -> Self {
        self.name_contains = Some(text.into());
        self
    }

    /// Only traces that started at or after `ns` (since the Unix epoch).
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::traces::Query;
    /// let q = Query::new().since_ns(1_700_000_000_000_000_000);
    /// ```
    pub fn since_ns(mut self, ns: u64) -> Self {
        self.since_ns = Some(ns);
        self
    }

    /// Only traces that started before `ns` (since the Unix epoch).
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::traces::Query;
    /// let q = Query::new().until_ns(1_800_000_000_000_000_000);
    /// ```
    pub fn until_ns(mut self, ns: u64) -> Self {
        self.until_ns = Some(ns);
        self
    }

    /// At most `limit` ids.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::traces::Query;
    /// let q = Query::new().limit(10);
    /// ```
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }
}
