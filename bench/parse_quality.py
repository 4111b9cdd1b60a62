"""Measure how well tree-sitter-c parses kernel code, raw vs normalised.

Every file is split with split_top_level(); each chunk is parsed raw and
after normalize().  Function definitions are matched between the two parses
by the offset of their closing byte (normalisation never moves text).

    python bench/parse_quality.py --tree /work/kcache/linux-source-6.12 [--all]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter
import tree_sitter_c

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from migrator.parse.chunks import split_top_level
from migrator.parse.normalize import normalize

TARGETS = {
    b"register_netdevice",
    b"register_netdev",
    b"unregister_netdevice",
    b"netdev_master_upper_dev_link",
    b"dev_change_net_namespace",
}
_SITE = re.compile(rb"\b(?:" + b"|".join(sorted(TARGETS)) + rb")\s*\(")

_parser: tree_sitter.Parser | None = None


def parser() -> tree_sitter.Parser:
    global _parser
    if _parser is None:
        _parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_c.language()))
    return _parser


@dataclass
class Stats:
    files: int = 0
    bytes: int = 0
    chunks: int = 0
    raw_fn: int = 0
    raw_ok: int = 0
    norm_fn: int = 0
    norm_ok: int = 0
    tgt_fn: int = 0  # target functions found in the normalised parse
    tgt_raw_ok: int = 0
    tgt_norm_ok: int = 0
    chunk_err_raw: int = 0
    chunk_err_norm: int = 0
    bad: list[tuple[str, int, str]] = field(default_factory=list)  # failures to show
    bad_tgt: list[tuple[str, int, str]] = field(default_factory=list)

    def add(self, o: Stats) -> None:
        for k, v in vars(o).items():
            if isinstance(v, int):
                setattr(self, k, getattr(self, k) + v)
            else:
                getattr(self, k).extend(v)


def functions(root: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type == "function_definition":
            yield n
            continue  # no nested functions in C
        stack.extend(n.children)


def has_target_call(fn: tree_sitter.Node) -> bool:
    stack = [fn]
    while stack:
        n = stack.pop()
        if n.type == "call_expression":
            f = n.child_by_field_name("function")
            if f is not None and f.type == "identifier" and f.text in TARGETS:
                return True
        stack.extend(n.children)
    return False


def first_error(n: tree_sitter.Node) -> tree_sitter.Node | None:
    stack = [n]
    while stack:
        c = stack.pop()
        if c.type == "ERROR" or c.is_missing:
            return c
        if c.has_error:
            stack.extend(reversed(c.children))
    return None


def context(text: bytes, off: int, base: int) -> str:
    ls = text.rfind(b"\n", 0, off) + 1
    le = text.find(b"\n", off)
    le = len(text) if le < 0 else le
    line = text[ls:le].decode("latin-1")
    return f"+{base + off}: {line.strip()[:160]}"


def measure(path: str, whole: bool, tree_root: str) -> Stats:
    st = Stats(files=1)
    src = Path(path).read_bytes()
    st.bytes = len(src)
    rel = os.path.relpath(path, tree_root)
    p = parser()
    spans = split_top_level(src)
    st.chunks = len(spans)
    nsrc = normalize(src) if whole else None
    for a, b in spans:
        raw = src[a:b]
        norm = nsrc[a:b] if nsrc is not None else normalize(raw)
        assert len(norm) == len(raw)
        rt = p.parse(raw).root_node
        nt = p.parse(norm).root_node
        st.chunk_err_raw += rt.has_error
        st.chunk_err_norm += nt.has_error
        raw_ok: dict[int, bool] = {}
        for f in functions(rt):
            st.raw_fn += 1
            st.raw_ok += not f.has_error
            raw_ok[f.end_byte] = not f.has_error
        for f in functions(nt):
            st.norm_fn += 1
            ok = not f.has_error
            st.norm_ok += ok
            tgt = has_target_call(f)
            if tgt:
                st.tgt_fn += 1
                st.tgt_norm_ok += ok
                st.tgt_raw_ok += raw_ok.get(f.end_byte, False)
            if not ok:
                e = first_error(f)
                where = context(raw, e.start_byte if e else f.start_byte, a)
                (st.bad_tgt if tgt else st.bad).append((rel, a, where))
    return st


def _work(args: tuple[str, bool, str]) -> Stats:
    return measure(*args)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tree", default="/work/kcache/linux-source-6.12")
    ap.add_argument("--all", action="store_true", help="whole tree, not drivers/net + net")
    ap.add_argument("--dirs", nargs="*", help="subdirectories to scan instead")
    ap.add_argument("--whole", action="store_true", help="normalise whole files, not chunks")
    ap.add_argument("--show", type=int, default=0, help="print N sample failing functions")
    ap.add_argument("--show-targets", action="store_true", help="print all failing targets")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    root = Path(args.tree)
    dirs = [root] if args.all else [root / d for d in (args.dirs or ["drivers/net", "net"])]
    files = sorted(str(f) for d in dirs for f in d.rglob("*.c"))
    t0 = time.perf_counter()
    total = Stats()
    with mp.Pool(args.jobs) as pool:
        jobs = [(f, args.whole, str(root)) for f in files]
        for st in pool.imap_unordered(_work, jobs, chunksize=8):
            total.add(st)
    dt = time.perf_counter() - t0

    def pct(a: int, b: int) -> str:
        return f"{a}/{b} ({100.0 * a / b:.2f}%)" if b else "0/0"

    print(f"files {total.files}  bytes {total.bytes}  chunks {total.chunks}  time {dt:.1f}s")
    print(f"chunks with error: raw {total.chunk_err_raw}  normalised {total.chunk_err_norm}")
    print(f"all functions     raw ok {pct(total.raw_ok, total.raw_fn)}")
    print(f"all functions     norm ok {pct(total.norm_ok, total.norm_fn)}")
    print(f"target functions  raw ok {pct(total.tgt_raw_ok, total.tgt_fn)}")
    print(f"target functions  norm ok {pct(total.tgt_norm_ok, total.tgt_fn)}")
    if args.show_targets:
        for rel, _, w in sorted(total.bad_tgt):
            print("TGT", rel, w)
    if args.show:
        rnd = random.Random(args.seed)
        for rel, _, w in rnd.sample(total.bad, min(args.show, len(total.bad))):
            print("FN ", rel, w)


if __name__ == "__main__":
    main()
