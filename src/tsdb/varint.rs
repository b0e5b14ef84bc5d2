//! The byte-level integer encodings shared by the on-disk formats (WAL records, blocks, the
//! head snapshot) and the chunk encoding: LEB128 unsigned varints and zigzag for signed values.

/// LEB128: 7 bits a byte, low group first, high bit set on every byte but the last.
pub(crate) fn put_uvarint(buf: &mut Vec<u8>, mut u: u64) {
    while u >= 0x80 {
        buf.push((u as u8) | 0x80);
        u >>= 7;
    }
    buf.push(u as u8);
}

/// A length-prefixed byte string.
pub(crate) fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    put_uvarint(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

/// Zigzag maps signed to unsigned so that small negative numbers stay small.
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub(crate) fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_round_trips_and_keeps_small_values_small() {
        for (v, want) in [
            (0i64, 0u64),
            (-1, 1),
            (1, 2),
            (-2, 3),
            (i64::MAX, u64::MAX - 1),
            (i64::MIN, u64::MAX),
        ] {
            assert_eq!(zigzag(v), want);
            assert_eq!(unzigzag(want), v);
        }
        let mut buf = Vec::new();
        put_uvarint(&mut buf, 300);
        assert_eq!(buf, [0xac, 0x02]);
    }
}
