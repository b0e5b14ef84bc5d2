//! The data directory (`--storage.tsdb.path`) and its lock file, which keeps a second server
//! off the same directory.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("cannot create data directory {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open lock file {path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("data directory {path} is in use by another process (lock file {lock} is held); stop it or choose another --storage.tsdb.path")]
    Locked { path: PathBuf, lock: PathBuf },
}

/// The locked data directory; the lock is released when this is dropped (or the process ends).
pub struct DataDir {
    pub path: PathBuf,
    _lock: File,
}

impl DataDir {
    pub fn open(path: &Path) -> Result<DataDir, DataDirError> {
        std::fs::create_dir_all(path).map_err(|source| DataDirError::Create {
            path: path.to_path_buf(),
            source,
        })?;
        let lock_path = path.join("lock");
        let mut lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| DataDirError::Open {
                path: lock_path.clone(),
                source,
            })?;
        if lock.try_lock().is_err() {
            return Err(DataDirError::Locked {
                path: path.to_path_buf(),
                lock: lock_path,
            });
        }
        let _ = lock.set_len(0);
        let _ = writeln!(lock, "{}", std::process::id());
        Ok(DataDir {
            path: path.to_path_buf(),
            _lock: lock,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_open_of_a_locked_directory_fails_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDir::open(&dir.path().join("data")).unwrap();
        let err = DataDir::open(&first.path)
            .err()
            .expect("second open must fail");
        assert!(
            err.to_string().contains("in use by another process"),
            "{err}"
        );
        drop(first);
        assert!(
            DataDir::open(&dir.path().join("data")).is_ok(),
            "the lock goes with its holder"
        );
    }
}
