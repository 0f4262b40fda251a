//! Making a plugin's component: the steps every language takes, in one place; what differs
//! between languages comes from its [`Driver`].
//!
//! 1. the build directory locked, when the driver keeps its own ([`Driver::sources`]);
//! 2. the build planned ([`Driver::plan`]): the plugin checked, what it depends on gathered;
//! 3. its sources hashed against the stamp of the last build: a component the stamp vouches
//!    for is reused;
//! 4. the toolchain made ready ([`Build::toolchain`]), installed when it is missing;
//! 5. the component made ([`Build::compile`]), given its manifest and inspected;
//! 6. the stamp written.

use std::time::Instant;

use anyhow::{Context as _, Result};
use flowtrace_plugins::manifest::Manifest;

use super::sources;
use super::{artefact_path, own_target_dir, prepare, Prepared, OUTPUT_DIR};
use crate::lang::{self, Driver};
use crate::term::Term;
use flowtrace_plugins::inspect::BuildProfile;

/// What a language driver builds from.
pub(crate) struct Source<'a> {
    /// The manifest, parsed.
    pub manifest: &'a Manifest,
    /// Its text, embedded into the component.
    pub text: &'a str,
    /// The plugin's directory, absolute.
    pub root: &'a std::path::Path,
    /// `--release`
    pub release: bool,
    /// Type-check TypeScript before bundling.
    pub typecheck: bool,
    /// A build for the test harness, which a driver with a dev engine
    /// ([`Driver::has_dev_engine`]) makes as its engine and the plugin's code.
    pub dev_engine: bool,
    /// When the build started, for the debug log.
    pub started: Instant,
}

impl Source<'_> {
    /// The plugin id.
    pub fn id(&self) -> &str {
        self.manifest.plugin.id.as_str()
    }

    /// The build directory of a driver that keeps its own:
    /// `<root>/target/flowtrace/<language>`.
    pub fn work_dir(&self) -> std::path::PathBuf {
        own_target_dir(self.root)
            .join(OUTPUT_DIR)
            .join(self.manifest.build.language.as_str())
    }
}

/// What a [`Build`] made.
pub(crate) enum Made {
    /// The component, as a componentizer wrote it into the build directory.
    Written(tempfile::NamedTempFile),
    /// The component, already read, given its manifest and inspected (cargo's, as soon as
    /// cargo reported it).
    Prepared {
        prepared: Box<Prepared>,
        /// Whether the toolchain found nothing to rebuild.
        fresh: bool,
        /// `dev` or `release`, as the toolchain reports it.
        profile: &'static str,
    },
    /// A dev engine ([`Driver::has_dev_engine`]), as its driver keeps it, and the plugin's
    /// code to hand to each of its instances.
    Engine {
        /// The engine component.
        engine: std::path::PathBuf,
        /// The plugin's code.
        preload: flowtrace_plugins::Preload,
    },
}

/// The component, manifest embedded, inspected: what [`run`] hands back.
pub(crate) struct Compiled {
    pub prepared: Prepared,
    /// Whether nothing had to be rebuilt.
    pub fresh: bool,
    /// `dev` or `release`, as the build reports it.
    pub profile: &'static str,
    /// The dev engine and the code its instances are given ([`Made::Engine`]).
    pub dev: Option<super::DevEngine>,
    /// The lock on the driver's build directory, held until the component is in place:
    /// another build of the plugin then finds it fresh.
    pub lock: Option<std::fs::File>,
}

/// The profile of a component a driver's own build directory holds: the componentizers
/// have one, and it makes what a release needs (so it goes to `release/`).
const OWN_PROFILE: &str = "release";

/// Make the component of `source` with its language's driver.
pub(crate) fn run(term: &Term, source: &Source<'_>) -> Result<Compiled> {
    let driver: &dyn Driver = lang::driver(source.manifest.build.language);
    let stamped = driver.sources().map(|set| (set, source.work_dir()));
    // Two builds of one plugin at once (an editor's and a terminal's) take turns: they
    // write the same build directory.
    let lock = match &stamped {
        Some((_, work)) => Some(crate::toolchain::lock_dir(term, work)?),
        None => None,
    };
    let mut build = driver.plan(term, source)?;
    // A dev engine is checked and reused by its driver; the plugin's code is made anew.
    let dev = source.dev_engine && driver.has_dev_engine();

    // Where a component made in the build directory goes.
    let target_dir = own_target_dir(source.root);
    let output = artefact_path(
        &target_dir,
        if dev {
            BuildProfile::Dev
        } else {
            BuildProfile::Release
        },
        source.manifest,
    );
    let mut stamp = None;
    if let Some((set, work)) = stamped.filter(|_| !dev) {
        let inputs = sources::hash_sources(source.root, source.text, build.inputs(), set)?;
        tracing::debug!(elapsed = ?source.started.elapsed(), "hashed the sources");
        let path = work.join("stamp.json");
        let toolchain = driver.stamped_toolchain();
        if let Some(prepared) =
            sources::stamped_component(&path, &toolchain, &inputs, &output, &target_dir)
        {
            return Ok(Compiled {
                prepared,
                fresh: true,
                profile: OWN_PROFILE,
                dev: None,
                lock,
            });
        }
        stamp = Some((path, toolchain, inputs));
    }

    let toolchain = build.toolchain(term)?;
    term.status(
        "Compiling",
        format_args!(
            "plugin `{}` v{} ({toolchain})",
            source.id(),
            source.manifest.plugin.version
        ),
    );
    let (prepared, fresh, profile, dev) = match build.compile(term)? {
        Made::Prepared {
            prepared,
            fresh,
            profile,
        } => (*prepared, fresh, profile, None),
        Made::Engine { engine, preload } => {
            // The artefact is the engine with the plugin's manifest, as every build writes
            // it; the harness runs the engine as it is, the same bytes for every plugin of
            // its kind and capabilities, so its compiled code is shared too.
            let bytes = std::fs::read(&engine)
                .with_context(|| format!("failed to read `{}`", engine.display()))?;
            let prepared = prepare(&engine, source.text, output, target_dir, BuildProfile::Dev)?;
            let dev = super::DevEngine {
                bytes,
                cache: engine.with_extension("cache"),
                preload,
            };
            (prepared, false, "dev", Some(dev))
        }
        Made::Written(built) => {
            let prepared = prepare(
                built.path(),
                source.text,
                output,
                target_dir,
                BuildProfile::Release,
            )?;
            if let Some((path, toolchain, inputs)) = stamp {
                let component = prepared.inspection.sha256.clone();
                sources::write_stamp(&path, toolchain, inputs, component)?;
            }
            (prepared, false, OWN_PROFILE, None)
        }
    };
    Ok(Compiled {
        prepared,
        fresh,
        profile,
        dev,
        lock,
    })
}
