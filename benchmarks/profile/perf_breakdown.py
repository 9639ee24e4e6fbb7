#!/usr/bin/env python3
"""Where a server's CPU goes, by layer, from a `perf record -g` file.

Usage: benchmarks/profile/perf_breakdown.py perf.data
Reads `perf report --no-children --sort dso,sym` (self time per symbol) and
adds each symbol's share to the first layer whose pattern it matches.
"""

import re
import subprocess
import sys

# First match wins: the allocator and memmove before the crates that call them.
LAYERS = [
    ("kernel (TCP, syscalls, scheduler)", r"\[kernel|\[k\]"),
    ("allocator (malloc/free)", r"malloc|_int_free|cfree|free@|unlink_chunk|mi_|_mi_|tcache"),
    ("memmove/memcpy", r"mem(move|cpy|set)"),
    ("hashing (SipHash, hashbrown)", r"sip::|DefaultHasher|hash_one|hashbrown|BuildHasher"),
    ("our code (unauthorized)", r"unauthorized::"),
    ("serde_json", r"serde_json|serde::"),
    ("Rocket dispatch, catcher, fairings", r"rocket|state::|figment|indexmap"),
    ("hyper, h2, http", r"hyper|\bh2::|\bhttp::|httparse|http_body"),
    ("tokio runtime", r"tokio|mio::|futures_"),
    ("Go runtime and net/http", r"runtime\.|net/http|net\.|bufio|internal/|syscall\.|sync\.|encoding/"),
]


def main():
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        sys.exit("usage: benchmarks/profile/perf_breakdown.py PERF.DATA (from perf record -e cpu-clock -g)")
    report = subprocess.run(
        ["perf", "report", "-i", sys.argv[1], "--no-children", "--sort", "dso,sym",
         "--stdio", "-g", "none"],
        check=True, capture_output=True, text=True).stdout
    shares = {name: 0.0 for name, _ in LAYERS}
    other = 0.0
    for line in report.splitlines():
        found = re.match(r"\s*([\d.]+)%\s+(.*)", line)
        if found is None:
            continue
        share, symbol = float(found.group(1)), found.group(2)
        layer = next((name for name, pattern in LAYERS if re.search(pattern, symbol)), None)
        if layer is None:
            other += share
        else:
            shares[layer] += share
    for name, share in sorted(shares.items(), key=lambda item: -item[1]):
        print(f"{share:5.1f} %  {name}")
    print(f"{other:5.1f} %  other (libc, std, unresolved)")


if __name__ == "__main__":
    main()
