//! The board's registers (`model::regmap`): STATUS, CONTROL, the device
//! time (TIME_LO / TIME_HI, in the configuration's time units, counted from
//! the clock) and UPTIME, and the decoding of a register address for the
//! command processor: which register, or which counter of the counter bank.
//!
//! `decode` registers the address's meaning a clock after it is given; the
//! flags and `cidx` hold until the next `decode`. `word` is the addressed
//! register's value (not a counter's), computed from the flags.

use crate::consts::*;
use crate::counter_bank::CNT_INDEX_BITS;
use crate::types::Ts;
use bloomtime_model::counters::N_COUNTERS;
use bloomtime_model::regmap::{self, N_LINK_COUNTERS};
use rust_hdl::prelude::*;

/// Nanoseconds, within a time unit, counted by the time accumulator.
const ACC_BITS: usize = CFG.time_unit_log2_ns as usize + 1;
const _: () = assert!(ACC_BITS == 11);
const _: () = assert!(
    regmap::COUNTER_BASE == 0
        && (N_COUNTERS as u16) <= regmap::LINK_BASE
        && N_COUNTERS + N_LINK_COUNTERS <= 1 << CNT_INDEX_BITS
);
// STATUS's fields at literal shifts below.
const _: () = assert!(
    regmap::STATUS_BUSY == 1 << 0
        && regmap::STATUS_IDLE == 1 << 1
        && regmap::STATUS_EVENTS_EMPTY == 1 << 2
        && regmap::CONTROL_LIVE == 1
);
// The device time (40 bits) split at literal shifts: the time's low 32 bits,
// the epoch from bit S_SHIFT.
const _: () = assert!(TS_BITS == 40 && S_SHIFT == 3 && EPOCH_BITS == 37);

#[derive(LogicBlock)]
pub struct RegisterFile {
    pub clock: Signal<In, Clock>,
    /// Decode `addr` (a clock).
    pub decode: Signal<In, Bit>,
    pub addr: Signal<In, Bits<16>>,
    /// A TIME_LO read is answered: latch the time's high bits for TIME_HI.
    pub latch_hi: Signal<In, Bit>,
    /// Write CONTROL from `wdata`; leave live mode (the reset button).
    pub write_control: Signal<In, Bit>,
    pub wdata: Signal<In, Bit>,
    pub clear_control: Signal<In, Bit>,
    // STATUS's sources.
    pub core_busy: Signal<In, Bit>,
    pub quiet: Signal<In, Bit>,
    pub eb_level: Signal<In, Bits<12>>,
    /// The decoded address: a counter (index `cidx` in the counter bank) or
    /// one of the registers.
    pub is_counter: Signal<Out, Bit>,
    pub cidx: Signal<Out, Bits<CNT_INDEX_BITS>>,
    pub is_status: Signal<Out, Bit>,
    pub is_control: Signal<Out, Bit>,
    pub is_time_lo: Signal<Out, Bit>,
    pub is_time_hi: Signal<Out, Bit>,
    pub is_uptime: Signal<Out, Bit>,
    pub word: Signal<Out, Bits<32>>,
    /// CONTROL's live bit, and the device time as a timestamp.
    pub live: Signal<Out, Bit>,
    pub now: Signal<Out, Ts>,
    k_counters_end: Constant<Bits<16>>,
    k_link_base: Constant<Bits<16>>,
    k_link_end: Constant<Bits<16>>,
    k_link_index: Constant<Bits<CNT_INDEX_BITS>>,
    k_status: Constant<Bits<16>>,
    k_control: Constant<Bits<16>>,
    k_time_lo: Constant<Bits<16>>,
    k_time_hi: Constant<Bits<16>>,
    k_uptime: Constant<Bits<16>>,
    k_step: Constant<Bits<ACC_BITS>>,
    k_wrap: Constant<Bits<ACC_BITS>>,
    f_counter: DFF<Bit>,
    f_link: DFF<Bit>,
    f_status: DFF<Bit>,
    f_control: DFF<Bit>,
    f_time_lo: DFF<Bit>,
    f_time_hi: DFF<Bit>,
    f_uptime: DFF<Bit>,
    idx: DFF<Bits<CNT_INDEX_BITS>>,
    control: DFF<Bit>,
    time_acc: DFF<Bits<ACC_BITS>>,
    /// `time_acc >= k_wrap` and `time_lo` all ones, registered beside their
    /// sources (computed from the values they are loaded with), so that
    /// the time's enables read flags instead of a compare and a 32-input
    /// AND ([`RegisterFile::time_flags_hold`]).
    unit_due: DFF<Bit>,
    lo_ones: DFF<Bit>,
    acc_next: Signal<Local, Bits<ACC_BITS>>,
    time_lo: DFF<Bits<32>>,
    time_hi: DFF<Bits<8>>,
    time_hi_latch: DFF<Bits<8>>,
    uptime: DFF<Bits<32>>,
}

fn addr(a: u16) -> Constant<Bits<16>> {
    Constant::new(bits::<16>(a.into()))
}

impl RegisterFile {
    /// The registers of a board clocked at `clock_hz` (a whole number of
    /// nanoseconds a clock, less than a time unit).
    pub fn new(clock_hz: u32) -> Self {
        let unit_ns = 1u64 << CFG.time_unit_log2_ns;
        assert!(
            1_000_000_000 % clock_hz as u64 == 0,
            "a clock of {clock_hz} Hz is not a whole number of nanoseconds"
        );
        let step = 1_000_000_000 / clock_hz as u64;
        assert!(step < unit_ns, "a clock slower than the time unit");
        let link_index = (regmap::LINK_BASE as u64 - N_COUNTERS as u64) % (1 << CNT_INDEX_BITS);
        Self {
            clock: Default::default(),
            decode: Default::default(),
            addr: Default::default(),
            latch_hi: Default::default(),
            write_control: Default::default(),
            wdata: Default::default(),
            clear_control: Default::default(),
            core_busy: Default::default(),
            quiet: Default::default(),
            eb_level: Default::default(),
            is_counter: Default::default(),
            cidx: Default::default(),
            is_status: Default::default(),
            is_control: Default::default(),
            is_time_lo: Default::default(),
            is_time_hi: Default::default(),
            is_uptime: Default::default(),
            word: Default::default(),
            live: Default::default(),
            now: Default::default(),
            k_counters_end: addr(regmap::COUNTER_BASE + N_COUNTERS as u16),
            k_link_base: addr(regmap::LINK_BASE),
            k_link_end: addr(regmap::LINK_BASE + N_LINK_COUNTERS as u16),
            k_link_index: Constant::new(bits::<CNT_INDEX_BITS>(link_index)),
            k_status: addr(regmap::STATUS),
            k_control: addr(regmap::CONTROL),
            k_time_lo: addr(regmap::TIME_LO),
            k_time_hi: addr(regmap::TIME_HI),
            k_uptime: addr(regmap::UPTIME),
            k_step: Constant::new(bits::<ACC_BITS>(step)),
            k_wrap: Constant::new(bits::<ACC_BITS>(unit_ns - step)),
            f_counter: Default::default(),
            f_link: Default::default(),
            f_status: Default::default(),
            f_control: Default::default(),
            f_time_lo: Default::default(),
            f_time_hi: Default::default(),
            f_uptime: Default::default(),
            idx: Default::default(),
            control: Default::default(),
            time_acc: Default::default(),
            unit_due: Default::default(),
            lo_ones: Default::default(),
            acc_next: Default::default(),
            time_lo: Default::default(),
            time_hi: Default::default(),
            time_hi_latch: Default::default(),
            uptime: Default::default(),
        }
    }
}

impl Default for RegisterFile {
    fn default() -> Self {
        Self::new(100_000_000)
    }
}

impl Logic for RegisterFile {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            f_counter,
            f_link,
            f_status,
            f_control,
            f_time_lo,
            f_time_hi,
            f_uptime,
            idx,
            control,
            time_acc,
            unit_due,
            lo_ones,
            time_lo,
            time_hi,
            time_hi_latch,
            uptime
        );
        // Device time in time units: add a clock's nanoseconds each clock.
        self.acc_next.next = self.time_acc.q.val() + self.k_step.val();
        if self.unit_due.q.val() {
            self.acc_next.next = self.time_acc.q.val() - self.k_wrap.val();
            self.time_lo.d.next = self.time_lo.q.val() + 1;
            // time_lo + 1 is all ones.
            self.lo_ones.d.next =
                self.time_lo.q.val().get_bits::<31>(1).all() & !self.time_lo.q.val().get_bit(0);
            if self.lo_ones.q.val() {
                self.time_hi.d.next = self.time_hi.q.val() + 1;
            }
        }
        self.time_acc.d.next = self.acc_next.val();
        self.unit_due.d.next = self.acc_next.val() >= self.k_wrap.val();
        if !self.uptime.q.val().all() {
            self.uptime.d.next = self.uptime.q.val() + 1;
        }
        if self.latch_hi.val() {
            self.time_hi_latch.d.next = self.time_hi.q.val();
        }
        if self.write_control.val() {
            self.control.d.next = self.wdata.val();
        }
        if self.clear_control.val() {
            self.control.d.next = false;
        }
        self.live.next = self.control.q.val();
        self.now.next.epoch = (bit_cast::<EPOCH_BITS, 8>(self.time_hi.q.val()) << 29)
            | bit_cast::<EPOCH_BITS, 32>(self.time_lo.q.val() >> 3);
        self.now.next.sub = bit_cast::<S_SHIFT, 32>(self.time_lo.q.val());

        if self.decode.val() {
            self.f_counter.d.next = self.addr.val() < self.k_counters_end.val();
            self.f_link.d.next = (self.addr.val() >= self.k_link_base.val())
                & (self.addr.val() < self.k_link_end.val());
            self.f_status.d.next = self.addr.val() == self.k_status.val();
            self.f_control.d.next = self.addr.val() == self.k_control.val();
            self.f_time_lo.d.next = self.addr.val() == self.k_time_lo.val();
            self.f_time_hi.d.next = self.addr.val() == self.k_time_hi.val();
            self.f_uptime.d.next = self.addr.val() == self.k_uptime.val();
            // Counter index: pipeline counters from 0, link counters after.
            self.idx.d.next = bit_cast::<CNT_INDEX_BITS, 16>(self.addr.val());
            if self.addr.val() >= self.k_link_base.val() {
                self.idx.d.next =
                    bit_cast::<CNT_INDEX_BITS, 16>(self.addr.val()) - self.k_link_index.val();
            }
        }
        self.is_counter.next = self.f_counter.q.val() | self.f_link.q.val();
        self.cidx.next = self.idx.q.val();
        self.is_status.next = self.f_status.q.val();
        self.is_control.next = self.f_control.q.val();
        self.is_time_lo.next = self.f_time_lo.q.val();
        self.is_time_hi.next = self.f_time_hi.q.val();
        self.is_uptime.next = self.f_uptime.q.val();

        self.word.next = self.uptime.q.val();
        if self.f_status.q.val() {
            self.word.next = bit_cast::<32, 1>(self.core_busy.val().into())
                | (bit_cast::<32, 1>(self.quiet.val().into()) << 1)
                | (bit_cast::<32, 1>((self.eb_level.val() == 0).into()) << 2)
                | (bit_cast::<32, 12>(self.eb_level.val()) << 16);
        }
        if self.f_control.q.val() {
            self.word.next = bit_cast::<32, 1>(self.control.q.val().into());
        }
        if self.f_time_lo.q.val() {
            self.word.next = self.time_lo.q.val();
        }
        if self.f_time_hi.q.val() {
            self.word.next = bit_cast::<32, 8>(self.time_hi_latch.q.val());
        }
    }
}
crate::impl_clocked!(RegisterFile);

impl RegisterFile {
    /// The time's registered flags agree with their definitions (for
    /// tests, every clock).
    pub fn time_flags_hold(&self) -> bool {
        self.unit_due.q.val() == (self.time_acc.q.val() >= self.k_wrap.val())
            && self.lo_ones.q.val() == self.time_lo.q.val().all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{settle, tick};

    fn decode(r: &mut RegisterFile, a: u16) {
        r.addr.next = bits::<16>(a.into());
        r.decode.next = true;
        settle(r);
        tick(r);
        r.decode.next = false;
        settle(r);
    }

    /// Every address of the map decodes as `regmap::registers()` lists it,
    /// and every other address as none.
    #[test]
    fn addresses_decode_as_the_register_map() {
        let mut r = RegisterFile::default();
        r.connect_all();
        let map = regmap::registers();
        for a in (0..0x100u16).chain([0x140, 0x4040, 0xFFFF]) {
            decode(&mut r, a);
            let flags = [
                r.is_counter.val(),
                r.is_status.val(),
                r.is_control.val(),
                r.is_time_lo.val(),
                r.is_time_hi.val(),
                r.is_uptime.val(),
            ];
            let want = [
                map.iter()
                    .position(|g| g.addr == a)
                    .is_some_and(|i| i < N_COUNTERS + N_LINK_COUNTERS),
                a == regmap::STATUS,
                a == regmap::CONTROL,
                a == regmap::TIME_LO,
                a == regmap::TIME_HI,
                a == regmap::UPTIME,
            ];
            assert_eq!(flags, want, "address {a:#06x}");
            if let Some(i) = map.iter().position(|g| g.addr == a) {
                if i < N_COUNTERS + N_LINK_COUNTERS {
                    // The counter bank holds pipeline, then link counters.
                    assert_eq!(r.cidx.val().to_u64(), i as u64, "address {a:#06x}");
                }
            }
        }
    }

    /// The device time advances a time unit every 2^10 ns of clocks, at
    /// the clock of either bitstream (100 MHz, and 50 MHz with the
    /// oscillator halved: 10 and 20 ns a clock), and TIME_HI reads what the
    /// last TIME_LO read latched.
    #[test]
    fn time_counts_units_of_the_configuration() {
        for (clock_hz, ns) in [(100_000_000u32, 10u64), (50_000_000, 20)] {
            let mut r = RegisterFile::new(clock_hz);
            r.connect_all();
            decode(&mut r, regmap::TIME_LO);
            let clocks = 100_000u64;
            for _ in 0..clocks {
                tick(&mut r);
                assert!(r.time_flags_hold(), "{clock_hz} Hz");
            }
            settle(&mut r);
            // The accumulator started at 0 and adds `ns` a clock, for the
            // decoding clock and the loop's.
            let want = (clocks + 1) * ns / (1 << CFG.time_unit_log2_ns);
            assert_eq!(r.word.val().to_u64(), want, "{clock_hz} Hz");
            assert_eq!(r.now.val().to_u64(), want, "{clock_hz} Hz");
            decode(&mut r, regmap::UPTIME);
            assert_eq!(r.word.val().to_u64(), clocks + 2, "{clock_hz} Hz");
        }
    }

    /// The time's low word wraps into the high byte exactly once, a unit
    /// after it reads all ones (started a few units before, as a board
    /// would be after 2^32 units, about 51 days).
    #[test]
    fn the_low_word_carries_into_the_high_byte() {
        let mut r = RegisterFile::new(100_000_000);
        r.connect_all();
        settle(&mut r);
        r.time_lo.q.next = bits::<32>(0xffff_fffc);
        r.time_lo.d.next = bits::<32>(0xffff_fffc);
        settle(&mut r);
        let mut seen = vec![];
        for _ in 0..1000 {
            tick(&mut r);
            assert!(r.time_flags_hold());
            let now = (r.time_hi.q.val().to_u64() << 32) | r.time_lo.q.val().to_u64();
            if seen.last() != Some(&now) {
                seen.push(now);
            }
        }
        let want: Vec<u64> = (0xffff_fffcu64..0xffff_fffc + seen.len() as u64).collect();
        assert_eq!(seen, want);
        assert!(seen.len() > 5, "{seen:x?}");
    }
}
