"""The columns table of the import preview: per column its name, type, skip/required/unique, its rules
(min, max, pattern, email) in a disclosure, and why the type was chosen, with the date-order choice when
the sample cannot tell day-first from month-first.

Every edit goes to the `ImportDraft`; a rule that cannot work shows its sentence beside its control at
once (the draft's `rule_errors`), and `on_change()` lets the import view re-check Start.
"""

from ui import dom
from ui.client.imports import TYPES
from ui.client.rules import EMAIL_TYPES

RULE_INPUTS = (("min", "Minimum", " of "), ("max", "Maximum", " of "), ("regex", "Pattern", " of "))
"""The typed rules, offered for every type (a pattern matches the value as written in the file); the email
rule is a checkbox offered only for the types in `EMAIL_TYPES`."""
HEADINGS = ("#", "From the file", "Name", "Type", "Skip", "Required", "Unique", "Rules", "Why this type")


class ColumnsTable:
    """Renders and edits the columns of one draft in `#columns-table`."""

    def __init__(self, table, on_change):
        self._table = table
        self._on_change = on_change
        self._draft = None

    def render(self, draft):
        """Show the columns of `draft` (replacing what was there)."""
        self._draft = draft
        head = dom.h("thead", None, dom.h("tr", None, [dom.h("th", {"scope": "col", "text": t}) for t in HEADINGS]))
        body = dom.h("tbody")
        for index, spec in enumerate(draft.columns):
            body.appendChild(self._row(index, spec))
        dom.fill(self._table, head, body)
        for index in range(len(draft.columns)):
            self._show_errors(index)

    def _row(self, index, spec):
        label = self._draft.label(index)
        header = self._draft.guess(index).get("header")
        name = dom.h("input", {"value": spec.get("name") or "", "aria-label": "Name of " + label,
                               "autocomplete": "off", "spellcheck": "false", "data-field": "name"})
        kind = dom.h("select", {"aria-label": "Type of " + label})
        for t in TYPES:
            kind.appendChild(dom.h("option", {"value": t, "text": t, "selected": t == (spec.get("type") or "text")}))
        boxes = []
        for field in ("skip", "required", "unique"):
            box = dom.h("input", {"type": "checkbox", "checked": bool(spec.get(field)),
                                  "aria-label": field[:1].upper() + field[1:] + " " + label})
            dom.listen(box, "change", self._changer(index, field, box, checkbox=True))
            word = dom.h("span", {"class": "check-word", "text": field[:1].upper() + field[1:]})  # shown on phones
            boxes.append(dom.h("td", {"class": "check " + field}, dom.h("label", {"class": "check-label"}, box, word)))
        dom.listen(name, "input", self._changer(index, "name", name))
        dom.listen(kind, "change", self._changer(index, "type", kind))
        why = dom.h("td", {"class": "evidence", "id": "why-col-" + str(index)})
        row = dom.h("tr", {"data-column": str(index)}, dom.h("td", {"class": "num", "text": str(index + 1)}),
                    dom.h("td", {"class": "source", "text": header or "—"}), dom.h("td", {"class": "name"}, name),
                    dom.h("td", {"class": "type"}, kind), boxes,
                    dom.h("td", {"class": "rules-cell"}, self._rules(index, spec)), why)
        self._render_why(index, why)
        return row

    def refresh(self, draft):
        """Show `draft`'s types, email rules and evidence again, in place (after the whole-file scan or a
        null token switched): what the user is typing, focus and open disclosures stay. A draft not
        rendered yet is left to its pending `render`."""
        if draft is not self._draft:
            return
        for index, spec in enumerate(draft.columns):
            row = self._table.querySelector('tbody tr[data-column="' + str(index) + '"]')
            if row is None:
                continue
            kind = row.querySelector("td.type select")
            if kind is not None and kind.value != (spec.get("type") or "text"):
                kind.value = spec.get("type") or "text"
            email = dom.find("#rule-email-" + str(index))
            if email is not None:
                email.checked = bool(spec.get("email"))
            self._render_why(index)
            self._show_errors(index)

    # -- rules -------------------------------------------------------------------------------------
    def _rules(self, index, spec):
        label = self._draft.label(index)
        summary = dom.h("summary", None, dom.h("span", {"text": "Rules"}),
                        dom.h("span", {"class": "visually-hidden", "text": " of " + label}),
                        dom.h("span", {"class": "rules-summary", "id": "rules-summary-" + str(index)}))
        fields = []
        for field, word, joint in RULE_INPUTS:
            node_id = "rule-" + field + "-" + str(index)
            value = spec.get(field)
            box = dom.h("input", {"id": node_id, "value": "" if value is None else _shown(value),
                                  "autocomplete": "off", "spellcheck": "false", "data-rule": field,
                                  "aria-describedby": node_id + "-error"})
            dom.listen(box, "input", self._rule_typed(index, field, box))
            dom.listen(box, "change", lambda e, i=index: self._show_errors(i))
            fields.append(dom.h("div", {"class": "field"},
                                dom.h("label", {"for": node_id}, word,
                                      dom.h("span", {"class": "visually-hidden", "text": joint + label})),
                                box, dom.h("p", {"class": "field-error", "id": node_id + "-error", "hidden": True})))
        email = dom.h("input", {"type": "checkbox", "id": "rule-email-" + str(index),
                                "checked": bool(spec.get("email"))})
        dom.listen(email, "change", self._changer(index, "email", email, checkbox=True))
        fields.append(dom.h("label", {"class": "inline", "for": "rule-email-" + str(index),
                                      "id": "rule-email-field-" + str(index),
                                      "hidden": (spec.get("type") or "text") not in EMAIL_TYPES}, email,
                            "Email addresses only",
                            dom.h("span", {"class": "visually-hidden", "text": " in " + label})))
        details = dom.h("details", {"class": "rules", "id": "rules-" + str(index)}, summary,
                        dom.h("div", {"class": "rule-fields"}, fields))
        return details

    def _offer_email(self, index):
        """Show the email rule only for the types it works on; a type it does not fit clears it."""
        offered = (self._draft.columns[index].get("type") or "text") in EMAIL_TYPES
        field = dom.find("#rule-email-field-" + str(index))
        if field is not None:
            dom.show(field, offered)
        box = dom.find("#rule-email-" + str(index))
        if not offered and self._draft.columns[index].get("email"):
            self._draft.set_column(index, "email", False)
            if box is not None:
                box.checked = False

    def _rule_typed(self, index, field, box):
        def typed(event):
            self._draft.set_column(index, field, box.value)
            error = dom.find("#rule-" + field + "-" + str(index) + "-error")
            if error is not None and not error.hasAttribute("hidden"):
                self._show_errors(index)  # clear a shown error as soon as it is fixed
            else:
                self._show_summary(index)
            self._on_change()

        return typed

    def _show_errors(self, index):
        """Put each rule's problem beside its control (aria-invalid), and open the disclosure if any."""
        errors = self._draft.rule_errors(index)
        for field, _, _ in RULE_INPUTS:
            node_id = "rule-" + field + "-" + str(index)
            box = dom.find("#" + node_id)
            note = dom.find("#" + node_id + "-error")
            if box is None or note is None:
                continue
            text = ""
            for name, sentence in errors:
                if name == field:
                    text = sentence
            dom.set_text(note, text)
            dom.show(note, bool(text))
            if text:
                box.setAttribute("aria-invalid", "true")
            else:
                box.removeAttribute("aria-invalid")
        details = dom.find("#rules-" + str(index))
        if errors and details is not None:
            details.open = True
        self._show_summary(index)

    def _show_summary(self, index):
        summary = dom.find("#rules-summary-" + str(index))
        if summary is None:
            return
        words = self._draft.rules_summary(index)
        dom.set_text(summary, ": " + words if words else "")
        cell = summary.parentNode
        if self._draft.rule_errors(index):
            cell.classList.add("has-error")
        else:
            cell.classList.remove("has-error")

    def _update_placeholders(self, index):
        kind = self._draft.columns[index].get("type") or "text"
        hint = "e.g. 0" if kind in ("integer", "real", "boolean") else "YYYY-MM-DD" if kind in (
            "date", "datetime") else "text, A–Z order"
        for field in ("min", "max"):
            box = dom.find("#rule-" + field + "-" + str(index))
            if box is not None:
                box.setAttribute("placeholder", hint)
        pattern = dom.find("#rule-regex-" + str(index))
        if pattern is not None:
            pattern.setAttribute("placeholder", "e.g. [A-Z]{2}[0-9]+")

    # -- evidence and the date order ---------------------------------------------------------------
    def _render_why(self, index, cell=None):
        cell = cell or dom.find("#why-col-" + str(index))
        if cell is None:
            return
        guess = self._draft.guess(index)
        choices = self._draft.date_choices(index)
        evidence = self._draft.evidence(index)
        if guess.get("ambiguous") and guess.get("alternatives") and not choices:
            evidence += " Could also be " + ", ".join(guess.get("alternatives")) + "."
        parts = [dom.h("p", {"class": "evidence", "text": evidence})]
        if choices:
            parts.append(self._date_choice(index, choices))
        dom.fill(cell, parts)
        self._update_placeholders(index)

    def _date_choice(self, index, choices):
        current = self._draft.columns[index].get("date_format")
        name = "date-order-" + str(index)
        options = []
        for number, choice in enumerate(choices):
            fmt, order, example = choice
            radio = dom.h("input", {"type": "radio", "name": name, "id": name + "-" + str(number), "value": fmt,
                                    "checked": fmt == current})
            dom.listen(radio, "change", self._date_picker(index, fmt))
            text = order + " (" + fmt + ")" + (": " + example if example else "")
            options.append(dom.h("label", {"class": "inline", "for": name + "-" + str(number)}, radio, text))
        return dom.h("fieldset", {"class": "date-choice", "data-testid": "date-choice"},
                     dom.h("legend", None, "Read the dates as",
                           dom.h("span", {"class": "visually-hidden", "text": " (" + self._draft.label(index) + ")"})),
                     options)

    def _date_picker(self, index, fmt):
        def picked(event):
            self._draft.set_column(index, "date_format", fmt)
            self._on_change()

        return picked

    # -- plain settings ----------------------------------------------------------------------------
    def _changer(self, index, field, node, checkbox=False):
        def changed(event):
            self._draft.set_column(index, field, bool(node.checked) if checkbox else node.value)
            if field == "name":
                cell = dom.find("#preview-table thead th:nth-child(" + str(index + 1) + ")")
                if cell is not None:
                    dom.set_text(cell, node.value)
            if field == "type":
                self._offer_email(index)
                self._render_why(index)
                self._show_errors(index)
            if field == "email":
                self._show_summary(index)
            self._on_change()

        return changed


def _shown(value):
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)
