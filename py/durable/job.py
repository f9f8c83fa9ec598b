"""Jobs: a name, typed input and output, and an `async def run(step, payload)`; a pure description.

`define_job` builds one (as a decorator or called directly). Input and output types are anything
pydantic can validate, usually `BaseModel` subclasses: input is validated at trigger time and stored as
JSON; output is validated when the job returns. Pydantic is imported when a job first validates, not with
`durable`: the browser's engine opens its database and answers queries before pydantic is loaded
(docs/storage.md "Boot").
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from durable.errors import InvalidInputError, InvalidOutputError
from durable.records import Run
from durable.retry import RetryPolicy

if TYPE_CHECKING:
    from pydantic import TypeAdapter, ValidationError

    from durable.context import StepContext

InT = TypeVar("InT")
OutT = TypeVar("OutT")
JobFn = Callable[["StepContext", InT], Awaitable[OutT]]
DeleteHook = Callable[[sqlite3.Connection, Run], None]
"""Called inside the transaction that deletes a run: remove the job's own rows for it there."""


@dataclass(frozen=True, eq=False)
class Job(Generic[InT, OutT]):
    """A job definition. Build it with `define_job`; register it with `engine.register(job)`."""

    name: str
    fn: JobFn[InT, OutT]
    input: type[InT]
    output: type[OutT]
    retry: RetryPolicy | None = None
    on_delete: DeleteHook | None = None

    @cached_property
    def _input_adapter(self) -> TypeAdapter[InT]:
        from pydantic import TypeAdapter

        return TypeAdapter(self.input)

    @cached_property
    def _output_adapter(self) -> TypeAdapter[OutT]:
        from pydantic import TypeAdapter

        return TypeAdapter(self.output)

    def encode_input(self, payload: object) -> str:
        """Validate a trigger payload and return it as JSON; raises InvalidInputError."""
        from pydantic import ValidationError

        try:
            value = self._input_adapter.validate_python(payload)
        except ValidationError as error:
            raise InvalidInputError(self.name, _errors(error)) from None
        return self._input_adapter.dump_json(value).decode()

    def decode_input(self, stored: object) -> InT:
        """The stored input, validated again into the job's input type."""
        from pydantic import ValidationError

        try:
            return self._input_adapter.validate_python(stored)
        except ValidationError as error:
            raise InvalidInputError(self.name, _errors(error)) from None

    def encode_output(self, run_id: str, result: object) -> str:
        """Validate what the job returned and return it as JSON; raises InvalidOutputError."""
        from pydantic import ValidationError

        try:
            value = self._output_adapter.validate_python(result)
        except ValidationError as error:
            raise InvalidOutputError(self.name, run_id, _errors(error)) from None
        return self._output_adapter.dump_json(value).decode()

    def decode_output(self, stored: object) -> OutT:
        """A completed run's stored output, as the job's output type."""
        return self._output_adapter.validate_python(stored)


@overload
def define_job(
    name: str,
    *,
    input: type[InT],
    output: type[OutT],
    retry: RetryPolicy | None = None,
    on_delete: DeleteHook | None = None,
) -> Callable[[JobFn[InT, OutT]], Job[InT, OutT]]: ...


@overload
def define_job(
    name: str,
    *,
    input: type[InT],
    output: None = None,
    retry: RetryPolicy | None = None,
    on_delete: DeleteHook | None = None,
) -> Callable[[JobFn[InT, None]], Job[InT, None]]: ...


def define_job(
    name: str,
    *,
    input: type[Any],
    output: type[Any] | None = None,
    retry: RetryPolicy | None = None,
    on_delete: DeleteHook | None = None,
) -> Callable[[JobFn[Any, Any]], Job[Any, Any]]:
    """Decorate `async def run(step, payload)` into a `Job` named `name`.

    `output=None` means the job returns None. `retry` is the default policy of the job's steps;
    `on_delete(conn, run)` runs in the transaction that deletes one of its runs.
    Usable without decorator syntax: `job = define_job("x", input=In, output=Out)(fn)`.
    """
    out: type[Any] = type(None) if output is None else output

    def wrap(fn: JobFn[Any, Any]) -> Job[Any, Any]:
        return Job(name=name, fn=fn, input=input, output=out, retry=retry, on_delete=on_delete)

    return wrap


def _errors(error: ValidationError) -> list[dict[str, Any]]:
    return [dict(e) for e in error.errors(include_url=False, include_context=False)]
