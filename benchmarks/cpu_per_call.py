"""Measure: CPU time per request of a running service and of its PostgreSQL backends, apart.

It reads the kernel's per-process counters (``utime`` + ``stime`` of ``/proc/<pid>/stat``, in
clock ticks of ``os.sysconf('SC_CLK_TCK')``) of two sets of processes, before and after a
benchmark command's timed window:

- the service: ``--server-pid`` (the ``python -m geo_urp serve`` process, gunicorn's master) and
  every process under it (its gunicorn workers);
- PostgreSQL: the backends that ``pg_stat_activity`` lists for ``--database`` (this script's
  own connection is to another database and is not among them).

It runs the command after ``--``, echoing its output. The window opens just before the command
starts or, with ``--start-after REGEX``, when a line of the command's output first matches (so
that a benchmark's untimed warm-up is left out; the command runs with ``PYTHONUNBUFFERED=1`` so
that its lines arrive as they are printed), and closes when the command exits. The requests in
the window are ``--requests N`` or, without it, the last count the command printed
(``bench_open311_wrk``'s ``requests N in``, ``bench_open311_post``'s ``N requests,``).

Usage, with the service running on the benchmark database (see docs/PERFORMANCE.md)::

    python -m benchmarks.cpu_per_call --server-pid PID --database geo_urp_postbench \\
        --start-after '^POST ' -- \\
        python -m benchmarks.bench_open311_wrk --url http://127.0.0.1:8011 --municipality mezzolombardo

It prints, for the service and for PostgreSQL, the CPU seconds in the window and the CPU
milliseconds per request, and their sum. A process that is gone by the end of the window
(a backend that disconnected, a gunicorn worker that was replaced) takes its CPU with it: the
count of such processes is printed, and the figures are only whole when it is 0. It measures;
it asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time

import psycopg2

TICK = os.sysconf("SC_CLK_TCK")
REQUESTS = [re.compile(r"\brequests (\d+) in\b"), re.compile(r"\b(\d+) requests,")]

Snapshot = dict[int, tuple[int, int]]  # pid -> (start time, CPU ticks)


def _stat(pid: int) -> tuple[int, int, int] | None:
    """(parent pid, start time, utime + stime) of ``pid``, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) "; comm may hold spaces
    # fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, starttime 22
    return int(fields[1]), int(fields[19]), int(fields[11]) + int(fields[12])


def process_tree(root: int) -> Snapshot:
    """CPU ticks of ``root`` and of every process under it."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None:
                stats[int(entry)] = st
    if root not in stats:
        sys.exit(f"no process {root}")
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        tree[pid] = stats[pid][1:]
        todo.extend(children.get(pid, []))
    return tree


def backends(pg, database: str) -> Snapshot:
    """CPU ticks of every PostgreSQL backend connected to ``database``."""
    with pg.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (database,))
        pids = [row[0] for row in cur.fetchall()]
    snap = {}
    for pid in pids:
        st = _stat(pid)
        if st is not None:
            snap[pid] = st[1:]
    return snap


def used(before: Snapshot, after: Snapshot) -> tuple[int, int, int]:
    """(CPU ticks spent between the two snapshots, processes that started, processes gone)."""
    ticks = started = 0
    for pid, (start, cpu) in after.items():
        if pid in before and before[pid][0] == start:
            ticks += cpu - before[pid][1]
        else:
            ticks += cpu  # started within the window (or just before it)
            started += 1
    gone = sum(1 for pid, (start, _) in before.items() if after.get(pid, (None,))[0] != start)
    return ticks, started, gone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server-pid", type=int, required=True,
                        help="pid of the service (gunicorn's master); its whole process tree is counted")
    parser.add_argument("--database", required=True, help="the database whose backends are counted")
    parser.add_argument("--pg", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                        help="libpq connection string for reading pg_stat_activity")
    parser.add_argument("--requests", type=int, help="requests in the window (default: parsed from the output)")
    parser.add_argument("--start-after", metavar="REGEX",
                        help="open the window when a line of the command's output matches")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the benchmark command")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given after --")

    pg = psycopg2.connect(args.pg)
    pg.autocommit = True
    marker = re.compile(args.start_after) if args.start_after else None
    window: dict[str, object] = {}

    def open_window() -> None:
        window["server"] = process_tree(args.server_pid)
        window["pg"] = backends(pg, args.database)
        window["t"] = time.perf_counter()

    if marker is None:
        open_window()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    counted = None
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        if marker is not None and not window and marker.search(line):
            open_window()
        for pattern in REQUESTS:
            found = pattern.search(line)
            if found:
                counted = int(found.group(1))
    code = proc.wait()
    if not window:
        sys.exit(f"the command's output never matched {args.start_after!r}")
    wall = time.perf_counter() - window["t"]
    server_ticks, server_new, server_gone = used(window["server"], process_tree(args.server_pid))
    pg_ticks, pg_new, pg_gone = used(window["pg"], backends(pg, args.database))
    pg.close()

    n = args.requests or counted
    print(f"\nCPU over the window ({wall:.1f} s wall; clock tick {1000 / TICK:g} ms):")
    print(f"  service    {server_ticks / TICK:7.2f} s in {len(window['server'])} processes "
          f"({server_new} started, {server_gone} gone in the window)")
    print(f"  PostgreSQL {pg_ticks / TICK:7.2f} s in {len(window['pg'])} backends of {args.database} "
          f"({pg_new} started, {pg_gone} gone in the window)")
    if not n:
        print("requests: unknown (give --requests N)")
    else:
        per = 1000 / TICK / n
        print(f"requests {n}: CPU ms per request: service {server_ticks * per:.2f}, "
              f"PostgreSQL {pg_ticks * per:.2f}, sum {(server_ticks + pg_ticks) * per:.2f}")
    if code != 0:
        sys.exit(f"the command exited {code}")


if __name__ == "__main__":
    main()
