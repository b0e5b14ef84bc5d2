//! A sorted set of series refs packed as delta varints: about one byte per ref where
//! `Vec<u64>` spends eight (plus the spare half of its last doubling).
//!
//! Layout: the bytes are cut into blocks of [`BLOCK`] bytes. A block starts with its first
//! ref as an unsigned LEB128 varint; each following ref is the varint of its difference with
//! the previous one. A ref whose varint would cross the end of a block goes to the next one,
//! and the rest of the block is filled with zero bytes. A difference is never zero (refs are
//! unique), so its varint never starts with a zero byte and the filler cannot be mistaken
//! for a ref.
//!
//! Blocks of fixed size are the skip index: block `k` starts at byte `k * BLOCK`, so a seek
//! binary-searches the blocks' first refs and decodes at most one block, with no offsets
//! stored anywhere. The price is a full ref and some filler per block, a few percent.
//!
//! Lists of a ref or two are the most numerous (a label that takes a new value every scrape
//! makes one per value); they keep their bytes inline, in the 24 bytes a `Vec` header takes.

use super::SeriesRef;

/// Bytes per block. A seek decodes at most one block; each block costs a full ref (three to
/// five bytes for refs up to a few billion) and on average half a varint of filler, about 5%
/// of a block of one-byte differences.
const BLOCK: usize = 64;

/// Bytes kept inline: the list's enum stays at 24 bytes, the size of a `Vec` header. Any two
/// refs fit (a varint is at most ten bytes); refs close together fit by the dozen.
const INLINE: usize = 22;

/// Series refs, ascending and unique.
pub(crate) enum PostingList {
    /// One partial block held in place; `used` bytes of `bytes` are meaningful.
    Inline {
        used: u8,
        bytes: [u8; INLINE],
    },
    Packed(Box<Packed>),
}

/// A list too long to stay inline. `last` and `len` make an append O(1).
pub(crate) struct Packed {
    data: Vec<u8>,
    last: SeriesRef,
    len: usize,
}

impl Default for PostingList {
    fn default() -> Self {
        PostingList::Inline {
            used: 0,
            bytes: [0; INLINE],
        }
    }
}

impl PostingList {
    /// A list of `refs`, which must be ascending and unique.
    pub(crate) fn from_sorted(refs: &[SeriesRef]) -> Self {
        let mut list = PostingList::default();
        for &r in refs {
            list.push(r);
        }
        list
    }

    fn bytes(&self) -> &[u8] {
        match self {
            PostingList::Inline { used, bytes } => &bytes[..usize::from(*used)],
            PostingList::Packed(p) => &p.data,
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            // One varint ends at every byte without the continuation bit.
            PostingList::Inline { .. } => self.bytes().iter().filter(|&&b| b < 0x80).count(),
            PostingList::Packed(p) => p.len,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes().is_empty()
    }

    fn last(&self) -> Option<SeriesRef> {
        match self {
            PostingList::Inline { .. } => self.iter().last(),
            PostingList::Packed(p) => (p.len > 0).then_some(p.last),
        }
    }

    pub(crate) fn iter(&self) -> Cursor<'_> {
        Cursor::new(self.bytes())
    }

    pub(crate) fn to_vec(&self) -> Vec<SeriesRef> {
        let mut out = Vec::with_capacity(self.len());
        for block in self.bytes().chunks(BLOCK) {
            decode_block(block, &mut out);
        }
        out
    }

    /// Keeps the refs of `acc` (ascending) that are in the list. Blocks below the next ref
    /// of `acc` are skipped by a binary search on their first refs and never decoded, so a
    /// short `acc` costs a few blocks of a long list, and a long one a merge at decoding
    /// speed.
    pub(crate) fn retain_in(&self, acc: &mut Vec<SeriesRef>) {
        let data = self.bytes();
        let blocks = data.len().div_ceil(BLOCK);
        let mut block = Vec::with_capacity(BLOCK);
        let (mut i, mut kept, mut k) = (0, 0, 0);
        while i < acc.len() && k < blocks {
            if k + 1 < blocks && first_of(data, k + 1) <= acc[i] {
                k = block_of(data, k + 1, acc[i]);
            }
            block.clear();
            decode_block(
                &data[k * BLOCK..data.len().min((k + 1) * BLOCK)],
                &mut block,
            );
            let mut j = 0;
            while i < acc.len() && j < block.len() {
                match acc[i].cmp(&block[j]) {
                    std::cmp::Ordering::Less => i += 1,
                    std::cmp::Ordering::Greater => j += 1,
                    std::cmp::Ordering::Equal => {
                        acc[kept] = acc[i];
                        kept += 1;
                        i += 1;
                        j += 1;
                    }
                }
            }
            k += 1;
        }
        acc.truncate(kept);
    }

    /// Heap bytes owned by the list, besides its own `size_of`.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            PostingList::Inline { .. } => 0,
            PostingList::Packed(p) => std::mem::size_of::<Packed>() + p.data.capacity(),
        }
    }

    /// Adds `r`: O(1) when it is past the last ref, as new series are; otherwise the tail
    /// from the block where `r` belongs is rewritten. A ref already present is ignored.
    pub(crate) fn insert(&mut self, r: SeriesRef) {
        let last = self.last();
        match last {
            Some(last) if last >= r => self.merge(&[r]),
            _ => self.push_after(r, last),
        }
    }

    /// Adds `refs` (ascending, unique; those already present are ignored), rewriting the
    /// list from the block where the smallest one belongs.
    pub(crate) fn merge(&mut self, refs: &[SeriesRef]) {
        let Some(&first) = refs.first() else { return };
        if self.last().is_none_or(|last| last < first) {
            for &r in refs {
                self.push(r);
            }
            return;
        }
        self.rewrite_from(first, |tail| super::merge(tail, refs));
    }

    /// Removes `refs` (ascending; those absent are ignored) in one rewrite of the list from
    /// the block holding the smallest one.
    pub(crate) fn remove_sorted(&mut self, refs: &[SeriesRef]) {
        let Some(&first) = refs.first() else { return };
        if self.last().is_none_or(|last| last < first) {
            return;
        }
        self.rewrite_from(first, |tail| {
            let mut gone = refs.iter().peekable();
            tail.iter()
                .copied()
                .filter(|&r| {
                    while gone.next_if(|&&g| g < r).is_some() {}
                    gone.next_if_eq(&&r).is_none()
                })
                .collect()
        });
    }

    /// Releases the spare capacity of a list that grew by doubling and stopped; a quarter
    /// of slack is left alone so a list still growing is not reallocated at every call.
    pub(crate) fn shrink(&mut self) {
        if let PostingList::Packed(p) = self {
            let len = p.data.len();
            if p.data.capacity() > len + len / 4 + 4 {
                p.data.shrink_to(len + len / 8);
            }
        }
    }

    /// Appends `r`, which must be past the last ref.
    fn push(&mut self, r: SeriesRef) {
        let last = self.last();
        self.push_after(r, last);
    }

    /// [`PostingList::push`] given the list's last ref, which an inline list must decode.
    fn push_after(&mut self, r: SeriesRef, last: Option<SeriesRef>) {
        match self {
            PostingList::Inline { used, bytes } => {
                let at = usize::from(*used);
                let mut tmp = [0u8; 10];
                let n = match last {
                    None => put_varint(&mut tmp, r),
                    Some(last) => put_varint(&mut tmp, r.wrapping_sub(last)),
                };
                if at + n <= INLINE {
                    bytes[at..at + n].copy_from_slice(&tmp[..n]);
                    *used += n as u8;
                } else {
                    let head = &bytes[..at];
                    let mut data = Vec::with_capacity(2 * INLINE);
                    data.extend_from_slice(head);
                    let mut p = Packed {
                        last: last.unwrap_or(0),
                        len: head.iter().filter(|&&b| b < 0x80).count(),
                        data,
                    };
                    p.push(r);
                    *self = PostingList::Packed(Box::new(p));
                }
            }
            PostingList::Packed(p) => p.push(r),
        }
    }

    /// Cuts the list at the start of the block where `from` belongs (or would), passes the
    /// refs cut off to `f`, and appends what it returns (ascending, unique, all past what is
    /// left). Lists short enough go back inline.
    fn rewrite_from(&mut self, from: SeriesRef, f: impl FnOnce(&[SeriesRef]) -> Vec<SeriesRef>) {
        let p = match self {
            PostingList::Inline { .. } => {
                let all = self.to_vec();
                *self = PostingList::from_sorted(&f(&all));
                return;
            }
            PostingList::Packed(p) => p,
        };
        let k = block_of(&p.data, 0, from);
        let cut = k * BLOCK;
        let tail: Vec<SeriesRef> = Cursor::new(&p.data[cut..]).collect();
        p.len -= tail.len();
        p.last = match k {
            0 => 0,
            _ => Cursor::new(&p.data[cut - BLOCK..cut]).last().unwrap_or(0),
        };
        p.data.truncate(cut);
        for r in f(&tail) {
            p.push(r);
        }
        if p.data.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..p.data.len()].copy_from_slice(&p.data);
            *self = PostingList::Inline {
                used: p.data.len() as u8,
                bytes,
            };
        }
    }
}

impl Packed {
    fn push(&mut self, r: SeriesRef) {
        let mut tmp = [0u8; 10];
        let off = self.data.len() % BLOCK;
        let mut n = put_varint(&mut tmp, r.wrapping_sub(self.last));
        if off == 0 || off + n > BLOCK {
            // A new block: fill the rest of this one, start with the full ref.
            if off != 0 {
                self.data.resize(self.data.len() + BLOCK - off, 0);
            }
            n = put_varint(&mut tmp, r);
        }
        self.data.extend_from_slice(&tmp[..n]);
        self.last = r;
        self.len += 1;
    }
}

/// Writes `v` as an unsigned LEB128 varint; returns its length.
fn put_varint(out: &mut [u8; 10], mut v: u64) -> usize {
    let mut n = 0;
    while v >= 0x80 {
        out[n] = (v as u8) | 0x80;
        v >>= 7;
        n += 1;
    }
    out[n] = v as u8;
    n + 1
}

/// Reads a varint at the start of `b`: (value, length). Only reads bytes this module wrote,
/// so a truncated varint just ends early.
fn get_varint(b: &[u8]) -> (u64, usize) {
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return (v, i + 1);
        }
    }
    (v, b.len().min(10))
}

/// The first ref of block `k` of `data`.
fn first_of(data: &[u8], k: usize) -> SeriesRef {
    get_varint(&data[k * BLOCK..]).0
}

/// The last block from `lo` on whose first ref is at or before `target`; `lo` if none is.
fn block_of(data: &[u8], lo: usize, target: SeriesRef) -> usize {
    let (mut lo, mut hi) = (lo, data.len().div_ceil(BLOCK).max(lo + 1));
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if first_of(data, mid) <= target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Appends the refs of one block (or of an inline list) to `out`, with a fast path for
/// one-byte differences, the common case.
fn decode_block(block: &[u8], out: &mut Vec<SeriesRef>) {
    if block.is_empty() {
        return;
    }
    let (mut r, mut i) = get_varint(block);
    out.push(r);
    while let Some(&b) = block.get(i) {
        if b < 0x80 {
            if b == 0 {
                break;
            }
            r = r.wrapping_add(u64::from(b));
            i += 1;
        } else {
            let (d, n) = get_varint(&block[i..]);
            r = r.wrapping_add(d);
            i += n;
        }
        out.push(r);
    }
}

/// Walks a list in order.
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    /// Offset of the next varint (or filler) to read in the current block.
    pos: usize,
    /// End of the current block; the next block starts here.
    end: usize,
    /// The ref returned last.
    cur: SeriesRef,
}

impl<'a> Cursor<'a> {
    fn new(data: &'a [u8]) -> Self {
        Cursor {
            data,
            pos: 0,
            end: 0,
            cur: 0,
        }
    }
}

impl Iterator for Cursor<'_> {
    type Item = SeriesRef;

    fn next(&mut self) -> Option<SeriesRef> {
        loop {
            if self.pos >= self.end {
                // Enter the next block, which starts with a full ref.
                let start = self.end;
                let rest = self.data.get(start..).filter(|r| !r.is_empty())?;
                self.end = (start + BLOCK).min(self.data.len());
                let (r, n) = get_varint(rest);
                self.pos = start + n;
                self.cur = r;
                return Some(r);
            }
            let b = self.data[self.pos];
            if b == 0 {
                // Filler: the rest of the block is empty.
                self.pos = self.end;
                continue;
            }
            let (d, n) = match b < 0x80 {
                true => (u64::from(b), 1),
                false => get_varint(&self.data[self.pos..self.end]),
            };
            self.pos += n;
            self.cur = self.cur.wrapping_add(d);
            return Some(self.cur);
        }
    }
}

#[cfg(test)]
impl PartialEq for PostingList {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

#[cfg(test)]
impl std::fmt::Debug for PostingList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
#[path = "list_tests.rs"]
mod tests;
