//! The local plugin registry under `$FLOWTRACE_HOME` (default `~/.flowtrace`): install,
//! list, enable, disable, uninstall, with dependency resolution and capability grants.
//!
//! - [`Store`] names every path in the registry, and documents the layout.
//! - `index.json` records, per plugin, its installed versions, the active one, where each
//!   came from, the sha256 of each component, whether it is enabled, and the capabilities
//!   the user granted. Every write is atomic.
//! - Writers take a cross-process file lock; a waiting process is told who holds it
//!   ([`Registry::on_lock_wait`]) and gives up after a timeout naming the holder.
//! - An install stages in `tmp/` and renames into place; a crash at any step leaves the old
//!   state or the new one, and the next [`Registry::open`] cleans up after it.
//! - [`Registry::read_component`] checks the sha256 recorded at install before returning a
//!   component to load; a mismatch or a missing hash is an error.
//! - Dependencies are solved with `pubgrub` over the installed versions.
//! - Each index write keeps the index it replaces as `index.json.bak`, and each installed
//!   version keeps its own record (`install.json`): [`Registry::repair_index`] rebuilds a
//!   corrupt index from the plugin directories, verifying every file against those records.
//!
//! ```no_run
//! use flowtrace_plugins::registry::{InstallRequest, Registry, Source};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let registry = Registry::open_default()?;
//! let component = std::fs::read("target/flowtrace/release/sample-evaluator-0.1.0.wasm")?;
//! let outcome = registry.install(InstallRequest::new(
//!     component,
//!     Source::File { path: "target/flowtrace/release/sample-evaluator-0.1.0.wasm".into() },
//! ))?;
//! println!("installed {} {}", outcome.id, outcome.version);
//! for plugin in registry.list()? {
//!     println!("{} {} enabled={}", plugin.id, plugin.version, plugin.enabled);
//! }
//! # Ok(())
//! # }
//! ```

pub mod archive;
mod error;
pub mod git;
mod grants;
mod index;
mod install;
mod lifecycle;
mod load;
mod lock;
#[cfg(feature = "oci")]
pub mod oci;
mod recover;
mod repair;
mod report;
mod resolve;
mod settings;
mod store;
mod wiring;

use crate::cache::CacheKey;
use crate::HostCaps;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use error::{BoxError, RegistryError};
pub use grants::{items as capability_items, CapabilityDiff, CapabilityItem};
pub use index::{Source, INDEX_FORMAT_VERSION};
pub use install::{InstallRequest, InstallStep, Precompile};
pub use lifecycle::InstalledComponent;
pub use load::{LoadEnabledError, LoadedPlugin};
pub use lock::{LockHolder, LockWait, LockWaitHook};
pub use recover::Recovered;
pub use report::{
    BrokenPlugin, DependencyState, DisableOutcome, EnableOutcome, InstallAction, InstallOutcome,
    PluginDetails, PluginSummary, RepairOutcome, RepairedPlugin, UninstallOutcome, Unverified,
    VersionDetails, Warning,
};
pub use resolve::{Requirement, ResolveError};
pub use settings::{ConfigureOutcome, InvalidSetting, PluginSettings, Setting, SettingEdit};
pub use store::{Store, TmpDir};
pub use wiring::EmbedderChoice;

/// The environment variable that moves the registry.
pub const HOME_ENV: &str = "FLOWTRACE_HOME";

/// How long a writer waits for the registry lock by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(300);

type StepHook = dyn Fn(InstallStep) + Send + Sync;
type PrecompileHook = dyn Fn(&Precompile<'_>) -> Result<(), BoxError> + Send + Sync;

/// An opened registry. Cheap to keep around; every operation reads the index afresh, so
/// several processes (and several `Registry` values) can share one home.
#[derive(Clone)]
pub struct Registry {
    store: Store,
    lock_timeout: Duration,
    on_lock_wait: Option<Arc<LockWaitHook>>,
    on_step: Option<Arc<StepHook>>,
    precompile: Option<Arc<PrecompileHook>>,
    recovered: Vec<Recovered>,
    cache_key: CacheKey,
    caps: HostCaps,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("home", &self.store.home())
            .field("lock_timeout", &self.lock_timeout)
            .finish_non_exhaustive()
    }
}

/// `$FLOWTRACE_HOME` if set (and not empty), else `~/.flowtrace`.
pub fn default_home() -> Result<PathBuf, RegistryError> {
    match std::env::var_os(HOME_ENV) {
        Some(home) if !home.is_empty() => Ok(PathBuf::from(home)),
        _ => std::env::home_dir()
            .filter(|h| !h.as_os_str().is_empty())
            .map(|h| h.join(".flowtrace"))
            .ok_or(RegistryError::NoHome),
    }
}

impl Registry {
    /// Open (creating it if needed) the registry at `home`, and clean up after any install
    /// a crash interrupted, unless another process holds the lock right now.
    pub fn open(home: &Path) -> Result<Registry, RegistryError> {
        let store = Store::new(home);
        store.create_dirs()?;
        let recovered = recover::recover(&store)?;
        let cache_key = CacheKey::load_or_create(&store.cache_key_path())
            .map_err(|source| RegistryError::CacheKey { source })?;
        Ok(Registry {
            store,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            on_lock_wait: None,
            on_step: None,
            precompile: None,
            recovered,
            cache_key,
            caps: HostCaps::default(),
        })
    }

    /// Open the registry at [`default_home`]: the only place the library reads the
    /// environment.
    pub fn open_default() -> Result<Registry, RegistryError> {
        Registry::open(&default_home()?)
    }

    /// The paths of this registry.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The key of this home that seals compiled code (`cache.key`): give it to every cache
    /// of this user's machine ([`CacheDir`](crate::cache::CacheDir)), so code compiled elsewhere is never loaded.
    pub fn cache_key(&self) -> &CacheKey {
        &self.cache_key
    }

    /// What [`open`](Registry::open) cleaned up after an interrupted operation.
    pub fn recovered(&self) -> &[Recovered] {
        &self.recovered
    }

    /// Wait at most this long for the lock before failing with
    /// [`RegistryError::LockTimeout`] (default [`DEFAULT_LOCK_TIMEOUT`]).
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Called once when an operation starts waiting for the lock, e.g. to print
    /// `Blocking waiting for file lock on ... (held by pid N)`.
    pub fn on_lock_wait(mut self, hook: impl Fn(&LockWait<'_>) + Send + Sync + 'static) -> Self {
        self.on_lock_wait = Some(Arc::new(hook));
        self
    }

    /// Called after each step of an install, in order (progress output; tests also use it
    /// to simulate a crash after a step).
    pub fn on_install_step(mut self, hook: impl Fn(InstallStep) + Send + Sync + 'static) -> Self {
        self.on_step = Some(Arc::new(hook));
        self
    }

    /// The caps of the host that will load the plugins (default [`HostCaps::default`]): an
    /// install whose `[limits]` ask for more is refused
    /// ([`RegistryError::LimitsAboveCaps`]), since every load of it would fail.
    pub fn with_caps(mut self, caps: HostCaps) -> Self {
        self.caps = caps;
        self
    }

    /// Compile each component at install, into its staged `precompiled/` directory, before
    /// the install is committed: a failure installs nothing.
    pub fn with_precompiler(
        mut self,
        hook: impl Fn(&Precompile<'_>) -> Result<(), BoxError> + Send + Sync + 'static,
    ) -> Self {
        self.precompile = Some(Arc::new(hook));
        self
    }

    /// A fresh scratch directory under `$FLOWTRACE_HOME/tmp/` (to clone or extract a source
    /// into), removed when dropped or, after a crash, by the next open.
    pub fn scratch_dir(&self, prefix: &str) -> Result<TmpDir, RegistryError> {
        self.store.new_tmp_dir(prefix)
    }

    fn lock(&self) -> Result<lock::LockGuard, RegistryError> {
        lock::acquire(&self.store, self.lock_timeout, self.on_lock_wait.as_deref())
    }

    fn step(&self, step: InstallStep) {
        if let Some(hook) = &self.on_step {
            hook(step);
        }
    }
}
