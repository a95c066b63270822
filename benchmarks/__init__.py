"""Speed and memory measurements of mlpcore (``make bench``; ``python -m benchmarks --help``).

Each section returns a :class:`Table`; ``__main__`` prints them, writes them
to ``benchmarks/out/results.json`` and draws ``benchmarks/out/benchmarks.png``.
Nothing here asserts a time: the numbers are recorded with the machine in
``benchmarks/RESULTS.md``.
"""
