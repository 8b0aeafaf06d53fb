//! ferrodax-fuzz: the field-level fuzzer's images on a real device, for the
//! kernel side of the fuzzing (`tests/vm/t/fuzz-kernel.sh`).
//!
//!   ferrodax-fuzz sample N          N case ids covering every structure,
//!                                   one "ID FIELD = VALUE" line each
//!   ferrodax-fuzz write ID DEVICE   write case ID's image at the start of
//!                                   DEVICE (8 MiB)
//!   ferrodax-fuzz set FIELD VALUE DEVICE
//!                                   the same for a chosen field and value
//!                                   (e.g. `dir_block[448].magic 0`: an
//!                                   image that mounts and fails later)

use ferrodax_core::{Medium, MediumRead};
use ferrodax_tools::device;
use ferrodax_tools::fuzz::Image;
use ferrodax_tools::media::MemMedium;
use std::process::exit;

/// Random values per field in the cases (as in the host test's default).
const RANDOM: usize = 8;

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("ferrodax-fuzz: {msg}");
    exit(1)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let image = Image::populated();
    let cases = image.cases(RANDOM);
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["sample", n] => {
            let n = n.parse().unwrap_or_else(|_| fail("N must be a number"));
            for i in Image::sample(&cases, n) {
                let (f, v) = cases[i];
                println!("{i} {} = {v:#x}", f.name);
            }
        }
        ["write", id, dev] => {
            let i: usize = id.parse().unwrap_or_else(|_| fail("ID must be a number"));
            let &(f, v) = cases.get(i).unwrap_or_else(|| fail("no such case"));
            write(&image.with(f, v), dev);
        }
        ["set", name, value, dev] => {
            let f = image
                .fields()
                .iter()
                .find(|f| f.name == name)
                .unwrap_or_else(|| fail(format!("no field {name}")));
            let v = match value.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => value.parse(),
            }
            .unwrap_or_else(|_| fail("VALUE must be a number"));
            write(&image.with(f, v), dev);
        }
        _ => fail("usage: ferrodax-fuzz sample N | write ID DEVICE | set FIELD VALUE DEVICE"),
    }
}

/// Write `img` at the start of `dev`.
fn write(img: &MemMedium, dev: &str) {
    let mut m = device::open(dev, true).unwrap_or_else(|e| fail(format!("{dev}: {e}")));
    if m.len() < img.0.len() as u64 {
        fail(format!("{dev} is smaller than the image"));
    }
    m.store(0, &img.0);
    m.sync().unwrap_or_else(|e| fail(format!("{dev}: {e}")));
}
