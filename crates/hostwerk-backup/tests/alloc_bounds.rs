//! Regression tests for decoders that allocated memory from a length field read from the repository:
//! a counting global allocator records the largest single allocation while a decoder runs.

#![allow(unsafe_code)] // the counting allocator
#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use hostwerk_backup::blob::{open_blob, seal_blob, BlobType};
use hostwerk_backup::crypto::MasterKey;

struct Counting;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only records sizes in a thread-local cell.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LARGEST.try_with(|l| l.set(l.get().max(layout.size())));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = LARGEST.try_with(|l| l.set(l.get().max(new_size)));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns the largest single allocation it made on this thread.
fn largest_allocation(f: impl FnOnce()) -> usize {
    LARGEST.with(|l| l.set(0));
    f();
    LARGEST.with(|l| l.get())
}

/// Found by the `blob` fuzz target: a compressed blob whose index entry claims a plaintext length
/// near 4 GiB made zstd allocate that much up front before noticing the real output is tiny.
#[test]
fn huge_claimed_blob_length_does_not_allocate_it() {
    let key = MasterKey::from_material([1; 64]);
    let plain = vec![b'a'; 10_000];
    let sealed = seal_blob(&key, BlobType::Data, key.blob_id(&plain), &plain);
    assert!(sealed.compressed);
    for claimed in [u32::MAX, 1 << 30, (16 << 20) + 1] {
        let mut result = None;
        let largest = largest_allocation(|| {
            result = Some(open_blob(&key, BlobType::Data, &sealed.id, true, claimed, &sealed.data));
        });
        let err = result.unwrap().unwrap_err().to_string();
        assert!(err.contains(&sealed.id.to_hex()), "{err}");
        assert!(largest <= 32 << 20, "claimed {claimed} bytes, allocated {largest} at once");
    }
    // The honest length still opens, and a large honest blob (beyond the up-front buffer) too.
    let got = open_blob(&key, BlobType::Data, &sealed.id, true, sealed.raw_length, &sealed.data).unwrap();
    assert_eq!(got, plain);
    let big: Vec<u8> = (0..(20u32 << 20)).map(|i| (i % 251) as u8).collect();
    let s = seal_blob(&key, BlobType::Tree, key.blob_id(&big), &big);
    assert!(s.compressed);
    assert_eq!(open_blob(&key, BlobType::Tree, &s.id, true, s.raw_length, &s.data).unwrap(), big);
}
