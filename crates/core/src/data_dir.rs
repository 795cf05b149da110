//! The data directory: the embedded SQLite database and the master key live here.
//!
//! The master key (32 random bytes, hex, file mode 0600) is created on first start and will
//! encrypt secrets at rest (signing keys, client secrets). Nodes that share one PostgreSQL
//! database must be given the same key file.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("cannot create the data directory {path}: {source}")]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot read or write the master key {path}: {source}")]
    Key { path: PathBuf, source: io::Error },
    #[error("the master key {path} is malformed: expected 64 hex digits")]
    KeyMalformed { path: PathBuf },
    #[error("the system random source failed: {0}")]
    Random(String),
}

/// A secret that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey([u8; 32]);

impl MasterKey {
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        MasterKey(bytes)
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

/// A prepared data directory.
#[derive(Debug)]
pub struct DataDir {
    pub path: PathBuf,
    pub master_key: MasterKey,
    /// `true` when this call created the master key (first start).
    pub created: bool,
}

impl DataDir {
    pub const KEY_FILE: &'static str = "master.key";

    /// Creates the directory and the master key if missing; loads the key otherwise.
    pub fn prepare(path: &Path) -> Result<DataDir, DataDirError> {
        create_private_dir(path).map_err(|source| DataDirError::Create {
            path: path.to_owned(),
            source,
        })?;
        let key_path = path.join(Self::KEY_FILE);
        let key_err = |source| DataDirError::Key {
            path: key_path.clone(),
            source,
        };
        match fs::read_to_string(&key_path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| DataDirError::KeyMalformed {
                        path: key_path.clone(),
                    })?;
                Ok(DataDir {
                    path: path.to_owned(),
                    master_key: MasterKey(bytes),
                    created: false,
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                getrandom::getrandom(&mut bytes)
                    .map_err(|e| DataDirError::Random(e.to_string()))?;
                write_private_file(&key_path, format!("{}\n", hex::encode(bytes)).as_bytes())
                    .map_err(key_err)?;
                Ok(DataDir {
                    path: path.to_owned(),
                    master_key: MasterKey(bytes),
                    created: true,
                })
            }
            Err(e) => Err(key_err(e)),
        }
    }
}

fn create_private_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(path)
    }
}

/// Creates `path` with mode 0600 from the start (never world-readable, not even briefly).
fn write_private_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_start_creates_a_private_key_then_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let first = DataDir::prepare(&path).unwrap();
        assert!(first.created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path.join(DataDir::KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let second = DataDir::prepare(&path).unwrap();
        assert!(!second.created);
        assert_eq!(first.master_key, second.master_key);
        assert_eq!(format!("{:?}", second.master_key), "MasterKey(***)");
    }

    #[test]
    fn malformed_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(DataDir::KEY_FILE), "nothex").unwrap();
        assert!(matches!(
            DataDir::prepare(dir.path()),
            Err(DataDirError::KeyMalformed { .. })
        ));
    }
}
