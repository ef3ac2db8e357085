//! The frame layer against `protocol::Deframer` / `encode_frame`: decoded
//! requests and good/bad classification, corrupt frames, resynchronisation,
//! overruns, the transmit side, end to end through the UARTs, Verilog.

use bloomtime_hw::link::{crc16_byte, Crc16Reg, Link, UartLink};
use bloomtime_hw::uart::{UartRx, UartTx};
use bloomtime_hw::util::{vcd_path, Stepper};
use bloomtime_model::protocol::{
    crc16, encode_frame, status, Deframer, FrameError, MAX_FRAME, MAX_PAYLOAD, SEQ_UNKNOWN,
    SLIP_END, SLIP_ESC,
};
use bloomtime_testkit::{seed, Rng};
use proptest::prelude::*;
use rust_hdl::prelude::*;

#[path = "common/lint.rs"]
mod lint;
use lint::lint;
use std::time::Instant;

// ---------------------------------------------------------------- harness

/// Random link bytes: often one of the SLIP specials.
trait SlipBytes {
    fn slip_byte(&mut self) -> u8;
    fn bytes(&mut self, n: usize) -> Vec<u8>;
}

impl SlipBytes for Rng {
    fn slip_byte(&mut self) -> u8 {
        match self.below(8) {
            0 => SLIP_END,
            1 => SLIP_ESC,
            2 => 0xDC,
            3 => 0xDD,
            _ => self.next() as u8,
        }
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.slip_byte()).collect()
    }
}

/// What the receive side reported, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ev {
    Ok(Vec<u8>),
    Crc,
    Slip,
    /// Dropped because a request was pending.
    Overrun,
}

/// The Deframer's verdicts as events.
fn model(stream: &[u8]) -> Vec<Ev> {
    let mut d = Deframer::new();
    stream
        .iter()
        .filter_map(|&b| d.push(b))
        .map(|r| match r {
            Ok(p) => Ev::Ok(p),
            Err(FrameError::BadCrc) => Ev::Crc,
            Err(_) => Ev::Slip,
        })
        .collect()
}

/// A `Link` with a processor that reads every request as soon as it is
/// raised and acknowledges it (unless `auto_done` is off), between two
/// received bytes.
struct Dev {
    s: Stepper<Link>,
    events: Vec<Ev>,
    auto_done: bool,
    /// Idle clocks between received bytes: 0 ..= `gap`.
    gap: u64,
    r: Rng,
}

impl Dev {
    fn new(vcd: Option<&str>, gap: u64, seed: u64) -> Dev {
        let vcd = vcd.map(vcd_path);
        Dev {
            s: Stepper::new(Link::default(), vcd.as_deref()),
            events: Vec::new(),
            auto_done: true,
            gap,
            r: Rng::new(seed),
        }
    }

    /// One clock; handles the counter pulses.
    fn tick(&mut self) {
        self.s.tick();
        self.after_tick();
    }

    /// Handles the counter pulses seen after a clock.
    fn after_tick(&mut self) {
        let u = &self.s.uut;
        let (ok, crc, slip, ovr) = (
            u.rx_frame_ok.val(),
            u.rx_crc_error.val(),
            u.rx_slip_error.val(),
            u.rx_overrun.val(),
        );
        assert!(
            (ok as u8 + crc as u8 + slip as u8) <= 1 && (!ovr || slip),
            "cycle {}: pulses",
            self.s.cycle
        );
        if ovr {
            assert!(u.req_valid.val() || u.req_bad.val() || !self.auto_done);
            self.events.push(Ev::Overrun);
        } else if ok {
            assert!(u.req_valid.val() && !u.req_bad.val(), "ok raises req_valid");
            if self.auto_done {
                let p = self.read_request();
                self.events.push(Ev::Ok(p));
                self.done();
            }
        } else if crc || slip {
            assert!(
                u.req_bad.val() && !u.req_valid.val(),
                "errors raise req_bad"
            );
            self.events.push(if crc { Ev::Crc } else { Ev::Slip });
            if self.auto_done {
                self.done();
            }
        }
    }

    /// Reads the pending request through the read port.
    fn read_request(&mut self) -> Vec<u8> {
        let n = self.s.uut.req_len.val().to_u64() as usize;
        let mut p = Vec::with_capacity(n);
        for i in 0..n {
            self.s.uut.req_rd_addr.next = (i as u64).into();
            self.s.tick();
            p.push(self.s.uut.req_rd_data.val().to_u64() as u8);
            assert!(self.s.uut.req_valid.val());
        }
        p
    }

    fn done(&mut self) {
        self.s.uut.req_done.next = true;
        self.s.tick();
        self.s.uut.req_done.next = false;
        assert!(!self.s.uut.req_valid.val() && !self.s.uut.req_bad.val());
    }

    /// Offers the bytes, one a clock or with random gaps. The verdict on a
    /// frame comes three clocks after its END, so an END is always followed
    /// by two idle clocks: the processor (`tick`) then handles the request
    /// before the next byte reaches the decoder, as a real one does between
    /// two UART bytes.
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.s.uut.rx_data.next = (b as u64).into();
            self.s.uut.rx_valid.next = true;
            self.s.tick();
            self.s.uut.rx_valid.next = false;
            self.after_tick();
            let mut g = if self.gap > 0 {
                self.r.below(self.gap + 1)
            } else {
                0
            };
            if b == SLIP_END {
                g = g.max(2);
            }
            for _ in 0..g {
                self.tick();
            }
        }
        self.tick();
    }
}

/// Feeds a stream and compares with the Deframer; on a mismatch re-runs
/// with a VCD and reports the first differing event. Returns the clocks.
fn check(test: &str, stream: &[u8], gap: u64, seed: u64) -> u64 {
    let want = model(stream);
    let mut d = Dev::new(None, gap, seed);
    d.feed(stream);
    if d.events != want {
        let mut v = Dev::new(Some(test), gap, seed);
        v.feed(stream);
        let first = d
            .events
            .iter()
            .zip(&want)
            .position(|(a, b)| a != b)
            .unwrap_or(d.events.len().min(want.len()));
        let diff = match (d.events.get(first), want.get(first)) {
            (Some(Ev::Ok(a)), Some(Ev::Ok(b))) => {
                let i = a.iter().zip(b).position(|(x, y)| x != y);
                format!(
                    "payload lengths {} / {}, first differing byte {:?}",
                    a.len(),
                    b.len(),
                    i.map(|i| (i, a[i], b[i]))
                )
            }
            (g, w) => format!("got {g:?}, want {w:?}"),
        };
        panic!(
            "{test}: {} events, Deframer {}; first difference at event {first}: {diff}; VCD {}",
            d.events.len(),
            want.len(),
            vcd_path(test).display()
        );
    }
    d.s.cycle
}

fn prop_seed(test: &str, default: u64) -> ProptestConfig {
    ProptestConfig {
        cases: 48,
        ..bloomtime_testkit::seed::prop_config_with(test, default)
    }
}

/// Payload bytes with plenty of SLIP specials.
fn payload(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            3 => any::<u8>(),
            1 => Just(SLIP_END),
            1 => Just(SLIP_ESC),
            1 => prop_oneof![Just(0xDCu8), Just(0xDDu8)],
        ],
        1..=max,
    )
}

// ---------------------------------------------------------------- CRC

/// The byte-wide CRC equals the model's bit-by-bit CRC-16 for every CRC
/// value and byte.
#[test]
fn crc_byte_step_is_exhaustively_the_model() {
    for crc in 0..=u16::MAX {
        for b in 0..=255u8 {
            let mut c = crc ^ (b as u16) << 8;
            for _ in 0..8 {
                c = if c & 0x8000 != 0 {
                    (c << 1) ^ 0x1021
                } else {
                    c << 1
                };
            }
            assert_eq!(crc16_byte(crc, b), c);
        }
    }
    let data = b"123456789";
    assert_eq!(
        data.iter().fold(0xffff, |c, &b| crc16_byte(c, b)),
        crc16(data)
    );
    // The residue property the receiver relies on.
    let mut r = Rng::new(9);
    for n in 1..64 {
        let p = r.bytes(n);
        let mut f = p.clone();
        f.extend_from_slice(&crc16(&p).to_be_bytes());
        assert_eq!(f.iter().fold(0xffff, |c, &b| crc16_byte(c, b)), 0);
    }
}

/// The CRC register block against `crc16_byte`, and a yosys proof (by
/// induction) that its Verilog equals a register updated by a bit-serial
/// transcription of `protocol::crc16`, for every input sequence.
#[test]
fn crc_register_block_and_its_verilog() {
    let mut r = Rng::new(10);
    let mut s = Stepper::new(CrcHarness::default(), None);
    let mut crc = 0xffffu16;
    assert_eq!(s.uut.crc.crc(), crc);
    for i in 0..3000 {
        let (clear, en, b) = (r.pct(3), r.pct(70), r.next() as u8);
        s.uut.crc.clear.next = clear;
        s.uut.crc.en.next = en;
        s.uut.crc.din.next = (b as u64).into();
        s.tick();
        crc = if clear {
            0xffff
        } else if en {
            crc16_byte(crc, b)
        } else {
            crc
        };
        let got = (s.uut.crc.hi.val().to_u64() << 8 | s.uut.crc.lo.val().to_u64()) as u16;
        assert_eq!(got, crc, "step {i}");
    }
    let mut k = Crc16Reg::default();
    k.connect_all();
    let dut = generate_verilog(&k);
    let reference = r#"
module reference(input clock, input clear, input en, input [7:0] din,
                 output [7:0] hi, output [7:0] lo);
  reg [15:0] crc = 16'hffff;
  reg [15:0] c;
  integer i;
  always @(*) begin
    c = crc ^ {din, 8'd0};
    for (i = 0; i < 8; i = i + 1)
      c = c[15] ? ({c[14:0], 1'b0} ^ 16'h1021) : {c[14:0], 1'b0};
  end
  always @(posedge clock)
    if (clear) crc <= 16'hffff;
    else if (en) crc <= c;
  assign hi = crc[15:8];
  assign lo = crc[7:0];
endmodule
"#;
    let dir = std::env::temp_dir().join("link_crc_equiv");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("dut.v"), &dut).unwrap();
    std::fs::write(dir.join("reference.v"), reference).unwrap();
    // The outputs are the whole state, so equal outputs at one step imply
    // equal outputs at the next: 1-induction proves it for all sequences.
    let out = std::process::Command::new("yosys")
        .current_dir(&dir)
        .args([
            "-q",
            "-p",
            "read_verilog dut.v reference.v; proc; opt_clean; \
             miter -equiv -flatten -make_assert top reference miter; \
             hierarchy -top miter; flatten; opt_clean; \
             sat -verify -tempinduct -prove-asserts miter",
        ])
        .output()
        .expect("yosys");
    assert!(
        out.status.success(),
        "yosys equivalence proof failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A clock for a lone `Crc16Reg`.
#[derive(LogicBlock, Default)]
struct CrcHarness {
    clock: Signal<In, Clock>,
    crc: Crc16Reg,
}

impl Logic for CrcHarness {
    #[hdl_gen]
    fn update(&mut self) {
        self.crc.clock.next = self.clock.val();
    }
}

bloomtime_hw::impl_clocked!(CrcHarness);

// ---------------------------------------------------------------- receive side

proptest! {
    #![proptest_config(prop_seed("random_requests_decode_like_the_deframer", 21))]
    /// Good frames of random payloads (1..=500 bytes, many SLIP specials),
    /// with and without byte gaps: every payload comes out of the request
    /// buffer exactly.
    #[test]
    fn random_requests_decode_like_the_deframer(
        frames in prop::collection::vec(payload(MAX_PAYLOAD), 1..4),
        small in prop::collection::vec(payload(12), 0..6),
        gap in 0u64..3,
    ) {
        let mut stream = Vec::new();
        for p in frames.iter().chain(&small) {
            stream.extend(encode_frame(p));
        }
        let want = model(&stream);
        prop_assert_eq!(want.len(), frames.len() + small.len());
        prop_assert!(want.iter().all(|e| matches!(e, Ev::Ok(_))));
        check("random_requests", &stream, gap, 0);
    }
}

/// One corrupted (or not) frame, and what was done to it.
fn corrupt(r: &mut Rng, out: &mut Vec<u8>) -> &'static str {
    let max = if r.pct(10) { MAX_PAYLOAD as u64 } else { 40 };
    let n = 1 + r.below(max) as usize;
    let p = r.bytes(n);
    let mut f = encode_frame(&p);
    let inner = f.len() - 2; // bytes between the ENDs
    let at = 1 + r.below(inner as u64) as usize;
    let what = match r.below(13) {
        0 => "intact",
        1 => {
            f[at] ^= 1 << r.below(8);
            "bit flip"
        }
        2 => {
            f.remove(at);
            "dropped byte"
        }
        3 => {
            f.insert(at, f[at]);
            "duplicated byte"
        }
        4 => {
            f.truncate(at);
            f.push(SLIP_END);
            "truncated"
        }
        5 => {
            let n = MAX_PAYLOAD + 1 + r.below(30) as usize;
            f = encode_frame(&r.bytes(n));
            "overlong"
        }
        6 => {
            f = encode_frame(&r.bytes(MAX_PAYLOAD));
            "longest"
        }
        7 => {
            let mut b = r.next() as u8;
            if b == 0xDC || b == 0xDD {
                b = 0;
            }
            f.splice(at..at, [SLIP_ESC, b]);
            "bad escape"
        }
        8 => {
            f.splice(at..at, [SLIP_ESC]);
            f.truncate(at + 1);
            f.push(SLIP_END);
            "escape before END"
        }
        9 => {
            f = vec![SLIP_END, r.next() as u8, r.next() as u8, SLIP_END];
            "too short"
        }
        10 => {
            f.remove(0);
            "no leading END"
        }
        11 => {
            f.splice(0..0, [SLIP_END, SLIP_END]);
            "empty frames"
        }
        _ => {
            let n = r.below(20) as usize;
            let g = r.bytes(n);
            f.splice(0..0, g);
            "garbage before"
        }
    };
    out.extend(f);
    what
}

/// Streams of frames with bit flips, dropped and duplicated bytes,
/// truncation, overlong frames, bad escapes, garbage: the same verdicts,
/// in the same order, as the Deframer, and the same payloads.
#[test]
fn corrupt_frames_classified_like_the_deframer() {
    let s = seed("corrupt_frames_classified_like_the_deframer", 22);
    let mut r = Rng::new(s);
    let t0 = Instant::now();
    let mut cycles = 0;
    let mut kinds = std::collections::BTreeMap::new();
    for round in 0..30 {
        let mut stream = Vec::new();
        for _ in 0..12 {
            *kinds.entry(corrupt(&mut r, &mut stream)).or_insert(0) += 1;
        }
        let gap = round % 3;
        cycles += check(&format!("corrupt_{round}"), &stream, gap, s + round);
    }
    let dt = t0.elapsed().as_secs_f64();
    eprintln!(
        "{kinds:?}; {cycles} Link cycles in {dt:.2} s: {:.0} cycles/s",
        cycles as f64 / dt
    );
}

/// The exact boundaries: 500-byte payloads (502 decoded bytes) pass, one
/// more is too long; 1-byte payloads pass, 2 decoded bytes are too short;
/// empty frames between ENDs are ignored; ESC END is a bad escape even in
/// an empty frame.
#[test]
fn length_and_escape_boundaries() {
    let mut r = Rng::new(23);
    let max = r.bytes(MAX_PAYLOAD);
    let mut stream = encode_frame(&max);
    stream.extend(encode_frame(&r.bytes(MAX_PAYLOAD + 1)));
    stream.extend(encode_frame(&[0x42]));
    stream.extend([SLIP_END, 0x12, 0x34, SLIP_END, SLIP_END, SLIP_END]);
    stream.extend([SLIP_ESC, SLIP_END, SLIP_ESC, 0x00, SLIP_END]);
    // Exactly MAX_FRAME decoded bytes with a wrong CRC: a CRC error.
    stream.extend(vec![0x55; MAX_FRAME]);
    stream.push(SLIP_END);
    // MAX_FRAME bytes, then an escape: too long (an escaped byte), or a bad
    // escape (ESC END).
    stream.extend(vec![0x55; MAX_FRAME]);
    stream.extend([SLIP_ESC, 0xDC, SLIP_END]);
    stream.extend(vec![0x55; MAX_FRAME]);
    stream.extend([SLIP_ESC, SLIP_END]);
    let want = model(&stream);
    assert_eq!(
        want,
        vec![
            Ev::Ok(max),
            Ev::Slip,
            Ev::Ok(vec![0x42]),
            Ev::Slip,
            Ev::Slip,
            Ev::Slip,
            Ev::Crc,
            Ev::Slip,
            Ev::Slip,
        ]
    );
    check("boundaries", &stream, 0, 0);
}

proptest! {
    #![proptest_config(prop_seed("resynchronises_after_garbage", 24))]
    /// Any garbage, then a good frame: the link resynchronises and accepts
    /// it (after at most one error for the garbage's tail), as the Deframer.
    #[test]
    fn resynchronises_after_garbage(
        junk in prop::collection::vec(any::<u8>(), 0..1500),
        specials in prop::collection::vec(prop_oneof![Just(SLIP_END), Just(SLIP_ESC)], 0..20),
        good in payload(60),
    ) {
        let mut stream = junk;
        let n = stream.len();
        for (i, s) in specials.into_iter().enumerate() {
            if n > 0 {
                stream[(i * 7919) % n] = s;
            }
        }
        stream.extend(encode_frame(&good));
        let want = model(&stream);
        prop_assert_eq!(want.last(), Some(&Ev::Ok(good)));
        check("garbage", &stream, 0, 0);
    }
}

/// While a request is pending, frames are consumed and dropped (whole, even
/// when the request is done during the frame) with `rx_overrun` and
/// `rx_slip_error`; the buffer keeps the pending request; empty frames
/// still count for nothing. After `req_done` the next frame is accepted.
#[test]
fn frames_during_a_pending_request_are_dropped() {
    let mut r = Rng::new(25);
    let a = r.bytes(30);
    let b = r.bytes(20);
    let c = r.bytes(10);
    let mut d = Dev::new(None, 0, 0);
    d.auto_done = false;
    d.feed(&encode_frame(&a));
    assert!(d.s.uut.req_valid.val());
    assert_eq!(d.s.uut.req_len.val().to_u64(), 30);
    d.feed(&encode_frame(&b));
    d.feed(&[SLIP_END, SLIP_END]);
    assert_eq!(d.events, vec![Ev::Overrun]);
    // Done in the middle of a frame: that frame is dropped too.
    let fb = encode_frame(&b);
    d.feed(&fb[..8]);
    assert_eq!(d.read_request(), a);
    d.done();
    d.feed(&fb[8..]);
    assert_eq!(d.events, vec![Ev::Overrun, Ev::Overrun]);
    // A bad frame pending blocks the same way.
    d.feed(&[SLIP_END, 1, 2, 3, SLIP_END]);
    assert!(d.s.uut.req_bad.val());
    d.feed(&encode_frame(&c));
    d.done();
    d.auto_done = true;
    d.feed(&encode_frame(&c));
    assert_eq!(
        d.events,
        vec![Ev::Overrun, Ev::Overrun, Ev::Crc, Ev::Overrun, Ev::Ok(c)]
    );
}

/// UART framing errors are passed through as one-clock pulses.
#[test]
fn uart_errors_pass_through() {
    let mut s = Stepper::new(Link::default(), None);
    s.uut.rx_error.next = true;
    s.tick();
    s.uut.rx_error.next = false;
    assert!(s.uut.rx_uart_error.val());
    s.tick();
    assert!(!s.uut.rx_uart_error.val());
}

// ---------------------------------------------------------------- transmit side

/// Writes a payload into the response buffer.
fn write_response(s: &mut Stepper<Link>, p: &[u8]) {
    for (i, &b) in p.iter().enumerate() {
        s.uut.resp_wr_addr.next = (i as u64).into();
        s.uut.resp_wr_data.next = (b as u64).into();
        s.uut.resp_wr_en.next = true;
        s.tick();
    }
    s.uut.resp_wr_en.next = false;
    s.tick();
}

/// Sends the buffer's first `len` bytes; `ready` is the percentage of
/// clocks the consumer is ready. Returns the bytes and the clocks taken.
fn send_response(s: &mut Stepper<Link>, len: usize, ready: u64, r: &mut Rng) -> (Vec<u8>, u64) {
    assert!(!s.uut.resp_busy.val());
    s.uut.resp_len.next = (len as u64).into();
    s.uut.resp_send.next = true;
    s.tick();
    s.uut.resp_send.next = false;
    let t0 = s.cycle;
    let mut out = Vec::new();
    let mut frames = 0;
    while s.uut.resp_busy.val() {
        assert!(s.cycle - t0 < 10_000, "response stuck");
        let rdy = r.pct(ready);
        s.uut.tx_ready.next = rdy;
        // A resp_send while busy is ignored.
        s.uut.resp_send.next = r.pct(5);
        s.settle();
        if rdy && s.uut.tx_valid.val() {
            out.push(s.uut.tx_data.val().to_u64() as u8);
        }
        s.tick();
        frames += s.uut.tx_frame.val() as u32;
    }
    s.uut.resp_send.next = false;
    s.uut.tx_ready.next = false;
    assert_eq!(frames, 1, "one tx_frame pulse");
    (out, s.cycle - t0)
}

/// A payload whose CRC has a SLIP special in the given byte.
fn crc_with_special(hi: bool, special: u8) -> Vec<u8> {
    for x in 0..=u16::MAX {
        let p = x.to_be_bytes().to_vec();
        let c = crc16(&p).to_be_bytes();
        if c[if hi { 0 } else { 1 }] == special {
            return p;
        }
    }
    unreachable!()
}

/// Responses decode with the Deframer to exactly the written payload and
/// are byte for byte `encode_frame`, for payloads full of END and ESC and
/// CRCs that need escaping, at any consumer speed; the buffer keeps its
/// contents for a retry; at full speed a frame takes two clocks a payload
/// byte, plus 5, plus one for each CRC byte that needs escaping.
#[test]
fn responses_encode_like_encode_frame() {
    let s0 = seed("responses_encode_like_encode_frame", 26);
    let mut r = Rng::new(s0);
    let mut s = Stepper::new(Link::default(), None);
    let mut payloads: Vec<Vec<u8>> = vec![
        vec![SLIP_END],
        vec![SLIP_ESC],
        vec![SLIP_END; MAX_PAYLOAD],
        crc_with_special(true, SLIP_END),
        crc_with_special(true, SLIP_ESC),
        crc_with_special(false, SLIP_END),
        crc_with_special(false, SLIP_ESC),
    ];
    for _ in 0..25 {
        let max = if r.pct(20) { MAX_PAYLOAD as u64 } else { 60 };
        let n = 1 + r.below(max) as usize;
        payloads.push(r.bytes(n));
    }
    for p in &payloads {
        write_response(&mut s, p);
        let want = encode_frame(p);
        for ready in [100, 30] {
            let (got, clocks) = send_response(&mut s, p.len(), ready, &mut r);
            if got != want {
                let i = got.iter().zip(&want).position(|(a, b)| a != b);
                panic!(
                    "payload of {} bytes: {} bytes sent, {} expected, first difference at {:?} \
                     (seed {s0})",
                    p.len(),
                    got.len(),
                    want.len(),
                    i.map(|i| (i, got[i], want[i]))
                );
            }
            assert_eq!(model(&got), vec![Ev::Ok(p.clone())]);
            if ready == 100 {
                // Two clocks a byte on the wire (the output register takes
                // a byte only when empty), but the last END's.
                assert_eq!(clocks, 2 * want.len() as u64 - 1, "clocks");
            }
        }
    }
    // A zero-length response is just the CRC of nothing.
    let (got, _) = send_response(&mut s, 0, 100, &mut r);
    assert_eq!(got, vec![SLIP_END, 0xFF, 0xFF, SLIP_END]);
}

// ---------------------------------------------------------------- end to end

/// A host UART pair and the device, connected by two lines with baud
/// mismatch and glitches.
struct Bench {
    host_tx: Stepper<UartTx>,
    host_rx: Stepper<UartRx>,
    dev: Stepper<UartLink>,
    r: Rng,
    /// Probability (per million clocks) of a one-clock glitch on each line.
    glitch_ppm: u64,
    /// Clocks since the last glitch on each line (glitches stay 3 apart).
    quiet: [u64; 2],
    host_bytes: Deframer,
    replies: Vec<Result<Vec<u8>, FrameError>>,
    cycles: u64,
}

impl Bench {
    fn line(&mut self, i: usize, v: bool) -> bool {
        self.quiet[i] += 1;
        if self.quiet[i] > 3 && self.r.below(1_000_000) < self.glitch_ppm {
            self.quiet[i] = 0;
            return !v;
        }
        v
    }

    /// One clock of everything. The device answers every good request with
    /// its payload reversed, and a bad one with `[SEQ_UNKNOWN, CRC_ERROR]`.
    fn tick(&mut self, to_send: &mut std::collections::VecDeque<u8>) {
        let (good, bad) = (self.dev.uut.req_valid.val(), self.dev.uut.req_bad.val());
        if good || bad {
            // The processor (behavioural): read, write the answer, send.
            let answer = if good {
                let n = self.dev.uut.req_len.val().to_u64() as usize;
                let mut p = Vec::new();
                for i in 0..n {
                    self.dev.uut.req_rd_addr.next = (i as u64).into();
                    self.dev.tick();
                    self.cycles += 1;
                    p.push(self.dev.uut.req_rd_data.val().to_u64() as u8);
                }
                p.reverse();
                p
            } else {
                vec![SEQ_UNKNOWN, status::CRC_ERROR]
            };
            while self.dev.uut.resp_busy.val() {
                self.dev.tick();
            }
            let n = answer.len();
            for (i, &b) in answer.iter().enumerate() {
                self.dev.uut.resp_wr_addr.next = (i as u64).into();
                self.dev.uut.resp_wr_data.next = (b as u64).into();
                self.dev.uut.resp_wr_en.next = true;
                self.dev.tick();
            }
            self.dev.uut.resp_wr_en.next = false;
            self.dev.uut.resp_len.next = (n as u64).into();
            self.dev.uut.resp_send.next = true;
            self.dev.uut.req_done.next = true;
            self.dev.tick();
            self.dev.uut.resp_send.next = false;
            self.dev.uut.req_done.next = false;
            self.cycles += n as u64 + 1;
        }
        self.host_tx.uut.valid.next = !to_send.is_empty();
        self.host_tx.uut.data.next = (*to_send.front().unwrap_or(&0) as u64).into();
        self.host_tx.settle();
        if !to_send.is_empty() && self.host_tx.uut.ready.val() {
            to_send.pop_front();
        }
        let down = self.host_tx.uut.tx.val();
        let up = self.dev.uut.tx.val();
        self.dev.uut.rx.next = self.line(0, down);
        self.host_rx.uut.rx.next = self.line(1, up);
        self.host_tx.tick();
        self.dev.tick();
        self.host_rx.tick();
        self.cycles += 1;
        assert!(!self.host_rx.uut.framing_error.val(), "host framing error");
        if self.host_rx.uut.valid.val() {
            let b = self.host_rx.uut.data.val().to_u64() as u8;
            if let Some(f) = self.host_bytes.push(b) {
                self.replies.push(f);
            }
        }
    }
}

/// Host UartTx -> (±2 % baud, glitches) -> UartRx -> Link -> (processor)
/// -> Link -> UartTx -> (glitches) -> host UartRx -> Deframer: every
/// request is answered; a request corrupted on the way is answered with
/// CRC_ERROR.
#[test]
fn end_to_end_through_the_uarts() {
    let s = seed("end_to_end_through_the_uarts", 27);
    let t0 = Instant::now();
    let mut cycles = 0;
    for (host_div, dev_div) in [(49u32, 50u32), (51, 50), (16, 16)] {
        let mut r = Rng::new(s ^ host_div as u64);
        let mut b = Bench {
            host_tx: Stepper::new(UartTx::with_divisor(host_div), None),
            host_rx: Stepper::new(UartRx::with_divisor(host_div), None),
            dev: Stepper::new(UartLink::with_divisor(dev_div), None),
            r: Rng::new(s.wrapping_add(host_div as u64)),
            glitch_ppm: 3000,
            quiet: [0; 2],
            host_bytes: Deframer::new(),
            replies: Vec::new(),
            cycles: 0,
        };
        let mut want = Vec::new();
        let n = if dev_div == 16 { 8 } else { 3 };
        for k in 0..n {
            let n = 1 + r.below(24) as usize;
            let p = r.bytes(n);
            let mut f = encode_frame(&p);
            if k == 1 {
                // Corrupted on the way: a flipped bit.
                f[2] ^= 0x10;
                want.push(Ok(vec![SEQ_UNKNOWN, status::CRC_ERROR]));
            } else {
                want.push(Ok(p.iter().rev().copied().collect()));
            }
            let mut q: std::collections::VecDeque<u8> = f.into_iter().collect();
            // Send, then wait for the answer.
            let limit = b.cycles + 40 * 10 * dev_div as u64 * (p.len() as u64 + 8);
            while b.replies.len() < want.len() {
                b.tick(&mut q);
                assert!(
                    b.cycles < limit,
                    "host {host_div} device {dev_div}: no answer to request {k}"
                );
            }
        }
        cycles += b.cycles;
        assert_eq!(b.replies, want, "host divisor {host_div}, device {dev_div}");
    }
    let dt = t0.elapsed().as_secs_f64();
    eprintln!(
        "{cycles} clocks of UartLink + host UARTs in {dt:.2} s: {:.0} cycles/s",
        cycles as f64 / dt
    );
}

// ---------------------------------------------------------------- Verilog

#[test]
fn verilog_link_synthesizes_and_lints() {
    lint("link", Link::default());
}

#[test]
fn verilog_uart_link_synthesizes_and_lints() {
    lint("uart_link", UartLink::default());
}

// ---------------------------------------------------------------- co-simulation

/// A UART waveform sampled once a clock, `period` clocks a bit; `bad_stop`
/// gives the byte at that index a low stop bit.
fn serialise(bytes: &[u8], period: f64, bad_stop: Option<usize>) -> Vec<bool> {
    let mut edges = vec![];
    let mut t = 0.5;
    for (i, &b) in bytes.iter().enumerate() {
        for k in 0..10 {
            let level = match k {
                0 => false,
                9 => bad_stop != Some(i),
                _ => (b >> (k - 1)) & 1 == 1,
            };
            edges.push((t + k as f64 * period, level));
        }
        t += 10.0 * period;
        edges.push((t, true));
    }
    let mut out = Vec::new();
    let mut e = 0;
    let mut level = true;
    for c in 0..(t + period).ceil() as usize {
        while e < edges.len() && edges[e].0 <= c as f64 {
            level = edges[e].1;
            e += 1;
        }
        out.push(level);
    }
    out
}

/// A cycle-level command processor for `UartLink`: reads each request,
/// acknowledges it, writes the answer (the payload reversed) and sends it
/// when the transmitter is free; a bad frame gets `FF 05`.
#[derive(Default)]
struct Proc {
    st: u8,
    i: usize,
    n: usize,
    req: Vec<u8>,
    ans: Vec<u8>,
    answered: usize,
}

impl Proc {
    /// Sets the processor inputs for this cycle from the outputs.
    fn step(&mut self, u: &mut UartLink) {
        u.req_done.next = false;
        u.resp_wr_en.next = false;
        u.resp_send.next = false;
        match self.st {
            0 => {
                if u.req_valid.val() {
                    self.n = u.req_len.val().to_u64() as usize;
                    self.i = 0;
                    self.req.clear();
                    self.st = 1;
                } else if u.req_bad.val() {
                    self.ans = vec![SEQ_UNKNOWN, status::CRC_ERROR];
                    u.req_done.next = true;
                    self.i = 0;
                    self.st = 2;
                }
            }
            1 => {
                if self.i > 0 {
                    self.req.push(u.req_rd_data.val().to_u64() as u8);
                }
                if self.i < self.n {
                    u.req_rd_addr.next = (self.i as u64).into();
                    self.i += 1;
                } else {
                    u.req_done.next = true;
                    self.ans = self.req.iter().rev().copied().collect();
                    self.i = 0;
                    self.st = 2;
                }
            }
            2 => {
                if u.resp_busy.val() {
                    // The previous answer is still going out.
                } else if self.i < self.ans.len() {
                    u.resp_wr_addr.next = (self.i as u64).into();
                    u.resp_wr_data.next = (self.ans[self.i] as u64).into();
                    u.resp_wr_en.next = true;
                    self.i += 1;
                } else {
                    self.st = 3;
                }
            }
            _ => {
                u.resp_len.next = (self.ans.len() as u64).into();
                u.resp_send.next = true;
                self.answered += 1;
                self.st = 0;
            }
        }
    }
}

/// Inputs of one clock, as the testbench reads them.
fn stim_word(u: &UartLink) -> u64 {
    let v = |b: bool| b as u64;
    let w = |x: u64, n: u32, acc: u64| (acc << n) | x;
    let mut a = v(u.rx.val());
    a = w(u.req_rd_addr.val().to_u64(), 9, a);
    a = w(v(u.req_done.val()), 1, a);
    a = w(u.resp_wr_addr.val().to_u64(), 9, a);
    a = w(u.resp_wr_data.val().to_u64(), 8, a);
    a = w(v(u.resp_wr_en.val()), 1, a);
    a = w(v(u.resp_send.val()), 1, a);
    w(u.resp_len.val().to_u64(), 9, a)
}

/// Outputs of one clock, formatted as the testbench prints them.
fn outputs(u: &UartLink) -> String {
    let b = |x: bool| if x { '1' } else { '0' };
    let bits: String = [
        u.tx.val(),
        u.rx_busy.val(),
        u.tx_busy.val(),
        u.req_valid.val(),
        u.req_bad.val(),
        u.resp_busy.val(),
        u.rx_frame_ok.val(),
        u.rx_crc_error.val(),
        u.rx_slip_error.val(),
        u.rx_overrun.val(),
        u.rx_uart_error.val(),
        u.tx_frame.val(),
    ]
    .into_iter()
    .map(b)
    .collect();
    format!(
        "{bits} {:03x} {:02x}",
        u.req_len.val().to_u64(),
        u.req_rd_data.val().to_u64()
    )
}

const COSIM_TB: &str = r#"
module tb;
  reg clock = 0;
  reg rx, req_done, resp_wr_en, resp_send;
  reg [8:0] req_rd_addr, resp_wr_addr, resp_len;
  reg [7:0] resp_wr_data;
  wire tx, rx_busy, tx_busy, req_valid, req_bad, resp_busy, rx_frame_ok, rx_crc_error,
    rx_slip_error, rx_overrun, rx_uart_error, tx_frame;
  wire [8:0] req_len;
  wire [7:0] req_rd_data;
  top uut(.clock(clock), .rx(rx), .tx(tx), .rx_busy(rx_busy), .tx_busy(tx_busy),
    .req_valid(req_valid), .req_bad(req_bad), .req_len(req_len),
    .req_rd_addr(req_rd_addr), .req_rd_data(req_rd_data), .req_done(req_done),
    .resp_wr_addr(resp_wr_addr), .resp_wr_data(resp_wr_data), .resp_wr_en(resp_wr_en),
    .resp_send(resp_send), .resp_len(resp_len), .resp_busy(resp_busy),
    .rx_frame_ok(rx_frame_ok), .rx_crc_error(rx_crc_error), .rx_slip_error(rx_slip_error),
    .rx_overrun(rx_overrun), .rx_uart_error(rx_uart_error), .tx_frame(tx_frame));
  reg [38:0] stim [0:`N-1];
  integer i, f;
  initial begin
    $readmemh("stim.hex", stim);
    f = $fopen("out.txt", "w");
    for (i = 0; i < `N; i = i + 1) begin
      {rx, req_rd_addr, req_done, resp_wr_addr, resp_wr_data, resp_wr_en, resp_send,
       resp_len} = stim[i];
      #1;
      $fwrite(f, "%b%b%b%b%b%b%b%b%b%b%b%b %h %h\n", tx, rx_busy, tx_busy, req_valid,
        req_bad, resp_busy, rx_frame_ok, rx_crc_error, rx_slip_error, rx_overrun,
        rx_uart_error, tx_frame, req_len, req_rd_data);
      clock = 1;
      #5;
      clock = 0;
      #4;
    end
    $fclose(f);
    $finish;
  end
endmodule
"#;

/// The emitted Verilog of `UartLink` (UARTs, link, CRC leaves, buffers),
/// simulated by Verilator, matches the Rust simulation clock for clock on
/// every output: requests good, corrupt, overlong, with glitches, a framing
/// error and a 2 % baud mismatch. This is what makes `-Wno-WIDTH` safe.
#[test]
fn verilog_matches_simulation() {
    let s = seed("link verilog_matches_simulation", 28);
    let mut r = Rng::new(s);
    let d = 8u32;
    let mut stream = Vec::new();
    let mut expect = 0;
    for k in 0..10 {
        let n = 1 + r.below(30) as usize;
        let mut f = encode_frame(&r.bytes(n));
        match k {
            3 => f[1] ^= 4,
            6 => f = encode_frame(&r.bytes(MAX_PAYLOAD + 3)),
            _ => {}
        }
        stream.extend(f);
        expect += 1;
        // Room for the answer before the next request.
        stream.extend(vec![SLIP_END; n + 6]);
    }
    let mut line = serialise(&stream, d as f64 * 1.02, Some(40));
    for _ in 0..line.len() / 500 {
        let p = r.below(line.len() as u64) as usize;
        line[p] = !line[p];
    }
    let t0 = Instant::now();
    let mut st = Stepper::new(UartLink::with_divisor(d), None);
    let mut p = Proc::default();
    let mut trace: Vec<(u64, String)> = Vec::new();
    for &l in &line {
        st.uut.rx.next = l;
        p.step(&mut st.uut);
        st.settle();
        trace.push((stim_word(&st.uut), outputs(&st.uut)));
        st.tick();
    }
    assert!(p.answered >= expect - 1, "{} answers", p.answered);
    eprintln!(
        "{} cycles of UartLink in {:.2} s, {} requests answered",
        trace.len(),
        t0.elapsed().as_secs_f64(),
        p.answered
    );

    let dir = std::env::temp_dir().join("uart_link_cosim");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut uut = UartLink::with_divisor(d);
    uut.connect_all();
    std::fs::write(dir.join("top.v"), generate_verilog(&uut)).unwrap();
    std::fs::write(dir.join("tb.v"), COSIM_TB).unwrap();
    let stim: String = trace.iter().map(|(i, _)| format!("{i:010x}\n")).collect();
    std::fs::write(dir.join("stim.hex"), stim).unwrap();
    let build = std::process::Command::new("verilator")
        .current_dir(&dir)
        .args(["--binary", "--timing", "-Wno-WIDTH", "-Wno-DECLFILENAME"])
        .arg(format!("-DN={}", trace.len()))
        .args(["--top-module", "tb", "-o", "Vtb", "tb.v", "top.v"])
        .output()
        .expect("verilator");
    assert!(
        build.status.success(),
        "verilator:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let sim = std::process::Command::new(dir.join("obj_dir/Vtb"))
        .current_dir(&dir)
        .output()
        .expect("Vtb");
    assert!(sim.status.success());
    let out = std::fs::read_to_string(dir.join("out.txt")).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), trace.len());
    for (c, ((i, want), got)) in trace.iter().zip(&lines).enumerate() {
        assert_eq!(
            want,
            got,
            "cycle {c} (inputs {i:010x}): Rust simulation vs Verilator (tx rx_busy tx_busy \
             req_valid req_bad resp_busy ok crc slip overrun uart tx_frame, req_len, \
             req_rd_data); files in {}",
            dir.display()
        );
    }
    eprintln!("{} cycles identical in Verilator", trace.len());
}
