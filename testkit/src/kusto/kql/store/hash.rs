//! A fast hasher for the column store's dictionaries and the columnar `summarize`'s group
//! index: their keys are cell values hashed once per ingested or scanned cell, where std's
//! SipHash (built to resist hash flooding) was a measurable share of the time. The emulator
//! is a local test tool, so flooding resistance is not needed there.

use std::hash::{BuildHasher, Hasher};

/// Builds [`WordHasher`]s.
#[derive(Debug, Clone, Copy, Default)]
pub struct FastHash;

impl BuildHasher for FastHash {
    type Hasher = WordHasher;

    fn build_hasher(&self) -> WordHasher {
        WordHasher(SEED)
    }
}

/// Mixes input 8 bytes at a time with a multiply and a rotate.
#[derive(Debug, Clone, Copy)]
pub struct WordHasher(u64);

const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

impl WordHasher {
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(23) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.mix(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.mix(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }

    fn finish(&self) -> u64 {
        // A final avalanche so that the low bits (which pick the bucket) depend on all input.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^ (h >> 33)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_input_equal_hash_and_different_input_spreads() {
        let h = |s: &str| FastHash.hash_one(s);
        assert_eq!(h("dev-001"), h("dev-001"));
        assert_ne!(h("dev-001"), h("dev-002"));
        assert_ne!(h(""), h("\0"));
    }
}
