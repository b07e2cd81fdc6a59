//! Directories below `--out`, reached without following symbolic links.
//!
//! The output tree is the run's to write, but what already lies in it is
//! not: a link `out/sub -> /elsewhere` would have sent outputs (and the
//! removal of stale ones) to wherever it points. So `--out` itself is
//! opened as the user named it, links and all, and every directory below
//! it is opened relative to its parent with `O_NOFOLLOW`, created first
//! when a write needs it; files are created, renamed and removed relative
//! to the directory that holds them (`openat`, `renameat`, `unlinkat`), so
//! a link met anywhere below `--out` is an error for that file, never a
//! door out of the tree.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags, CWD};
use rustix::io::Errno;

/// An open directory below `--out` (or `--out` itself).
#[derive(Debug)]
pub struct OutputDir {
    fd: std::os::fd::OwnedFd,
    /// The directory's path, for messages.
    path: PathBuf,
}

/// Directories and files are created with these permissions, less the umask.
const DIRECTORY_MODE: u32 = 0o777;
const FILE_MODE: u32 = 0o666;

impl OutputDir {
    /// Opens the directory that holds `target`, and gives the target's
    /// name in it. `root` is opened as given; every directory between it
    /// and `target` is opened without following a link, and created first
    /// when `create` is set. A `target` that is not below `root` has its
    /// own parent as the root.
    pub fn holding(root: &Path, target: &Path, create: bool) -> io::Result<(OutputDir, OsString)> {
        let name = target
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "an output needs a file name"))?
            .to_os_string();
        let parent = target.parent().unwrap_or(Path::new(""));
        let (root, below) = match parent.strip_prefix(root) {
            Ok(below) => (root, below),
            Err(_) => (parent, Path::new("")),
        };
        let root = if root.as_os_str().is_empty() {
            Path::new(".")
        } else {
            root
        };
        if create {
            fs::create_dir_all(root)?;
        }
        let mut dir = OutputDir {
            fd: rustix::fs::openat(
                CWD,
                root,
                OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
                Mode::empty(),
            )?,
            path: root.to_path_buf(),
        };
        for component in below.components() {
            let Component::Normal(part) = component else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} leaves the output tree", crate::display::escaped(target)),
                ));
            };
            dir = dir.subdirectory(part, create)?;
        }
        Ok((dir, name))
    }

    /// The directory `name` in this one, never through a link.
    fn subdirectory(&self, name: &OsStr, create: bool) -> io::Result<OutputDir> {
        let path = self.path.join(name);
        if create {
            match rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(DIRECTORY_MODE)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(with_path(e.into(), &path)),
            }
        }
        let flags = OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC;
        match rustix::fs::openat(&self.fd, name, flags, Mode::empty()) {
            Ok(fd) => Ok(OutputDir { fd, path }),
            Err(Errno::LOOP | Errno::NOTDIR) if is_link(&self.fd, name) => Err(link_below_out(&path)),
            Err(e) => Err(with_path(e.into(), &path)),
        }
    }

    /// Creates the new file `name` here for writing; an existing file or
    /// link of that name is an error, never opened.
    pub fn create_new(&self, name: &OsStr) -> io::Result<fs::File> {
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::from_raw_mode(FILE_MODE))?;
        Ok(fs::File::from(fd))
    }

    /// Opens the regular file `name` here for reading; a link is an error.
    pub fn open_file(&self, name: &OsStr) -> io::Result<fs::File> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match rustix::fs::openat(&self.fd, name, flags, Mode::empty()) {
            Ok(fd) => Ok(fs::File::from(fd)),
            Err(Errno::LOOP) => Err(link_below_out(&self.path.join(name))),
            Err(e) => Err(e.into()),
        }
    }

    /// Renames `from` to `to`, both here. A link named `to` is replaced, not followed.
    pub fn rename(&self, from: &OsStr, to: &OsStr) -> io::Result<()> {
        Ok(rustix::fs::renameat(&self.fd, from, &self.fd, to)?)
    }

    /// Removes the file (or link) `name` here; what a link points to is never touched.
    pub fn remove(&self, name: &OsStr) -> io::Result<()> {
        Ok(rustix::fs::unlinkat(&self.fd, name, AtFlags::empty())?)
    }

    /// The names of the entries here.
    pub fn names(&self) -> io::Result<Vec<OsString>> {
        use std::os::unix::ffi::OsStrExt;
        let mut names = Vec::new();
        for entry in rustix::fs::Dir::read_from(&self.fd)? {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                names.push(OsStr::from_bytes(name).to_os_string());
            }
        }
        Ok(names)
    }

    /// Makes the directory's entries (a rename, a new file) durable.
    pub fn sync(&self) -> io::Result<()> {
        Ok(rustix::fs::fsync(&self.fd)?)
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn is_link(dir: &std::os::fd::OwnedFd, name: &OsStr) -> bool {
    rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .is_ok_and(|stat| rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::Symlink)
}

fn link_below_out(path: &Path) -> io::Error {
    io::Error::other(format!(
        "{} is a symbolic link; dechaff never writes or removes through a link below --out",
        crate::display::escaped(path)
    ))
}

fn with_path(error: io::Error, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", crate::display::escaped(path)))
}
