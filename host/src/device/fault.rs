//! A transport wrapper that damages bytes in both directions: dropped,
//! duplicated, corrupted and inserted bytes, from a seeded generator so a
//! failing run can be replayed with its seed.

use super::transport::Transport;
use std::collections::VecDeque;
use std::io;
use std::time::Duration;

/// Probabilities per byte, for each direction.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FaultRates {
    pub drop: f64,
    pub duplicate: f64,
    pub corrupt: f64,
    /// A random byte inserted before this one.
    pub insert: f64,
}

impl FaultRates {
    /// The same probability for every kind of fault.
    pub fn uniform(p: f64) -> FaultRates {
        FaultRates {
            drop: p,
            duplicate: p,
            corrupt: p,
            insert: p,
        }
    }
}

/// Faults applied so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    pub dropped: u64,
    pub duplicated: u64,
    pub corrupted: u64,
    pub inserted: u64,
}

impl FaultCounts {
    pub fn total(&self) -> u64 {
        self.dropped + self.duplicated + self.corrupted + self.inserted
    }
}

/// splitmix64: small, seeded, good enough to place faults.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Wraps a transport and damages what passes through it.
pub struct FaultyTransport<T: Transport> {
    inner: T,
    rng: SplitMix64,
    /// Host → device.
    pub to_device: FaultRates,
    /// Device → host.
    pub to_host: FaultRates,
    pub counts_to_device: FaultCounts,
    pub counts_to_host: FaultCounts,
    pending: VecDeque<u8>,
    scratch: Vec<u8>,
}

fn damage(
    rng: &mut SplitMix64,
    r: &FaultRates,
    c: &mut FaultCounts,
    bytes: &[u8],
    out: &mut Vec<u8>,
) {
    for &b in bytes {
        if rng.unit() < r.insert {
            out.push(rng.next_u64() as u8);
            c.inserted += 1;
        }
        if rng.unit() < r.drop {
            c.dropped += 1;
            continue;
        }
        let v = if rng.unit() < r.corrupt {
            c.corrupted += 1;
            b ^ (1 + (rng.next_u64() % 255) as u8)
        } else {
            b
        };
        out.push(v);
        if rng.unit() < r.duplicate {
            out.push(v);
            c.duplicated += 1;
        }
    }
}

impl<T: Transport> FaultyTransport<T> {
    pub fn new(inner: T, seed: u64, to_device: FaultRates, to_host: FaultRates) -> Self {
        FaultyTransport {
            inner,
            rng: SplitMix64(seed),
            to_device,
            to_host,
            counts_to_device: FaultCounts::default(),
            counts_to_host: FaultCounts::default(),
            pending: VecDeque::new(),
            scratch: Vec::new(),
        }
    }
    pub fn inner(&self) -> &T {
        &self.inner
    }
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: Transport> Transport for FaultyTransport<T> {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut out = Vec::with_capacity(bytes.len() + 8);
        damage(
            &mut self.rng,
            &self.to_device,
            &mut self.counts_to_device,
            bytes,
            &mut out,
        );
        self.inner.write_all(&out)
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        while self.pending.is_empty() {
            self.scratch.resize(buf.len().max(64), 0);
            let n = self.inner.read(&mut self.scratch, timeout)?;
            if n == 0 {
                return Ok(0);
            }
            let mut out = Vec::with_capacity(n + 8);
            damage(
                &mut self.rng,
                &self.to_host,
                &mut self.counts_to_host,
                &self.scratch[..n],
                &mut out,
            );
            self.pending.extend(out);
        }
        let n = buf.len().min(self.pending.len());
        for (d, s) in buf.iter_mut().zip(self.pending.drain(..n)) {
            *d = s;
        }
        Ok(n)
    }

    fn clear_input(&mut self) -> io::Result<()> {
        self.pending.clear();
        self.inner.clear_input()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    fn name(&self) -> &str {
        self.inner.name()
    }
}
