//! The series' exposition text, kept only as gzip.
//!
//! [`Snapshot::render`](super::Snapshot::render) streams the text into flate2's `GzEncoder`
//! as it writes it, so the plain text (5.6 MB at 10,000 series) never exists whole: the
//! snapshot holds one gzip member (0.3 MB) and the text's length. A plain scrape decompresses
//! it on demand ([`super::serve`]); a gzip scrape gets a body re-encoded with the live
//! self-metrics at most once a second and shared.

use std::fmt;
use std::io::{Cursor, Write};

use bytes::Bytes;
use flate2::bufread::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

/// Text staged before each write to the encoder: one `write` per line would cost a
/// compressor call each.
const STAGE: usize = 32 * 1024;

/// Every snapshot's text and every scrape body is compressed at this level: the fastest, since
/// the bulk is compressed again whenever the self-metrics change.
pub const LEVEL: Compression = Compression::fast();

/// A snapshot's encoded form.
#[derive(Debug, Clone, Default)]
pub struct Encoded {
    pub text: GzipText,
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

/// A text held only as one gzip member, with its uncompressed length.
#[derive(Debug, Clone)]
pub struct GzipText {
    gzip: Bytes,
    len: usize,
    /// Unit tests read the text as bytes (`&text[..]`): decoded once on first use. Never
    /// compiled into the exporter, which must not keep the plain text.
    #[cfg(test)]
    decoded: std::sync::Arc<std::sync::OnceLock<Vec<u8>>>,
}

impl Default for GzipText {
    fn default() -> Self {
        TextWriter::new(0).finish()
    }
}

impl GzipText {
    /// The length of the text, uncompressed; nothing is decompressed.
    pub fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The gzip member (header, deflate stream, CRC-32 and length, all written by flate2).
    #[cfg(test)]
    pub fn gzip(&self) -> &Bytes {
        &self.gzip
    }

    /// The text, decompressed into a new buffer: for tests; scrapes stream it.
    #[cfg(test)]
    pub fn to_vec(&self) -> Vec<u8> {
        use std::io::Read;
        let mut out = Vec::with_capacity(self.len);
        self.reader()
            .read_to_end(&mut out)
            .expect("a gzip member this module wrote decodes");
        out
    }

    /// The text, decompressed as it is read.
    pub fn reader(&self) -> GzDecoder<Cursor<Bytes>> {
        GzDecoder::new(Cursor::new(self.gzip.clone()))
    }
}

#[cfg(test)]
impl std::ops::Deref for GzipText {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.decoded.get_or_init(|| self.to_vec())
    }
}

/// Writes text straight into a gzip member, a few kB at a time.
pub struct TextWriter {
    stage: String,
    encoder: GzEncoder<Vec<u8>>,
    len: usize,
}

impl TextWriter {
    /// `plain_hint` is the expected plain length: the gzip buffer is sized from it.
    pub fn new(plain_hint: usize) -> Self {
        Self {
            stage: String::with_capacity(STAGE + 1024),
            encoder: GzEncoder::new(Vec::with_capacity(plain_hint / 12 + 64), LEVEL),
            len: 0,
        }
    }

    #[cfg(test)]
    fn write_bytes(&mut self, bytes: &[u8]) {
        self.drain_stage();
        self.encoder
            .write_all(bytes)
            .expect("writing to a Vec cannot fail");
        self.len += bytes.len();
    }

    fn drain_stage(&mut self) {
        if !self.stage.is_empty() {
            self.encoder
                .write_all(self.stage.as_bytes())
                .expect("writing to a Vec cannot fail");
            self.len += self.stage.len();
            self.stage.clear();
        }
    }

    pub fn finish(mut self) -> GzipText {
        self.drain_stage();
        let mut gzip = self.encoder.finish().expect("writing to a Vec cannot fail");
        gzip.shrink_to_fit();
        GzipText {
            gzip: gzip.into(),
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

/// One gzip member of `text` followed by `tail`: what a gzip scrape serves.
pub fn gzip_with(text: &GzipText, tail: &[u8]) -> Bytes {
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(text.gzip.len() + tail.len() / 4 + 64),
        LEVEL,
    );
    std::io::copy(&mut text.reader(), &mut encoder).expect("a gzip member this module wrote");
    encoder
        .write_all(tail)
        .expect("writing to a Vec cannot fail");
    encoder
        .finish()
        .expect("writing to a Vec cannot fail")
        .into()
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
    fn written_text_is_one_compressed_member_of_that_text() {
        let text = sample_text();
        let mut writer = TextWriter::new(0);
        for line in text.split_inclusive(|&b| b == b'\n') {
            writer
                .write_str(std::str::from_utf8(line).unwrap())
                .unwrap();
        }
        let encoded = writer.finish();
        assert_eq!(encoded.len(), text.len());
        assert_eq!(gunzip_one_member(encoded.gzip()), text);
        assert_eq!(encoded.to_vec(), text);
        assert!(
            encoded.gzip().len() < text.len() / 2,
            "{} bytes is not compressed",
            encoded.gzip().len()
        );
    }

    #[test]
    fn gzip_of_text_and_live_tail_is_one_valid_member() {
        let text = sample_text();
        let encoded = Encoded::new(text.clone()).text;
        let tail = b"# TYPE live gauge\nlive 1\n";
        let mut expected = text.clone();
        expected.extend_from_slice(tail);
        let body = gzip_with(&encoded, tail);
        assert_eq!(gunzip_one_member(&body), expected);
        assert!(body.len() < text.len() / 2, "{} bytes", body.len());
    }

    #[test]
    fn empty_parts_still_decode() {
        assert_eq!(
            gunzip_one_member(&gzip_with(&GzipText::default(), b"")),
            b""
        );
        let x = Encoded::new(b"x\n".to_vec()).text;
        assert_eq!(gunzip_one_member(&gzip_with(&x, b"")), b"x\n");
        assert_eq!(
            gunzip_one_member(&gzip_with(&GzipText::default(), b"y\n")),
            b"y\n"
        );
        assert!(GzipText::default().is_empty());
    }

    #[test]
    fn a_corrupted_crc_is_caught_by_the_decoder() {
        let mut body = gzip_with(&Encoded::new(b"abc\n".to_vec()).text, b"def\n").to_vec();
        let n = body.len();
        body[n - 8] ^= 1;
        let mut out = Vec::new();
        assert!(flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut out)
            .is_err());
    }
}
