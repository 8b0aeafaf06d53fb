//! Crash-state exploration of every operation: zero violations allowed, and
//! a deliberately broken platform (fences ignored) must be caught.

use ferrodax_tools::scenarios::{all, explore, explore_mkfs};

#[test]
fn every_operation_is_atomic_and_durable() {
    let mut total = 0;
    let mut report = String::new();
    for s in all() {
        let t = explore(&s, false);
        total += t.states;
        report += &format!(
            "{:<20} {:>8} states {:>4} violations\n",
            s.name, t.states, t.violations
        );
        assert_eq!(t.violations, 0, "{}: {:#?}", s.name, t.examples);
        assert!(t.states > 0, "{}: no crash state explored", s.name);
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
        let t = explore(&s, true);
        assert!(
            t.violations > 0,
            "{name}: ignoring fences went unnoticed ({} states)",
            t.states
        );
    }
}
