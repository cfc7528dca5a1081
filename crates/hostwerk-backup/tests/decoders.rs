//! Every decoder of repository bytes survives arbitrary and mutated input without panicking
//! (a stable-toolchain companion of the cargo-fuzz targets in `fuzz/`).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use hostwerk_backup::blob::{open_blob, seal_blob, BlobType};
use hostwerk_backup::config::Config;
use hostwerk_backup::crypto::MasterKey;
use hostwerk_backup::envelope;
use hostwerk_backup::index::{decode_index, encode_index, IndexPack};
use hostwerk_backup::keyfile::KeyFile;
use hostwerk_backup::pack::{decode_directory, parse_pack_unverified, PackWriter};
use hostwerk_backup::tree::Tree;
use hostwerk_backup::{Id, Snapshot};
use proptest::prelude::*;

fn key() -> MasterKey {
    MasterKey::from_material([5; 64])
}

fn valid_pack() -> Vec<u8> {
    let k = key();
    let mut w = PackWriter::new();
    for i in 0..3u8 {
        let plain = vec![i; 100 + i as usize];
        w.add(&seal_blob(&k, BlobType::Data, k.blob_id(&plain), &plain));
    }
    w.finish(&k).bytes
}

fn valid_index() -> Vec<u8> {
    let k = key();
    let mut w = PackWriter::new();
    let plain = b"hello".to_vec();
    w.add(&seal_blob(&k, BlobType::Tree, k.blob_id(&plain), &plain));
    let p = w.finish(&k);
    encode_index(&[IndexPack { id: p.id, size: p.bytes.len() as u64, entries: p.entries }])
}

fn mutate(mut v: Vec<u8>, flips: &[(usize, u8)], cut: usize) -> Vec<u8> {
    for &(pos, b) in flips {
        if !v.is_empty() {
            let n = v.len();
            v[pos % n] ^= b;
        }
    }
    let n = v.len();
    v.truncate(n.saturating_sub(cut % 4));
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn decoders_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600), flips in proptest::collection::vec((any::<usize>(), 1u8..), 0..4), cut in any::<usize>()) {
        let k = key();
        let _ = parse_pack_unverified(&k, "p", &data);
        let _ = decode_directory(&data, data.len() as u64, "p");
        let _ = decode_index(&data, "i");
        let _ = Tree::decode(&data, &Id::default());
        let _ = Snapshot::decode(&data, "s");
        let _ = Config::decode(&data);
        let _ = KeyFile::decode(&data, "k");
        let _ = envelope::open(&k, "index", "x", &data, false);
        let _ = open_blob(&k, BlobType::Data, &Id::default(), true, 1000, &data);

        // Mutations of valid encodings: either still decode or fail cleanly.
        let pack = mutate(valid_pack(), &flips, cut);
        let _ = parse_pack_unverified(&k, "p", &pack);
        let idx = mutate(valid_index(), &flips, cut);
        let _ = decode_index(&idx, "i");
        let sealed = envelope::seal(&k, "index", &valid_index());
        let bad = mutate(sealed.clone(), &flips, cut);
        if bad != sealed {
            prop_assert!(envelope::open(&k, "index", "x", &bad, false).is_err());
        }
    }
}
