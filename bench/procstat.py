"""CPU time and memory of processes, read from /proc (Linux only, no psutil)."""

import os
from dataclasses import dataclass
from pathlib import Path

# Clock ticks per second: the unit of utime and stime in /proc/<pid>/stat.
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Usage:
    """CPU seconds (user + system) and resident bytes of a set of processes."""

    cpu_secs: float
    rss_bytes: int
    alive: int


def cpu_secs(pid: int) -> float:
    """User plus system CPU seconds of one process; 0 when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name may hold spaces or parentheses: split after the last ")".
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * PAGE_BYTES


def open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def children(pid: int) -> list[int]:
    """Direct children of a process (threads' children included)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
        except OSError:
            continue
        found.extend(int(child) for child in text.split())
    return found


def tree(pid: int, depth: int = 3) -> list[int]:
    """A process and its descendants, `depth` generations down."""
    pids = [pid]
    frontier = [pid]
    for _ in range(depth):
        frontier = [child for parent in frontier for child in children(parent)]
        pids.extend(frontier)
    return pids


def usage(pids: list[int]) -> Usage:
    alive = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    return Usage(
        cpu_secs=sum(cpu_secs(pid) for pid in alive),
        rss_bytes=sum(rss_bytes(pid) for pid in alive),
        alive=len(alive),
    )


def command_cpu_secs(command: str) -> float:
    """CPU seconds of every process named `command` (PostgreSQL: "postgres"), the
    exited ones included: a process's dead children are counted in its cutime and
    cstime, so the tree's root adds those of the backends that came and went."""
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        if raw[raw.index("(") + 1 : raw.rindex(")")] == command:
            stats[int(entry.name)] = raw[raw.rindex(")") + 2 :].split()
    total = 0.0
    for fields in stats.values():
        # Fields after the name: state ppid ... utime(11) stime(12) cutime(13) ...
        total += int(fields[11]) + int(fields[12])
        if int(fields[1]) not in stats:
            total += int(fields[13]) + int(fields[14])
    return total / CLOCK_TICKS
