// SPDX-License-Identifier: GPL-2.0
//! Memory-side code: pmem persistence primitives (and, later, the DAX fault
//! path and the MMAPLOCK).

pub mod pmem;
