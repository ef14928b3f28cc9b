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
        0x10 => &[NULL, NULL, UINT_MAX, USHORT_MAX, NULL, NULL, NULL, NULL, NULL, NULL],
        0x11 => &[NULL, NULL, NULL, NULL, UINT_MAX, NULL, NULL, NULL],
        0x12 => &[NULL, NULL, NULL, MIXED, FIRST, NULL, NULL, NULL, FALSE, NULL, NULL, NULL, NULL, NULL],
        0x13 => &[NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, FALSE, FALSE, NULL],
        0x14 => &[NULL, NULL, NULL, NULL, NULL, FALSE, NULL, NULL, FALSE, FALSE, FALSE],
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

/// Re-encodes one frame body (performative + rest) with full field lists, or `None` to keep it.
fn rewrite_body(body: &[u8]) -> Option<Vec<u8>> {
    if body.first() != Some(&0x00) {
        return None;
    }
    let (code, dlen) = descriptor_code(&body[1..])?;
    let defaults = defaults(code)?;
    let list = &body[1 + dlen..];
    let (count, mut pos, list_total) = match *list.first()? {
        0x45 => (0usize, 1usize, 1usize),
        0xc0 => (usize::from(*list.get(2)?), 3, 2 + usize::from(*list.get(1)?)),
        0xd0 => (
            u32::from_be_bytes(list.get(5..9)?.try_into().ok()?) as usize,
            9,
            5 + u32::from_be_bytes(list.get(1..5)?.try_into().ok()?) as usize,
        ),
        _ => return None,
    };
    if list.len() < list_total || count > defaults.len() {
        return None;
    }
    let mut fields: Vec<&[u8]> = Vec::with_capacity(defaults.len());
    for _ in 0..count {
        let n = value_len(&list[pos..list_total])?;
        fields.push(&list[pos..pos + n]);
        pos += n;
    }
    let mut encoded = Vec::new();
    for (i, default) in defaults.iter().enumerate() {
        match fields.get(i) {
            Some(f) if *f != NULL => encoded.extend_from_slice(f),
            _ => encoded.extend_from_slice(default),
        }
    }
    let mut out = Vec::with_capacity(encoded.len() + 16 + body.len() - list_total);
    out.extend_from_slice(&[0x00, 0x53, code as u8]);
    if encoded.len() < 255 {
        out.push(0xc0);
        out.push((encoded.len() + 1) as u8);
        out.push(defaults.len() as u8);
    } else {
        out.push(0xd0);
        out.extend_from_slice(&((encoded.len() + 4) as u32).to_be_bytes());
        out.extend_from_slice(&(defaults.len() as u32).to_be_bytes());
    }
    out.extend_from_slice(&encoded);
    out.extend_from_slice(&list[list_total..]);
    Some(out)
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
            let rewritten = if doff >= 8 && doff < size { rewrite_body(&frame[doff..]) } else { None };
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(u32::from_be_bytes([f[0], f[1], f[2], f[3]]) as usize, f.len());
        assert_eq!(&f[8..], &[0x00, 0x53, 0x16, 0xc0, 0x05, 0x03, 0x52, 0x01, 0x42, 0x40]);
    }

    #[test]
    fn transfer_payload_is_kept() {
        // Transfer(handle=0, delivery-id=0, tag=bin8 "a") + payload.
        let mut body = vec![0x00, 0x53, 0x14, 0xc0, 0x06, 0x03, 0x43, 0x43, 0xa0, 0x01, b'a'];
        body.extend_from_slice(b"PAYLOAD");
        let mut frame = ((8 + body.len()) as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&[2, 0, 0, 1]);
        frame.extend_from_slice(&body);
        let mut rw = FrameRewriter::default();
        let mut out = Vec::new();
        rw.push(&frame, &mut out);
        assert!(out.ends_with(b"PAYLOAD"));
        assert_eq!(out[8 + 5], 11);
        assert_eq!(u32::from_be_bytes([out[0], out[1], out[2], out[3]]) as usize, out.len());
    }
}
