//! `FileMedium`'s chunk cache against a plain model: random stores, reads,
//! fences and a final sync over a file with prior contents; what is read
//! and what ends up in the file must be what plain pwrite/pread would give.

use ferrodax_core::{Medium, MediumRead};
use ferrodax_tools::media::FileMedium;
use proptest::prelude::*;
use std::io::Write;

const LEN: usize = 300 * 1024; // four full 64 KiB chunks and a short one

#[derive(Debug, Clone)]
enum Op {
    Store(usize, Vec<u8>),
    Read(usize, usize),
    Fence,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..LEN, prop::collection::vec(any::<u8>(), 1..70_000))
            .prop_map(|(off, d)| Op::Store(off.min(LEN - d.len().min(LEN)), d)),
        (0..LEN, 1usize..70_000)
            .prop_map(|(off, n)| Op::Read(off.min(LEN - n.min(LEN)), n.min(LEN))),
        Just(Op::Fence),
        // As mkfs zeroes a table: 512-byte stores on from a chunk's start.
        (0usize..5, 1usize..200).prop_map(|(chunk, pieces)| {
            let off = chunk * 65536;
            Op::Store(off, vec![0; (512 * pieces).min(LEN - off)])
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_cache_reads_and_writes_as_the_file_would(ops in prop::collection::vec(op(), 1..40), seed in any::<u8>()) {
        let prior: Vec<u8> = (0..LEN).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect();
        let mut file = tempfile();
        file.write_all(&prior).unwrap();
        let mut model = prior.clone();
        let mut m = FileMedium::new(file.try_clone().unwrap(), LEN as u64);
        for op in ops {
            match op {
                Op::Store(off, d) => {
                    m.store(off as u64, &d);
                    model[off..off + d.len()].copy_from_slice(&d);
                }
                Op::Read(off, n) => {
                    let mut b = vec![0u8; n];
                    m.read(off as u64, &mut b).unwrap();
                    prop_assert_eq!(&b[..], &model[off..off + n]);
                }
                Op::Fence => m.fence(),
            }
        }
        m.sync().unwrap();
        let on_disk = std::fs::read(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&file))).unwrap();
        prop_assert!(on_disk == model, "file contents differ from the model");
    }
}

fn tempfile() -> std::fs::File {
    let dir = std::env::temp_dir();
    let path = dir.join(format!(
        "ferrodax-media-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    f
}
