//! # bloomtime-model
//!
//! The golden model of BloomTime: the specification every other
//! implementation (the RustHDL design, its Verilog under Verilator, the
//! board) is compared with bit for bit. `docs/DESIGN.md` is its prose form.
//!
//! No dependency on rust-hdl or Verilator: the host builds without them.

pub mod bank;
pub mod config;
pub mod counters;
pub mod estimator;
pub mod exact;
pub mod golden;
pub mod hash;
pub mod key;
pub mod key_map;
pub mod merge;
pub mod parse;
pub mod protocol;
pub mod regmap;
pub mod report;
pub mod stats;
pub mod table;

pub use config::{preset, Config, PRESETS};
pub use counters::{Counter, Counters};
pub use golden::{BloomTime, Outcome};
pub use key::{FlowKey, Record};

/// Ask the CPU to bring `x`'s cache line in (a hint; no effect on results).
#[inline(always)]
pub(crate) fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch of a valid reference's address has no effect
    // besides the cache; SSE is part of the x86_64 baseline.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(x as *const T as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// Property tests run from a fixed, printed seed (`BLOOMTIME_SEED` replays
/// another) and write no regression files: the test kit's rule.
#[cfg(test)]
pub(crate) use bloomtime_testkit::prop_config;
