//! The end of every request (`protocol`): write the response's sequence
//! number and status in front of its data, hand it to the link, and keep it
//! as the stored response that a retry (a request with the same sequence
//! number) gets again without executing anything.
//!
//! The command processor writes a response's data from byte 2 and holds
//! `seq`, `status`, `len` and `resend` steady from `start` until `done`.
//! The stored response's data stays in the response buffer; its first two
//! bytes are rewritten from registers on a resend, since a CRC_ERROR answer
//! (sequence number `SEQ_UNKNOWN`, never stored) overwrites them.

use crate::link::BUF_ADDR;
use bloomtime_model::protocol::{status, RESPONSE_HEADER, SEQ_UNKNOWN};
use rust_hdl::prelude::*;

const _: () = assert!(RESPONSE_HEADER == 2);
// BAD_REQUESTS counts the statuses from BAD_COMMAND to BAD_ARGUMENT.
const _: () = assert!(
    status::BAD_COMMAND + 1 == status::BAD_LENGTH && status::BAD_LENGTH + 1 == status::BAD_ARGUMENT
);

#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum RespState {
    Idle,
    Seq,
    Status,
    Send,
}

#[derive(LogicBlock)]
pub struct Responder {
    pub clock: Signal<In, Clock>,
    pub start: Signal<In, Bit>,
    pub seq: Signal<In, Bits<8>>,
    pub status: Signal<In, Bits<8>>,
    /// The response's length (its data ends there).
    pub len: Signal<In, Bits<BUF_ADDR>>,
    /// Send the stored response instead.
    pub resend: Signal<In, Bit>,
    /// Forget the stored response (the reset button).
    pub forget: Signal<In, Bit>,
    /// `seq` repeats the stored response's.
    pub retry: Signal<Out, Bit>,
    pub wr_en: Signal<Out, Bit>,
    pub wr_addr: Signal<Out, Bits<BUF_ADDR>>,
    pub wr_data: Signal<Out, Bits<8>>,
    pub send: Signal<Out, Bit>,
    pub send_len: Signal<Out, Bits<BUF_ADDR>>,
    /// The response is on its way (with `send`): the request is done.
    pub done: Signal<Out, Bit>,
    /// A BAD_COMMAND, BAD_LENGTH or BAD_ARGUMENT answer (not a resend).
    pub s_bad: Signal<Out, Bit>,
    k_bad_first: Constant<Bits<8>>,
    k_bad_last: Constant<Bits<8>>,
    k_seq_unknown: Constant<Bits<8>>,
    st: DFF<RespState>,
    last_seq: DFF<Bits<8>>,
    last_status: DFF<Bits<8>>,
    last_len: DFF<Bits<BUF_ADDR>>,
    have_last: DFF<Bit>,
}

impl Default for Responder {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            start: Default::default(),
            seq: Default::default(),
            status: Default::default(),
            len: Default::default(),
            resend: Default::default(),
            forget: Default::default(),
            retry: Default::default(),
            wr_en: Default::default(),
            wr_addr: Default::default(),
            wr_data: Default::default(),
            send: Default::default(),
            send_len: Default::default(),
            done: Default::default(),
            s_bad: Default::default(),
            k_bad_first: Constant::new(bits::<8>(status::BAD_COMMAND.into())),
            k_bad_last: Constant::new(bits::<8>(status::BAD_ARGUMENT.into())),
            k_seq_unknown: Constant::new(bits::<8>(SEQ_UNKNOWN.into())),
            st: Default::default(),
            last_seq: Default::default(),
            last_status: Default::default(),
            last_len: Default::default(),
            have_last: Default::default(),
        }
    }
}

impl Logic for Responder {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, st, last_seq, last_status, last_len, have_last);
        self.retry.next = self.have_last.q.val() & (self.seq.val() == self.last_seq.q.val());
        self.wr_en.next = false;
        self.wr_addr.next = bits::<BUF_ADDR>(0);
        self.wr_data.next = self.seq.val();
        self.send.next = false;
        self.send_len.next = self.len.val();
        self.done.next = false;
        self.s_bad.next = false;
        if self.forget.val() {
            self.have_last.d.next = false;
        }
        match self.st.q.val() {
            RespState::Idle => {
                if self.start.val() {
                    self.st.d.next = RespState::Seq;
                }
            }
            RespState::Seq => {
                self.wr_en.next = true;
                if self.resend.val() {
                    self.wr_data.next = self.last_seq.q.val();
                }
                self.st.d.next = RespState::Status;
            }
            RespState::Status => {
                self.wr_en.next = true;
                self.wr_addr.next = bits::<BUF_ADDR>(1);
                self.wr_data.next = self.status.val();
                if self.resend.val() {
                    self.wr_data.next = self.last_status.q.val();
                }
                if !self.resend.val()
                    & (self.status.val() >= self.k_bad_first.val())
                    & (self.status.val() <= self.k_bad_last.val())
                {
                    self.s_bad.next = true;
                }
                self.st.d.next = RespState::Send;
            }
            _ => {
                self.send.next = true;
                self.done.next = true;
                if self.resend.val() {
                    self.send_len.next = self.last_len.q.val();
                } else if self.seq.val() != self.k_seq_unknown.val() {
                    self.last_seq.d.next = self.seq.val();
                    self.last_status.d.next = self.status.val();
                    self.last_len.d.next = self.len.val();
                    self.have_last.d.next = true;
                }
                self.st.d.next = RespState::Idle;
            }
        }
    }
}
crate::impl_clocked!(Responder);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{settle, tick};

    /// One response: the bytes written (address, value), the length sent.
    fn respond(
        r: &mut Responder,
        seq: u8,
        st: u8,
        len: u64,
        resend: bool,
    ) -> (Vec<(u64, u8)>, u64, bool) {
        r.seq.next = (seq as u64).into();
        r.status.next = (st as u64).into();
        r.len.next = len.into();
        r.resend.next = resend;
        r.start.next = true;
        settle(r);
        tick(r);
        r.start.next = false;
        let (mut wrote, mut bad) = (Vec::new(), false);
        for _ in 0..10 {
            settle(r);
            if r.wr_en.val() {
                wrote.push((r.wr_addr.val().to_u64(), r.wr_data.val().to_u64() as u8));
            }
            bad |= r.s_bad.val();
            if r.done.val() {
                assert!(r.send.val());
                let n = r.send_len.val().to_u64();
                tick(r);
                return (wrote, n, bad);
            }
            tick(r);
        }
        panic!("no response sent");
    }

    #[test]
    fn responses_are_stored_and_resent() {
        let mut r = Responder::default();
        r.connect_all();
        // A response, then its retry: the stored seq, status and length.
        r.seq.next = 7u64.into();
        settle(&mut r);
        assert!(!r.retry.val(), "nothing stored yet");
        let (w, n, bad) = respond(&mut r, 7, status::OK, 9, false);
        assert_eq!((w, n, bad), (vec![(0, 7), (1, status::OK)], 9, false));
        settle(&mut r);
        assert!(r.retry.val());
        let (w, n, _) = respond(&mut r, 0, 0, 2, true);
        assert_eq!((w, n), (vec![(0, 7), (1, status::OK)], 9));
        // A CRC_ERROR answer is not stored; the stored one survives it.
        let (w, n, bad) = respond(&mut r, SEQ_UNKNOWN, status::CRC_ERROR, 2, false);
        assert_eq!(
            (w, n, bad),
            (vec![(0, SEQ_UNKNOWN), (1, status::CRC_ERROR)], 2, false)
        );
        r.seq.next = 7u64.into();
        settle(&mut r);
        assert!(r.retry.val());
        // Bad requests are counted, each status once.
        for st in [
            status::BAD_COMMAND,
            status::BAD_LENGTH,
            status::BAD_ARGUMENT,
            status::BUSY,
        ] {
            let (_, _, bad) = respond(&mut r, 8, st, 2, false);
            assert_eq!(bad, st != status::BUSY, "status {st:#x}");
        }
        // The reset button forgets.
        r.forget.next = true;
        settle(&mut r);
        tick(&mut r);
        r.forget.next = false;
        r.seq.next = 8u64.into();
        settle(&mut r);
        assert!(!r.retry.val());
    }
}
