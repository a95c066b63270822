"""Run the benchmarks: ``python -m benchmarks [--quick] [--sections ...] [--out DIR]`` (``make bench``).

Prints each table, then writes ``results.json`` (the machine, the tables) and
``benchmarks.png`` (the main numbers as charts) into the output folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import common, gpu, loops, memory, similarity, throughput

SECTIONS = ("loops", "throughput", "memory", "gpu", "similarity")
DEFAULT_OUT = Path(__file__).resolve().parent / "out"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that everything runs (seconds, not minutes)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds per measurement (default 3)")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats should be at least 1, got {args.repeats}")

    started = time.perf_counter()
    record = {"machine": common.machine(), "command": "python -m benchmarks " + " ".join(argv or sys.argv[1:]),
              "quick": args.quick, "tables": {}}
    print(_describe(record["machine"]))
    if "throughput" in args.sections:
        record["gemm_peak_gflops"] = common.gemm_peak_gflops(repeats=2 if args.quick else 5,
                                                             sizes=(512,) if args.quick else (1024, 2048, 3072))
        print(f"measured float32 GEMM peak: {record['gemm_peak_gflops']:.0f} GFLOP/s\n")
    runners = {
        "loops": lambda: loops.run(quick=args.quick, repeats=args.repeats),
        "throughput": lambda: throughput.run(quick=args.quick, repeats=args.repeats, peak_gflops=record["gemm_peak_gflops"]),
        "memory": lambda: memory.run(quick=args.quick),
        "gpu": lambda: gpu.run(quick=args.quick),
        "similarity": lambda: similarity.run(quick=args.quick),
    }
    for name in args.sections:
        table = runners[name]()
        record["tables"][name] = table.as_dict()
        print(table.render(), end="\n\n", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(record, indent=2))
    from .plots import plot_results

    plot_results(record).savefig(args.out / "benchmarks.png", dpi=110)
    print(f"wrote {args.out / 'results.json'} and {args.out / 'benchmarks.png'} "
          f"in {time.perf_counter() - started:.0f} s")
    return 0


def _describe(machine: dict) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v)
    return (f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['system']}\n"
            f"BLAS: {machine['blas']}; {versions}\n")


if __name__ == "__main__":
    sys.exit(main())
