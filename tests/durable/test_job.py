"""Jobs: definition with and without decorator syntax, input and output validation."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from durable import InvalidInputError, InvalidOutputError, Job, RetryPolicy, StepContext, define_job


class In(BaseModel):
    path: str
    rows: int = 0


class Out(BaseModel):
    imported: int


async def run(step: StepContext, payload: In) -> Out:
    return Out(imported=payload.rows)


def test_define_job_works_as_a_decorator_and_as_a_call() -> None:
    policy = RetryPolicy(attempts=2)
    job = define_job("import-csv", input=In, output=Out, retry=policy)(run)
    assert isinstance(job, Job)
    assert (job.name, job.fn, job.input, job.output, job.retry) == ("import-csv", run, In, Out, policy)


@pytest.mark.parametrize(
    ("payload", "stored"),
    [
        ({"path": "a.csv"}, '{"path":"a.csv","rows":0}'),
        (In(path="b.csv", rows=2), '{"path":"b.csv","rows":2}'),
        ({"path": "c.csv", "rows": "7"}, '{"path":"c.csv","rows":7}'),
    ],
)
def test_input_is_validated_and_stored_as_json(payload: object, stored: str) -> None:
    job = define_job("j", input=In, output=Out)(run)
    assert job.encode_input(payload) == stored


@pytest.mark.parametrize("payload", [{}, {"path": 1}, {"path": "x", "rows": "many"}, None])
def test_invalid_input_raises_with_the_field_errors(payload: object) -> None:
    job = define_job("j", input=In, output=Out)(run)
    with pytest.raises(InvalidInputError, match="Invalid input for job 'j'") as error:
        job.encode_input(payload)
    assert error.value.errors


def test_output_is_validated_and_none_means_no_output() -> None:
    job = define_job("j", input=In, output=Out)(run)
    assert job.encode_output("r1", Out(imported=3)) == '{"imported":3}'
    assert job.encode_output("r1", {"imported": 4}) == '{"imported":4}'
    with pytest.raises(InvalidOutputError, match="Run r1 of job 'j' returned an invalid output"):
        job.encode_output("r1", {"imported": "x"})
    nothing = define_job("n", input=In)(run)
    assert nothing.encode_output("r2", None) == "null"


def test_retry_policy_delays_grow_and_are_capped() -> None:
    policy = RetryPolicy(attempts=5, backoff=1.0, factor=3.0, max_backoff=5.0)
    assert [policy.delay(n) for n in (1, 2, 3)] == [1.0, 3.0, 5.0]
    assert policy.should_retry(OSError(), 4) and not policy.should_retry(OSError(), 5)
