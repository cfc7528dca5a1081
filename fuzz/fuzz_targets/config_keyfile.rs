//! Fuzzes the plaintext decoders: the config file and key files (parsing only, no KDF).
#![no_main]

use hostwerk_backup::config::Config;
use hostwerk_backup::keyfile::KeyFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Config::decode(data);
    let _ = KeyFile::decode(data, "fuzz");
});
