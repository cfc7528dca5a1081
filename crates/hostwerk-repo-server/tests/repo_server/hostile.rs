//! Hostile reads: 1,000 requests with ranges and headers chosen to break a careless server (lengths near
//! `u64::MAX`, overflowing sums, signs, lists, garbage bytes, oversized and repeated headers) with a read-only
//! token. Afterwards the server still answers and every file of the repository is byte for byte as before.
//! Every answer is checked: 206 bodies are exactly the bytes that `Content-Range` names, 416 names the file's
//! length, nothing answers 500 or drops the connection.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use crate::common;

use common::*;

fn hex64(seed: u64) -> String {
    hex::encode(bytes(seed, 32))
}

/// The ranges a client may send, around the length of a file of `len` bytes.
fn hostile_ranges(len: u64) -> Vec<String> {
    let edges = [
        0,
        1,
        len.saturating_sub(1),
        len,
        len + 1,
        i32::MAX as u64,
        u32::MAX as u64,
        u32::MAX as u64 + 1,
        140_737_488_355_327,
        i64::MAX as u64,
        u64::MAX - 1,
        u64::MAX,
    ];
    let mut out = Vec::new();
    for a in edges {
        out.push(format!("bytes={a}-"));
        out.push(format!("bytes=-{a}"));
        for b in edges {
            out.push(format!("bytes={a}-{b}"));
        }
    }
    for raw in [
        "bytes=0-18446744073709551616",
        "bytes=18446744073709551616-",
        "bytes=-18446744073709551616",
        "bytes=99999999999999999999999999999999-1",
        "bytes=-0",
        "bytes=0--1",
        "bytes=-1-2",
        "bytes=+0-+5",
        "bytes= 0 - 5 ",
        "bytes=0x10-0x20",
        "bytes=1e3-2e3",
        "bytes=0-5,10-20",
        "bytes=0-5, -3",
        "bytes=",
        "bytes=-",
        "bytes",
        "BYTES=0-5",
        "items=0-5",
        "bytes=5-0",
        "bytes=0-5\t",
        "bytes=\u{0}0-5",
        "bytes=٣-٥",
        "bytes=0-\u{ff}",
    ] {
        out.push(raw.to_string());
    }
    out
}

/// Path, extra header lines, and the file the path names (if it names one of the repository's).
type Request<'a> = (String, Vec<u8>, Option<&'a [u8]>);

struct Check {
    status: u16,
    head: String,
    body: Vec<u8>,
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn a_thousand_hostile_ranges_and_headers_change_nothing_and_break_nothing() {
    let srv = Server::start(false);
    let big = bytes(7, 3 << 20); // several 64 KiB chunks of the streamed body
    let small = b"lock bytes".to_vec();
    let (big_name, small_name) = (hex64(1), hex64(2));
    let (st, _) = srv.raw("POST", "/web001/?create=true", Some("append"), b"");
    assert_eq!(st, 200);
    for (path, data) in [(format!("/web001/data/{big_name}"), &big), (format!("/web001/locks/{small_name}"), &small)] {
        let (st, body) = srv.raw("POST", &path, Some("append"), data);
        assert_eq!(st, 201, "{}", String::from_utf8_lossy(&body));
    }
    let before = tree_hashes(srv.root.path());
    let ro = srv.token("ro");

    let mut requests: Vec<Request> = Vec::new();
    for (path, data) in [(format!("/web001/data/{big_name}"), &big), (format!("/web001/locks/{small_name}"), &small)] {
        for (i, r) in hostile_ranges(data.len() as u64).into_iter().enumerate() {
            let mut h = format!("Range: {r}\r\n").into_bytes();
            if i % 7 == 0 {
                h.extend_from_slice(b"Range: bytes=0-0\r\n"); // a second Range header
            }
            requests.push((path.clone(), h, Some(data.as_slice())));
        }
    }
    // Headers that are not ranges: non-UTF-8 bytes, control characters, very long values, odd authorization.
    let garbage: Vec<Vec<u8>> = vec![
        b"Range: bytes=\xff\xfe-\x80\r\n".to_vec(),
        b"Range: \r\n".to_vec(),
        format!("Range: bytes=0-{}\r\n", "9".repeat(4000)).into_bytes(),
        format!("X-Filler: {}\r\n", "a".repeat(7000)).into_bytes(),
        b"If-Range: \"x\"\r\nRange: bytes=0-3\r\n".to_vec(),
        b"Content-Length: 18446744073709551615\r\n".to_vec(),
        b"Accept-Encoding: gzip, br\r\nRange: bytes=1-2\r\n".to_vec(),
        b"Expect: 100-continue\r\n".to_vec(),
    ];
    while requests.len() < 900 {
        let n = requests.len();
        let path = if n.is_multiple_of(2) {
            format!("/web001/data/{big_name}")
        } else {
            format!("/web001/locks/{small_name}")
        };
        let data = if n.is_multiple_of(2) { big.as_slice() } else { small.as_slice() };
        requests.push((path, garbage[n % garbage.len()].clone(), Some(data)));
    }
    // Hostile paths with a range: never a file of this repository, never a 500.
    let paths = [
        "/web001/data/../config".to_string(),
        "/web001/data/%2e%2e/config".into(),
        format!("/web001/data//{big_name}"),
        format!("/web001/data/{}", big_name.to_uppercase()),
        format!("/web002/data/{big_name}"),
        "/web001/config/".into(),
        format!("/web001/data/{big_name}/x"),
        format!("/web001/data/{big_name}?x=1"),
        "/../../etc/passwd".into(),
        "/web001/data/\u{0}".into(),
    ];
    let mut i = 0;
    while requests.len() < 1000 {
        let h = format!("Range: bytes={i}-{}\r\n", u64::MAX - i as u64).into_bytes();
        let p = paths[i % paths.len()].clone();
        // The query-string variant names the file itself: the server ignores queries on reads.
        let file = p.ends_with("?x=1").then_some(big.as_slice());
        requests.push((p, h, file));
        i += 1;
    }
    assert_eq!(requests.len(), 1000);

    let mut counts = std::collections::BTreeMap::new();
    for (n, (path, extra, file)) in requests.iter().enumerate() {
        let method = if n % 5 == 4 { "HEAD" } else { "GET" };
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n").into_bytes();
        head.extend_from_slice(format!("Authorization: Bearer {ro}\r\n").as_bytes());
        head.extend_from_slice(extra);
        head.extend_from_slice(b"\r\n");
        let (status, head_text, body) = srv.raw_bytes(&head, b"");
        let c = Check { status, head: head_text, body };
        *counts.entry(c.status).or_insert(0u32) += 1;
        let what = format!("request {n}: {method} {path} {:?}", String::from_utf8_lossy(extra));
        assert!(c.status != 0 && c.status < 500, "{what}: answered {}", c.status);
        if method == "HEAD" {
            assert!(c.body.is_empty(), "{what}: HEAD with a body");
        }
        let Some(file) = file else {
            assert!(c.status >= 400, "{what}: a hostile path answered {}", c.status);
            continue;
        };
        let total = file.len() as u64;
        match c.status {
            200 if method == "GET" => assert!(c.body == *file, "{what}: 200 with other bytes than the file"),
            206 => {
                let cr =
                    header(&c.head, "content-range").unwrap_or_else(|| panic!("{what}: 206 without Content-Range"));
                let spec = cr.strip_prefix("bytes ").unwrap();
                let (range, len) = spec.split_once('/').unwrap();
                assert_eq!(len.parse::<u64>().unwrap(), total, "{what}: {cr}");
                let (a, b) = range.split_once('-').unwrap();
                let (a, b): (u64, u64) = (a.parse().unwrap(), b.parse().unwrap());
                assert!(a <= b && b < total, "{what}: {cr}");
                let cl: u64 = header(&c.head, "content-length").unwrap().parse().unwrap();
                assert_eq!(cl, b - a + 1, "{what}: Content-Length {cl} for {cr}");
                if method == "GET" {
                    assert!(c.body == file[a as usize..=b as usize], "{what}: 206 body is not bytes {a}-{b}");
                }
            }
            416 => {
                let cr =
                    header(&c.head, "content-range").unwrap_or_else(|| panic!("{what}: 416 without Content-Range"));
                assert_eq!(cr, format!("bytes */{total}"), "{what}");
            }
            200 | 400 | 431 => {}
            other => panic!("{what}: unexpected status {other}"),
        }
    }
    eprintln!("1000 hostile requests, answers by status: {counts:?}");
    // The two ranges of the report, by name.
    for r in ["bytes=0-140737488355327", "bytes=0-18446744073709551615"] {
        let (st, body) = srv.raw_with("GET", &format!("/web001/data/{big_name}"), Some(&ro), &[("Range", r)], b"");
        assert_eq!(st, 206, "{r}");
        assert!(body == big, "{r}: the whole file, clamped");
    }
    // Alive, and nothing changed.
    let (st, body) = srv.raw("GET", &format!("/web001/locks/{small_name}"), Some("ro"), b"");
    assert_eq!((st, body), (200, small.clone()));
    assert_eq!(tree_hashes(srv.root.path()), before, "a read changed a file");
}
