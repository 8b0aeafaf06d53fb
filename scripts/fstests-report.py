#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge and compare fstests runs made by scripts/fstests.sh.

  fstests-report.py verdict RUN_DIR
      Summarise one run (build/fstests/FSTYP/RUN): pass / fail / notrun
      counts, notrun counts by reason, and for ferrodax every failure not in
      tests/fstests-harness/expected-failures (fails the verdict) and every listed
      test that now passes (so the list shrinks). Exit 0 when the VM run,
      ./check and dmesg are clean and no failure is unexpected.

  fstests-report.py compare [BUILD_DIR]
      ferrodax vs ext4 -o dax side by side, per test and in totals, from
      tests/fstests-harness/results and then every run under BUILD_DIR
      (default build/fstests); a test run in several runs counts with its
      newest result.

  fstests-report.py pending FSTESTS GROUP FSTYP N
      The first N generic tests of GROUP (group-list order) that neither
      tests/fstests-harness/results nor build/fstests holds a result of
      for FSTYP: the next part of a long group.

  fstests-report.py record [BUILD_DIR]
      Add every result under BUILD_DIR to tests/fstests-harness/results
      (newest wins), so that a long group run in parts over several
      sessions, each on a fresh machine, adds up.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPECTED = os.path.join(ROOT, "tests", "fstests-harness", "expected-failures")
RECORD = os.path.join(ROOT, "tests", "fstests-harness", "results")
FSTYPS = ("ferrodax", "ext4")
# fstests' test directories by name: kernel messages interleaved with the
# guest console can glue a fragment onto a name ("genergeneric/307").
TEST_NAME = re.compile(r"^((?:generic|shared|ext4|xfs|btrfs|overlay|perf|selftest)/[0-9]+)\s+(.*)$")
PASS_TAIL = re.compile(r"^(\d+s \.\.\.\s+)?\d+s$")
DID_NOT_FINISH = "did not finish (VM timeout or crash)"


def results_from_xml(path):
    """{test: (status, reason)} from fstests' xunit report."""
    out = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("name")
        skipped, failure = case.find("skipped"), case.find("failure")
        if failure is not None:
            out[name] = ("fail", failure.get("message", ""))
        elif skipped is not None:
            out[name] = ("notrun", skipped.get("message", "") or "no reason given")
        else:
            out[name] = ("pass", "")
    return out


def results_from_console(path):
    """The same from ./check's output: the last line per test wins."""
    out = {}
    with open(path, errors="replace") as f:
        for line in f:
            m = TEST_NAME.match(line.rstrip())
            if not m:
                continue
            name, rest = m.group(1), m.group(2).strip()
            if "[not run]" in rest:
                out[name] = ("notrun", rest.split("[not run]", 1)[1].strip())
            elif "[expunged]" in rest:
                continue
            elif PASS_TAIL.match(rest):
                out[name] = ("pass", "")
            elif rest.endswith("..."):
                out[name] = ("fail", DID_NOT_FINISH)
            else:
                out[name] = ("fail", rest)
    return out


def load_run(run_dir):
    """fstests rewrites its xunit report after every test; ./check's
    output adds the test a killed VM was running."""
    out = {}
    console = os.path.join(run_dir, "fstests", "check.out")
    if os.path.exists(console):
        out.update(results_from_console(console))
    xml = os.path.join(run_dir, "fstests", "result.xml")
    if os.path.exists(xml):
        out.update(results_from_xml(xml))
    return out


def load_expected():
    """{test: reason} from tests/fstests-harness/expected-failures."""
    expected = {}
    with open(EXPECTED) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            test, _, reason = line.partition(" ")
            expected[test] = reason.strip()
    return expected


def counts(results):
    c = {"pass": 0, "fail": 0, "notrun": 0}
    for status, _ in results.values():
        c[status] += 1
    return c


def notrun_reason(reason):
    """Group notrun messages that differ only in a path or number."""
    return re.sub(r"/dev/\S+|\b\d+\b", "N", reason)[:100]


def verdict(run_dir):
    fstyp = os.path.basename(os.path.dirname(os.path.abspath(run_dir)))
    results = load_run(run_dir)
    ok = True
    vm_results = os.path.join(run_dir, "results.txt")
    lines = []
    if os.path.exists(vm_results):
        with open(vm_results) as f:
            lines = f.read().splitlines()
    for line in lines:
        if line.startswith("FAIL:"):
            print(f"FAIL: fstests {fstyp}: {line[5:].strip()}")
            ok = False
    if not any(line.startswith("PASS: fstests-run") for line in lines):
        print(f"FAIL: fstests {fstyp}: ./check did not run to its end")
        ok = False
    if not results:
        print(f"FAIL: fstests {fstyp}: no test results in {run_dir}/fstests")
        return False
    reasons = {}
    for status, reason in results.values():
        if status == "notrun":
            key = notrun_reason(reason)
            reasons[key] = reasons.get(key, 0) + 1
    for reason, n in sorted(reasons.items(), key=lambda r: -r[1]):
        print(f"  notrun {n:4d}  {reason}")
    failed = sorted(t for t, (s, _) in results.items() if s == "fail")
    if fstyp == "ferrodax":
        expected = load_expected()
        for t in failed:
            if t in expected:
                print(f"  expected failure: {t} ({expected[t]})")
            else:
                print(f"FAIL: fstests ferrodax: {t} failed and is not in "
                      f"tests/fstests-harness/expected-failures ({results[t][1]})")
                ok = False
        for t in sorted(expected):
            if results.get(t, ("", ""))[0] == "pass":
                print(f"  now passes, remove from expected-failures: {t}")
    else:
        for t in failed:
            print(f"  {fstyp} failure: {t} ({results[t][1]})")
    c = counts(results)
    print(f"fstests {fstyp}: {len(results)} tests, {c['pass']} passed, "
          f"{c['fail']} failed, {c['notrun']} not run")
    return ok


def merged(fstyp_dir):
    """Newest result per test over every run of one filesystem. A test a
    stopped VM was running has no result: it stays pending (the run's
    verdict reports it)."""
    runs = [os.path.join(fstyp_dir, r) for r in os.listdir(fstyp_dir)]
    runs = sorted((r for r in runs if os.path.isdir(r)), key=os.path.getmtime)
    out = {}
    for r in runs:
        out.update((t, res) for t, res in load_run(r).items() if res[1] != DID_NOT_FINISH)
    return out


def load_record():
    """{fstyp: {test: (status, "")}} from tests/fstests-harness/results."""
    sides = {fstyp: {} for fstyp in FSTYPS}
    if not os.path.exists(RECORD):
        return sides
    with open(RECORD) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            test, *statuses = line.split()
            for fstyp, status in zip(FSTYPS, statuses):
                if status != "-":
                    sides[fstyp][test] = (status, "")
    return sides


def all_results(build_dir):
    """The record, then every run under build_dir over it."""
    sides = load_record()
    for fstyp in FSTYPS:
        d = os.path.join(build_dir, fstyp)
        if os.path.isdir(d):
            sides[fstyp].update(merged(d))
    return sides


def record(build_dir):
    sides = all_results(build_dir)
    tests = sorted(set(sides["ferrodax"]) | set(sides["ext4"]))
    with open(RECORD + ".new", "w") as f:
        f.write("# fstests results on the debug kernel, emulated NVDIMM, one line per\n"
                "# test: TEST FERRODAX EXT4-DAX (pass, fail, notrun; - not run yet).\n"
                "# Written by `make fstests-record` from build/fstests, read by\n"
                "# `make fstests-compare`: a group run in parts adds up here. The\n"
                "# reasons for ferrodax failures are in expected-failures.\n")
        for t in tests:
            a, b = (sides[fstyp].get(t, ("-", ""))[0] for fstyp in FSTYPS)
            f.write(f"{t} {a} {b}\n")
    os.replace(RECORD + ".new", RECORD)
    print(f"{RECORD}: {len(tests)} tests")


def pending(fstests, group, fstyp, n):
    done = all_results(os.path.join(ROOT, "build", "fstests"))[fstyp]
    todo = []
    with open(os.path.join(fstests, "tests", "generic", "group.list")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            num, *groups = line.split()
            if group in groups and f"generic/{num}" not in done:
                todo.append(f"generic/{num}")
    print(" ".join(todo[:n]))


def compare(build_dir):
    sides = all_results(build_dir)
    fdx, ext4 = sides["ferrodax"], sides["ext4"]
    tests = sorted(set(fdx) | set(ext4))
    print(f"{'test':16} {'ferrodax':9} {'ext4-dax':9}")
    for t in tests:
        a, b = fdx.get(t, ("-", ""))[0], ext4.get(t, ("-", ""))[0]
        mark = "  <-" if a == "fail" and b != "fail" else ""
        print(f"{t:16} {a:9} {b:9}{mark}")
    print()
    for fstyp, res in sides.items():
        c = counts(res)
        print(f"{fstyp:9} total {len(res):4d}: {c['pass']:4d} pass, "
              f"{c['fail']:4d} fail, {c['notrun']:4d} notrun")
    both = [t for t in tests if fdx.get(t, ("",))[0] in ("pass", "fail")
            and ext4.get(t, ("",))[0] in ("pass", "fail")]
    fa = sum(fdx[t][0] == "fail" for t in both)
    fb = sum(ext4[t][0] == "fail" for t in both)
    print(f"tests both ran: {len(both)}; failures: ferrodax {fa}, ext4-dax {fb}")


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "verdict" and len(sys.argv) == 3:
        sys.exit(0 if verdict(sys.argv[2]) else 1)
    if len(sys.argv) >= 2 and sys.argv[1] in ("compare", "record") and len(sys.argv) <= 3:
        build_dir = sys.argv[2] if len(sys.argv) == 3 else os.path.join(ROOT, "build", "fstests")
        (compare if sys.argv[1] == "compare" else record)(build_dir)
        return
    if len(sys.argv) == 6 and sys.argv[1] == "pending":
        pending(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main()
