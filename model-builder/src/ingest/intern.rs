//! String interning: each distinct string is stored once and named by a dense `u32`, so the
//! per-row work is one hash lookup and no allocation for strings already seen.

use rustc_hash::FxHashMap;

#[derive(Debug, Default)]
pub struct Interner {
    ids: FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    /// The id of `s`, and whether it was new.
    pub fn intern(&mut self, s: &str) -> (u32, bool) {
        if let Some(&id) = self.ids.get(s) {
            return (id, false);
        }
        let id = self.names.len() as u32;
        let boxed: Box<str> = s.into();
        self.names.push(boxed.clone());
        self.ids.insert(boxed, id);
        (id, true)
    }

    pub fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }
}

/// Remembers the last string interned: consecutive rows of an export repeat the invoice, date
/// and customer, so most rows skip even the hash lookup.
#[derive(Debug, Default)]
pub struct LastSeen<T: Copy> {
    key: Vec<u8>,
    value: Option<T>,
}

impl<T: Copy> LastSeen<T> {
    pub fn get(&self, key: &[u8]) -> Option<T> {
        match self.value {
            Some(v) if self.key == key => Some(v),
            _ => None,
        }
    }

    pub fn set(&mut self, key: &[u8], value: T) {
        self.key.clear();
        self.key.extend_from_slice(key);
        self.value = Some(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_gives_dense_stable_ids() {
        let mut i = Interner::default();
        assert_eq!(i.intern("a"), (0, true));
        assert_eq!(i.intern("b"), (1, true));
        assert_eq!(i.intern("a"), (0, false));
        assert_eq!(i.name(1), "b");
        assert_eq!(i.len(), 2);
    }

    #[test]
    fn last_seen_only_answers_for_the_same_key() {
        let mut l = LastSeen::default();
        assert_eq!(l.get(b"x"), None);
        l.set(b"x", 3);
        assert_eq!(l.get(b"x"), Some(3));
        assert_eq!(l.get(b"y"), None);
    }
}
