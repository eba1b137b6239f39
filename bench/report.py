#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Aggregate bench/out/raw-*.jsonl into results.json, report.md and plots.

    bench/report.py [OUT]       (default: bench/out)

Every raw line is one repetition of one measurement. A result is the
median over the repetitions of the same (env, suite, implementation,
parameters, metric), with min, max and the relative spread
(max - min) / median. Tables give each figure next to its ratio to the
best peer in the same environment (native, or the qemu guest). Plots are
PNGs drawn by gnuplot when it is installed. Python standard library only.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "out")

# Identity of a configuration: everything but the repetition counts.
IGNORED_PARAMS = {"events"}


def load():
    raw = []
    for name in ("raw-native.jsonl", "raw-vm.jsonl"):
        path = os.path.join(OUT, name)
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    try:
                        raw.append(json.loads(line))
                    except json.JSONDecodeError:
                        pass
    return raw


def aggregate(raw):
    groups = {}
    for r in raw:
        params = {k: v for k, v in r["params"].items() if k not in IGNORED_PARAMS}
        key = (r["env"], r["suite"], r["impl"],
               json.dumps(params, sort_keys=True), r["metric"])
        g = groups.setdefault(key, {"values": [], "unit": r["unit"], "params": params})
        g["values"].append(r["value"])
    results = []
    for (env, suite, impl, _, metric), g in sorted(groups.items()):
        v = g["values"]
        med = statistics.median(v)
        results.append({
            "suite": suite, "implementation": impl, "env": env,
            "parameters": g["params"], "metric": metric, "value": med,
            "unit": g["unit"], "repetitions": len(v),
            "spread": {"min": min(v), "max": max(v),
                       "relative": (max(v) - min(v)) / med if med else 0.0},
        })
    return results


RESULTS = []

# The coalescing consumer bench/run.sh measures (bb-topo -L 256/2000).
COALESCE = "256/2000ns"


def find(env, suite, impl, metric, **p):
    """The result matching every given parameter (first one found); the
    library's default trailing unless trail is given."""
    trail = p.pop("trail", "default")
    for r in RESULTS:
        if (r["env"] == env and r["suite"] == suite and r["implementation"] == impl
                and r["metric"] == metric
                and r["parameters"].get("trail", "default") == trail
                and all(r["parameters"].get(k) == v for k, v in p.items())):
            return r
    return None


def val(r):
    return None if r is None else r["value"]


def fmt(v, unit=""):
    if v is None:
        return "–"
    if unit == "ops/s":
        return f"{v / 1e6:.2f}"
    if unit == "ns":
        if v >= 1e6:
            return f"{v / 1e6:.2f} ms"
        if v >= 1e4:
            return f"{v / 1e3:.1f} µs"
        return f"{v:.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def spread(r):
    if r is None:
        return ""
    return f" ±{100 * r['spread']['relative'] / 2:.0f}%"


def ratio(v, best, higher=True):
    if v is None or not best:
        return ""
    return f"{v / best:.2f}x"


def table(title, header, rows, note=None):
    out = [f"### {title}", ""]
    if note:
        out += [note, ""]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "---|" * len(header))
    for row in rows:
        out.append("| " + " | ".join(str(c) for c in row) + " |")
    out.append("")
    return out


def compare_rows(env, suite, metric, unit, configs, impls, peers, higher=True):
    """configs: [(label, {impl: params})]; each cell 'value (ratio to best peer)'."""
    rows = []
    for label, per_impl in configs:
        vals = {}
        for impl in impls:
            p = per_impl.get(impl)
            if p is None:
                continue
            vals[impl] = find(env, suite, impl, metric, **p)
        pv = [val(vals[i]) for i in peers if i in vals and val(vals[i])]
        best = (max(pv) if higher else min(pv)) if pv else None
        row = [label]
        for impl in impls:
            r = vals.get(impl)
            if r is None:
                row.append("–")
                continue
            cell = fmt(val(r), unit) + spread(r)
            if best:
                cell += f" ({ratio(val(r), best)})"
            row.append(cell)
        rows.append(row)
    return rows


def meta():
    try:
        with open(os.path.join(OUT, "meta.json")) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError):
        return {}


# ---- the profile ---------------------------------------------------------------

def profile_why(wait="spin"):
    """What perf saw in the producer of unicast (run.sh's profile step)."""
    import re
    prof = os.path.join(OUT, "profile.txt")
    if not os.path.exists(prof):
        return ""
    shares, section = {}, None
    with open(prof) as f:
        for line in f:
            if line.startswith("== bb_topo"):
                section = f" -w {wait} " in line
                continue
            if line.startswith("=="):
                section = False if section else section
            m = re.match(r"\s+([\d.]+)%\s+(\S+)\s+\S+\s+\[.\]\s+(\S+)", line)
            if section and m:
                shares[(m.group(2), m.group(3))] = float(m.group(1))
    prod = sum(v for (c, _), v in shares.items() if c == "producer")
    if not prod:
        return ""
    top3 = sorted(((v, sym) for (c, sym), v in shares.items() if c == "producer"),
                  reverse=True)[:3]
    text = (f"perf ({wait}): the producer thread's user-space samples: " +
            ", ".join(f"{100 * v / prod:.0f}% {sym}" for v, sym in top3) +
            " (`producer` is the benchmark's loop, whose slot stores wait for "
            "cache lines the consumer holds)")
    ann = os.path.join(OUT, f"annotate-{wait}.txt")
    if os.path.exists(ann):
        with open(ann) as f:
            lines = f.read().splitlines()
        top = lines[-1].split(": ", 1)[-1] if lines and lines[-1].startswith("==") else ""
        rows = []
        for line in lines:
            m = re.match(r"\s+([\d.]+) :\s+([0-9a-f]+):\s+(.*)", line)
            if m:
                rows.append((float(m.group(1)), m.group(3).strip()))
        if rows and top == "badbatch_publish":
            i = max(range(len(rows)), key=lambda k: rows[k][0])
            prev = rows[i - 1][1] if i else ""
            text += (f", {rows[i][0]:.0f}% of those on the instruction after "
                     f"`{prev}`")
            if "lock" in prev or "mfence" in prev:
                text += (" (the full fence of bb_consumers_need_wake(), "
                         "include/badbatch/claim.h, executed on every publish)")
    return text + "."


# ---- targets -----------------------------------------------------------------

def targets():
    rows = []

    def add(name, goal, measured, threshold, higher, detail, why_met, why_missed):
        if measured is None or threshold is None:
            rows.append([name, goal, "not measured", "–", "–", detail])
            return
        met = measured >= threshold if higher else measured <= threshold
        by = measured / threshold if threshold else float("inf")
        margin = (f"{by:.2f}x the bar" if higher else
                  f"{by:.2f}x the limit")
        rows.append([name, goal, fmt(measured), "met" if met else "**missed**",
                     margin, detail + " " + (why_met if met else why_missed)])

    mem = dict(ring="mem", mode="thread", size=8, slots=65536, path="fast", handler="event",
               coalesce="off")
    java = dict(ring="java", mode="thread", size=8, slots=65536, path="fast")
    for topo, goal in (("unicast", 1.5), ("pipeline", 1.5)):
        b = val(find("native", "throughput", "badbatch", "ops", topology=topo,
                     wait="yield", batch=1, **mem))
        l = val(find("native", "throughput", "lmax", "ops", topology=topo,
                     wait="yield", batch=1, **java))
        add(f"{topo} throughput vs LMAX", f">= {goal}x",
            b / l if b and l else None, goal, True,
            f"badbatch {fmt(b, 'ops/s')} vs LMAX {fmt(l, 'ops/s')} Mops/s "
            "(native, memory ring, threads, yield, 8-byte events, 64 Ki slots).",
            "", profile_why("yield") or "See the profile below.")
    for topo, b, goal in (("unicast", 1, 1.5), ("pipeline", 1, 1.5), ("unicast", 10, 3.0)):
        off = val(find("native", "throughput", "badbatch", "ops", topology=topo,
                       wait="yield", batch=b, **dict(mem, trail="off")))
        l = val(find("native", "throughput", "lmax", "ops", topology=topo,
                     wait="yield", batch=b, **java))
        add(f"(also) {topo}{' batch 10' if b > 1 else ''} vs LMAX, trailing off",
            f">= {goal:g}x", off / l if off and l else None, goal, True,
            f"badbatch {fmt(off, 'ops/s')} with trail_ns BADBATCH_TRAIL_OFF vs LMAX "
            f"{fmt(l, 'ops/s')} Mops/s: what the default trailing (a consumer that "
            "took a batch lets 500 ns pass before it looks again) is worth.", "", "")
    for w in ("spin",):
        b = val(find("native", "throughput", "badbatch", "ops", topology="unicast",
                     wait=w, batch=1, **mem))
        l = val(find("native", "throughput", "lmax", "ops", topology="unicast",
                     wait=w, batch=1, **java))
        add(f"(also) unicast {w} vs LMAX", ">= 1.5x", b / l if b and l else None, 1.5,
            True, f"badbatch {fmt(b, 'ops/s')} vs LMAX {fmt(l, 'ops/s')} Mops/s, "
            "busy-spin on both sides.", "", profile_why(w) or "")
    b = val(find("native", "throughput", "badbatch", "ops", topology="unicast",
                 wait="yield", batch=10, **mem))
    runs = dict(mem, handler="run")
    br = val(find("native", "throughput", "badbatch", "ops", topology="unicast",
                  wait="yield", batch=10, **runs))
    l = val(find("native", "throughput", "lmax", "ops", topology="unicast",
                 wait="yield", batch=10, **java))
    best = max(x for x in (b, br, 0) if x is not None) or None
    toff = val(find("native", "throughput", "badbatch", "ops", topology="unicast",
                    wait="yield", batch=10, **dict(mem, trail="off")))
    gain = f"{b / toff:.1f}x as fast as" if b and toff else "faster than"

    add("batch unicast vs LMAX", ">= 3x", best / l if best and l else None, 3.0, True,
        f"batches of 10: badbatch {fmt(br, 'ops/s')} with a run handler "
        f"(badbatch_consume_runs), {fmt(b, 'ops/s')} with a per-event handler, "
        f"vs LMAX {fmt(l, 'ops/s')} Mops/s (LMAX also publishing next(10)); the "
        "better of the two counts.", "",
        "Two limits, by the host's state (the atomic round trip above). When "
        "cross-core transfers are slow, a consumer right behind the producer "
        "costs it a transfer for every line it reads; trailing (on by default) "
        f"keeps it back and ran {gain} without it here (the trailing-off row, "
        "bench/FINDINGS.md). When they are fast, the "
        "producer's own path (claim, ten stores, publish: under 2 ns an event) "
        "is the limit, and inlining it (the -flto row) gains about 1.5x.")
    for b, name in ((10, "batch unicast"), (1, "unicast")):
        c = find("native", "throughput", "badbatch", "ops", topology="unicast",
                 wait="yield", batch=b, **dict(mem, coalesce=COALESCE))
        l = val(find("native", "throughput", "lmax", "ops", topology="unicast",
                     wait="yield", batch=b, **java))
        goal = 3.0 if b == 10 else 1.5
        add(f"(also) {name} vs LMAX, coalescing", f">= {goal:g}x",
            val(c) / l if c and l else None, goal, True,
            f"badbatch {fmt(val(c), 'ops/s')} with min_batch/linger_ns "
            f"{COALESCE} (a batch under {COALESCE.split('/')[0]} events waits up "
            f"to {COALESCE.split('/')[1]} for more) vs LMAX {fmt(l, 'ops/s')} "
            "Mops/s with its plain yield: not like for like, it buys throughput "
            "with latency (see Coalescing consumers).", "",
            "" if b == 10 else "Batches of one: the producer's own per-event "
            "cost bounds it, which coalescing cannot change.")
    for b, name, goal in ((1, "unicast", 1.5), (10, "batch unicast", 3.0)):
        r = val(find("native", "throughput", "badbatch-lto", "ops", topology="unicast",
                     wait="yield", batch=b, **mem))
        l = val(find("native", "throughput", "lmax", "ops", topology="unicast",
                     wait="yield", batch=b, **java))
        add(f"(also) {name} vs LMAX, linked with -flto", f">= {goal:g}x",
            r / l if r and l else None, goal, True,
            f"badbatch {fmt(r, 'ops/s')} built and linked with -flto (claim, slot "
            f"and publish inlined into the loop) vs LMAX {fmt(l, 'ops/s')} Mops/s.",
            "", "")
    b = val(find("vm", "throughput", "badbatch", "ops", topology="unicast", ring="kernel",
                 mode="proc", wait="block", size=64, batch=1, path="fast"))
    p = val(find("vm", "throughput", "pipe", "ops", topology="unicast", mode="proc",
                 size=64, batch=1))
    add("cross-process blocking vs pipe (VM)", ">= 20x", b / p if b and p else None, 20.0,
        True, f"in the VM: /dev/badbatch BLOCK {fmt(b, 'ops/s')} vs pipe "
        f"{fmt(p, 'ops/s')} Mops/s, 64-byte events, two processes.", "",
        "The pipe pays two system calls per event; badbatch none under load. "
        "Under TCG every badbatch configuration with 64-byte events, the "
        "memory ring included, runs at about the same rate: the guest's own "
        "instructions per event are the limit, not the kernel "
        "(bench/FINDINGS.md).")
    bl = val(find("vm", "throughput", "badbatch-lto", "ops", topology="unicast",
                  ring="kernel", mode="proc", wait="block", size=64, batch=1, path="fast"))
    add("(also) cross-process blocking vs pipe (VM), linked with -flto", ">= 20x",
        bl / p if bl and p else None, 20.0, True,
        f"in the VM: /dev/badbatch BLOCK {fmt(bl, 'ops/s')} built and linked with "
        f"-flto vs pipe {fmt(p, 'ops/s')} Mops/s: under TCG each call and return "
        "costs a translation-block lookup, and inlining removes three per event.",
        "", "")
    shm = dict(topology="unicast", ring="shm", mode="proc", wait="block", size=64,
               batch=1, path="fast", handler="event")
    b = val(find("native", "throughput", "badbatch", "ops", coalesce="off", **shm))
    bt = val(find("native", "throughput", "badbatch", "ops", coalesce="off", trail="off",
                  **shm))
    bc = val(find("native", "throughput", "badbatch", "ops", coalesce=COALESCE, **shm))
    p = val(find("native", "throughput", "pipe", "ops", topology="unicast", mode="proc",
                 size=64, batch=1))
    add("cross-process blocking vs pipe (native)", ">= 20x", b / p if b and p else None,
        20.0, True, f"on this host, where the module cannot load: the same library "
        f"code on a ring in a shared mapping, BLOCK sleeping on futexes, "
        f"{fmt(b, 'ops/s')} vs pipe {fmt(p, 'ops/s')} Mops/s, 64-byte events, two "
        f"processes; with trailing off {fmt(bt, 'ops/s')} ({ratio(bt, p)}); with "
        f"a coalescing consumer ({COALESCE}) {fmt(bc, 'ops/s')} ({ratio(bc, p)}).", "",
        "A consumer that keeps up reads every slot line right after the producer "
        "wrote it: one cache-line transfer per event each way; the coalescing "
        "figure shows what leaving the producer alone is worth.")
    ow = find("native", "latency", "badbatch", "p50", kind="oneway", ring="mem",
              mode="thread", wait="spin", burst=1, coalesce="off")
    at = find("native", "latency", "atomic", "p50", kind="pingpong", mode="thread")
    if ow and at:
        half = val(at) / 2
        add("busy-spin one-way p50 vs half atomic RTT", "<= 1.5x",
            val(ow) / half, 1.5, False,
            f"native: one-way p50 {fmt(val(ow), 'ns')} vs half the atomic "
            f"round trip {fmt(half, 'ns')} (open loop, one event every 10 µs; "
            "the one-way figure includes two clock reads).", "",
            "An event crosses at least two cache lines (cursor, slot) and the "
            "consumer's advance a third, against one for the bare atomic.")
    else:
        add("busy-spin one-way p50 vs half atomic RTT", "<= 1.5x", None, None, False, "", "", "")
    idle = find("vm", "idle", "badbatch", "cpu", ring="kernel", mode="proc",
                wait="block", consumers=3)
    add("idle blocked consumers", "~0 CPU (< 0.5%)", val(idle), 0.5, False,
        "in the VM: %CPU of each of three idle consumers (a pipeline: two wait "
        "on consumers) asleep in BLOCK.", "", "")
    sc = find("vm", "throughput", "badbatch", "syscalls_per_event", topology="unicast",
              ring="kernel", mode="proc", wait="block", size=64, batch=1, path="fast")
    add("lite-blocking syscalls under load", "< 0.01 per event", val(sc), 0.01, False,
        "in the VM: (kernel wake calls + sleeps) / events over a sustained "
        "1P-1C run, from BB_IOC_STATS.", "", "")
    idle = find("native", "idle", "badbatch", "cpu", ring="shm", mode="proc",
                wait="block", consumers=3)
    add("(also) idle blocked consumers (native)", "~0 CPU (< 0.5%)", val(idle), 0.5,
        False, "natively, three consumer processes of a shared-memory ring asleep "
        "on its futexes.", "", "")
    sc = find("native", "throughput", "badbatch", "syscalls_per_event", coalesce="off",
              **shm)
    add("(also) lite-blocking syscalls under load (native)", "< 0.01 per event",
        val(sc), 0.01, False, "natively, the shared-memory ring across two "
        "processes: (futex wakes + waits) / events.", "", "")
    return rows


# ---- plots -------------------------------------------------------------------

def plots(lines):
    if not shutil.which("gnuplot"):
        lines += ["(gnuplot not installed: no plots)", ""]
        return
    made = []

    def dat(name, rows):
        path = os.path.join(OUT, name + ".dat")
        with open(path, "w") as f:
            for r in rows:
                f.write(" ".join(str(x) for x in r) + "\n")
        return path

    def gp(name, script):
        png = os.path.join(OUT, name + ".png")
        full = (f"set terminal png size 900,500\nset output '{png}'\n"
                "set grid ytics\nset key top right\n" + script)
        res = subprocess.run(["gnuplot"], input=full, text=True,
                             capture_output=True, check=False)
        if res.returncode == 0 and os.path.exists(png):
            made.append(name + ".png")

    mem = dict(ring="mem", mode="thread", size=8, slots=65536, path="fast", wait="yield",
               handler="event")
    java = dict(ring="java", mode="thread", size=8, slots=65536, path="fast", wait="yield")
    rows = []
    for t in ("unicast", "pipeline", "sequencer", "multicast", "diamond"):
        b = val(find("native", "throughput", "badbatch", "ops", topology=t, batch=1, **mem))
        l = val(find("native", "throughput", "lmax", "ops", topology=t, batch=1, **java))
        rows.append([t, (b or 0) / 1e6, (l or 0) / 1e6])
    d = dat("throughput", rows)
    gp("throughput", "set title 'Throughput by topology (native, yield, 8 B)'\n"
       "set ylabel 'Mops/s'\nset style data histograms\nset style fill solid 0.7\n"
       f"plot '{d}' using 2:xtic(1) title 'badbatch (memory ring)', '' using 3 title 'LMAX Disruptor'\n")

    rows = []
    for r in RESULTS:
        if (r["env"] == "native" and r["suite"] == "throughput" and
                r["implementation"] == "badbatch" and r["metric"] == "ops" and
                r["parameters"].get("topology") == "unicast" and
                r["parameters"].get("wait") == "yield" and
                r["parameters"].get("batch") == 1 and r["parameters"].get("size") == 8 and
                r["parameters"].get("handler", "event") == "event"):
            v = find("vm", "throughput", "badbatch", "ops", topology="unicast", ring="kernel",
                     mode="proc", wait="yield", size=8, batch=1,
                     slots=r["parameters"]["slots"])
            rows.append([r["parameters"]["slots"], r["value"] / 1e6,
                         (val(v) or 0) / 1e6])
    rows.sort()
    if rows:
        d = dat("rings", rows)
        gp("rings", "set title 'Ring size (unicast, yield, 8 B)'\nset logscale x 2\n"
           "set xlabel 'slots'\nset ylabel 'Mops/s'\n"
           f"plot '{d}' using 1:2 with linespoints title 'native memory ring', "
           f"'' using 1:3 with linespoints title 'VM kernel ring, processes'\n")

    rows = []
    for r in RESULTS:
        p = r["parameters"]
        if (r["env"] == "native" and r["suite"] == "throughput" and
                r["implementation"] == "badbatch" and r["metric"] == "ops" and
                p.get("topology") == "unicast" and p.get("wait") == "yield" and
                p.get("batch") == 1 and p.get("ring") == "mem" and
                p.get("handler", "event") == "event" and
                p.get("slots") == min(65536, 2 ** 24 // p.get("size", 8))):
            s = p["size"]
            l = val(find("native", "throughput", "lmax", "ops", topology="unicast",
                         wait="yield", batch=1, slots=p["slots"], size=s))
            m = val(find("native", "bandwidth", "memcpy", "bandwidth", size=s))
            rows.append([s, r["value"] * s / 1e9, (l or 0) * s / 1e9, m or 0])
    rows.sort()
    if rows:
        d = dat("sizes", rows)
        gp("sizes", "set title 'Event size (unicast, yield)'\nset logscale xy 2\n"
           "set xlabel 'bytes per event'\nset ylabel 'GB/s'\nset key top left\n"
           f"plot '{d}' using 1:2 with linespoints title 'badbatch', "
           f"'' using 1:3 with linespoints title 'LMAX', "
           f"'' using 1:4 with linespoints title 'memcpy'\n")

    rows = []
    for env, impl, p, label in LAT_ROWS:
        rr = [find(env, "latency", impl, m, **p) for m in ("p50", "p99", "p99.9")]
        if rr[0]:
            rows.append(['"' + label + '"'] + [val(x) or 0 for x in rr])
    if rows:
        d = dat("latency", rows)
        gp("latency", "set title 'Ping-pong round trip'\nset logscale y\n"
           "set ylabel 'ns'\nset style data histograms\nset style fill solid 0.7\n"
           "set xtics rotate by -30\nset key top left\n"
           f"plot '{d}' using 2:xtic(1) title 'p50', '' using 3 title 'p99', "
           f"'' using 4 title 'p99.9'\n")
    if made:
        lines += ["Plots: " + ", ".join(f"[{m}]({m})" for m in made), ""]
        lines += [f"![{m}]({m})" for m in made] + [""]


def coalescing_rows(mem, java):
    rows = []
    for co, trail, label in (("off", "off", "trailing off"),
                             ("off", "default", "the default: trailing 500 ns"),
                             (COALESCE, "default", f"coalescing {COALESCE}")):
        row = [label]
        for t in ("unicast", "pipeline"):
            for b in (1, 10):
                r = find("native", "throughput", "badbatch", "ops", topology=t,
                         wait="yield", batch=b,
                         **dict(mem, handler="event", coalesce=co, trail=trail))
                l = val(find("native", "throughput", "lmax", "ops", topology=t,
                             wait="yield", batch=b, **java))
                cell = fmt(val(r), "ops/s") + spread(r)
                if r and l:
                    cell += f" ({ratio(val(r), l)})"
                row.append(cell)
        for burst in (1, 10):
            for m in ("p50", "p99"):
                r = find("native", "latency", "badbatch", m, kind="oneway", ring="mem",
                         mode="thread", wait="yield", burst=burst, period_ns=10000,
                         coalesce=co, trail=trail)
                row.append(fmt(val(r), "ns"))
        rows.append(row)
    return rows


def queue_rows():
    """badbatch busy-spin 1P-1C next to ck, rte_ring and wfcq, per env and mode."""
    cols = (("vm", "proc"), ("vm", "thread"), ("native", "proc"), ("native", "thread"))
    spin = dict(topology="unicast", size=8, batch=1, path="fast", slots=65536)

    def bb(env, mode):
        ring = "kernel" if env == "vm" else "shm" if mode == "proc" else "mem"
        return find(env, "throughput", "badbatch", "ops", ring=ring, mode=mode,
                    wait="spin", handler="event", **spin)

    base = {c: val(bb(*c)) for c in cols}
    rows = [["badbatch"] + [fmt(val(bb(*c)), "ops/s") + spread(bb(*c)) for c in cols]]
    for impl, label in (("ck", "ck_ring"), ("dpdk", "rte_ring"), ("urcu", "urcu wfcq")):
        row = [label]
        for c in cols:
            r = find(c[0], "throughput", impl, "ops", mode=c[1], **spin)
            cell = fmt(val(r), "ops/s") + spread(r)
            if r and base[c]:
                cell += f" ({ratio(val(r), base[c])})"
            row.append(cell)
        rows.append(row)
    return rows


LAT_ROWS = [
    ("native", "atomic", dict(kind="pingpong", mode="thread"), "atomic (native)"),
    ("native", "badbatch", dict(kind="pingpong", ring="mem", mode="thread", wait="spin"),
     "badbatch mem spin (native)"),
    ("native", "lmax", dict(kind="pingpong", wait="spin"), "LMAX spin (native)"),
    ("native", "ck", dict(kind="pingpong", mode="thread"), "ck_ring (native)"),
    ("native", "dpdk", dict(kind="pingpong", mode="thread"), "rte_ring (native)"),
    ("native", "urcu", dict(kind="pingpong", mode="thread"), "urcu wfcq (native)"),
    ("native", "ck", dict(kind="pingpong", mode="proc"), "ck_ring procs (native)"),
    ("native", "dpdk", dict(kind="pingpong", mode="proc"), "rte_ring procs (native)"),
    ("native", "urcu", dict(kind="pingpong", mode="proc"), "urcu wfcq procs (native)"),
    ("native", "pipe", dict(kind="pingpong", mode="proc"), "pipe (native)"),
    ("native", "eventfd", dict(kind="pingpong", mode="proc"), "eventfd+shm (native)"),
    ("native", "socketpair", dict(kind="pingpong", mode="proc"), "socketpair (native)"),
    ("native", "mq", dict(kind="pingpong", mode="proc"), "POSIX mq (native)"),
    ("vm", "atomic", dict(kind="pingpong", mode="proc"), "atomic procs (VM)"),
    ("vm", "badbatch", dict(kind="pingpong", ring="kernel", mode="proc", wait="spin"),
     "badbatch kernel procs spin (VM)"),
    ("vm", "badbatch", dict(kind="pingpong", ring="kernel", mode="proc", wait="yield"),
     "badbatch kernel procs yield (VM)"),
    ("vm", "badbatch", dict(kind="pingpong", ring="kernel", mode="proc", wait="block"),
     "badbatch kernel procs block (VM)"),
    ("vm", "badbatch", dict(kind="pingpong", ring="kernel", mode="thread", wait="spin"),
     "badbatch kernel threads spin (VM)"),
    ("vm", "pipe", dict(kind="pingpong", mode="proc"), "pipe (VM)"),
    ("vm", "eventfd", dict(kind="pingpong", mode="proc"), "eventfd+shm (VM)"),
    ("vm", "socketpair", dict(kind="pingpong", mode="proc"), "socketpair (VM)"),
    ("vm", "mq", dict(kind="pingpong", mode="proc"), "POSIX mq (VM)"),
    ("vm", "ck", dict(kind="pingpong", mode="thread"), "ck_ring (VM)"),
    ("vm", "ck", dict(kind="pingpong", mode="proc"), "ck_ring procs (VM)"),
]
LAT_PEERS = {"lmax", "ck", "dpdk", "urcu", "pipe", "eventfd", "socketpair", "mq"}


# ---- the report ----------------------------------------------------------------

def ipc_table(env):
    """badbatch across processes and threads next to the IPC peers, 64-byte events."""
    rows = []
    pipe = val(find(env, "throughput", "pipe", "ops", mode="proc", size=64, batch=1))
    ipc = [val(find(env, "throughput", i, "ops", mode="proc", size=64, batch=1))
           for i in ("pipe", "socketpair", "mq", "eventfd")]
    ipc = [x for x in ipc if x]
    best = max(ipc) if ipc else None

    def xrow(label, r):
        rows.append([label, fmt(val(r), "ops/s") + spread(r), ratio(val(r), best),
                     ratio(val(r), pipe)])

    one = dict(topology="unicast", size=64, batch=1, path="fast")
    rings = ((("kernel", "proc"), "/dev/badbatch processes"),
             (("kernel", "thread"), "/dev/badbatch threads"),
             (("shm", "proc"), "shared-memory ring processes"),
             (("mem", "thread"), "memory ring threads"))
    for (ring, x), label in rings:
        for w in ("spin", "yield", "sleep", "block"):
            r = find(env, "throughput", "badbatch", "ops", ring=ring, mode=x, wait=w,
                     coalesce="off", **one)
            if r:
                xrow(f"badbatch {label} {w}", r)
    for (ring, x), label in rings:
        for w in ("spin", "block"):
            r = find(env, "throughput", "badbatch-lto", "ops", ring=ring, mode=x, wait=w,
                     coalesce="off", **one)
            if r:
                xrow(f"badbatch {label} {w}, linked with -flto", r)
    for (ring, x), label in rings:
        r = find(env, "throughput", "badbatch", "ops", ring=ring, mode=x, wait="block",
                 coalesce="off", trail="off", **one)
        if r:
            xrow(f"badbatch {label} block, trailing off", r)
    r = find(env, "throughput", "badbatch", "ops", ring="shm", mode="proc", wait="block",
             coalesce=COALESCE, **one)
    if r:
        xrow(f"badbatch shared-memory ring processes block, coalescing {COALESCE}", r)
    for p in ("ioctl", "rw"):
        for b in (1, 10):
            r = find(env, "throughput", "badbatch", "ops", topology="unicast",
                     ring="kernel", mode="proc", wait="block", size=64, batch=b, path=p)
            if r:
                xrow(f"badbatch processes block, {'BB_IOC_CLAIM/PUBLISH' if p == 'ioctl' else 'write()/read()'}"
                     f", batch {b}", r)
    for i in ("pipe", "socketpair", "mq", "eventfd"):
        r = find(env, "throughput", i, "ops", mode="proc", size=64, batch=1)
        if r:
            xrow(f"{i} processes (one syscall per event)", r)
    if env == "vm":
        return table("Cross-process and cross-thread, fast path and kernel-mediated "
                     "paths, 1P-1C, 64-byte events, in the VM (Mops/s)",
                     ["implementation", "Mops/s", "x best IPC peer", "x pipe"], rows)
    return table("Across processes natively, 1P-1C, 64-byte events (Mops/s)",
                 ["implementation", "Mops/s", "x best IPC peer", "x pipe"], rows,
                 "The module cannot load on this host: the shared-memory ring is "
                 "the library's memory ring in a MAP_SHARED mapping made before "
                 "fork(), running the same claim, publish and consume code as "
                 "/dev/badbatch rings, with futexes where they sleep in the module.")


def report():
    m = meta()
    L = ["# badbatch benchmark report", ""]
    L += [f"Mode **{m.get('mode', '?')}**, {m.get('reps', '?')} repetitions per figure "
          f"(median; ± is half the min-max spread), commit `{m.get('commit', '?')}`, "
          f"{m.get('start', '?')} to {m.get('end', '?')} ({m.get('seconds', '?')} s).", "",
          f"Machine: {m.get('ncpu', '?')} CPUs, {m.get('cpu', '?')}, kernel "
          f"{m.get('kernel', '?')}. Load average (1, 5, 15 min) at the start "
          f"{m.get('load_start', '?')}, after the native suites "
          f"{m.get('load_native_end', '?')}, at the end {m.get('load_end', '?')}.", "",
          "**native**: this machine, memory rings (`badbatch_memring_create`: the "
          "same protocol code on process memory; `badbatch_memring_create_shared` "
          "for processes) and every peer that runs here. "
          "**VM**: a qemu TCG guest (2 vCPUs, Debian 6.1) for everything that needs "
          "/dev/badbatch, with the IPC peers, queues and baselines run again in the "
          "same guest so ratios compare like with like. LMAX Disruptor runs natively "
          "only (a JVM under TCG measures the emulator), so its ratios use the "
          "native memory ring. Threads are pinned (producer CPU 0, consumer CPU 1, "
          "further stages round-robin), LMAX's producer and processor threads "
          "too; the JVM is confined to CPUs 0-1. "
          "Throughput in Mops/s; in each table a figure's ratio to the best peer "
          "in the row follows it in parentheses (for latency, lower is better).", ""]

    L += table("Targets", ["target", "goal", "measured", "result", "margin", "why"],
               targets())

    mem = dict(ring="mem", mode="thread", size=8, slots=65536, path="fast",
               coalesce="off")
    java = dict(ring="java", mode="thread", size=8, slots=65536, path="fast")
    q = dict(size=8, path="fast", mode="thread")
    configs = []
    for t in ("unicast", "pipeline", "sequencer", "multicast", "diamond"):
        for w, b in (("yield", 1), ("yield", 10)) + ((("spin", 1), ("spin", 10))
                                                     if t == "unicast" else ()):
            per = {"badbatch": dict(topology=t, wait=w, batch=b, handler="event", **mem),
                   "lmax": dict(topology=t, wait=w, batch=b, **java)}
            if t == "unicast" and w == "spin" and b == 1:
                for i in ("ck", "dpdk", "urcu"):
                    per[i] = dict(topology=t, batch=1, **q)
            configs.append((f"{t} {w} batch {b}", per))
            if t == "unicast" and w == "yield":
                configs.append((f"{t} {w} batch {b}, run handler",
                                {"badbatch": dict(topology=t, wait=w, batch=b,
                                                  handler="run", **mem),
                                 "lmax": dict(topology=t, wait=w, batch=b, **java)}))
    impls = ["badbatch", "lmax", "ck", "dpdk", "urcu"]
    L += table("Throughput by topology, native, threads (Mops/s)",
               ["configuration"] + impls,
               compare_rows("native", "throughput", "ops", "ops/s", configs, impls,
                            ["lmax", "ck", "dpdk", "urcu"]),
               "badbatch on a memory ring; LMAX Disruptor "
               f"{'3.4.4 (Debian libdisruptor-java)'}; ck/DPDK/urcu busy-poll 1P-1C only. "
               "Multi-consumer topologies put 4 threads on 2 CPUs, so they use "
               "yield (as LMAX's own perf tests do).")

    L += table("Trailing and coalescing consumers, native, memory ring, yield",
               ["consumer", "unicast batch 1", "unicast batch 10", "pipeline batch 1",
                "pipeline batch 10", "one-way p50", "one-way p99", "bursts of 10 p50",
                "bursts of 10 p99"],
               coalescing_rows(mem, java),
               "Trailing (trail_ns, on by default but for the busy spins): after a "
               "batch of 4 events or more a consumer lets 500 ns pass before it looks "
               f"again. Coalescing (min_batch/linger_ns {COALESCE}): while fewer than "
               f"{COALESCE.split('/')[0]} events are readable the consumer looks "
               f"again for up to {COALESCE.split('/')[1]} before it hands out what "
               "there is. Throughput in Mops/s with the ratio to LMAX (plain yield) "
               "run beside it; one-way latency of an open-loop sender, one event "
               "every 10 µs (every event waits out a linger, none is trailed), then "
               "bursts of 10 every 10 µs (events that come right after a batch may "
               "be trailed): the price.")

    for env in ("vm", "native"):
        L += ipc_table(env)

    L += table("Queues across processes and threads, 1P-1C busy-poll, 8-byte events "
               "(Mops/s)", ["implementation", "VM processes", "VM threads",
                            "native processes", "native threads"], queue_rows(),
               "The peers' queues, buffers and nodes sit in one shared mapping made "
               "before the fork. In each column the ratio is to badbatch: "
               "/dev/badbatch in the VM; natively, where the module cannot load, "
               "the memory ring, in a shared mapping for processes.")

    # Topologies in the VM across processes, with syscalls.
    rows = []
    for t in ("unicast", "pipeline", "sequencer", "multicast", "diamond"):
        row = [t]
        for w in ("yield", "block"):
            r = find("vm", "throughput", "badbatch", "ops", topology=t, ring="kernel",
                     mode="proc", wait=w, size=8, batch=1, path="fast")
            row.append(fmt(val(r), "ops/s") + spread(r))
        s = find("vm", "throughput", "badbatch", "syscalls_per_event", topology=t,
                 ring="kernel", mode="proc", wait="block", size=8, batch=1, path="fast")
        row.append(fmt(val(s)))
        rows.append(row)
    L += table("Topologies across processes on /dev/badbatch, in the VM (Mops/s)",
               ["topology", "yield", "block", "block: syscalls/event"], rows)

    # Latency.
    rows = []
    for env in ("native", "vm"):
        peers = [val(find(e, "latency", i, "p50", **p)) for e, i, p, _ in LAT_ROWS
                 if e == env and i in LAT_PEERS]
        peers = [x for x in peers if x]
        bestp = min(peers) if peers else None
        for e, impl, p, label in LAT_ROWS:
            if e != env:
                continue
            rr = [find(e, "latency", impl, mm, **p) for mm in ("p50", "p99", "p99.9", "max")]
            if rr[0] is None:
                continue
            rows.append([label] + [fmt(val(x), "ns") for x in rr] +
                        [ratio(val(rr[0]), bestp)])
    L += table("Ping-pong round trip (ns)", ["implementation", "p50", "p99", "p99.9",
                                             "max", "p50 x best peer"], rows)

    rows = []
    for r in RESULTS:
        p = r["parameters"]
        if r["suite"] in ("latency", "bursts", "wakeup") and p.get("kind") == "oneway" \
                and r["metric"] == "p50":
            rr = [find(r["env"], r["suite"], "badbatch", mm, **p)
                  for mm in ("p50", "p99", "p99.9", "max")]
            per = p.get("period_ns", 0)
            rows.append([r["env"], r["suite"], f"{p['ring']} {p['mode']}", p["wait"],
                         p.get("burst", 1),
                         "back to back" if not per else fmt(per, "ns")] +
                        [fmt(val(x), "ns") for x in rr])
    L += table("One-way latency with an open-loop sender, bursts, wakeups (ns)",
               ["env", "suite", "ring", "wait", "burst", "period", "p50", "p99",
                "p99.9", "max"], rows,
               "Each event carries its planned send time; latency is arrival minus plan, "
               "so a stall is charged to every event it delayed. With BLOCK and a period "
               "of 1 ms or more the consumer is asleep when a burst comes: the "
               "wakeup rows. Memory rings have no kernel: their BLOCK naps (SLEEP).")

    # Ring size and event size.
    rows = []
    for r in RESULTS:
        p = r["parameters"]
        if (r["suite"] == "throughput" and r["implementation"] == "badbatch" and
                r["metric"] == "ops" and p.get("topology") == "unicast" and
                p.get("wait") == "yield" and p.get("batch") == 1 and p.get("size") == 8
                and p.get("path") == "fast" and p.get("ring") in ("mem", "kernel")):
            l = find("native", "throughput", "lmax", "ops", topology="unicast",
                     wait="yield", batch=1, size=8, slots=p["slots"]) \
                if r["env"] == "native" else None
            rows.append([r["env"], f"{p['ring']} {p['mode']}", p["slots"],
                         fmt(r["value"], "ops/s") + spread(r),
                         fmt(val(l), "ops/s"), ratio(r["value"], val(l))])
    rows.sort(key=lambda x: (x[0], x[1], x[2]))
    L += table("Ring size, unicast yield 8 B (Mops/s)",
               ["env", "ring", "slots", "badbatch", "LMAX", "x LMAX"], rows)
    rows = []
    for r in RESULTS:
        p = r["parameters"]
        if (r["suite"] == "throughput" and r["implementation"] == "badbatch" and
                r["metric"] == "ops" and p.get("topology") == "unicast" and
                p.get("wait") == "yield" and p.get("batch") == 1 and
                p.get("slots") == min(65536, 2 ** 24 // p.get("size", 8)) and p.get("path") == "fast" and
                p.get("ring") in ("mem", "kernel") and p.get("mode") in ("thread", "proc")):
            s = p["size"]
            l = find(r["env"], "throughput", "lmax", "ops", topology="unicast",
                     wait="yield", batch=1, slots=p["slots"], size=s)
            mc = find(r["env"], "bandwidth", "memcpy", "bandwidth", size=s)
            gbs = r["value"] * s / 1e9
            rows.append([r["env"], f"{p['ring']} {p['mode']}", s, p["slots"],
                         fmt(r["value"], "ops/s") + spread(r), f"{gbs:.2f}",
                         fmt(val(l), "ops/s"), ratio(r["value"], val(l)),
                         fmt(val(mc)), ratio(gbs, val(mc))])
    rows.sort(key=lambda x: (x[0], x[1], x[2]))
    L += table("Event size, unicast yield (Mops/s, GB/s)",
               ["env", "ring", "bytes", "slots", "badbatch Mops/s", "badbatch GB/s", "LMAX Mops/s",
                "x LMAX", "memcpy GB/s", "x memcpy"], rows,
               "Producers fill the whole event (memcpy of size - 8 bytes after the "
               "sequence word); consumers read its first and last words. Rings hold "
               "at most 16 MiB of slots.")

    # Cost of waiting.
    rows = []
    for env, ring, x in (("native", "mem", "thread"), ("vm", "kernel", "proc")):
        for w in ("spin", "yield", "sleep", "block", "phased"):
            c1 = find(env, "idle", "badbatch", "cpu", ring=ring, mode=x, wait=w, consumers=1)
            c3 = find(env, "idle", "badbatch", "cpu", ring=ring, mode=x, wait=w, consumers=3)
            if c1 or c3:
                rows.append([env, f"{ring} {x}", w, fmt(val(c1)), fmt(val(c3))])
    L += table("Cost of waiting: CPU of one idle consumer (% of a CPU)",
               ["env", "ring", "wait", "1 consumer", "pipeline of 3 (mean)"], rows,
               "With 3 consumers on 2 CPUs a spinning consumer shares its CPU, so "
               "spin shows ~50-67%, not 100%. On memory rings BLOCK naps (no kernel).")
    rows = []
    for r in RESULTS:
        if r["metric"] == "syscalls_per_event":
            p = r["parameters"]
            rows.append([r["env"], p["topology"], f"{p['ring']} {p['mode']}", p["wait"],
                         p["size"], p["batch"], fmt(r["value"])])
    L += table("System calls per event under sustained load (kernel wakes + sleeps)",
               ["env", "topology", "ring", "wait", "bytes", "batch", "calls/event"], rows)

    prof = os.path.join(OUT, "profile.txt")
    if os.path.exists(prof):
        with open(prof) as f:
            L += ["### Where the time goes (perf, unicast)", "", "```", f.read().rstrip(),
                  "```", ""]

    plots(L)
    L += ["All results (median, repetitions, spread): `results.json`; raw repetitions: "
          "`raw-native.jsonl`, `raw-vm.jsonl`.", ""]
    with open(os.path.join(OUT, "report.md"), "w") as f:
        f.write("\n".join(L))


def main():
    global RESULTS
    RESULTS = aggregate(load())
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(RESULTS, f, indent=1)
    report()
    print(f"report: {len(RESULTS)} results -> {os.path.join(OUT, 'report.md')}")


if __name__ == "__main__":
    main()
