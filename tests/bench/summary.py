#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""summary.py: the one table of `make bench`.

    summary.py [--json OUT] [--quick] TARGETS RECORDS...

Reads the records every benchmark wrote (lines `XCALL-BENCH {json}`, the
format of tests/common/bench.h and HACKING.md, "Benchmark records") from
the RECORDS files, and the targets (TARGETS, tests/bench/targets): for each
figure there its median, p10 and p90, its baseline's median, the ratio of
the two, the target and whether the figure met it. Records of figures the
targets file does not name follow, without a target. The same goes to OUT
as JSON.

A target missed is reported, never a failure: the exit status is 0. It is
1 when a record is missing (a figure the targets name, or a baseline one of
them needs), broken (not JSON, a field missing or of the wrong type,
percentiles out of order, one figure twice) or a records file cannot be
read: each such problem is one line on stderr and in the JSON, and its row
says MISSING or BROKEN. 2 is a usage error or a bad targets file.
"""
import json
import math
import re
import sys

PREFIX = "XCALL-BENCH "
NAME = re.compile(r"^[a-z0-9_]+$")
COND = re.compile(r"^(ratio|median)(<=|>=)([0-9]+(?:\.[0-9]+)?)$")


class Usage(Exception):
    pass


def parse_targets(path):
    """[(bench, figure, baseline or None, [(key, op, value)])] in order."""
    rows = []
    seen = set()
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].split()
            if not line:
                continue
            where = "%s:%d" % (path, n)
            if len(line) != 4:
                raise Usage("%s: want BENCH FIGURE BASELINE TARGET" % where)
            bench, figure, base, target = line
            for word in (bench, figure) + ((base,) if base != "-" else ()):
                if not NAME.match(word):
                    raise Usage("%s: '%s' is not a name [a-z0-9_]+" %
                                (where, word))
            conds = []
            if target != "-":
                for alt in target.split("|"):
                    m = COND.match(alt)
                    if not m:
                        raise Usage("%s: target '%s': want ratio|median "
                                    "<=|>= NUMBER, alternatives joined "
                                    "by |" % (where, alt))
                    if m.group(1) == "ratio" and base == "-":
                        raise Usage("%s: a ratio needs a baseline" % where)
                    conds.append((m.group(1), m.group(2),
                                  float(m.group(3))))
            if (bench, figure) in seen:
                raise Usage("%s: %s %s named twice" % (where, bench, figure))
            seen.add((bench, figure))
            rows.append((bench, figure, None if base == "-" else base,
                         conds))
    return rows


def is_num(v):
    return (isinstance(v, (int, float)) and not isinstance(v, bool) and
            math.isfinite(v))


def check_record(r):
    """Why record @r is broken, or None."""
    if not isinstance(r, dict):
        return "not a JSON object"
    for key in ("bench", "figure"):
        if not isinstance(r.get(key), str) or not NAME.match(r[key]):
            return "'%s' missing or not a name [a-z0-9_]+" % key
    for key in ("unit", "what"):
        if not isinstance(r.get(key), str):
            return "'%s' missing or not a string" % key
    if not is_num(r.get("median")):
        return "'median' missing or not a number"
    for key in ("p10", "p90"):
        if key not in r:
            return "'%s' missing (null if not measured)" % key
        if r[key] is not None and not is_num(r[key]):
            return "'%s' not a number or null" % key
    s = r.get("samples")
    if not isinstance(s, int) or isinstance(s, bool) or s < 1:
        return "'samples' missing or not a positive integer"
    if ((r["p10"] is not None and r["p10"] > r["median"]) or
            (r["p90"] is not None and r["p90"] < r["median"])):
        return "not p10 <= median <= p90"
    return None


def read_records(paths, problems):
    """{(bench, figure): record}; what is wrong goes to @problems."""
    recs = {}
    for path in paths:
        try:
            f = open(path, encoding="utf-8", errors="replace")
        except OSError as e:
            problems.append((path, "cannot read: %s" % e.strerror))
            continue
        with f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                where = "%s:%d" % (path, n)
                if not line.strip():
                    continue
                if not line.startswith(PREFIX):
                    problems.append((where, "not a record: %.60s" % line))
                    continue
                try:
                    r = json.loads(line[len(PREFIX):])
                except ValueError as e:
                    problems.append((where, "broken record: %s" % e))
                    continue
                why = check_record(r)
                if why:
                    problems.append((where, "broken record: %s" % why))
                    key = (r.get("bench"), r.get("figure")) \
                        if isinstance(r, dict) else None
                    if key and all(isinstance(k, str) for k in key):
                        recs.setdefault(key, {"broken": why})
                    continue
                key = (r["bench"], r["figure"])
                if key in recs:
                    problems.append((where, "%s %s recorded twice" % key))
                    recs[key] = {"broken": "recorded twice"}
                    continue
                r["where"] = where
                recs[key] = r
    return recs


def fmt_num(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1000 or a == int(a):
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    return "%.2f" % v


def fmt_target(conds, unit):
    out = []
    for key, op, val in conds:
        v = "%g" % val
        out.append("%s %sx" % (op, v) if key == "ratio"
                   else ("%s %s %s" % (op, v, unit)).rstrip())
    return " or ".join(out) if out else "-"


def met(cond, median, ratio):
    key, op, val = cond
    v = ratio if key == "ratio" else median
    if v is None:
        return False
    return v <= val if op == "<=" else v >= val


def summarise(targets, recs, problems):
    rows = []
    named = set()
    for bench, figure, base, conds in targets:
        named.add((bench, figure))
        row = {"bench": bench, "figure": figure, "baseline": base,
               "target": None, "result": "-"}
        r = recs.get((bench, figure))
        b = recs.get((bench, base)) if base else None
        row["target"] = [{"of": k, "op": o, "value": v}
                         for k, o, v in conds] or None
        if r is None:
            problems.append(("%s %s" % (bench, figure),
                             "no record (the benchmark did not run, or "
                             "no longer measures it)"))
            row["result"] = "MISSING"
        elif "broken" in r:
            row["result"] = "BROKEN"
        else:
            for k in ("unit", "median", "p10", "p90", "samples", "what"):
                row[k] = r[k]
        if base and row["result"] == "-":
            if b is None:
                problems.append(("%s %s" % (bench, figure),
                                 "its baseline %s has no record" % base))
                row["result"] = "MISSING"
            elif "broken" in b:
                row["result"] = "BROKEN"
            else:
                row["baseline_median"] = b["median"]
                row["ratio"] = (r["median"] / b["median"]
                                if b["median"] else None)
        if row["result"] == "-" and conds:
            ok = any(met(c, r["median"], row.get("ratio")) for c in conds)
            row["result"] = "MET" if ok else "MISSED"
        row["target_text"] = fmt_target(conds, row.get("unit", ""))
        rows.append(row)
    for key, r in recs.items():
        if key in named or "broken" in r:
            continue
        row = {"bench": key[0], "figure": key[1], "baseline": None,
               "target": None, "target_text": "-", "result": "-"}
        for k in ("unit", "median", "p10", "p90", "samples", "what"):
            row[k] = r[k]
        rows.append(row)
    return rows


def print_table(rows, quick, out):
    head = ("bench", "figure", "unit", "median", "p10", "p90", "baseline",
            "base_med", "ratio", "target", "result")
    cells = []
    for row in rows:
        ratio = row.get("ratio")
        cells.append((row["bench"], row["figure"], row.get("unit", "-"),
                      fmt_num(row.get("median")), fmt_num(row.get("p10")),
                      fmt_num(row.get("p90")), row["baseline"] or "-",
                      fmt_num(row.get("baseline_median")),
                      "-" if ratio is None else "%.2fx" % ratio,
                      row["target_text"], row["result"]))
    width = [max(len(c[i]) for c in cells + [head]) for i in range(len(head))]
    right = {3, 4, 5, 7, 8}
    print("make bench: one summary%s; every ratio is to a baseline measured "
          "in the same run" % (" (BENCH_QUICK=1: few samples)"
                               if quick else ""), file=out)
    for c in [head] + cells:
        print("  ".join(c[i].rjust(width[i]) if i in right
                        else c[i].ljust(width[i])
                        for i in range(len(c))).rstrip(), file=out)


def main(argv):
    args = argv[1:]
    json_out = None
    quick = False
    while args and args[0].startswith("--"):
        if args[0] == "--json" and len(args) > 1:
            json_out = args[1]
            args = args[2:]
        elif args[0] == "--quick":
            quick = True
            args = args[1:]
        else:
            raise Usage("unknown option %s" % args[0])
    if len(args) < 1:
        raise Usage("usage: summary.py [--json OUT] [--quick] TARGETS "
                    "RECORDS...")
    try:
        targets = parse_targets(args[0])
    except OSError as e:
        raise Usage("%s: %s" % (args[0], e.strerror))
    problems = []
    recs = read_records(args[1:], problems)
    rows = summarise(targets, recs, problems)
    print_table(rows, quick, sys.stdout)
    nmet = sum(r["result"] == "MET" for r in rows)
    nmissed = sum(r["result"] == "MISSED" for r in rows)
    print("%d targets met, %d missed%s" %
          (nmet, nmissed, ", %d problems (below)" % len(problems)
           if problems else ""))
    for where, what in problems:
        print("bench summary: %s: %s" % (where, what), file=sys.stderr)
    if json_out:
        for row in rows:
            del row["target_text"]
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump({"version": 1, "quick": quick, "met": nmet,
                       "missed": nmissed, "figures": rows,
                       "problems": [{"where": w, "problem": p}
                                    for w, p in problems]}, f, indent=1)
            f.write("\n")
    return 1 if problems else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Usage as e:
        print("bench summary: %s" % e, file=sys.stderr)
        sys.exit(2)
