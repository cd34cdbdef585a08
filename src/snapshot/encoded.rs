//! Exposition bytes encoded once and served many times, plain or gzip.
//!
//! The bulk of a scrape (every series' gauges) changes only when the refresher publishes, so it
//! is compressed then, as a raw deflate stream ended by a sync flush (byte-aligned, not final).
//! A scrape appends the small live part (self-metrics) as its own final deflate stream and
//! writes the gzip header and trailer around both; the CRC-32 of the whole is combined from the
//! two parts' CRCs. The result is one valid gzip member, so every client decodes it, and a
//! scrape compresses only a few hundred bytes whatever the number of series.

use std::io::Write;

use bytes::Bytes;
use flate2::write::DeflateEncoder;
use flate2::Compression;

/// A gzip member header: deflate, no name, no time stamp, unknown OS.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// Text and its deflate stream, prepared once.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub text: Bytes,
    deflated: Bytes,
    crc: u32,
}

impl Encoded {
    pub fn new(text: Vec<u8>) -> Self {
        let deflated = deflate(&text);
        let crc = crc32fast::hash(&text);
        Self {
            text: text.into(),
            deflated: deflated.into(),
            crc,
        }
    }

    /// The plain body: these bytes, then `tail`.
    pub fn plain_with(&self, tail: Bytes) -> [Bytes; 2] {
        [self.text.clone(), tail]
    }

    /// The gzip body of these bytes followed by `tail`, in parts to send one after another.
    pub fn gzip_with(&self, tail: &[u8]) -> [Bytes; 3] {
        let mut crc = crc32fast::Hasher::new_with_initial_len(self.crc, self.text.len() as u64);
        let mut tail_crc = crc32fast::Hasher::new();
        tail_crc.update(tail);
        crc.combine(&tail_crc);
        let total_len = (self.text.len() + tail.len()) as u32; // ISIZE is the length mod 2^32
        let mut trailer = stored_final(tail);
        trailer.extend_from_slice(&crc.finalize().to_le_bytes());
        trailer.extend_from_slice(&total_len.to_le_bytes());
        [
            Bytes::from_static(&GZIP_HEADER),
            self.deflated.clone(),
            trailer.into(),
        ]
    }
}

/// Raw deflate of `data`, ended by a sync flush (byte-aligned, not final) so more may follow.
fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder =
        DeflateEncoder::new(Vec::with_capacity(data.len() / 4 + 64), Compression::fast());
    encoder
        .write_all(data)
        .expect("writing to a Vec cannot fail");
    encoder.flush().expect("writing to a Vec cannot fail");
    std::mem::take(encoder.get_mut())
}

/// `data` as stored (uncompressed) deflate blocks, the last one final. The live tail is a few
/// kB: compressing it per scrape cost more CPU (a fresh compressor each time) than its bytes
/// cost on the wire, as `bench/` measured.
fn stored_final(data: &[u8]) -> Vec<u8> {
    const MAX_BLOCK: usize = 65_535;
    let mut out = Vec::with_capacity(data.len() + 5 * (data.len() / MAX_BLOCK + 1));
    let mut chunks = data.chunks(MAX_BLOCK).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]); // an empty final stored block
    }
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none())); // BFINAL on the last, BTYPE 00 (stored)
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(parts: &[Bytes]) -> Vec<u8> {
        let joined: Vec<u8> = parts.iter().flat_map(|p| p.iter().copied()).collect();
        let mut out = Vec::new();
        // GzDecoder reads exactly one member and checks its CRC and length.
        flate2::read::GzDecoder::new(&joined[..])
            .read_to_end(&mut out)
            .expect("a valid gzip member");
        out
    }

    #[test]
    fn gzip_of_prepared_text_and_live_tail_is_one_valid_member() {
        let text: Vec<u8> = (0..5000)
            .flat_map(|i| format!("m{{i=\"{i}\"}} {i}\n").into_bytes())
            .collect();
        let encoded = Encoded::new(text.clone());
        let tail = b"# TYPE live gauge\nlive 1\n";
        let mut expected = text.clone();
        expected.extend_from_slice(tail);
        assert_eq!(gunzip(&encoded.gzip_with(tail)), expected);
        let compressed: usize = encoded.gzip_with(tail).iter().map(Bytes::len).sum();
        assert!(
            compressed < text.len() / 2,
            "{compressed} bytes is not compressed"
        );
    }

    #[test]
    fn a_tail_longer_than_one_stored_block_decodes() {
        let tail: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let mut expected = b"head\n".to_vec();
        expected.extend_from_slice(&tail);
        assert_eq!(
            gunzip(&Encoded::new(b"head\n".to_vec()).gzip_with(&tail)),
            expected
        );
    }

    #[test]
    fn empty_parts_still_decode() {
        assert_eq!(gunzip(&Encoded::new(Vec::new()).gzip_with(b"")), b"");
        assert_eq!(
            gunzip(&Encoded::new(b"x\n".to_vec()).gzip_with(b"")),
            b"x\n"
        );
        assert_eq!(gunzip(&Encoded::new(Vec::new()).gzip_with(b"y\n")), b"y\n");
    }

    #[test]
    fn a_corrupted_crc_is_caught_by_the_decoder() {
        let mut parts = Encoded::new(b"abc\n".to_vec()).gzip_with(b"def\n");
        let mut trailer = parts[2].to_vec();
        let n = trailer.len();
        trailer[n - 8] ^= 1;
        parts[2] = trailer.into();
        let joined: Vec<u8> = parts.iter().flat_map(|p| p.iter().copied()).collect();
        let mut out = Vec::new();
        assert!(flate2::read::GzDecoder::new(&joined[..])
            .read_to_end(&mut out)
            .is_err());
    }

    #[test]
    fn plain_is_text_then_tail() {
        let parts = Encoded::new(b"a 1\n".to_vec()).plain_with(Bytes::from_static(b"b 2\n"));
        assert_eq!(parts.concat(), b"a 1\nb 2\n");
    }
}
