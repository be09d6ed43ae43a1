"""Summarize py-spy raw (collapsed) stacks: where the samples' time goes.

    py-spy record -p PID -f raw -o stacks.txt ...
    python -m bench.profile stacks.txt [--top 30] [--match consumers/]

Prints the functions by inclusive share (a function counted once per sample in
which it appears) and by self share (the leaf frame).
"""

import argparse
import sys
from collections import Counter
from pathlib import Path


def load(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def short(frame: str) -> str:
    # "func (path/to/module.py:12)" -> "func (module path:12)" below site-packages.
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for cut in ("site-packages/", "/work/main/"):
        if cut in where:
            where = where.split(cut, 1)[1]
    return f"{name} ({where})" if where else name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stacks", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", default="", help="only frames containing this")
    args = parser.parse_args()
    stacks = load(args.stacks)
    total = sum(count for _, count in stacks) or 1
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, count in stacks:
        names = [short(f) for f in frames]
        for name in set(names):
            if args.match in name:
                inclusive[name] += count
        if names and args.match in names[-1]:
            own[names[-1]] += count
    print(f"{total} samples")
    print("inclusive:")
    for name, count in inclusive.most_common(args.top):
        print(f"  {100 * count / total:5.1f}%  {name}")
    print("self:")
    for name, count in own.most_common(args.top):
        print(f"  {100 * count / total:5.1f}%  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
