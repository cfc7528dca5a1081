//! Fuzzes the snapshot decoder.
#![no_main]

use hostwerk_backup::Snapshot;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Snapshot::decode(data, "fuzz");
});
