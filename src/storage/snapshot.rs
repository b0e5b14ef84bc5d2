//! Head snapshot on clean shutdown, so a restart loads compressed chunks instead of
//! re-appending every sample of the WAL (after Prometheus's `memory-snapshot-on-shutdown`).
//!
//! The WAL stays the source of truth: the snapshot records where the WAL ended when it was
//! taken (last segment and its length), and it is used only if the WAL still ends exactly
//! there — i.e. nothing was written after it. Otherwise it is stale and the WAL is replayed
//! as usual. It is deleted once loaded, so it never outlives the state it describes.
//!
//! Layout (integers little-endian, `uvarint` as in the WAL):
//! magic `PYRSNP\0\x01` (8) │ wal segment u32 │ wal segment length u64 │ series… │
//! series count u64 │ crc32 of everything between magic and count u32 │ `PYRS`,
//! where a series is: ref, label count, (name, value) pairs (uvarint length + bytes), newest
//! sample present (1 byte) [zigzag t, value bits u64], chunk count, and per chunk: zigzag
//! min time, max − min time, length, bytes.

use super::head::Head;
use crate::model::{Labels, LabelsBuilder};
use crate::tsdb::chunk::SealedChunk;
use crate::tsdb::varint::{put_bytes, put_uvarint};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

const MAGIC: [u8; 8] = *b"PYRSNP\x00\x01";
const TAIL: [u8; 4] = *b"PYRS";

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("head snapshot i/o error on {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("head snapshot {path} is unusable: {why}")]
    Corrupt {
        path: std::path::PathBuf,
        why: String,
    },
}

/// Where the WAL ended: its last segment and that segment's length in bytes.
pub(crate) type WalEnd = (u32, u64);

/// Writes every series of `head` with its chunks to `path` (through a temporary file).
pub(crate) fn write(path: &Path, head: &Head, wal_end: WalEnd) -> Result<usize, SnapshotError> {
    let tmp = path.with_extension("tmp");
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| SnapshotError::Io { path: p, source }
    };
    let mut w = BufWriter::with_capacity(1 << 20, File::create(&tmp).map_err(io(&tmp))?);
    let mut crc = crc32fast::Hasher::new();
    let mut buf = Vec::with_capacity(4096);
    w.write_all(&MAGIC).map_err(io(&tmp))?;
    buf.extend_from_slice(&wal_end.0.to_le_bytes());
    buf.extend_from_slice(&wal_end.1.to_le_bytes());
    let all = head.all_series();
    for (r, s) in &all {
        let (chunks, last) = s.snapshot();
        put_uvarint(&mut buf, *r);
        let labels = head.labels_of(s);
        put_uvarint(&mut buf, labels.len() as u64);
        for l in &labels {
            put_bytes(&mut buf, l.name.as_bytes());
            put_bytes(&mut buf, l.value.as_bytes());
        }
        match last {
            Some((t, v)) => {
                buf.push(1);
                put_uvarint(&mut buf, ((t << 1) ^ (t >> 63)) as u64);
                buf.extend_from_slice(&v.to_le_bytes());
            }
            None => buf.push(0),
        }
        put_uvarint(&mut buf, chunks.len() as u64);
        for c in &chunks {
            let (min, max) = c.time_range().unwrap_or((0, 0));
            put_uvarint(&mut buf, ((min << 1) ^ (min >> 63)) as u64);
            put_uvarint(&mut buf, max.wrapping_sub(min) as u64);
            put_bytes(&mut buf, c.bytes());
        }
        if buf.len() >= 1 << 16 {
            crc.update(&buf);
            w.write_all(&buf).map_err(io(&tmp))?;
            buf.clear();
        }
    }
    crc.update(&buf);
    buf.extend_from_slice(&(all.len() as u64).to_le_bytes());
    buf.extend_from_slice(&crc.finalize().to_le_bytes());
    buf.extend_from_slice(&TAIL);
    w.write_all(&buf).map_err(io(&tmp))?;
    let f = w.into_inner().map_err(|e| io(&tmp)(e.into_error()))?;
    f.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    Ok(all.len())
}

/// Loads the snapshot at `path` into the empty `head` if it was taken where the WAL now
/// ends; returns the series loaded, or `None` if it is stale. Checks the checksum before
/// touching the head, so a damaged snapshot changes nothing.
pub(crate) fn load(
    path: &Path,
    head: &Head,
    wal_end: WalEnd,
) -> Result<Option<usize>, SnapshotError> {
    let corrupt = |why: String| SnapshotError::Corrupt {
        path: path.to_path_buf(),
        why,
    };
    let data = std::fs::read(path).map_err(|source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let body_end = data
        .len()
        .checked_sub(16)
        .filter(|&e| e >= MAGIC.len() + 12);
    let Some(body_end) = body_end else {
        return Err(corrupt(format!("{} bytes is too short", data.len())));
    };
    if data[..8] != MAGIC || data[data.len() - 4..] != TAIL {
        return Err(corrupt("bad magic (torn write?)".into()));
    }
    let tail = &data[body_end..];
    let count = u64::from_le_bytes(tail[..8].try_into().unwrap_or_default());
    let crc = u32::from_le_bytes(tail[8..12].try_into().unwrap_or_default());
    let body = &data[8..body_end];
    if crc32fast::hash(body) != crc {
        return Err(corrupt("checksum mismatch".into()));
    }
    let seg = u32::from_le_bytes(body[..4].try_into().unwrap_or_default());
    let len = u64::from_le_bytes(body[4..12].try_into().unwrap_or_default());
    if (seg, len) != wal_end {
        return Ok(None);
    }
    let mut r = Reader { buf: body, pos: 12 };
    let mut loaded = 0usize;
    while r.pos < body.len() {
        let sref = r.uvarint()?;
        let k = r.uvarint()?;
        let mut b = LabelsBuilder::with_capacity(k.min(256) as usize);
        for _ in 0..k {
            let name = r.bytes()?;
            let value = r.bytes()?;
            let (Ok(name), Ok(value)) = (std::str::from_utf8(name), std::str::from_utf8(value))
            else {
                return Err(corrupt(format!("label of series {sref} is not UTF-8")));
            };
            b.set(name, value);
        }
        let labels: Labels = b.build();
        let last = match r.byte()? {
            0 => None,
            _ => {
                let u = r.uvarint()?;
                let t = ((u >> 1) as i64) ^ -((u & 1) as i64);
                Some((t, r.u64()?))
            }
        };
        let n = r.uvarint()?;
        let mut chunks = Vec::with_capacity(n.min(1 << 16) as usize);
        for _ in 0..n {
            let u = r.uvarint()?;
            let min = ((u >> 1) as i64) ^ -((u & 1) as i64);
            let max = min.wrapping_add(r.uvarint()? as i64);
            let bytes = r.bytes()?;
            // The file checksum vouches for the bytes: no need to decode every sample.
            let c = SealedChunk::from_checked_bytes(bytes, min, max)
                .map_err(|e| corrupt(format!("chunk of series {sref}: {e}")))?;
            chunks.push(c);
        }
        head.restore(sref, &labels, chunks, last);
        loaded += 1;
    }
    if loaded as u64 != count {
        return Err(corrupt(format!("{loaded} series read, {count} announced")));
    }
    Ok(Some(loaded))
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn err(&self, what: &str) -> SnapshotError {
        SnapshotError::Corrupt {
            path: std::path::PathBuf::new(),
            why: format!("{what} at byte {}", self.pos + 8),
        }
    }

    fn byte(&mut self) -> Result<u8, SnapshotError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| self.err("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    fn uvarint(&mut self) -> Result<u64, SnapshotError> {
        let mut x = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            x |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(x);
            }
        }
        Err(self.err("varint longer than 64 bits"))
    }

    fn bytes(&mut self) -> Result<&'a [u8], SnapshotError> {
        let len = self.uvarint()? as usize;
        let end = self
            .pos
            .checked_add(len)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.err("length past the end"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u64(&mut self) -> Result<u64, SnapshotError> {
        let b = self
            .buf
            .get(self.pos..self.pos + 8)
            .ok_or_else(|| self.err("truncated"))?;
        self.pos += 8;
        Ok(u64::from_le_bytes(b.try_into().unwrap_or_default()))
    }
}
