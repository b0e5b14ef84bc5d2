//! The refs of the series whose label sets share one hash, for the head's label-hash map.

use super::SeriesRef;

/// Nearly always a single series: held inline, so the map allocates nothing per series (a
/// list per entry cost a heap block, 32 bytes or more, for each of a million series).
#[derive(Debug, Clone, Default)]
pub(super) enum HashRefs {
    #[default]
    Empty,
    One(SeriesRef),
    /// Label sets whose hashes collide; boxed twice so the common case stays 16 bytes.
    #[allow(clippy::box_collection)]
    Many(Box<Vec<SeriesRef>>),
}

impl HashRefs {
    pub(super) fn as_slice(&self) -> &[SeriesRef] {
        match self {
            HashRefs::Empty => &[],
            HashRefs::One(r) => std::slice::from_ref(r),
            HashRefs::Many(rs) => rs,
        }
    }

    pub(super) fn push(&mut self, r: SeriesRef) {
        *self = match std::mem::take(self) {
            HashRefs::Empty => HashRefs::One(r),
            HashRefs::One(a) => HashRefs::Many(Box::new(vec![a, r])),
            HashRefs::Many(mut rs) => {
                rs.push(r);
                HashRefs::Many(rs)
            }
        };
    }

    pub(super) fn remove(&mut self, r: SeriesRef) {
        let left: Vec<SeriesRef> = self
            .as_slice()
            .iter()
            .copied()
            .filter(|&x| x != r)
            .collect();
        *self = match left.as_slice() {
            [] => HashRefs::Empty,
            [one] => HashRefs::One(*one),
            _ => HashRefs::Many(Box::new(left)),
        };
    }

    pub(super) fn is_empty(&self) -> bool {
        matches!(self, HashRefs::Empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_ref_is_held_inline_in_16_bytes() {
        assert_eq!(std::mem::size_of::<HashRefs>(), 16);
    }

    #[test]
    fn push_and_remove_keep_the_set() {
        let mut h = HashRefs::default();
        assert!(h.is_empty());
        for r in [3, 5, 7] {
            h.push(r);
        }
        assert_eq!(h.as_slice(), &[3, 5, 7]);
        h.remove(5);
        assert_eq!(h.as_slice(), &[3, 7]);
        h.remove(3);
        assert!(matches!(h, HashRefs::One(7)));
        h.remove(9);
        assert_eq!(h.as_slice(), &[7]);
        h.remove(7);
        assert!(h.is_empty());
    }
}
