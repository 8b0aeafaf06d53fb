//! Field-level fuzzing with valid checksums (see `tools/src/fuzz.rs`):
//! every field of every structure, boundary values plus a few random ones
//! (`FERRODAX_FUZZ_RANDOM=N` for N random values per field, the long mode;
//! `FERRODAX_FUZZ_TRACE=1` names each image before it runs, for an abort
//! that leaves no report). No panic anywhere, and an image mount refuses is
//! refused as corrupt.

use ferrodax_tools::fuzz::{exercise, Image, Outcome};
use std::collections::BTreeMap;

#[test]
fn every_field_with_a_valid_checksum() {
    let random = std::env::var("FERRODAX_FUZZ_RANDOM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let trace = std::env::var_os("FERRODAX_FUZZ_TRACE").is_some();
    let image = Image::populated();
    let mut per_structure: BTreeMap<String, [usize; 5]> = BTreeMap::new();
    let mut bad = Vec::new();
    let cases = image.cases(random);
    for &(field, v) in &cases {
        if trace {
            eprintln!("{} = {v:#x}", field.name);
        }
        let counts = per_structure
            .entry(field.structure().to_string())
            .or_default();
        match exercise(image.with(field, v)) {
            Outcome::Refused { repaired } => {
                counts[0] += 1;
                counts[1] += usize::from(repaired);
            }
            Outcome::Handled { found, left } => {
                counts[2] += 1;
                counts[3] += usize::from(found);
                counts[4] += usize::from(left);
            }
            other => bad.push(format!("{} = {v:#x}: {other:?}", field.name)),
        }
    }
    let cases = cases.len();
    let mut report = format!("{cases} images, {} fields\n", image.fields().len());
    report += "structure            refused  repaired  handled  fsck-found  left-after-repair\n";
    for (s, [r, rr, h, f, l]) in &per_structure {
        report += &format!("{s:<20} {r:>7}  {rr:>8}  {h:>7}  {f:>10}  {l:>17}\n");
    }
    eprintln!("{report}");
    assert!(
        bad.is_empty(),
        "{} of {cases} images broke the core:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
