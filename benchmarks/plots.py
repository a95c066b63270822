"""One figure with the benchmark's main numbers, drawn from ``results.json``'s record."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

COLOURS = {"mlpcore": "#0072B2", "plain NumPy": "#E69F00", "PyTorch CPU": "#009E73", "products only (floor)": "#BBBBBB"}


def plot_results(record: dict) -> Figure:
    tables = record["tables"]
    panels = [name for name in ("loops", "throughput", "memory") if name in tables and tables[name]["rows"]]
    fig = Figure(figsize=(5.5 * max(len(panels), 1), 4.2), layout="constrained")
    axes = fig.subplots(1, max(len(panels), 1), squeeze=False)[0]
    for ax, name in zip(axes, panels):
        {"loops": _loops, "throughput": _throughput, "memory": _memory}[name](ax, tables[name])
    if not panels:
        axes[0].text(0.5, 0.5, "no results", ha="center", va="center")
    fig.suptitle(f"mlpcore benchmarks on {record['machine']['cpu']} ({record['machine']['cores']} cores)")
    return fig


def _loops(ax, table):
    columns = table["columns"]
    rows = table["rows"]
    sizes = list(dict.fromkeys(r[1] for r in rows))
    operations = list(dict.fromkeys(r[0] for r in rows))
    width = 0.8 / len(operations)
    for i, operation in enumerate(operations):
        speedups = [next(r[columns.index("speedup vs Python")] for r in rows if r[0] == operation and r[1] == s) for s in sizes]
        ax.bar(np.arange(len(sizes)) + i * width, speedups, width, label=operation)
    ax.axhspan(40, 100, color="grey", alpha=0.2, label="the 40-100x claim")
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(sizes)) + width * (len(operations) - 1) / 2, sizes)
    ax.set_xlabel("batch x n_in x n_out")
    ax.set_ylabel("NumPy matrices vs pure-Python loops (x faster)")
    ax.set_title("loops vs matrices")
    ax.legend(fontsize=8)


def _throughput(ax, table):
    columns = table["columns"]
    rows = table["rows"]
    batches = [r[0] for r in rows]
    series = {"mlpcore": "mlpcore s", "plain NumPy": "plain NumPy s", "PyTorch CPU": "PyTorch CPU s",
              "products only (floor)": "products only s"}
    width = 0.8 / len(series)
    for i, (label, column) in enumerate(series.items()):
        values = [r[columns.index(column)] for r in rows]
        if all(v != v for v in values):  # not measured (NaN)
            continue
        ax.bar(np.arange(len(batches)) + i * width, values, width, label=label, color=COLOURS[label])
    ax.set_xticks(np.arange(len(batches)) + width * (len(series) - 1) / 2, [str(b) for b in batches])
    ax.set_xlabel("batch size")
    ax.set_ylabel("seconds per epoch (lower is better)")
    ax.set_title("training throughput")
    ax.legend(fontsize=8)


def _memory(ax, table):
    columns = table["columns"]
    rows = table["rows"]
    labels = [f"{r[0]}\nbatch {r[1]}" for r in rows]
    ax.bar(labels, [r[columns.index("ratio")] for r in rows], color=[COLOURS.get(r[0], "#999999") for r in rows])
    ax.axhline(1.5, color="#D55E00", linestyle="--", label="target: 1.5x")
    ax.set_ylabel("peak / (data + params + grads + batch)")
    ax.set_ylim(0, 2)
    ax.set_title("peak memory")
    ax.legend(fontsize=8)
