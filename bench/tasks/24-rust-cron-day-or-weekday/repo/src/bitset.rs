/// A set of small integers (0..64) stored in one word.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct BitSet(u64);

impl BitSet {
    pub(crate) fn insert(&mut self, value: u32) {
        debug_assert!(value < 64);
        self.0 |= 1 << value;
    }

    pub(crate) fn contains(self, value: u32) -> bool {
        value < 64 && self.0 & (1 << value) != 0
    }

    pub(crate) fn len(self) -> u32 {
        self.0.count_ones()
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The smallest member that is >= `value`.
    pub(crate) fn first_at_or_after(self, value: u32) -> Option<u32> {
        if value >= 64 {
            return None;
        }
        let rest = self.0 >> value;
        if rest == 0 {
            None
        } else {
            Some(value + rest.trailing_zeros())
        }
    }

    pub(crate) fn iter(self) -> impl Iterator<Item = u32> {
        (0..64).filter(move |&v| self.contains(v))
    }
}
