//! Fuzzes blob opening: arbitrary sealed bytes, and authentic payloads that are not valid zstd.
#![no_main]

use hostwerk_backup::blob::{open_blob, BlobType};
use hostwerk_backup::crypto::MasterKey;
use hostwerk_backup::Id;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = MasterKey::from_material([3; 64]);
    let id = Id::default();
    // Any plaintext length the 32-bit field can hold: a huge claimed length must not allocate.
    let raw_len = match data {
        [a, b, c, d, ..] => u32::from_le_bytes([*a, *b, *c, *d]),
        _ => 0,
    };
    let _ = open_blob(&key, BlobType::Data, &id, true, raw_len, data);
    // Authentic but arbitrary payload: exercises zstd decoding and the id check.
    let mut aad = b"hostwerk-backup/v1/blob".to_vec();
    aad.push(0);
    aad.extend_from_slice(&id.0);
    let sealed = key.encrypt(data, &aad);
    let _ = open_blob(&key, BlobType::Data, &id, true, raw_len, &sealed);
    let _ = open_blob(&key, BlobType::Data, &id, false, data.len() as u32, &sealed);
});
