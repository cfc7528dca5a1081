//! Fuzzes the index file decoder (plaintext) and the master index merge.
#![no_main]

use hostwerk_backup::index::{decode_index, MasterIndex};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(packs) = decode_index(data, "fuzz") {
        let mut mi = MasterIndex::default();
        mi.add(packs);
    }
});
