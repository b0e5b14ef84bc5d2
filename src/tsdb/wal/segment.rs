//! Segment files and checkpoint directories: names, the segment header, listing.

use super::WalError;
use std::io;
use std::path::{Path, PathBuf};

/// First bytes of every segment: a name for the format and its version (1), so a reader
/// recognises a foreign or future file instead of decoding it as records.
pub(crate) const SEGMENT_MAGIC: [u8; 8] = *b"PYRWAL\x00\x01";

/// Prefix of checkpoint directories: `checkpoint.00000042` holds everything still needed
/// from segments 0 to 42.
const CHECKPOINT_PREFIX: &str = "checkpoint.";
const TMP_SUFFIX: &str = ".tmp";

/// Segment file name: eight decimal digits, so names sort like numbers.
pub(crate) fn segment_path(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("{n:08}"))
}

pub(crate) fn checkpoint_path(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("{CHECKPOINT_PREFIX}{n:08}"))
}

pub(crate) fn checkpoint_tmp_path(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("{CHECKPOINT_PREFIX}{n:08}{TMP_SUFFIX}"))
}

/// What a WAL directory holds: segment numbers and finished checkpoint numbers (both
/// sorted), and unfinished checkpoint directories left by a crash.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub(crate) segments: Vec<u32>,
    pub(crate) checkpoints: Vec<u32>,
    pub(crate) tmp: Vec<PathBuf>,
}

/// Lists `dir`; a directory that does not exist is empty. Files with other names are
/// ignored, so the log can share its directory with the rest of the data.
pub(crate) fn list(dir: &Path) -> Result<Listing, WalError> {
    let mut out = Listing::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(WalError::io(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(WalError::io(dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(rest) = name.strip_prefix(CHECKPOINT_PREFIX) {
            if rest.ends_with(TMP_SUFFIX) {
                out.tmp.push(entry.path());
            } else if let Some(n) = parse_number(rest) {
                out.checkpoints.push(n);
            }
        } else if let Some(n) = parse_number(name) {
            out.segments.push(n);
        }
    }
    out.segments.sort_unstable();
    out.checkpoints.sort_unstable();
    Ok(out)
}

fn parse_number(s: &str) -> Option<u32> {
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// The first and last segment numbers in `dir`, or `None` when it has none. The head uses
/// it to decide how many segments to fold into a checkpoint.
pub fn segment_range(dir: &Path) -> Result<Option<(u32, u32)>, WalError> {
    let l = list(dir)?;
    Ok(l.segments.first().copied().zip(l.segments.last().copied()))
}

/// Makes renames and new files in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), WalError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(WalError::io(dir))
}
