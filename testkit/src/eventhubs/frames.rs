//! Rewrites the emulator's outgoing AMQP and SASL frames so that every performative carries
//! its full field list, with the spec's defaults written explicitly. fe2o3 omits trailing
//! fields (the spec allows it), but Python's pyamqp indexes performative fields by position
//! and fails with "list index out of range" on shortened lists (and misplaces a transfer's
//! payload). Bytes that are not a recognised performative pass through unchanged.

/// Splits outgoing bytes into protocol headers and frames, and re-encodes performatives.
#[derive(Debug, Default)]
pub(crate) struct FrameRewriter {
    input: Vec<u8>,
}

const NULL: &[u8] = &[0x40];
const FALSE: &[u8] = &[0x42];
const UINT_MAX: &[u8] = &[0x70, 0xff, 0xff, 0xff, 0xff];
const USHORT_MAX: &[u8] = &[0x60, 0xff, 0xff];
const MIXED: &[u8] = &[0x50, 0x02];
const FIRST: &[u8] = &[0x50, 0x00];

/// The default encoding of each field of a performative, by descriptor code; `None` for codes
/// that are left alone.
fn defaults(code: u64) -> Option<&'static [&'static [u8]]> {
    Some(match code {
        0x10 => &[
            NULL, NULL, UINT_MAX, USHORT_MAX, NULL, NULL, NULL, NULL, NULL, NULL,
        ],
        0x11 => &[NULL, NULL, NULL, NULL, UINT_MAX, NULL, NULL, NULL],
        0x12 => &[
            NULL, NULL, NULL, MIXED, FIRST, NULL, NULL, NULL, FALSE, NULL, NULL, NULL, NULL, NULL,
        ],
        0x13 => &[
            NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, FALSE, FALSE, NULL,
        ],
        0x14 => &[
            NULL, NULL, NULL, NULL, NULL, FALSE, NULL, NULL, FALSE, FALSE, FALSE,
        ],
        0x15 => &[NULL, NULL, NULL, FALSE, NULL, FALSE],
        0x16 => &[NULL, FALSE, NULL],
        0x17 | 0x18 => &[NULL],
        0x40 | 0x42 | 0x43 => &[NULL],
        0x41 => &[NULL, NULL, NULL],
        0x44 => &[NULL, NULL],
        _ => return None,
    })
}

/// Length of the encoded AMQP value at the start of `b`, if complete.
fn value_len(b: &[u8]) -> Option<usize> {
    let c = *b.first()?;
    let sized = |w: usize| -> Option<usize> {
        let n = match w {
            1 => usize::from(*b.get(1)?),
            _ => u32::from_be_bytes(b.get(1..5)?.try_into().ok()?) as usize,
        };
        let total = 1 + w + n;
        (b.len() >= total).then_some(total)
    };
    let fixed = |n: usize| (b.len() > n).then_some(1 + n);
    match c {
        0x00 => {
            let d = value_len(&b[1..])?;
            let v = value_len(&b[1 + d..])?;
            Some(1 + d + v)
        }
        0x40..=0x4f => Some(1),
        0x50..=0x5f => fixed(1),
        0x60..=0x6f => fixed(2),
        0x70..=0x7f => fixed(4),
        0x80..=0x8f => fixed(8),
        0x90..=0x9f => fixed(16),
        0xa0..=0xaf | 0xc0..=0xcf | 0xe0..=0xef => sized(1),
        0xb0..=0xbf | 0xd0..=0xdf | 0xf0..=0xff => sized(4),
        _ => None,
    }
}

/// The descriptor code of a described value's descriptor (small ulong or ulong).
fn descriptor_code(b: &[u8]) -> Option<(u64, usize)> {
    match *b.first()? {
        0x53 => Some((u64::from(*b.get(1)?), 2)),
        0x80 => Some((u64::from_be_bytes(b.get(1..9)?.try_into().ok()?), 9)),
        0x44 => Some((0, 1)),
        _ => None,
    }
}

/// A short description of one frame for trace logs: channel, performative and its bytes.
pub(crate) fn describe(frame: &[u8]) -> String {
    let name = |code: u64| match code {
        0x10 => "open",
        0x11 => "begin",
        0x12 => "attach",
        0x13 => "flow",
        0x14 => "transfer",
        0x15 => "disposition",
        0x16 => "detach",
        0x17 => "end",
        0x18 => "close",
        _ => "other",
    };
    if frame.len() < 8 {
        return format!("{frame:02x?}");
    }
    let channel = u16::from_be_bytes([frame[6], frame[7]]);
    let doff = usize::from(frame[4]) * 4;
    if doff >= frame.len() {
        return format!("ch{channel} empty");
    }
    let body = &frame[doff..];
    let code = if body.first() == Some(&0x00) {
        descriptor_code(&body[1..]).map(|c| c.0).unwrap_or(u64::MAX)
    } else {
        u64::MAX
    };
    let shown = &body[..body.len().min(48)];
    format!("ch{channel} {} {shown:02x?}", name(code))
}

/// A performative split into its fields (each an encoded value), with the bytes after it.
pub(crate) struct Performative<'a> {
    pub code: u64,
    pub fields: Vec<&'a [u8]>,
    /// What follows the performative in the frame body (a transfer's payload).
    pub tail: &'a [u8],
}

/// Splits a frame body into its performative's fields, or `None` if it is not a described list.
pub(crate) fn split_body(body: &[u8]) -> Option<Performative<'_>> {
    if body.first() != Some(&0x00) {
        return None;
    }
    let (code, dlen) = descriptor_code(&body[1..])?;
    let list = &body[1 + dlen..];
    let (count, mut pos, list_total) = match *list.first()? {
        0x45 => (0usize, 1usize, 1usize),
        0xc0 => (
            usize::from(*list.get(2)?),
            3,
            2 + usize::from(*list.get(1)?),
        ),
        0xd0 => (
            u32::from_be_bytes(list.get(5..9)?.try_into().ok()?) as usize,
            9,
            5 + u32::from_be_bytes(list.get(1..5)?.try_into().ok()?) as usize,
        ),
        _ => return None,
    };
    if list.len() < list_total || count > 64 {
        return None;
    }
    let mut fields: Vec<&[u8]> = Vec::with_capacity(count);
    for _ in 0..count {
        let n = value_len(list.get(pos..list_total)?)?;
        fields.push(&list[pos..pos + n]);
        pos += n;
    }
    Some(Performative {
        code,
        fields,
        tail: &list[list_total..],
    })
}

/// Splits a whole frame: its channel, the bytes before the body (size excluded) and the
/// performative. `None` for headers, empty frames and bodies that are not performatives.
pub(crate) fn split_frame(frame: &[u8]) -> Option<(u16, &[u8], Performative<'_>)> {
    let doff = usize::from(*frame.get(4)?) * 4;
    let kind = *frame.get(5)?;
    if kind != 0 || doff < 8 || doff >= frame.len() {
        return None;
    }
    let channel = u16::from_be_bytes([frame[6], frame[7]]);
    Some((channel, &frame[4..doff], split_body(&frame[doff..])?))
}

/// Encodes a performative with `fields` (the small-ulong descriptor; list8 or list32),
/// followed by `tail`.
pub(crate) fn encode_body(code: u64, fields: &[&[u8]], tail: &[u8]) -> Vec<u8> {
    let encoded: Vec<u8> = fields.concat();
    let mut out = Vec::with_capacity(encoded.len() + 16 + tail.len());
    out.extend_from_slice(&[0x00, 0x53, code as u8]);
    if encoded.len() < 255 && fields.len() < 256 {
        out.push(0xc0);
        out.push((encoded.len() + 1) as u8);
        out.push(fields.len() as u8);
    } else {
        out.push(0xd0);
        out.extend_from_slice(&((encoded.len() + 4) as u32).to_be_bytes());
        out.extend_from_slice(&(fields.len() as u32).to_be_bytes());
    }
    out.extend_from_slice(&encoded);
    out.extend_from_slice(tail);
    out
}

/// A frame with the given header bytes (everything after the size) and body.
pub(crate) fn encode_frame(header: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + header.len() + body.len());
    out.extend_from_slice(&((4 + header.len() + body.len()) as u32).to_be_bytes());
    out.extend_from_slice(header);
    out.extend_from_slice(body);
    out
}

/// Re-encodes one frame body (performative + rest) with full field lists, or `None` to keep it.
fn rewrite_body(body: &[u8]) -> Option<Vec<u8>> {
    let p = split_body(body)?;
    let defaults = defaults(p.code)?;
    if p.fields.len() > defaults.len() {
        return None;
    }
    let full: Vec<&[u8]> = defaults
        .iter()
        .enumerate()
        .map(|(i, default)| match p.fields.get(i) {
            Some(f) if *f != NULL => *f,
            _ => *default,
        })
        .collect();
    Some(encode_body(p.code, &full, p.tail))
}

impl FrameRewriter {
    /// Takes outgoing bytes; appends to `out` every complete unit, rewritten where needed.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<u8>) {
        self.input.extend_from_slice(data);
        let mut start = 0;
        loop {
            let rest = &self.input[start..];
            if rest.len() >= 4 && &rest[..4] == b"AMQP" {
                if rest.len() < 8 {
                    break;
                }
                out.extend_from_slice(&rest[..8]);
                start += 8;
                continue;
            }
            if rest.len() < 8 {
                break;
            }
            let size = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            if size < 8 {
                // Not a frame we understand: pass everything through untouched.
                out.extend_from_slice(rest);
                start = self.input.len();
                break;
            }
            if rest.len() < size {
                break;
            }
            let doff = usize::from(rest[4]) * 4;
            let frame = &rest[..size];
            tracing::trace!(frame = %describe(frame), "emulator sends");
            let rewritten = if doff >= 8 && doff < size {
                rewrite_body(&frame[doff..])
            } else {
                None
            };
            match rewritten {
                Some(body) => {
                    out.extend_from_slice(&((doff + body.len()) as u32).to_be_bytes());
                    out.extend_from_slice(&frame[4..doff]);
                    out.extend_from_slice(&body);
                }
                None => out.extend_from_slice(frame),
            }
            start += size;
        }
        self.input.drain(..start);
    }
}

/// Filters the bytes a client sends, so that the detaches of links it dropped together with
/// their session do not get answered.
///
/// When the Rust SDK (fe2o3-amqp 0.16 on the client side) drops a session with its links (it
/// does so with its `$cbs` session right after each put-token), it sends detach, detach, end
/// back to back, without waiting for replies. fe2o3's acceptor answers each detach at once; but
/// the client has already dropped those links, so every reply is an error to its session
/// ("unattached handle"), and a second such error while it waits for our end makes it stop the
/// session early. Our end then reaches a channel the client no longer serves, and it closes the
/// whole connection with `amqp:not-found` "Session is not found". (Against the real service
/// the replies come a round trip later, after the client has settled into ending.)
///
/// So a run of detaches that ends what the client has sent so far is held back briefly
/// ([`IncomingFilter::push`] says so; the transport releases them after a short timeout); if an
/// end on the same channel follows, the detaches are dropped, and the session end alone — which
/// detaches every link of the session — is answered, with our end only.
#[derive(Debug, Default)]
pub(crate) struct IncomingFilter {
    /// Received bytes not yet passed on: held complete units, then an incomplete tail.
    input: Vec<u8>,
    /// Set once the stream stops looking like AMQP frames; everything then passes unchanged.
    passthrough: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Detach(u16),
    End(u16),
    Other,
}

/// Classifies one complete frame.
fn classify(frame: &[u8]) -> Unit {
    let (Some(&doff), Some(&kind), Some(ch)) = (frame.get(4), frame.get(5), frame.get(6..8)) else {
        return Unit::Other;
    };
    let channel = u16::from_be_bytes([ch[0], ch[1]]);
    let doff = usize::from(doff) * 4;
    if kind != 0 || doff < 8 || doff >= frame.len() || frame[doff] != 0x00 {
        return Unit::Other;
    }
    match descriptor_code(&frame[doff + 1..]) {
        Some((0x16, _)) => Unit::Detach(channel),
        Some((0x17, _)) => Unit::End(channel),
        _ => Unit::Other,
    }
}

impl IncomingFilter {
    /// Splits the buffered input into complete units: (start, end, kind). Sets `passthrough`
    /// on bytes that are not frames.
    fn units(&mut self) -> Vec<(usize, usize, Unit)> {
        let mut units = Vec::new();
        let mut start = 0;
        while !self.passthrough {
            let rest = &self.input[start..];
            if rest.len() >= 4 && &rest[..4] == b"AMQP" {
                if rest.len() < 8 {
                    break;
                }
                units.push((start, start + 8, Unit::Other));
                start += 8;
                continue;
            }
            if rest.len() < 8 {
                break;
            }
            let size = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            if size < 8 {
                self.passthrough = true;
                break;
            }
            if rest.len() < size {
                break;
            }
            units.push((start, start + size, classify(&rest[..size])));
            start += size;
        }
        units
    }

    /// Passes on the units before `keep` (skipping `dropped` ones), or all of the input in
    /// passthrough; keeps the rest.
    fn emit(
        &mut self,
        units: &[(usize, usize, Unit)],
        dropped: &[bool],
        keep: usize,
        out: &mut Vec<u8>,
    ) {
        if self.passthrough {
            out.append(&mut self.input);
            return;
        }
        let mut consumed = 0;
        for (i, &(start, end, _)) in units.iter().enumerate().take(keep) {
            if !dropped[i] {
                tracing::trace!(frame = %describe(&self.input[start..end]), "emulator receives");
                out.extend_from_slice(&self.input[start..end]);
            }
            consumed = end;
        }
        self.input.drain(..consumed);
    }

    /// Takes received bytes; appends to `out` what may go to the engine now. Returns whether
    /// detaches are being held back (the caller then calls [`Self::release`] after a while).
    pub fn push(&mut self, data: &[u8], out: &mut Vec<u8>) -> bool {
        self.input.extend_from_slice(data);
        let units = self.units();
        let mut dropped = vec![false; units.len()];
        for (i, &(_, _, unit)) in units.iter().enumerate() {
            if let Unit::End(channel) = unit {
                for j in 0..i {
                    if units[j].2 == Unit::Detach(channel) {
                        if !dropped[j] {
                            tracing::debug!(
                                channel,
                                "dropping a client detach that its session end supersedes"
                            );
                        }
                        dropped[j] = true;
                    }
                }
            }
        }
        let mut keep = units.len();
        while keep > 0 && matches!(units[keep - 1].2, Unit::Detach(_)) {
            keep -= 1;
        }
        self.emit(&units, &dropped, keep, out);
        !self.passthrough && keep < units.len()
    }

    /// Passes on the held detaches (no end followed them in time).
    pub fn release(&mut self, out: &mut Vec<u8>) {
        let units = self.units();
        let dropped = vec![false; units.len()];
        self.emit(&units, &dropped, units.len(), out);
    }

    /// At the end of the stream: passes on everything left, complete or not.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.release(out);
        out.append(&mut self.input);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(channel: u16, body: &[u8]) -> Vec<u8> {
        let mut f = ((8 + body.len()) as u32).to_be_bytes().to_vec();
        f.extend_from_slice(&[2, 0]);
        f.extend_from_slice(&channel.to_be_bytes());
        f.extend_from_slice(body);
        f
    }

    const DETACH: &[u8] = &[0x00, 0x53, 0x16, 0xc0, 0x04, 0x02, 0x52, 0x01, 0x41];
    const END: &[u8] = &[0x00, 0x53, 0x17, 0x45];
    const FLOW: &[u8] = &[0x00, 0x53, 0x13, 0x45];

    #[test]
    fn detaches_followed_by_their_session_end_are_dropped() {
        let mut f = IncomingFilter::default();
        let mut out = Vec::new();
        let header = b"AMQP\x00\x01\x00\x00".to_vec();
        let flow = frame(0, FLOW);
        let mut input = header.clone();
        input.extend_from_slice(&flow);
        input.extend_from_slice(&frame(1, DETACH));
        input.extend_from_slice(&frame(1, DETACH));
        // Header and flow pass; the trailing detaches are held.
        assert!(f.push(&input, &mut out));
        assert_eq!(out, [header.clone(), flow.clone()].concat());
        // A detach on another channel, then the end of channel 1 (in two pieces).
        let other = frame(2, DETACH);
        let end = frame(1, END);
        let mut more = other.clone();
        more.extend_from_slice(&end[..3]);
        assert!(f.push(&more, &mut out));
        assert!(!f.push(&end[3..], &mut out));
        assert_eq!(out, [header, flow, other, end].concat());
    }

    #[test]
    fn held_detaches_are_released() {
        let mut f = IncomingFilter::default();
        let mut out = Vec::new();
        let d = frame(0, DETACH);
        assert!(f.push(&d, &mut out));
        assert!(out.is_empty());
        f.release(&mut out);
        assert_eq!(out, d);
        // An end on the channel after the release no longer drops anything.
        let e = frame(0, END);
        assert!(!f.push(&e, &mut out));
        assert_eq!(out, [d, e].concat());
    }

    #[test]
    fn shortened_detach_is_padded_and_headers_pass() {
        // Detach(handle=1) as list8 with one field, on channel 0.
        let body = [0x00, 0x53, 0x16, 0xc0, 0x03, 0x01, 0x52, 0x01];
        let mut frame = ((8 + body.len()) as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&[2, 0, 0, 0]);
        frame.extend_from_slice(&body);
        let mut input = b"AMQP\x00\x01\x00\x00".to_vec();
        input.extend_from_slice(&frame);
        let mut rw = FrameRewriter::default();
        let mut out = Vec::new();
        rw.push(&input[..5], &mut out);
        rw.push(&input[5..], &mut out);
        assert_eq!(&out[..8], b"AMQP\x00\x01\x00\x00");
        let f = &out[8..];
        assert_eq!(
            u32::from_be_bytes([f[0], f[1], f[2], f[3]]) as usize,
            f.len()
        );
        assert_eq!(
            &f[8..],
            &[0x00, 0x53, 0x16, 0xc0, 0x05, 0x03, 0x52, 0x01, 0x42, 0x40]
        );
    }

    #[test]
    fn transfer_payload_is_kept() {
        // Transfer(handle=0, delivery-id=0, tag=bin8 "a") + payload.
        let mut body = vec![
            0x00, 0x53, 0x14, 0xc0, 0x06, 0x03, 0x43, 0x43, 0xa0, 0x01, b'a',
        ];
        body.extend_from_slice(b"PAYLOAD");
        let mut frame = ((8 + body.len()) as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&[2, 0, 0, 1]);
        frame.extend_from_slice(&body);
        let mut rw = FrameRewriter::default();
        let mut out = Vec::new();
        rw.push(&frame, &mut out);
        assert!(out.ends_with(b"PAYLOAD"));
        assert_eq!(out[8 + 5], 11);
        assert_eq!(
            u32::from_be_bytes([out[0], out[1], out[2], out[3]]) as usize,
            out.len()
        );
    }
}
