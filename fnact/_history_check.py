"""Check recorded runs against today's activity types, before a deploy breaks the runs in flight.

A run in flight when a deploy lands meets the new code with values recorded by the
old one: the inputs of activities scheduled (and retried) after the deploy, the
results and ``Failure`` details its workflow reads on replay, the checkpoint a
retry resumes from, the workflow input a run state is built from. `check_runs`
decodes every such value of the given histories with today's types, strictly, as
fnact's workers do, and reports each value that no longer fits: the run, the
activity, the field path and msgspec's message. A field the recorded value has and
today's type does not is reported too: decoding would drop it silently (a renamed
field with a default resumes from the default).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect as mi
import temporalio.client
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import ApplicationErrorCategory, EventType
from temporalio.api.failure.v1 import Failure as FailureProto
from temporalio.api.history.v1 import History
from temporalio.api.workflow.v1 import PendingActivityInfo

from fnact._activity import Activity, ActivityDefinition
from fnact._converter import data_converter, decoder_for, validation_message

__all__ = [
    "CompatibilityReport",
    "Incompatibility",
    "RecordedRun",
    "check_runs",
    "runs_from_client",
    "runs_from_files",
]

_JSON = b"json/plain"
_PATH = re.compile(r" - at `(\$[^`]*)`$")


@dataclass(frozen=True, slots=True)
class Incompatibility:
    """One recorded value that today's types no longer decode."""

    workflow_id: str
    run_id: str
    activity_type: str
    activity_id: str
    value: str
    """Which value: ``input``, ``result``, ``failure``, ``checkpoint`` or ``workflow input``."""
    path: str
    """Where in the value, as msgspec writes it: ``$.tables[0].name``; ``$`` for the whole."""
    message: str
    """What is wrong, in msgspec's words (or fnact's, for a dropped field or error type)."""

    def __str__(self) -> str:
        return (
            f"{self.workflow_id} (run {self.run_id}): activity {self.activity_type}#"
            f"{self.activity_id} {self.value} at {self.path}: {self.message}"
        )


@dataclass(slots=True)
class CompatibilityReport:
    """What `check_runs` found: every incompatible value, and how much it checked."""

    problems: list[Incompatibility] = field(default_factory=list)
    runs: int = 0
    """Runs checked."""
    values: int = 0
    """Recorded values decoded."""
    unknown_activities: set[str] = field(default_factory=set)
    """Activity types the runs scheduled that none of the given activities is: not checked."""

    @property
    def ok(self) -> bool:
        """Whether every recorded value decodes with today's types."""
        return not self.problems

    def summary(self) -> str:
        """Return one line: how much was checked and how many values no longer fit."""
        line = (
            f"checked {self.values} recorded value(s) of {self.runs} run(s): "
            f"{len(self.problems)} incompatible"
        )
        if self.unknown_activities:
            unknown = ", ".join(sorted(self.unknown_activities))
            line += f"; not checked (no such activity today): {unknown}"
        return line

    def __str__(self) -> str:
        return "\n".join([*map(str, self.problems), self.summary()])


@dataclass(frozen=True, slots=True)
class RecordedRun:
    """A run's history, and (for a run read from a server) its pending activities."""

    workflow_id: str
    history: History
    pending: Sequence[PendingActivityInfo] = ()
    """Pending activities, whose heartbeat details hold the checkpoint a retry resumes from."""

    @property
    def run_id(self) -> str:
        """The run's id, as its first event records it."""
        for event in self.history.events[:1]:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                return event.workflow_execution_started_event_attributes.original_execution_run_id
        return ""


def runs_from_files(paths: Iterable[str | Path]) -> list[RecordedRun]:
    """Read runs from histories exported as JSON files.

    Each file is what ``temporal workflow show --output json`` or the SDK's
    ``WorkflowHistory.to_json()`` writes; its name without ``.json`` is its workflow
    id, unless the file says otherwise (``{"workflowId": ..., "events": [...]}``).

    Raises:
        ValueError: a file is not such a history, naming it.
    """
    runs = []
    for path in map(Path, paths):
        try:
            text = path.read_text()
            data = json.loads(text)
            workflow_id = str(data.get("workflowId") or path.name.removesuffix(".json"))
            history = temporalio.client.WorkflowHistory.from_json(
                workflow_id, {"events": data["events"]}
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}: not a workflow history exported as JSON ({exc})") from None
        runs.append(RecordedRun(workflow_id, _history_proto(history)))
    return runs


def _history_proto(history: temporalio.client.WorkflowHistory) -> History:
    return History(events=list(history.events))


async def runs_from_client(
    client: temporalio.client.Client,
    *,
    query: str | None = None,
    workflow_ids: Iterable[str] = (),
) -> list[RecordedRun]:
    """Read runs from the server: those ``query`` lists, and ``workflow_ids``' latest runs.

    Each run comes with its history and its pending activities. ``query`` is a
    Temporal list filter, such as ``ExecutionStatus = "Running"``.
    """
    handles: list[temporalio.client.WorkflowHandle[Any, Any]] = [
        client.get_workflow_handle(workflow_id) for workflow_id in workflow_ids
    ]
    if query is not None:
        listed: AsyncIterable[temporalio.client.WorkflowExecution] = client.list_workflows(query)
        async for execution in listed:
            handles.append(client.get_workflow_handle(execution.id, run_id=execution.run_id))
    runs = []
    for handle in handles:
        description = await handle.describe()
        run = client.get_workflow_handle(handle.id, run_id=description.run_id)
        history = await run.fetch_history()
        pending = list(description.raw_description.pending_activities)
        runs.append(RecordedRun(handle.id, _history_proto(history), pending))
    return runs


def check_runs(
    runs: Iterable[RecordedRun], activities: Iterable[Activity[Any, Any, Any] | object]
) -> CompatibilityReport:
    """Decode every recorded value of ``runs`` with the types of today's ``activities``.

    Checked, for each activity the runs scheduled that is among ``activities``: its
    input, its result, the details of a ``Failure`` it returned (whose error type must
    still be declared), the checkpoint in its last heartbeat (pending activities of
    runs read from a server, and activities that timed out), and the run's workflow
    input when the activity builds run state from it. Activities that are not fnact's
    are skipped.
    """
    definitions = {
        item.definition.name: item.definition for item in activities if isinstance(item, Activity)
    }
    report = CompatibilityReport()
    for run in runs:
        report.runs += 1
        _RunCheck(run, definitions, report).check()
    return report


class _RunCheck:
    def __init__(
        self,
        run: RecordedRun,
        definitions: dict[str, ActivityDefinition],
        report: CompatibilityReport,
    ) -> None:
        self.run = run
        self.run_id = run.run_id
        self.definitions = definitions
        self.report = report
        self.scheduled: dict[int, tuple[str, str]] = {}
        self.workflow_input: Payload | None = None
        self.state_checked: set[str] = set()

    def check(self) -> None:
        for event in self.run.history.events:
            self._event(event)
        for info in self.run.pending:
            definition = self.definitions.get(info.activity_type.name)
            if definition is None:
                continue
            self._checkpoint(definition, info.activity_id, info.heartbeat_details.payloads)
            if info.HasField("last_failure"):
                self._failure(definition, info.activity_id, info.last_failure)

    def _event(self, event: Any) -> None:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            self.workflow_input = payloads[0] if payloads else None
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            name, activity_id = attributes.activity_type.name, attributes.activity_id
            self.scheduled[event.event_id] = (name, activity_id)
            definition = self.definitions.get(name)
            if definition is None:
                self.report.unknown_activities.add(name)
                return
            if attributes.input.payloads:
                self._value(definition, activity_id, "input", attributes.input.payloads[0],
                            definition.arg_type)  # fmt: skip
            self._run_state(definition, activity_id)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            attributes = event.activity_task_completed_event_attributes
            found = self._definition_of(attributes.scheduled_event_id)
            if found is not None and attributes.result.payloads:
                definition, activity_id = found
                self._value(definition, activity_id, "result", attributes.result.payloads[0],
                            definition.result_type)  # fmt: skip
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            attributes = event.activity_task_failed_event_attributes
            found = self._definition_of(attributes.scheduled_event_id)
            if found is not None:
                self._failure(found[0], found[1], attributes.failure)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
            attributes = event.activity_task_timed_out_event_attributes
            found = self._definition_of(attributes.scheduled_event_id)
            info = attributes.failure.timeout_failure_info
            if found is not None:
                self._checkpoint(found[0], found[1], info.last_heartbeat_details.payloads)

    def _definition_of(self, scheduled_id: int) -> tuple[ActivityDefinition, str] | None:
        name, activity_id = self.scheduled.get(scheduled_id, ("", ""))
        definition = self.definitions.get(name)
        return None if definition is None else (definition, activity_id)

    def _run_state(self, definition: ActivityDefinition, activity_id: str) -> None:
        wanted = definition.workflow_args_type
        if not definition.uses_state or wanted in (None, type(None)) or self.workflow_input is None:
            return
        if definition.name in self.state_checked:
            return  # one report per activity type and run
        self.state_checked.add(definition.name)
        self._value(definition, activity_id, "workflow input", self.workflow_input, wanted)

    def _failure(
        self, definition: ActivityDefinition, activity_id: str, failure: FailureProto
    ) -> None:
        while not failure.HasField("application_failure_info") and failure.HasField("cause"):
            failure = failure.cause
        info = failure.application_failure_info
        if not failure.HasField("application_failure_info"):
            return
        if info.category != ApplicationErrorCategory.APPLICATION_ERROR_CATEGORY_BENIGN:
            return  # a raised exception, not a returned Failure
        error_type = definition.error_types.get(info.type)
        if error_type is None:
            declared = ", ".join(sorted(definition.error_types)) or "none"
            message = (
                f"error type {info.type!r} is no longer declared (declared: {declared}): "
                "the workflow gets an exception instead of a Failure"
            )
            self._report(definition, activity_id, "failure", "$", message)
            return
        if info.details.payloads:
            self._value(definition, activity_id, "failure", info.details.payloads[0], error_type)

    def _checkpoint(
        self, definition: ActivityDefinition, activity_id: str, payloads: Sequence[Payload]
    ) -> None:
        if definition.checkpoint_type is None or not payloads:
            return
        try:
            details = json.loads(payloads[0].data)
        except ValueError:
            return  # not fnact's heartbeat
        checkpoint = details.get("checkpoint") if isinstance(details, dict) else None
        if checkpoint is None:
            return
        data = msgspec.json.encode(checkpoint)
        payload = Payload(metadata={"encoding": _JSON}, data=data)
        self._value(definition, activity_id, "checkpoint", payload, definition.checkpoint_type)

    def _value(
        self,
        definition: ActivityDefinition,
        activity_id: str,
        what: str,
        payload: Payload,
        wanted: Any,
    ) -> None:
        self.report.values += 1
        for path, message in problems_decoding(payload, wanted):
            self._report(definition, activity_id, what, path, message)

    def _report(
        self, definition: ActivityDefinition, activity_id: str, what: str, path: str, message: str
    ) -> None:
        found = Incompatibility(
            self.run.workflow_id, self.run_id, definition.name, activity_id, what, path, message
        )
        self.report.problems.append(found)


def problems_decoding(payload: Payload, wanted: Any) -> list[tuple[str, str]]:
    """Return ``(path, message)`` for each way ``payload`` does not decode as ``wanted``."""
    if payload.metadata.get("encoding") != _JSON:
        try:
            data_converter.payload_converter.from_payload(payload, wanted)
        except Exception as exc:
            return [("$", str(exc))]
        return []
    try:
        decoder_for(wanted).decode(payload.data)
    except msgspec.ValidationError as exc:
        message = validation_message(exc)
        found = _PATH.search(message)
        path = found.group(1) if found else "$"
        return [(path, message[: found.start()] if found else message)]
    except msgspec.DecodeError as exc:
        return [("$", f"not JSON: {exc}")]
    try:
        info = mi.type_info(wanted)
    except (TypeError, ValueError):  # a type msgspec cannot describe: decoding passed
        return []
    raw = msgspec.json.decode(payload.data)
    return [
        (path, "this field is not in today's type: decoding drops its value")
        for path in _dropped(raw, info, "$")
    ]


def _dropped(raw: Any, info: Any, path: str) -> list[str]:
    """Return the paths of fields ``raw`` has that the type ``info`` describes does not."""
    if isinstance(info, mi.StructType | mi.DataclassType | mi.TypedDictType):
        if not isinstance(raw, dict):
            return []
        fields = {f.encode_name: f for f in info.fields}
        tag_field = getattr(info, "tag_field", None)
        found: list[str] = []
        for key, value in raw.items():
            if key in fields:
                found += _dropped(value, fields[key].type, f"{path}.{key}")
            elif key != tag_field:
                found.append(f"{path}.{key}")
        return found
    if isinstance(info, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        if isinstance(raw, list):
            return [
                p
                for i, item in enumerate(raw)
                for p in _dropped(item, info.item_type, f"{path}[{i}]")
            ]
        return []
    if isinstance(info, mi.TupleType) and isinstance(raw, list):
        return [
            p for i, (item, kind) in enumerate(zip(raw, info.item_types, strict=False))
            for p in _dropped(item, kind, f"{path}[{i}]")
        ]  # fmt: skip
    if isinstance(info, mi.DictType) and isinstance(raw, dict):
        return [p for k, v in raw.items() for p in _dropped(v, info.value_type, f"{path}[{k!r}]")]
    if isinstance(info, mi.UnionType) and isinstance(raw, dict):
        shaped = [
            t
            for t in info.types
            if isinstance(t, mi.StructType | mi.DataclassType | mi.TypedDictType)
        ]
        tagged = [t for t in shaped if _tag_matches(t, raw)]
        choice = tagged or (shaped if len(shaped) == 1 else [])
        return _dropped(raw, choice[0], path) if choice else []
    return []


def _tag_matches(info: Any, raw: dict[str, Any]) -> bool:
    tag_field = getattr(info, "tag_field", None)
    return tag_field is not None and raw.get(tag_field) == getattr(info, "tag", None)
