"""The client layer: the Python counterpart of Durably's React hooks, over the worker protocol.

Views hold no protocol code: they build handles on one `RpcClient` and subscribe with callbacks.
Pure Python that runs on MicroPython (the page) and CPython (tests/ui); the transport is injected.
See docs/ui.md.
"""

from ui.client.imports import ImportDraft
from ui.client.jobs import JobHandle
from ui.client.logs import LogsHandle
from ui.client.rpc import Call, RpcClient, RpcError
from ui.client.runs import RunActions, RunHandle, RunsList
from ui.client.tables import ColumnProfile, QueryResult, StorageHandle, TablesList, TableView

__all__ = ["Call", "ColumnProfile", "ImportDraft", "JobHandle", "LogsHandle", "QueryResult", "RpcClient", "RpcError",
           "RunActions", "RunHandle", "RunsList", "StorageHandle", "TableView", "TablesList"]
