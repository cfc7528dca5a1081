//! Fuzzes the repository server's request parsing (`hostwerk backup serve`): the path, the `Range` header and
//! the `Authorization` header as any client may send them, against a file of any length. Input: eight bytes
//! of file length (little endian), then path, range and authorization separated by newlines.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (total, rest) = data.split_at(data.len().min(8));
    let mut len = [0u8; 8];
    len[..total.len()].copy_from_slice(total);
    let text = String::from_utf8_lossy(rest);
    let mut parts = text.splitn(3, '\n');
    let path = parts.next().unwrap_or("");
    let range = parts.next().unwrap_or("");
    let auth = parts.next().unwrap_or("");
    hostwerk_repo_server::fuzz_request(path, range, auth, u64::from_le_bytes(len));
});
