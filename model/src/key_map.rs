//! Values by flow key, for the host's merges of evicted slots (the merged
//! statistics in `merge`, the flows' times in the host's `analyze`).
//!
//! Each key with its value side by side in one dense vector (in the order
//! the keys were first inserted), and an open-addressing index over it
//! (linear probing, at most half full) of words `hash tag << 32 |
//! (position + 1)`, 0 when empty. Smaller than a map of keys and values, so
//! that finding a key touches a few bytes of index, and its entry (one
//! page, one TLB miss when it is not cached) can be prefetched: with many
//! more flows than the caches hold, a merge that asks for the index words
//! and entries a few evictions ahead overlaps their misses.

use crate::key::FlowKey;
use crate::prefetch;

/// Values by key (see the module).
#[derive(Clone, Debug)]
pub struct KeyMap<V> {
    index: Vec<u64>,
    entries: Vec<Entry<V>>,
}

/// A key and its value, aligned to 32 bytes: an entry of up to 96 bytes
/// then spans at most two cache lines wherever it falls (a merge's entry is
/// 96 bytes; at the vector's own alignment of 8 or 16, half of them would
/// span three).
#[repr(C, align(32))]
#[derive(Clone, Copy, Debug)]
struct Entry<V> {
    key: FlowKey,
    value: V,
}

impl<V> Default for KeyMap<V> {
    fn default() -> Self {
        KeyMap {
            index: Vec::new(),
            entries: Vec::new(),
        }
    }
}

/// The index word's tag bits: the hash's upper half.
const TAG: u64 = !0xFFFF_FFFF;

impl<V> KeyMap<V> {
    /// The hash the index is built on.
    #[inline]
    pub fn hash(key: &FlowKey) -> u64 {
        use std::hash::BuildHasher;
        rustc_hash::FxBuildHasher.hash_one(key)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keys and values, in the order the keys were first inserted.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = (&FlowKey, &V)> {
        self.entries.iter().map(|e| (&e.key, &e.value))
    }

    /// Room in the index for `more` keys without growing.
    pub fn reserve(&mut self, more: usize) {
        while 2 * (self.entries.len() + more) > self.index.len() {
            self.grow();
        }
    }

    /// Double the index (16 words at first) and place every key again.
    fn grow(&mut self) {
        let n = (2 * self.index.len()).max(16);
        let mut index = vec![0u64; n];
        for (at, e) in self.entries.iter().enumerate() {
            let h = Self::hash(&e.key);
            let mut i = h as usize & (n - 1);
            while index[i] != 0 {
                i = (i + 1) & (n - 1);
            }
            index[i] = (h & TAG) | (at as u64 + 1);
        }
        self.index = index;
    }

    /// The value of `key` (hash `h`, [`KeyMap::hash`]), inserted as `new()`
    /// if the key is absent.
    #[inline]
    pub fn get_or_insert_with(&mut self, key: &FlowKey, h: u64, new: impl FnOnce() -> V) -> &mut V {
        let at = self.position_or_insert_with(key, h, new);
        &mut self.entries[at].value
    }

    /// Where `key`'s entry (hash `h`) is in [`KeyMap::entries`], inserted
    /// with `new()` if the key is absent. A position never changes: entries
    /// are only ever appended.
    #[inline]
    pub fn position_or_insert_with(
        &mut self,
        key: &FlowKey,
        h: u64,
        new: impl FnOnce() -> V,
    ) -> usize {
        self.reserve(1);
        let mask = self.index.len() - 1;
        let tag = h & TAG;
        let mut i = h as usize & mask;
        loop {
            let w = self.index[i];
            if w == 0 {
                let at = self.entries.len();
                self.index[i] = tag | (at as u64 + 1);
                self.entries.push(Entry {
                    key: *key,
                    value: new(),
                });
                return at;
            }
            let at = (w & !TAG) as usize - 1;
            if w & TAG == tag && self.entries[at].key == *key {
                return at;
            }
            i = (i + 1) & mask;
        }
    }

    /// The value at position `at` (from [`KeyMap::position_or_insert_with`]).
    #[inline]
    pub fn value_at(&mut self, at: usize) -> &mut V {
        &mut self.entries[at].value
    }

    /// The key at position `at`.
    #[inline]
    pub fn key_at(&self, at: usize) -> &FlowKey {
        &self.entries[at].key
    }

    /// Ask for the entry at position `at` in the cache (a hint).
    #[inline]
    pub fn prefetch_at(&self, at: usize) {
        if let Some(e) = self.entries.get(at) {
            self.prefetch_entry_lines(e);
        }
    }

    /// Every cache line of an entry (a hint).
    #[inline]
    fn prefetch_entry_lines(&self, e: &Entry<V>) {
        // From the line the entry starts in to the one it ends in: an entry
        // that does not start a line may touch one line more than its size
        // in lines (112 bytes from byte 48 of a line span three).
        let bytes = std::mem::size_of_val(e);
        let p = e as *const Entry<V> as *const u8;
        let skew = p as usize % 64;
        for off in (0..skew + bytes).step_by(64) {
            // SAFETY: `off - skew < bytes` is inside the entry; the first
            // step is the entry's start.
            prefetch(unsafe { &*p.add(off.saturating_sub(skew)) });
        }
    }

    /// Ask for the home index word of hash `h` in the cache (a hint).
    #[inline]
    pub fn prefetch_index(&self, h: u64) {
        if !self.index.is_empty() {
            prefetch(&self.index[h as usize & (self.index.len() - 1)]);
        }
    }

    /// Ask for the entry of hash `h` in the cache (a hint), if the first
    /// index words from its home name one with its tag.
    #[inline]
    pub fn prefetch_entry(&self, h: u64) {
        let mask = self.index.len().wrapping_sub(1);
        let mut i = h as usize & mask;
        for _ in 0..4 {
            let Some(&w) = self.index.get(i) else { return };
            if w == 0 {
                return;
            }
            if w & TAG == h & TAG {
                self.prefetch_entry_lines(&self.entries[(w & !TAG) as usize - 1]);
                return;
            }
            i = (i + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(i: u32) -> FlowKey {
        let mut k = FlowKey::default();
        k.src[12..].copy_from_slice(&i.to_be_bytes());
        k.sport = (i % 7) as u16;
        k
    }

    proptest! {
        #![proptest_config(crate::prop_config("model::key_map"))]

        /// Sums by key equal a `HashMap`'s, in first-insertion order, over
        /// the growths of the index.
        #[test]
        fn sums_by_key_equal_a_hash_maps(xs in proptest::collection::vec((0u32..300, 1u64..100), 0..2000)) {
            let mut m = KeyMap::<u64>::default();
            let mut want = std::collections::HashMap::new();
            let mut order = Vec::new();
            for (i, x) in xs {
                let k = key(i);
                m.prefetch_index(KeyMap::<u64>::hash(&k));
                m.prefetch_entry(KeyMap::<u64>::hash(&k));
                *m.get_or_insert_with(&k, KeyMap::<u64>::hash(&k), || 0) += x;
                if !want.contains_key(&k) {
                    order.push(k);
                }
                *want.entry(k).or_insert(0) += x;
            }
            prop_assert_eq!(m.len(), want.len());
            let got: Vec<_> = m.entries().map(|(k, v)| (*k, *v)).collect();
            let expect: Vec<_> = order.iter().map(|k| (*k, want[k])).collect();
            prop_assert_eq!(got, expect);
        }
    }
}
