//! Crash-state exploration of every operation: zero violations allowed, and
//! a deliberately broken platform (fences ignored) must be caught.

use ferrodax_core::persist::STAGE_RANGES;
use ferrodax_tools::scenarios::{all, explore, explore_mkfs, Mounts};

/// Stage sizes every scenario runs with: the real one, and a smaller one
/// that drains its transactions at other points (a stage of 40 ranges
/// found the CRC-32C commit check of format version 5 wanting).
/// `FERRODAX_CRASH_STAGES="64 32 8 ..."` (what `make check-long` sets)
/// runs others. Each scenario runs once more on one mount with its
/// operations in rotating journal areas, with the first stage size.
fn stages() -> Vec<usize> {
    match std::env::var("FERRODAX_CRASH_STAGES") {
        Ok(list) => list
            .split_whitespace()
            .map(|n| match n.parse() {
                Ok(n) if (1..=STAGE_RANGES).contains(&n) => n,
                _ => panic!("FERRODAX_CRASH_STAGES: {n} is not 1..={STAGE_RANGES}"),
            })
            .collect(),
        Err(_) => vec![STAGE_RANGES, 40],
    }
}

#[test]
fn every_operation_is_atomic_and_durable() {
    let mut total = 0;
    let mut report = String::new();
    let stages = stages();
    let runs: Vec<(usize, Mounts)> = stages
        .iter()
        .map(|&r| (r, Mounts::EachOp))
        .chain([(stages[0], Mounts::OneRotatingAreas)])
        .collect();
    for s in all() {
        for &(ranges, mounts) in &runs {
            let t = explore(&s, ranges, mounts, false);
            total += t.states;
            report += &format!(
                "{:<20} stage {:>2} {:<16} {:>8} states {:>4} violations\n",
                s.name,
                ranges,
                format!("{mounts:?}"),
                t.states,
                t.violations
            );
            assert_eq!(
                t.violations, 0,
                "{} (stage {ranges}, {mounts:?}): {:#?}",
                s.name, t.examples
            );
            assert!(t.states > 0, "{}: no crash state explored", s.name);
        }
    }
    let t = explore_mkfs();
    assert_eq!(t.violations, 0, "mkfs: {:#?}", t.examples);
    total += t.states;
    eprintln!("{report}crash states checked: {total}");
}

#[test]
fn broken_ordering_is_caught() {
    for name in ["rename", "map-blocks-zeroes", "unlink+release", "groups"] {
        let s = all().into_iter().find(|s| s.name == name).unwrap();
        let t = explore(&s, STAGE_RANGES, Mounts::EachOp, true);
        assert!(
            t.violations > 0,
            "{name}: ignoring fences went unnoticed ({} states)",
            t.states
        );
    }
}
