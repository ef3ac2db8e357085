//! The event buffer writes exactly `protocol::encode_event`'s bytes, in the
//! order events are taken (opens first), and READ_SLOTS records for peeks.

mod common;
use bloomtime_hw::consts::*;
use bloomtime_hw::event_buffer::EventBuffer;
use bloomtime_hw::event_buffer::EVICT_BYTES;
use bloomtime_hw::types::{KeyBits, StatsBits};
use bloomtime_hw::util::Stepper;
use bloomtime_model::key::FlowKey;
use bloomtime_model::protocol::{encode_event, EVENT_BUFFER_BYTES, OPEN_BYTES};
use bloomtime_model::table::{level0, AccRule, Event, EvictReason, SlotStats};
use common::*;

/// The key source's side of an open (`FrameParser::key_rot` / `key_tap`):
/// the 32 address bytes in wire order, turned one byte on `open_rot`.
struct Ring {
    bytes: [u8; 32],
    turns: usize,
}

impl Ring {
    fn new(key: &FlowKey) -> Ring {
        let mut bytes = [0; 32];
        bytes.copy_from_slice(&key.to_wire()[2..34]);
        Ring { bytes, turns: 0 }
    }
    fn tap(&self) -> u64 {
        self.bytes[0] as u64
    }
    fn turn(&mut self) {
        self.bytes.rotate_left(1);
        self.turns += 1;
    }
    /// An open is taken: its key must have turned exactly once round.
    fn taken(&self, key: &FlowKey) {
        assert_eq!(self.turns, 32, "turns of the key for one open");
        assert_eq!(self.bytes, Ring::new(key).bytes);
    }
}

fn random_stats(r: &mut Rng) -> SlotStats {
    let rule = AccRule::new(&CFG);
    let mut s = SlotStats::first(
        &rule,
        r.chance(0.5).then(|| level0(r.below(248) as u32)),
        r.chance(0.5).then(|| level0(r.below(248) as u32)),
    );
    for _ in 0..r.below(40) {
        s.add(
            &rule,
            r.chance(0.7).then(|| level0(r.below(248) as u32)),
            r.chance(0.2).then(|| level0(r.below(248) as u32)),
        );
    }
    s
}

#[test]
fn bytes_equal_the_protocol_encoding() {
    let s = seed("bytes_equal_the_protocol_encoding", 31);
    let mut r = Rng::new(s);
    let mut st = Stepper::new(EventBuffer::default(), None);
    let mut want_fifo = Vec::new();
    let mut want_peek = Vec::new();
    let mut got_fifo = Vec::new();
    let mut got_peek = Vec::new();
    let mut open: Option<Event> = None;
    let mut ring: Option<Ring> = None;
    let mut evict: Option<(Event, u64)> = None;
    let mut peek_tag = 0u64;
    // Reading the FIFO: (bytes to read, next offset).
    let mut reading: Option<(u64, u64)> = None;
    for _ in 0..40_000 {
        if open.is_none() && r.chance(0.05) {
            let e = Event::Open {
                slot: r.below(256) as u32,
                key: random_key(&mut r, 1 << 30, 1 << 16),
            };
            if let Event::Open { key, .. } = &e {
                ring = Some(Ring::new(key));
            }
            open = Some(e);
        }
        if evict.is_none() && r.chance(0.05) {
            let reason = r.below(4);
            let e = Event::Evict {
                slot: r.below(256) as u32,
                reason: EvictReason::from_index(reason.min(2) as u8).unwrap(),
                stats: random_stats(&mut r),
            };
            peek_tag = r.below(1 << TAG_BITS);
            evict = Some((e, reason));
        }
        let u = &mut st.uut;
        u.s_open_valid.next = open.is_some();
        if let Some(Event::Open { slot, key }) = open {
            u.s_open_slot.next = (slot as u64).into();
            u.s_open_key.next = KeyBits::from_key(&key);
        }
        // Garbage on the tap while no open is offered.
        u.s_open_tap.next = ring.as_ref().map_or(r.below(256), Ring::tap).into();
        u.s_evict_valid.next = evict.is_some();
        if let Some((Event::Evict { slot, stats, .. }, reason)) = evict {
            u.s_evict_slot.next = (slot as u64).into();
            u.s_evict_reason.next = reason.into();
            u.s_evict_stats.next = StatsBits::from_stats(&stats);
            u.s_evict_tag.next = peek_tag.into();
        }
        // The processor always takes peek bytes (it waits for them).
        u.p_ready.next = true;
        // Now and then read everything waiting (one byte per clock, while
        // the serializer keeps writing), then remove it.
        u.pop.next = false;
        match reading {
            None => {
                let level = u.level.val().to_u64();
                if level > 0 && r.chance(0.02) {
                    reading = Some((level, 0));
                    u.rd_offset.next = 0u64.into();
                }
            }
            Some((n, i)) if i == n => {
                u.pop.next = true;
                u.pop_count.next = n.into();
                reading = None;
            }
            Some((_, i)) => u.rd_offset.next = i.into(),
        }
        st.settle();
        let u = &st.uut;
        let rot = u.open_rot.val();
        if u.s_open_ready.val() {
            let e = open.take().unwrap();
            if let Event::Open { key, .. } = &e {
                ring.take().unwrap().taken(key);
            }
            encode_event(&CFG, &e, &mut want_fifo);
        }
        if u.p_valid.val() {
            got_peek.push(u.p_byte.val().to_u64() as u8);
        }
        if u.s_evict_ready.val() {
            let (e, reason) = evict.take().unwrap();
            if reason == 3 {
                if let Event::Evict { stats, .. } = e {
                    if peek_tag >> FP_BITS & 1 == 1 {
                        // On the wire: valid << 24 | fingerprint.
                        let fp = peek_tag & ((1 << FP_BITS) - 1);
                        want_peek.extend_from_slice(&((1u32 << 24) | fp as u32).to_be_bytes());
                        want_peek.extend_from_slice(&stats.to_wire(&CFG));
                    } else {
                        // An empty slot reads as zeros (`protocol::cmd::READ_SLOTS`).
                        want_peek.extend(std::iter::repeat_n(0, 4 + stats.to_wire(&CFG).len()));
                    }
                }
            } else {
                encode_event(&CFG, &e, &mut want_fifo);
            }
        }
        let offset_read = reading.map(|(_, i)| i);
        st.tick();
        if rot {
            ring.as_mut().expect("the key turned with no open").turn();
        }
        if let (Some(i), Some((n, _))) = (offset_read, reading) {
            st.settle();
            got_fifo.push(st.uut.rd_data.val().to_u64() as u8);
            reading = Some((n, i + 1));
        }
    }
    let n = want_fifo.len().min(got_fifo.len());
    assert!(n > 10_000, "too little traffic: {n}");
    if let Some(i) = (0..got_fifo.len()).find(|&i| got_fifo[i] != want_fifo[i]) {
        panic!(
            "FIFO byte {i} differs:\n got  {:?}\n want {:?}",
            &got_fifo[i.saturating_sub(45)..(i + 10).min(got_fifo.len())],
            &want_fifo[i.saturating_sub(45)..i + 10]
        );
    }
    if let Some(i) = (0..got_peek.len()).find(|&i| got_peek[i] != want_peek[i]) {
        panic!(
            "peek byte {i} differs:\n got  {:?}\n want {:?}",
            &got_peek[i.saturating_sub(30)..(i + 10).min(got_peek.len())],
            &want_peek[i.saturating_sub(30)..i + 10]
        );
    }
    assert!(got_peek.len() > 1000);
}

fn random_event(r: &mut Rng, open: bool) -> Event {
    if open {
        Event::Open {
            slot: r.below(256) as u32,
            key: random_key(r, 1 << 30, 1 << 16),
        }
    } else {
        Event::Evict {
            slot: r.below(256) as u32,
            reason: EvictReason::from_index(r.below(3) as u8).unwrap(),
            stats: random_stats(r),
        }
    }
}

/// Offers the events one after the other, nothing drained; each is given
/// 200 clocks to be taken. Returns how many were taken and the level then.
fn offer(events: &[Event]) -> (usize, u64) {
    let mut st = Stepper::new(EventBuffer::default(), None);
    let mut taken = 0;
    'next: for e in events {
        let mut ring = match e {
            Event::Open { key, .. } => Some(Ring::new(key)),
            _ => None,
        };
        for _ in 0..200 {
            let u = &mut st.uut;
            u.p_ready.next = true;
            u.pop.next = false;
            u.s_open_valid.next = false;
            u.s_evict_valid.next = false;
            match e {
                Event::Open { slot, key } => {
                    u.s_open_valid.next = true;
                    u.s_open_slot.next = (*slot as u64).into();
                    u.s_open_key.next = KeyBits::from_key(key);
                    u.s_open_tap.next = ring.as_ref().unwrap().tap().into();
                }
                Event::Evict {
                    slot,
                    reason,
                    stats,
                } => {
                    u.s_evict_valid.next = true;
                    u.s_evict_slot.next = (*slot as u64).into();
                    u.s_evict_reason.next = (*reason as u64).into();
                    u.s_evict_stats.next = StatsBits::from_stats(stats);
                }
            }
            st.settle();
            let took = st.uut.s_open_ready.val() || st.uut.s_evict_ready.val();
            let rot = st.uut.open_rot.val();
            if let (true, Event::Open { key, .. }) = (st.uut.s_open_ready.val(), e) {
                ring.as_ref().unwrap().taken(key);
            }
            st.tick();
            if rot {
                ring.as_mut().expect("the key turned with no open").turn();
            }
            if took {
                taken += 1;
                continue 'next;
            }
        }
        break;
    }
    st.uut.s_open_valid.next = false;
    st.uut.s_evict_valid.next = false;
    for _ in 0..4 {
        st.tick();
    }
    st.settle();
    (taken, st.uut.level.val().to_u64())
}

/// An event is taken exactly when it fits: after `opens` opens and `evicts`
/// evicts (shuffled), the `last` one is taken if and only if the buffer
/// then holds at most its 2048 bytes. The four cases sit on both sides of
/// both boundaries: 9·41 + 126·13 = 2007 and 10·41 + 125·13 = 2035 bytes
/// leave exactly an open's / an evict's room, 3·41 + 145·13 = 2008 and
/// 4·41 + 144·13 = 2036 a byte less.
#[test]
fn takes_an_event_exactly_when_it_fits() {
    let s = seed("takes_an_event_exactly_when_it_fits", 32);
    let mut r = Rng::new(s);
    for (opens, evicts, last_open) in [
        (9, 126, true),
        (10, 125, false),
        (3, 145, true),
        (4, 144, false),
    ] {
        let mut kinds: Vec<bool> = (0..opens + evicts).map(|i| i < opens).collect();
        for i in (1..kinds.len()).rev() {
            kinds.swap(i, r.below(i as u64 + 1) as usize);
        }
        kinds.push(last_open);
        let events: Vec<Event> = kinds.iter().map(|&o| random_event(&mut r, o)).collect();
        let before = opens as u64 * OPEN_BYTES as u64 + evicts as u64 * EVICT_BYTES as u64;
        let size = if last_open { OPEN_BYTES } else { EVICT_BYTES } as u64;
        let fits = before + size <= EVENT_BUFFER_BYTES as u64;
        let (taken, level) = offer(&events);
        let case = format!(
            "{opens} opens, {evicts} evicts, then an {}",
            if last_open { "open" } else { "evict" }
        );
        assert_eq!(
            taken,
            opens + evicts + fits as usize,
            "{case}: events taken"
        );
        assert_eq!(level, before + if fits { size } else { 0 }, "{case}: level");
    }
}
