//! Dictionary encoding of a text column: each distinct string is kept once and cells hold
//! its 32-bit id, so that grouping and filtering compare ids instead of strings and a
//! low-cardinality column (devices, capabilities) costs 4 bytes per row.

use super::hash::FastHash;
use std::collections::HashMap;
use std::sync::Arc;

/// The id of a null cell (guid and decimal columns; a null string is stored as "").
pub const NULL_ID: u32 = u32::MAX;

/// The distinct strings of one column, by id.
#[derive(Debug, Clone, Default)]
pub struct Dict {
    values: Vec<Arc<str>>,
    ids: HashMap<Arc<str>, u32, FastHash>,
}

impl Dict {
    /// The id of `s`, added if new. None when the column already holds 2^32 - 1 distinct
    /// strings (the caller then stops using the store for that table).
    pub fn intern(&mut self, s: &str) -> Option<u32> {
        if let Some(&id) = self.ids.get(s) {
            return Some(id);
        }
        let id = u32::try_from(self.values.len())
            .ok()
            .filter(|&i| i != NULL_ID)?;
        let value: Arc<str> = Arc::from(s);
        self.values.push(value.clone());
        self.ids.insert(value, id);
        Some(id)
    }

    /// The string of `id` (None for [`NULL_ID`]).
    pub fn get(&self, id: u32) -> Option<&str> {
        self.values.get(id as usize).map(|s| &**s)
    }

    /// How many distinct strings the column holds.
    pub fn len(&self) -> usize {
        self.values.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_kept_once() {
        let mut d = Dict::default();
        let a = d.intern("a").unwrap();
        let b = d.intern("b").unwrap();
        assert_eq!(d.intern("a"), Some(a));
        assert_ne!(a, b);
        assert_eq!(d.get(b), Some("b"));
        assert_eq!(d.get(NULL_ID), None);
        assert_eq!(d.len(), 2);
    }
}
