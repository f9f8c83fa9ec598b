"""Column rules of the import draft: checks made on the page before Start, and dates read both ways.

Role: `ImportDraft` asks `rule_errors()` for the sentences the import view shows beside a rule's control
(min, max, regex: `patterns.py` scans a regex; email: text columns only, `EMAIL_TYPES`; a pattern works on
every type, matching the value as written in the file), so a rule that cannot work is fixed before anything is
staged. The worker checks the options again (pydantic); `explain_options_error()` turns its
`bad-params` text into a sentence that names the column. `date_order()` and `read_date()` let the user
settle a day/month ambiguity by example.
Pure Python in the MicroPython/CPython common subset (no f-strings with format specs, no dict order).
"""

from ui.client.patterns import pattern_error, pattern_risk, risk_sentence

NUMERIC_TYPES = ("integer", "real", "boolean")
DATE_TYPES = ("date", "datetime")
EMAIL_TYPES = ("text",)
"""The column types the email rule is offered for (the worker refuses it on the others)."""
RULE_FIELDS = ("min", "max", "regex", "email")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_FIELD_WORDS = {"min": "minimum", "max": "maximum", "regex": "pattern", "email": "email rule",
                "name": "name", "type": "type", "date_format": "date format", "source": "position"}


def rule_errors(spec):
    """What is wrong with the rules of one column spec, as [(field, sentence)] (empty: nothing)."""
    found = []
    kind = spec.get("type") or "text"
    bounds = {}
    for field in ("min", "max"):
        value = spec.get(field)
        if value is None:
            continue
        problem = _bound_problem(_FIELD_WORDS[field], _text(value), kind)
        if problem:
            found.append((field, problem))
        else:
            bounds[field] = _text(value)
    if "min" in bounds and "max" in bounds and _greater(bounds["min"], bounds["max"], kind):
        found.append(("max", "The maximum " + bounds["max"] + " is less than the minimum " + bounds["min"] +
                      ": swap them or change one."))
    if spec.get("email") and kind not in EMAIL_TYPES:
        found.append(("email", "The email rule is for text columns (this column is " + kind +
                      "): clear it or make the column text."))
    pattern = spec.get("regex")
    if pattern is not None:
        why = pattern_error(pattern)
        if why:
            found.append(("regex", "'" + pattern + "' is not a valid regular expression: " + why +
                          ". Fix the pattern or clear it."))
        elif pattern_risk(pattern):
            found.append(("regex", risk_sentence(pattern, pattern_risk(pattern))))
    return found


def bound_value(value):
    """A typed minimum or maximum as stored in the options: stripped text, None when blank."""
    if value is None:
        return None
    text = _text(value).strip()
    return text if text else None


def _bound_problem(word, text, kind):
    if kind in NUMERIC_TYPES and _number(text) is None:
        return "The " + word + " must be a number, like 0 or 2.5 (this column is " + kind + ")."
    if kind in DATE_TYPES and not _iso_date(text):
        return ("The " + word + " of a " + kind + " column is written YYYY-MM-DD (how dates are stored), "
                "like 2024-01-31.")
    return None


def _greater(low, high, kind):
    if kind in NUMERIC_TYPES:
        return _number(low) > _number(high)
    return low > high


def _number(text):
    """`text` as a finite float, or None (nan and inf are not bounds)."""
    try:
        value = float(text)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def _iso_date(text):
    head = text[:10]
    if len(head) != 10 or head[4] != "-" or head[7] != "-":
        return False
    digits = head[:4] + head[5:7] + head[8:]
    return digits.isdigit()


def _text(value):
    """A bound as the user typed it: 0.0 from the options shows as 0."""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


# -- dates ---------------------------------------------------------------------------------------------
def date_order(date_format):
    """'day first', 'month first' or 'year first': how a date format (e.g. DD/MM/YYYY) orders its fields."""
    day = date_format.find("DD")
    month = date_format.find("MM")
    year = date_format.find("YYYY")
    if 0 <= year < min(day, month):
        return "year first"
    return "day first" if 0 <= day < month else "month first"


def read_date(value, date_format):
    """How `value` reads under `date_format`, e.g. '1 Feb 2024' for 01/02/2024 as DD/MM/YYYY; None if it
    does not fit."""
    fmt = date_format.split(" ")[0]
    text = value.strip().replace("T", " ").split(" ")[0]
    sep = ""
    for char in fmt:
        if char not in "DMY":
            sep = char
            break
    if not sep:
        return None
    names = fmt.split(sep)
    parts = text.split(sep)
    if len(parts) != len(names):
        return None
    fields = {}
    for number, part in enumerate(parts):  # same length as names (checked above)
        if not part.isdigit():
            return None
        fields[names[number][:1]] = int(part)
    day, month, year = fields.get("D"), fields.get("M"), fields.get("Y")
    if day is None or month is None or year is None or not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    return str(day) + " " + MONTHS[month - 1] + " " + str(year)


# -- the worker's answer -------------------------------------------------------------------------------
def explain_options_error(message, columns):
    """The worker's `bad-params` text about the options, as sentences naming the column and the rule.

    `columns` are the draft's specs (to name column N). Text that is not a pydantic report comes back as
    it is.
    """
    lines = message.split("\n")
    found = []
    for i in range(len(lines) - 1):
        where = lines[i].strip()
        detail = lines[i + 1].strip()
        if not where or " " in where or not detail or "[type=" not in detail:
            continue
        detail = detail.split(" [type=")[0]
        if detail.startswith("Value error, "):
            detail = detail[len("Value error, "):]
        found.append(_place(where, columns) + detail)
    if not found:
        return message
    return "The worker refused these settings. " + " ".join(_sentence(f) for f in found)


def _place(where, columns):
    parts = where.split(".")
    if parts[0] != "columns" or len(parts) < 2 or not parts[1].isdigit():
        word = _FIELD_WORDS.get(parts[0], parts[0])
        return word[:1].upper() + word[1:] + ": " if word else ""
    index = int(parts[1])
    spec = columns[index] if index < len(columns) else {}
    label = "Column " + str(index + 1) + (" (" + spec["name"] + ")" if spec.get("name") else "")
    if len(parts) > 2:
        label += ", " + _FIELD_WORDS.get(parts[2], parts[2])
    return label + ": "


def _sentence(text):
    return text if text.endswith(".") else text + "."
