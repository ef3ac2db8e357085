//! DRAIN and PEEK (`protocol::cmd`): walk the waiting events of the event
//! buffer from its head, event by event (an event's length follows from its
//! type byte), skip to PEEK's offset, then copy whole events into the answer
//! while they fit; DRAIN then removes what it copied.
//!
//! The command processor holds `drain`, `target` and `limit` steady from
//! `start` until `done`, and writes each `wr` byte at its next response
//! position. Each event takes a clock to read its type byte, a clock to
//! decide (its end against the buffer's level, the answer's end and PEEK's
//! offset, registered), then a clock per byte; every decision is one
//! registered compare away from this block's own state.
//!
//! `done` is a clock after the last byte. With `bad`, PEEK's offset lies
//! inside an event (the model device answers BAD_ARGUMENT); without, the
//! answer is complete (empty when the offset is at or past the end).

use crate::event_buffer::{EB_ADDR, EVICT_BYTES};
use bloomtime_model::protocol::{EV_OPEN, OPEN_BYTES};
use rust_hdl::prelude::*;

/// Offsets and levels of the event buffer (0..=2048).
pub const LEVEL_BITS: usize = EB_ADDR + 1;
const _: () = assert!(1 << EB_ADDR == bloomtime_model::protocol::EVENT_BUFFER_BYTES);
const _: () = assert!(OPEN_BYTES < 64 && EVICT_BYTES < 64 && OPEN_BYTES > 0 && EVICT_BYTES > 0);

/// The walk's states; held one-hot (see [`EventWalk::state`]).
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum WalkState {
    Idle,
    /// At an event's first byte (`o`), or the end.
    Walk,
    /// Its type byte arrives: its length.
    Type,
    /// Its end compared with the level, the answer's end and the offset.
    Check,
    /// Skipped, or copied a byte a clock.
    Copy,
    Done,
}

#[derive(LogicBlock)]
pub struct EventWalk {
    pub clock: Signal<In, Clock>,
    /// Begin a walk (a clock, while idle).
    pub start: Signal<In, Bit>,
    /// DRAIN (pop what was copied) rather than PEEK.
    pub drain: Signal<In, Bit>,
    /// Where copying starts (DRAIN: 0).
    pub target: Signal<In, Bits<LEVEL_BITS>>,
    /// Bytes the answer may hold.
    pub limit: Signal<In, Bits<LEVEL_BITS>>,
    pub eb_level: Signal<In, Bits<LEVEL_BITS>>,
    /// Read port of the event buffer (data a clock after the offset).
    pub eb_rd_offset: Signal<Out, Bits<EB_ADDR>>,
    pub eb_rd_data: Signal<In, Bits<8>>,
    pub eb_pop: Signal<Out, Bit>,
    pub eb_pop_count: Signal<Out, Bits<LEVEL_BITS>>,
    /// A byte of the answer.
    pub wr: Signal<Out, Bit>,
    pub wr_data: Signal<Out, Bits<8>>,
    pub done: Signal<Out, Bit>,
    pub bad: Signal<Out, Bit>,
    k_open: Constant<Bits<8>>,
    k_open_len: Constant<Bits<6>>,
    k_evict_len: Constant<Bits<6>>,
    /// The state, one-hot (each state's exits and the enables they make
    /// start at a flip-flop of their own): `engaged` in every state but
    /// Idle, and with it exactly one `s_*` flag.
    engaged: DFF<Bit>,
    s_walk: DFF<Bit>,
    s_type: DFF<Bit>,
    s_check: DFF<Bit>,
    s_copy: DFF<Bit>,
    s_done: DFF<Bit>,
    /// Walk at the end; Copy skipping, stopping, or at an event's last byte.
    at_end: Signal<Local, Bit>,
    skip: Signal<Local, Bit>,
    stopping: Signal<Local, Bit>,
    ev_last: Signal<Local, Bit>,
    o: DFF<Bits<LEVEL_BITS>>,
    lim_end: DFF<Bits<LEVEL_BITS>>,
    nxt: DFF<Bits<LEVEL_BITS>>,
    rdo: DFF<Bits<LEVEL_BITS>>,
    evlen: DFF<Bits<6>>,
    ci: DFF<Bits<6>>,
    /// `ci == evlen`, registered beside ci (the copy's last byte), so that
    /// no compare lies before the decision to go on to the next event.
    ci_last: DFF<Bit>,
    copying: DFF<Bit>,
    stop: DFF<Bit>,
    past: DFF<Bit>,
    bad_r: DFF<Bit>,
    pop_r: DFF<Bit>,
    popcnt_r: DFF<Bits<LEVEL_BITS>>,
}

impl Default for EventWalk {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            start: Default::default(),
            drain: Default::default(),
            target: Default::default(),
            limit: Default::default(),
            eb_level: Default::default(),
            eb_rd_offset: Default::default(),
            eb_rd_data: Default::default(),
            eb_pop: Default::default(),
            eb_pop_count: Default::default(),
            wr: Default::default(),
            wr_data: Default::default(),
            done: Default::default(),
            bad: Default::default(),
            k_open: Constant::new(bits::<8>(EV_OPEN.into())),
            k_open_len: Constant::new(bits::<6>(OPEN_BYTES as u64)),
            k_evict_len: Constant::new(bits::<6>(EVICT_BYTES as u64)),
            engaged: Default::default(),
            s_walk: Default::default(),
            s_type: Default::default(),
            s_check: Default::default(),
            s_copy: Default::default(),
            s_done: Default::default(),
            at_end: Default::default(),
            skip: Default::default(),
            stopping: Default::default(),
            ev_last: Default::default(),
            o: Default::default(),
            lim_end: Default::default(),
            nxt: Default::default(),
            rdo: Default::default(),
            evlen: Default::default(),
            ci: Default::default(),
            ci_last: Default::default(),
            copying: Default::default(),
            stop: Default::default(),
            past: Default::default(),
            bad_r: Default::default(),
            pop_r: Default::default(),
            popcnt_r: Default::default(),
        }
    }
}

impl Logic for EventWalk {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, engaged, s_walk, s_type, s_check, s_copy, s_done, o, lim_end, nxt, rdo,
            evlen, ci, ci_last, copying, stop, past, bad_r, pop_r, popcnt_r
        );
        self.eb_rd_offset.next = bit_cast::<EB_ADDR, LEVEL_BITS>(self.rdo.q.val());
        self.eb_pop.next = self.pop_r.q.val();
        self.eb_pop_count.next = self.popcnt_r.q.val();
        self.pop_r.d.next = false;
        // The count is `o` as the walk ends (`o` holds in Done), loaded
        // every clock: no enable from the end's compares.
        self.popcnt_r.d.next = self.o.q.val();
        self.wr.next = false;
        self.wr_data.next = self.eb_rd_data.val();
        self.done.next = self.s_done.q.val();
        self.bad.next = self.bad_r.q.val();
        // The exits.
        self.at_end.next = self.s_walk.q.val() & (self.o.q.val() >= self.eb_level.val());
        self.skip.next = self.s_copy.q.val() & !self.copying.q.val();
        self.stopping.next = self.s_copy.q.val() & self.copying.q.val() & self.stop.q.val();
        self.ev_last.next =
            self.s_copy.q.val() & self.copying.q.val() & !self.stop.q.val() & self.ci_last.q.val();
        // The next state, a flag at a time (Done lasts one clock).
        self.engaged.d.next = (self.engaged.q.val() & !self.s_done.q.val())
            | (!self.engaged.q.val() & self.start.val());
        self.s_walk.d.next = (!self.engaged.q.val() & self.start.val())
            | (self.skip.val() & !self.past.q.val())
            | self.ev_last.val();
        self.s_type.d.next = self.s_walk.q.val() & !self.at_end.val();
        self.s_check.d.next = self.s_type.q.val();
        self.s_copy.d.next = self.s_check.q.val()
            | (self.s_copy.q.val()
                & self.copying.q.val()
                & !self.stop.q.val()
                & !self.ci_last.q.val());
        self.s_done.d.next =
            self.at_end.val() | (self.skip.val() & self.past.q.val()) | self.stopping.val();

        // What each state does besides moving on.
        if !self.engaged.q.val() {
            self.o.d.next = bits::<LEVEL_BITS>(0);
            self.rdo.d.next = bits::<LEVEL_BITS>(0);
            self.copying.d.next = false;
            self.bad_r.d.next = false;
        }
        if self.s_walk.q.val() {
            // The type byte of the event at o is read now (rdo = o).
            if !self.copying.q.val() & (self.o.q.val() == self.target.val()) {
                self.copying.d.next = true;
                self.lim_end.d.next = self.o.q.val() + self.limit.val();
            }
            if self.o.q.val() >= self.eb_level.val() {
                // The end: nothing more (PEEK past the end answers empty).
                self.pop_r.d.next = self.drain.val();
            }
        }
        if self.s_type.q.val() {
            self.evlen.d.next = self.k_evict_len.val();
            self.nxt.d.next = self.o.q.val() + bit_cast::<LEVEL_BITS, 6>(self.k_evict_len.val());
            if self.eb_rd_data.val() == self.k_open.val() {
                self.evlen.d.next = self.k_open_len.val();
                self.nxt.d.next = self.o.q.val() + bit_cast::<LEVEL_BITS, 6>(self.k_open_len.val());
            }
            self.ci.d.next = bits::<6>(0);
            self.ci_last.d.next = false; // an event is never empty
        }
        if self.s_check.q.val() {
            // The level only grows during a walk (nothing pops but the
            // walk's own end), so the event's fate is decided once.
            self.stop.d.next = (self.nxt.q.val() > self.eb_level.val())
                | (self.nxt.q.val() > self.lim_end.q.val());
            self.past.d.next = self.nxt.q.val() > self.target.val();
        }
        if self.s_copy.q.val() {
            if !self.copying.q.val() {
                // Skipping towards PEEK's offset (past it: BAD_ARGUMENT).
                self.o.d.next = self.nxt.q.val();
                self.rdo.d.next = self.nxt.q.val();
                if self.past.q.val() {
                    self.bad_r.d.next = true;
                }
            } else if self.stop.q.val() {
                // A partial event, or no room: stop before it.
                self.pop_r.d.next = self.drain.val();
            } else {
                // Byte ci is read this clock (rdo = o + ci) and written the next.
                self.rdo.d.next = self.rdo.q.val() + 1;
                self.ci.d.next = self.ci.q.val() + 1;
                self.ci_last.d.next = (self.ci.q.val() + 1) == self.evlen.q.val();
                if self.ci.q.val().any() {
                    self.wr.next = true;
                }
                if self.ci_last.q.val() {
                    self.o.d.next = self.nxt.q.val();
                    self.rdo.d.next = self.nxt.q.val();
                }
            }
        }
    }
}
crate::impl_clocked!(EventWalk);

impl EventWalk {
    /// The state its one-hot flags stand for, or what is wrong with them.
    pub fn state(&self) -> Result<WalkState, String> {
        crate::util::one_hot_state(
            "the walk",
            WalkState::Idle,
            &self.engaged,
            &[
                (WalkState::Walk, &self.s_walk),
                (WalkState::Type, &self.s_type),
                (WalkState::Check, &self.s_check),
                (WalkState::Copy, &self.s_copy),
                (WalkState::Done, &self.s_done),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{settle, tick};
    use bloomtime_model::protocol::EV_EVICT;

    /// What the model device answers (`protocol::cmd` DRAIN / PEEK): the
    /// whole events from `target` that fit in `limit` bytes, or `None` for an
    /// offset inside an event; `level` may end inside an event (the model
    /// device holds whole events only: an event still being written is not
    /// there yet, and an offset inside it is still inside an event).
    fn reference(lens: &[usize], level: usize, target: usize, limit: usize) -> Option<usize> {
        let (mut at, mut i) = (0, 0);
        while at < target {
            if at >= level {
                return Some(0);
            }
            at += lens[i];
            i += 1;
            if at > target {
                return None;
            }
        }
        let mut n = 0;
        for &l in &lens[i..] {
            if at + n + l > level || n + l > limit {
                break;
            }
            n += l;
        }
        Some(n)
    }

    /// Runs a walk on `buf` (waiting bytes, `level` of them valid): the
    /// bytes written, whether `bad`, the bytes popped, and the clocks taken.
    fn walk(
        buf: &[u8],
        level: usize,
        drain: bool,
        target: usize,
        limit: usize,
    ) -> (Vec<u8>, bool, Option<usize>, usize) {
        let mut w = EventWalk::default();
        w.connect_all();
        w.drain.next = drain;
        w.target.next = (target as u64).into();
        w.limit.next = (limit as u64).into();
        w.eb_level.next = (level as u64).into();
        w.start.next = true;
        settle(&mut w);
        tick(&mut w);
        w.start.next = false;
        let (mut out, mut popped) = (Vec::new(), None);
        for clocks in 1..10_000 {
            settle(&mut w);
            if let Err(e) = w.state() {
                panic!("clock {clocks}: {e}");
            }
            if w.wr.val() {
                out.push(w.wr_data.val().to_u64() as u8);
            }
            if w.eb_pop.val() {
                popped = Some(w.eb_pop_count.val().to_u64() as usize);
            }
            if w.done.val() {
                return (out, w.bad.val(), popped, clocks);
            }
            let rd = w.eb_rd_offset.val().to_u64() as usize;
            tick(&mut w);
            w.eb_rd_data.next = (*buf.get(rd).unwrap_or(&0xEE) as u64).into();
        }
        panic!("the walk did not end");
    }

    #[test]
    fn drain_and_peek_answer_like_the_model_device() {
        let mut rng = bloomtime_testkit::Rng::seeded("event_walk", 0x2545_f491_4f6c_dd1du64);
        let mut r = move |n: u64| rng.below(n);
        for case in 0..400 {
            // Events of both kinds, their bytes numbered so a misplaced byte shows.
            let lens: Vec<usize> = (0..r(12))
                .map(|_| if r(3) == 0 { OPEN_BYTES } else { EVICT_BYTES })
                .collect();
            let mut buf = Vec::new();
            for &l in &lens {
                buf.push(if l == OPEN_BYTES { EV_OPEN } else { EV_EVICT });
                for _ in 1..l {
                    buf.push(buf.len() as u8);
                }
            }
            // Sometimes the last event is still being written.
            let level = buf.len()
                - if r(4) == 0 {
                    r(buf.len() as u64 + 1) as usize
                } else {
                    0
                };
            let drain = r(2) == 0;
            let target = match (drain, r(3)) {
                (true, _) => 0,
                (false, 0) => r(level as u64 + 20) as usize,
                (false, _) => {
                    let k = r(lens.len() as u64 + 1) as usize;
                    lens[..k].iter().sum()
                }
            };
            let limit = r(200) as usize;
            let (out, bad, popped, _) = walk(&buf, level, drain, target, limit);
            match reference(&lens, level, target, limit) {
                None => assert!(bad && out.is_empty(), "case {case}: offset {target} inside"),
                Some(n) => {
                    assert!(!bad, "case {case}");
                    let want = if n == 0 {
                        &[][..]
                    } else {
                        &buf[target..target + n]
                    };
                    assert_eq!(out, want, "case {case}");
                    if drain {
                        assert_eq!(popped, Some(n), "case {case}: popped");
                    }
                }
            }
            if !drain {
                assert_eq!(popped, None, "case {case}: a PEEK popped");
            }
        }
    }

    /// A PEEK pops nothing (`eb_pop` is driven, with `drain` low).
    #[test]
    fn peek_pops_nothing() {
        let buf: Vec<u8> = std::iter::once(EV_EVICT)
            .chain(1..EVICT_BYTES as u8)
            .collect();
        let (out, bad, popped, _) = walk(&buf, buf.len(), false, 0, 100);
        assert_eq!((out.len(), bad, popped), (EVICT_BYTES, false, None));
    }
}
