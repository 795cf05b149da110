//! Where a package comes from: a directory or a `.zip` file (OneRoster 1.2 CSV binding §2:
//! the CSV files are exchanged as a zip with every file at its root). This module owns opening
//! them safely and nothing about their content.
//!
//! Zip files come from outside, so [`Source::open`] refuses archives that could hurt the
//! machine reading them: entry names that leave the extraction root (`../evil.csv`, absolute
//! paths), more than [`MAX_ZIP_ENTRIES`] entries, entries over [`MAX_ENTRY_BYTES`] or a total
//! over [`MAX_TOTAL_BYTES`] uncompressed, and entries that inflate more than
//! [`MAX_COMPRESSION_RATIO`] times (zip bombs). While reading, an entry that yields more bytes
//! than its header announced is cut off with an error too.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Component, Path, PathBuf};

/// At most this many entries in a zip (a package has at most 22 files).
pub const MAX_ZIP_ENTRIES: usize = 1_000;
/// At most this many bytes in one entry once inflated (8 GiB).
pub const MAX_ENTRY_BYTES: u64 = 8 << 30;
/// At most this many bytes in all entries once inflated (32 GiB).
pub const MAX_TOTAL_BYTES: u64 = 32 << 30;
/// Entries larger than 1 MiB may not inflate more than this many times their compressed size.
/// Real roster CSV compresses 3–20×; deflate bombs reach about 1000×.
pub const MAX_COMPRESSION_RATIO: u64 = 100;

/// I/O problems that stop reading a package before any row can be checked.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },
    #[error("{path}: not a OneRoster package (expected a directory or a .zip file)")]
    NotAPackage { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: not a readable zip file: {message}")]
    Zip { path: PathBuf, message: String },
    #[error("{path}: refused: zip entry `{entry}` {reason}")]
    UnsafeZip {
        path: PathBuf,
        entry: String,
        reason: String,
    },
    #[error("{path}: refused: the zip holds {count} entries, more than the {max} allowed")]
    TooManyEntries {
        path: PathBuf,
        count: usize,
        max: usize,
    },
    #[error("{path}: refused: {what} inflates to {size} bytes, more than the {max} allowed")]
    TooLarge {
        path: PathBuf,
        what: String,
        size: u64,
        max: u64,
    },
    #[error("{path}: refused: zip entry `{entry}` inflates {ratio} times its compressed size (more than {max}×): a zip bomb?")]
    ZipBomb {
        path: PathBuf,
        entry: String,
        ratio: u64,
        max: u64,
    },
}

/// A OneRoster CSV package on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Dir(PathBuf),
    Zip(PathBuf),
}

impl Source {
    /// A directory, or a zip file (checked against the limits above).
    pub fn open(path: &Path) -> Result<Source, ReadError> {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ReadError::NotFound {
                path: path.to_owned(),
            },
            _ => ReadError::Io {
                path: path.to_owned(),
                source: e,
            },
        })?;
        if meta.is_dir() {
            return Ok(Source::Dir(path.to_owned()));
        }
        if !meta.is_file() {
            return Err(ReadError::NotAPackage {
                path: path.to_owned(),
            });
        }
        let source = Source::Zip(path.to_owned());
        Package::open(&source)?;
        Ok(source)
    }

    pub fn path(&self) -> &Path {
        match self {
            Source::Dir(p) | Source::Zip(p) => p,
        }
    }
}

/// An opened package: lists its root files and streams one at a time.
pub(crate) enum Package {
    Dir(PathBuf),
    Zip {
        path: PathBuf,
        archive: zip::ZipArchive<BufReader<File>>,
    },
}

impl Package {
    pub fn open(source: &Source) -> Result<Package, ReadError> {
        match source {
            Source::Dir(p) => Ok(Package::Dir(p.clone())),
            Source::Zip(p) => {
                let file = File::open(p).map_err(|e| ReadError::Io {
                    path: p.clone(),
                    source: e,
                })?;
                let archive =
                    zip::ZipArchive::new(BufReader::new(file)).map_err(|e| ReadError::Zip {
                        path: p.clone(),
                        message: e.to_string(),
                    })?;
                let mut package = Package::Zip {
                    path: p.clone(),
                    archive,
                };
                package.check_zip()?;
                Ok(package)
            }
        }
    }

    fn check_zip(&mut self) -> Result<(), ReadError> {
        let Package::Zip { path, archive } = self else {
            return Ok(());
        };
        if archive.len() > MAX_ZIP_ENTRIES {
            return Err(ReadError::TooManyEntries {
                path: path.clone(),
                count: archive.len(),
                max: MAX_ZIP_ENTRIES,
            });
        }
        let mut total: u64 = 0;
        for i in 0..archive.len() {
            let entry = archive.by_index_raw(i).map_err(|e| ReadError::Zip {
                path: path.clone(),
                message: e.to_string(),
            })?;
            let name = entry.name().to_owned();
            if !is_safe_entry_name(&name) || entry.enclosed_name().is_none() {
                return Err(ReadError::UnsafeZip {
                    path: path.clone(),
                    entry: name,
                    reason: "points outside the package (absolute path or `..`)".into(),
                });
            }
            let size = entry.size();
            if size > MAX_ENTRY_BYTES {
                return Err(ReadError::TooLarge {
                    path: path.clone(),
                    what: format!("zip entry `{name}`"),
                    size,
                    max: MAX_ENTRY_BYTES,
                });
            }
            let ratio = size / entry.compressed_size().max(1);
            if size > (1 << 20) && ratio > MAX_COMPRESSION_RATIO {
                return Err(ReadError::ZipBomb {
                    path: path.clone(),
                    entry: name,
                    ratio,
                    max: MAX_COMPRESSION_RATIO,
                });
            }
            total = total.saturating_add(size);
        }
        if total > MAX_TOTAL_BYTES {
            return Err(ReadError::TooLarge {
                path: path.clone(),
                what: "the zip".into(),
                size: total,
                max: MAX_TOTAL_BYTES,
            });
        }
        Ok(())
    }

    /// Names of the regular files at the package root, sorted.
    pub fn root_files(&mut self) -> Result<Vec<String>, ReadError> {
        let mut names = Vec::new();
        match self {
            Package::Dir(dir) => {
                let entries = std::fs::read_dir(&*dir).map_err(|e| io_err(dir, e))?;
                for entry in entries {
                    let entry = entry.map_err(|e| io_err(dir, e))?;
                    let is_file = entry.file_type().map_err(|e| io_err(dir, e))?.is_file();
                    if is_file {
                        names.push(entry.file_name().to_string_lossy().into_owned());
                    }
                }
            }
            Package::Zip { archive, .. } => {
                names.extend(
                    archive
                        .file_names()
                        .filter(|n| !n.contains('/') && !n.ends_with('/'))
                        .map(str::to_owned),
                );
            }
        }
        names.sort();
        Ok(names)
    }

    /// Every file name in the package, also those in sub-directories of a zip (for hints).
    pub fn all_zip_names(&self) -> Vec<String> {
        match self {
            Package::Dir(_) => Vec::new(),
            Package::Zip { archive, .. } => archive.file_names().map(str::to_owned).collect(),
        }
    }

    /// Runs `f` on a stream of the root file `name`; `Ok(None)` when there is no such file.
    pub fn with_file<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut dyn Read) -> T,
    ) -> Result<Option<T>, ReadError> {
        match self {
            Package::Dir(dir) => {
                let path = dir.join(name);
                match File::open(&path) {
                    Ok(file) => {
                        let mut reader = BufReader::with_capacity(1 << 20, file);
                        Ok(Some(f(&mut reader)))
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(io_err(&path, e)),
                }
            }
            Package::Zip { path, archive } => {
                if archive.index_for_name(name).is_none() {
                    return Ok(None);
                }
                let entry = archive.by_name(name).map_err(|e| ReadError::Zip {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                let declared = entry.size();
                let mut limited = Limited {
                    inner: entry,
                    left: declared,
                };
                Ok(Some(f(&mut limited)))
            }
        }
    }
}

fn io_err(path: &Path, source: io::Error) -> ReadError {
    ReadError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A zip entry name is safe when it stays below the extraction root.
fn is_safe_entry_name(name: &str) -> bool {
    if name.is_empty() || name.starts_with('/') || name.starts_with('\\') || name.contains('\\') {
        return false;
    }
    if name.len() > 1 && name.as_bytes()[1] == b':' {
        return false; // `C:...`
    }
    Path::new(name)
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Refuses to yield more bytes than the entry header announced (headers can lie).
struct Limited<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "zip entry inflates to more bytes than its header says",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_that_leave_the_root_are_unsafe() {
        for bad in [
            "../evil.csv",
            "/etc/passwd",
            "a/../../b.csv",
            "..\\evil.csv",
            "C:x.csv",
        ] {
            assert!(!is_safe_entry_name(bad), "{bad}");
        }
        for good in ["users.csv", "dir/users.csv", "./users.csv"] {
            assert!(is_safe_entry_name(good), "{good}");
        }
    }

    #[test]
    fn a_missing_path_is_named_in_the_error() {
        let err = Source::open(Path::new("/no/such/package.zip")).unwrap_err();
        assert!(err.to_string().contains("/no/such/package.zip"), "{err}");
    }
}
