//! Settles the deliveries of fe2o3-amqp 0.16 senders (the official Rust SDK 0.16) a little
//! after telling them the outcome, so that an outcome is never lost to a race in that client.
//!
//! fe2o3-amqp 0.16's sender hands a transfer to its session task first and records the
//! delivery in its link's unsettled map only afterwards (`send_payload_with_transfer`). Its
//! session task looks each incoming disposition up in that map and forgets the delivery once
//! a *settled* disposition has been looked up, found or not. On loopback, with the client
//! thread preempted for a few milliseconds at that point (a loaded machine, a multi-threaded
//! runtime), our settled disposition arrives before the entry exists: the outcome is dropped
//! and `send_event`/`send_batch` waits forever, although the event was stored and accepted.
//! (fe2o3-amqp 0.18 records the delivery before handing the transfer over.)
//!
//! So for a link whose sender asked for receiver-settle-mode `first` (what fe2o3 asks), a
//! settled disposition with an outcome goes out as the same outcome *unsettled* — which
//! fe2o3 delivers to a waiting send, and looks up again on each later disposition. The
//! unsettled copy is repeated after each of [`RESEND_AFTER`], and the settled original follows
//! after [`SETTLE_AFTER`], by which time the client has long recorded the delivery (repeats
//! for a delivery already done are ignored). Senders that asked for `second` (Python's
//! pyamqp, which acts only on settled dispositions) keep getting the settled disposition at
//! once. Held dispositions of a session go out before our detach on it, and are dropped with
//! our end of it.

use super::frames::{encode_body, encode_frame, split_frame};

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

/// When the unsettled outcome is sent again, after the first: soon, for a client thread that
/// was preempted briefly, and once more for one that was held up longer.
pub(crate) const RESEND_AFTER: [Duration; 2] =
    [Duration::from_millis(20), Duration::from_millis(100)];

/// When the settled disposition follows the first unsettled one: far longer than a client
/// thread stays preempted.
pub(crate) const SETTLE_AFTER: Duration = Duration::from_millis(500);

const BEGIN: u64 = 0x11;
const ATTACH: u64 = 0x12;
const TRANSFER: u64 = 0x14;
const DISPOSITION: u64 = 0x15;
const DETACH: u64 = 0x16;
const END: u64 = 0x17;
const CLOSE: u64 = 0x18;
const FALSE: &[u8] = &[0x42];

/// A settled disposition held back, on our `channel`, and its unsettled copy.
#[derive(Debug)]
struct Held {
    /// When the next copy (or the settled original) is due.
    due: Instant,
    /// When the first unsettled copy went out.
    sent: Instant,
    /// How many of [`RESEND_AFTER`] are done.
    resent: usize,
    channel: u16,
    settled: Vec<u8>,
    unsettled: Vec<u8>,
}

/// Tracks the client's sender links and unsettled deliveries on one connection, and holds
/// back the settled dispositions for those that fe2o3 0.16 might lose.
#[derive(Debug, Default)]
pub(crate) struct LateSettlement {
    /// The client's channel of each session, by ours (each side numbers its sessions; our
    /// begin names the client's channel as its remote channel).
    sessions: HashMap<u16, u16>,
    /// Client sender links (client channel, handle) that asked for receiver-settle-mode first.
    first_links: HashSet<(u16, u32)>,
    /// Their deliveries not yet disposed: (client channel, delivery id) to the link's handle.
    deliveries: HashMap<(u16, u32), u32>,
    /// Settled dispositions waiting to go out, by due time.
    held: VecDeque<Held>,
}

/// A uint field (uint0, smalluint, uint).
fn uint(field: Option<&&[u8]>) -> Option<u32> {
    match **field? {
        [0x43] => Some(0),
        [0x52, v] => Some(u32::from(v)),
        [0x70, a, b, c, d] => Some(u32::from_be_bytes([a, b, c, d])),
        _ => None,
    }
}

/// A ushort field.
fn ushort(field: Option<&&[u8]>) -> Option<u16> {
    match **field? {
        [0x60, a, b] => Some(u16::from_be_bytes([a, b])),
        _ => None,
    }
}

/// A boolean field; `None` when absent or null.
fn boolean(field: Option<&&[u8]>) -> Option<bool> {
    match **field? {
        [0x41] => Some(true),
        [0x42] => Some(false),
        [0x56, v] => Some(v != 0),
        _ => None,
    }
}

/// Whether a receiver-settle-mode field means `first` (absent, null or 0).
fn is_first(field: Option<&&[u8]>) -> bool {
    matches!(
        field.map(|f| &**f),
        None | Some([0x40]) | Some([0x50, 0x00])
    )
}

/// Calls `f` with each unit of `bytes` (protocol headers and frames, whole); a rest that is
/// not a whole frame goes to `f` as one piece.
fn for_each_unit(mut bytes: &[u8], mut f: impl FnMut(&[u8])) {
    while !bytes.is_empty() {
        let n = if bytes.starts_with(b"AMQP") {
            8
        } else if bytes.len() >= 8 {
            u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize
        } else {
            0
        };
        let n = if n < 8 || n > bytes.len() {
            bytes.len()
        } else {
            n
        };
        f(&bytes[..n]);
        bytes = &bytes[n..];
    }
}

impl LateSettlement {
    /// Notes what the client sent (whole units, as passed on to the engine); channels here are
    /// the client's.
    pub fn incoming(&mut self, bytes: &[u8]) {
        for_each_unit(bytes, |frame| self.incoming_frame(frame));
    }

    fn incoming_frame(&mut self, frame: &[u8]) {
        let Some((channel, _, p)) = split_frame(frame) else {
            return;
        };
        let f = &p.fields;
        match p.code {
            ATTACH => {
                let Some(handle) = uint(f.get(1)) else { return };
                // role false: the client sends, we receive.
                if boolean(f.get(2)) == Some(false) && is_first(f.get(4)) {
                    self.first_links.insert((channel, handle));
                } else {
                    self.first_links.remove(&(channel, handle));
                }
            }
            TRANSFER => {
                let (Some(handle), Some(id)) = (uint(f.first()), uint(f.get(1))) else {
                    return;
                };
                if self.first_links.contains(&(channel, handle)) && boolean(f.get(4)) != Some(true)
                {
                    self.deliveries.insert((channel, id), handle);
                }
            }
            DETACH => {
                let Some(handle) = uint(f.first()) else {
                    return;
                };
                self.first_links.remove(&(channel, handle));
                self.deliveries
                    .retain(|&(c, _), h| c != channel || *h != handle);
            }
            END => self.forget_channel(channel),
            _ => {}
        }
    }

    fn forget_channel(&mut self, channel: u16) {
        self.first_links.retain(|&(c, _)| c != channel);
        self.deliveries.retain(|&(c, _), _| c != channel);
    }

    /// Takes what the engine sends (whole units; channels here are ours) and appends it to
    /// `out`, with the settled dispositions for fe2o3 0.16 senders turned unsettled and held
    /// back.
    pub fn outgoing(&mut self, bytes: &[u8], now: Instant, out: &mut Vec<u8>) {
        for_each_unit(bytes, |frame| self.outgoing_frame(frame, now, out));
    }

    fn outgoing_frame(&mut self, frame: &[u8], now: Instant, out: &mut Vec<u8>) {
        let Some((channel, header, p)) = split_frame(frame) else {
            out.extend_from_slice(frame);
            return;
        };
        match p.code {
            BEGIN => {
                if let Some(theirs) = ushort(p.fields.first()) {
                    self.sessions.insert(channel, theirs);
                }
            }
            DISPOSITION => {
                let f = &p.fields;
                let theirs = self.sessions.get(&channel).copied();
                let receiver = boolean(f.first()) == Some(true);
                let settled = boolean(f.get(3)) == Some(true);
                let has_state = f.get(4).is_some_and(|s| **s != [0x40]);
                if let (true, true, true, Some(first), Some(theirs)) =
                    (receiver, settled, has_state, uint(f.get(1)), theirs)
                {
                    let last = uint(f.get(2)).unwrap_or(first);
                    let before = self.deliveries.len();
                    self.deliveries
                        .retain(|&(c, id), _| c != theirs || id < first || id > last);
                    if self.deliveries.len() != before {
                        let mut fields = p.fields.clone();
                        fields[3] = FALSE;
                        let unsettled = encode_frame(header, &encode_body(p.code, &fields, p.tail));
                        out.extend_from_slice(&unsettled);
                        self.hold(Held {
                            due: now + RESEND_AFTER[0],
                            sent: now,
                            resent: 0,
                            channel,
                            settled: frame.to_vec(),
                            unsettled,
                        });
                        tracing::trace!(
                            channel,
                            first,
                            last,
                            "outcome sent unsettled; settlement held back"
                        );
                        return;
                    }
                }
            }
            DETACH => self.release_channel(channel, out),
            END => {
                self.held.retain(|h| h.channel != channel);
                if let Some(theirs) = self.sessions.remove(&channel) {
                    self.forget_channel(theirs);
                }
            }
            CLOSE => {
                self.held.clear();
                self.sessions.clear();
                self.first_links.clear();
                self.deliveries.clear();
            }
            _ => {}
        }
        out.extend_from_slice(frame);
    }

    /// Queues `h` by its due time.
    fn hold(&mut self, h: Held) {
        let at = self.held.partition_point(|x| x.due <= h.due);
        self.held.insert(at, h);
    }

    /// Appends the held settled dispositions of `channel` to `out` now.
    fn release_channel(&mut self, channel: u16, out: &mut Vec<u8>) {
        self.held.retain(|h| {
            if h.channel == channel {
                out.extend_from_slice(&h.settled);
            }
            h.channel != channel
        });
    }

    /// When the next held disposition is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.held.front().map(|h| h.due)
    }

    /// Appends what is due by `now` to `out`: unsettled copies to repeat, and the settled
    /// dispositions whose time has come.
    pub fn release_due(&mut self, now: Instant, out: &mut Vec<u8>) {
        while self.held.front().is_some_and(|h| h.due <= now) {
            let Some(mut h) = self.held.pop_front() else {
                break;
            };
            if h.resent < RESEND_AFTER.len() {
                out.extend_from_slice(&h.unsettled);
                h.resent += 1;
                h.due = h.sent + RESEND_AFTER.get(h.resent).copied().unwrap_or(SETTLE_AFTER);
                self.hold(h);
            } else {
                out.extend_from_slice(&h.settled);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Our begin on `ours` answering the client's begin on `theirs`.
    fn begin(ours: u16, theirs: u16) -> Vec<u8> {
        let remote = [0x60, (theirs >> 8) as u8, theirs as u8];
        frame(
            ours,
            &encode_body(
                BEGIN,
                &[
                    &remote,
                    &[0x43],
                    &[0x70, 0, 0, 0x13, 0x88],
                    &[0x70, 0, 0, 0x13, 0x88],
                ],
                &[],
            ),
        )
    }

    fn frame(channel: u16, body: &[u8]) -> Vec<u8> {
        let mut f = ((8 + body.len()) as u32).to_be_bytes().to_vec();
        f.extend_from_slice(&[2, 0]);
        f.extend_from_slice(&channel.to_be_bytes());
        f.extend_from_slice(body);
        f
    }

    /// Attach(name "s", handle 0, role sender) with the given rcv-settle-mode field.
    fn attach(rcv_settle_mode: &[u8]) -> Vec<u8> {
        let fields: [&[u8]; 5] = [
            &[0xa1, 0x01, b's'],
            &[0x43],
            &[0x42],
            &[0x40],
            rcv_settle_mode,
        ];
        frame(1, &encode_body(ATTACH, &fields, &[]))
    }

    /// Transfer(handle 0, delivery id `id`, tag, format 0, settled false) + payload.
    fn transfer(id: u8) -> Vec<u8> {
        let fields: [&[u8]; 5] = [&[0x43], &[0x52, id], &[0xa0, 0x01, id], &[0x43], &[0x42]];
        frame(1, &encode_body(TRANSFER, &fields, b"payload"))
    }

    /// Disposition(role receiver, first `id`, settled `settled`, accepted), full length.
    fn disposition(id: u8, settled: bool) -> Vec<u8> {
        let fields: [&[u8]; 6] = [
            &[0x41],
            &[0x52, id],
            &[0x40],
            if settled { &[0x41] } else { &[0x42] },
            &[0x00, 0x53, 0x24, 0x45],
            &[0x42],
        ];
        frame(1, &encode_body(DISPOSITION, &fields, &[]))
    }

    #[test]
    fn outcome_goes_out_unsettled_and_the_settlement_follows() {
        let mut s = LateSettlement::default();
        let t0 = Instant::now();
        let mut out = Vec::new();
        s.outgoing(&begin(1, 1), t0, &mut out);
        s.incoming(&[attach(&[0x40]), transfer(7)].concat());
        out.clear();
        s.outgoing(&disposition(7, true), t0, &mut out);
        assert_eq!(out, disposition(7, false));
        // The unsettled copy again after each resend delay, then the settled original.
        for after in RESEND_AFTER {
            assert_eq!(s.next_due(), Some(t0 + after));
            out.clear();
            s.release_due(t0 + after - Duration::from_millis(1), &mut out);
            assert!(out.is_empty());
            s.release_due(t0 + after, &mut out);
            assert_eq!(out, disposition(7, false));
        }
        assert_eq!(s.next_due(), Some(t0 + SETTLE_AFTER));
        out.clear();
        s.release_due(t0 + SETTLE_AFTER, &mut out);
        assert_eq!(out, disposition(7, true));
        assert_eq!(s.next_due(), None);
        // A second disposition for the same delivery is not touched again.
        out.clear();
        s.outgoing(&disposition(7, true), t0, &mut out);
        assert_eq!(out, disposition(7, true));
    }

    #[test]
    fn senders_asking_for_second_are_settled_at_once() {
        let mut s = LateSettlement::default();
        let mut out = Vec::new();
        s.outgoing(&begin(1, 1), Instant::now(), &mut out);
        s.incoming(&[attach(&[0x50, 0x01]), transfer(3)].concat());
        out.clear();
        s.outgoing(&disposition(3, true), Instant::now(), &mut out);
        assert_eq!(out, disposition(3, true));
        assert_eq!(s.next_due(), None);
    }

    #[test]
    fn held_settlements_precede_our_detach_and_die_with_our_end() {
        let mut s = LateSettlement::default();
        let now = Instant::now();
        let mut out = Vec::new();
        s.outgoing(&begin(1, 1), now, &mut out);
        s.incoming(&[attach(&[0x50, 0x00]), transfer(1), transfer(2)].concat());
        out.clear();
        s.outgoing(&disposition(1, true), now, &mut out);
        let detach = frame(1, &encode_body(DETACH, &[&[0x43], &[0x41]], &[]));
        out.clear();
        s.outgoing(&detach, now, &mut out);
        assert_eq!(out, [disposition(1, true), detach].concat());

        s.incoming(&[attach(&[0x40]), transfer(3)].concat());
        out.clear();
        s.outgoing(&disposition(3, true), now, &mut out);
        let end = frame(1, &encode_body(END, &[], &[]));
        out.clear();
        s.outgoing(&end, now, &mut out);
        assert_eq!(out, end);
        s.release_due(now + SETTLE_AFTER, &mut out);
        assert_eq!(out, end);
    }

    #[test]
    fn our_channel_is_matched_to_the_clients() {
        // The client's session on its channel 1 is our channel 4; our channel 1 is another
        // client session.
        let mut s = LateSettlement::default();
        let now = Instant::now();
        let mut out = Vec::new();
        s.outgoing(&[begin(4, 1), begin(1, 0)].concat(), now, &mut out);
        s.incoming(&[attach(&[0x40]), transfer(5)].concat());
        let mut on = |ours: u16| {
            let mut d = disposition(5, true);
            d[6..8].copy_from_slice(&ours.to_be_bytes());
            let mut out = Vec::new();
            s.outgoing(&d, now, &mut out);
            (out == d, d)
        };
        // Delivery 5 of our channel 1 is not the client's delivery 5 on its channel 1.
        assert!(on(1).0);
        let (unchanged, d) = on(4);
        assert!(!unchanged);
        out.clear();
        s.release_due(now + SETTLE_AFTER, &mut out);
        assert!(out.ends_with(&d));
    }
}
