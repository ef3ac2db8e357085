//! An `Open`'s address bytes, read again from the request buffer.
//!
//! The board's frame parser keeps only the folds of a frame's addresses
//! (`FrameParser::folding_addresses`): the hash unit needs nothing more,
//! and 256 flip-flops, each a logic cell of its own, were the largest item
//! on the HX8K. The `Open` event that announces a new flow still needs the
//! 32 address bytes in wire order (`FlowKey::to_wire`). They are still in
//! the request buffer: the replay feed says where the frame's bytes start
//! (`base`), the parser where in the frame the addresses start (`at`:
//! source then destination, 4 bytes each for IPv4, 16 for IPv6). Both hold
//! until every event of the frame's record is out, and the request buffer
//! is not written before the request ends (`ReplayFeed::f_base`).
//!
//! The event buffer takes address byte `n` from `tap` at its open count
//! `OPEN_TAP_FIRST + n`. The buffer has one clock of latency after the
//! address register, so the reader loads byte `n`'s address at count
//! `OPEN_TAP_FIRST - 2 + n`: `base + at` for the first, then one more after
//! each byte read from the buffer. An IPv4 key's `::ffff` prefix bytes are
//! constants, selected beside the data with the same delay. While it reads
//! (`active`) the request buffer's read port is the reader's; otherwise
//! `rd_addr` is zero, so it can be ORed with the port's other readers.

use crate::event_buffer::OPEN_TAP_FIRST;
use crate::link::BUF_ADDR;
use rust_hdl::prelude::*;

// Literals below (`#[hdl_gen]`): the first count that loads an address
// (OPEN_TAP_FIRST - 2) and the one after the last (+ 32).
const _: () = assert!(OPEN_TAP_FIRST == 5);

#[derive(LogicBlock, Default)]
pub struct AddressReader {
    pub clock: Signal<In, Clock>,
    /// The frame's first byte in the request buffer.
    pub base: Signal<In, Bits<BUF_ADDR>>,
    /// The addresses' first byte in the frame.
    pub at: Signal<In, Bits<8>>,
    /// The key's family.
    pub v6: Signal<In, Bit>,
    /// The event buffer's open and its count.
    pub opening: Signal<In, Bit>,
    pub idx: Signal<In, Bits<6>>,
    /// The request buffer's read port.
    pub rd_addr: Signal<Out, Bits<BUF_ADDR>>,
    pub active: Signal<Out, Bit>,
    pub rd_data: Signal<In, Bits<8>>,
    /// The address byte the event buffer takes at this clock.
    pub tap: Signal<Out, Bits<8>>,
    ra: DFF<Bits<BUF_ADDR>>,
    act: DFF<Bit>,
    /// The byte is an IPv4 prefix constant (`csel`), 0xff (`cval`) or
    /// zero; once beside the address, once beside the data.
    csel1: DFF<Bit>,
    cval1: DFF<Bit>,
    csel2: DFF<Bit>,
    cval2: DFF<Bit>,
    /// Loading byte `n = idx - 3`'s address (`want`), the first (`load`).
    want: Signal<Local, Bit>,
    load: Signal<Local, Bit>,
    n: Signal<Local, Bits<6>>,
}

impl Logic for AddressReader {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, ra, act, csel1, cval1, csel2, cval2);
        self.want.next = self.opening.val() & (self.idx.val() >= 3) & (self.idx.val() < 35);
        self.load.next = self.idx.val() == 3;
        self.n.next = self.idx.val() - 3;
        // IPv4: byte n % 16 of an address is the prefix below 12, else
        // read; the next address follows a byte read (`csel1` low).
        self.ra.d.next = 0.into();
        if self.want.val() {
            // (A multiplexer, not `+ !csel1`: Verilog would widen `csel1`
            // before inverting it.)
            self.ra.d.next = self.ra.q.val();
            if !self.csel1.q.val() {
                self.ra.d.next = self.ra.q.val() + 1;
            }
            if self.load.val() {
                self.ra.d.next = self.base.val() + bit_cast::<BUF_ADDR, 8>(self.at.val());
            }
        }
        self.act.d.next = self.want.val();
        self.csel1.d.next = !self.v6.val() & (self.n.val().get_bits::<2>(2) != 3);
        self.cval1.d.next = self.n.val().get_bits::<3>(1) == 5;
        self.csel2.d.next = self.csel1.q.val();
        self.cval2.d.next = self.cval1.q.val();
        self.rd_addr.next = self.ra.q.val();
        self.active.next = self.act.q.val();
        self.tap.next = self.rd_data.val();
        if self.csel2.q.val() {
            self.tap.next = 0.into();
            if self.cval2.q.val() {
                self.tap.next = 0xff.into();
            }
        }
    }
}

crate::impl_clocked!(AddressReader);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{settle, tick};
    use bloomtime_model::key::v4_mapped;

    /// Opens as the event buffer runs them (counts 0..41, random gaps)
    /// over a random buffer, base, address offset and family: the tap shows the
    /// key's 32 address bytes in wire order at counts 5..=36, the reader
    /// has the port exactly at counts 4..=35 and leaves its address at zero
    /// otherwise.
    #[test]
    fn taps_the_addresses_in_wire_order() {
        let mut rng = bloomtime_testkit::Rng::new(bloomtime_testkit::seed("address_reader", 3));
        let mut u = AddressReader::default();
        u.connect_all();
        let mut rd = 0usize;
        for _ in 0..300 {
            let mem: Vec<u8> = (0..1 << BUF_ADDR).map(|_| rng.byte()).collect();
            let v6 = rng.pct(50);
            let base = rng.below(1 << BUF_ADDR) as usize;
            let addr_at = rng.below(256) as usize;
            let at = |i: usize| mem[(base + addr_at + i) % mem.len()];
            let (src, dst): ([u8; 16], [u8; 16]) = if v6 {
                (
                    std::array::from_fn(&at),
                    std::array::from_fn(|i| at(16 + i)),
                )
            } else {
                (
                    v4_mapped(std::array::from_fn(&at)),
                    v4_mapped(std::array::from_fn(|i| at(4 + i))),
                )
            };
            let want = [src, dst].concat();
            u.base.next = (base as u64).into();
            u.at.next = (addr_at as u64).into();
            u.v6.next = v6;
            let gap = rng.below(4) as usize;
            let mut seen = vec![];
            for c in 0..gap + 42 {
                let idx = c.checked_sub(gap).filter(|&i| i < 41);
                u.opening.next = idx.is_some();
                u.idx.next = (idx.unwrap_or(rng.below(64) as usize) as u64).into();
                u.rd_data.next = (mem[rd] as u64).into();
                settle(&mut u);
                let reading = idx.is_some_and(|i| (4..36).contains(&i));
                assert_eq!(u.active.val(), reading, "count {idx:?}: active");
                if !reading {
                    assert_eq!(
                        u.rd_addr.val().to_u64(),
                        0,
                        "count {idx:?}: an address while idle"
                    );
                }
                if idx.is_some_and(|i| (OPEN_TAP_FIRST..OPEN_TAP_FIRST + 32).contains(&i)) {
                    seen.push(u.tap.val().to_u64() as u8);
                }
                rd = u.rd_addr.val().to_u64() as usize;
                tick(&mut u);
            }
            assert_eq!(seen, want, "v6 {v6} base {base} at {addr_at}");
        }
    }
}
