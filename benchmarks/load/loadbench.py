#!/usr/bin/env python3
"""Load benchmark: the service beside a bare hyper server and the Go tutorial.

Run from anywhere: `benchmarks/load/loadbench.py` (see --help). It builds the release
binary and the bare hyper baseline (benchmarks/src/bin/bare_hyper.rs) with cargo and the
Go peer (benchmarks/load/go_tutorial.go) with `go build`, then drives each server on a
loopback port with wrk, one wrk thread, at 32 and 256 connections. The servers
take turns round by round, each round starting every server afresh; each
measurement follows a warm-up on the same server. With two CPUs or more the
servers run on one CPU and wrk on another (taskset).

Per server and concurrency it prints the median over rounds of: requests/s,
p50 and p99 latency, CPU time per request (utime+stime of the server from
/proc/PID/stat, before and after the measurement), RSS after the load, bytes
per response, and the time from spawn to the first 401; then the ratios of the
service to the baseline and to Go. Python 3 standard library only.
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "target"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# The request every server answers, and how long to wait for a first answer.
REQUEST = b"GET /example HTTP/1.1\r\nHost: localhost\r\n\r\n"
START_TIMEOUT = 10.0


def main():
    options = parse_options()
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is missing: install it with `apt-get install wrk`")
    servers = build(options)
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, wrk_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)
    print(machine(), flush=True)
    placement = (f"servers on CPU {server_cpu}, wrk (1 thread) on CPU {wrk_cpu}"
                 if server_cpu is not None else
                 "one CPU: servers and wrk (1 thread) share it, unpinned")
    print(
        f"{placement}; {options.rounds} rounds; warm-up {options.warmup}s, "
        f"measure {options.duration}s; connections {options.connections}",
        flush=True,
    )
    print(f"load average before: {loadavg()}", flush=True)

    samples = {}  # (server, connections) -> list of per-round figures
    for round_number in range(options.rounds):
        # Rotate the order so that no server always goes first or last.
        shift = round_number % len(servers)
        for name, command, env in servers[shift:] + servers[:shift]:
            run_server(name, pinned(server_cpu, command), env,
                       pinned(wrk_cpu, [wrk]), options, samples)
        print(f"round {round_number + 1}/{options.rounds} done, "
              f"load average {loadavg()}", flush=True)

    print(f"load average after: {loadavg()}", flush=True)
    report([name for name, _, _ in servers], options.connections, samples)


def parse_options():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds, each server once per round (default 5)")
    parser.add_argument("--warmup", type=int, default=2,
                        help="seconds of load before each measurement (default 2)")
    parser.add_argument("--duration", type=int, default=10,
                        help="seconds of each measurement (default 10)")
    parser.add_argument("--connections", type=int, nargs="+", default=[32, 256],
                        help="wrk's connection counts (default 32 256)")
    parser.add_argument("--no-build", action="store_true",
                        help="use the binaries built by an earlier run")
    parser.add_argument(
        "--also", action="append", default=[], metavar="NAME=PATH",
        help="another build of the service to run like it, for A/B tuning")
    parser.add_argument(
        "--variant", action="append", default=[], metavar="NAME=VAR=VALUE",
        help="the service's build again, with VAR=VALUE added to its "
             "environment (e.g. logged=ROCKET_LOG_LEVEL=normal); repeat a "
             "NAME to add several variables")
    options = parser.parse_args()
    if not 1 <= options.rounds <= 50 or not 1 <= options.duration <= 600:
        parser.error("rounds must be 1..50 and duration 1..600 seconds")
    if not 1 <= options.warmup <= 60:
        parser.error("warmup must be 1..60 seconds")
    if not all(1 <= count <= 10000 for count in options.connections):
        parser.error("connections must be 1..10000")
    return options


def build(options):
    """Builds the servers; returns (name, command, environment) for each."""
    if not options.no_build:
        run(["cargo", "build", "--release", "--locked",
             "--bin", "unauthorized", "--bin", "bare_hyper"])
    release = TARGET / "release"
    # No drain: each round stops the service with SIGTERM.
    ours_env = {"ROCKET_PROFILE": "release", "ROCKET_ADDRESS": "127.0.0.1",
                "ROCKET_DRAIN": "0"}
    servers = [("ours", [str(release / "unauthorized")], ours_env)]
    variants = {}
    for variant in options.variant:
        name, _, assignment = variant.partition("=")
        var, equals, value = assignment.partition("=")
        if not name or not var or not equals:
            sys.exit(f"--variant {variant!r} is not NAME=VAR=VALUE")
        variants.setdefault(name, dict(ours_env))[var] = value
    for name, env in variants.items():
        servers.append((name, [str(release / "unauthorized")], env))
    for also in options.also:
        name, _, path = also.partition("=")
        servers.append((name, [str(Path(path).resolve())], ours_env))
    servers.append(("hyper", [str(release / "bare_hyper")], {}))
    go_binary = TARGET / "go_tutorial"
    if shutil.which("go") is None:
        print("go is missing: install it with `apt-get install golang-go`; "
              "running without the Go peer", flush=True)
    else:
        if not options.no_build:
            run(["go", "build", "-o", str(go_binary), "go_tutorial.go"],
                cwd=Path(__file__).resolve().parent)
        servers.append(("go", [str(go_binary)], {}))
    return servers


def pinned(cpu, command):
    """`command` run on `cpu` alone, or anywhere when `cpu` is None."""
    return command if cpu is None else ["taskset", "-c", str(cpu)] + command


def run_server(name, command, env, wrk_command, options, samples):
    """Starts one server, measures it at each concurrency, and stops it."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    if env:  # a build of the service, configured like the release
        env = dict(env, ROCKET_PORT=str(port))
        argv = command
    else:
        argv = command + [address]
    spawned = time.monotonic()
    process = subprocess.Popen(argv, cwd=ROOT, env=dict(os.environ, **env),
                               stdout=subprocess.DEVNULL)
    try:
        response = first_response(port, process)
        startup = time.monotonic() - spawned
        url = f"http://{address}/example"
        for connections in options.connections:
            load = wrk_command + ["-t1", f"-c{connections}", "--latency", url]
            run_wrk(load, options.warmup)
            before = cpu_seconds(process.pid)
            result = run_wrk(load, options.duration)
            cpu = cpu_seconds(process.pid) - before
            figures = {
                "requests/s": result["requests"] / result["seconds"],
                "p50 ms": result["p50"],
                "p99 ms": result["p99"],
                "CPU µs/req": cpu / result["requests"] * 1e6,
                "RSS MiB": rss_bytes(process.pid) / 2**20,
                "bytes/resp": len(response),
                "start ms": startup * 1e3,
            }
            samples.setdefault((name, connections), []).append(figures)
    finally:
        process.terminate()
        process.wait(timeout=30)


def first_response(port, process):
    """Polls until the server answers 401; returns the response's bytes."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited with {process.returncode} before answering")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(REQUEST)
                response = read_response(conn)
        except OSError:
            time.sleep(0.001)
            continue
        if not response.startswith(b"HTTP/1.1 401 "):
            sys.exit(f"expected a 401, got {response[:40]!r}")
        return response
    sys.exit(f"no answer on port {port} within {START_TIMEOUT}s")


def read_response(conn):
    """One HTTP/1.1 response with a Content-Length, head and body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the end of the head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    want = int(length.group(1)) if length else 0
    while len(body) < want:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the end of the body")
        body += chunk
    return head + b"\r\n\r\n" + body


def run_wrk(command, seconds):
    """Runs wrk for `seconds`; returns requests, seconds, p50 and p99 (ms)."""
    output = subprocess.run(command + [f"-d{seconds}s"], check=True,
                            capture_output=True, text=True,
                            timeout=seconds + 60).stdout
    done = re.search(r"(\d+) requests in ([\d.]+)(m?s)", output)
    if done is None:
        sys.exit(f"unexpected wrk output:\n{output}")
    if "Socket errors" in output:
        print("  wrk: " + re.search(r"Socket errors.*", output).group(0), flush=True)
    duration = float(done.group(2)) / (1000 if done.group(3) == "ms" else 1)
    return {
        "requests": int(done.group(1)),
        "seconds": duration,
        "p50": percentile(output, "50"),
        "p99": percentile(output, "99"),
    }


def percentile(output, which):
    found = re.search(rf"^\s*{which}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    if found is None:
        sys.exit(f"no {which}% latency in wrk output:\n{output}")
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[found.group(2)]
    return float(found.group(1)) * scale


def cpu_seconds(pid):
    """utime + stime of the process, all threads, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid):
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def report(names, connections, samples):
    columns = ["requests/s", "p50 ms", "p99 ms", "CPU µs/req", "RSS MiB",
               "bytes/resp", "start ms"]
    medians = {
        key: {column: statistics.median(s[column] for s in rounds)
              for column in columns}
        for key, rounds in samples.items()
    }
    print()
    print("| server | conns | " + " | ".join(columns) + " |")
    print("| --- | ---: |" + " ---: |" * len(columns))
    for count in connections:
        for name in names:
            figures = medians[(name, count)]
            cells = " | ".join(number(figures[column]) for column in columns)
            print(f"| {name} | {count} | {cells} |")
    print()
    print("Ratios of medians (ours / peer): requests/s, p99, CPU per request, RSS")
    print()
    print("| ours / | conns | requests/s | p99 | CPU/req | RSS |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for peer in [name for name in names if name != "ours"]:
        for count in connections:
            ours, theirs = medians[("ours", count)], medians[(peer, count)]
            ratios = [ours[c] / theirs[c] for c in
                      ["requests/s", "p99 ms", "CPU µs/req", "RSS MiB"]]
            cells = " | ".join(f"{r:.2f}x" for r in ratios)
            print(f"| {peer} | {count} | {cells} |")


def number(value):
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value < 10 else f"{value:.1f}"


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as cpuinfo:
        found = re.search(r"^model name\s*:\s*(.*)$", cpuinfo.read(), re.M)
        if found:
            model = found.group(1)
    return f"machine: {model}, {os.cpu_count()} CPUs, {os.uname().release}"


def loadavg():
    with open("/proc/loadavg") as load:
        return " ".join(load.read().split()[:3])


def run(command, cwd=ROOT):
    print("$ " + " ".join(command), flush=True)
    subprocess.run(command, cwd=cwd, check=True)


if __name__ == "__main__":
    main()
