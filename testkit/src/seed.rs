//! Seeds: every random test runs from a fixed seed, printed, and
//! `BLOOMTIME_SEED` replays another; a failing test says which seed failed.

/// The seed for a random test: `BLOOMTIME_SEED` or the fixed `default`;
/// printed (the test harness shows it when the test fails).
pub fn seed(test: &str, default: u64) -> u64 {
    let s = std::env::var("BLOOMTIME_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    eprintln!("{test}: seed {s} (set BLOOMTIME_SEED to replay another)");
    s
}

/// The default seed of the model's and the traces' property tests.
pub const DEFAULT: u64 = 15;

/// A proptest configuration with the seed of [`seed`] (default
/// [`DEFAULT`]) and no regression files: the seed replays a failure.
pub fn prop_config(test: &str) -> proptest::test_runner::Config {
    prop_config_with(test, DEFAULT)
}

/// [`prop_config`] with another default seed.
pub fn prop_config_with(test: &str, default: u64) -> proptest::test_runner::Config {
    use proptest::test_runner::{Config, RngSeed};
    Config {
        rng_seed: RngSeed::Fixed(seed(test, default)),
        failure_persistence: None,
        ..Config::default()
    }
}

/// The tests' one generator: xorshift* (Vigna), seeded through a
/// multiplication so that small seeds give unrelated streams.
///
/// Made by [`Rng::seeded`], it also prints its test's seed again if the
/// test panics while it is alive, with the variable that replays it.
#[derive(Debug)]
pub struct Rng {
    state: u64,
    /// The test and seed, to print on a failure.
    note: Option<(String, u64)>,
}

impl Rng {
    /// A generator from `seed` (any value, 0 included).
    pub fn new(seed: u64) -> Rng {
        Rng {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            note: None,
        }
    }

    /// A generator for `test`: the seed is [`seed`]`(test, default)`,
    /// printed now and again if the test fails.
    pub fn seeded(test: &str, default: u64) -> Rng {
        let s = seed(test, default);
        Rng {
            note: Some((test.to_string(), s)),
            ..Rng::new(s)
        }
    }

    /// The seed of a generator made by [`Rng::seeded`].
    pub fn seed(&self) -> Option<u64> {
        self.note.as_ref().map(|n| n.1)
    }

    /// The next word. (Not an `Iterator`: the stream never ends, and
    /// every test calls it by this name.)
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`; modulo bias is immaterial here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`. (Written as bloomtime-hw's tests had it,
    /// `unit > 1 - p`, so that their seeded streams did not change when
    /// they moved here.)
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() > 1.0 - p
    }

    /// True with probability `p` percent.
    pub fn pct(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    pub fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

impl Drop for Rng {
    fn drop(&mut self) {
        if let Some((test, s)) = &self.note {
            if std::thread::panicking() {
                eprintln!("{test}: FAILED with seed {s} (BLOOMTIME_SEED={s} replays it)");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_fixed_by_the_seed() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next()
            })
            .collect();
        let mut r = Rng::new(7);
        assert!(a.iter().all(|&x| x == r.next()));
        let mut z = Rng::new(0);
        assert_ne!(z.next(), z.next(), "seed 0 must not be a fixed point");
        let mut r = Rng::new(3);
        let n = (0..10_000).filter(|_| r.chance(0.25)).count();
        assert!((2200..2800).contains(&n), "{n}");
        assert!((0..1000).all(|_| r.below(7) < 7));
    }

    #[test]
    fn a_failure_prints_the_seed() {
        // The note is printed from Drop while panicking; here it only must
        // not turn the panic into an abort.
        let r = std::panic::catch_unwind(|| {
            let _r = Rng::seeded("a_failure_prints_the_seed", 5);
            panic!("deliberate");
        });
        assert!(r.is_err());
    }
}
