//! Where componentize-js runs: a fixed directory, the same for every user and checkout
//! (`/tmp/flowtrace-componentize-js` on Unix). componentize-js bakes the directory it runs
//! in and its scratch directory into the component; run from here (by `componentize.mjs`,
//! which also fixes the scratch directory's name), the component names no path of the
//! author's machine, and the same plugin gives the same component anywhere. One build at a
//! time uses it, under its lock; the bundle copied there is removed after the run.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};

use crate::error::ResultExt;
use crate::term::Term;
use crate::toolchain::lock_dir;

/// The staging directory's name, in the temp directory.
const NAME: &str = "flowtrace-componentize-js";

/// The staging directory, locked by this build.
pub(super) struct Staging {
    /// The directory componentize-js runs in, with the bundle (`plugin.js`).
    pub build: PathBuf,
    /// componentize-js's TMPDIR.
    pub tmp: PathBuf,
    /// The script that runs componentize-js.
    pub script: PathBuf,
    lock: std::fs::File,
}

impl Staging {
    /// Lock the staging directory (waiting for another build using it) and empty it.
    pub fn lock(term: &Term) -> Result<Self> {
        let dir = if cfg!(unix) {
            Path::new("/tmp").join(NAME)
        } else {
            std::env::temp_dir().join(NAME)
        };
        create_private(&dir)?;
        let lock = lock_dir(term, &dir)?;
        let staging = Staging {
            build: dir.join("build"),
            tmp: dir.join("tmp"),
            script: dir.join("componentize.mjs"),
            lock,
        };
        for sub in [&staging.build, &staging.tmp] {
            if sub.exists() {
                std::fs::remove_dir_all(sub)
                    .with_context(|| format!("failed to empty `{}`", sub.display()))?;
            }
            std::fs::create_dir(sub)
                .with_context(|| format!("failed to create `{}`", sub.display()))?;
        }
        Ok(staging)
    }
}

impl Staging {
    /// `node` running the componentize script with componentize-js's `package`, in the
    /// staging directory with its own TMPDIR; the caller adds the rest of the arguments.
    pub fn componentize_command(&self, package: &Path) -> std::process::Command {
        let mut command = std::process::Command::new("node");
        command
            .current_dir(&self.build)
            .env("TMPDIR", &self.tmp)
            .env("TMP", &self.tmp)
            .env("TEMP", &self.tmp)
            .arg(&self.script)
            .arg(package);
        command
    }

    /// Let `command`'s process inherit the lock: were this process killed while
    /// componentize-js runs, the directory stays locked until componentize-js exits too.
    pub fn hand_lock_to(&self, command: &mut std::process::Command) {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            use std::os::unix::process::CommandExt;
            let fd = self.lock.as_raw_fd();
            // SAFETY: between fork and exec the closure calls only `fcntl`, which is
            // async-signal-safe, on a descriptor this process keeps open.
            unsafe {
                command.pre_exec(move || {
                    let flags = libc::fcntl(fd, libc::F_GETFD);
                    if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        #[cfg(not(unix))]
        let _ = command;
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // The plugin's code does not stay in the shared temp directory.
        let _ = std::fs::remove_dir_all(&self.build);
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

/// Create `dir` readable by this user only, or check that the one there is a directory
/// of this user that no other user can write (it could swap the bundle otherwise).
fn create_private(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("failed to create `{}`", dir.display())),
    }
    let meta = std::fs::symlink_metadata(dir)
        .with_context(|| format!("failed to read `{}`", dir.display()))?;
    let problem = if !meta.is_dir() {
        Some("it is not a directory".to_string())
    } else {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            // SAFETY: `geteuid` has no preconditions and cannot fail.
            let me = unsafe { libc::geteuid() };
            if meta.uid() != me {
                Some(format!("it belongs to user {}, not {me}", meta.uid()))
            } else if meta.mode() & 0o022 != 0 {
                Some(format!(
                    "its mode {:o} lets other users write to it",
                    meta.mode() & 0o777
                ))
            } else {
                None
            }
        }
        #[cfg(not(unix))]
        None
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(anyhow!(
            "cannot build TypeScript plugins in `{}`: {problem}",
            dir.display()
        ))
        .help(format!(
            "componentize-js runs there so that components name no path of this machine; \
             remove it (`rm -rf {}`) if it is yours, or ask who made it",
            dir.display()
        )),
    }
}
