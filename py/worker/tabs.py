"""One engine per origin, every tab usable: what a follower knows of the tab that leads.

The worker holding the Web Lock leads: it runs the engine and announces its state (booting, ready, error) to
the other tabs' workers. A follower forwards its page's requests to the leader and relays the replies. This
module keeps the follower's side of that link: which tab leads and in what state, and which of its page's
requests still wait for a reply, so that none is left waiting when the leader goes away.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

LEADER_STATES = ("booting", "ready", "error")
MAX_TAB_ID = 64
"""Longest tab id a worker accepts from another tab (the JS bootstrap makes 36-character UUIDs)."""

FOLLOWING = "Another tab runs the engine: this tab sends its work there and shows its progress."
WAITING = "Another tab is starting the engine; this tab will send its work there."
STARTING = "Another tab is starting the engine: try again in a moment."
LEADER_GONE = ("The tab that ran the engine closed before it answered; {who}. Try again (an import it had "
               "started carries on by itself).")


def valid_tab(tab: object) -> bool:
    """True for a tab id another worker may send: a short non-empty text."""
    return isinstance(tab, str) and 0 < len(tab) <= MAX_TAB_ID


@dataclass
class Leader:
    """The leading tab as last announced: its id, engine state and status message."""

    tab: str
    state: str
    message: str


class FollowerLink:
    """A follower's view of the leader and its page's requests in flight there."""

    def __init__(self) -> None:
        self.leader: Leader | None = None
        self._waiting: Counter[int] = Counter()

    @property
    def leader_ready(self) -> bool:
        return self.leader is not None and self.leader.state == "ready"

    def announced(self, tab: str, state: str, message: str) -> list[int]:
        """Note the leader's announcement. Returns the requests that were sent to an earlier leader, which is
        gone (only one tab leads at a time): they will never be answered, and are forgotten here."""
        lost = self.drop_all() if self.leader is not None and self.leader.tab != tab else []
        self.leader = Leader(tab, state, message)
        return lost

    def sent(self, request_id: int) -> None:
        """Request `request_id` of this page went to the leader."""
        self._waiting[request_id] += 1

    def answered(self, request_id: object) -> bool:
        """A reply to `request_id` came back: True (and forgotten) if this page waits for it."""
        if not isinstance(request_id, int) or self._waiting[request_id] <= 0:
            return False
        self._waiting[request_id] -= 1
        if not self._waiting[request_id]:
            del self._waiting[request_id]
        return True

    def drop_all(self) -> list[int]:
        """Every request still waiting (an id once per time it was sent); forgets them."""
        ids = list(self._waiting.elements())
        self._waiting.clear()
        return ids

    def status(self) -> tuple[str, str]:
        """The (state, message) this follower's page shows: `follower` while the leader is ready, else
        `booting` (it starts) or `error` (its engine stopped, with its sentence)."""
        if self.leader is None or self.leader.state == "booting":
            return "booting", WAITING
        if self.leader.state == "error":
            return "error", f"The tab that runs the engine reports: {self.leader.message}"
        return "follower", FOLLOWING
