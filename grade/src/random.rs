//! Random numbers for test data: the site's contents, its names, a port to try.
//!
//! xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift
//! generators", 2016): a few lines, no dependency, and random enough for data
//! that only has to be unguessable by the server under test, never secret.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Counts the generators made by [`Rng::new`], so that two made in the same
/// nanosecond still differ.
static MADE: AtomicU64 = AtomicU64::new(0);

/// A xorshift64* generator.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator that no other run, and no other generator of this one,
    /// shares: seeded from the clock, the process and a counter.
    pub fn new() -> Rng {
        let time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64);
        let count = MADE.fetch_add(1, Ordering::Relaxed);
        let seed = time ^ (u64::from(std::process::id()) << 32) ^ count.wrapping_mul(0x9E37_79B9);
        let mut rng = Rng::seeded(seed);
        // The first number still shows much of the seed; skip it.
        rng.next_u64();
        rng
    }

    /// A generator that gives the same numbers for the same seed, so that a
    /// test that fails on them can be run again on the same ones.
    pub fn seeded(seed: u64) -> Rng {
        // Zero is the one state xorshift never leaves.
        Rng(seed | 1)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number from 0 to `n - 1`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `len` bytes that start with every byte value once (when `len` allows),
    /// so that a file of them shows any byte a server mangles.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut bytes: Vec<u8> = (0..=255).collect();
        bytes.reserve(len.saturating_sub(bytes.len()));
        while bytes.len() < len {
            bytes.extend(self.next_u64().to_le_bytes());
        }
        bytes.truncate(len);
        bytes
    }

    /// Sixteen hex digits: a word no server can know in advance.
    pub fn token(&mut self) -> String {
        format!("{:016x}", self.next_u64())
    }
}

impl Default for Rng {
    fn default() -> Rng {
        Rng::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_numbers_and_new_generators_differ() {
        let (mut a, mut b) = (Rng::seeded(7), Rng::seeded(7));
        assert_eq!([a.next_u64(), a.next_u64()], [b.next_u64(), b.next_u64()]);
        assert_ne!(Rng::new().token(), Rng::new().token());
    }

    #[test]
    fn bytes_hold_every_value_and_numbers_stay_below() {
        let mut rng = Rng::seeded(1);
        let bytes = rng.bytes(1000);
        assert_eq!(bytes.len(), 1000);
        assert!((0..=255).all(|byte| bytes.contains(&byte)));
        assert_eq!(rng.bytes(3), [0, 1, 2]);
        assert!((0..1000).all(|_| rng.below(7) < 7));
        assert_eq!(rng.token().len(), 16);
    }
}
