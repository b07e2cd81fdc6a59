//! Compressed and plain byte streams, with the stored bytes counted and hashed.
//!
//! Every input is read once, front to back. The stored (possibly compressed)
//! bytes pass through a [`StoredTally`] on their way to the decompressor, so
//! the file's size and SHA-256, which provenance and `--resume` compare, cost
//! no second read. Gzip input is read member after member (`GzipMembers`),
//! because Common Crawl writes one gzip member per record and a plain decoder
//! would stop after the first; zstd input may likewise hold several frames.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

/// How a stream is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Plain bytes.
    None,
    /// Gzip, one member or many.
    Gzip,
    /// Zstandard, one frame or many.
    Zstd,
}

impl Compression {
    /// The compression a file name's last extension says (`.gz`, `.zst`, `.zstd`).
    pub fn from_name(name: &str) -> Compression {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".gz") {
            Compression::Gzip
        } else if lower.ends_with(".zst") || lower.ends_with(".zstd") {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The compression the first bytes of a stream announce (gzip's `1f 8b`,
    /// zstd's `28 b5 2f fd`); used where there is no file name (standard input).
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The extension this compression adds, with its dot; empty for none.
    pub fn extension(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => ".gz",
            Compression::Zstd => ".zst",
        }
    }

    /// `name` without the extension of this compression.
    pub fn strip_extension(self, name: &str) -> String {
        let lower = name.to_ascii_lowercase();
        let cut = match self {
            Compression::None => 0,
            Compression::Gzip => ".gz".len(),
            Compression::Zstd if lower.ends_with(".zstd") => ".zstd".len(),
            Compression::Zstd => ".zst".len(),
        };
        name[..name.len() - cut.min(name.len())].to_string()
    }

    /// The name of the format in messages.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "plain",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// Size and SHA-256 of the stored bytes read so far, shared between the
/// reader that counts them and the code that reports them.
#[derive(Debug, Clone, Default)]
pub struct StoredTally(Arc<Mutex<TallyState>>);

#[derive(Debug, Default)]
struct TallyState {
    bytes: u64,
    hasher: Sha256,
}

impl StoredTally {
    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.0.lock().expect("tally lock").bytes
    }

    /// Feeds everything `reader` holds into the tally: for a file read out
    /// of order (Parquet), whose stored bytes never pass through a stream.
    pub(crate) fn read_all(&self, reader: impl Read) -> io::Result<()> {
        let mut tallied = Tallied {
            inner: reader,
            tally: self.clone(),
        };
        io::copy(&mut tallied, &mut io::sink())?;
        Ok(())
    }

    /// Size and hex SHA-256 of everything read so far.
    pub fn finish(&self) -> (u64, String) {
        let state = self.0.lock().expect("tally lock");
        (state.bytes, hex::encode(state.hasher.clone().finalize()))
    }
}

/// A reader that feeds every byte it passes on into a [`StoredTally`].
struct Tallied<R> {
    inner: R,
    tally: StoredTally,
}

impl<R: Read> Read for Tallied<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut state = self.tally.0.lock().expect("tally lock");
        state.bytes += n as u64;
        state.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Buffer size for stored and decompressed streams.
pub const BUFFER: usize = 256 * 1024;

/// Wraps `stored` in the decompressor for `compression`; the returned tally
/// sees the stored bytes. After the decompressed stream has been read to its
/// end, the tally holds the whole stored file. An uncompressed stream is
/// buffered with `plain_buffer` bytes (a small file needs no more than
/// itself); a decompressed one with [`BUFFER`].
pub fn decompress(
    stored: Box<dyn Read + Send>,
    compression: Compression,
    plain_buffer: usize,
) -> io::Result<(Box<dyn BufRead + Send>, StoredTally)> {
    let tally = StoredTally::default();
    let tallied = Tallied {
        inner: stored,
        tally: tally.clone(),
    };
    let reader: Box<dyn BufRead + Send> = match compression {
        Compression::None => Box::new(BufReader::with_capacity(plain_buffer, tallied)),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            BUFFER,
            GzipMembers::new(BufReader::with_capacity(BUFFER, tallied)),
        )),
        Compression::Zstd => {
            let decoder = zstd::stream::read::Decoder::with_buffer(BufReader::with_capacity(BUFFER, tallied))?;
            Box::new(BufReader::with_capacity(BUFFER, decoder))
        }
    };
    Ok((reader, tally))
}

/// The members of a gzip file, one after another, as `gzip -d` reads them:
/// zero bytes after the last member (tape blocks, a file padded to a block
/// size) are padding and end the stream, where `MultiGzDecoder` took them
/// for a member's header and refused the file. Anything else after a member
/// must be another member.
struct GzipMembers<R: BufRead> {
    member: Option<flate2::bufread::GzDecoder<R>>,
}

impl<R: BufRead> GzipMembers<R> {
    fn new(stored: R) -> GzipMembers<R> {
        GzipMembers {
            member: Some(flate2::bufread::GzDecoder::new(stored)),
        }
    }
}

impl<R: BufRead> Read for GzipMembers<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while let Some(member) = &mut self.member {
            let n = member.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let mut stored = self.member.take().expect("a member").into_inner();
            let mut padding = false;
            loop {
                let available = stored.fill_buf()?;
                let Some(&first) = available.first() else {
                    return Ok(0);
                };
                if first != 0 {
                    if padding {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "data after the zero padding that follows a member",
                        ));
                    }
                    self.member = Some(flate2::bufread::GzDecoder::new(stored));
                    break;
                }
                padding = true;
                let zeros = available.iter().take_while(|&&b| b == 0).count();
                stored.consume(zeros);
            }
        }
        Ok(0)
    }
}

/// Says what went wrong in the stream itself, naming the compression when
/// the error came from the decompressor (a truncated or corrupt stream).
pub fn describe_stream_error(compression: Compression, error: &io::Error) -> String {
    match (compression, error.kind()) {
        (Compression::None, _) => error.to_string(),
        (_, io::ErrorKind::UnexpectedEof) => {
            format!(
                "truncated {} stream (it ends in the middle of a block)",
                compression.name()
            )
        }
        (_, _) => format!("corrupt {} stream: {error}", compression.name()),
    }
}

/// Reads `reader` to its end into memory, refusing more than `limit` bytes.
/// A refusal stops reading at the limit: a stream that expands without end
/// (a decompression bomb, `/dev/zero` named as an input) costs the limit,
/// not its expanded size. The refusal carries the size when it was known
/// before reading (`size`, an uncompressed file's), `None` otherwise.
/// `size`, when known, also sizes the buffer at once (one byte more, for the
/// read that finds the end) instead of growing it by doubling.
pub fn read_bounded(
    reader: &mut dyn BufRead,
    limit: u64,
    size: Option<u64>,
) -> io::Result<Result<Vec<u8>, Option<u64>>> {
    let capacity = size.map_or(0, |size| size.min(limit).saturating_add(1));
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    reader.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if (bytes.len() as u64) <= limit {
        return Ok(Ok(bytes));
    }
    Ok(Err(size.filter(|&size| size > limit)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(parts: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for part in parts {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(part).unwrap();
            out.extend(encoder.finish().unwrap());
        }
        out
    }

    fn read_all(bytes: Vec<u8>, compression: Compression) -> io::Result<(Vec<u8>, u64)> {
        let len = bytes.len() as u64;
        let (mut reader, tally) = decompress(Box::new(io::Cursor::new(bytes)), compression, BUFFER)?;
        let mut out = Vec::new();
        reader.read_to_end(&mut out)?;
        assert_eq!(tally.bytes(), len, "the tally saw every stored byte");
        Ok((out, tally.bytes()))
    }

    #[test]
    fn multi_member_gzip_reads_every_member() {
        let stored = gzip(&[b"one\n", b"two\n", b"three\n"]);
        assert_eq!(read_all(stored, Compression::Gzip).unwrap().0, b"one\ntwo\nthree\n");
    }

    #[test]
    fn concatenated_zstd_frames_read_as_one_stream() {
        let mut stored = zstd::encode_all(&b"one\n"[..], 3).unwrap();
        stored.extend(zstd::encode_all(&b"two\n"[..], 3).unwrap());
        assert_eq!(read_all(stored, Compression::Zstd).unwrap().0, b"one\ntwo\n");
    }

    #[test]
    fn truncated_streams_are_errors_not_short_reads() {
        let body: Vec<u8> = (0..20_000u32)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let mut gz = gzip(&[&body]);
        gz.truncate(gz.len() / 2);
        let error = read_all(gz, Compression::Gzip).unwrap_err();
        assert_eq!(
            describe_stream_error(Compression::Gzip, &error),
            "truncated gzip stream (it ends in the middle of a block)"
        );
        let mut zst = zstd::encode_all(&body[..], 3).unwrap();
        zst.truncate(zst.len() / 2);
        let error = read_all(zst, Compression::Zstd).unwrap_err();
        assert!(describe_stream_error(Compression::Zstd, &error).contains("zstd stream"));
    }

    /// Regression: a refused stream was decompressed to its end to count its
    /// size, so time grew with the expanded size and an endless stream
    /// (`/dev/zero`) never finished. Here 256 MiB of zeros, gzipped to a
    /// quarter megabyte, is refused having read a small part of it.
    #[test]
    fn a_refused_stream_stops_decompressing_at_the_limit() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..256 {
            encoder.write_all(&zeros).unwrap();
        }
        let bomb = encoder.finish().unwrap();
        let (mut reader, tally) =
            decompress(Box::new(io::Cursor::new(bomb.clone())), Compression::Gzip, BUFFER).unwrap();
        assert_eq!(read_bounded(&mut reader, 1 << 20, None).unwrap(), Err(None));
        let read = tally.bytes();
        assert!(
            read < bomb.len() as u64 / 4,
            "read {read} of {} stored bytes",
            bomb.len()
        );
    }

    /// Regression: a gzip file padded with zero bytes after its last member,
    /// which `gzip -d` and `gzip -t` accept, was refused as corrupt.
    #[test]
    fn zero_padding_after_the_last_gzip_member_is_accepted() {
        let mut padded = gzip(&[b"first\n", b"second\n"]);
        padded.extend_from_slice(&[0; 4096]);
        assert_eq!(
            read_all(padded.clone(), Compression::Gzip).unwrap().0,
            b"first\nsecond\n"
        );
        // After padding, nothing but padding may follow.
        padded.extend_from_slice(&gzip(&[b"third\n"]));
        let error = read_all(padded, Compression::Gzip).unwrap_err();
        assert!(describe_stream_error(Compression::Gzip, &error).contains("after the zero padding"));
        // Garbage that is not padding is still refused.
        let mut garbage = gzip(&[b"x\n"]);
        garbage.extend_from_slice(b"junk");
        assert!(read_all(garbage, Compression::Gzip).is_err());
    }

    #[test]
    fn names_and_magic_agree() {
        assert_eq!(Compression::from_name("a.jsonl.GZ"), Compression::Gzip);
        assert_eq!(Compression::from_name("a.jsonl.zstd"), Compression::Zstd);
        assert_eq!(Compression::Zstd.strip_extension("a.jsonl.zstd"), "a.jsonl");
        assert_eq!(Compression::sniff(&gzip(&[b"x"])), Compression::Gzip);
        assert_eq!(
            Compression::sniff(&zstd::encode_all(&b"x"[..], 1).unwrap()),
            Compression::Zstd
        );
        assert_eq!(Compression::sniff(b"{\"id\":1}"), Compression::None);
    }

    #[test]
    fn bounded_reads_refuse_without_holding_the_excess() {
        let mut reader = io::Cursor::new(vec![b'x'; 1000]);
        assert_eq!(read_bounded(&mut reader, 10, None).unwrap(), Err(None));
        // Reading stopped one byte past the limit.
        assert_eq!(reader.position(), 11);
        let mut reader = io::Cursor::new(vec![b'x'; 1000]);
        assert_eq!(read_bounded(&mut reader, 10, Some(1000)).unwrap(), Err(Some(1000)));
        let mut reader = io::Cursor::new(vec![b'x'; 10]);
        assert_eq!(read_bounded(&mut reader, 10, None).unwrap(), Ok(vec![b'x'; 10]));
    }
}
