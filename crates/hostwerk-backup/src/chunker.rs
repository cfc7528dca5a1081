//! Content-defined chunking with FastCDC (v2020), seeded with a secret from the master key.

use std::io::Read;

use fastcdc::v2020::{FastCDC, Normalization};

use crate::config::ChunkerParams;

/// Splits a stream into content-defined chunks, calling `f` with each chunk in order.
pub fn chunk_stream<R: Read, E>(
    params: &ChunkerParams,
    seed: u64,
    mut reader: R,
    size_hint: Option<u64>,
    mut f: impl FnMut(Vec<u8>) -> Result<(), E>,
    io_err: impl Fn(std::io::Error) -> E,
) -> Result<u64, E> {
    // Small files are one chunk: read them whole without the chunker's max-size buffer.
    if let Some(size) = size_hint.filter(|&s| s <= params.min as u64) {
        let mut buf = Vec::with_capacity(size as usize + 1);
        reader.read_to_end(&mut buf).map_err(&io_err)?;
        if buf.len() <= params.min as usize {
            let n = buf.len() as u64;
            if n > 0 {
                f(buf)?;
            }
            return Ok(n);
        }
        // The file grew while reading: chunk what we have properly.
        return chunk_stream(params, seed, std::io::Cursor::new(buf), None, f, io_err);
    }
    // Streaming over a buffer of 1.5 × the maximum chunk size: a cut is only searched when at least
    // `max` bytes (or the end of input) are buffered, so boundaries never depend on read sizes.
    let max = params.max as usize;
    let bufsize = max + max / 2;
    let cap = size_hint.map_or(bufsize, |s| (s as usize).saturating_add(1).min(bufsize));
    let mut buf = vec![0u8; cap];
    let mut len = 0;
    let mut eof = false;
    let mut total = 0u64;
    loop {
        while !eof && len < buf.len() {
            match reader.read(&mut buf[len..]) {
                Ok(0) => eof = true,
                Ok(n) => len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err(e)),
            }
        }
        if !eof && buf.len() < bufsize {
            // The input is longer than its size hint said.
            buf.resize(bufsize, 0);
            continue;
        }
        if len == 0 {
            return Ok(total);
        }
        let cdc =
            FastCDC::with_level_and_seed(&buf[..len], params.min, params.avg, params.max, Normalization::Level1, seed);
        let mut pos = 0;
        while pos < len && (eof || len - pos >= max) {
            let (_, end) = cdc.cut(pos, len - pos);
            let end = end.max(pos + 1).min(len);
            f(buf[pos..end].to_vec())?;
            total += (end - pos) as u64;
            pos = end;
        }
        if eof && pos >= len {
            return Ok(total);
        }
        buf.copy_within(pos..len, 0);
        len -= pos;
    }
}

/// Chunk boundaries (lengths) of an in-memory buffer; used by tests and tools.
pub fn chunk_lengths(params: &ChunkerParams, seed: u64, data: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let _ = chunk_stream::<_, std::io::Error>(
        params,
        seed,
        data,
        Some(data.len() as u64),
        |c| {
            out.push(c.len());
            Ok(())
        },
        |e| e,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns few bytes per call.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            self.1 = self.1 % 7919 + 1;
            let n = self.1.min(out.len()).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn boundaries_do_not_depend_on_reads_or_size_hints() {
        let p = ChunkerParams { min: 1024, avg: 4096, max: 16384 };
        let mut x = 1u64;
        let data: Vec<u8> = (0..300_000)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (x >> 33) as u8
            })
            .collect();
        let want = chunk_lengths(&p, 3, &data);
        assert!(want.len() > 20);
        for hint in [None, Some(10), Some(5000), Some(data.len() as u64)] {
            let mut got = Vec::new();
            chunk_stream::<_, std::io::Error>(
                &p,
                3,
                Trickle(&data, 0),
                hint,
                |c| {
                    got.push(c.len());
                    Ok(())
                },
                |e| e,
            )
            .unwrap();
            assert_eq!(got, want, "hint {hint:?}");
        }
    }
}
