//! On-disk and in-memory storage formats for the head: compressed chunks and the write-ahead
//! log. Both are pure data structures with no knowledge of actors or of the head's maps, so
//! the head decides when to cut a chunk, when to flush, and when to checkpoint.
//!
//! The byte layouts are documented in `docs/format/chunks.md` and `docs/format/wal.md`.

pub mod chunk;
pub(crate) mod varint;
pub mod wal;
