//! Fuzzes the pack decoders: whole-pack parsing and the plaintext directory decoder.
#![no_main]

use hostwerk_backup::crypto::MasterKey;
use hostwerk_backup::pack::{decode_directory, parse_pack_unverified};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = MasterKey::from_material([7; 64]);
    let _ = parse_pack_unverified(&key, "fuzz", data);
    let _ = decode_directory(data, data.len() as u64, "fuzz");
    // Authentic directories with arbitrary content: encrypt the input as a directory and parse.
    let mut pack = b"HWBPACK1".to_vec();
    pack.extend_from_slice(&[0u8; 64]);
    let sealed = key.encrypt(data, b"hostwerk-backup/v1/pack-directory");
    pack.extend_from_slice(&sealed);
    pack.extend_from_slice(&(sealed.len() as u32).to_le_bytes());
    let _ = parse_pack_unverified(&key, "fuzz", &pack);
});
