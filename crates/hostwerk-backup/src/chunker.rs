//! Content-defined chunking with FastCDC (v2020), seeded with a secret from the master key.

use std::io::Read;

use fastcdc::v2020::{Normalization, StreamCDC};

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
    let cdc = StreamCDC::with_level_and_seed(
        reader,
        params.min,
        params.avg,
        params.max,
        Normalization::Level1,
        seed,
    );
    let mut total = 0;
    for chunk in cdc {
        let chunk = chunk.map_err(|e| match e {
            fastcdc::v2020::Error::IoError(e) => io_err(e),
            other => io_err(std::io::Error::other(other.to_string())),
        })?;
        total += chunk.length as u64;
        f(chunk.data)?;
    }
    Ok(total)
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
