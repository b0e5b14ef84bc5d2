//! Loading a head snapshot (`snapshot.rs`) on every core: the footer is checked first, then
//! every group's checksum (in parallel), and only then are the groups decoded and their
//! series restored into the head (in parallel, a group at a time per thread), so a damaged
//! file changes nothing in the head.

use super::head::{Head, RestoredSeries};
use super::snapshot::{
    unzigzag, Covers, SnapshotError, WalPosition, FOOTER, GROUP_ENTRY, MAGIC, TAIL,
};
use crate::model::{Labels, LabelsBuilder};
use crate::tsdb::chunk::SealedChunk;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A snapshot file read into memory, its footer checked.
pub(crate) struct Snapshot {
    path: PathBuf,
    data: Vec<u8>,
    groups: Vec<Group>,
    pub(crate) covers: Covers,
    series: u64,
}

#[derive(Debug, Clone, Copy)]
struct Group {
    offset: usize,
    len: usize,
    series: u32,
    crc: u32,
}

fn le<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut a = [0u8; N];
    if let Some(s) = b.get(at..at + N) {
        a.copy_from_slice(s);
    }
    a
}

impl Snapshot {
    /// Reads `path` and checks its magic, footer checksum and group table.
    pub(crate) fn open(path: &Path) -> Result<Snapshot, SnapshotError> {
        let corrupt = |why: String| SnapshotError::Corrupt {
            path: path.to_path_buf(),
            why,
        };
        let data = std::fs::read(path).map_err(|source| SnapshotError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if data.len() < MAGIC.len() + FOOTER {
            return Err(corrupt(format!("{} bytes is too short", data.len())));
        }
        if data[..MAGIC.len()] != MAGIC || data[data.len() - TAIL.len()..] != TAIL {
            return Err(corrupt("bad magic (torn write or another version)".into()));
        }
        let f = data.len() - FOOTER;
        let groups = u32::from_le_bytes(le(&data, f + 20)) as usize;
        let table = groups
            .checked_mul(GROUP_ENTRY)
            .and_then(|t| f.checked_sub(t))
            .filter(|&t| t >= MAGIC.len())
            .ok_or_else(|| corrupt(format!("group count {groups} does not fit the file")))?;
        let crc_at = data.len() - 8;
        if crc32fast::hash(&data[table..crc_at]) != u32::from_le_bytes(le(&data, crc_at)) {
            return Err(corrupt("footer checksum mismatch".into()));
        }
        let covers = Covers {
            position: WalPosition {
                segment: u32::from_le_bytes(le(&data, f)),
                offset: u64::from_le_bytes(le(&data, f + 4)),
            },
            persisted_before: i64::from_le_bytes(le(&data, f + 12)),
        };
        let series = u64::from_le_bytes(le(&data, f + 24));
        let mut list = Vec::with_capacity(groups);
        for i in 0..groups {
            let e = table + i * GROUP_ENTRY;
            let g = Group {
                offset: u64::from_le_bytes(le(&data, e)) as usize,
                len: u32::from_le_bytes(le(&data, e + 8)) as usize,
                series: u32::from_le_bytes(le(&data, e + 12)),
                crc: u32::from_le_bytes(le(&data, e + 16)),
            };
            if g.offset < MAGIC.len() || g.offset.saturating_add(g.len) > table {
                return Err(corrupt(format!("group {i} lies outside the data")));
            }
            list.push(g);
        }
        if list.iter().map(|g| u64::from(g.series)).sum::<u64>() != series {
            return Err(corrupt(format!("groups do not add up to {series} series")));
        }
        Ok(Snapshot {
            path: path.to_path_buf(),
            data,
            groups: list,
            covers,
            series,
        })
    }

    /// Checks every group, then restores every series into `head` with `workers` threads.
    /// Returns the series restored. On an error after the checks (a decoding bug, not
    /// damage), the head may hold part of the snapshot and must be discarded.
    pub(crate) fn restore(&self, head: &Head, workers: usize) -> Result<usize, SnapshotError> {
        let bad = self.parallel(workers, |g| {
            let bytes = &self.data[g.offset..g.offset + g.len];
            if crc32fast::hash(bytes) == g.crc {
                Ok(())
            } else {
                Err(format!(
                    "checksum mismatch in the group at byte {}",
                    g.offset
                ))
            }
        });
        bad.map_err(|why| self.corrupt(why))?;
        self.parallel(workers, |g| {
            let batch = decode_group(head, &self.data[g.offset..g.offset + g.len], g)?;
            head.restore_batch(batch);
            Ok(())
        })
        .map_err(|why| self.corrupt(why))?;
        Ok(self.series as usize)
    }

    fn corrupt(&self, why: String) -> SnapshotError {
        SnapshotError::Corrupt {
            path: self.path.clone(),
            why,
        }
    }

    /// Runs `f` over every group on `workers` threads, each taking the next group; the
    /// first error stops every thread at its next group.
    fn parallel<F>(&self, workers: usize, f: F) -> Result<(), String>
    where
        F: Fn(&Group) -> Result<(), String> + Sync,
    {
        let next = AtomicUsize::new(0);
        let failed = parking_lot::Mutex::new(None);
        let work = || loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(g) = self.groups.get(i) else { return };
            if let Err(e) = f(g) {
                failed.lock().get_or_insert(e);
                next.store(self.groups.len(), Ordering::Relaxed);
                return;
            }
        };
        std::thread::scope(|sc| {
            for _ in 1..workers.max(1) {
                sc.spawn(work);
            }
            work();
        });
        failed.into_inner().map_or(Ok(()), Err)
    }
}

/// Decodes the series of one group, their label strings interned in `head`. A cache per
/// group resolves a repeated string (a group's thousands of `job="api"`) without allocating
/// or touching the head's shared string pool.
fn decode_group(head: &Head, buf: &[u8], g: &Group) -> Result<Vec<RestoredSeries>, String> {
    let mut r = Reader { buf, pos: 0 };
    let mut strings: foldhash::HashMap<&[u8], Arc<str>> = foldhash::HashMap::default();
    let mut out = Vec::with_capacity(g.series as usize);
    let at = |r: &Reader, what: &str| format!("{what} at byte {}", g.offset + r.pos);
    for _ in 0..g.series {
        let sref = r.uvarint().ok_or_else(|| at(&r, "truncated"))?;
        let k = r.uvarint().ok_or_else(|| at(&r, "truncated"))?;
        let mut b = LabelsBuilder::with_capacity(k.min(256) as usize);
        for _ in 0..k {
            let mut pair = [None, None];
            for s in &mut pair {
                let bytes = r.bytes().ok_or_else(|| at(&r, "truncated"))?;
                let v = match strings.get(bytes) {
                    Some(v) => v.clone(),
                    None => {
                        let text = std::str::from_utf8(bytes)
                            .map_err(|_| format!("label of series {sref} is not utf-8"))?;
                        let v = head.intern_str(&Arc::from(text));
                        strings.insert(bytes, v.clone());
                        v
                    }
                };
                *s = Some(v);
            }
            if let [Some(name), Some(value)] = pair {
                b.push_unchecked(name, value);
            }
        }
        let labels: Labels = b.build();
        let last = match r.byte().ok_or_else(|| at(&r, "truncated"))? {
            0 => None,
            _ => {
                let t = unzigzag(r.uvarint().ok_or_else(|| at(&r, "truncated"))?);
                Some((t, r.u64().ok_or_else(|| at(&r, "truncated"))?))
            }
        };
        let n = r.uvarint().ok_or_else(|| at(&r, "truncated"))?;
        let mut chunks = Vec::with_capacity(n.min(1 << 16) as usize);
        for _ in 0..n {
            let min = unzigzag(r.uvarint().ok_or_else(|| at(&r, "truncated"))?);
            let max = min.wrapping_add(r.uvarint().ok_or_else(|| at(&r, "truncated"))? as i64);
            let bytes = r.bytes().ok_or_else(|| at(&r, "truncated"))?;
            // The group checksum vouches for the bytes: no need to decode every sample.
            let c = SealedChunk::from_checked_bytes(bytes, min, max)
                .map_err(|e| format!("chunk of series {sref}: {e}"))?;
            chunks.push(c);
        }
        out.push(RestoredSeries {
            r: sref,
            labels,
            chunks,
            last,
        });
    }
    if r.pos != buf.len() {
        return Err(at(&r, "bytes after the last series"));
    }
    Ok(out)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn uvarint(&mut self) -> Option<u64> {
        let mut x = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            x |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(x);
            }
        }
        None
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.uvarint()?).ok()?;
        let end = self.pos.checked_add(len).filter(|&e| e <= self.buf.len())?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Some(s)
    }

    fn u64(&mut self) -> Option<u64> {
        let b = self.buf.get(self.pos..self.pos + 8)?;
        self.pos += 8;
        Some(u64::from_le_bytes(le(b, 0)))
    }
}
