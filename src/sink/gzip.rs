//! Gzip of ingestion payloads, as Data Explorer requests and the file sink carry them.
//!
//! A deflate state holds hundreds of kilobytes of tables that must be allocated and cleared
//! before use; building one per batch showed in profiles of the binary. Each thread keeps one
//! and resets it between payloads, and the gzip framing (RFC 1952: a fixed 10-byte header,
//! then CRC-32 and length) is written here around the raw deflate stream.

use flate2::{Compress, Compression, FlushCompress, Status};
use std::cell::RefCell;

/// The RFC 1952 header: magic, deflate, no flags, no time, "fastest" (level 1), unknown OS.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255];

thread_local! {
    /// This thread's deflate state, reset before each payload.
    static STATE: RefCell<Option<Compress>> = const { RefCell::new(None) };
}

/// Gzips `payload` at the fast level (what ingestion requests use: multijson shrinks 5-20x
/// even so, and the slower levels cost several times the CPU).
pub fn gzip(payload: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(payload.len() / 4 + 64);
    out.extend_from_slice(&HEADER);
    STATE.with(|state| {
        let mut state = state.borrow_mut();
        let compress = state.get_or_insert_with(|| Compress::new(Compression::fast(), false));
        compress.reset();
        deflate(compress, payload, &mut out)
    })?;
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    // ISIZE is the length modulo 2^32, as RFC 1952 defines it.
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    Ok(out)
}

/// Runs `compress` over all of `input` to the end of the stream, growing `out` as needed.
fn deflate(compress: &mut Compress, mut input: &[u8], out: &mut Vec<u8>) -> std::io::Result<()> {
    loop {
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(4096));
        }
        let before = compress.total_in();
        let status = compress
            .compress_vec(input, out, FlushCompress::Finish)
            .map_err(std::io::Error::other)?;
        let used = (compress.total_in() - before) as usize;
        input = &input[used.min(input.len())..];
        if status == Status::StreamEnd {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::gzip;
    use std::io::Read;

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .expect("a valid gzip stream");
        out
    }

    #[test]
    fn round_trips_payloads_of_every_size_with_one_reused_state() {
        let row = b"{\"Device\":\"patch-01\",\"Capability\":\"HeartRate\",\"Value\":88}\n";
        for rows in [0usize, 1, 10, 1_000, 50_000] {
            let payload: Vec<u8> = row.iter().copied().cycle().take(row.len() * rows).collect();
            let zipped = gzip(&payload).unwrap();
            assert_eq!(gunzip(&zipped), payload, "{rows} rows");
            if rows >= 1_000 {
                assert!(
                    zipped.len() * 5 < payload.len(),
                    "{rows} rows barely shrank"
                );
            }
        }
    }

    #[test]
    fn incompressible_input_still_round_trips() {
        // A simple generator: bytes deflate cannot shrink, so the output outgrows its first guess.
        let mut x: u32 = 12345;
        let payload: Vec<u8> = (0..300_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        assert_eq!(gunzip(&gzip(&payload).unwrap()), payload);
    }

    #[test]
    fn trailer_holds_crc_and_length() {
        let zipped = gzip(b"hello\n").unwrap();
        let tail = &zipped[zipped.len() - 8..];
        assert_eq!(tail[..4], crc32fast::hash(b"hello\n").to_le_bytes());
        assert_eq!(tail[4..], 6u32.to_le_bytes());
    }
}
