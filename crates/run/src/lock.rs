//! One run at a time per output: an exclusive lock on the files a run writes.
//!
//! Two runs into one `--out` (a requeued job while the first still runs, a
//! typo) interleaved their provenance lines and renamed each other's files.
//! A run now holds an `flock` on its partial provenance file, and on its
//! reject file, for as long as it writes them; a second run finds the lock
//! held and stops before it reads or writes anything. The lock is the
//! kernel's: it goes with the process, so a run killed with `SIGKILL`
//! leaves no lock to clear by hand. The parts of a `--shard` split write
//! provenance files of their own, so they still share one `--out`.
//!
//! The file is opened without truncating it, locked, and only then emptied,
//! so a run that loses the race never touches the winner's file; and since
//! the partial file is renamed when its run ends, the lock is checked to
//! still be on the file under the name before it counts.

use std::fs;
use std::io;
use std::path::Path;

use crate::display::escaped;
use crate::error::{Error, Result};

/// Opens `path` for writing, creating it, and locks it exclusively; its
/// content is left as it was for the caller to read and then truncate.
/// `role` says what the file is, for the message when another run holds it.
pub(crate) fn open_locked(path: &Path, role: &str) -> Result<fs::File> {
    loop {
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(Error::usage(format!(
                    "{} ({role}) is locked by another dechaff run writing there; \
                     wait for it to end or choose another output",
                    escaped(path)
                )))
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io(path, e)),
        }
        if same_file(&file, path).map_err(|e| Error::io(path, e))? {
            return Ok(file);
        }
        // The run that held the lock renamed the file away as it ended:
        // the name is free again, under a new file.
    }
}

/// Whether the open `file` is still the one that `path` names.
fn same_file(file: &fs::File, path: &Path) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let (open, named) = match (file.metadata(), fs::symlink_metadata(path)) {
            (Ok(open), Ok(named)) => (open, named),
            (_, Err(e)) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        Ok(open.dev() == named.dev() && open.ino() == named.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        Ok(true)
    }
}

/// Empties a file opened by [`open_locked`], once what it held has been read.
pub(crate) fn truncate(file: &mut fs::File, path: &Path) -> Result<()> {
    use std::io::Seek;
    file.set_len(0)
        .and_then(|()| file.rewind())
        .map_err(|e| Error::io(path, e))
}
