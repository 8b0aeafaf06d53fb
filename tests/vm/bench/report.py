#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench's report: raw.txt ("rep fs metric value unit" lines written by
dax.sh) -> table.md (printed), results.csv and plot.png in the same
directory.

Every cell is the median over the repetitions with its spread
((max - min) / median). Every ratio is oriented so that higher is better for
the filesystem in the column: rate / ext4's rate, or ext4's time / time.
The targets are issues #9's and #10's (ratios to ext4-DAX in the same run).
The tmpfs column is the floor of the syscall latencies (no media, no
journal): its ratio to ext4-DAX, printed beside each latency target, is the
most any filesystem could reach in this VM.
"""
import csv
import statistics
import sys
from collections import defaultdict
from pathlib import Path

FILESYSTEMS = ["ext4", "xfs", "ferrodax"]
LOWER_IS_BETTER = {"us", "ms", "faults"}
TARGETS = {
    "lat.append-1k.mean": 3.0,
    "lat.append-16k.mean": 3.0,
    "lat.creat.mean": 2.5,
    "lat.mkdir.mean": 3.5,
    "lat.rename.mean": 2.5,
    "lat.unlink.mean": 1.2,
    "lat.read-1k.mean": 1.5,
    "lat.read-16k.mean": 1.5,
    "lat.stat.mean": 1.0,
    "faults.aligned.pages": 1.0,
    "mount.populated": 1.0,
}
# Absolute targets, not ratios to ext4: seq bandwidth >= 0.9 of the raw
# device, 2-thread / 1-thread >= 1.8.
RAW_TARGET = 0.9
SCALE_TARGET = 1.8


def load(path):
    runs = defaultdict(dict)  # (fs, metric) -> {rep: value}
    units = {}
    for line in path.read_text().splitlines():
        rep, fs, metric, value, unit = line.split()
        runs[(fs, metric)][int(rep)] = float(value)
        units[metric] = unit
    # Derived per repetition: 2-thread / 1-thread scaling.
    for (fs, metric), reps in list(runs.items()):
        if metric.startswith("scale.") and metric.endswith(".t2"):
            one = runs.get((fs, metric[:-1] + "1"), {})
            name = metric[:-3] + ".2t/1t"
            runs[(fs, name)] = {r: v / one[r] for r, v in reps.items() if one.get(r)}
            units[name] = "x"
        # Lookups beside changes / lookups alone (1.0: changes hold up no stat).
        if metric == "mixed.stat.beside-creat":
            alone = runs.get((fs, "mixed.stat.alone"), {})
            name = "mixed.stat.beside/alone"
            runs[(fs, name)] = {r: v / alone[r] for r, v in reps.items() if alone.get(r)}
            units[name] = "x"
    return runs, units


def summary(values):
    vals = sorted(values)
    med = statistics.median(vals)
    spread = (vals[-1] - vals[0]) / med if med else 0.0
    return med, spread, vals[0], vals[-1], len(vals)


def ratio(fs_med, ext4_med, unit):
    if not fs_med or not ext4_med or unit in ("bool", "x"):
        return None
    return ext4_med / fs_med if unit in LOWER_IS_BETTER else fs_med / ext4_med


def fmt(med, spread, unit):
    if unit == "bool":
        return "yes" if med >= 0.5 else "no"
    digits = 2 if med < 10 else 1 if med < 1000 else 0
    return f"{med:.{digits}f} ±{spread * 100:.0f}%"


def main():
    out = Path(sys.argv[1])
    runs, units = load(out / "raw.txt")
    metrics = list(dict.fromkeys(m for (_, m) in runs))
    med = {key: summary(v.values()) for key, v in runs.items() if v}

    rows, csv_rows, plot = [], [], []
    for m in metrics:
        unit = units[m]
        cells, ratios = [], {}
        for fs in FILESYSTEMS + ["raw", "tmpfs"]:
            s = med.get((fs, m))
            cells.append(fmt(s[0], s[1], unit) if s else "")
            if s:
                e = med.get(("ext4", m))
                r = ratio(s[0], e[0] if e else None, unit)
                ratios[fs] = r
                csv_rows.append([fs, m, unit, f"{s[0]:.4g}", f"{s[2]:.4g}", f"{s[3]:.4g}", s[4],
                                 "" if r is None else f"{r:.3f}"])
        f_ratio = ratios.get("ferrodax")
        target, extra = "", ""
        if m in TARGETS:
            target = f">= {TARGETS[m]}x"
            if f_ratio is not None:
                extra = "met" if f_ratio >= TARGETS[m] else "short"
            if ratios.get("tmpfs") is not None:
                extra += f" (tmpfs {ratios['tmpfs']:.2f}x)"
        if m.startswith("bw.read.psync") or m.startswith("bw.write.psync"):
            raw, fdx = med.get(("raw", m)), med.get(("ferrodax", m))
            if raw and fdx:
                target = f">= {RAW_TARGET} raw"
                extra = f"{fdx[0] / raw[0]:.2f} of raw, " + ("met" if fdx[0] / raw[0] >= RAW_TARGET else "short")
        if m.endswith(".2t/1t") and ("ferrodax", m) in med:
            target = f">= {SCALE_TARGET}x"
            extra = "met" if med[("ferrodax", m)][0] >= SCALE_TARGET else "short"
        show = lambda r: "" if r is None else f"{r:.2f}x"
        rows.append([m, unit] + cells + [show(f_ratio), show(ratios.get("xfs")), target, extra])
        if f_ratio is not None:
            plot.append((m, f_ratio, ratios.get("xfs")))

    header = ["metric", "unit", "ext4-DAX", "XFS-DAX", "ferrodax", "raw pmem", "tmpfs",
              "ferrodax/ext4", "XFS/ext4", "target", "ferrodax vs target"]
    lines = [(out / "machine.txt").read_text().strip(), "",
             "Median of the repetitions ± spread ((max - min) / median); ratios: higher is better.", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    (out / "table.md").write_text("\n".join(lines) + "\n")
    with open(out / "results.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["fs", "metric", "unit", "median", "min", "max", "reps", "ratio_to_ext4"])
        w.writerows(csv_rows)
    draw(plot, out / "plot.png")
    print("\n".join(lines))


def draw(plot, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [p[0] for p in plot]
    fig, ax = plt.subplots(figsize=(9, 0.28 * len(names) + 1.5))
    ys = range(len(names))
    ax.barh([y - 0.2 for y in ys], [p[1] for p in plot], height=0.4, label="ferrodax")
    ax.barh([y + 0.2 for y in ys], [p[2] or 0 for p in plot], height=0.4, label="XFS-DAX")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(list(ys), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("ratio to ext4-DAX (higher is better)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
