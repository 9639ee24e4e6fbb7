#!/usr/bin/env python3
"""Load benchmark: the service beside a bare hyper server and the Go tutorial.

Run from anywhere: `benchmarks/load/loadbench.py` (see --help). It builds the release
binary and the bare hyper baseline (benchmarks/src/bin/bare_hyper.rs) with cargo and the
Go peer (benchmarks/load/go_tutorial.go) with `go build`, then drives each server on a
loopback port with wrk, one wrk thread, at 32 and 256 connections. The servers
take turns round by round, each round starting every server afresh; each
measurement follows a warm-up on the same server. With two CPUs or more the
servers run on one CPU and wrk on another (taskset).

Two floods, each a scenario: `401`, every request to /example (the refusal
the service exists for), and `404`, every request to a path that names
nothing (/wp-login.php, what scanners send). The bare hyper baseline answers
every path with the 401, so it takes part in the 401 flood only.

Per server, flood and concurrency it prints the median over rounds of:
requests/s, p50 and p99 latency, CPU time per request (utime+stime of the
server from /proc/PID/stat, before and after the measurement), RSS after the
load, bytes per response, the time from spawn to the first 401, and the
share of requests whose log line the service dropped (its
unauthorized_log_lines_dropped_total before and after, from /metrics); then the
ratios of the service to the baseline and to Go, and of its 404 to its 401.

With --count N it runs no wrk: for each build of the service and each flood
it sends N requests one after another on one keep-alive connection, and
prints the system calls per request of the whole server process (strace -f
-c, attached after a warm-up) and the instructions per request it executes
(valgrind's callgrind, instrumenting only while the N requests run):
counts, which other work on the machine does not blur.

With --verifier it runs rocket-bearer's verifier instead: the
`resource_server` example (release build), its keys static (a JWKS file,
ROCKET_BEARER_JWKS_FILE, beside ISSUER and AUDIENCE), and tokens minted
each round by `mint_tokens` (benchmarks/src/bin/mint_tokens.rs), which also
times the ES256 signature check alone on the server's CPU. Three floods of
`GET /me`: `401` without a token, `cached` with one valid token again and
again (hits in the cache of verified tokens), `first-seen` with --tokens
distinct valid tokens in turn (benchmarks/load/tokens.lua; more than the
cache holds, so each one misses and its signature is checked); in these
two, any answer but a 200 ends the run. wrk runs on
the server's CPU (--client-cpu): on another CPU, a server answering every
100 µs finds wrk asleep and pays a cross-CPU wake-up for each answer, which
the 401 flood, where wrk stays busy, mostly does not. It prints
the same figures, then each flood against the 401 and the targets of issue
18: a cached token at most 1.5x the 401's CPU, a first-seen one at most
the signature check plus the 401, plus 10 %.

With --beyond-bearer it runs the same example against the real test
authorization server instead of static keys: panva's oidc-provider
(rocket-bearer/tests/issuer/issuer.mjs, started with node on a free port,
on the other CPU), the example configured with ISSUER (its URL), AUDIENCE
and the introspection client `resource-server`. Each round gets fresh
tokens from the issuer's token endpoint, times a DPoP proof's ES256
signature check on the server's CPU (`mint_proofs time`,
benchmarks/src/bin/mint_proofs.rs), then runs four floods of `GET /me`,
each on an example started afresh, their order rotating round by round:
`bearer`, one JWT of `reader` again and again (cached by the verifier);
`dpop`, one DPoP-bound JWT of `reader` with a fresh proof for every request
(benchmarks/load/proofs.lua: each proof sent once; proofs minted right
before each warm-up and measurement, iat now, as many as the best bearer
rate so far allows with a margin, bounded; wrk stops with an error if they
run out); `introspected-cached`, one opaque token of `opaque-reader`,
introspected once and then answered from the cache (max age 60 s, the
default); `introspected-uncached`, the same with
ROCKET_BEARER_INTROSPECTION_MAX_AGE=0, an introspection call to the issuer
for every request. wrk runs on the server's CPU, as with --verifier. Any
answer but a 200 ends the run. It prints the medians of requests/s, p50 and
p99, the server's CPU per request, the issuer's (node's, from its
/proc/PID/stat) per request and its busy share of a CPU, and the ratios to
the bearer flood; dpop - bearer is the proof's cost, set beside the
signature check. It needs node and `npm ci --prefix
rocket-bearer/tests/issuer`; --warmup and --duration at most 30 s (a proof
is accepted within 60 s of its iat).

Python 3 standard library only.
"""

import argparse
import base64
import json
import math
import os
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "target"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# The request every server answers, and how long to wait for a first answer.
REQUEST = b"GET /example HTTP/1.1\r\nHost: localhost\r\n\r\n"
START_TIMEOUT = 10.0
# The floods: the path every request asks for, and the status it must get.
SCENARIOS = {"401": ("/example", 401), "404": ("/wp-login.php", 404)}
# Requests on the connection before the counting starts.
COUNT_WARMUP = 200
# --verifier: the example's configuration (no issuer is contacted: the keys
# are static) and its floods, the path each request asks for.
VERIFIER_ISSUER = "http://127.0.0.1:9"
VERIFIER_AUDIENCE = "http://127.0.0.1:8000/"
VERIFIER_PATH = "/me"
VERIFIER_FLOODS = ["401", "cached", "first-seen"]
# The body of a 200 to GET /me with one of mint_tokens' tokens.
VERIFIER_ANSWER = b'\r\n\r\n{"client_id":"reader","sub":"reader"}'
TOKENS_SCRIPT = Path(__file__).resolve().parent / "tokens.lua"
# --beyond-bearer: the example against the test authorization server
# (oidc-provider, rocket-bearer/tests/issuer/), its floods (the first
# round's order), and how long the issuer may take to start.
BEYOND_FLOODS = ["bearer", "dpop", "introspected-cached",
                 "introspected-uncached"]
ISSUER_SCRIPT = ROOT / "rocket-bearer" / "tests" / "issuer" / "issuer.mjs"
ISSUER_START_TIMEOUT = 20.0
PROOFS_SCRIPT = Path(__file__).resolve().parent / "proofs.lua"
# Clients of the issuer (id, secret): the resource server's own, for
# introspection; one whose tokens are JWTs; one whose tokens are opaque.
INTROSPECTION_CLIENT = ("resource-server", "resource-server-secret")
JWT_CLIENT = ("reader", "reader-secret")
OPAQUE_CLIENT = ("opaque-reader", "opaque-reader-secret")
# The body of the 200 each flood gets: its token's sub and client_id (an
# opaque token's introspection has no sub).
BEYOND_ANSWERS = {
    "bearer": b'{"client_id":"reader","sub":"reader"}',
    "dpop": b'{"client_id":"reader","sub":"reader"}',
    "introspected-cached": b'{"client_id":"opaque-reader","sub":null}',
    "introspected-uncached": b'{"client_id":"opaque-reader","sub":null}',
}
# Proofs minted for a dpop flood (warm-up or measurement): the bearer
# flood's best rate so far over its seconds times this, plus one per
# connection; at most MOST_PROOFS (about 1 KiB of wrk's memory each).
PROOF_MARGIN = 1.25
MOST_PROOFS = 600_000
# The server takes a proof whose iat is within 60 s of its clock: the
# longest warm-up or measurement of a dpop flood, its proofs minted first.
LONGEST_DPOP_FLOOD = 30


def main():
    options = parse_options()
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is missing: install it with `apt-get install wrk`")
    if options.verifier:
        verifier(wrk, options)
        return
    if options.beyond_bearer:
        beyond_bearer(wrk, options)
        return
    servers = build(options)
    if options.count:
        count(servers, options)
        return
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, wrk_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)
    print(machine(), flush=True)
    placement = (f"servers on CPU {server_cpu}, wrk (1 thread) on CPU {wrk_cpu}"
                 if server_cpu is not None else
                 "one CPU: servers and wrk (1 thread) share it, unpinned")
    print(
        f"{placement}; {options.rounds} rounds; warm-up {options.warmup}s, "
        f"measure {options.duration}s; connections {options.connections}; "
        f"floods {options.floods}",
        flush=True,
    )
    print(f"load average before: {loadavg()}", flush=True)

    samples = {}  # (server, flood, connections) -> list of per-round figures
    for round_number in range(options.rounds):
        # Rotate the order so that no server always goes first or last.
        shift = round_number % len(servers)
        for name, command, env, floods in servers[shift:] + servers[:shift]:
            floods = [flood for flood in options.floods if flood in floods]
            run_server(name, pinned(server_cpu, command), env, floods,
                       pinned(wrk_cpu, [wrk]), options, samples)
        print(f"round {round_number + 1}/{options.rounds} done, "
              f"load average {loadavg()}", flush=True)

    print(f"load average after: {loadavg()}", flush=True)
    report([name for name, _, _, _ in servers], options, samples)


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
    parser.add_argument("--floods", nargs="+", choices=list(SCENARIOS),
                        default=list(SCENARIOS),
                        help="401: requests to /example; 404: requests to a "
                             "path that names nothing (default both)")
    parser.add_argument("--count", type=int, default=0, metavar="N",
                        help="instead of wrk: system calls (strace) and "
                             "instructions (callgrind) per request over N "
                             "requests on one connection, per flood")
    parser.add_argument(
        "--verifier", action="store_true",
        help="instead of the service and its peers: rocket-bearer's "
             "resource_server example, floods 401, cached and first-seen")
    parser.add_argument(
        "--beyond-bearer", action="store_true",
        help="instead of the service and its peers: rocket-bearer's "
             "resource_server example against the test authorization server "
             "(node), floods bearer, dpop, introspected-cached and "
             "introspected-uncached (warm-up and duration at most "
             f"{LONGEST_DPOP_FLOOD}s: the proofs' iat window)")
    parser.add_argument(
        "--client-cpu", choices=["same", "other"], default="same",
        help="--verifier: wrk on the server's CPU (default), or on another "
             "one as for the service; on another, each answer to a slow "
             "request wakes a sleeping wrk across CPUs, a cost of the "
             "loopback client that the 401 flood mostly avoids "
             "(BENCHMARKS.md)")
    parser.add_argument(
        "--tokens", type=int, default=16384,
        help="--verifier: distinct tokens of the first-seen flood, more than "
             "the cache of verified tokens holds (4096) (default 16384)")
    parser.add_argument("--no-build", action="store_true",
                        help="use the binaries built by an earlier run")
    parser.add_argument(
        "--also", action="append", default=[], metavar="NAME=PATH",
        help="another build of the service (with --verifier: of the "
             "resource_server example) to run like it, for A/B tuning")
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
    if not 0 <= options.count <= 1_000_000:
        parser.error("count must be 0..1000000")
    if not 2 <= options.tokens <= 1_000_000:
        parser.error("tokens must be 2..1000000")
    if options.verifier and (options.count or options.variant):
        parser.error("--verifier takes neither --count nor --variant")
    if options.beyond_bearer:
        if options.verifier or options.count or options.variant or options.also:
            parser.error("--beyond-bearer takes none of --verifier, --count, "
                         "--variant and --also")
        if options.client_cpu != "same":
            parser.error("--beyond-bearer runs wrk on the server's CPU and "
                         "the issuer on another one")
        if max(options.warmup, options.duration) > LONGEST_DPOP_FLOOD:
            parser.error(f"--beyond-bearer: warmup and duration at most "
                         f"{LONGEST_DPOP_FLOOD}s (a proof's iat is checked "
                         f"within 60 s)")
    return options


def build(options):
    """Builds the servers; returns (name, command, environment, floods) for
    each; the environment is empty for the peers."""
    if not options.no_build:
        run(["cargo", "build", "--release", "--locked", "-p", "unauthorized",
             "-p", "benchmarks", "--bin", "unauthorized", "--bin", "bare_hyper"])
    release = TARGET / "release"
    # No drain: each round stops the service with SIGTERM.
    ours_env = {"ROCKET_PROFILE": "release", "ROCKET_ADDRESS": "127.0.0.1",
                "ROCKET_DRAIN": "0"}
    every = list(SCENARIOS)
    servers = [("ours", [str(release / "unauthorized")], ours_env, every)]
    variants = {}
    for variant in options.variant:
        name, _, assignment = variant.partition("=")
        var, equals, value = assignment.partition("=")
        if not name or not var or not equals:
            sys.exit(f"--variant {variant!r} is not NAME=VAR=VALUE")
        variants.setdefault(name, dict(ours_env))[var] = value
    for name, env in variants.items():
        servers.append((name, [str(release / "unauthorized")], env, every))
    for also in options.also:
        name, _, path = also.partition("=")
        servers.append((name, [str(Path(path).resolve())], ours_env, every))
    # It answers every path with the 401.
    servers.append(("hyper", [str(release / "bare_hyper")], {}, ["401"]))
    go_binary = TARGET / "go_tutorial"
    if shutil.which("go") is None:
        print("go is missing: install it with `apt-get install golang-go`; "
              "running without the Go peer", flush=True)
    else:
        if not options.no_build:
            run(["go", "build", "-o", str(go_binary), "go_tutorial.go"],
                cwd=Path(__file__).resolve().parent)
        servers.append(("go", [str(go_binary)], {}, every))
    return servers


def pinned(cpu, command):
    """`command` run on `cpu` alone, or anywhere when `cpu` is None."""
    return command if cpu is None else ["taskset", "-c", str(cpu)] + command


def spawn(command, env, port):
    """Starts a server on `port`: a build of the service (configured like
    the release by `env`) or a peer (given the address)."""
    if env:
        env = dict(env, ROCKET_PORT=str(port))
        argv = command
    else:
        argv = command + [f"127.0.0.1:{port}"]
    return subprocess.Popen(argv, cwd=ROOT, env=dict(os.environ, **env),
                            stdout=subprocess.DEVNULL)


def run_server(name, command, env, floods, wrk_command, options, samples):
    """Starts one server, measures each flood at each concurrency, and
    stops it."""
    port = free_port()
    spawned = time.monotonic()
    process = spawn(command, env, port)
    try:
        first_response(port, process)
        startup = time.monotonic() - spawned
        for flood in floods:
            path, status = SCENARIOS[flood]
            with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                response = exchange(conn, path, status)
            url = f"http://127.0.0.1:{port}{path}"
            for connections in options.connections:
                load = wrk_command + ["-t1", f"-c{connections}", "--latency", url]
                run_wrk(load, options.warmup)
                dropped_before = dropped_lines(port, env)
                before = cpu_seconds(process.pid)
                result = run_wrk(load, options.duration)
                cpu = cpu_seconds(process.pid) - before
                dropped = dropped_lines(port, env)
                if dropped is not None and dropped_before is not None:
                    dropped = (dropped - dropped_before) / result["requests"] * 100
                figures = {
                    "requests/s": result["requests"] / result["seconds"],
                    "p50 ms": result["p50"],
                    "p99 ms": result["p99"],
                    "CPU µs/req": cpu / result["requests"] * 1e6,
                    "RSS MiB": rss_bytes(process.pid) / 2**20,
                    "bytes/resp": len(response),
                    "start ms": startup * 1e3,
                    "dropped %": dropped,
                }
                samples.setdefault((name, flood, connections), []).append(figures)
    finally:
        process.terminate()
        process.wait(timeout=30)


def dropped_lines(port, env):
    """The service's count of log lines dropped so far, from /metrics (a
    line the benchmark does not write to stdout is no cost measured); None
    for the peers and for builds without that metric."""
    if not env:
        return None
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        body = read_response(conn).decode()
    found = re.search(r"^unauthorized_log_lines_dropped_total (\S+)$", body, re.M)
    return float(found.group(1)) if found else None


def exchange(conn, path, status, headers=""):
    """Sends one keep-alive GET of `path` on `conn`, with `headers` (lines
    ending in CRLF); the response, which must have `status`."""
    conn.sendall(
        f"GET {path} HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n".encode())
    response = read_response(conn)
    if not response.startswith(f"HTTP/1.1 {status} ".encode()):
        sys.exit(f"GET {path}: expected {status}, got {response[:40]!r}")
    return response


def build_example_and(minter):
    """Builds the resource_server example and the benchmarks' `minter` bin
    (mint_tokens or mint_proofs), both release."""
    run(["cargo", "build", "--release", "--locked", "-p", "rocket-bearer",
         "--features", "verify", "--example", "resource_server"])
    run(["cargo", "build", "--release", "--locked", "-p", "benchmarks",
         "--bin", minter])


def verifier(wrk, options):
    """--verifier: the resource_server example under the 401, cached and
    first-seen floods, round after round, then its figures and targets."""
    if not options.no_build:
        build_example_and("mint_tokens")
    release = TARGET / "release"
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, wrk_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)
    if options.client_cpu == "same":
        wrk_cpu = server_cpu
    keys = TARGET / "loadbench-verifier"
    keys.mkdir(exist_ok=True)
    tokens = keys / "tokens.txt"
    env = {"ISSUER": VERIFIER_ISSUER, "AUDIENCE": VERIFIER_AUDIENCE,
           "ROCKET_BEARER_JWKS_FILE": str(keys / "jwks.json"),
           "ROCKET_ADDRESS": "127.0.0.1", "ROCKET_LOG_LEVEL": "off"}
    servers = [("ours", pinned(server_cpu, [str(release / "examples" / "resource_server")]))]
    for also in options.also:
        name, _, path = also.partition("=")
        servers.append((name, pinned(server_cpu, [str(Path(path).resolve())])))
    wrk_command = pinned(wrk_cpu, [wrk])

    print(machine(), flush=True)
    placement = ("one CPU: server and wrk (1 thread) share it, unpinned"
                 if server_cpu is None else
                 f"server and wrk (1 thread) both on CPU {server_cpu}"
                 if server_cpu == wrk_cpu else
                 f"server on CPU {server_cpu}, wrk (1 thread) on CPU {wrk_cpu}")
    print(f"{placement}; {options.rounds} rounds; warm-up {options.warmup}s, "
          f"measure {options.duration}s; connections {options.connections}; "
          f"{options.tokens} first-seen tokens", flush=True)
    print(f"load average before: {loadavg()}", flush=True)
    samples = {}
    signatures = []
    for round_number in range(options.rounds):
        # A new key and new tokens each round, minted on the server's CPU,
        # which also times the signature check there: the floor the
        # first-seen flood is held to, taken each round like the rest.
        minted = subprocess.run(
            pinned(server_cpu, [str(release / "mint_tokens"), str(keys),
                                str(options.tokens), VERIFIER_ISSUER,
                                VERIFIER_AUDIENCE]),
            check=True, capture_output=True, text=True, timeout=300).stdout
        found = re.search(r"^signature check: ([\d.]+) µs", minted, re.M)
        if found is None:
            sys.exit(f"unexpected mint_tokens output:\n{minted}")
        signatures.append(float(found.group(1)))
        token = tokens.read_text().split("\n", 1)[0]
        # Each flood's wrk arguments, before and after the URL.
        floods = {
            "401": ([], []),
            "cached": (["-H", f"Authorization: Bearer {token}"], []),
            "first-seen": (["-s", str(TOKENS_SCRIPT)], [str(tokens)]),
        }
        # Rotate the builds, and the floods, so that none always goes first.
        shift = round_number % len(servers)
        turn = round_number % len(VERIFIER_FLOODS)
        order = VERIFIER_FLOODS[turn:] + VERIFIER_FLOODS[:turn]
        for name, command in servers[shift:] + servers[:shift]:
            verifier_round(name, command, env, order, floods, token,
                           wrk_command, options, samples)
        print(f"round {round_number + 1}/{options.rounds} done: signature "
              f"check {signatures[-1]:.1f} µs, tokens of {len(token)} bytes, "
              f"load average {loadavg()}", flush=True)
    print(f"load average after: {loadavg()}", flush=True)
    verifier_report([name for name, _ in servers], options, samples,
                    signatures)


def verifier_round(name, command, env, order, floods, token, wrk_command,
                   options, samples):
    """Starts one build of the example, measures each flood at each
    concurrency, and stops it."""
    port = free_port()
    process = spawn(command, env, port)
    try:
        first_response(port, process, request=(
            f"GET {VERIFIER_PATH} HTTP/1.1\r\nHost: localhost\r\n\r\n"
            .encode()))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            answer = exchange(conn, VERIFIER_PATH, 200,
                              f"Authorization: Bearer {token}\r\n")
        # The example answers whom the token is about and its client
        # (mint_tokens' tokens: sub and client_id both "reader").
        if not answer.endswith(VERIFIER_ANSWER):
            sys.exit(f"GET {VERIFIER_PATH} with a token: {answer[-60:]!r}")
        url = f"http://127.0.0.1:{port}{VERIFIER_PATH}"
        for flood in order:
            before_url, after_url = floods[flood]
            for connections in options.connections:
                load = (wrk_command + ["-t1", f"-c{connections}", "--latency"]
                        + before_url + [url] + after_url)
                # Every answer of a flood with tokens is a 200.
                all_2xx = flood != "401"
                run_wrk(load, options.warmup, all_2xx)
                user, system = cpu_split(process.pid)
                result = run_wrk(load, options.duration, all_2xx)
                after_user, after_system = cpu_split(process.pid)
                per_request = 1e6 / result["requests"]
                samples.setdefault((name, flood, connections), []).append({
                    "requests/s": result["requests"] / result["seconds"],
                    "p50 ms": result["p50"],
                    "p99 ms": result["p99"],
                    "CPU µs/req": (after_user + after_system - user - system)
                                  * per_request,
                    "user µs/req": (after_user - user) * per_request,
                    "sys µs/req": (after_system - system) * per_request,
                    "RSS MiB": rss_bytes(process.pid) / 2**20,
                })
    finally:
        process.terminate()
        process.wait(timeout=30)


def verifier_report(names, options, samples, signatures):
    signature_us = statistics.median(signatures)
    columns = ["requests/s", "p50 ms", "p99 ms", "CPU µs/req", "user µs/req",
               "sys µs/req", "RSS MiB"]
    medians = {
        key: {column: statistics.median(s[column] for s in rounds)
              for column in columns}
        for key, rounds in samples.items()
    }
    print()
    print("| server | flood | conns | " + " | ".join(columns) + " |")
    print("| --- | --- | ---: |" + " ---: |" * len(columns))
    for count in options.connections:
        for name in names:
            for flood in VERIFIER_FLOODS:
                cells = " | ".join(number(medians[(name, flood, count)][column])
                                   for column in columns)
                print(f"| {name} | {flood} | {count} | {cells} |")
    print()
    print(f"Against the same server's 401 (ratios of medians), and the "
          f"targets; signature check {signature_us:.1f} µs (median of the "
          f"rounds, {min(signatures):.1f}-{max(signatures):.1f})")
    print()
    print("| server | flood | conns | requests/s | CPU/req | target "
          "| CPU/req / target | met |")
    print("| --- | --- | ---: | ---: | ---: | --- | ---: | --- |")
    for count in options.connections:
        for name in names:
            refused = medians[(name, "401", count)]
            targets = {
                "cached": ("≤ 1.5x the 401's CPU",
                           1.5 * refused["CPU µs/req"]),
                "first-seen": ("≤ (signature + 401) x 1.1",
                               1.1 * (signature_us + refused["CPU µs/req"])),
            }
            for flood, (text, limit) in targets.items():
                figures = medians[(name, flood, count)]
                cpu = figures["CPU µs/req"]
                print(f"| {name} | {flood} | {count} "
                      f"| {figures['requests/s'] / refused['requests/s']:.2f}x "
                      f"| {cpu / refused['CPU µs/req']:.2f}x "
                      f"| {text} = {limit:.1f} µs | {cpu / limit:.2f} "
                      f"| {'yes' if cpu <= limit else 'no'} |")


def beyond_bearer(wrk, options):
    """--beyond-bearer: the resource_server example against the test
    authorization server, under the bearer, dpop, introspected-cached and
    introspected-uncached floods, round after round, then their figures
    side by side."""
    if shutil.which("node") is None:
        sys.exit("node is missing: the test authorization server needs "
                 "Node.js 20 or later")
    if not (ISSUER_SCRIPT.parent / "node_modules" / "oidc-provider"
            / "package.json").is_file():
        sys.exit("oidc-provider is missing: npm ci --prefix "
                 "rocket-bearer/tests/issuer")
    if not options.no_build:
        build_example_and("mint_proofs")
    release = TARGET / "release"
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, issuer_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)
    work = TARGET / "loadbench-beyond-bearer"
    work.mkdir(exist_ok=True)
    # One client key for the run: the token request's proof and the
    # flood's proofs are made with it, so that they match the token's
    # cnf.jkt.
    key = work / "dpop-key.pk8"
    key.unlink(missing_ok=True)
    mint = [str(release / "mint_proofs")]
    command = pinned(server_cpu, [str(release / "examples" / "resource_server")])
    wrk_command = pinned(server_cpu, [wrk])

    print(machine(), flush=True)
    placement = ("one CPU: server, wrk (1 thread) and issuer share it, unpinned"
                 if server_cpu is None else
                 f"server and wrk (1 thread) on CPU {server_cpu}, "
                 f"issuer (node) on CPU {issuer_cpu}")
    print(f"{placement}; {options.rounds} rounds; warm-up {options.warmup}s, "
          f"measure {options.duration}s; connections {options.connections}",
          flush=True)
    print(f"load average before: {loadavg()}", flush=True)
    issuer, issuer_url = start_issuer(issuer_cpu, work)
    print(f"issuer {issuer_url} ({node_version()}), pid {issuer.pid}",
          flush=True)
    env = {"ISSUER": issuer_url, "AUDIENCE": VERIFIER_AUDIENCE,
           "ROCKET_ADDRESS": "127.0.0.1", "ROCKET_LOG_LEVEL": "off",
           "ROCKET_BEARER_INTROSPECTION_CLIENT_ID": INTROSPECTION_CLIENT[0],
           "ROCKET_BEARER_INTROSPECTION_CLIENT_SECRET": INTROSPECTION_CLIENT[1],
           # The introspection calls go to the issuer on the loopback, never
           # through a proxy the environment may name.
           "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    samples = {}
    checks = {"signature": [], "parsed": []}
    # The bearer flood's best rate so far, which sizes each dpop flood's
    # proofs: a dpop request does all a bearer one does, and more.
    state = {"bearer rate": None, "proofs": [], "proof bytes": None}
    try:
        for round_number in range(options.rounds):
            # The proof's signature check, timed on the server's CPU each
            # round, as mint_tokens times a token's.
            timed = subprocess.run(
                pinned(server_cpu, mint + ["time", str(key)]), check=True,
                capture_output=True, text=True, timeout=300).stdout
            for name, pattern in [("signature", r"^proof signature check"),
                                  ("parsed", r"^proof key parsed and signature check")]:
                found = re.search(pattern + r": ([\d.]+) µs", timed, re.M)
                if found is None:
                    sys.exit(f"unexpected mint_proofs output:\n{timed}")
                checks[name].append(float(found.group(1)))
            # Fresh tokens each round: they live 600 s at the issuer.
            token_proof = one_proof(mint, key, work / "token-proof.txt",
                                    "POST", f"{issuer_url}/token")
            credentials = {
                "bearer": ("Bearer", token_request(issuer_url, JWT_CLIENT)),
                "dpop": ("DPoP", token_request(issuer_url, JWT_CLIENT,
                                               token_proof)),
                "introspected": ("Bearer",
                                 token_request(issuer_url, OPAQUE_CLIENT)),
            }
            # Rotate the floods, so that none always goes first.
            turn = round_number % len(BEYOND_FLOODS)
            for flood in BEYOND_FLOODS[turn:] + BEYOND_FLOODS[:turn]:
                beyond_flood(flood, command, env, credentials, issuer,
                             wrk_command, mint, key, work, options, state,
                             samples)
            sizes = ", ".join(f"{name} {len(token)}" for name, (_, token)
                              in credentials.items())
            print(f"round {round_number + 1}/{options.rounds} done: proof "
                  f"signature check {checks['signature'][-1]:.1f} µs, key "
                  f"parsed and check {checks['parsed'][-1]:.1f} µs; tokens "
                  f"of {sizes} bytes, proofs of {state['proof bytes']}; load "
                  f"average {loadavg()}", flush=True)
    finally:
        stop_issuer(issuer)
    print(f"load average after: {loadavg()}", flush=True)
    used = state["proofs"]
    if used:
        print(f"proofs used per dpop flood: {min(used):.0%}-{max(used):.0%} "
              f"of those minted", flush=True)
    beyond_report(options, samples, checks)


def start_issuer(cpu, work):
    """Starts the test authorization server on a free loopback port, on
    `cpu`; returns the process and the issuer's URL. It exits when its
    stdin closes (stop_issuer), also if this script dies."""
    log = open(work / "issuer.log", "w")
    process = subprocess.Popen(
        pinned(cpu, ["node", str(ISSUER_SCRIPT), "--port", "0",
                     "--exit-with-stdin"]),
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
    log.close()
    ready, _, _ = select.select([process.stdout], [], [], ISSUER_START_TIMEOUT)
    line = process.stdout.readline().decode() if ready else ""
    found = re.match(r"listening (http://127\.0\.0\.1:\d+)$", line.strip())
    if found is None:
        stop_issuer(process)
        sys.exit(f"the issuer did not start within {ISSUER_START_TIMEOUT}s "
                 f"({line.strip()!r}); see {work / 'issuer.log'}")
    return process, found.group(1)


def stop_issuer(process):
    process.stdin.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def node_version():
    return subprocess.run(["node", "--version"], check=True, capture_output=True,
                          text=True, timeout=30).stdout.strip()


def token_request(issuer, client, proof=None):
    """An access token for RESOURCE by the client credentials grant at the
    issuer's token endpoint, `client` = (id, secret) by HTTP Basic; with a
    DPoP proof (for POST <issuer>/token), a DPoP-bound one."""
    body = urllib.parse.urlencode({
        "grant_type": "client_credentials", "scope": "read",
        "resource": VERIFIER_AUDIENCE}).encode()
    request = urllib.request.Request(f"{issuer}/token", data=body, method="POST")
    basic = base64.b64encode(f"{client[0]}:{client[1]}".encode()).decode()
    request.add_header("Authorization", f"Basic {basic}")
    if proof is not None:
        request.add_header("DPoP", proof)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        sys.exit(f"the issuer refused {client[0]} a token: {error.code} "
                 f"{error.read()[:300]!r}")
    kind = "Bearer" if proof is None else "DPoP"
    if answer.get("token_type") != kind or "access_token" not in answer:
        sys.exit(f"the issuer gave {client[0]} no {kind} token: {answer}")
    return answer["access_token"]


def mint_proofs(mint, key, path, count, method, url, token=None):
    """Mints `count` proofs for `method url` (iat now, each its own jti,
    `ath` if `token`) into `path`, one a line."""
    subprocess.run(mint + ["mint", str(key), str(path), str(count), method, url]
                   + ([token] if token else []),
                   check=True, capture_output=True, text=True, timeout=300)


def one_proof(mint, key, path, method, url, token=None):
    """One proof for `method url`, minted through `path`."""
    mint_proofs(mint, key, path, 1, method, url, token)
    return path.read_text().strip()


def proofs_needed(state, seconds, connections):
    """Proofs for a dpop flood of `seconds`: the bearer flood's best rate
    so far over that time, with a margin, and one per connection; bounded."""
    rate = state["bearer rate"]
    if rate is None:
        return MOST_PROOFS
    return min(MOST_PROOFS,
               math.ceil(rate * seconds * PROOF_MARGIN) + connections)


def beyond_flood(flood, command, env, credentials, issuer, wrk_command, mint,
                 key, work, options, state, samples):
    """Starts the example afresh for one flood, checks one answer, then
    measures the flood at each concurrency, and stops it."""
    port = free_port()
    env = dict(env)
    if flood == "introspected-uncached":
        env["ROCKET_BEARER_INTROSPECTION_MAX_AGE"] = "0"
    process = spawn(command, env, port)
    scheme, token = credentials[flood.partition("-")[0]]
    url = f"http://127.0.0.1:{port}{VERIFIER_PATH}"
    try:
        wait_ready(port, process)
        headers = f"Authorization: {scheme} {token}\r\n"
        if flood == "dpop":
            proof = one_proof(mint, key, work / "check-proof.txt", "GET", url,
                              token)
            headers += f"DPoP: {proof}\r\n"
            state["proof bytes"] = len(proof)
        answer = get_me(port, headers)
        if not answer.startswith(b"HTTP/1.1 200 ") or not answer.endswith(
                b"\r\n\r\n" + BEYOND_ANSWERS[flood]):
            sys.exit(f"{flood}: GET {VERIFIER_PATH}: {answer!r}")
        proofs = work / "proofs.txt"
        for connections in options.connections:
            if flood == "dpop":
                load = (wrk_command + ["-t1", f"-c{connections}", "--latency",
                                       "-s", str(PROOFS_SCRIPT), url,
                                       str(proofs), token])
            else:
                load = (wrk_command + ["-t1", f"-c{connections}", "--latency",
                                       "-H", f"Authorization: {scheme} {token}",
                                       url])
            for seconds, measured in [(options.warmup, False),
                                      (options.duration, True)]:
                if flood == "dpop":
                    # Minted right before the flood, iat now: the server
                    # takes a proof up to 60 s old.
                    mint_proofs(mint, key, proofs,
                                proofs_needed(state, seconds, connections),
                                "GET", url, token)
                user, system = cpu_split(process.pid)
                issued = cpu_seconds(issuer.pid)
                result = run_wrk(load, seconds, all_2xx=True)
                after_user, after_system = cpu_split(process.pid)
                issuer_cpu = cpu_seconds(issuer.pid) - issued
                rate = result["requests"] / result["seconds"]
                if flood == "bearer":
                    state["bearer rate"] = max(rate, state["bearer rate"] or 0)
                if flood == "dpop":
                    used = re.search(r"^proofs used: (\d+) of (\d+)$",
                                     result["output"], re.M)
                    if used is None:
                        sys.exit(f"no count of proofs in wrk's output:\n"
                                 f"{result['output']}")
                    state["proofs"].append(int(used.group(1))
                                           / int(used.group(2)))
                if not measured:
                    continue
                per_request = 1e6 / result["requests"]
                samples.setdefault((flood, connections), []).append({
                    "requests/s": rate,
                    "p50 ms": result["p50"],
                    "p99 ms": result["p99"],
                    "CPU µs/req": (after_user + after_system - user - system)
                                  * per_request,
                    "user µs/req": (after_user - user) * per_request,
                    "sys µs/req": (after_system - system) * per_request,
                    "issuer µs/req": issuer_cpu * per_request,
                    # Of one CPU: near 100, the issuer sets the pace.
                    "issuer CPU %": issuer_cpu / result["seconds"] * 100,
                    "RSS MiB": rss_bytes(process.pid) / 2**20,
                })
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_ready(port, process, timeout=START_TIMEOUT):
    """Polls GET /ready until the example answers 200 (the issuer's keys
    are loaded), 503 until then."""
    first_response(port, process, timeout,
                   b"GET /ready HTTP/1.1\r\nHost: localhost\r\n\r\n",
                   status=200, not_yet=503)


def get_me(port, headers):
    """One GET /me with `headers` (lines ending in CRLF), addressed as wrk
    addresses it (the Host a DPoP proof's htu names); the response."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as conn:
        conn.sendall(f"GET {VERIFIER_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}"
                     f"\r\n{headers}\r\n".encode())
        return read_response(conn)


def beyond_report(options, samples, checks):
    signature = statistics.median(checks["signature"])
    parsed = statistics.median(checks["parsed"])
    columns = ["requests/s", "p50 ms", "p99 ms", "CPU µs/req", "user µs/req",
               "sys µs/req", "issuer µs/req", "issuer CPU %", "RSS MiB"]
    medians = {
        key: {column: statistics.median(s[column] for s in rounds)
              for column in columns}
        for key, rounds in samples.items()
    }
    print()
    print("Medians over the rounds; CPU µs/req is the server's, issuer µs/req "
          "node's, issuer CPU % node's busy share of one CPU")
    print()
    print("| flood | conns | " + " | ".join(columns) + " |")
    print("| --- | ---: |" + " ---: |" * len(columns))
    for count in options.connections:
        for flood in BEYOND_FLOODS:
            cells = " | ".join(number(medians[(flood, count)][column])
                               for column in columns)
            print(f"| {flood} | {count} | {cells} |")
    print()
    print(f"Against the bearer flood (ratios of medians; + the server's CPU "
          f"per request beyond the bearer's); proof signature check "
          f"{signature:.1f} µs (median of the rounds, "
          f"{min(checks['signature']):.1f}-{max(checks['signature']):.1f}), "
          f"key parsed and signature check {parsed:.1f} µs")
    print()
    print("| flood | conns | requests/s | p50 | p99 | CPU/req | + CPU µs/req "
          "| (server + issuer) CPU/req |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for count in options.connections:
        bearer = medians[("bearer", count)]
        for flood in BEYOND_FLOODS[1:]:
            figures = medians[(flood, count)]
            ratios = " | ".join(f"{figures[c] / bearer[c]:.2f}x" for c in
                                ["requests/s", "p50 ms", "p99 ms", "CPU µs/req"])
            extra = figures["CPU µs/req"] - bearer["CPU µs/req"]
            both = ((figures["CPU µs/req"] + figures["issuer µs/req"])
                    / (bearer["CPU µs/req"] + bearer["issuer µs/req"]))
            print(f"| {flood} | {count} | {ratios} | {extra:+.1f} | {both:.2f}x |")
    print()
    for count in options.connections:
        extra = (medians[("dpop", count)]["CPU µs/req"]
                 - medians[("bearer", count)]["CPU µs/req"])
        print(f"dpop - bearer at {count} connections: {extra:.1f} µs of the "
              f"server's CPU per request, {extra / signature:.2f}x the proof's "
              f"signature check, {extra - parsed:+.1f} µs beyond the key "
              f"parsed and the check")


def count(servers, options):
    """Prints the system calls and instructions per request of each build
    of the service, for each flood."""
    for tool in ["strace", "valgrind", "callgrind_control"]:
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: install it with "
                     f"`apt-get install {'valgrind' if 'grind' in tool else tool}`")
    print(machine(), flush=True)
    print(f"{options.count} requests per flood on one keep-alive connection, "
          f"after {COUNT_WARMUP}; the server on one CPU; "
          f"load average {loadavg()}", flush=True)
    print()
    print("| server | flood | syscalls/req | instructions/req |")
    print("| --- | --- | ---: | ---: |")
    # Pinned to one CPU, as under wrk: Rocket then runs one worker.
    cpu = sorted(os.sched_getaffinity(0))[0]
    for name, command, env, _ in servers:
        if not env:  # the peers: the counts compare the service's answers
            continue
        for flood in options.floods:
            calls = syscalls_per_request(pinned(cpu, command), env, flood,
                                         options.count)
            instructions = instructions_per_request(cpu, command, env, flood,
                                                    options.count)
            print(f"| {name} | {flood} | {calls:.2f} | {instructions:,.0f} |",
                  flush=True)


def syscalls_per_request(command, env, flood, requests):
    """System calls of every thread of the server, strace attached after
    the warm-up, divided by `requests`."""
    path, status = SCENARIOS[flood]
    port = free_port()
    process = spawn(command, env, port)
    summary = TARGET / "loadbench-strace.txt"
    try:
        first_response(port, process)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            for _ in range(COUNT_WARMUP):
                exchange(conn, path, status)
            tracer = subprocess.Popen(
                ["strace", "-f", "-c", "-qq", "-o", str(summary),
                 "-p", str(process.pid)], stderr=subprocess.DEVNULL)
            wait_until_traced(process.pid, tracer)
            for _ in range(requests):
                exchange(conn, path, status)
            tracer.send_signal(signal.SIGINT)
            tracer.wait(timeout=30)
    finally:
        process.terminate()
        process.wait(timeout=30)
    total = re.search(r"^\s*100\.00\s+\S+\s+\S+\s+(\d+)\s+.*total$",
                      summary.read_text(), re.M)
    if total is None:
        sys.exit(f"no total in strace's summary:\n{summary.read_text()}")
    return int(total.group(1)) / requests


def wait_until_traced(pid, tracer):
    """Waits until every thread of `pid` has a tracer."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if tracer.poll() is not None:
            sys.exit(f"strace exited with {tracer.returncode}: is ptrace allowed?")
        tasks = Path(f"/proc/{pid}/task").iterdir()
        if all(tracer_of(task) != 0 for task in tasks):
            return
        time.sleep(0.01)
    sys.exit(f"strace did not attach to {pid} within {START_TIMEOUT}s")


def tracer_of(task):
    status = (task / "status").read_text()
    return int(re.search(r"^TracerPid:\s*(\d+)", status, re.M).group(1))


def instructions_per_request(cpu, command, env, flood, requests):
    """Instructions the server executes (user space, every thread, counted
    by callgrind) while it answers `requests`, divided by them."""
    path, status = SCENARIOS[flood]
    port = free_port()
    out = TARGET / "loadbench-callgrind.out"
    grind = ["valgrind", "--quiet", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={out}"]
    # taskset runs valgrind, not the reverse: valgrind would not follow
    # an exec, and the server would run uninstrumented.
    process = spawn(pinned(cpu, grind + command), env, port)
    try:
        first_response(port, process, timeout=60.0)
        with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
            for _ in range(COUNT_WARMUP):
                exchange(conn, path, status)
            callgrind_control("--instr=on", process.pid)
            for _ in range(requests):
                exchange(conn, path, status)
            callgrind_control("--instr=off", process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)
    # `summary` counts from the start, when nothing was instrumented.
    totals = re.search(r"^totals:\s*(\d+)", out.read_text(), re.M)
    if totals is None:
        sys.exit(f"no totals in {out}")
    return int(totals.group(1)) / requests


def callgrind_control(option, pid):
    subprocess.run(["callgrind_control", option, str(pid)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60)


def first_response(port, process, timeout=START_TIMEOUT, request=REQUEST,
                   status=401, not_yet=None):
    """Polls until the server answers `request` with `status` (and while
    it answers `not_yet`); returns the response's bytes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited with {process.returncode} before answering")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(request)
                response = read_response(conn)
        except OSError:
            time.sleep(0.001)
            continue
        if not_yet and response.startswith(f"HTTP/1.1 {not_yet} ".encode()):
            time.sleep(0.01)
            continue
        if not response.startswith(f"HTTP/1.1 {status} ".encode()):
            sys.exit(f"expected a {status}, got {response[:40]!r}")
        return response
    sys.exit(f"no answer on port {port} within {timeout}s")


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


def run_wrk(command, seconds, all_2xx=False):
    """Runs wrk for `seconds`; returns requests, seconds, p50 and p99 (ms),
    and wrk's output. With `all_2xx`, any answer that is not a 2xx ends the
    run (wrk counts them as "Non-2xx or 3xx responses")."""
    finished = subprocess.run(command + [f"-d{seconds}s"], capture_output=True,
                              text=True, timeout=seconds + 120)
    output = finished.stdout
    if finished.returncode != 0:
        sys.exit(f"wrk exited with {finished.returncode}:\n{output}"
                 f"{finished.stderr}")
    done = re.search(r"(\d+) requests in ([\d.]+)(m?s)", output)
    if done is None:
        sys.exit(f"unexpected wrk output:\n{output}")
    if "Socket errors" in output:
        print("  wrk: " + re.search(r"Socket errors.*", output).group(0), flush=True)
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if all_2xx and refused is not None:
        sys.exit(f"{refused.group(1)} of {done.group(1)} answers were not 2xx:"
                 f"\n{output}")
    duration = float(done.group(2)) / (1000 if done.group(3) == "ms" else 1)
    return {
        "requests": int(done.group(1)),
        "seconds": duration,
        "p50": percentile(output, "50"),
        "p99": percentile(output, "99"),
        "output": output,
    }


def percentile(output, which):
    found = re.search(rf"^\s*{which}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    if found is None:
        sys.exit(f"no {which}% latency in wrk output:\n{output}")
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[found.group(2)]
    return float(found.group(1)) * scale


def cpu_seconds(pid):
    """utime + stime of the process, all threads, in seconds."""
    user, system = cpu_split(pid)
    return user + system


def cpu_split(pid):
    """utime and stime of the process, all threads, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def rss_bytes(pid):
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def report(names, options, samples):
    columns = ["requests/s", "p50 ms", "p99 ms", "CPU µs/req", "RSS MiB",
               "bytes/resp", "start ms", "dropped %"]
    medians = {
        key: {column: median(s[column] for s in rounds) for column in columns}
        for key, rounds in samples.items()
    }
    print()
    print("| server | flood | conns | " + " | ".join(columns) + " |")
    print("| --- | --- | ---: |" + " ---: |" * len(columns))
    for flood in options.floods:
        for count in options.connections:
            for name in names:
                figures = medians.get((name, flood, count))
                if figures is None:
                    continue
                cells = " | ".join(number(figures[column]) for column in columns)
                print(f"| {name} | {flood} | {count} | {cells} |")
    ratio_columns = ["requests/s", "p99 ms", "CPU µs/req", "RSS MiB"]
    print()
    print("Ratios of medians (ours / peer): requests/s, p99, CPU per request, RSS")
    print()
    print("| ours / | flood | conns | requests/s | p99 | CPU/req | RSS |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for peer in [name for name in names if name != "ours"]:
        for flood in options.floods:
            for count in options.connections:
                ours = medians.get(("ours", flood, count))
                theirs = medians.get((peer, flood, count))
                if ours is None or theirs is None:
                    continue
                cells = " | ".join(f"{ours[c] / theirs[c]:.2f}x"
                                   for c in ratio_columns)
                print(f"| {peer} | {flood} | {count} | {cells} |")
    if {"401", "404"} <= set(options.floods):
        print()
        print("The 404 flood against the 401 flood, same server (404 / 401)")
        print()
        print("| server | conns | requests/s | p99 | CPU/req |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name in names:
            for count in options.connections:
                refused = medians.get((name, "401", count))
                missing = medians.get((name, "404", count))
                if refused is None or missing is None:
                    continue
                cells = " | ".join(f"{missing[c] / refused[c]:.2f}x"
                                   for c in ratio_columns[:3])
                print(f"| {name} | {count} | {cells} |")


def median(values):
    """The median, or None where there is no figure (a peer's dropped
    lines)."""
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def number(value):
    if value is None:
        return "—"
    if value == 0:
        return "0"
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
