"""Patterns that can take exponential time are refused before an import starts.

Role: Python's `re` backtracks and cannot be interrupted (and Pyodide has neither threads nor signals), so a
column rule like `(\\w+\\s?)*` on a 40-character cell hangs the worker for good. `pattern_risk(pattern)` says
why a pattern is refused, or None. `ColumnSpec`'s regex validator refuses with `risk_sentence`; the page's
own check (py/ui/client/patterns.py, MicroPython) runs the same analysis on its own parse of the pattern, and
tests/importer/test_patterns.py checks that both agree.

The analysis: the pattern, read by `parse` (a reader of Python's syntax in the MicroPython/CPython common
subset, so the page reads it the same way; `re._parser` would differ, as it folds `(\\w|\\d)` into one set),
becomes a small tree; the tree becomes a position (Glushkov) automaton whose characters are tested on a fixed set of
representative characters plus every character the pattern names. The pattern is refused when:
- it has exponential ambiguity: some text can go round a repeat in two different ways and come back to the
  same place (two distinct paths from a state to itself on one word: a strongly connected component of the
  automaton squared holding a pair (q, q) and a pair (p, r) with p != r). This is what `(a+)+`,
  `(\\w+\\s?)*`, `(a|a)*`, `(\\w|\\d)+`, `(.*a){12}` and `(a|a?)+` have, and `[a-z]+(-[a-z]+)*`, `(ab)+`,
  `(\\d+\\.){3}\\d+` do not. A bounded repeat {m,n} with n >= 2 counts as unbounded (so `(a+){10}` is
  refused too), atomic groups and possessive repeats are analysed as ordinary ones, lookarounds are analysed
  on their own;
- it repeats a backreference (`(a)(b\\1)*`);
- it is too large to analyse quickly (over `_WORK_LIMIT` steps).
Polynomial patterns (like `\\d+\\d+x`) pass, and the length of a value they are matched against is capped
instead: `degree` bounds the exponent d of the backtracking steps (about n**d for n characters) and
`length_cap(d)` keeps n**d under `STEP_BUDGET` (10,000 characters for d = 1, 1,581 for d = 2, 135 for d = 3);
`match_cap(pattern)` gives both, validate.py rejects a longer value unchecked, and the import job sizes its
slices so that the values of one slice cannot cost more than `ImportEnv.slice_steps` together.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Node = tuple[Any, ...]


def pattern_risk(pattern: str) -> str | None:
    """Why matching `pattern` can take exponential time (a phrase for `risk_sentence`), or None.

    `pattern` must compile (the caller checks that first). A pattern this module cannot read is left alone,
    as the page does (the batch time budget and the engine's stall rule remain)."""
    try:
        return analyse(parse(pattern))
    except Exception:  # a gap in the reader must neither refuse a pattern nor crash an import
        return None


def match_cap(pattern: str) -> tuple[int, int]:
    """(degree, longest value matched) for a pattern that compiles and `pattern_risk` accepts: values longer than
    the cap are rejected unchecked, so one value costs at most about STEP_BUDGET steps. A pattern this module
    cannot read (none is known: a hypothesis test reads every pattern it makes) gets degree 3, 135 characters."""
    try:
        found = degree(parse(pattern))
    except Exception:  # a gap in the reader must not crash an import; cap short rather than not at all
        found = 3
    return found, length_cap(found)


# --- shared core: the same text is in py/ui/client/patterns.py (MicroPython); a test keeps them equal ---

NESTED = "it repeats a part that itself repeats, like (a+)+"
OVERLAP = "it repeats alternatives that can match the same text, like (a|a)*"
AMBIGUOUS = "it repeats a part that can match the same text in more than one way, like (a?a)+"
BACKREF = "it repeats a backreference, like (a)(b\\1)*"
COMPLEX = "it is too complex to check for slow matching"
_WORK_LIMIT = 200000
_FIXED = (97, 65, 122, 90, 48, 57, 95, 32, 9, 10, 13, 45, 46, 64, 33, 47, 44, 43, 0)
_FIXED_WIDE = (0xE9, 0xC9, 0x663, 0xA0, 0x2028, 0x20AC, 0x4E2D, 0xFF10)
_SPACES = (9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)


_CONTROL = {"n": 10, "t": 9, "r": 13, "f": 12, "v": 11, "a": 7}
_HEX_SIZE = {"x": 2, "u": 4, "U": 8}
_FLAG_LETTERS = "aiLmsux"
_OCTAL = "01234567"
_DIGITS = "0123456789"
_SPACE_TEXT = " \t\n\r\v\f"


def parse(pattern: str) -> Node:
    """The analysis tree (see `analyse`) of a pattern Python compiles, read as Python's `re` reads it."""
    reader = _Reader(pattern)
    return reader.alternatives(reader.leading_flags())


class _Reader:
    """A recursive-descent reader of Python's regular expression syntax, for patterns known to compile."""

    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0

    def leading_flags(self) -> str:
        p, flags = self.p, ""
        while p.startswith("(?", self.i):
            j = self.i + 2
            while j < len(p) and p[j] in _FLAG_LETTERS:
                j += 1
            if j == self.i + 2 or j >= len(p) or p[j] != ")":
                break
            flags += p[self.i + 2 : j]
            self.i = j + 1
        return flags

    def alternatives(self, flags: str) -> Node:
        branches = [self.sequence(flags)]
        while self.i < len(self.p) and self.p[self.i] == "|":
            self.i += 1
            branches.append(self.sequence(flags))
        return branches[0] if len(branches) == 1 else ("a", branches)

    def sequence(self, flags: str) -> Node:
        items = []
        while self.i < len(self.p) and self.p[self.i] not in "|)":
            atom = self.atom(flags)
            if atom is not None:
                items.append(self.quantified(atom, flags))
        return items[0] if len(items) == 1 else ("s", items)

    def skip(self, flags: str) -> None:
        """Verbose mode: step over white space and comments."""
        p = self.p
        while "x" in flags and self.i < len(p):
            if p[self.i] in _SPACE_TEXT:
                self.i += 1
            elif p[self.i] == "#":
                end = p.find("\n", self.i)
                self.i = len(p) if end < 0 else end + 1
            else:
                return

    def atom(self, flags: str) -> Node | None:
        self.skip(flags)
        p, i = self.p, self.i
        if i >= len(p) or p[i] in "|)":
            return None
        c = p[i]
        if c == "(":
            return self.group(flags)
        if c == "[":
            return self.char_set(flags)
        if c == "\\":
            return self.escape(flags)
        self.i = i + 1
        if c == ".":
            return ("c", True, [] if "s" in flags else [("l", 10)], False)
        if c in "^$":
            return ("e",)
        return ("c", False, [("l", ord(c))], "i" in flags)

    def quantified(self, atom: Node, flags: str) -> Node:
        self.skip(flags)
        p, i = self.p, self.i
        c = p[i] if i < len(p) else ""
        if c == "*":
            lo, hi, end = 0, None, i + 1
        elif c == "+":
            lo, hi, end = 1, None, i + 1
        elif c == "?":
            lo, hi, end = 0, 1, i + 1
        elif c == "{":
            lo, hi, end = self.braces(i)
            if end < 0:
                return atom
        else:
            return atom
        if end < len(p) and p[end] in "?+":
            end += 1  # lazy or possessive
        self.i = end
        return ("r", lo, hi, atom)

    def braces(self, at: int) -> tuple[int, int | None, int]:
        """(lo, hi, end) of a {m,n} repeat at `at`; end -1 when the brace is a literal character."""
        p = self.p
        j = at + 1
        while j < len(p) and p[j] in _DIGITS:
            j += 1
        low = p[at + 1 : j]
        high = low
        if j < len(p) and p[j] == ",":
            k = j + 1
            while k < len(p) and p[k] in _DIGITS:
                k += 1
            high = p[j + 1 : k]
            j = k
            if not high:
                high = "none"
        if j >= len(p) or p[j] != "}" or (not low and high == low):
            return 0, None, -1
        return int(low) if low else 0, None if high == "none" else int(high), j + 1

    def escape(self, flags: str) -> Node:
        p, i = self.p, self.i
        c = p[i + 1] if i + 1 < len(p) else ""
        self.i = i + 2
        icase = "i" in flags
        if c and c in "dDsSwW":
            return ("c", False, [("k", c)], icase)
        if c and c in "AbBZz":
            return ("e",)
        if c and c in _DIGITS:
            if c == "0":
                j = i + 2
                while j < len(p) and j < i + 4 and p[j] in _OCTAL:
                    j += 1
                self.i = j
                return ("c", False, [("l", int(p[i + 1 : j], 8))], icase)
            if i + 2 < len(p) and p[i + 2] in _DIGITS:
                if c in _OCTAL and p[i + 2] in _OCTAL and i + 3 < len(p) and p[i + 3] in _OCTAL:
                    self.i = i + 4
                    return ("c", False, [("l", int(p[i + 1 : i + 4], 8))], icase)
                self.i = i + 3
            return ("b",)
        return ("c", False, [("l", self.escaped_code(c))], icase)

    def escaped_code(self, c: str) -> int:
        """The character an escape letter `c` stands for; self.i is just past the letter."""
        p = self.p
        if c in _CONTROL:
            return _CONTROL[c]
        if c in _HEX_SIZE:
            digits = p[self.i : self.i + _HEX_SIZE[c]]
            self.i += _HEX_SIZE[c]
            try:
                return int(digits, 16)
            except ValueError:
                return 0xE000
        if c == "N":
            end = p.find("}", self.i)
            self.i = len(p) if end < 0 else end + 1
            return 0xE000  # a named character: its name is not known here
        return ord(c) if c else 0

    def set_item(self, i: int) -> tuple[int, int, Node | None]:
        """(code, end, category item or None) of one member of a character set at `i`."""
        p = self.p
        if p[i] != "\\" or i + 1 >= len(p):
            return ord(p[i]), i + 1, None
        c = p[i + 1]
        if c in "dDsSwW":
            return 0, i + 2, ("k", c)
        if c == "b":
            return 8, i + 2, None
        if c in _DIGITS:
            j = i + 1
            while j < len(p) and j < i + 4 and p[j] in _OCTAL:
                j += 1
            return int(p[i + 1 : j] or "0", 8), max(j, i + 2), None
        self.i = i + 2
        code = self.escaped_code(c)
        return code, self.i, None

    def char_set(self, flags: str) -> Node:
        p = self.p
        i = self.i + 1
        negate = i < len(p) and p[i] == "^"
        if negate:
            i += 1
        items: list[Node] = []
        first = True
        while i < len(p) and (first or p[i] != "]"):
            first = False
            code, i, category = self.set_item(i)
            if category is not None:
                items.append(category)
                continue
            if i + 1 < len(p) and p[i] == "-" and p[i + 1] != "]":
                high, j, other = self.set_item(i + 1)
                if other is None:
                    items.append(("r", code, high))
                    i = j
                    continue
            items.append(("l", code))
        self.i = i + 1
        return ("c", negate, items, "i" in flags)

    def group(self, flags: str) -> Node | None:
        p, i = self.p, self.i
        c = p[i + 2] if p.startswith("(?", i) and i + 2 < len(p) else ""
        if not c:
            self.i = i + 1
            return self.closed(flags)
        if c == "#":
            end = p.find(")", i)
            self.i = len(p) if end < 0 else end + 1
            return None
        if c in ":>":
            self.i = i + 3
            return self.closed(flags)
        if c in "=!":
            self.i = i + 3
            return ("z", self.closed(flags))
        if c == "<" and p[i + 3 : i + 4] in ("=", "!"):
            self.i = i + 4
            return ("z", self.closed(flags))
        if c == "P" and p[i + 3 : i + 4] == "=":
            end = p.find(")", i)
            self.i = len(p) if end < 0 else end + 1
            return ("b",)
        if c == "P":
            end = p.find(">", i)
            self.i = len(p) if end < 0 else end + 1
            return self.closed(flags)
        if c == "(":
            end = p.find(")", i + 3)
            self.i = len(p) if end < 0 else end + 1
            body = self.closed(flags)
            return body if body[0] == "a" else ("a", [body, ("e",)])
        j = i + 2
        while j < len(p) and p[j] in _FLAG_LETTERS:
            j += 1
        add = p[i + 2 : j]
        remove = ""
        if j < len(p) and p[j] == "-":
            k = j + 1
            while k < len(p) and p[k] in _FLAG_LETTERS:
                k += 1
            remove = p[j + 1 : k]
            j = k
        if j < len(p) and p[j] == ")":
            self.i = j + 1  # global flags, read by leading_flags
            return None
        self.i = j + 1
        scoped = ""
        for letter in flags + add:
            if letter not in remove and letter not in scoped:
                scoped += letter
        return self.closed(scoped)

    def closed(self, flags: str) -> Node:
        """The alternatives up to the group's ')', which is skipped."""
        body = self.alternatives(flags)
        self.i += 1
        return body


def risk_sentence(pattern: str, why: str) -> str:
    """The sentence that refuses `pattern` for reason `why` (from `analyse`)."""
    return (
        "The pattern '" + pattern + "' is refused: " + why + ", so checking some values could take "
        "exponential time. Rewrite it so that a value can match it in only one way, or clear it."
    )


def analyse(tree: Node) -> str | None:
    """Why a pattern tree can take exponential time to match, or None.

    Nodes: ("c", negate, items, icase) one character (items: ("l", code), ("r", lo, hi), ("k", "d" | "D" |
    "s" | "S" | "w" | "W")); ("s", [nodes]) a sequence; ("a", [nodes]) alternatives; ("r", lo, hi, node) a
    repeat (hi None: unbounded); ("e",) zero-width; ("b",) a backreference; ("z", node) a lookaround.
    """
    if _repeats_backref(tree, False):
        return BACKREF
    tree = _expand(tree, [4000])
    looks: list[Node] = []
    verdict = _ambiguous(tree, looks)
    if verdict == "complex":
        return COMPLEX
    if verdict == "ambiguous":
        return _culprit(tree)
    for look in looks:
        why = analyse(look)
        if why:
            return why
    return None


def _loops(node: Node) -> bool:
    return node[0] == "r" and (node[2] is None or node[2] > 1)


def _repeats_backref(node: Node, inside: bool) -> bool:
    kind = node[0]
    if kind == "b":
        return inside
    if kind in ("s", "a"):
        return any(_repeats_backref(child, inside) for child in node[1])
    if kind == "r":
        return _repeats_backref(node[3], inside or _loops(node))
    if kind == "z":
        return _repeats_backref(node[1], inside)
    return False


def _has(node: Node, kinds: tuple[str, ...], loops_only: bool) -> bool:
    kind = node[0]
    if kind in kinds and (not loops_only or _loops(node)):
        return True
    if kind in ("s", "a"):
        for child in node[1]:
            if _has(child, kinds, loops_only):
                return True
    elif kind == "r":
        return _has(node[3], kinds, loops_only)
    return False


def _culprit(tree: Node) -> str:
    """The reason, from the smallest repeat that is ambiguous on its own."""
    stack = [tree]
    repeats: list[Node] = []
    while stack:
        node = stack.pop()
        if node[0] in ("s", "a"):
            stack.extend(node[1])
        elif node[0] == "r":
            repeats.append(node)
            stack.append(node[3])
    for node in reversed(repeats):  # inner repeats come after their outer ones
        if _loops(node) and _ambiguous(node, []) == "ambiguous":
            body = node[3]
            if _has(body, ("r",), True):
                return NESTED
            if _has(body, ("a",), False):
                return OVERLAP
            return AMBIGUOUS
    return AMBIGUOUS


def _other_case(c: int) -> int:
    if 65 <= c <= 90:
        return c + 32
    if 97 <= c <= 122:
        return c - 32
    return c


def _is_digit(c: int) -> bool:
    return 48 <= c <= 57 or 0x660 <= c <= 0x669 or 0x6F0 <= c <= 0x6F9 or 0x966 <= c <= 0x96F or 0xFF10 <= c <= 0xFF19


def _is_space(c: int) -> bool:
    return c in _SPACES or 0x2000 <= c <= 0x200A


def _is_word(c: int) -> bool:
    if c < 128:
        return 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 or c == 95
    if _is_digit(c):
        return True
    if c < 0xC0 or _is_space(c) or c in (0xD7, 0xF7):
        return False
    return not (0x2000 <= c <= 0x2BFF or 0x3000 <= c <= 0x303F or 0xFE30 <= c <= 0xFE4F or 0xFF00 <= c <= 0xFF0F)


def _category_has(letter: str, c: int) -> bool:
    low = letter.lower()
    if low == "d":
        hit = _is_digit(c)
    elif low == "s":
        hit = _is_space(c)
    else:
        hit = _is_word(c)
    return hit if letter == low else not hit


def _class_has(node: Node, c: int) -> bool:
    negate, items, icase = bool(node[1]), node[2], node[3]
    codes = (c, _other_case(c)) if icase else (c,)
    for code in codes:
        for item in items:
            if item[0] == "l":
                hit = item[1] == code
            elif item[0] == "r":
                hit = item[1] <= code <= item[2]
            else:
                hit = _category_has(item[1], code)
            if hit:
                return not negate
    return negate


def _alphabet(tree: Node) -> list[int]:
    """Representative characters: a fixed set, and every character the pattern names (both cases)."""
    codes: set[int] = set(_FIXED + _FIXED_WIDE)
    stack = [tree]
    while stack:
        node = stack.pop()
        kind = node[0]
        if kind == "c":
            for item in node[2]:
                if item[0] == "l":
                    codes.add(item[1])
                    codes.add(_other_case(item[1]))
                elif item[0] == "r":
                    for code in (item[1], item[2], item[1] + 1, max(item[2] - 1, 0)):
                        codes.add(code)
                        codes.add(_other_case(code))
        elif kind in ("s", "a"):
            stack.extend(node[1])
        elif kind == "r":
            stack.append(node[3])
    return sorted(codes)


def _expand(node: Node, budget: list[int]) -> Node:
    """Unroll a counted repeat of a part without unbounded repeats (X{2,3} is X X (X)?), so `(\\d{3})+`
    is read as exactly as it matches; other counted repeats (of a part that loops, or over 16 times)
    stay and count as unbounded."""
    kind = node[0]
    if kind in ("s", "a"):
        return (kind, [_expand(child, budget) for child in node[1]])
    if kind == "z":
        return ("z", _expand(node[1], budget))
    if kind != "r":
        return node
    lo, hi = node[1], node[2]
    body = _expand(node[3], budget)
    count = hi if hi is not None else lo
    if hi == 1 or _has(body, ("r",), True) or count > 16 or budget[0] < count:
        return ("r", lo, hi, body)
    budget[0] -= count
    items = [body] * lo
    if hi is None:
        if lo == 0:
            return ("r", 0, None, body)
        items[-1] = ("r", 1, None, body)
    else:
        optional: Node = ("e",)
        for _ in range(hi - lo):
            optional = ("r", 0, 1, ("s", [body, optional]))
        items.append(optional)
    return ("s", items)


def _positions(
    node: Node, alphabet: list[int], auto: list[list[Any]], looks: list[Node]
) -> tuple[list[int], list[int], bool]:
    """Add the positions of `node` to the automaton `auto` ([masks, follow]; follow[p] lists (q, edge id),
    one entry per way of going from p to q); return (first, last, nullable)."""
    masks, follow = auto[0], auto[1]
    kind = node[0]
    if kind == "c":
        mask = 0
        for i in range(len(alphabet)):
            if _class_has(node, alphabet[i]):
                mask |= 1 << i
        masks.append(mask)
        follow.append([])
        p = len(masks) - 1
        return [p], [p], False
    if kind == "s":
        first: list[int] = []
        last: list[int] = []
        nullable = True
        for child in node[1]:
            f, ends, n = _positions(child, alphabet, auto, looks)
            _link(auto, last, f)
            if nullable:
                first = first + f
            last = (last + ends) if n else ends
            nullable = nullable and n
        return first, last, nullable
    if kind == "a":
        first = []
        last = []
        nullable = False
        for child in node[1]:
            f, ends, n = _positions(child, alphabet, auto, looks)
            first = first + f
            last = last + ends
            nullable = nullable or n
        return first, last, nullable
    if kind == "r":
        if node[2] == 0:
            return [], [], True
        f, ends, n = _positions(node[3], alphabet, auto, looks)
        if _loops(node):
            _link(auto, ends, f)
        return f, ends, n or node[1] == 0
    if kind == "z":
        looks.append(node[1])
    return [], [], True


def _link(auto: list[list[Any]], sources: list[int], targets: list[int]) -> None:
    follow = auto[1]
    for x in sources:
        for y in targets:
            auto[2].append(0)
            follow[x].append((y, len(auto[2])))


def _ambiguous(tree: Node, looks: list[Node]) -> str:
    """Return "ambiguous" when two distinct paths lead from a state back to itself on one word (an edge of the
    squared automaton that takes two different ways, inside a strongly connected component that holds a
    pair (q, q)), "complex" when the check would take too long, else ""."""
    alphabet = _alphabet(tree)
    auto: list[list[Any]] = [[0], [[]], []]
    first = _positions(tree, alphabet, auto, looks)[0]
    _link(auto, [0], first)
    masks, follow = auto[0], auto[1]
    size = len(masks)
    work = [0]
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    component: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    calls = [(0, _pairs(0, size, follow, masks, work))]
    index[0] = low[0] = 0
    stack.append(0)
    on_stack.add(0)
    while calls:
        if work[0] > _WORK_LIMIT:
            return "complex"
        v, it = calls[-1]
        pushed = False
        for w, _ in it:
            if w not in index:
                index[w] = low[w] = len(index)
                stack.append(w)
                on_stack.add(w)
                calls.append((w, _pairs(w, size, follow, masks, work)))
                pushed = True
                break
            if w in on_stack and index[w] < low[v]:
                low[v] = index[w]
        if pushed:
            continue
        calls.pop()
        if calls:
            u = calls[-1][0]
            if low[v] < low[u]:
                low[u] = low[v]
        if low[v] == index[v]:
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component[w] = v
                if w == v:
                    break
    diagonal = set()
    for v in component:
        if v // size == v % size:
            diagonal.add(component[v])
    for v in component:
        if component[v] not in diagonal:
            continue
        for w, apart in _pairs(v, size, follow, masks, work):
            if apart and component[w] == component[v]:
                return "ambiguous"
        if work[0] > _WORK_LIMIT:
            return "complex"
    return ""


def _pairs(v: int, size: int, follow: list[Any], masks: list[int], work: list[int]) -> Iterator[tuple[int, bool]]:
    """The successors of pair `v` in the squared automaton, and whether the two sides took different edges."""
    p, q = v // size, v % size
    for a, ea in follow[p]:
        for b, eb in follow[q]:
            work[0] += 1
            if masks[a] & masks[b]:
                yield a * size + b, ea != eb


LENGTH_LIMIT = 10000
"""No value longer than this is matched against a pattern, however simple (a reject says it is too long)."""
STEP_BUDGET = 2500000
"""The most backtracking steps one value may cost: a pattern of degree d is matched against values of at most
`length_cap(d)` characters, as n**d <= STEP_BUDGET (3 to 20 ms of CPython's `re`, bench/runaway.py)."""


def length_cap(degree: int) -> int:
    """The longest value a pattern of `degree` (see `degree`) is matched against: 10,000, 1,581, 135, 39..."""
    cap = int(STEP_BUDGET ** (1.0 / degree))
    while (cap + 1) ** degree <= STEP_BUDGET:
        cap += 1
    while cap > 1 and cap ** degree > STEP_BUDGET:
        cap -= 1
    return min(cap, LENGTH_LIMIT)


def degree(tree: Node) -> int:
    """The exponent d such that matching a value of n characters can take about n**d steps of a backtracking
    matcher, for a tree `analyse` accepts (no exponential ambiguity): 1 for most patterns, 2 for `\\d+\\d+x`
    or `.*foo.*`, 3 for `.*.*.*=`. An upper bound: it may say more than a matcher ever takes, never less.

    It is the longest chain of repeated positions p1, p2, ... (each on a loop of the position automaton) in
    which text that loops on p(i) can also lead from p(i) to p(i+1), and text that leads from p(i) to p(i+1) can
    also loop on p(i+1) (the squared automaton goes (p, p) to (p, q) and (p, q) to (q, q)): each link adds a
    place where the matcher may split the text, so a failing value is tried in n**(chain) ways. A
    backreference adds one (comparing text is linear), and so does the costliest lookaround, which may run
    at every step. Past `_WORK_LIMIT` it falls back to the number of repeated positions plus one."""
    tree = _expand(tree, [4000])
    looks: list[Node] = []
    alphabet = _alphabet(tree)
    auto: list[list[Any]] = [[0], [[]], []]
    first = _positions(tree, alphabet, auto, looks)[0]
    _link(auto, [0], first)
    result = _chain(auto[0], auto[1])
    if _has(tree, ("b",), False):
        result += 1
    extra = 0
    for look in looks:
        extra = max(extra, degree(look))
    return max(result, 1) + extra


def _chain(masks: list[int], follow: list[Any]) -> int:
    """The longest chain of looping positions (see `degree`) of the automaton (masks, follow)."""
    size = len(masks)
    work = [0]
    loops = [p for p in range(1, size) if p * size + p in _reach(p * size + p, size, follow, masks, work, True)]
    reached: dict[int, set[int]] = {}

    def reach(v: int) -> set[int]:
        if v not in reached:
            reached[v] = _reach(v, size, follow, masks, work, False)
        return reached[v]

    links: dict[int, list[int]] = {}
    for p in loops:
        links[p] = []
        for q in loops:
            if q != p and p * size + q in reach(p * size + p) and q * size + q in reach(p * size + q):
                links[p].append(q)
            if work[0] > _WORK_LIMIT:
                return len(loops) + 1
    longest: dict[int, int] = {}
    for p in sorted(loops, key=lambda x: -x):  # a link goes forward in the pattern, mostly: fill from the end
        _longest(p, links, longest, len(loops))
    best = 0
    for length in longest.values():
        best = max(best, length)
    return best


def _longest(p: int, links: dict[int, list[int]], longest: dict[int, int], bound: int) -> int:
    """The longest chain from `p` (memoised in `longest`; a cycle, which `analyse` refuses, counts `bound`)."""
    stack = [(p, 0)]
    on_path: set[int] = set()
    while stack:
        v, i = stack.pop()
        if v in longest:
            continue
        on_path.add(v)
        if i < len(links[v]):
            stack.append((v, i + 1))
            w = links[v][i]
            if w in on_path:
                longest[v] = bound
                on_path.discard(v)
                stack.pop()
            elif w not in longest:
                stack.append((w, 0))
            continue
        best = 0
        for w in links[v]:
            best = max(best, longest.get(w, bound))
        longest[v] = min(best + 1, bound)
        on_path.discard(v)
    return longest[p]


def _reach(v: int, size: int, follow: list[Any], masks: list[int], work: list[int], strict: bool) -> set[int]:
    """The pairs reachable from pair `v` of the squared automaton (without `v` itself when `strict`, unless
    it is on a cycle)."""
    seen: set[int] = set()
    todo = [v]
    if strict:
        todo = [w for w, _ in _pairs(v, size, follow, masks, work)]
        seen.update(todo)
    else:
        seen.add(v)
    while todo and work[0] <= _WORK_LIMIT:
        u = todo.pop()
        for w, _ in _pairs(u, size, follow, masks, work):
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


# --- end of shared core ---
