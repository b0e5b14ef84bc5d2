//! Byte sizes such as `body_size_limit: 10MB`, read the way Prometheus reads them
//! (`units.Base2Bytes` of `alecthomas/units`): every unit is a power of 1024, whether written
//! `KB` or `KiB`, amounts may have a fraction and may be combined (`1GiB512MiB`), and a
//! bare `0` means zero. Written back in the `KiB`/`MiB` form Prometheus prints.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid byte size: {0:?} (expected a number with a unit B, KB, MB, GB, TB, PB, EB or KiB, MiB, GiB, TiB, PiB, EiB, e.g. \"10MB\")")]
pub struct SizeError(String);

/// Unit suffixes and their multipliers; `KB` and `KiB` both mean 1024 as in Prometheus.
const UNITS: [(&str, u64); 13] = [
    ("B", 1),
    ("KB", 1 << 10),
    ("MB", 1 << 20),
    ("GB", 1 << 30),
    ("TB", 1 << 40),
    ("PB", 1 << 50),
    ("EB", 1 << 60),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
    ("PiB", 1 << 50),
    ("EiB", 1 << 60),
];

/// Parses a byte size such as `10MB` or `1.5GiB` into bytes.
pub fn parse_size(s: &str) -> Result<u64, SizeError> {
    if s == "0" {
        return Ok(0);
    }
    let err = || SizeError(s.to_string());
    if s.is_empty() {
        return Err(err());
    }
    let mut rest = s;
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let amount: f64 = rest[..num_len].parse().map_err(|_| err())?;
        rest = &rest[num_len..];
        let unit_len = rest.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let mult = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, m)| *m)
            .ok_or_else(err)?;
        total += amount * mult as f64;
    }
    // Prometheus keeps sizes in an int64.
    if !total.is_finite() || total >= i64::MAX as f64 {
        return Err(err());
    }
    Ok(total as u64)
}

/// Formats a byte count with binary units, largest first: `10MiB`, `1KiB512B`, `0B`.
pub fn format_size(mut bytes: u64) -> String {
    if bytes == 0 {
        return "0B".to_string();
    }
    let mut out = String::new();
    for (name, mult) in [
        ("EiB", 1u64 << 60),
        ("PiB", 1 << 50),
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
        ("B", 1),
    ] {
        let n = bytes / mult;
        if n > 0 {
            out.push_str(&n.to_string());
            out.push_str(name);
            bytes -= n * mult;
        }
    }
    out
}

/// Serde glue for byte-size fields; zero means "no limit" and is left out when writing.
pub(crate) mod serde_size {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(n: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_size(*n))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        crate::config::de::parse_str(d, |s| super::parse_size(s).map_err(|e| e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format_table() {
        // (input, bytes, canonical form)
        let cases: &[(&str, u64, &str)] = &[
            ("0", 0, "0B"),
            ("0B", 0, "0B"),
            ("512B", 512, "512B"),
            ("1KB", 1024, "1KiB"),
            ("1KiB", 1024, "1KiB"),
            ("10MB", 10 << 20, "10MiB"),
            ("10MiB", 10 << 20, "10MiB"),
            ("1GiB", 1 << 30, "1GiB"),
            ("1.5GB", 3 << 29, "1GiB512MiB"),
            ("1536B", 1536, "1KiB512B"),
            ("2TB", 2 << 40, "2TiB"),
        ];
        for &(input, bytes, canonical) in cases {
            assert_eq!(parse_size(input).unwrap(), bytes, "parse {input}");
            assert_eq!(format_size(bytes), canonical, "format {input}");
            assert_eq!(parse_size(canonical).unwrap(), bytes, "round trip {input}");
        }
    }

    #[test]
    fn rejects_bad_sizes() {
        for input in [
            "", "10", "MB", "10mb", "10 MB", "-1MB", "1..5MB", "10XB", "9EiB",
        ] {
            assert!(parse_size(input).is_err(), "{input:?} should be rejected");
        }
    }
}
