#!/usr/bin/env python3
"""plot.py: the plots of scripts/bench-peers, from its results.csv.

    plot.py RESULTS_CSV OUT_DIR

Writes OUT_DIR/peers-throughput.png (echo ping-pong req/s against the number
of connections, one line per server; beside it HTTP req/s when measured)
and OUT_DIR/peers-memory.png (memory per mostly idle connection against the
number of connections: the server's memory, RSS + page tables + kernel
stacks, and the fall of the system's free memory). Medians,
with the min..max of the runs as error bars. Needs matplotlib (Debian:
python3-matplotlib). A figure whose workloads are not in the CSV is not
written (the file is left as it was); exit 1 when nothing could be plotted.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

SERVERS = [
    ("libthr", "opencoro threads (LD_PRELOAD)", "tab:red", "o", "-"),
    ("libcoro", "opencoro coroutines (LD_PRELOAD)", "tab:orange", "s", "-"),
    ("native", "native threads", "tab:gray", "v", "--"),
    ("go", "Go goroutines", "tab:blue", "D", "-"),
    ("tokio", "tokio tasks", "tab:green", "^", "-"),
    ("epoll", "hand-written epoll", "black", "x", ":"),
]


def load(path):
    rows = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            key = (r["workload"], r["metric"], r["server"])
            rows.setdefault(key, []).append(
                (int(r["size"]), float(r["median"]), float(r["min"]), float(r["max"]))
            )
    return rows


def panel(ax, rows, workload, metric, title, ylabel, scale=1.0):
    drawn = False
    sizes = set()
    for key, name, color, marker, style in SERVERS:
        pts = sorted(rows.get((workload, metric, key), []))
        if not pts:
            continue
        xs = [p[0] for p in pts]
        sizes.update(xs)
        ys = [p[1] * scale for p in pts]
        lo = [(p[1] - p[2]) * scale for p in pts]
        hi = [(p[3] - p[1]) * scale for p in pts]
        ax.errorbar(xs, ys, yerr=[lo, hi], label=name, color=color, marker=marker,
                    linestyle=style, capsize=3)
        drawn = True
    if not drawn:
        ax.set_visible(False)
        return False
    ax.set_xscale("log")
    # ticks at the sizes measured, written out (10,000 rather than 10^4)
    ax.set_xticks(sorted(sizes))
    ax.set_xticklabels(["{:,}".format(x) for x in sorted(sizes)])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    lo, hi = min(sizes), max(sizes)
    ax.set_xlim(lo / 1.5, hi * 1.5)
    ax.set_xlabel("connections")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.grid(True, which="both", alpha=0.3)
    return True


def figure(rows, panels, out, suptitle):
    present = [p for p in panels if any(k[0] == p[0] and k[1] == p[1] for k in rows)]
    if not present:
        return False
    fig, axes = plt.subplots(1, len(present), figsize=(6.5 * len(present), 4.8), squeeze=False)
    for ax, p in zip(axes[0], present):
        panel(ax, rows, *p)
    # one legend for all panels, below them, with every server drawn anywhere
    seen = {}
    for ax in axes[0]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    order = [name for _, name, _, _, _ in SERVERS if name in seen]
    fig.legend([seen[n] for n in order], order, loc="lower center", ncol=min(len(order), 6), fontsize=9)
    fig.suptitle(suptitle)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return True


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    rows = load(sys.argv[1])
    out = sys.argv[2].rstrip("/")
    made = 0
    for name, panels, title in [
        ("peers-throughput.png", [
            ("echo", "req_per_s", "echo ping-pong, 64-byte messages", "round trips per second (thousands)", 1e-3),
            ("http", "req_per_s", "HTTP/1.1 keep-alive hello (wrk)", "requests per second (thousands)", 1e-3),
        ], "Throughput against connections (medians; bars: min..max)"),
        ("peers-memory.png", [
            ("idle", "mem_per_conn_kib", "server memory per idle connection\n(RSS + page tables + kernel stacks)",
             "KiB per connection"),
            ("idle", "sys_per_conn_kib", "system memory per idle connection\n(fall of free memory: sockets of both ends too)",
             "KiB per connection"),
        ], "Memory against connections (medians; bars: min..max)"),
    ]:
        if figure(rows, panels, out + "/" + name, title):
            made += 1
        else:
            print("plot.py: nothing to plot for %s (workload not run); left as it was" % name, file=sys.stderr)
    return 0 if made else 1


if __name__ == "__main__":
    sys.exit(main())
