"""The Web Worker side: boot, storage mount, the message protocol, event forwarding.

Only `js_platform` touches the browser (js, pyodide); everything else runs on CPython with the fakes in
tests/worker/.
"""

from worker.app import WorkerApp
from worker.platform import Platform

__all__ = ["Platform", "WorkerApp"]
