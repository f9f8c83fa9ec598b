"""How numbers, sizes, durations and times read on screen. Pure Python (MicroPython and CPython)."""


def count(value):
    """12345 -> '12,345'; None -> '—'."""
    if value is None:
        return "—"
    number = int(value)
    sign = "-" if number < 0 else ""
    digits = str(abs(number))
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[len(digits) - 3:])
        digits = digits[:len(digits) - 3]
    groups.insert(0, digits)
    return sign + ",".join(groups)


def size(value):
    """Bytes in decimal units: 0 B, 950 B, 12.3 kB, 4.5 MB, 1.2 GB; None -> '—'."""
    if value is None:
        return "—"
    amount = float(value)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if amount < 1000 or unit == "TB":
            if unit == "B":
                return str(int(amount)) + " B"
            return (f"{amount:.0f}" if amount >= 100 else f"{amount:.1f}") + " " + unit
        amount /= 1000
    return "—"


def duration(seconds):
    """Seconds as '850 ms', '12 s', '3 min 05 s', '2 h 04 min'; None -> '—'."""
    if seconds is None or seconds < 0:
        return "—"
    if seconds < 1:
        return str(int(seconds * 1000)) + " ms"
    if seconds < 60:
        return (f"{seconds:.1f}" if seconds < 10 else str(int(seconds))) + " s"
    whole = int(seconds)
    if whole < 3600:
        return str(whole // 60) + " min " + f"{whole % 60:02d}" + " s"
    return str(whole // 3600) + " h " + f"{whole // 60 % 60:02d}" + " min"


def rate(rows_per_s):
    """'12,340 rows/s'; None -> '—'."""
    if rows_per_s is None:
        return "—"
    return count(int(rows_per_s + 0.5)) + " rows/s"


def percent(fraction):
    """0.4567 -> '46%'; None -> ''."""
    if fraction is None:
        return ""
    return str(int(fraction * 100 + 0.5)) + "%"


def epoch(iso):
    """Seconds since 1970 of an ISO-8601 time ('2026-01-02T03:04:05.25+01:00'); None if not one."""
    if not isinstance(iso, str) or len(iso) < 19:
        return None
    try:
        year, month, day = int(iso[0:4]), int(iso[5:7]), int(iso[8:10])
        hour, minute, second = int(iso[11:13]), int(iso[14:16]), int(iso[17:19])
    except ValueError:
        return None
    rest = iso[19:]
    fraction = 0.0
    if rest.startswith("."):
        end = 1
        while end < len(rest) and rest[end].isdigit():
            end += 1
        fraction = float("0" + rest[:end])
        rest = rest[end:]
    offset = 0
    if len(rest) >= 6 and rest[0] in "+-":
        offset = (int(rest[1:3]) * 60 + int(rest[4:6])) * 60
        offset = -offset if rest[0] == "-" else offset
    return _days(year, month, day) * 86400 + hour * 3600 + minute * 60 + second + fraction - offset


def _days(year, month, day):
    """Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm)."""
    year -= 1 if month <= 2 else 0
    era = (year if year >= 0 else year - 399) // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def elapsed(start_iso, end_iso):
    """Seconds between two ISO times, or None."""
    start, end = epoch(start_iso), epoch(end_iso)
    if start is None or end is None:
        return None
    return end - start


def when(iso, now):
    """A time relative to `now` (epoch seconds): 'just now', '5 min ago', '3 h ago', else the date."""
    moment = epoch(iso)
    if moment is None:
        return "—"
    ago = now - moment
    if ago < 45:
        return "just now"
    if ago < 3600:
        return str(int(ago // 60) or 1) + " min ago"
    if ago < 86400:
        return str(int(ago // 3600)) + " h ago"
    return iso[:10] + " " + iso[11:16]


def cell(value):
    """A table cell as text: None -> '' (shown as NULL by the view), everything else str()."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def plural(number, one, many=None):
    """'1 row', '2 rows'."""
    return count(number) + " " + (one if number == 1 else (many or one + "s"))
