//! Fuzzes the tree decoder.
#![no_main]

use hostwerk_backup::tree::Tree;
use hostwerk_backup::Id;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = Tree::decode(data, &Id::default()) {
        for n in &t.nodes {
            let _ = n.os_name();
            let _ = n.os_link_target();
        }
        let _ = t.find(std::ffi::OsStr::new("a"));
    }
});
