//! `bloomtime live --interface IF`: packets of a network interface, with
//! the kernel's nanosecond timestamps, through the same packet-to-record
//! path as captures (`bloomtime_traces::Records`, the golden model or the
//! exact tracker of [`crate::analyze::Analyzer`]).
//!
//! Linux AF_PACKET with a TPACKET_V3 memory-mapped receive ring, through
//! `libc`: the kernel fills blocks of frames and hands each block over
//! whole; the reader walks it in place (no copy into the socket API, no
//! system call per packet) and returns it. Frames of an interface that is
//! not Ethernet (a tun device: raw IP) get the synthetic Ethernet header
//! of `bloomtime_traces::link`, as in a capture.
//!
//! The kernel's own counters (PACKET_STATISTICS: packets it had for the
//! socket, and of those the ones it dropped because the ring was full) are
//! read at every status line and in the final report: nothing is lost
//! silently.

use crate::analyze::{Analyzer, FlowTimes};
use crate::error::Error;
use crate::ipfix::Exporter;
use bloomtime_model::key::FlowKey;
use bloomtime_model::stats::FlowRow;
use bloomtime_traces::link::LinkType;
use bloomtime_traces::{Packet, PacketSource, Records, TraceError};
use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const TPACKET_V3: libc::c_int = 2;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
const PACKET_RX_RING: libc::c_int = 5;
const PACKET_STATISTICS: libc::c_int = 6;
const PACKET_VERSION: libc::c_int = 10;
const ETH_P_ALL: u16 = 0x0003;
const TP_STATUS_VLAN_VALID: u32 = 0x10;
const TP_STATUS_VLAN_TPID_VALID: u32 = 0x40;
const PACKET_OUTGOING: u8 = 4;
/// Where the `sockaddr_ll` follows a frame's `tpacket3_hdr` (48 bytes,
/// TPACKET_ALIGN'ed).
const SLL_OFFSET: usize = 48;

/// `struct tpacket_req3` (linux/if_packet.h).
#[repr(C)]
struct TpacketReq3 {
    block_size: u32,
    block_nr: u32,
    frame_size: u32,
    frame_nr: u32,
    retire_blk_tov: u32,
    sizeof_priv: u32,
    feature_req_word: u32,
}

/// `struct tpacket_stats_v3`.
#[repr(C)]
#[derive(Default)]
struct TpacketStatsV3 {
    packets: u32,
    drops: u32,
    freeze_q_cnt: u32,
}

/// The ring's geometry: 64 blocks of 1 MiB (64 MiB, a few hundred
/// thousand small frames), a block handed over after 10 ms at most.
pub const BLOCK_SIZE: u32 = 1 << 20;
pub const BLOCK_NR: u32 = 64;
pub const BLOCK_TIMEOUT_MS: u32 = 10;
/// The ring's frame size (TPACKET_V3 packs frames of any length into its
/// blocks; this only sizes the request) and the packet buffer reserved.
pub const SNAPLEN: u32 = 2048;

/// The kernel's counters of a capture socket, summed since it opened.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, PartialEq, Eq)]
pub struct KernelStats {
    /// Packets the kernel had for the socket: those it put in the ring and
    /// those it dropped (its `tp_packets` counts both).
    pub packets: u64,
    /// Of `packets`, those it dropped: the ring was full.
    pub drops: u64,
}

/// The link type of an interface, from its ARPHRD type in sysfs.
pub fn interface_link(name: &str) -> Result<LinkType, String> {
    let p = format!("/sys/class/net/{name}/type");
    let t = std::fs::read_to_string(&p).map_err(|e| format!("no interface {name} ({p}: {e})"))?;
    let t: u32 = t.trim().parse().map_err(|_| format!("{p}: not a number"))?;
    match t {
        // ARPHRD_ETHER, ARPHRD_LOOPBACK (lo carries Ethernet headers).
        1 | 772 => Ok(LinkType::Ethernet),
        // ARPHRD_NONE (tun, WireGuard), ARPHRD_TUNNEL (ipip), ARPHRD_SIT.
        65534 | 768 | 776 => Ok(LinkType::Raw),
        _ => Err(format!(
            "interface {name} has ARPHRD type {t}: BloomTime reads Ethernet, loopback and \
             raw-IP (tun, ipip, sit) interfaces"
        )),
    }
}

/// A TPACKET_V3 receive ring on one interface.
pub struct Ring {
    fd: libc::c_int,
    map: *mut u8,
    map_len: usize,
    name: String,
    link: LinkType,
    loopback: bool,
    /// The block being read, and where in it.
    block: u32,
    /// In the block being read: frames left, offset of the next.
    in_block: Option<(u32, usize)>,
    stats: KernelStats,
    packet: Packet,
    poll_ms: i32,
    stop: Option<&'static AtomicBool>,
    /// When the caller wants `Ok(None)` back (its next status line).
    deadline: Option<Instant>,
}

// SAFETY: the mapping belongs to the ring alone.
unsafe impl Send for Ring {}

impl Ring {
    /// Open a ring on `name` (root or CAP_NET_RAW).
    pub fn open(name: &str) -> Result<Ring, String> {
        let link = interface_link(name)?;
        let cname = std::ffi::CString::new(name).map_err(|_| "bad interface name".to_string())?;
        // SAFETY: plain system calls on a socket this function owns; every
        // pointer passed is to a live local of the size given.
        unsafe {
            let index = libc::if_nametoindex(cname.as_ptr());
            if index == 0 {
                return Err(format!("no interface {name}"));
            }
            let fd = libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW,
                (ETH_P_ALL.to_be()) as libc::c_int,
            );
            if fd < 0 {
                return Err(format!(
                    "AF_PACKET socket: {} (live capture needs root or CAP_NET_RAW)",
                    io::Error::last_os_error()
                ));
            }
            let fail = |what: &str| {
                let e = io::Error::last_os_error();
                libc::close(fd);
                format!("{what} on {name}: {e}")
            };
            let v: libc::c_int = TPACKET_V3;
            if libc::setsockopt(
                fd,
                libc::SOL_PACKET,
                PACKET_VERSION,
                &v as *const _ as *const libc::c_void,
                std::mem::size_of_val(&v) as libc::socklen_t,
            ) != 0
            {
                return Err(fail("PACKET_VERSION TPACKET_V3"));
            }
            let req = TpacketReq3 {
                block_size: BLOCK_SIZE,
                block_nr: BLOCK_NR,
                frame_size: SNAPLEN,
                frame_nr: BLOCK_SIZE / SNAPLEN * BLOCK_NR,
                retire_blk_tov: BLOCK_TIMEOUT_MS,
                sizeof_priv: 0,
                feature_req_word: 0,
            };
            if libc::setsockopt(
                fd,
                libc::SOL_PACKET,
                PACKET_RX_RING,
                &req as *const _ as *const libc::c_void,
                std::mem::size_of::<TpacketReq3>() as libc::socklen_t,
            ) != 0
            {
                return Err(fail("PACKET_RX_RING"));
            }
            let map_len = (BLOCK_SIZE * BLOCK_NR) as usize;
            let map = libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            );
            if map == libc::MAP_FAILED {
                return Err(fail("mmap of the ring"));
            }
            let mut sll: libc::sockaddr_ll = std::mem::zeroed();
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_protocol = ETH_P_ALL.to_be();
            sll.sll_ifindex = index as i32;
            if libc::bind(
                fd,
                &sll as *const _ as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            ) != 0
            {
                libc::munmap(map, map_len);
                return Err(fail("bind"));
            }
            let mut r = Ring {
                fd,
                map: map as *mut u8,
                map_len,
                name: name.to_string(),
                link,
                loopback: std::fs::read_to_string(format!("/sys/class/net/{name}/type"))
                    .is_ok_and(|t| t.trim() == "772"),
                block: 0,
                in_block: None,
                stats: KernelStats::default(),
                packet: Packet::default(),
                poll_ms: 50,
                stop: None,
                deadline: None,
            };
            r.packet.data.reserve(SNAPLEN as usize + 64);
            // Frames queued before the ring was bound are not this run's.
            r.kernel_stats();
            r.stats = KernelStats::default();
            Ok(r)
        }
    }

    /// Return `Ok(None)` at `t` at the latest (within a block's time).
    pub fn set_deadline(&mut self, t: Instant) {
        self.deadline = Some(t);
    }

    /// From now on, never wait: only the frames already in the ring.
    pub fn drain_only(&mut self) {
        self.poll_ms = 0;
        self.stop = None;
    }

    /// Stop waiting for packets once `flag` is set (SIGINT, SIGTERM).
    pub fn stop_on(&mut self, flag: &'static AtomicBool) {
        self.stop = Some(flag);
    }

    /// The kernel's counters so far (reading them resets the kernel's;
    /// they are summed here).
    pub fn kernel_stats(&mut self) -> KernelStats {
        let mut s = TpacketStatsV3::default();
        let mut len = std::mem::size_of::<TpacketStatsV3>() as libc::socklen_t;
        // SAFETY: `s` is a live local of `len` bytes.
        let r = unsafe {
            libc::getsockopt(
                self.fd,
                libc::SOL_PACKET,
                PACKET_STATISTICS,
                &mut s as *mut _ as *mut libc::c_void,
                &mut len,
            )
        };
        if r == 0 {
            self.stats.packets += s.packets as u64;
            self.stats.drops += s.drops as u64;
        }
        self.stats
    }

    fn block_ptr(&self, i: u32) -> *mut u8 {
        // SAFETY: i < BLOCK_NR: inside the mapping.
        unsafe { self.map.add((i * BLOCK_SIZE) as usize) }
    }

    fn block_status(&self, i: u32) -> u32 {
        // SAFETY: the block descriptor's status word, at offset 8, written by
        // the kernel: read it volatile, then fence before reading frames.
        let s = unsafe { std::ptr::read_volatile(self.block_ptr(i).add(8) as *const u32) };
        std::sync::atomic::fence(Ordering::Acquire);
        s
    }

    fn release_block(&mut self) {
        std::sync::atomic::fence(Ordering::Release);
        // SAFETY: as block_status; handing the block back to the kernel.
        unsafe {
            std::ptr::write_volatile(
                self.block_ptr(self.block).add(8) as *mut u32,
                TP_STATUS_KERNEL,
            )
        };
        self.block = (self.block + 1) % BLOCK_NR;
        self.in_block = None;
    }

    /// The next frame into `self.packet`; false when none came within the
    /// poll timeout (or a stop was asked for).
    fn next(&mut self) -> bool {
        loop {
            if let Some((left, off)) = self.in_block {
                if left == 0 {
                    self.release_block();
                    continue;
                }
                let b = self.block_ptr(self.block);
                // SAFETY: a block the kernel handed over (TP_STATUS_USER):
                // its frames lie inside it at the offsets it wrote.
                unsafe {
                    let h = b.add(off);
                    let rd = |o: usize| std::ptr::read_unaligned(h.add(o) as *const u32);
                    let next = rd(0);
                    let (sec, nsec, snap, len) = (rd(4), rd(8), rd(12), rd(16));
                    let status = rd(20);
                    let mac = std::ptr::read_unaligned(h.add(24) as *const u16) as usize;
                    let data = std::slice::from_raw_parts(h.add(mac), snap as usize);
                    // The sockaddr_ll after the 48-byte header: its sll_pkttype.
                    let pkttype = *h.add(SLL_OFFSET + 10);
                    self.in_block = Some((left - 1, off + next as usize));
                    // On loopback every packet is seen going out and coming
                    // in: keep one (as libpcap does).
                    if self.loopback && pkttype == PACKET_OUTGOING {
                        continue;
                    }
                    self.packet.ns = sec as u64 * 1_000_000_000 + nsec as u64;
                    self.packet.orig_len = self.link.to_ethernet(data, len, &mut self.packet.data);
                    if status & TP_STATUS_VLAN_VALID != 0 && self.link == LinkType::Ethernet {
                        // The kernel took the tag out (VLAN offload): put it
                        // back after the MAC addresses, as it was on the wire.
                        let tpid = if status & TP_STATUS_VLAN_TPID_VALID != 0 {
                            std::ptr::read_unaligned(h.add(36) as *const u16)
                        } else {
                            0x8100
                        };
                        let tci = rd(32) as u16;
                        let d = &mut self.packet.data;
                        if d.len() >= 12 {
                            let mut tag = [0u8; 4];
                            tag[..2].copy_from_slice(&tpid.to_be_bytes());
                            tag[2..].copy_from_slice(&tci.to_be_bytes());
                            d.splice(12..12, tag);
                            self.packet.orig_len += 4;
                        }
                    }
                }
                return true;
            }
            // Between blocks (at least every BLOCK_TIMEOUT_MS while
            // packets come): give the caller its turn when it asked for it.
            let now = Instant::now();
            if self.deadline.is_some_and(|d| now >= d) {
                self.deadline = None;
                return false;
            }
            if self.block_status(self.block) & TP_STATUS_USER != 0 {
                let b = self.block_ptr(self.block);
                // SAFETY: the block header's num_pkts (12) and
                // offset_to_first_pkt (16).
                let (n, first) = unsafe {
                    (
                        std::ptr::read_volatile(b.add(12) as *const u32),
                        std::ptr::read_volatile(b.add(16) as *const u32),
                    )
                };
                self.in_block = Some((n, first as usize));
                continue;
            }
            if self.poll_ms == 0 || self.stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                return false;
            }
            let mut p = libc::pollfd {
                fd: self.fd,
                events: libc::POLLIN | libc::POLLERR,
                revents: 0,
            };
            let wait = match self.deadline {
                Some(d) => (d - now).as_millis().min(self.poll_ms as u128) as i32 + 1,
                None => self.poll_ms,
            };
            // SAFETY: one live pollfd.
            let r = unsafe { libc::poll(&mut p, 1, wait) };
            if r == 0 {
                return false;
            }
            // A signal (EINTR) or data: look at the block again.
            if r < 0 && self.stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                return false;
            }
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: the mapping and socket this ring made.
        unsafe {
            libc::munmap(self.map as *mut libc::c_void, self.map_len);
            libc::close(self.fd);
        }
    }
}

/// The ring as a live packet source: `Ok(None)` when no packet came
/// within 50 ms (or a stop was asked for), so that the caller can report
/// and look at the clock; the stream never ends by itself.
impl PacketSource for Ring {
    const LIVE: bool = true;

    fn read_packet(&mut self) -> Result<Option<(&Packet, usize)>, TraceError> {
        Ok(self.next().then_some((&self.packet, 0)))
    }
}

/// What a live run counted besides the pipeline's counters.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct LiveSummary {
    pub packets: u64,
    pub kernel: KernelStats,
    pub seconds: f64,
}

/// The flows of `rows` that have packets since `seen` last counted them,
/// each with its packets since then as `packets` (IPFIX's
/// packetDeltaCount; the timing figures stay those of the whole run), and
/// their times where `times` (per row, maybe empty) has them: the flow's
/// first packet and its last so far. `seen` is brought up to date.
pub fn active_since(
    rows: &[FlowRow],
    times: &[Option<FlowTimes>],
    seen: &mut HashMap<FlowKey, u64>,
) -> (Vec<FlowRow>, Vec<Option<FlowTimes>>) {
    let mut out = Vec::new();
    let mut out_times = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let before = seen.entry(r.key).or_insert(0);
        if r.packets > *before {
            out.push(FlowRow {
                packets: r.packets - *before,
                ..*r
            });
            if !times.is_empty() {
                out_times.push(times.get(i).copied().flatten());
            }
            *before = r.packets;
        }
    }
    (out, out_times)
}

/// Feed `analyzer` from the ring until `duration` passes or `stop` is set.
/// Every `interval` a status line on standard error (`tool: ...`) with the
/// flows active in the interval, and those flows sent to `export` (their
/// packets in the interval; the timing figures of the run so far); `seen`
/// keeps what was sent (the caller sends the rest at the end).
#[allow(clippy::too_many_arguments)]
pub fn run(
    tool: &str,
    ring: Ring,
    analyzer: &mut Analyzer,
    interval: Duration,
    duration: Option<Duration>,
    stop: &'static AtomicBool,
    mut export: Option<&mut Exporter>,
    seen: &mut HashMap<FlowKey, u64>,
) -> Result<LiveSummary, Error> {
    let cfg = *analyzer.config();
    eprintln!(
        "{tool}: capturing on {} ({:?} frames, ring of {} blocks of {} KiB)",
        ring.name,
        ring.link,
        BLOCK_NR,
        BLOCK_SIZE >> 10
    );
    let mut records = Records::new(ring, &cfg);
    let t0 = Instant::now();
    let mut next_status = t0 + interval;
    let mut last_packets = 0u64;
    let mut last_t = t0;
    let mut n = 0u64;
    loop {
        records.source_mut().set_deadline(next_status);
        // Frames until the source is idle, looking at the clock every 1024.
        while let Some(f) = records.next_frame()? {
            analyzer.feed(&f)?;
            n += 1;
            if n.is_multiple_of(1024)
                && (Instant::now() >= next_status || stop.load(Ordering::SeqCst))
            {
                break;
            }
        }
        let now = Instant::now();
        let done = stop.load(Ordering::SeqCst) || duration.is_some_and(|d| now - t0 >= d);
        if now >= next_status && !done {
            let k = records.source_mut().kernel_stats();
            let dt = (now - last_t).as_secs_f64().max(1e-9);
            let rows = analyzer.rows_so_far()?;
            let (active, times) = active_since(&rows, &analyzer.times_so_far(&rows), seen);
            if let Some(x) = export.as_deref_mut() {
                x.export(&active, &times);
            }
            eprintln!(
                "{tool}: {} packets ({:.0}/s), {} flows active, kernel: {} seen, {} dropped",
                n,
                (n - last_packets) as f64 / dt,
                active.len(),
                k.packets,
                k.drops
            );
            last_packets = n;
            last_t = now;
            next_status = now + interval;
        }
        if done {
            // What the kernel already put in the ring (the last block is
            // handed over within BLOCK_TIMEOUT_MS) is this run's too.
            std::thread::sleep(Duration::from_millis(2 * BLOCK_TIMEOUT_MS as u64));
            records.source_mut().drain_only();
            records.source_mut().deadline = None;
            while let Some(f) = records.next_frame()? {
                analyzer.feed(&f)?;
                n += 1;
            }
            let kernel = records.source_mut().kernel_stats();
            let seconds = (Instant::now() - t0).as_secs_f64();
            eprintln!(
                "{tool}: stopped after {n} packets in {seconds:.1} s, kernel: {} seen, {} dropped",
                kernel.packets, kernel.drops
            );
            return Ok(LiveSummary {
                packets: n,
                kernel,
                seconds,
            });
        }
    }
}
