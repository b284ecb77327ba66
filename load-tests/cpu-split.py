#!/usr/bin/env python3
"""Runs a command and says which processes of the machine spent the CPU meanwhile, per ledger row written.

Usage: python3 load-tests/cpu-split.py DATABASE -- COMMAND [ARGS...]

The machine's processes are grouped as the node (Orleans.Membership.Silo), PostgreSQL, nats-server, the
generator (the command and its children) and the rest; the rows are those added to DATABASE's member_ledger
while the command ran. One line, for docs/benchmarks.md: where a durable event's CPU goes, so a reader can
size the cores a rate needs.
"""
import os
import resource
import subprocess
import sys
import time

TICKS = os.sysconf('SC_CLK_TCK')


def group(pid):
    with open(f'/proc/{pid}/stat') as f:
        stat = f.read()
    comm = stat[stat.index('(') + 1:stat.rindex(')')]
    fields = stat[stat.rindex(')') + 2:].split()
    with open(f'/proc/{pid}/cmdline') as f:
        cmdline = f.read()
    if 'Orleans.Membership.Silo' in cmdline:
        name = 'node'
    elif comm == 'postgres':
        name = 'postgres'
    elif comm == 'nats-server':
        name = 'nats'
    else:
        name = 'other'
    return name, (int(fields[11]) + int(fields[12])) / TICKS


def sample():
    """CPU seconds so far of every process alive now, by (pid, group); the generator's come from rusage."""
    seen = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            name, seconds = group(entry)
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        seen[entry] = (name, seconds)
    return seen


def ledger_rows(database):
    out = subprocess.run(['runuser', '-u', 'postgres', '--', 'psql', '-d', database, '-qtAc', 'select count(*) from member_ledger'],
                         capture_output=True, text=True)
    return int(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip().isdigit() else None


def main():
    if len(sys.argv) < 4 or sys.argv[2] != '--':
        sys.exit(__doc__)
    database, command = sys.argv[1], sys.argv[3:]
    rows_before = ledger_rows(database)
    before, children_before, started = sample(), resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    code = subprocess.call(command)
    after, children_after, wall = sample(), resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic() - started
    rows_after = ledger_rows(database)

    spent = {'node': 0.0, 'postgres': 0.0, 'nats': 0.0, 'generator': 0.0, 'other': 0.0}
    for pid, (name, seconds) in after.items():
        # A process that started meanwhile counts from zero; one that ended meanwhile is lost (the command's own are not: rusage).
        spent[name] += seconds - (before[pid][1] if pid in before and before[pid][0] == name else 0.0)
    spent['generator'] += (children_after.ru_utime + children_after.ru_stime) - (children_before.ru_utime + children_before.ru_stime)

    shares = ', '.join(f'{name} {100 * s / wall:.0f}%' for name, s in spent.items())
    line = f'cpu split over {wall:.1f} s (percent of one core): {shares}'
    if rows_before is not None and rows_after is not None and rows_after > rows_before:
        rows = rows_after - rows_before
        per_row = ', '.join(f'{name} {1e6 * s / rows:.0f}' for name, s in spent.items())
        line += f'; {rows} ledger rows ({rows / wall:.0f}/s); CPU microseconds a row: {per_row}'
    print(line, flush=True)
    sys.exit(code)


if __name__ == '__main__':
    main()
