//! The series' exposition text, kept only compressed.
//!
//! [`Snapshot::render`](super::Snapshot::render) streams the text into a deflate compressor as
//! it writes it, so the plain text (5.6 MB at 10,000 series, 13 MB for 1,000 campaigns and 100
//! Canvases with steps) never exists whole: the snapshot holds the text's deflate blocks (0.3
//! MB; 1 MB), their CRC-32 and the text's length. A plain scrape decompresses them on demand
//! ([`super::serve`]). A gzip scrape's body is one gzip member: a header, the snapshot's
//! blocks as they are, the live self-metrics compressed after them, and a trailer whose CRC is
//! combined from the two parts' (zlib's `crc32_combine`). The blocks end with a sync flush (an
//! empty stored block, byte-aligned, not final), so more blocks may follow them. Building a
//! body, once a second at most, then costs compressing the tail, not decompressing and
//! compressing the whole text again (23 ms of the exporter's CPU per Prometheus scrape for the
//! 13 MB above; BENCHMARKS.md), and the body shares the snapshot's bytes instead of a copy.

use std::fmt;
use std::io::{Chain, Cursor, Write};

use bytes::Bytes;
use flate2::bufread::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::{Compression, Crc};

/// Text staged before each write to the encoder: one `write` per line would cost a
/// compressor call each.
const STAGE: usize = 32 * 1024;

/// Every snapshot's text and every scrape's tail is compressed at this level: the fastest.
pub const LEVEL: Compression = Compression::fast();

/// The header of every gzip body (RFC 1952): deflate, no name or time, the fastest level
/// (XFL 4), operating system unknown.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255];

/// An empty final block (fixed Huffman codes, BFINAL set): ends the text's blocks as a
/// complete deflate stream when they are read alone.
const FINAL_BLOCK: &[u8] = &[0x03, 0x00];

/// A snapshot's encoded form.
#[derive(Debug, Default)]
pub struct Encoded {
    pub text: CompressedText,
}

impl Encoded {
    /// Compresses `text` (for tests; rendering streams through [`TextWriter`]).
    #[cfg(test)]
    pub fn new(text: Vec<u8>) -> Self {
        let mut writer = TextWriter::new(text.len() / 8);
        writer.write_bytes(&text);
        Self {
            text: writer.finish(),
        }
    }
}

/// A text held only as deflate blocks ended by a sync flush, with its CRC-32 and length.
#[derive(Debug)]
pub struct CompressedText {
    /// Deflate blocks without a final one, ending byte-aligned: more blocks may follow.
    deflate: Bytes,
    /// The CRC-32 of the text, to be combined with a tail's.
    crc: Crc,
    len: usize,
    /// Unit tests read the text as bytes (`&text[..]`): decoded once on first use. Never
    /// compiled into the exporter, which must not keep the plain text.
    #[cfg(test)]
    decoded: std::sync::OnceLock<Vec<u8>>,
}

impl Default for CompressedText {
    fn default() -> Self {
        TextWriter::new(0).finish()
    }
}

/// The text of a [`CompressedText`], decompressed as it is read.
pub type TextReader = DeflateDecoder<Chain<Cursor<Bytes>, &'static [u8]>>;

impl CompressedText {
    /// The length of the text, uncompressed; nothing is decompressed.
    pub fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The text, decompressed into a new buffer: for tests; scrapes stream it.
    #[cfg(test)]
    pub fn to_vec(&self) -> Vec<u8> {
        use std::io::Read;
        let mut out = Vec::with_capacity(self.len);
        self.reader()
            .read_to_end(&mut out)
            .expect("blocks this module wrote decode");
        out
    }

    /// The text, decompressed as it is read.
    pub fn reader(&self) -> TextReader {
        use std::io::Read;
        DeflateDecoder::new(Cursor::new(self.deflate.clone()).chain(FINAL_BLOCK))
    }
}

#[cfg(test)]
impl std::ops::Deref for CompressedText {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.decoded.get_or_init(|| self.to_vec())
    }
}

/// Writes text straight into deflate blocks, a few kB at a time.
pub struct TextWriter {
    stage: String,
    encoder: DeflateEncoder<Vec<u8>>,
    crc: Crc,
    len: usize,
}

impl TextWriter {
    /// `plain_hint` is the expected plain length: the compressed buffer is sized from it.
    pub fn new(plain_hint: usize) -> Self {
        Self {
            stage: String::with_capacity(STAGE + 1024),
            encoder: DeflateEncoder::new(Vec::with_capacity(plain_hint / 12 + 64), LEVEL),
            crc: Crc::new(),
            len: 0,
        }
    }

    #[cfg(test)]
    fn write_bytes(&mut self, bytes: &[u8]) {
        self.drain_stage();
        self.compress(bytes);
    }

    fn drain_stage(&mut self) {
        if !self.stage.is_empty() {
            let stage = std::mem::take(&mut self.stage);
            self.compress(stage.as_bytes());
            self.stage = stage;
            self.stage.clear();
        }
    }

    fn compress(&mut self, bytes: &[u8]) {
        self.encoder
            .write_all(bytes)
            .expect("writing to a Vec cannot fail");
        self.crc.update(bytes);
        self.len += bytes.len();
    }

    /// The blocks written, ended by a sync flush rather than a final block.
    pub fn finish(mut self) -> CompressedText {
        self.drain_stage();
        self.encoder.flush().expect("writing to a Vec cannot fail");
        // The buffer is taken before the encoder is dropped: dropping it writes a final block,
        // which goes to the empty buffer left in its place.
        let mut deflate = std::mem::take(self.encoder.get_mut());
        deflate.shrink_to_fit();
        CompressedText {
            deflate: deflate.into(),
            crc: self.crc,
            len: self.len,
            #[cfg(test)]
            decoded: Default::default(),
        }
    }
}

impl fmt::Write for TextWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.stage.push_str(s);
        if self.stage.len() >= STAGE {
            self.drain_stage();
        }
        Ok(())
    }
}

/// A gzip body as the parts it is sent in: the header, the text's blocks (the snapshot's own
/// bytes, shared, never copied), then the tail's blocks and the trailer.
pub type GzipParts = [Bytes; 3];

/// One gzip member of `text` followed by `tail`: what a gzip scrape serves. Only `tail` is
/// compressed; the text's blocks are sent as they are.
pub fn gzip_with(text: &CompressedText, tail: &[u8]) -> GzipParts {
    let mut encoder = DeflateEncoder::new(Vec::with_capacity(tail.len() / 4 + 64), LEVEL);
    encoder
        .write_all(tail)
        .expect("writing to a Vec cannot fail");
    let mut end = encoder.finish().expect("writing to a Vec cannot fail");
    let mut tail_crc = Crc::new();
    tail_crc.update(tail);
    let mut crc = Crc::new();
    crc.combine(&text.crc);
    crc.combine(&tail_crc);
    end.extend_from_slice(&crc.sum().to_le_bytes());
    // ISIZE: the length modulo 2^32 (RFC 1952).
    let len = (text.len as u64).wrapping_add(tail.len() as u64) as u32;
    end.extend_from_slice(&len.to_le_bytes());
    [
        Bytes::from_static(&GZIP_HEADER),
        text.deflate.clone(),
        end.into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;
    use std::io::Read;

    /// Decodes exactly one member (flate2's `GzDecoder` stops after the first and checks its
    /// CRC and length), as curl and browsers do.
    fn gunzip_one_member(gzip: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut decoder = flate2::read::GzDecoder::new(gzip);
        decoder.read_to_end(&mut out).expect("a valid gzip member");
        let mut rest = Vec::new();
        decoder.into_inner().read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty(), "{} bytes after the member", rest.len());
        out
    }

    fn sample_text() -> Vec<u8> {
        (0..5000)
            .flat_map(|i| format!("m{{i=\"{i}\"}} {i}\n").into_bytes())
            .collect()
    }

    #[test]
    fn written_text_is_compressed_blocks_of_that_text() {
        let text = sample_text();
        let mut writer = TextWriter::new(0);
        for line in text.split_inclusive(|&b| b == b'\n') {
            writer
                .write_str(std::str::from_utf8(line).unwrap())
                .unwrap();
        }
        let encoded = writer.finish();
        assert_eq!(encoded.len(), text.len());
        assert_eq!(encoded.to_vec(), text);
        assert_eq!(gunzip_one_member(&gzip_with(&encoded, b"").concat()), text);
        assert!(
            encoded.deflate.len() < text.len() / 2,
            "{} bytes is not compressed",
            encoded.deflate.len()
        );
        assert!(
            encoded.deflate.ends_with(&[0, 0, 0xff, 0xff]),
            "the blocks end with a sync flush, not a final block"
        );
    }

    #[test]
    fn a_body_reuses_the_text_blocks_and_compresses_only_the_tail() {
        let text = sample_text();
        let encoded = Encoded::new(text.clone()).text;
        let blocks = &encoded.deflate[..];
        // A tail of many blocks of its own, and one that shares no byte with the text.
        for tail in [&sample_text()[..], b"# TYPE live gauge\nlive 2\n"] {
            let [header, text_part, end] = gzip_with(&encoded, tail);
            assert_eq!(header, &GZIP_HEADER[..]);
            assert_eq!(
                text_part.as_ptr(),
                blocks.as_ptr(),
                "the snapshot's bytes, not a copy"
            );
            let body = [header, text_part, end].concat();
            assert_eq!(gunzip_one_member(&body), [&text[..], tail].concat());
        }
    }

    #[test]
    fn gzip_of_text_and_live_tail_is_one_valid_member() {
        let text = sample_text();
        let encoded = Encoded::new(text.clone()).text;
        let tail = b"# TYPE live gauge\nlive 1\n";
        let mut expected = text.clone();
        expected.extend_from_slice(tail);
        let body = gzip_with(&encoded, tail).concat();
        assert_eq!(gunzip_one_member(&body), expected);
        assert!(body.len() < text.len() / 2, "{} bytes", body.len());
    }

    #[test]
    fn empty_parts_still_decode() {
        assert_eq!(
            gunzip_one_member(&gzip_with(&CompressedText::default(), b"").concat()),
            b""
        );
        let x = Encoded::new(b"x\n".to_vec()).text;
        assert_eq!(gunzip_one_member(&gzip_with(&x, b"").concat()), b"x\n");
        assert_eq!(
            gunzip_one_member(&gzip_with(&CompressedText::default(), b"y\n").concat()),
            b"y\n"
        );
        assert!(CompressedText::default().is_empty());
    }

    #[test]
    fn a_corrupted_crc_is_caught_by_the_decoder() {
        let mut body = gzip_with(&Encoded::new(b"abc\n".to_vec()).text, b"def\n").concat();
        let n = body.len();
        body[n - 8] ^= 1;
        let mut out = Vec::new();
        assert!(flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut out)
            .is_err());
    }
}
