//! UART receiver and transmitter: baud mismatch, line noise, framing errors,
//! loopback, back-to-back bytes, exact transmitter timing, Verilog.
//!
//! The line is modelled in software: a waveform with a fractional bit period
//! (baud mismatch) and a random sub-clock phase, sampled once a clock.

use bloomtime_hw::uart::{divisor, UartRx, UartTx};
use bloomtime_hw::util::{vcd_path, Stepper};
use bloomtime_testkit::{seed, Rng};

#[path = "common/lint.rs"]
mod lint;
use lint::lint;
use std::time::Instant;

// ---------------------------------------------------------------- harness

/// One character on the line.
#[derive(Clone, Copy)]
struct Char {
    byte: u8,
    /// Idle bit times before the start bit.
    gap: f64,
    /// The stop bit is high (false: a framing error).
    stop: bool,
}

fn ch(byte: u8) -> Char {
    Char {
        byte,
        gap: 0.0,
        stop: true,
    }
}

/// The line sampled once a clock: `lead` idle clocks, then the characters
/// with `period` clocks a bit, then `tail` idle bit times. `phase` (0..1)
/// shifts the waveform against the clock.
fn waveform(chars: &[Char], period: f64, phase: f64, lead: f64, tail: f64) -> Vec<bool> {
    // Level changes: (time, level).
    let mut edges = vec![(0.0, true)];
    let mut t = lead + phase;
    for c in chars {
        t += c.gap * period;
        for k in 0..10 {
            let level = match k {
                0 => false,
                9 => c.stop,
                _ => (c.byte >> (k - 1)) & 1 == 1,
            };
            edges.push((t + k as f64 * period, level));
        }
        t += 10.0 * period;
        // The line idles high after the stop bit (even a low one).
        edges.push((t, true));
    }
    let end = (t + tail * period).ceil() as usize;
    let mut out = Vec::with_capacity(end);
    let mut e = 0;
    for c in 0..end {
        while e + 1 < edges.len() && edges[e + 1].0 <= c as f64 {
            e += 1;
        }
        out.push(edges[e].1);
    }
    out
}

/// Flips `n` isolated samples (at least 3 clocks apart, so a vote of 3 sees
/// at most one) at random positions.
fn glitch_isolated(line: &mut [bool], n: usize, r: &mut Rng) -> usize {
    let mut done = 0;
    let mut hit: Vec<usize> = Vec::new();
    for _ in 0..n * 4 {
        if done == n {
            break;
        }
        let p = r.below(line.len() as u64) as usize;
        if hit.iter().any(|&h| h.abs_diff(p) < 3) {
            continue;
        }
        line[p] = !line[p];
        hit.push(p);
        done += 1;
    }
    done
}

/// What the receiver produced: bytes and framing errors, with their cycles.
#[derive(Default, Debug)]
struct RxOut {
    bytes: Vec<u8>,
    at: Vec<u64>,
    errors: Vec<u64>,
}

/// Runs a line through a receiver.
fn receive(divisor: u32, line: &[bool], vcd: Option<&str>) -> RxOut {
    let vcd = vcd.map(vcd_path);
    let mut s = Stepper::new(UartRx::with_divisor(divisor), vcd.as_deref());
    let mut out = RxOut::default();
    for &l in line {
        s.uut.rx.next = l;
        s.tick();
        if s.uut.valid.val() {
            out.bytes.push(s.uut.data.val().to_u64() as u8);
            out.at.push(s.cycle);
        }
        if s.uut.framing_error.val() {
            out.errors.push(s.cycle);
        }
    }
    out
}

/// Checks received bytes; on a mismatch re-runs with a VCD and reports the
/// first differing byte.
fn check_rx(test: &str, divisor: u32, line: &[bool], want: &[u8], errors: usize) {
    let got = receive(divisor, line, None);
    if got.bytes != want || got.errors.len() != errors {
        let path = vcd_path(test);
        let _ = receive(divisor, line, Some(test));
        let first = got
            .bytes
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.bytes.len().min(want.len()));
        panic!(
            "{test}: divisor {divisor}: {} bytes (want {}), {} framing errors (want {errors}); \
             first difference at byte {first}: got {:02x?} want {:02x?}; VCD {}",
            got.bytes.len(),
            want.len(),
            got.errors.len(),
            got.bytes.get(first),
            want.get(first),
            path.display()
        );
    }
}

// ---------------------------------------------------------------- receiver

#[test]
fn divisor_from_clock_and_baud() {
    assert_eq!(divisor(100_000_000, 1_000_000, 8), 100);
    assert_eq!(divisor(100_000_000, 115_200, 8), 868);
    assert_eq!(divisor(100_000_000, 9_600, 8), 10417);
    assert_eq!(UartRx::default().divisor(), 100);
    assert_eq!(UartTx::default().divisor(), 100);
    assert_eq!(UartTx::new(100_000_000, 25_000_000).divisor(), 4);
    assert_eq!(UartRx::new(100_000_000, 12_500_000).divisor(), 8);
}

#[test]
#[should_panic(expected = "off")]
fn divisor_rejects_a_baud_error_of_one_percent() {
    // 100 MHz / 3 Mbaud = 33.3 -> 33 (1.0 % fast).
    divisor(100_000_000, 3_000_000, 8);
}

#[test]
#[should_panic(expected = "does not fit")]
fn divisor_rejects_a_divisor_over_16_bits() {
    divisor(100_000_000, 1_200, 8);
}

#[test]
#[should_panic(expected = "below the minimum")]
fn receiver_needs_a_divisor_of_8() {
    UartRx::new(100_000_000, 20_000_000);
}

/// Random bytes, back to back and with random gaps, at ±2 % baud mismatch
/// both ways and several divisors.
#[test]
fn receives_across_baud_mismatch() {
    let s = seed("receives_across_baud_mismatch", 1);
    let mut r = Rng::new(s);
    let t0 = Instant::now();
    let mut cycles = 0;
    for (d, n) in [(8u32, 80usize), (9, 60), (13, 40), (16, 40), (100, 12)] {
        for skew in [0.98, 0.99, 1.0, 1.01, 1.02] {
            for gaps in [false, true] {
                let chars: Vec<Char> = (0..n)
                    .map(|_| Char {
                        gap: if gaps { r.unit() * 2.0 } else { 0.0 },
                        ..ch(r.byte())
                    })
                    .collect();
                let want: Vec<u8> = chars.iter().map(|c| c.byte).collect();
                let line = waveform(&chars, d as f64 * skew, r.unit(), 5.0, 2.0);
                cycles += line.len();
                check_rx(
                    &format!("rx_mismatch_d{d}_{skew}_{gaps}"),
                    d,
                    &line,
                    &want,
                    0,
                );
            }
        }
    }
    let dt = t0.elapsed().as_secs_f64();
    eprintln!(
        "{cycles} cycles in {dt:.2} s: {:.0} UartRx cycles/s",
        cycles as f64 / dt
    );
}

/// Isolated one-clock glitches anywhere (idle line, start, data and stop
/// bits) are invisible: the 3-sample vote never sees more than one.
#[test]
fn isolated_glitches_are_invisible() {
    let s = seed("isolated_glitches_are_invisible", 2);
    let mut r = Rng::new(s);
    for (d, skew) in [
        (8u32, 1.0),
        (8, 0.99),
        (8, 1.01),
        (16, 0.98),
        (16, 1.02),
        (50, 0.98),
        (50, 1.02),
    ] {
        let chars: Vec<Char> = (0..40)
            .map(|_| Char {
                gap: r.unit() * 3.0,
                ..ch(r.byte())
            })
            .collect();
        let want: Vec<u8> = chars.iter().map(|c| c.byte).collect();
        let mut line = waveform(&chars, d as f64 * skew, r.unit(), 20.0, 3.0);
        let n = line.len() / 12;
        glitch_isolated(&mut line, n, &mut r);
        check_rx(&format!("rx_glitch_d{d}_{skew}"), d, &line, &want, 0);
    }
}

/// Glitches on the idle line shorter than half a bit (less the vote's
/// reach) are false starts: no byte, no framing error; bytes after them
/// are received.
#[test]
fn idle_line_glitches_are_false_starts() {
    let s = seed("idle_line_glitches_are_false_starts", 3);
    let mut r = Rng::new(s);
    for d in [8u32, 16, 100] {
        let period = d as f64;
        // Noise burst: glitches of 1 ..= d/2 - 2 clocks, separated by at
        // least a bit time, over 40 bit times of idle line; then 4 bytes.
        let mut line = vec![true; 40 * d as usize];
        let mut p = 2;
        while p + d as usize <= line.len() {
            let len = 1 + r.below((d / 2 - 2) as u64) as usize;
            for l in &mut line[p..p + len] {
                *l = false;
            }
            p += len + d as usize + r.below(d as u64) as usize;
        }
        let chars: Vec<Char> = (0..4).map(|_| ch(r.byte())).collect();
        let want: Vec<u8> = chars.iter().map(|c| c.byte).collect();
        line.extend(waveform(&chars, period, r.unit(), 2.0 * period, 2.0));
        check_rx(&format!("rx_false_start_d{d}"), d, &line, &want, 0);
    }
}

/// A low stop bit drops the byte with one framing-error pulse; the bytes
/// around it are received.
#[test]
fn framing_errors_are_flagged_and_dropped() {
    let s = seed("framing_errors_are_flagged_and_dropped", 4);
    let mut r = Rng::new(s);
    for d in [8u32, 12, 100] {
        let mut chars = Vec::new();
        let mut want = Vec::new();
        let mut errors = 0;
        for i in 0..30 {
            // A bad stop bit, then one idle bit time so the line goes high
            // (`0x00` with a low stop bit is a break: the receiver waits for
            // the line to rise before the next character).
            let bad = i % 4 == 1;
            let c = Char {
                stop: !bad,
                gap: if chars.last().is_some_and(|c: &Char| !c.stop) {
                    1.0
                } else {
                    0.0
                },
                ..ch(r.byte())
            };
            if bad {
                errors += 1;
            } else {
                want.push(c.byte);
            }
            chars.push(c);
        }
        let line = waveform(&chars, d as f64 * 1.01, r.unit(), 3.0, 2.0);
        check_rx(&format!("rx_framing_d{d}"), d, &line, &want, errors);
    }
}

/// A break (line held low for many characters) is one framing error, and
/// the receiver recovers when the line goes high.
#[test]
fn break_is_one_error_then_recovery() {
    let d = 10u32;
    let mut line = vec![true; 30];
    line.extend(vec![false; 40 * d as usize]);
    line.extend(vec![true; 3]);
    line.extend(waveform(&[ch(0x5a), ch(0xa5)], d as f64, 0.3, 0.0, 2.0));
    check_rx("rx_break", d, &line, &[0x5a, 0xa5], 1);
}

/// Longer glitches inside characters may corrupt them (8N1 has no parity),
/// but never hang the receiver: once the line is clean again the next
/// bytes are received exactly.
#[test]
fn recovers_after_heavy_noise() {
    let s = seed("recovers_after_heavy_noise", 5);
    let mut r = Rng::new(s);
    for d in [8u32, 16] {
        let noisy: Vec<Char> = (0..30).map(|_| ch(r.byte())).collect();
        let mut line = waveform(&noisy, d as f64, r.unit(), 3.0, 0.0);
        for _ in 0..line.len() / 10 {
            let p = r.below(line.len() as u64) as usize;
            let len = 1 + r.below(d as u64 / 2) as usize;
            for l in line.iter_mut().skip(p).take(len) {
                *l = !*l;
            }
        }
        let clean: Vec<Char> = (0..8).map(|_| ch(r.byte())).collect();
        let want: Vec<u8> = clean.iter().map(|c| c.byte).collect();
        // Two idle character times let a receiver stuck in a character or
        // waiting after a framing error see the idle line.
        let n0 = line.len();
        line.extend(waveform(&clean, d as f64, r.unit(), 20.0 * d as f64, 2.0));
        let got = receive(d, &line, None);
        let tail: Vec<u8> = got
            .bytes
            .iter()
            .zip(&got.at)
            .filter(|(_, &c)| c as usize > n0 + 10 * d as usize)
            .map(|(&b, _)| b)
            .collect();
        assert!(got.bytes.len() <= noisy.len() + clean.len());
        assert_eq!(tail, want, "divisor {d}: bytes after the noise");
    }
}

// ---------------------------------------------------------------- transmitter

/// Decodes a clean waveform with an exact bit period (software receiver,
/// sampling at bit centres). Returns the bytes and the start cycles.
fn decode(line: &[bool], d: usize) -> Vec<(usize, u8)> {
    let mut out = Vec::new();
    let mut c = 1;
    while c < line.len() {
        if line[c - 1] && !line[c] {
            let centre = |k: usize| c + k * d + d / 2;
            if centre(9) >= line.len() {
                panic!("character cut short at cycle {c}");
            }
            assert!(!line[centre(0)], "start bit at cycle {c}");
            let mut b = 0u8;
            for k in 0..8 {
                if line[centre(k + 1)] {
                    b |= 1 << k;
                }
            }
            assert!(line[centre(9)], "stop bit of the character at cycle {c}");
            // Every bit holds for exactly d clocks.
            for k in 0..10 {
                let v = line[c + k * d];
                assert!(
                    line[c + k * d..c + (k + 1) * d].iter().all(|&x| x == v),
                    "bit {k} of the character at cycle {c} is not {d} clocks"
                );
            }
            out.push((c, b));
            c += 10 * d - 1;
        }
        c += 1;
    }
    out
}

/// The transmitter's waveform is exact: each bit `divisor` clocks, bytes
/// offered back to back go out with no gap (10 * divisor clocks each), and
/// bytes with gaps start the clock after they are taken.
#[test]
fn transmitter_timing_is_exact() {
    let s = seed("transmitter_timing_is_exact", 6);
    let mut r = Rng::new(s);
    for d in [4usize, 5, 8, 100] {
        let mut st = Stepper::new(UartTx::with_divisor(d as u32), None);
        let bytes: Vec<u8> = (0..24).map(|_| r.byte()).collect();
        let mut line = Vec::new();
        let mut taken = Vec::new();
        let mut i = 0;
        let mut hold = 0;
        assert!(st.uut.tx.val(), "idle line is high after power-up");
        while i < bytes.len() || st.uut.busy.val() {
            // Offer bytes back to back for the first half, then with gaps.
            let offer = i < bytes.len() && (i < 12 || hold == 0);
            st.uut.valid.next = offer;
            st.uut.data.next = (*bytes.get(i).unwrap_or(&0) as u64).into();
            st.settle();
            let fire = offer && st.uut.ready.val();
            line.push(st.uut.tx.val());
            st.tick();
            if fire {
                taken.push(line.len());
                i += 1;
                hold = r.below(3 * d as u64);
            } else {
                hold = hold.saturating_sub(1);
            }
        }
        line.resize(line.len() + 2 * d, true);
        let got = decode(&line, d);
        let got_bytes: Vec<u8> = got.iter().map(|g| g.1).collect();
        assert_eq!(got_bytes, bytes, "divisor {d}");
        // The start bit begins at the edge that takes the byte.
        let starts: Vec<usize> = got.iter().map(|g| g.0).collect();
        assert_eq!(starts, taken, "divisor {d}: start cycles");
        for w in starts[..12].windows(2) {
            assert_eq!(w[1] - w[0], 10 * d, "divisor {d}: back to back");
        }
    }
}

/// UartTx -> UartRx at several divisors, back to back.
#[test]
fn loopback_at_several_divisors() {
    let s = seed("loopback_at_several_divisors", 7);
    let mut r = Rng::new(s);
    for d in [8u32, 9, 11, 16, 100] {
        let n = if d == 100 { 16 } else { 64 };
        let bytes: Vec<u8> = (0..n).map(|_| r.byte()).collect();
        let mut tx = Stepper::new(UartTx::with_divisor(d), None);
        let mut rx = Stepper::new(UartRx::with_divisor(d), None);
        let mut got = Vec::new();
        let mut i = 0;
        let mut first = None;
        let mut last = 0;
        for c in 0..(n as u64 + 2) * 10 * d as u64 {
            tx.uut.valid.next = i < bytes.len();
            tx.uut.data.next = (*bytes.get(i).unwrap_or(&0) as u64).into();
            tx.settle();
            if i < bytes.len() && tx.uut.ready.val() {
                i += 1;
            }
            rx.uut.rx.next = tx.uut.tx.val();
            tx.tick();
            rx.tick();
            assert!(!rx.uut.framing_error.val(), "divisor {d}: framing error");
            if rx.uut.valid.val() {
                got.push(rx.uut.data.val().to_u64() as u8);
                first.get_or_insert(c);
                last = c;
            }
        }
        assert_eq!(got, bytes, "divisor {d}");
        // Full rate: one byte every 10 bit times.
        let f = first.unwrap();
        assert_eq!(
            last - f,
            (n as u64 - 1) * 10 * d as u64,
            "divisor {d}: throughput"
        );
    }
}

// ---------------------------------------------------------------- Verilog

#[test]
fn verilog_rx_synthesizes_and_lints() {
    lint("uart_rx", UartRx::default());
}

#[test]
fn verilog_tx_synthesizes_and_lints() {
    lint("uart_tx", UartTx::default());
}
