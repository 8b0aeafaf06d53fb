//! The crash-state explorer.
//!
//! [`RecMedium`] records every store, flush and fence the core issues. At
//! each fence (and at the end of an operation) the states a power cut could
//! leave are: everything durable so far, plus, for each 8-byte word stored
//! since it last became durable, any of the values it has held. The explorer
//! enumerates those states (all of them when there are few, else a seeded
//! sample that always includes the all-old and all-new extremes), mounts each
//! one (running recovery), runs fsck, and requires the logical contents to
//! equal the state before or after the operation.

use crate::dump::dump;
use crate::fsck;
use crate::media::{CowMedium, MemMedium, StageBox};
use ferrodax_core::fs::MountOptions;
use ferrodax_core::persist::{Stage, STAGE_RANGES};
use ferrodax_core::{Fs, Medium, MediumRead, Result};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

const LINE: u64 = 64;

#[derive(Clone, Debug)]
struct Pending {
    history: Vec<u64>,
    flushed: bool,
}

/// A crash state: (word offset, value) pairs over the durable image.
pub type Overrides<'a> = &'a [(u64, u64)];

/// How a crash state is judged; shared between the test and the medium.
pub type Judge = Rc<RefCell<dyn FnMut(&MemMedium, &[(u64, u64)])>>;

/// A medium that records what would survive a power cut.
#[derive(Clone)]
pub struct RecMedium {
    cur: Vec<u8>,
    durable: MemMedium,
    pending: BTreeMap<u64, Pending>,
    /// Treat fences as no-ops: a deliberately broken platform, to show that
    /// the explorer catches ordering bugs.
    pub ignore_fences: bool,
    /// Ranges the stage holds before a drain (see `Medium::stage_ranges`).
    pub stage_ranges: usize,
    judge: Option<Judge>,
    stage: StageBox,
}

impl RecMedium {
    /// A zeroed medium of `len` bytes.
    pub fn new(len: usize) -> Self {
        RecMedium {
            cur: vec![0; len],
            durable: MemMedium::new(vec![0; len]),
            stage: StageBox::default(),
            pending: BTreeMap::new(),
            ignore_fences: false,
            stage_ranges: STAGE_RANGES,
            judge: None,
        }
    }

    /// Fill the whole medium (current and durable) with `byte`: stale
    /// contents that allocation must never expose.
    pub fn fill_durable(&mut self, byte: u8) {
        self.cur.fill(byte);
        self.durable.0.fill(byte);
    }

    /// Judge crash states at every fence from now on (`None`: stop).
    pub fn set_judge(&mut self, judge: Option<Judge>) {
        self.judge = judge;
    }

    /// The current (volatile) image.
    pub fn image(&self) -> MemMedium {
        MemMedium::new(self.cur.clone())
    }

    /// The image as a power cut right now would leave it at the least.
    pub fn durable(&self) -> &MemMedium {
        &self.durable
    }

    /// Offer the crash states of this moment to the judge.
    pub fn crash_point(&mut self) {
        if let Some(judge) = self.judge.clone() {
            let choices: Vec<(u64, Vec<u64>)> = self
                .pending
                .iter()
                .map(|(&w, p)| (w, p.history.clone()))
                .collect();
            let mut judge = judge.borrow_mut();
            for_each_state(&choices, STATES_PER_POINT, |overrides| {
                judge(&self.durable, overrides)
            });
        }
    }
}

/// Crash states enumerated at one point, at most. A drain has all of a
/// transaction's undo entries pending at its fence, so one point covers
/// what used to be spread over several.
pub const STATES_PER_POINT: usize = 1024;

/// Call `f` with each chosen combination of word values: exhaustive when
/// there are at most `limit`, else `limit` seeded samples including the
/// all-old and all-new extremes.
fn for_each_state(choices: &[(u64, Vec<u64>)], limit: usize, mut f: impl FnMut(&[(u64, u64)])) {
    let total = choices
        .iter()
        .try_fold(1usize, |acc, (_, h)| acc.checked_mul(h.len() + 1));
    let mut picks = vec![0usize; choices.len()];
    let emit = |picks: &[usize], f: &mut dyn FnMut(Overrides)| {
        let o: Vec<(u64, u64)> = choices
            .iter()
            .zip(picks)
            .filter(|(_, &p)| p > 0)
            .map(|((w, h), &p)| (*w, h[p - 1]))
            .collect();
        f(&o);
    };
    match total {
        Some(n) if n <= limit => loop {
            emit(&picks, &mut f);
            let mut i = 0;
            loop {
                if i == picks.len() {
                    return;
                }
                picks[i] += 1;
                if picks[i] <= choices[i].1.len() {
                    break;
                }
                picks[i] = 0;
                i += 1;
            }
        },
        _ => {
            emit(&picks, &mut f);
            let all_new: Vec<usize> = choices.iter().map(|(_, h)| h.len()).collect();
            emit(&all_new, &mut f);
            let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ choices.len() as u64;
            for _ in 2..limit {
                for (i, (_, h)) in choices.iter().enumerate() {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    picks[i] = (seed % (h.len() as u64 + 1)) as usize;
                }
                emit(&picks, &mut f);
            }
        }
    }
}

impl MediumRead for RecMedium {
    fn len(&self) -> u64 {
        self.cur.len() as u64
    }
    fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        buf.copy_from_slice(&self.cur[off as usize..off as usize + buf.len()]);
        Ok(())
    }
    fn stage_area(&self) -> &Stage {
        &self.stage.0
    }
}

impl Medium for RecMedium {
    fn store(&mut self, off: u64, data: &[u8]) {
        self.cur[off as usize..off as usize + data.len()].copy_from_slice(data);
        let (first, last) = (off & !7, (off + data.len() as u64 - 1) & !7);
        for w in (first..=last).step_by(8) {
            let v = u64::from_le_bytes(self.cur[w as usize..w as usize + 8].try_into().unwrap());
            let p = self.pending.entry(w).or_insert(Pending {
                history: Vec::new(),
                flushed: false,
            });
            p.history.push(v);
            p.flushed = false;
        }
    }
    fn flush(&mut self, off: u64, len: u64) {
        let (first, end) = (off & !(LINE - 1), off + len);
        for (_, p) in self.pending.range_mut(first..end) {
            p.flushed = true;
        }
    }
    fn fence(&mut self) {
        self.crash_point();
        if self.ignore_fences {
            return;
        }
        let done: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.flushed)
            .map(|(&w, _)| w)
            .collect();
        for w in done {
            let v = *self.pending[&w].history.last().unwrap();
            self.durable.0[w as usize..w as usize + 8].copy_from_slice(&v.to_le_bytes());
            self.pending.remove(&w);
        }
    }
    fn stage_area_mut(&mut self) -> &mut Stage {
        &mut self.stage.0
    }
    fn shared(&self) -> &ferrodax_core::shared::Shared {
        &self.stage.1
    }
    fn stage_ranges(&self) -> usize {
        self.stage_ranges
    }
}

/// Mount an image (with recovery, on a private copy) and return its dump,
/// or why it does not mount or check clean.
pub fn recovered_state(
    image: &MemMedium,
    overrides: &[(u64, u64)],
) -> std::result::Result<String, String> {
    let mut cow = CowMedium::new(image);
    for &(w, v) in overrides {
        cow.store(w, &v.to_le_bytes());
    }
    let (fs, _) = Fs::mount(cow, MountOptions::default()).map_err(|e| format!("mount: {e}"))?;
    let report = fsck::check(&fs);
    if let Some(p) = report.problems.first() {
        return Err(format!(
            "fsck: {} (+{} more)",
            p.what,
            report.problems.len() - 1
        ));
    }
    dump(&fs).map_err(|e| format!("dump: {e}"))
}

/// Totals of an exploration.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Crash states mounted and checked.
    pub states: u64,
    /// States that failed (first few kept).
    pub violations: u64,
    /// Descriptions of the first violations.
    pub examples: Vec<String>,
}

/// A judge that accepts the states in `accepted` (set by the caller as the
/// operation proceeds) and counts the rest as violations.
pub fn judge(tally: Rc<RefCell<Tally>>, accepted: Rc<RefCell<Vec<String>>>) -> Judge {
    Rc::new(RefCell::new(
        move |image: &MemMedium, overrides: &[(u64, u64)]| {
            let verdict = recovered_state(image, overrides);
            let mut t = tally.borrow_mut();
            t.states += 1;
            let problem = match verdict {
                Ok(state) if accepted.borrow().contains(&state) => return,
                Ok(state) => format!("state matches neither before nor after:\n{state}"),
                Err(e) => e,
            };
            t.violations += 1;
            if t.examples.len() < 3 {
                t.examples.push(format!(
                    "{problem} (with {} unfenced words persisted)",
                    overrides.len()
                ));
            }
        },
    ))
}
