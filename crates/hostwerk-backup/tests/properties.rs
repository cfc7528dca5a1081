//! Property tests: chunk boundaries survive insertions; restore(backup(x)) == x.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod common;

use std::fs;

use hostwerk_backup::chunker::chunk_lengths;
use hostwerk_backup::config::ChunkerParams;
use proptest::prelude::*;

fn boundaries(lens: &[usize]) -> Vec<usize> {
    lens.iter()
        .scan(0, |s, l| {
            *s += l;
            Some(*s)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Inserting bytes early in a stream shifts, but keeps, the boundaries after the next cut or two.
    #[test]
    fn chunk_boundaries_stable_under_insertion(seed in 0u64..1000, at in 0usize..20_000, ins in proptest::collection::vec(any::<u8>(), 1..500)) {
        let p = ChunkerParams { min: 2048, avg: 8192, max: 32768 };
        let data = common::bytes(seed, 400_000);
        let mut changed = data.clone();
        changed.splice(at..at, ins.iter().copied());
        let a = boundaries(&chunk_lengths(&p, 7, &data));
        let b: Vec<usize> = boundaries(&chunk_lengths(&p, 7, &changed)).into_iter().map(|x| x - ins.len()).collect();
        prop_assert_eq!(a.iter().sum::<usize>() > 0, true);
        // All boundaries well after the insertion point are the same.
        let tail_a: Vec<_> = a.iter().filter(|&&x| x > at + 3 * 32768).collect();
        let tail_b: Vec<_> = b.iter().filter(|&&x| x > at + 3 * 32768).collect();
        prop_assert_eq!(tail_a, tail_b);
        prop_assert_eq!(chunk_lengths(&p, 7, &data).iter().sum::<usize>(), data.len());
    }

    /// Any small tree of files restores byte-exact.
    #[test]
    fn restore_of_backup_is_identity(files in proptest::collection::btree_map("[a-z]{1,8}", proptest::collection::vec(any::<u8>(), 0..3000), 1..8), big in 0usize..600_000) {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        fs::create_dir_all(src.join("sub")).unwrap();
        for (name, content) in &files {
            fs::write(src.join(name), content).unwrap();
            fs::write(src.join("sub").join(name), content.repeat(2)).unwrap();
        }
        fs::write(src.join("sub/big"), common::bytes(big as u64, big)).unwrap();
        let repo = common::init_repo(&t.path().join("repo"));
        let r = hostwerk_backup::backup(&repo, &hostwerk_backup::BackupOptions { paths: vec![src.clone()], ..Default::default() }, None, &hostwerk_backup::NoProgress).unwrap();
        let out = t.path().join("out");
        hostwerk_backup::restore(&repo, &r.snapshot.snapshot.tree, &hostwerk_backup::RestoreOptions { target: out.clone(), ..Default::default() }, &hostwerk_backup::NoProgress).unwrap();
        let (want, _) = common::snapshot_fs(&src);
        let (got, _) = common::snapshot_fs(&out.join(src.strip_prefix("/").unwrap()));
        prop_assert_eq!(want, got);
    }
}

#[test]
fn default_chunker_params_are_valid() {
    ChunkerParams::default().validate().unwrap();
    let p = ChunkerParams::default();
    let data = common::bytes(5, 20_000_000);
    let lens = chunk_lengths(&p, 1, &data);
    let avg = data.len() / lens.len();
    assert!((600_000..2_000_000).contains(&avg), "average chunk {avg}");
    assert!(lens.iter().all(|&l| l <= p.max as usize));
}
