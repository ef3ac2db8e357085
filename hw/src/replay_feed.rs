//! REPLAY (`protocol::cmd::REPLAY`): check that the request splits into
//! well-formed frames, then feed them to the frame parser one at a time,
//! each only when the pipeline is quiet and `protocol::replay_admits` holds
//! for the event buffer; the first refused frame ends the request and every
//! frame left is counted as refused.
//!
//! A frame is `ts:u40 caplen:u16 len:u8 bytes[len]` (`protocol::
//! REPLAY_FRAME_HEADER` bytes of header), its length byte `caplen` clamped
//! to `1..=HEADER_WINDOW`. The command processor holds `len`, `busy`, `live`
//! and `now` steady from `start` until `done`; the block reads the request
//! buffer through `rd_addr` (zero while idle, so that the processor ORs it
//! with its own address), and answers with `status` and, when OK, one
//! `wr` byte: the frames taken.

use crate::consts::*;
use crate::link::BUF_ADDR;
use crate::types::Ts;
use bloomtime_model::config::HEADER_WINDOW;
use bloomtime_model::protocol::{self, status, REPLAY_FRAME_HEADER};
use rust_hdl::prelude::*;

/// Header bytes before caplen (the timestamp's), and the length byte's place.
const TS_BYTES: usize = 5;
const LEN_AT: usize = REPLAY_FRAME_HEADER - 1;
const _: () = assert!(TS_BYTES * 8 == TS_BITS && TS_BYTES + 2 == LEN_AT);
// The timestamp's split at literal shifts below.
const _: () = assert!(S_SHIFT == 3 && EPOCH_BITS == 37);
/// The highest event-buffer level at which a frame is still admitted
/// (`protocol::replay_admits` with an idle pipeline).
const ADMIT_LEVEL: usize = protocol::EVENT_BUFFER_BYTES
    - protocol::frame_worst_case_bytes(&CFG)
    - protocol::evict_bytes(&CFG);
const _: () = assert!(
    protocol::replay_admits(&CFG, protocol::EVENT_BUFFER_BYTES, ADMIT_LEVEL)
        && !protocol::replay_admits(&CFG, protocol::EVENT_BUFFER_BYTES, ADMIT_LEVEL + 1)
);
const _: () = assert!(HEADER_WINDOW < 256);

#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum FeedState {
    Idle,
    /// Checking: `p` settles (its compares are registered), then the next
    /// frame's header at `p`, or the end.
    CheckAt,
    Check,
    CheckWait,
    CheckHi,
    CheckLo,
    CheckLen,
    CheckEnd,
    /// Feeding: the next frame, once the pipeline is quiet.
    Quiet,
    Hdr,
    Byte,
    FrameDone,
    Refuse,
    Done,
}

#[derive(LogicBlock)]
pub struct ReplayFeed {
    pub clock: Signal<In, Clock>,
    pub start: Signal<In, Bit>,
    /// The request's length (frames start at byte 2).
    pub len: Signal<In, Bits<BUF_ADDR>>,
    /// The core was busy (a flush or clear) when the request was decoded.
    pub busy: Signal<In, Bit>,
    /// Live mode: frames take the device's time instead of their own.
    pub live: Signal<In, Bit>,
    pub now: Signal<In, Ts>,
    pub rd_addr: Signal<Out, Bits<BUF_ADDR>>,
    pub rd_data: Signal<In, Bits<8>>,
    pub quiet: Signal<In, Bit>,
    pub eb_level: Signal<In, Bits<12>>,
    // Frames to the parser.
    pub f_valid: Signal<Out, Bit>,
    pub f_ready: Signal<In, Bit>,
    pub f_data: Signal<Out, Bits<8>>,
    pub f_last: Signal<Out, Bit>,
    pub f_ts: Signal<Out, Ts>,
    pub f_caplen: Signal<Out, Bits<16>>,
    pub frame_done: Signal<In, Bit>,
    /// Strobes of REPLAY_FRAMES and REPLAY_REFUSED.
    pub s_frame: Signal<Out, Bit>,
    pub s_refused: Signal<Out, Bit>,
    /// The answer's byte (frames taken) and its status, with `done`.
    pub wr: Signal<Out, Bit>,
    pub wr_data: Signal<Out, Bits<8>>,
    pub done: Signal<Out, Bit>,
    pub status: Signal<Out, Bits<8>>,
    len_w: Signal<Local, Bits<P_BITS>>,
    k_ok: Constant<Bits<8>>,
    k_busy: Constant<Bits<8>>,
    k_bad_length: Constant<Bits<8>>,
    k_bad_argument: Constant<Bits<8>>,
    k_first: Constant<Bits<P_BITS>>,
    k_caplen_at: Constant<Bits<P_BITS>>,
    k_header: Constant<Bits<P_BITS>>,
    k_window: Constant<Bits<8>>,
    k_admit_level: Constant<Bits<12>>,
    st: DFF<FeedState>,
    raddr: DFF<Bits<BUF_ADDR>>,
    /// One bit wider than the buffer's addresses: a frame's end past the
    /// request never wraps to an address inside it.
    p: DFF<Bits<P_BITS>>,
    nframes: DFF<Bits<8>>,
    k: DFF<Bits<8>>,
    fn_len: DFF<Bits<8>>,
    fi: DFF<Bits<8>>,
    hj: DFF<Bits<3>>,
    ts: DFF<Bits<TS_BITS>>,
    caplen: DFF<Bits<16>>,
    fdata: DFF<Bits<8>>,
    fvalid: DFF<Bit>,
    fdone: DFF<Bit>,
    refuse: DFF<Bits<8>>,
    /// `refuse == 1` (the last refused frame), registered beside `refuse`
    /// so that the answer's write strobe reads a flag, not a compare
    /// ([`ReplayFeed::refuse_flag_holds`]).
    refuse_one: DFF<Bit>,
    chk_hi: DFF<Bits<8>>,
    chk_lo: DFF<Bits<8>>,
    chk_len: DFF<Bits<8>>,
    result: DFF<Bits<8>>,
    /// `p` is the request's end; no frame header fits before it (registered
    /// every clock: valid a clock after `p` is set).
    at_end: DFF<Bit>,
    short: DFF<Bit>,
    /// The feed was in `Quiet` last clock too: `p`'s compares and the read
    /// address (`p`) have settled.
    settled: DFF<Bit>,
    /// The byte offered is the frame's last (registered with `fi`).
    last: DFF<Bit>,
    /// The frame's last byte was taken at the last edge: `Byte` ends a
    /// clock after the handshake, so the parser's ready reaches only the
    /// byte registers, not the state's enable.
    sent: DFF<Bit>,
    /// The length byte a frame's caplen asks for.
    want_len: DFF<Bits<8>>,
    /// The event buffer's level admits a frame, registered: exact whenever
    /// `quiet` is high, which says the buffer was idle a clock ago (its
    /// level was final then: it counts a byte the clock after writing it).
    admit_ok: DFF<Bit>,
}

const P_BITS: usize = BUF_ADDR + 1;

fn addr(v: usize) -> Constant<Bits<P_BITS>> {
    Constant::new(bits::<P_BITS>(v as u64))
}

fn code(v: u8) -> Constant<Bits<8>> {
    Constant::new(bits::<8>(v.into()))
}

impl Default for ReplayFeed {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            start: Default::default(),
            len: Default::default(),
            busy: Default::default(),
            live: Default::default(),
            now: Default::default(),
            rd_addr: Default::default(),
            rd_data: Default::default(),
            quiet: Default::default(),
            eb_level: Default::default(),
            f_valid: Default::default(),
            f_ready: Default::default(),
            f_data: Default::default(),
            f_last: Default::default(),
            f_ts: Default::default(),
            f_caplen: Default::default(),
            frame_done: Default::default(),
            s_frame: Default::default(),
            s_refused: Default::default(),
            wr: Default::default(),
            wr_data: Default::default(),
            done: Default::default(),
            status: Default::default(),
            len_w: Default::default(),
            k_ok: code(status::OK),
            k_busy: code(status::BUSY),
            k_bad_length: code(status::BAD_LENGTH),
            k_bad_argument: code(status::BAD_ARGUMENT),
            k_first: addr(2),
            k_caplen_at: addr(TS_BYTES),
            k_header: addr(REPLAY_FRAME_HEADER),
            k_window: code(HEADER_WINDOW as u8),
            k_admit_level: Constant::new(bits::<12>(ADMIT_LEVEL as u64)),
            st: Default::default(),
            raddr: Default::default(),
            p: Default::default(),
            nframes: Default::default(),
            k: Default::default(),
            fn_len: Default::default(),
            fi: Default::default(),
            hj: Default::default(),
            ts: Default::default(),
            caplen: Default::default(),
            fdata: Default::default(),
            fvalid: Default::default(),
            fdone: Default::default(),
            refuse: Default::default(),
            refuse_one: Default::default(),
            chk_hi: Default::default(),
            chk_lo: Default::default(),
            chk_len: Default::default(),
            result: Default::default(),
            at_end: Default::default(),
            short: Default::default(),
            settled: Default::default(),
            last: Default::default(),
            sent: Default::default(),
            want_len: Default::default(),
            admit_ok: Default::default(),
        }
    }
}

impl Logic for ReplayFeed {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, st, raddr, p, nframes, k, fn_len, fi, hj, ts, caplen, fdata, fvalid,
            fdone, refuse, refuse_one, chk_hi, chk_lo, chk_len, result, at_end, short, settled,
            last, sent, want_len, admit_ok
        );
        if self.frame_done.val() {
            self.fdone.d.next = true;
        }
        self.rd_addr.next = self.raddr.q.val();
        self.len_w.next = bit_cast::<P_BITS, BUF_ADDR>(self.len.val());
        self.f_valid.next = self.fvalid.q.val();
        self.f_data.next = self.fdata.q.val();
        self.f_last.next = self.last.q.val();
        self.at_end.d.next = self.p.q.val() == self.len_w.val();
        self.short.d.next = (self.p.q.val() + self.k_header.val()) >= self.len_w.val();
        self.settled.d.next = self.st.q.val() == FeedState::Quiet;
        self.admit_ok.d.next = self.eb_level.val() <= self.k_admit_level.val();
        self.f_caplen.next = self.caplen.q.val();
        self.f_ts.next = self.now.val();
        if !self.live.val() {
            self.f_ts.next.epoch = bit_cast::<EPOCH_BITS, TS_BITS>(self.ts.q.val() >> 3);
            self.f_ts.next.sub = bit_cast::<S_SHIFT, TS_BITS>(self.ts.q.val());
        }
        self.s_frame.next = false;
        self.s_refused.next = false;
        self.sent.d.next = false;
        self.wr.next = false;
        self.wr_data.next = self.k.q.val();
        self.done.next = self.st.q.val() == FeedState::Done;
        self.status.next = self.result.q.val();
        match self.st.q.val() {
            FeedState::Idle => {
                self.raddr.d.next = bits::<BUF_ADDR>(0);
                self.p.d.next = self.k_first.val();
                self.nframes.d.next = bits::<8>(0);
                self.k.d.next = bits::<8>(0);
                self.result.d.next = self.k_ok.val();
                if self.start.val() {
                    self.st.d.next = FeedState::CheckAt;
                }
            }
            FeedState::CheckAt => {
                self.st.d.next = FeedState::Check;
            }
            FeedState::Check => {
                // A frame needs its header and at least one more byte;
                // caplen and the length byte are checked.
                self.raddr.d.next =
                    bit_cast::<BUF_ADDR, P_BITS>(self.p.q.val() + self.k_caplen_at.val());
                if self.at_end.q.val() {
                    self.p.d.next = self.k_first.val();
                    self.st.d.next = FeedState::Quiet;
                    if self.busy.val() {
                        self.result.d.next = self.k_busy.val();
                        self.st.d.next = FeedState::Done;
                    }
                } else if self.short.q.val() {
                    self.result.d.next = self.k_bad_length.val();
                    self.st.d.next = FeedState::Done;
                } else {
                    self.st.d.next = FeedState::CheckWait;
                }
            }
            FeedState::CheckWait => {
                // The address register, then the RAM's own: data a clock later.
                self.raddr.d.next = self.raddr.q.val() + 1;
                self.st.d.next = FeedState::CheckHi;
            }
            FeedState::CheckHi => {
                self.raddr.d.next = self.raddr.q.val() + 1;
                self.chk_hi.d.next = self.rd_data.val();
                self.st.d.next = FeedState::CheckLo;
            }
            FeedState::CheckLo => {
                self.chk_lo.d.next = self.rd_data.val();
                self.st.d.next = FeedState::CheckLen;
            }
            FeedState::CheckLen => {
                // The length byte, registered: no decision right behind the
                // RAM; and the length it must be: caplen clamped to
                // 1..=HEADER_WINDOW.
                self.chk_len.d.next = self.rd_data.val();
                self.want_len.d.next = self.chk_lo.q.val();
                if self.chk_lo.q.val() == 0 {
                    self.want_len.d.next = bits::<8>(1);
                }
                if (self.chk_hi.q.val() != 0) | (self.chk_lo.q.val() > self.k_window.val()) {
                    self.want_len.d.next = self.k_window.val();
                }
                self.st.d.next = FeedState::CheckEnd;
            }
            FeedState::CheckEnd => {
                // The length byte must be caplen clamped to 1..=HEADER_WINDOW
                // (p and nframes matter only if it is, and Check follows).
                self.p.d.next = self.p.q.val()
                    + self.k_header.val()
                    + bit_cast::<P_BITS, 8>(self.chk_len.q.val());
                self.nframes.d.next = self.nframes.q.val() + 1;
                self.st.d.next = FeedState::CheckAt;
                if self.chk_len.q.val() != self.want_len.q.val() {
                    self.result.d.next = self.k_bad_argument.val();
                    self.st.d.next = FeedState::Done;
                }
            }
            FeedState::Quiet => {
                // Next frame, when the pipeline is quiet and the buffer admits
                // it (and p has settled: its compare is registered, and the
                // header's first byte is being read, raddr = p).
                self.raddr.d.next = bit_cast::<BUF_ADDR, P_BITS>(self.p.q.val());
                self.hj.d.next = bits::<3>(0);
                self.fdone.d.next = false;
                if self.settled.q.val() & self.at_end.q.val() {
                    self.wr.next = true;
                    self.st.d.next = FeedState::Done;
                } else if self.quiet.val() & self.settled.q.val() {
                    if !self.admit_ok.q.val() {
                        self.refuse.d.next = self.nframes.q.val() - self.k.q.val();
                        self.refuse_one.d.next = (self.nframes.q.val() - self.k.q.val()) == 1;
                        self.st.d.next = FeedState::Refuse;
                    } else {
                        self.raddr.d.next = bit_cast::<BUF_ADDR, P_BITS>(self.p.q.val() + 1);
                        self.st.d.next = FeedState::Hdr;
                    }
                }
            }
            FeedState::Hdr => {
                // Header bytes: ts (big-endian), caplen (2), length (1).
                self.raddr.d.next = self.raddr.q.val() + 1;
                self.hj.d.next = self.hj.q.val() + 1;
                match self.hj.q.val().index() {
                    5 => {
                        self.caplen.d.next = bit_cast::<16, 8>(self.rd_data.val()) << 8;
                    }
                    6 => {
                        self.caplen.d.next =
                            self.caplen.q.val() | bit_cast::<16, 8>(self.rd_data.val());
                    }
                    7 => {
                        self.fn_len.d.next = self.rd_data.val() - 1;
                        self.fi.d.next = bits::<8>(0);
                        self.last.d.next = self.rd_data.val() == 1;
                        self.fvalid.d.next = false;
                        self.raddr.d.next =
                            bit_cast::<BUF_ADDR, P_BITS>(self.p.q.val() + self.k_header.val());
                        self.st.d.next = FeedState::Byte;
                    }
                    _ => {
                        self.ts.d.next =
                            (self.ts.q.val() << 8) | bit_cast::<TS_BITS, 8>(self.rd_data.val());
                    }
                }
            }
            FeedState::Byte => {
                // Capture a byte and start reading the next; offer it until
                // taken. The clock after the last byte is taken, on.
                if self.sent.q.val() {
                    self.st.d.next = FeedState::FrameDone;
                } else if !self.fvalid.q.val() {
                    self.fdata.d.next = self.rd_data.val();
                    self.fvalid.d.next = true;
                    self.raddr.d.next = self.raddr.q.val() + 1;
                } else if self.f_ready.val() {
                    self.fvalid.d.next = false;
                    self.fi.d.next = self.fi.q.val() + 1;
                    self.last.d.next = (self.fi.q.val() + 1) == self.fn_len.q.val();
                    self.sent.d.next = self.last.q.val();
                }
            }
            FeedState::FrameDone => {
                if self.frame_done.val() | self.fdone.q.val() {
                    self.k.d.next = self.k.q.val() + 1;
                    self.s_frame.next = true;
                    self.p.d.next = self.p.q.val()
                        + self.k_header.val()
                        + bit_cast::<P_BITS, 8>(self.fn_len.q.val())
                        + 1;
                    self.st.d.next = FeedState::Quiet;
                }
            }
            FeedState::Refuse => {
                // Count every refused frame, one a clock.
                self.s_refused.next = true;
                self.refuse.d.next = self.refuse.q.val() - 1;
                self.refuse_one.d.next = self.refuse.q.val() == 2;
                if self.refuse_one.q.val() {
                    self.wr.next = true;
                    self.st.d.next = FeedState::Done;
                }
            }
            _ => {
                self.raddr.d.next = bits::<BUF_ADDR>(0);
                self.st.d.next = FeedState::Idle;
            }
        }
    }
}
crate::impl_clocked!(ReplayFeed);

impl ReplayFeed {
    /// While refusing, `refuse_one` is `refuse == 1` (for tests, every clock).
    pub fn refuse_flag_holds(&self) -> bool {
        self.st.q.val() != FeedState::Refuse
            || self.refuse_one.q.val() == (self.refuse.q.val() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{settle, tick};

    /// A frame as fed to the parser: timestamp, caplen, the bytes.
    type Fed = (u64, u16, Vec<u8>);

    /// The request's frames as `host::device::model` splits them, or the
    /// status that refuses the request.
    fn split(req: &[u8]) -> Result<Vec<Fed>, u8> {
        let (mut b, mut frames) = (&req[2..], Vec::new());
        while !b.is_empty() {
            if b.len() < REPLAY_FRAME_HEADER + 1 {
                return Err(status::BAD_LENGTH);
            }
            let ts = b[..TS_BYTES].iter().fold(0u64, |t, &x| t << 8 | x as u64);
            let caplen = u16::from_be_bytes([b[TS_BYTES], b[TS_BYTES + 1]]);
            let len = b[LEN_AT] as usize;
            if len != (caplen as usize).clamp(1, HEADER_WINDOW) {
                return Err(status::BAD_ARGUMENT);
            }
            if b.len() < REPLAY_FRAME_HEADER + len {
                return Err(status::BAD_LENGTH);
            }
            let bytes = b[REPLAY_FRAME_HEADER..REPLAY_FRAME_HEADER + len].to_vec();
            frames.push((ts, caplen, bytes));
            b = &b[REPLAY_FRAME_HEADER + len..];
        }
        Ok(frames)
    }

    struct Run {
        status: u8,
        answer: Vec<u8>,
        fed: Vec<Fed>,
        frames: usize,
        refused: usize,
    }

    /// Runs the feed on `req`; the event buffer fills past admission after
    /// `admit` frames; the parser stalls at random.
    fn run(req: &[u8], busy: bool, live: Option<u64>, admit: usize, seed: u64) -> Run {
        let mut rng = bloomtime_testkit::Rng::new(seed);
        let mut r = move |n: u64| rng.below(n);
        let mut f = ReplayFeed::default();
        f.connect_all();
        f.len.next = (req.len() as u64).into();
        f.busy.next = busy;
        f.live.next = live.is_some();
        f.now.next = Ts::from_u64(live.unwrap_or(0));
        f.start.next = true;
        settle(&mut f);
        tick(&mut f);
        f.start.next = false;
        let mut out = Run {
            status: 0,
            answer: Vec::new(),
            fed: Vec::new(),
            frames: 0,
            refused: 0,
        };
        let (mut cur, mut done_in) = (Vec::new(), None::<u64>);
        for _ in 0..200_000 {
            let quiet = cur.is_empty() && done_in.is_none() && r(4) != 0;
            f.quiet.next = quiet;
            let level = if out.frames >= admit {
                ADMIT_LEVEL + 1
            } else {
                ADMIT_LEVEL
            };
            f.eb_level.next = (level as u64).into();
            f.f_ready.next = r(3) != 0;
            f.frame_done.next = done_in == Some(0);
            settle(&mut f);
            done_in = match done_in {
                Some(0) | None => None,
                Some(n) => Some(n - 1),
            };
            if f.f_valid.val() && f.f_ready.val() {
                cur.push(f.f_data.val().to_u64() as u8);
                if f.f_last.val() {
                    let ts = f.f_ts.val().to_u64();
                    out.fed
                        .push((ts, f.f_caplen.val().to_u64() as u16, cur.clone()));
                    cur.clear();
                    done_in = Some(r(5));
                }
            }
            assert!(f.refuse_flag_holds());
            out.frames += f.s_frame.val() as usize;
            out.refused += f.s_refused.val() as usize;
            if f.wr.val() {
                out.answer.push(f.wr_data.val().to_u64() as u8);
            }
            if f.done.val() {
                out.status = f.status.val().to_u64() as u8;
                return out;
            }
            let rd = f.rd_addr.val().to_u64() as usize;
            tick(&mut f);
            f.rd_data.next = (*req.get(rd).unwrap_or(&0xEE) as u64).into();
        }
        panic!("the feed did not end");
    }

    /// A request of frames, some damaged: a wrong length byte, a truncated
    /// end, a stray byte.
    fn request(r: &mut impl FnMut(u64) -> u64) -> Vec<u8> {
        let mut req = vec![7, bloomtime_model::protocol::cmd::REPLAY];
        let target = 9 + r(protocol::MAX_PAYLOAD as u64 - 9) as usize;
        while req.len() < target {
            let caplen = match r(4) {
                0 => 0,
                1 => r(HEADER_WINDOW as u64) + 1,
                2 => r(1600),
                _ => r(70_000) & 0xFFFF,
            } as u16;
            let mut len = (caplen as usize).clamp(1, HEADER_WINDOW);
            if r(40) == 0 {
                len = r(256) as usize;
            }
            let ts = r(1 << TS_BITS);
            req.extend_from_slice(&ts.to_be_bytes()[3..]);
            req.extend_from_slice(&caplen.to_be_bytes());
            req.push(len as u8);
            req.extend((0..len).map(|_| r(256) as u8));
        }
        req.truncate(protocol::MAX_PAYLOAD - 1);
        match r(8) {
            0 => req.truncate(2 + r(req.len() as u64 - 2) as usize),
            1 => req.push(r(256) as u8),
            _ => {}
        }
        req
    }

    #[test]
    fn replay_feeds_and_refuses_like_the_model_device() {
        let mut rng = bloomtime_testkit::Rng::seeded("replay_feed", 0x51_7cc1_b727_220au64);
        let mut r = move |n: u64| rng.below(n);
        let (mut fed, mut refused, mut bad) = (0, 0, 0);
        for case in 0..300 {
            let req = request(&mut r);
            let busy = r(10) == 0;
            let live = (r(10) == 0).then(|| r(1 << TS_BITS));
            let admit = if r(3) == 0 {
                r(20) as usize
            } else {
                usize::MAX
            };
            let got = run(&req, busy, live, admit, r(u64::MAX));
            let ctx = format!("case {case}: request of {} bytes", req.len());
            match split(&req) {
                Err(st) => {
                    bad += 1;
                    assert_eq!(got.status, st, "{ctx}");
                    assert!(got.fed.is_empty() && got.answer.is_empty(), "{ctx}");
                }
                Ok(_) if busy => {
                    assert_eq!(got.status, status::BUSY, "{ctx}");
                    assert!(got.fed.is_empty() && got.answer.is_empty(), "{ctx}");
                }
                Ok(frames) => {
                    let n = frames.len().min(admit);
                    assert_eq!(got.status, status::OK, "{ctx}");
                    assert_eq!(got.answer, vec![n as u8], "{ctx}");
                    assert_eq!((got.frames, got.refused), (n, frames.len() - n), "{ctx}");
                    let want: Vec<Fed> = frames[..n]
                        .iter()
                        .map(|(ts, c, b)| (live.unwrap_or(*ts), *c, b.clone()))
                        .collect();
                    assert_eq!(got.fed, want, "{ctx}");
                    fed += n;
                    refused += frames.len() - n;
                }
            }
        }
        // The stream must reach every outcome.
        assert!(
            fed > 400 && refused > 10 && bad > 50,
            "{fed} {refused} {bad}"
        );
    }
}
