"""The column profile of the table shown on the Data screen: per column its type, nulls, distinct values,
minimum and maximum, most frequent values, and a histogram drawn here as SVG (no charting library)."""

from ui import dom
from ui import format as fmt
from ui.client import ColumnProfile

BAR_WIDTH = 10
CHART_HEIGHT = 40


class ProfileView:
    """Renders a `ColumnProfile` into `#column-profile`; `show(table)` computes and shows it."""

    def __init__(self, client):
        self._profile = ColumnProfile(client)
        self._profile.subscribe(lambda profile: self.render())

    def show(self, table):
        dom.show(dom.find("#column-profile"), True)
        self._profile.load(table)

    def hide(self):
        dom.show(dom.find("#column-profile"), False)

    def render(self):
        profile = self._profile
        status = dom.find("#profile-status")
        if profile.error is not None:
            dom.set_text(status, profile.error.message)
            status.className = "message error"
            dom.fill(dom.find("#profile-table-grid"))
            return
        status.className = "message"
        if profile.loading:
            dom.set_text(status, "Computing the profile of " + str(profile.table) + "…")
            return
        dom.set_text(status, fmt.plural(profile.rows, "row") + " in " + str(profile.table))
        head = dom.h("thead", None, dom.h("tr", None, [dom.h("th", {"scope": "col", "text": t}) for t in (
            "Column", "Type", "Nulls", "Distinct", "Min", "Max", "Most frequent", "Histogram")]))
        body = dom.h("tbody")
        for column in profile.columns:
            body.appendChild(_row(column))
        dom.fill(dom.find("#profile-table-grid"), head, body)


def _row(column):
    name = column.get("name") or ""
    top = ", ".join(_value(v) + " (" + fmt.count(n) + ")" for v, n in column.get("top") or [])
    return dom.h(
        "tr", {"data-testid": "profile-row", "data-column": name},
        dom.h("th", {"scope": "row", "text": name}),
        dom.h("td", {"text": column.get("type") or ""}),
        dom.h("td", {"class": "num", "data-stat": "nulls", "text": fmt.count(column.get("nulls"))}),
        dom.h("td", {"class": "num", "data-stat": "distinct", "text": fmt.count(column.get("distinct"))}),
        dom.h("td", {"data-stat": "min", "text": _value(column.get("min"))}),
        dom.h("td", {"data-stat": "max", "text": _value(column.get("max"))}),
        dom.h("td", {"data-stat": "top", "text": top}),
        dom.h("td", {"class": "chart"}, _histogram(name, column.get("histogram"))),
    )


def _value(value):
    return "NULL" if value is None else fmt.cell(value)


def _histogram(name, histogram):
    """An SVG bar chart of the bins (each bar titled with its range and count), or None."""
    if not histogram or not histogram.get("bins"):
        return None
    bins = histogram["bins"]
    tallest = max(b["count"] for b in bins) or 1
    bars = []
    for i, b in enumerate(bins):
        height = round(CHART_HEIGHT * b["count"] / tallest)
        label = _value(b["low"]) + " – " + _value(b["high"]) + ": " + fmt.count(b["count"])
        bars.append(dom.svg("rect", {"x": i * BAR_WIDTH, "y": CHART_HEIGHT - height, "width": BAR_WIDTH - 2,
                                     "height": height, "class": "bar", "data-count": b["count"]},
                            dom.svg("title", {"text": label})))
    width = len(bins) * BAR_WIDTH
    return dom.svg("svg", {"viewBox": "0 0 " + str(width) + " " + str(CHART_HEIGHT), "width": width,
                           "height": CHART_HEIGHT, "role": "img", "class": "histogram",
                           "data-testid": "histogram", "data-column": name,
                           "aria-label": "Histogram of " + name + " (" + histogram.get("kind", "") + "), "
                           + str(len(bins)) + " bins from " + _value(bins[0]["low"]) + " to "
                           + _value(bins[-1]["high"])}, bars)
