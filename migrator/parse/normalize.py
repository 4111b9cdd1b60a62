"""Same-length rewriting of kernel C so that tree-sitter-c parses it.

normalize(src) returns bytes of exactly len(src), with every newline where it
was and every byte either kept or overwritten in place, so node offsets in the
normalised parse are offsets into the original file.  Everything is regex
driven over a "code view": a copy of the text with comments, literal contents
and preprocessor lines blanked, so patterns never match inside them.

Rewrites (all by shape, with small lists only where shape is ambiguous):
  * annotations (`__init`, `__iomem`, `__printf(1, 2)`, `__acquires(x)`,
    `noinline`, unknown `__xxx` between a type and a declarator) -> spaces;
  * iterator macros before a block or statement
    (`list_for_each_entry(a, b, c) {`) -> `list_for_each_entry(a, b, c);{`:
    the macro stays a call_expression with its arguments at their offsets and
    the body becomes the next statement (fallback `while` form when there is
    no whitespace to put the `;` in);
  * function-defining macros at top level (`BPF_CALL_2(name, ...)` + `{`)
    -> `int _CALL_2(...)` so the body parses as a function_definition;
  * type arguments of macro calls (`container_of(p, struct foo, m)`,
    `min_t(unsigned int, a, b)`) -> identifiers;
  * `#if` groups: `#if 0` branches are blanked.  When every branch is
    brace/paren balanced all branches are kept (so calls in `#else` are still
    seen); directives are kept around whole statements and blanked inside
    expressions/initializers.  Otherwise only the first branch is kept and
    the directives are blanked.  Directives whose group is not complete in
    the text (a chunk cut inside a group) are blanked, content kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from migrator.parse.codeview import (
    _BLANK,
    _BRACKETS,
    _IDCH,
    _KEYWORDS,
    _STORAGE,
    _TAGS,
    _UNDERSCORE,
    _Depth,
    _match_paren,
    _next_sig,
    _open_paren,
    _prev_sig,
    _Text,
    _word_at,
    _word_before,
)

_IF0 = re.compile(rb"[ \t]*\#[ \t]*if[ \t]+0\b")

# Annotations without arguments whose position is not distinctive enough for
# the shape rule (e.g. after a declarator: `int x __read_mostly = 1;`).
_ANNOT = frozenset(
    b"""__init __exit __initdata __exitdata __initconst __ref __refdata __refconst
    __net_init __net_exit __net_initdata __rcu __user __iomem __percpu __kernel
    __force __nocast __safe __private __bitwise __read_mostly __ro_after_init
    __maybe_unused __always_unused __used __unused __cold __hot __pure
    __must_check __always_inline __noinline noinline noinline_for_stack notrace
    __noreturn __weak __packed __visible asmlinkage __latent_entropy
    __randomize_layout __no_randomize_layout __cacheline_aligned
    __cacheline_aligned_in_smp ____cacheline_aligned ____cacheline_aligned_in_smp
    ____cacheline_internodealigned_in_smp __page_aligned_bss __page_aligned_data
    __nocfi __noclone __flatten __deprecated __sched __kprobes __irq_entry
    __softirq_entry __attribute_const__ __malloc __ksym __bpf_kfunc __nonstring
    __lockfunc __init_or_module __initdata_or_module __designated_init
    __no_kcsan __noinstr noinstr __fix_address __always_unused __mlx5_ignore
    __weak_alias __ro_after_init_scoped __aligned_largest __section_bss""".split()
)
# Annotations taking arguments.
_ANNOT_CALL = frozenset(
    b"""__printf __scanf __acquires __releases __must_hold __aligned __section __free
    __cleanup __counted_by __alloc_size __guarded_by __cond_acquires
    __cond_releases __cond_lock_acquires __no_sanitize_address __diag_ignore
    __assume_aligned __attribute_used__ __nonnull __access __alias""".split()
)
_TYPE_WORD = re.compile(
    rb"__(?:[us](?:8|16|32|64|128)|[bl]e(?:16|32|64)|sum16|wsum|poll_t|kernel_\w+|\w+_t"
    rb"|int128|uint128|builtin_\w+|typeof__|typeof|auto_type|label__|extension__"
    rb"|restrict|inline|inline__|asm|asm__|volatile__|signed__|const|const__|func__)\Z"
)

_ARGS = rb"\((?:[^()]|\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))*\)"
_DUNDER = re.compile(rb"(?<![\w$])(?:__[A-Za-z_]\w*|noinline\w*|notrace|asmlinkage|noinstr)\b")
_PAREN_BLOCK = re.compile(rb"\)[ \t]*(?:\n[ \t]*)?\{")
_ITER_WORD = re.compile(rb"(?:for_each|foreach|_walk|for_all)\w*[ \t]*\(")
_ITER_BLOCK = re.compile(rb"\b([A-Za-z_]\w*)[ \t]*" + _ARGS + rb"(?=[ \t]*(?:\n[ \t]*)?\{)")
_ITER_STMT = re.compile(
    rb"\b(\w*(?:for_each|foreach|_walk|for_all)\w*)[ \t]*" + _ARGS + rb"(?=[ \t]*\n?[ \t]*[\w(*])"
)
_TYPE_ARG = re.compile(
    rb"(?<=[(,])([ \t\n]*)(?:(?P<tag>struct|union|enum)[ \t\n]+\w+|"
    rb"(?:(?:const|unsigned|signed|int|long|short|char|void|bool|_Bool|float|double)\b[ \t]*)+)"
    rb"[ \t\n]*(?P<star>(?:\*[ \t]*)*)(?=[ \t\n]*[,)])"
)
_STR_PREFIX = re.compile(
    rb"(?<=[(,])([ \t\n]*)((?:[A-Z_][A-Z0-9_]*[ \t\n]+)+)(?=[A-Z_][A-Z0-9_]*[ \t\n]*\")"
)


def _self_contained(cv: bytearray, a: int, b: int) -> bool:
    depth = 0
    for m in _BRACKETS.finditer(cv, a, b):
        depth += 1 if cv[m.start()] in b"{(" else -1
        if depth < 0:
            return False
    return depth == 0


def _conditionals(t: _Text) -> None:
    cv = t.cv
    # Each open group: list of branches [dir_start, dir_end, is_if0].
    stack: list[list[tuple[int, int, bool]]] = []
    for s, e, d in t.dirs:
        if d in (b"if", b"ifdef", b"ifndef"):
            stack.append([(s, e, _IF0.match(t.out, s) is not None)])
        elif not stack:
            t.blank(s, e)  # orphan (chunk starts inside a group)
        elif d == b"endif":
            _resolve(t, stack.pop(), (s, e))
        else:
            stack[-1].append((s, e, False))
    while stack:
        _resolve(t, stack.pop(), None)
    del cv


def _resolve(t: _Text, branches: list[tuple[int, int, bool]], end: tuple[int, int] | None) -> None:
    cv = t.cv
    stop = end[0] if end is not None else len(cv)
    bodies = [
        (branches[i][1], branches[i + 1][0] if i + 1 < len(branches) else stop, branches[i][2])
        for i in range(len(branches))
    ]
    live = []
    for a, b, zero in bodies:
        if zero:
            t.blank(a, b)
        else:
            live.append((a, b))
    directives = [(s, e) for s, e, _ in branches] + ([end] if end is not None else [])
    keep_dirs = end is not None
    if all(_self_contained(cv, a, b) for a, b in live):
        prev = _prev_sig(cv, branches[0][0])
        lasts = [cv[i] for a, b in live if (i := _prev_sig(cv, b)) >= a]
        firsts = [_word_at(cv, i) for a, b in live if (i := _next_sig(cv, a)) < b]
        if b"else" in firsts:
            keep_dirs = False  # `#ifdef X\n else if (...)`: no preproc node can hold it
        elif (prev < 0 or cv[prev] in b";{}") and all(c in b";{}" for c in lasts):
            pass  # whole statements/declarations: tree-sitter has preproc nodes
        elif all(c in b",&|+" for c in lasts):
            keep_dirs = False  # list/expression continuation: plain text parses
        else:
            keep_dirs = False
            for a, b in live[1:]:
                t.blank(a, b)
                t.dropped.append((a, b))
    else:
        keep_dirs = False
        for a, b in live[1:]:
            t.blank(a, b)
            t.dropped.append((a, b))
    if not keep_dirs:
        for s, e in directives:
            t.blank(s, e)


def _annotations(t: _Text) -> None:
    cv = t.cv
    edits: list[tuple[int, int]] = []
    for m in _DUNDER.finditer(cv):
        s, e = m.span()
        w = m.group()
        nx = _next_sig(cv, e)
        has_args = nx < len(cv) and cv[nx] == 0x28
        if has_args:
            close = _match_paren(cv, nx)
            if close < 0:
                continue
            if w in _ANNOT_CALL:
                edits.append((s, close))
                continue
            if not w.startswith(b"__") or _TYPE_WORD.match(w):
                continue
            p = _prev_sig(cv, s)
            if p >= 0 and (cv[p] == 0x2A or cv[p] in _IDCH):
                pw = _word_before(cv, p) if cv[p] in _IDCH else b""
                if pw not in _STORAGE and pw not in _KEYWORDS:
                    continue  # `type __name(` / `*__name(`: a declarator or call
            # `__xxx(...)` followed by an identifier or `{` cannot be a call.
            after = _next_sig(cv, close)
            if after < len(cv) and (cv[after] in _IDCH or cv[after] == 0x7B):
                if cv[after] in _IDCH and _word_at(cv, after) in (b"else",):
                    continue
                edits.append((s, close))
            continue
        if w in _ANNOT:
            edits.append((s, e))
            continue
        if _TYPE_WORD.match(w) or w.isupper() or w.endswith(b"__"):
            continue
        # Unknown `__xxx` between a type and a declarator.
        p = _prev_sig(cv, s)
        if p < 0 or nx >= len(cv):
            continue
        pc, nc = cv[p], cv[nx]
        if not (nc in _IDCH or nc == 0x2A):
            continue
        if pc in _IDCH:
            pw = _word_before(cv, p)
            if pw in _KEYWORDS or pw in _TAGS:
                continue
            if pw in _STORAGE:
                # `static __xxx int f` vs `static __mytype f(`
                n2 = _next_sig(cv, nx + len(_word_at(cv, nx)))
                if not (nc in _IDCH and n2 < len(cv) and cv[n2] in _IDCH | {0x2A}):
                    continue
            edits.append((s, e))
        elif pc == 0x2A or pc in b")]}":
            edits.append((s, e))
        elif pc == 0x28 and nc in _IDCH:
            # `(__force u16)` casts
            n2 = _next_sig(cv, nx + len(_word_at(cv, nx)))
            if n2 < len(cv) and cv[n2] in b")*":
                edits.append((s, e))
    for a, b in edits:
        t.blank(a, b)


def _stmt_position(cv: bytearray, s: int, iterator: bool) -> bool:
    p = _prev_sig(cv, s)
    if p < 0 or cv[p] in b";{}:":
        return True
    if cv[p] in _IDCH:
        return _word_before(cv, p) == b"else"
    return iterator and cv[p] == 0x29


def _terminate_call(t: _Text, s: int, close: int, name: bytes) -> bool:
    """Put a `;` in the whitespace after the call ending at `close`."""
    cv = t.cv
    i = close
    n = len(cv)
    while i < n and cv[i] in b" \t\r\n":
        if cv[i] in b" \t":
            t.put(i, b";")
            return True
        i += 1
    if len(name) >= 5:  # `name(args){` -> `while(args){`
        t.put(s, b"while" + b" " * (len(name) - 5))
        return True
    return False


def _call_before(cv: bytearray, close: int) -> tuple[int, bytes] | None:
    """For `)` ending at `close`, the start and name of the `name(` it closes."""
    op = _open_paren(cv, close - 1)
    if op < 0:
        return None
    q = _prev_sig(cv, op)
    if q < 0 or cv[q] not in _IDCH:
        return None
    name = _word_before(cv, q)
    if not name or name[:1].isdigit():
        return None
    return q + 1 - len(name), name


def _iterators(t: _Text) -> None:
    cv = t.cv
    depth = _Depth(cv)
    # Prefilter on `) {` rather than trying a nested-paren regex at every word.
    for m in list(_PAREN_BLOCK.finditer(cv)):
        hit = _call_before(cv, m.start() + 1)
        if hit is None:
            continue
        s, name = hit
        if name in _KEYWORDS or name in _STORAGE:
            continue
        if not _stmt_position(cv, s, b"for_each" in name):
            continue
        if depth.at(s) > 0:
            _terminate_call(t, s, m.start() + 1, name)
        elif len(name) >= 5 and name[:1].isupper():
            # top-level function-defining macro: `SYSCALL_DEFINE3(...) {`
            t.put(s, b"int ")
    for m in list(_ITER_WORD.finditer(cv)):
        s = m.start()
        while s > 0 and cv[s - 1] in _IDCH:
            s -= 1
        name = _word_at(cv, s)
        close = _match_paren(cv, m.end() - 1)
        if close < 0:
            continue
        nx = _next_sig(cv, close)
        if nx >= len(cv) or not (cv[nx] in _IDCH or cv[nx] in b"(*"):
            continue
        if depth.at(s) > 0 and _stmt_position(cv, s, True):
            _terminate_call(t, s, close, name)


def _call_args(t: _Text) -> None:
    cv = t.cv
    depth = _Depth(cv)
    edits: list[tuple[int, bytes]] = []

    def in_call(pos: int) -> bool:
        p = _prev_sig(cv, pos)
        if p < 0:
            return False
        if cv[p] == 0x2C:
            return True
        if cv[p] != 0x28:
            return False
        q = _prev_sig(cv, p)
        if q < 0 or cv[q] not in _IDCH:
            return False
        return _word_before(cv, q) not in _KEYWORDS

    for m in _TYPE_ARG.finditer(cv):
        a = m.end(1)
        # depth 0: parameter lists of prototypes, not macro arguments
        if m.group().strip() == b"void" or depth.at(a) == 0 or not in_call(m.start()):
            continue
        if m.group("tag") and not m.group("star"):
            edits.append((m.start("tag"), b" " * len(m.group("tag"))))
        else:
            edits.append((a, bytes(cv[a : m.end()]).rstrip().translate(_UNDERSCORE)))
    for m in _STR_PREFIX.finditer(cv):
        edits.append((m.start(2), m.group(2).translate(_BLANK)))
    for a, data in edits:
        t.put(a, data)


_CASE_RANGE = re.compile(rb"\bcase\b[^:;?]*?(\.\.\.)")
_BAD_NUMBER = re.compile(rb"(?<![\w.])(\d+)([A-Za-z_]\w*)")
_NUM_SUFFIX = re.compile(rb"[uUlLfF]{1,3}|[eEpP][+-]?\w*")
_OFFSETOF = re.compile(rb"\boffsetof(?=\s*\()")
_ATTR_AFTER = re.compile(rb"(?<=\])[ \t]*(__attribute__[ \t]*\(\()")
_MIDDLE_WORD = re.compile(
    rb"(?<![\w*])([A-Za-z_]\w*)[ \t]+([A-Za-z_]\w*)(?=[ \t\n]+\**[ \t]*[A-Za-z_]\w*[ \t]*\()"
)
_TYPE_KW = frozenset(
    b"""unsigned signed long short int char void bool _Bool float double const volatile
    static extern inline struct union enum register auto typedef __inline__""".split()
)
_CAPS_SPEC = re.compile(rb"\b[A-Z][A-Z0-9_]{2,}(?=[ \t\n]+[A-Za-z_]\w*[ \t\n*]+[A-Za-z_*])")


def _misc(t: _Text) -> None:
    cv = t.cv
    # GNU `case 1 ... 5:` ranges -> `case 1 +   5:`
    for m in _CASE_RANGE.finditer(cv):
        t.put(m.start(1), b"+  ")
    # token-pasting arguments like `40BIT_DMA_BUG` -> `__BIT_DMA_BUG`
    for m in _BAD_NUMBER.finditer(cv):
        num, rest = m.group(1), m.group(2)
        if _NUM_SUFFIX.fullmatch(rest) or (num[:1] == b"0" and rest[:1] in b"xXbB"):
            continue
        t.put(m.start(1), b"_" * len(num))
    # `offsetof(type, a.b[0])`: tree-sitter only takes a plain member; make it a call
    for m in _OFFSETOF.finditer(cv):
        t.put(m.start(), b"_")
    depth_top = _Depth(cv)
    for m in _ATTR_AFTER.finditer(cv):
        close = _match_paren(cv, m.end(1) - 2)
        if close > 0:
            t.blank(m.start(1), close)
    # top-level `type MACRO name(`: the middle word is an annotation macro
    for m in _MIDDLE_WORD.finditer(cv):
        w1 = m.group(1)
        if w1 in _TYPE_KW or w1 in _KEYWORDS or m.group(2) in _TYPE_KW:
            continue
        p = _prev_sig(cv, m.start())
        if p >= 0 and cv[p] in _IDCH and _word_before(cv, p) in _TAGS:
            continue
        if depth_top.at(m.start()) == 0:
            t.blank(m.start(2), m.end(2))
    # top-level ALL_CAPS specifier macros: `INDIRECT_CALLABLE_SCOPE int f(`
    depth = _Depth(cv)
    for m in _CAPS_SPEC.finditer(cv):
        s = m.start()
        p = _prev_sig(cv, s)
        if (p < 0 or cv[p] in b";}") and depth.at(s) == 0:
            t.blank(s, m.end())


_Pass = Callable[[_Text], None]
_PASSES: tuple[_Pass, ...] = (_conditionals, _annotations, _misc, _iterators, _call_args)


def normalize(src: bytes) -> bytes:
    """Return `src` rewritten in place (same length, same newlines) for tree-sitter-c."""
    return normalize_dropping(src)[0]


def normalize_dropping(src: bytes) -> tuple[bytes, list[tuple[int, int]]]:
    """`normalize(src)` and the byte ranges [start, end) of the live `#if` arms it had to
    blank (braces that do not balance across the arms): code the parse does not see."""
    t = _Text(src)
    for p in _PASSES:
        p(t)
    return bytes(t.out), sorted(t.dropped)


def error_free(tree: object) -> bool:
    """True when a tree-sitter Tree/Node has no ERROR or MISSING node."""
    node = getattr(tree, "root_node", tree)
    return not bool(node.has_error)  # type: ignore[attr-defined]
