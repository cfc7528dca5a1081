//! Fuzzes the encrypted-file envelope (index, snapshot, lock files) including the name check.
#![no_main]

use hostwerk_backup::crypto::MasterKey;
use hostwerk_backup::envelope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = MasterKey::from_material([9; 64]);
    let _ = envelope::open(&key, "index", "fuzz", data, true);
    let _ = envelope::open(&key, "snapshot", "fuzz", data, false);
});
