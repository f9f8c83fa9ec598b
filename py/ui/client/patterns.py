"""A check of a regular expression's syntax as Python's `re` reads it, made on the page before Start.

Role: the rule `regex` of a column is compiled by Python's `re` in the worker (pydantic refuses a bad
one with `bad-params`). The page runs MicroPython, whose `re` knows far less, and a JavaScript RegExp
speaks another dialect (and its throw cannot be caught from MicroPython), so the common mistakes are
found here by a small scan: an unclosed group or character set, a stray ')', a repeat with nothing
before it or twice in a row, {m,n} with m > n, an unknown escape, a reversed range. It errs on the side
of "valid": anything it does not know is left to the worker, whose answer the page shows as well.
Messages read like Python's own ("missing ), unterminated subpattern at position 0").
"""

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
ESCAPES = "AbBdDsSwWZafnrtvxuUN"  # letter escapes Python knows outside a character set
SET_ESCAPES = "bdDsSwWafnrtvxuUN"  # ... and inside one
FLAGS = "aiLmsux"
DIGITS = "0123456789"
ASSERTIONS = "AbBZ"  # zero-width: "nothing to repeat" after them, as after ^ and $


def pattern_error(pattern):
    """Why `pattern` is not a valid Python regular expression (e.g. 'nothing to repeat at position 0'),
    or None when this scan finds nothing wrong."""
    scan = _Scan(pattern)
    try:
        scan.run()
    except _Bad as bad:
        return bad.args[0]
    return None


class _Bad(Exception):
    pass


class _Scan:
    def __init__(self, pattern):
        self.p = pattern
        self.i = 0
        self.open = []  # positions of the "(" not closed yet
        self.item = "none"  # what a repeat would apply to: none | atom | repeat
        self.flags_end = 0  # where the leading global flags, "(?i)", end

    def run(self):
        p = self.p
        while self.i < len(p):
            c = p[self.i]
            if c == "\\":
                self._escape(ESCAPES)
            elif c == "[":
                self._set()
            elif c == "(":
                self._group()
            elif c == ")":
                if not self.open:
                    raise _Bad("unbalanced parenthesis at position " + str(self.i))
                self.open.pop()
                self.i += 1
                self.item = "atom"
            elif c in "*+?":
                self._repeat(self.i + 1)
            elif c == "{":
                end = self._braces()
                if end < 0:
                    self.i += 1
                    self.item = "atom"
                else:
                    self._repeat(end)
            elif c in "|^$":
                self.i += 1
                self.item = "none"
            else:
                self.i += 1
                self.item = "atom"
        if self.open:
            raise _Bad("missing ), unterminated subpattern at position " + str(self.open[-1]))

    def _escape(self, known):
        p, at = self.p, self.i
        if at + 1 >= len(p):
            raise _Bad("bad escape (end of pattern) at position " + str(at))
        letter = p[at + 1]
        if letter in LETTERS and letter not in known:
            raise _Bad("bad escape \\" + letter + " at position " + str(at))
        self.i = at + 2
        self.item = "none" if known == ESCAPES and letter in ASSERTIONS else "atom"

    def _set(self):
        p, start = self.p, self.i
        j = start + 1
        if j < len(p) and p[j] == "^":
            j += 1
        first = True
        previous = None  # the last plain character, for ranges
        while j < len(p) and (first or p[j] != "]"):
            first = False
            if p[j] == "\\":
                self.i = j
                self._escape(SET_ESCAPES)
                j = self.i
                previous = None
            elif p[j] == "-" and previous is not None and j + 1 < len(p) and p[j + 1] not in "]\\[":
                if ord(previous) > ord(p[j + 1]):
                    raise _Bad("bad character range " + previous + "-" + p[j + 1] + " at position " + str(j - 1))
                j += 2
                previous = None
            else:
                previous = p[j]
                j += 1
        if j >= len(p):
            raise _Bad("unterminated character set at position " + str(start))
        self.i = j + 1
        self.item = "atom"

    def _group(self):
        p, at = self.p, self.i
        if not p.startswith("(?", at):
            self.open.append(at)
            self.i = at + 1
            self.item = "none"
            return
        rest = p[at + 2:]
        if rest.startswith("#"):
            end = p.find(")", at)
            if end < 0:
                raise _Bad("missing ), unterminated comment at position " + str(at))
            self.i = end + 1
            return
        if rest.startswith("P="):
            end = p.find(")", at)
            self.i = (end + 1) if end >= 0 else len(p)
            self.item = "atom"
            return
        flags = 0
        while flags < len(rest) and (rest[flags] in FLAGS or rest[flags] == "-"):
            flags += 1
        if flags and rest[flags:flags + 1] == ")":
            if at > self.flags_end and rest[0] != "-":
                raise _Bad("global flags not at the start of the expression at position " + str(at))
            self.i = at + 3 + flags
            if at == self.flags_end:
                self.flags_end = self.i
            return
        self.open.append(at)
        self.i = at + 2
        self.item = "none"

    def _braces(self):
        """The end of a {m,n} repeat starting at self.i (its m > n is an error), or -1 when the brace is
        a literal character."""
        p, at = self.p, self.i
        j = at + 1
        if j < len(p) and p[j] == "}":
            return -1
        lo = hi = ""
        while j < len(p) and p[j] in DIGITS:
            lo += p[j]
            j += 1
        if j < len(p) and p[j] == ",":
            j += 1
            while j < len(p) and p[j] in DIGITS:
                hi += p[j]
                j += 1
        else:
            hi = lo
        if j >= len(p) or p[j] != "}":
            return -1
        if lo and hi and int(hi) < int(lo):
            raise _Bad("min repeat greater than max repeat at position " + str(at + 1))
        return j + 1

    def _repeat(self, end):
        at = self.i
        if self.item == "none":
            raise _Bad("nothing to repeat at position " + str(at))
        if self.item == "repeat":
            raise _Bad("multiple repeat at position " + str(at))
        self.i = end
        if self.i < len(self.p) and self.p[self.i] in "?+":
            self.i += 1  # lazy or possessive
        self.item = "repeat"
