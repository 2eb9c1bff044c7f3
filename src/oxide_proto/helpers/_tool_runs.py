"""The decisions of the tool runners, sans-I/O: what to send, what to run, when to stop.

A tool runner sends a request, runs the local tools the model called, sends
their outputs back, and repeats until the model answers without calling a
tool, within a bounded number of requests. The drivers
(`oxide_io._async._tool_runner` and its generated blocking twin) only do the
I/O: the request, the tool calls, the hooks. Everything they decide comes from
here, on plain JSON data (`Model.to_dict()`), so it is the same decision in
every runtime and testable without a server:

- `ResponsesToolRun`: one run of the Responses loop. It checks the request
  parameters once (no streaming, background or server-side conversation state
  in `params`, no `tool_choice` that could never let the run end), keeps the
  input history, builds each request, checks each response (every item it must
  replay is complete; every function call names a registered, selected
  function, with a call id not seen before and JSON object arguments), says
  which calls to run, checks what each function returned, and extends the
  history with the response's items and the outputs.
- The context budget of a Responses run (`ContextBudget`): before each request
  the runner measures the input it would send (compact JSON bytes, images);
  over the budget, the caller's `compact(snapshot)` names completed calls to
  leave out of that request (`budget_snapshot`, `budget_input`). The run's own
  history keeps everything: only what is sent shrinks.
- Eager execution of a streamed Responses run: `receive(index, item)` checks
  each item as the stream reports it done and says whether its call may run
  before the response completes (`early_selection` says which may); `inspect`
  then checks that the completed response is what was run, and plans the rest.
- The checkpoint ledger of a Responses run: `checkpoint(phase)` is the JSON
  record a caller's ledger saves before and after every effect, and
  `use_ledger(run_id, resume_from)` continues a run from a saved boundary
  (between steps, no call unresolved).
- `DecisionsToolRun`: one run of the Decisions loop (observe, offer the
  caller's candidates as the choices of one question, run the chosen action,
  verify "done").
- `tool_diagnostic(...)`: the content-free diagnostic record both runners
  report to an `on_diagnostic` observer: which stage ended how, the ids, the
  duration (from the caller's clock) and the token counts, never any text.

Errors keep what was already done: `ToolRunnerError` and
`DecisionsToolRunnerError` carry the ids of the calls attempted (possibly with
effects) and completed (their output was built), so a caller can decide
whether a retry would repeat an effect.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypedDict

from ..base._errors import APIResponseValidationError
from ..types.responses import ResponseComputerToolCall
from ._computer import ComputerUseError, computer_actions
from ._schema import parse_into

__all__ = [
    "ContextBudget",
    "ContextBudgetDecision",
    "ContextBudgetLimits",
    "ContextBudgetSnapshot",
    "DecisionCandidateEntry",
    "DecisionsRunResult",
    "DecisionsToolRun",
    "DecisionsToolRunnerError",
    "EarlyExecution",
    "FunctionCallPlan",
    "ResponsesToolCheckpoint",
    "ResponsesToolRun",
    "ToolDiagnostic",
    "ToolDiagnosticObserver",
    "ToolDiagnosticUsage",
    "ToolRunnerError",
    "early_selection",
    "function_result",
    "step_headers",
    "tool_diagnostic",
]

# -- diagnostics ----------------------------------------------------------------

DiagnosticApi = Literal["responses", "decisions", "browser", "computer"]
DiagnosticStage = Literal[
    "run", "request", "arguments", "approval", "action", "output", "selection", "verification"
]
DiagnosticReason = Literal[
    "started",
    "completed",
    "refused",
    "cancelled",
    "invalid_input",
    "invalid_output",
    "api_failed",
    "driver_failed",
    "policy_failed",
    "step_limit",
    "busy",
    "closed",
]


class ToolDiagnosticUsage(TypedDict):
    """The token counts of the request a diagnostic reports."""

    input_tokens: int
    output_tokens: int
    total_tokens: int


class ToolDiagnostic(TypedDict):
    """One stage of a tool run ended: which, how, how long; ids and counts, no content."""

    api: DiagnosticApi
    stage: DiagnosticStage
    reason: DiagnosticReason
    call_id: str | None
    member: str | None
    duration_ms: float
    usage: ToolDiagnosticUsage | None


ToolDiagnosticObserver = Callable[[ToolDiagnostic], None]

_USAGE_KEYS = ("input_tokens", "output_tokens", "total_tokens")


def _usage(usage: object) -> ToolDiagnosticUsage | None:
    if usage is None:
        return None
    if isinstance(usage, Mapping):
        counts = {key: usage.get(key) for key in _USAGE_KEYS}
    else:
        counts = {key: getattr(usage, key, None) for key in _USAGE_KEYS}
    # Only whole, non-negative counts are reported: a diagnostic never guesses.
    numbers = [value for value in counts.values() if type(value) is int and value >= 0]
    if len(numbers) != len(_USAGE_KEYS):
        return None
    return {"input_tokens": numbers[0], "output_tokens": numbers[1], "total_tokens": numbers[2]}


def tool_diagnostic(
    api: DiagnosticApi,
    stage: DiagnosticStage,
    reason: DiagnosticReason,
    *,
    started: float,
    now: float,
    call_id: str | None = None,
    member: str | None = None,
    usage: object = None,
) -> ToolDiagnostic:
    """The diagnostic record of a stage that began at `started` and ends at `now` (seconds)."""
    return {
        "api": api,
        "stage": stage,
        "reason": reason,
        "call_id": call_id,
        "member": member,
        "duration_ms": max(0.0, (now - started) * 1000.0),
        "usage": _usage(usage),
    }


# -- errors ------------------------------------------------------------------------


class ToolRunnerError(RuntimeError):
    """A Responses tool run stopped; the message says why, the ids what was done.

    `attempted_call_ids`: calls the runner started to run (an effect may have
    happened, even partly). `completed_call_ids`: calls whose output the runner
    built. Neither proves more than that; check before retrying.
    """

    def __init__(
        self, message: str, attempted_call_ids: Iterable[str], completed_call_ids: Iterable[str]
    ) -> None:
        super().__init__(message)
        self.attempted_call_ids: tuple[str, ...] = tuple(attempted_call_ids)
        self.completed_call_ids: tuple[str, ...] = tuple(completed_call_ids)


DecisionsReason = Literal[
    "invalid_params",
    "invalid_candidates",
    "invalid_answer",
    "async_executor",
    "invalid_verification",
    "verification_failed",
    "step_limit",
    "failed",
    "cancelled",
]

_DECISIONS_MESSAGES: dict[str, str] = {
    "invalid_params": "the run needs params with a string model and input (and optionally a "
    "string safety_identifier), and max_steps a positive integer",
    "invalid_candidates": "candidates must be a list of 1 to 255 dicts with unique, non-blank "
    "ids and descriptions, exactly one done candidate and an execute callable on every other",
    "invalid_answer": "the decision did not choose one of the offered candidates",
    "async_executor": "an executor returned an awaitable: run async executors with "
    "AsyncDecisionsToolRunner",
    "invalid_verification": "verify must return True or False",
    "verification_failed": "verification failed and there was no action left to choose",
    "step_limit": "the run reached max_steps before it was done",
    "failed": "the run stopped before it was done",
    "cancelled": "the run was cancelled",
}


class DecisionsToolRunnerError(RuntimeError):
    """A Decisions tool run stopped; `reason` says why, the ids what was done.

    `attempted_candidate_ids`: actions whose executor was called (an effect may
    have happened). `completed_candidate_ids`: those whose executor returned.
    """

    def __init__(
        self, reason: DecisionsReason, attempted: Iterable[str], completed: Iterable[str]
    ) -> None:
        super().__init__(_DECISIONS_MESSAGES[reason])
        self.reason: DecisionsReason = reason
        self.attempted_candidate_ids: tuple[str, ...] = tuple(attempted)
        self.completed_candidate_ids: tuple[str, ...] = tuple(completed)


# -- requests after the first ----------------------------------------------------------


def step_headers(
    default_headers: Mapping[str, str | None],
    extra_headers: Mapping[str, str | None] | None,
    fresh_key: str,
) -> dict[str, str | None] | None:
    """The `extra_headers` of a run's second and later requests.

    An `Idempotency-Key` the caller set (on the client or in `extra_headers`) would
    make the server treat every request of the run as a retry of the first, and
    answer them all with its response; each later request gets `fresh_key`
    instead. Without such a header, `extra_headers` are returned as they are.
    """
    # Header names match whatever their case; the request's own headers win.
    effective = {name.lower(): value for name, value in default_headers.items()}
    effective.update((name.lower(), value) for name, value in (extra_headers or {}).items())
    if effective.get("idempotency-key") is None:
        return None if extra_headers is None else dict(extra_headers)
    kept = {
        name: value
        for name, value in (extra_headers or {}).items()
        if name.lower() != "idempotency-key"
    }
    return {**kept, "Idempotency-Key": fresh_key}


# -- function results -------------------------------------------------------------

_BLOCK_FIELDS: dict[str, frozenset[str]] = {
    "input_text": frozenset({"text"}),
    "input_image": frozenset({"image_url", "file_id", "detail"}),
    "input_file": frozenset({"file_data", "file_id", "file_url", "filename", "detail"}),
}
_DETAILS: dict[str, tuple[object, ...]] = {
    "input_image": (None, "auto", "low", "high", "original"),
    "input_file": ("auto", "low", "high"),
}
# The fields of which a block needs at least one non-blank one.
_BLOCK_SOURCES: dict[str, tuple[str, ...]] = {
    "input_image": ("image_url", "file_id"),
    "input_file": ("file_data", "file_id", "file_url"),
}


def function_result(value: object) -> str | list[dict[str, Any]]:
    """A function's output as the API takes it: text, or a list of input blocks.

    Returns a fresh copy (the caller's objects are never sent or kept); raises
    `ValueError` saying what is wrong with anything else.
    """
    if type(value) is str:
        return value
    if type(value) is not list:
        raise ValueError(
            f"a function must return a string or a list of input blocks, not {type(value).__name__}"
        )
    blocks: list[dict[str, Any]] = []
    for position, raw in enumerate(value):
        where = f"output block {position}"
        if type(raw) is not dict or any(type(key) is not str for key in raw):
            raise ValueError(f"{where}: must be a dict with string keys")
        kind = raw.get("type")
        if type(kind) is not str or kind not in _BLOCK_FIELDS:
            raise ValueError(f"{where}: type must be input_text, input_image or input_file")
        fields = _BLOCK_FIELDS[kind]
        unknown = raw.keys() - fields - {"type", "prompt_cache_breakpoint"}
        if unknown:
            raise ValueError(f"{where}: unknown fields {sorted(unknown)}")
        block: dict[str, Any] = {"type": kind}
        for key in sorted(fields & raw.keys()):
            item = raw[key]
            if key == "detail":
                if item not in _DETAILS[kind] or (item is not None and type(item) is not str):
                    raise ValueError(f"{where}: detail {item!r} is not one of {_DETAILS[kind]}")
            elif item is not None and type(item) is not str:
                raise ValueError(f"{where}: {key} must be a string or None")
            block[key] = item
        if kind == "input_text" and type(block.get("text")) is not str:
            raise ValueError(f"{where}: input_text needs a string text")
        sources = _BLOCK_SOURCES.get(kind, ())
        if sources and not any(
            type(block.get(key)) is str and block[key].strip() for key in sources
        ):
            raise ValueError(f"{where}: {kind} needs one of {', '.join(sources)}")
        if "prompt_cache_breakpoint" in raw:
            cache = raw["prompt_cache_breakpoint"]
            if cache is not None and cache != {"mode": "explicit"}:
                raise ValueError(f"{where}: prompt_cache_breakpoint must be {{'mode': 'explicit'}}")
            block["prompt_cache_breakpoint"] = None if cache is None else {"mode": "explicit"}
        blocks.append(block)
    return blocks


def _no_constant(name: str) -> object:
    raise ValueError(f"function arguments contain {name}, which is not JSON")


def _arguments(text: object, typed: Any) -> object:
    if type(text) is not str:
        raise ValueError("function call arguments must be JSON text")
    if typed is not None:
        return parse_into(typed, text)
    value = json.loads(text, parse_constant=_no_constant)
    if type(value) is not dict:
        raise ValueError("function call arguments must be a JSON object")
    return value


# -- the context budget ------------------------------------------------------------


class ContextBudgetSnapshot(TypedDict):
    """The input a request would send, over budget: a copy, and what may be left out.

    `eligible_call_ids`: completed calls (function, browser or computer) whose call
    and output may be dropped from this one request; the latest computer and
    browser calls, the most recent screenshots and calls with safety checks are
    never eligible.
    """

    history: list[Any]
    eligible_call_ids: list[str]
    input_bytes: int
    input_images: int


class _DroppedCalls(TypedDict):
    drop_call_ids: list[str]


class ContextBudgetDecision(_DroppedCalls, total=False):
    """What `compact` chose: calls to leave out, and a summary of them to send instead."""

    summary: str


class ContextBudgetLimits(TypedDict):
    """The two limits every context budget sets."""

    max_input_bytes: int
    max_input_images: int


class ContextBudget(ContextBudgetLimits, total=False):
    """Limits on the input of each request of a run (compact JSON bytes, images).

    Without `compact`, a request over the limits stops the run; with it,
    `compact(snapshot)` decides which completed calls that request leaves out.
    `keep_recent_screenshots` (default 1): how many of the latest screenshots
    always stay.
    """

    keep_recent_screenshots: int
    compact: Callable[[ContextBudgetSnapshot], ContextBudgetDecision]


_BUDGET_KEYS = frozenset(
    {"max_input_bytes", "max_input_images", "keep_recent_screenshots", "compact"}
)
# The largest integer JSON carries exactly, the bound of every count here.
_MAX_COUNT = 2**53 - 1
_CALL_TYPES = ("function_call", "computer_call")
_OUTPUT_TYPES = ("function_call_output", "computer_call_output")
_SCREENSHOT_TOOLS = ("browser_screenshot", "browser_zoom")


def _budget(budget: object) -> dict[str, Any]:
    if not isinstance(budget, Mapping) or set(budget) - _BUDGET_KEYS:
        raise ValueError(f"context_budget takes only the fields {sorted(_BUDGET_KEYS)}")
    checked = dict(budget)
    checked.setdefault("keep_recent_screenshots", 1)
    for name, least in (
        ("max_input_bytes", 1),
        ("max_input_images", 0),
        ("keep_recent_screenshots", 1),
    ):
        number = checked.get(name)
        if type(number) is not int or not least <= number <= _MAX_COUNT:
            raise ValueError(
                f"context_budget {name} must be an integer from {least} to {_MAX_COUNT}"
            )
    if "compact" in checked and not callable(checked["compact"]):
        raise ValueError("context_budget compact must be callable")
    return checked


def _input_size(history: list[Any]) -> tuple[int, int]:
    """The bytes of `history` as compact JSON text, and the images it carries."""
    try:
        text = json.dumps(history, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the input history is not JSON: {exc}") from None
    images = 0
    for item in history:
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type", "message")
        if kind == "computer_call_output":
            images += 1
            continue
        blocks = item.get("output") if kind == "function_call_output" else item.get("content")
        if kind in ("message", "function_call_output") and isinstance(blocks, list):
            images += sum(
                1
                for block in blocks
                if isinstance(block, Mapping) and block.get("type") == "input_image"
            )
    return len(text.encode("utf-8")), images


# -- the checkpoint ledger -------------------------------------------------------------

CheckpointPhase = Literal["boundary", "pending", "final"]


class ResponsesToolCheckpoint(TypedDict):
    """One saved state of a run; the ids it lists do not prove that an effect happened.

    `boundary`: between steps, every call resolved, the run can resume from it.
    `pending`: a request or a call is under way (or its output not yet sent):
    what happened is the caller's to reconcile; it cannot resume. `final`: the
    run's answer (`final_response`). MCP declarations are saved without their
    authorization and headers, their server URL as a fingerprint.
    """

    version: Literal[1]
    run_id: str
    revision: int
    phase: CheckpointPhase
    max_steps: int
    consumed_requests: int
    tools: list[Any]
    output_override_names: list[str]
    history: list[Any]
    attempted_call_ids: list[str]
    returned_call_ids: list[str]
    pending_items: list[Any]
    returned_outputs: list[Any]
    final_response: dict[str, Any] | None


_CHECKPOINT_KEYS = frozenset(ResponsesToolCheckpoint.__annotations__)


def _saved_tools(tools: list[Any]) -> list[Any]:
    """The tool declarations as a checkpoint keeps them: no credentials."""
    saved: list[Any] = []
    for tool in tools:
        tool = copy.deepcopy(tool)
        if isinstance(tool, dict) and tool.get("type") == "mcp":
            tool.pop("authorization", None)
            tool.pop("headers", None)
            url = tool.get("server_url")
            if type(url) is str:
                tool["server_url"] = "sha256:" + hashlib.sha256(url.encode()).hexdigest()
        container = tool.get("container") if isinstance(tool, dict) else None
        policy = container.get("network_policy") if isinstance(container, dict) else None
        if isinstance(policy, dict):
            policy.pop("domain_secrets", None)
        saved.append(tool)
    return saved


def _json_copy(value: object) -> Any:
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"checkpoint data must be JSON: {exc}") from None


# -- eager execution ----------------------------------------------------------------


class EarlyExecution(TypedDict, total=False):
    """Which calls may run while their response still streams (with `eager=True`).

    `functions`: registered function (or browser tool) names; `computer`: computer
    calls. The first call of a response not selected waits, and so does every
    item after it, until the response completes.
    """

    functions: list[str]
    computer: bool


def early_selection(
    early: object, names: Iterable[str], computer: bool
) -> tuple[frozenset[str], bool] | None:
    """A runner's checked `early_execution`: the function names and whether computer calls."""
    if early is None:
        return None
    if not isinstance(early, Mapping) or set(early) - {"functions", "computer"}:
        raise ValueError("early_execution takes only functions and computer")
    functions = early.get("functions", [])
    registered = set(names)
    if (
        type(functions) is not list
        or any(type(name) is not str or name not in registered for name in functions)
        or len(set(functions)) != len(functions)
    ):
        raise ValueError("early_execution functions must be registered function names, each once")
    wanted = early.get("computer", False)
    if type(wanted) is not bool or (wanted and not computer):
        raise ValueError("early_execution computer must be a boolean, True only with a computer")
    return frozenset(functions), wanted


def _same_item(streamed: Mapping[str, Any], completed: Mapping[str, Any]) -> bool:
    # A streamed item may lack the id the completed response gives it.
    if "id" not in streamed:
        completed = {key: value for key, value in completed.items() if key != "id"}
    return dict(streamed) == dict(completed)


# -- the Responses loop ----------------------------------------------------------

_LOCAL_TOOL_TYPES = frozenset({"function", "computer", "computer_use", "computer_use_preview"})
# Keys of `extra_body` that would change what the runner itself decides.
_OWNED_BODY_KEYS = frozenset(
    {
        "stream",
        "store",
        "background",
        "conversation",
        "previous_response_id",
        "tools",
        "input",
        "include",
        "tool_choice",
    }
)
_REPLAYED_TYPES = frozenset(
    {"message", "reasoning", "compaction", "function_call", "computer_call"}
)
_COMPUTER_TOOLS = frozenset({"computer", "computer_use", "computer_use_preview"})
_NO_MORE_STEPS = "the tool run reached max_steps before the model finished"
# The items a server tool leaves in a response, and the tool types that make them.
_SERVER_ITEMS: dict[str, frozenset[str]] = {
    "web_search_call": frozenset(
        {
            "web_search",
            "web_search_2025_08_26",
            "web_search_preview",
            "web_search_preview_2025_03_11",
        }
    ),
    "file_search_call": frozenset({"file_search"}),
    "code_interpreter_call": frozenset({"code_interpreter"}),
    "image_generation_call": frozenset({"image_generation"}),
    "mcp_call": frozenset({"mcp"}),
    "mcp_list_tools": frozenset({"mcp"}),
    "mcp_approval_request": frozenset({"mcp"}),
}
_SERVER_TOOLS = frozenset(kind for kinds in _SERVER_ITEMS.values() for kind in kinds)


class FunctionCallPlan(TypedDict):
    """A call of a response that the runner answers: a registered function it runs (or
    takes a supplied output for), a browser tool or a computer call its toolset runs,
    or an MCP approval request it asks the caller about. `arguments` is the parsed
    arguments of a function, the raw text of a browser or MCP call, None for a
    computer call (whose actions are in `item`)."""

    kind: Literal["function", "mcp_approval", "browser", "computer"]
    call_id: str
    name: str
    arguments: object
    item: dict[str, Any]


def _wire_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """An output item as it goes back in the next request's input."""
    data = copy.deepcopy(dict(item))
    # Fields the SDK adds to what it received, not fields of an input item.
    data.pop("created_by", None)
    if data.get("type") == "function_call":
        data.pop("parsed_arguments", None)
        if data.get("id") is None:
            data.pop("id", None)
    if data.get("type") == "message":
        for part in data.get("content") or ():
            if isinstance(part, dict) and part.get("type") == "output_text":
                part.pop("parsed", None)
    return data


class ResponsesToolRun:
    """The state and decisions of one Responses tool run (see the module docstring).

    `functions` maps each registered function's name to its tool definition and
    the type its arguments parse into (None: a dict). The driver calls, per step:
    `begin(step)`, `request()`, sends it, `inspect(response)` (the response's
    JSON), then for each returned plan runs the function (or takes
    `supplied_output`), `record_output`, and finally `finish()`.
    """

    def __init__(
        self,
        params: Mapping[str, Any],
        functions: Mapping[str, tuple[Mapping[str, Any], Any]],
        *,
        max_steps: int | None,
        output_overrides: Iterable[str] = (),
        browser_tools: Iterable[Mapping[str, Any]] = (),
        computer: bool = False,
        context_budget: object = None,
    ) -> None:
        self.attempted: list[str] = []
        self.completed: list[str] = []
        if max_steps is None:
            max_steps = 20
        if type(max_steps) is not int or max_steps < 1:
            raise ValueError(f"max_steps must be a positive integer, not {max_steps!r}")
        self.max_steps = max_steps
        if not isinstance(params, Mapping):
            raise ValueError("params must be a dict of responses.create parameters")
        if params.get("stream"):
            raise ValueError("select streaming with run(stream=True), not params['stream']")
        if params.get("background"):
            raise ValueError("a tool run needs foreground responses: leave background unset")
        for key in ("conversation", "previous_response_id"):
            if params.get(key) is not None:
                raise ValueError(
                    f"a tool run keeps its own input history: pass it as input, not {key}"
                )
        self.budget = None if context_budget is None else _budget(context_budget)
        if self.budget is not None and (
            params.get("truncation") == "auto" or params.get("context_management")
        ):
            raise ValueError(
                "a context_budget decides what each request sends: leave truncation and "
                "context_management unset"
            )
        extra_body = params.get("extra_body")
        if isinstance(extra_body, Mapping):
            owned_keys = _OWNED_BODY_KEYS
            if self.budget is not None:
                owned_keys = owned_keys | {"truncation", "context_management"}
            owned = sorted(owned_keys.intersection(extra_body))
            if owned:
                raise ValueError(f"extra_body cannot set what the runner decides: {owned}")
        declared = [copy.deepcopy(tool) for tool in params.get("tools") or []]
        # The computer tool the request offers: the registered toolset's, unless params
        # declare the one (with its display settings) that toolset answers.
        computer_tools: list[Any] = [{"type": "computer"}] if computer else []
        declared_computer = False
        for tool in declared:
            kind = tool.get("type") if isinstance(tool, Mapping) else None
            if kind in _COMPUTER_TOOLS and computer and not declared_computer:
                declared_computer = True
                computer_tools = [tool]
                continue
            if kind in _COMPUTER_TOOLS:
                raise ValueError(
                    "params['tools'] may declare a computer tool only once, and only with "
                    "computer=ComputerToolset(...) registered to run its calls"
                )
            if kind not in _SERVER_TOOLS:
                raise ValueError(
                    "params['tools'] takes the API's server tools (web search, file search, "
                    "code interpreter, image generation, MCP) and the computer tool; register "
                    f"functions with functions=[...] (got a {kind!r} tool)"
                )
        declared = [tool for tool in declared if tool.get("type") not in _COMPUTER_TOOLS]
        self.has_computer = computer
        labels = [tool.get("server_label") for tool in declared if tool["type"] == "mcp"]
        if any(type(label) is not str or not label for label in labels) or len(set(labels)) != len(
            labels
        ):
            raise ValueError("each MCP tool needs a non-empty server_label of its own")
        if params.get("store") is False and any(t["type"] == "image_generation" for t in declared):
            raise ValueError(
                "a run that continues after image generation needs stored responses: "
                "leave store unset (or True), or use responses.create for one request"
            )
        self._server_tools: list[dict[str, Any]] = declared
        self.has_mcp = bool(labels)
        self.has_server_tools = bool(declared)
        browser = [copy.deepcopy(dict(tool)) for tool in browser_tools]
        self.browser_names: frozenset[str] = frozenset(
            tool["name"] for tool in browser if type(tool.get("name")) is str
        )
        if len(self.browser_names) != len(browser) or not self.browser_names.isdisjoint(functions):
            raise ValueError("function names must be unique: a function shadows a browser tool")
        tools = browser + [copy.deepcopy(dict(definition)) for definition, _ in functions.values()]
        self._typed = {name: typed for name, (_, typed) in functions.items()}
        choice = params.get("tool_choice")
        self.selected = set(functions) | set(self.browser_names)
        self.selected_computer = computer
        # None: every declared server tool may run; else the types tool_choice allows.
        self.selected_server: set[str] | None = None
        self.selected_mcp: list[tuple[str, str | None]] | None = None
        if choice not in (None, "auto", "none", "required"):
            if not isinstance(choice, Mapping):
                raise ValueError(f"tool_choice {choice!r} is not one the API accepts")
            forced = choice.get("type") in _LOCAL_TOOL_TYPES
            allowed = choice.get("tools") if choice.get("type") == "allowed_tools" else [choice]
            if (
                choice.get("type") == "allowed_tools"
                and choice.get("mode") == "required"
                and allowed
                and all(
                    isinstance(tool, Mapping) and tool.get("type") in _LOCAL_TOOL_TYPES
                    for tool in allowed
                )
            ):
                forced = True
            if forced:
                raise ValueError(
                    "a tool_choice that always requires a local tool never lets the run finish: "
                    "use auto, or responses.create for one forced request"
                )
            chosen = [tool for tool in allowed or () if isinstance(tool, Mapping)]
            self.selected_computer = computer and any(
                tool.get("type") in _COMPUTER_TOOLS for tool in chosen
            )
            self.selected = {
                tool["name"]
                for tool in chosen
                if tool.get("type") == "function" and type(tool.get("name")) is str
            }
            self.selected_server = {
                tool["type"] for tool in chosen if tool.get("type") in _SERVER_TOOLS - {"mcp"}
            }
            self.selected_mcp = [
                (tool["server_label"], tool.get("name"))
                for tool in chosen
                if tool.get("type") == "mcp" and type(tool.get("server_label")) is str
            ]
        elif choice == "required" and (tools or computer_tools) and not declared:
            raise ValueError(
                "tool_choice 'required' with only local tools never lets the run finish: "
                "use auto, or responses.create for one forced request"
            )
        request = {key: value for key, value in params.items() if key != "stream"}
        original = params.get("input", [])
        if isinstance(original, str):
            self.history: list[Any] = [{"role": "user", "content": original}]
        elif isinstance(original, Iterable) and not isinstance(original, (bytes, Mapping)):
            self.history = [copy.deepcopy(item) for item in original]
        else:
            raise ValueError("input must be a string or a list of input items")
        if "tool_choice" in request:
            request["tool_choice"] = copy.deepcopy(request["tool_choice"])
        request["tools"] = tools + declared + computer_tools
        include = list(params.get("include") or [])
        # Reasoning items are replayed in the next request: without stored state they
        # need their encrypted content.
        request["include"] = list(dict.fromkeys([*include, "reasoning.encrypted_content"]))
        if self.budget is not None and request.get("truncation") is None:
            # The server must not cut what the budget let through.
            request["truncation"] = "disabled"
        self._request = request
        self.overrides = frozenset(output_overrides)
        self._seen = {
            item["call_id"]
            for item in self.history
            if isinstance(item, Mapping) and type(item.get("call_id")) is str
        }
        self._ids = {
            item["id"]
            for item in self.history
            if isinstance(item, Mapping) and type(item.get("id")) is str
        }
        # MCP approval requests answered "yes" that no mcp_call has used yet.
        self._approved: dict[str, dict[str, Any]] = {}
        self._note_approvals(self.history)
        self.step = 0
        self.last_step = False
        self._items: list[dict[str, Any]] = []
        self._outputs: list[dict[str, Any]] = []
        self._user_text: list[str] = []
        self.supplied: dict[str, dict[str, Any]] = {}
        self.turn_open = False
        self.eager = False
        self.early: tuple[frozenset[str], bool] | None = None
        self._received: list[dict[str, Any]] = []
        self._deferred = False
        self._early_seen: set[str] = set()
        self._ran_early: dict[str, dict[str, Any]] = {}
        self.ledger_run_id: str | None = None
        self.revision = 0
        self.consumed_requests = 0

    def use_ledger(self, run_id: object, resume_from: object) -> None:
        """Keeps checkpoints under `run_id`; continues from `resume_from` when given.

        Only a `boundary` checkpoint of this run, with the same `max_steps`, tools
        and overridable functions, can resume; its history replaces `params["input"]`.
        """
        if type(run_id) is not str or not run_id:
            raise ValueError("a ledger needs a non-empty string run_id")
        self.ledger_run_id = run_id
        if resume_from is None:
            return
        saved = resume_from
        if not isinstance(saved, Mapping) or set(saved) != _CHECKPOINT_KEYS:
            raise ValueError("resume_from must be a whole checkpoint of this runner")
        saved = _json_copy(dict(saved))
        attempted, returned = saved["attempted_call_ids"], saved["returned_call_ids"]
        revision, consumed = saved["revision"], saved["consumed_requests"]
        if (
            saved["version"] != 1
            or saved["run_id"] != run_id
            or saved["phase"] != "boundary"
            or saved["max_steps"] != self.max_steps
            or saved["tools"] != _saved_tools(self._request["tools"])
            or saved["output_override_names"] != sorted(self.overrides)
            or saved["pending_items"] != []
            or saved["returned_outputs"] != []
            or saved["final_response"] is not None
            or type(saved["history"]) is not list
            or type(attempted) is not list
            or attempted != returned
            or any(type(call_id) is not str for call_id in attempted)
            or len(set(attempted)) != len(attempted)
            or type(revision) is not int
            or not 1 <= revision < _MAX_COUNT
            or type(consumed) is not int
            or not 0 <= consumed < self.max_steps
        ):
            raise ValueError(
                "only a boundary checkpoint of this run (same run_id, max_steps, tools and "
                "overridable functions, every call resolved, steps left) can resume; "
                "reconcile a pending one yourself"
            )
        history: list[Any] = saved["history"]
        calls = {
            item["call_id"]
            for item in history
            if isinstance(item, dict) and item.get("type") in _CALL_TYPES
        }
        if any(call_id not in calls for call_id in attempted):
            raise ValueError("the checkpoint lists calls its history does not hold")
        self.history = history
        self.attempted[:] = attempted
        self.completed[:] = returned
        self.revision = revision
        self.consumed_requests = consumed
        self._seen = {
            item["call_id"]
            for item in history
            if isinstance(item, Mapping) and type(item.get("call_id")) is str
        }
        self._ids = {
            item["id"]
            for item in history
            if isinstance(item, Mapping) and type(item.get("id")) is str
        }
        self._approved = {}
        self._note_approvals(history)

    def checkpoint(
        self, phase: CheckpointPhase, final_response: Mapping[str, Any] | None = None
    ) -> ResponsesToolCheckpoint:
        """The next checkpoint (a fresh JSON copy) of this run, in `phase`."""
        if self.ledger_run_id is None:
            raise self.error("the run keeps no ledger")
        if self.revision >= _MAX_COUNT:
            raise self.error("the ledger's revision count is exhausted")
        self.revision += 1
        final = None
        if phase == "final" and final_response is not None:
            final = _json_copy(dict(final_response))
            if isinstance(final.get("tools"), list):
                final["tools"] = _saved_tools(final["tools"])
        pending = phase == "pending"
        value: ResponsesToolCheckpoint = {
            "version": 1,
            "run_id": self.ledger_run_id,
            "revision": self.revision,
            "phase": phase,
            "max_steps": self.max_steps,
            "consumed_requests": self.consumed_requests,
            "tools": _saved_tools(self._request["tools"]),
            "output_override_names": sorted(self.overrides),
            "history": _json_copy(self.history),
            "attempted_call_ids": list(self.attempted),
            "returned_call_ids": list(self.completed),
            "pending_items": _json_copy(self._items) if pending else [],
            "returned_outputs": _json_copy(self._outputs) if pending else [],
            "final_response": final,
        }
        return value

    def eager_mode(
        self,
        *,
        eager: bool,
        stream: bool,
        early: tuple[frozenset[str], bool] | None,
        before_early_call: bool,
    ) -> None:
        """Sets how calls may run while a response streams (see `receive`)."""
        if eager and not stream:
            raise ValueError("eager execution needs run(stream=True)")
        # Server tool items are checked against the whole response before any call
        # runs: with a server tool declared, nothing runs early.
        self.eager = eager and not self._server_tools
        if self.eager and early is None and before_early_call:
            # The callback decides each call: every local tool may be offered to it.
            early = (frozenset(self._typed) | self.browser_names, self.has_computer)
        self.early = early if self.eager else None

    # -- errors --------------------------------------------------------------

    def error(self, message: str) -> ToolRunnerError:
        return ToolRunnerError(message, self.attempted, self.completed)

    # -- one step ------------------------------------------------------------

    def begin(self, step: int) -> None:
        """Starts request number `step` (0-based)."""
        self.step = step
        self.last_step = step == self.max_steps - 1
        self._items = []
        self._outputs = []
        self.supplied = {}
        self._received = []
        self._deferred = False
        self._early_seen = set()
        self._ran_early = {}

    def request(self) -> dict[str, Any]:
        """The `responses.create` keyword arguments of this step (a fresh dict)."""
        request = dict(self._request)
        request["input"] = copy.deepcopy(self.history)
        request["tools"] = copy.deepcopy(self._request["tools"])
        return request

    def budget_snapshot(self) -> tuple[ContextBudgetSnapshot, frozenset[str]] | None:
        """None when this step's input fits the context budget (or there is none), else
        the snapshot for `compact` and the call ids it may drop.

        Raises `ToolRunnerError` when the input does not fit and there is no `compact`.
        """
        if self.budget is None:
            return None
        try:
            size, images = _input_size(self.history)
        except ValueError as exc:
            raise self.error(str(exc)) from None
        if size <= self.budget["max_input_bytes"] and images <= self.budget["max_input_images"]:
            return None
        if "compact" not in self.budget:
            raise self.error(
                f"the input ({size} bytes, {images} images) exceeds the context_budget "
                "and there is no compact callback to shrink it"
            )
        calls: dict[str, Mapping[str, Any]] = {}
        answered: set[str] = set()
        protected: set[str] = set()
        screenshots: list[str] = []
        latest_browser: str | None = None
        latest_computer: str | None = None
        for item in self.history:
            if not isinstance(item, Mapping) or type(item.get("call_id")) is not str:
                continue
            kind, call_id = item.get("type"), item["call_id"]
            if kind in _CALL_TYPES:
                calls[call_id] = item
                if kind == "computer_call":
                    latest_computer = call_id
                    if item.get("pending_safety_checks"):
                        protected.add(call_id)
                elif item.get("name") in self.browser_names:
                    latest_browser = call_id
            elif kind in _OUTPUT_TYPES and call_id in calls:
                answered.add(call_id)
                call = calls[call_id]
                if kind == "computer_call_output":
                    screenshots.append(call_id)
                    if item.get("acknowledged_safety_checks"):
                        protected.add(call_id)
                elif (
                    call.get("name") in _SCREENSHOT_TOOLS
                    and call.get("name") in self.browser_names
                    and isinstance(item.get("output"), list)
                    and any(
                        isinstance(block, Mapping) and block.get("type") == "input_image"
                        for block in item["output"]
                    )
                ):
                    screenshots.append(call_id)
        keep = self.budget["keep_recent_screenshots"]
        protected.update(screenshots[-keep:])
        protected.update(call for call in (latest_browser, latest_computer) if call is not None)
        eligible = [
            call_id for call_id in calls if call_id in answered and call_id not in protected
        ]
        snapshot: ContextBudgetSnapshot = {
            "history": copy.deepcopy(self.history),
            "eligible_call_ids": eligible,
            "input_bytes": size,
            "input_images": images,
        }
        return snapshot, frozenset(eligible)

    def budget_input(self, decision: object, eligible: frozenset[str]) -> list[Any]:
        """This step's input with the calls `decision` drops left out (the history keeps them).

        A summary and the receipts of the dropped calls (their ids and names) go
        first, as user messages, so the model knows what it no longer sees. Raises
        `ToolRunnerError` for a decision naming anything but eligible calls, or when
        the input still does not fit.
        """
        if (
            not isinstance(decision, Mapping)
            or set(decision) - {"drop_call_ids", "summary"}
            or type(decision.get("drop_call_ids")) is not list
            or ("summary" in decision and type(decision["summary"]) is not str)
        ):
            raise self.error(
                "compact must return {'drop_call_ids': [...]} and optionally a string summary"
            )
        drop = decision["drop_call_ids"]
        if any(type(call_id) is not str or call_id not in eligible for call_id in drop) or len(
            set(drop)
        ) != len(drop):
            raise self.error("compact may drop only the snapshot's eligible_call_ids, each once")
        dropped = frozenset(drop)
        kept: list[Any] = []
        receipts: list[dict[str, str]] = []
        for item in self.history:
            if (
                isinstance(item, Mapping)
                and item.get("type") in (*_CALL_TYPES, *_OUTPUT_TYPES)
                and item.get("call_id") in dropped
            ):
                if item["type"] in _CALL_TYPES:
                    receipt = {"call_id": item["call_id"], "kind": item["type"]}
                    if type(item.get("name")) is str:
                        receipt["name"] = item["name"]
                    receipts.append(receipt)
                continue
            kept.append(copy.deepcopy(item))
        notes: list[Any] = []
        if "summary" in decision:
            notes.append(
                {
                    "role": "user",
                    "content": "Summary of completed tool results left out of this input: "
                    + decision["summary"],
                }
            )
        if receipts:
            notes.append(
                {
                    "role": "user",
                    "content": "Completed tool calls left out of this input: "
                    + json.dumps(receipts, ensure_ascii=False, separators=(",", ":"))
                    + ". Their outputs were received; whether their effects succeeded "
                    "is not verified here.",
                }
            )
        projected = [*notes, *kept]
        size, images = _input_size(projected)
        if self.budget is None:
            raise self.error("the run has no context_budget")
        if size > self.budget["max_input_bytes"] or images > self.budget["max_input_images"]:
            raise self.error(
                f"the input after compact ({size} bytes, {images} images) still exceeds "
                "the context_budget"
            )
        return projected

    def receive(self, index: object, raw: object) -> FunctionCallPlan | None:
        """An item the stream reports done: the call to run now, or None (it waits).

        Only the calls of an unbroken prefix of the output run early; a gap in the
        indexes, an item not selected by `early_execution`, an MCP approval or a
        deferral (`defer`) makes this and every later item of the response wait.
        A call that could never run stops the run here, before anything after it.
        """
        if not self.eager or self._deferred:
            return None
        if type(index) is not int or index != len(self._received) or not isinstance(raw, Mapping):
            self._deferred = True
            return None
        item = _wire_item(raw)
        self._received.append(item)
        kind, name = item.get("type"), item.get("name")
        early = self.early
        if kind == "function_call":
            if early is not None and name not in early[0]:
                self._deferred = True
                return None
            return self._plan(item, self._early_seen)
        if kind == "computer_call":
            if early is not None and not early[1]:
                self._deferred = True
                return None
            return self._computer_plan(item, self._early_seen)
        if kind not in ("message", "reasoning", "compaction"):
            self._deferred = True
        return None

    def defer(self) -> None:
        """Nothing more of this response runs before it completes."""
        self._deferred = True

    def run_early(self, plan: FunctionCallPlan) -> None:
        """Notes that `plan` runs now, while its response streams."""
        self._ran_early[plan["call_id"]] = plan["item"]
        self.attempt(plan["call_id"])

    @property
    def tools_executed(self) -> bool:
        """Whether calls of this step already ran while its response streamed."""
        return bool(self._ran_early)

    def inspect(self, response: Mapping[str, Any]) -> list[FunctionCallPlan] | None:
        """Checks a response: None when it is the final answer, else the calls to run.

        Every item is checked before any call runs, so a response with one bad item
        runs nothing.
        """
        status = response.get("status")
        if status != "completed":
            raise self.error(f"the response did not complete (status {status!r})")
        output = response.get("output")
        if not isinstance(output, list):
            raise self.error("the response has no output list")
        plans: list[FunctionCallPlan] = []
        items: list[dict[str, Any]] = []
        seen_calls: set[str] = set()
        seen_ids: set[str] = set()
        answered = False
        for position, raw in enumerate(output):
            if not isinstance(raw, Mapping):
                raise self.error(f"output item {position} is not an object")
            item = _wire_item(raw)
            kind = item.get("type")
            item_id = item.get("id")
            if type(item_id) is str:
                if item_id in self._ids or item_id in seen_ids:
                    raise self.error(f"output item id {item_id!r} was already seen in this run")
                seen_ids.add(item_id)
            if kind in _SERVER_ITEMS:
                plan = self._server_item(item, seen_calls)
                if plan is None:
                    answered = True
                else:
                    plans.append(plan)
                items.append(item)
                continue
            if kind not in _REPLAYED_TYPES:
                raise self.error(f"the response has a {kind!r} item, which this runner cannot run")
            if kind == "message":
                if item.get("status") != "completed":
                    raise self.error("a message of the response did not complete")
                if item.get("phase") != "commentary":
                    answered = True
            elif kind == "reasoning":
                if type(item_id) is not str or not isinstance(item.get("summary"), list):
                    raise self.error(
                        "a reasoning item lacks its id or summary, so it cannot be replayed"
                    )
            elif kind == "compaction":
                if type(item_id) is not str or type(item.get("encrypted_content")) is not str:
                    raise self.error("a compaction item lacks its id or encrypted content")
            elif kind == "computer_call":
                plans.append(self._computer_plan(item, seen_calls))
            else:
                plans.append(self._plan(item, seen_calls))
            items.append(item)
        self._items = items
        if self._ran_early:
            # What ran must be what the response holds, and it does not run again.
            completed = {
                plan["call_id"]: plan["item"] for plan in plans if plan["kind"] != "mcp_approval"
            }
            for call_id, streamed in self._ran_early.items():
                final = completed.get(call_id)
                if final is None or not _same_item(streamed, final):
                    raise self.error(
                        f"the completed response differs from the streamed call {call_id} "
                        "that already ran"
                    )
            return [plan for plan in plans if plan["call_id"] not in self._ran_early]
        if plans:
            return plans
        if not answered:
            raise self.error("the response has neither a final message nor a tool call")
        return None

    def _computer_plan(self, item: dict[str, Any], seen: set[str]) -> FunctionCallPlan:
        call_id = item.get("call_id")
        if not self.has_computer:
            raise self.error("the model made a computer call, but no computer is registered")
        if not self.selected_computer:
            raise self.error("the model made a computer call, which tool_choice excludes")
        try:
            # Every action is checked before any call of the response runs.
            computer_actions(ResponseComputerToolCall.from_dict(copy.deepcopy(item)))
        except (ComputerUseError, APIResponseValidationError) as exc:
            raise self.error(f"a computer call cannot run: {exc}") from None
        if self.last_step:
            raise self.error(_NO_MORE_STEPS)
        if type(call_id) is not str or not call_id or call_id in self._seen or call_id in seen:
            raise self.error("a computer call has a missing or repeated call_id")
        seen.add(call_id)
        return {
            "kind": "computer",
            "call_id": call_id,
            "name": "computer",
            "arguments": None,
            "item": item,
        }

    def _plan(self, item: dict[str, Any], seen: set[str]) -> FunctionCallPlan:
        name, call_id = item.get("name"), item.get("call_id")
        if type(name) is str and name in self.browser_names:
            return self._browser_plan(item, name, call_id, seen)
        if type(name) is not str or name not in self._typed:
            raise self.error(f"the model called {name!r}, which is not a registered function")
        if name not in self.selected:
            raise self.error(f"the model called {name!r}, which tool_choice excludes")
        if item.get("namespace") not in (None, name):
            raise self.error(f"the call of {name!r} names another namespace")
        if item.get("status") not in (None, "completed"):
            raise self.error(f"the call of {name!r} did not complete")
        if self.last_step:
            raise self.error(_NO_MORE_STEPS)
        if type(call_id) is not str or not call_id or call_id in self._seen or call_id in seen:
            raise self.error(f"the call of {name!r} has a missing or repeated call_id")
        seen.add(call_id)
        try:
            arguments = _arguments(item.get("arguments"), self._typed[name])
        except ValueError as exc:
            raise ToolRunnerError(
                f"the arguments of {name!r} (call {call_id}) are invalid: {exc}",
                self.attempted,
                self.completed,
            ) from exc
        return {
            "kind": "function",
            "call_id": call_id,
            "name": name,
            "arguments": arguments,
            "item": item,
        }

    def _browser_plan(
        self, item: dict[str, Any], name: str, call_id: object, seen: set[str]
    ) -> FunctionCallPlan:
        # The browser toolset checks the arguments itself: bad ones become an output
        # the model reads, not an end of the run.
        if name not in self.selected:
            raise self.error(f"the model called {name!r}, which tool_choice excludes")
        if self.last_step:
            raise self.error(_NO_MORE_STEPS)
        if type(call_id) is not str or not call_id or call_id in self._seen or call_id in seen:
            raise self.error(f"the call of {name!r} has a missing or repeated call_id")
        seen.add(call_id)
        return {
            "kind": "browser",
            "call_id": call_id,
            "name": name,
            "arguments": item.get("arguments"),
            "item": item,
        }

    def _server_item(self, item: dict[str, Any], seen: set[str]) -> FunctionCallPlan | None:
        """Checks an item a server tool left; an MCP approval request becomes a plan."""
        kind = item["type"]
        declared = [tool for tool in self._server_tools if tool["type"] in _SERVER_ITEMS[kind]]
        if not declared:
            raise self.error(f"the response has a {kind} item, but no such tool was declared")
        label = item.get("server_label")
        if kind.startswith("mcp_"):
            declared = [tool for tool in declared if tool.get("server_label") == label]
            if not declared:
                raise self.error(
                    f"the {kind} item names MCP server {label!r}, which is not declared"
                )
        item_id = item.get("id")
        if type(item_id) is not str or not item_id:
            raise self.error(f"a {kind} item lacks its id, so it cannot be replayed")
        if item.get("status") not in (None, "completed") or item.get("error") is not None:
            raise self.error(
                f"the {kind} item did not complete; the run stops before what depends on it"
            )
        if (
            self.selected_server is not None
            and not kind.startswith("mcp_")
            and self.selected_server.isdisjoint(_SERVER_ITEMS[kind])
        ):
            raise self.error(f"the response has a {kind} item, which tool_choice excludes")
        if kind not in ("mcp_call", "mcp_approval_request"):
            return None
        name, arguments = item.get("name"), item.get("arguments")
        if type(name) is not str or type(arguments) is not str:
            raise self.error(f"the {kind} item lacks its tool name or arguments")
        server = declared[0]
        allowed = server.get("allowed_tools")
        names = allowed.get("tool_names") if isinstance(allowed, Mapping) else allowed
        if allowed is not None and (not isinstance(names, list) or name not in names):
            raise self.error(f"MCP tool {name!r} is not among the server's allowed_tools")
        if self.selected_mcp is not None and not any(
            label == chosen and only in (None, name) for chosen, only in self.selected_mcp
        ):
            raise self.error(f"MCP tool {name!r} of {label!r} is excluded by tool_choice")
        # Unset (or null) means the API's default: every call needs an approval.
        policy = server.get("require_approval") or "always"
        if kind == "mcp_call":
            request_id = item.get("approval_request_id")
            if request_id is None:
                if policy == "always":
                    raise self.error(f"MCP tool {name!r} ran without the approval it requires")
                return None
            approved = self._approved.pop(request_id, None) if type(request_id) is str else None
            if approved is None or (
                approved.get("server_label"),
                approved.get("name"),
                approved.get("arguments"),
            ) != (label, name, arguments):
                raise self.error(f"MCP call {item_id!r} has no matching approved request")
            return None
        if policy == "never":
            raise self.error(
                f"the server asked to approve {name!r}, whose require_approval is never"
            )
        if self.last_step:
            raise self.error(_NO_MORE_STEPS)
        if item_id in seen:
            raise self.error(f"MCP approval request {item_id!r} is repeated")
        seen.add(item_id)
        return {
            "kind": "mcp_approval",
            "call_id": item_id,
            "name": name,
            "arguments": arguments,
            "item": item,
        }

    def _note_approvals(self, items: Iterable[Any]) -> None:
        # In order: a request, its "yes", then the mcp_call that uses the grant.
        requests: dict[str, dict[str, Any]] = {}
        for item in items:
            if not isinstance(item, Mapping):
                continue
            kind, item_id = item.get("type"), item.get("id")
            if kind == "mcp_approval_request" and type(item_id) is str:
                requests[item_id] = dict(item)
            elif kind == "mcp_approval_response" and item.get("approve") is True:
                answered = item.get("approval_request_id")
                request = requests.get(answered) if type(answered) is str else None
                if request is not None:
                    self._approved[request["id"]] = request
            elif kind == "mcp_call" and type(item.get("approval_request_id")) is str:
                self._approved.pop(item["approval_request_id"], None)

    def approval_output(self, plan: FunctionCallPlan, approved: object) -> dict[str, Any]:
        """The `mcp_approval_response` item answering an approval request."""
        if type(approved) is not bool:
            raise self.error(
                f"approve_mcp must return True or False, not {type(approved).__name__}"
            )
        item = {
            "type": "mcp_approval_response",
            "approval_request_id": plan["call_id"],
            "approve": approved,
        }
        self.add_output(plan, item)
        return item

    def eligible_for_supply(self, plans: Iterable[FunctionCallPlan]) -> frozenset[str]:
        """The calls whose output the caller may supply (functions allowing an override)."""
        return frozenset(
            plan["call_id"]
            for plan in plans
            if plan["kind"] == "function" and plan["name"] in self.overrides
        )

    def supply(self, eligible: frozenset[str], outputs: object) -> None:
        """Takes outputs the caller supplies for this turn's calls (replacing earlier ones)."""
        if not self.turn_open:
            raise ValueError("outputs can only be supplied while the turn is the current one")
        if type(outputs) is not list:
            raise ValueError("supply a list of function_call_output dicts")
        pending: dict[str, dict[str, Any]] = {}
        for raw in outputs:
            if type(raw) is not dict or raw.keys() != {"type", "call_id", "output"}:
                raise ValueError(
                    "each supplied output is a dict with exactly type, call_id and output"
                )
            call_id = raw["call_id"]
            if raw["type"] != "function_call_output" or type(call_id) is not str:
                raise ValueError(
                    "a supplied output needs type 'function_call_output' and a call_id"
                )
            if call_id not in eligible or call_id in pending:
                raise ValueError(
                    f"call {call_id!r} is not a call of this turn whose function allows "
                    "supplied outputs, or is supplied twice"
                )
            pending[call_id] = {
                "type": "function_call_output",
                "call_id": call_id,
                "output": function_result(raw["output"]),
            }
        self.supplied = pending

    def append_user_text(self, final: bool, text: object) -> None:
        """Queues a user message that goes after this turn's tool outputs."""
        if not self.turn_open or final:
            raise ValueError("user text can only be appended to the current, non-final turn")
        if type(text) is not str or not text.strip():
            raise ValueError("the appended text must be a non-blank string")
        self._user_text.append(text)

    def attempt(self, call_id: str) -> None:
        self.attempted.append(call_id)

    def record_output(self, plan: FunctionCallPlan, result: object) -> dict[str, Any]:
        """The `function_call_output` item of a call from what its function returned."""
        try:
            output = function_result(result)
        except ValueError as exc:
            raise ToolRunnerError(
                f"the function {plan['name']!r} (call {plan['call_id']}) returned an invalid "
                f"output: {exc}",
                self.attempted,
                self.completed,
            ) from exc
        item = {"type": "function_call_output", "call_id": plan["call_id"], "output": output}
        self.add_output(plan, item)
        return item

    def toolset_output(self, plan: FunctionCallPlan, output: object) -> dict[str, Any]:
        """Takes the output item a browser or computer toolset returned for `plan`.

        The item must answer the call (its type and call id); the run keeps a copy.
        """
        expected = "computer_call_output" if plan["kind"] == "computer" else "function_call_output"
        if (
            not isinstance(output, Mapping)
            or output.get("type") != expected
            or output.get("call_id") != plan["call_id"]
        ):
            raise self.error(
                f"the {plan['kind']} toolset did not return the {expected} of call "
                f"{plan['call_id']}"
            )
        item = json.loads(json.dumps(dict(output), allow_nan=False))
        self.add_output(plan, item)
        return dict(item)

    def add_output(self, plan: FunctionCallPlan, item: dict[str, Any]) -> None:
        self._outputs.append(item)
        self.completed.append(plan["call_id"])

    def finish(self) -> None:
        """Ends the step: the response's items, the outputs, any appended text join the history."""
        for item in self._items:
            if type(item.get("call_id")) is str:
                self._seen.add(item["call_id"])
            if type(item.get("id")) is str:
                self._ids.add(item["id"])
        self.history.extend(self._items)
        self.history.extend(self._outputs)
        self._note_approvals([*self._items, *self._outputs])
        self.history.extend({"role": "user", "content": text} for text in self._user_text)
        self._user_text = []
        self._items = []
        self._outputs = []

    def out_of_steps(self) -> ToolRunnerError:
        return self.error(_NO_MORE_STEPS)


# -- the Decisions loop ----------------------------------------------------------


class DecisionCandidateEntry:
    """One checked candidate of a step."""

    __slots__ = ("description", "done", "execute", "id")

    def __init__(
        self, id: str, description: str, done: bool, execute: Callable[[], object] | None
    ) -> None:
        self.id = id
        self.description = description
        self.done = done
        self.execute = execute


class DecisionsRunResult(TypedDict):
    """How a Decisions run ended, with every decision it received and the ids it ran."""

    status: Literal["verified", "unverified", "refused"]
    decisions: list[Any]
    attempted_candidate_ids: list[str]
    completed_candidate_ids: list[str]


_QUESTION = "next_action"
_INSTRUCTIONS = (
    "Choose the action, among those offered, that moves the task forward the most; "
    "choose done when the task is complete."
)
_PARAM_KEYS = frozenset({"model", "input", "safety_identifier"})


def _finite_number(value: object) -> bool:
    return type(value) in (int, float) and math.isfinite(value)  # type: ignore[arg-type]


class DecisionsToolRun:
    """The state and decisions of one Decisions tool run.

    Per step the driver calls `observation(observe())`, `candidates(...)`, then,
    with more than the done candidate, `request(...)`, sends it and `select(...)`
    the answer; runs the chosen action between `attempt` and `complete`, or, on
    done, checks `verified(...)`.
    """

    def __init__(
        self, params: object, max_steps: object, cancelled: Callable[[], bool] | None
    ) -> None:
        self.attempted: list[str] = []
        self.completed: list[str] = []
        self.decisions: list[Any] = []
        self.last_error: DecisionsToolRunnerError | None = None
        self.cancelled = cancelled
        if (
            type(max_steps) is not int
            or max_steps < 1
            or not isinstance(params, Mapping)
            or set(params) - _PARAM_KEYS
            or type(params.get("model")) is not str
            or type(params.get("input")) is not str
            or (
                params.get("safety_identifier") is not None
                and type(params.get("safety_identifier")) is not str
            )
        ):
            raise self.error("invalid_params")
        self.max_steps: int = max_steps
        self.params = dict(params)

    def error(self, reason: DecisionsReason) -> DecisionsToolRunnerError:
        self.last_error = DecisionsToolRunnerError(reason, self.attempted, self.completed)
        return self.last_error

    def check(self) -> None:
        """Stops the run when the caller's `cancelled()` says so."""
        if self.cancelled is not None and self.cancelled():
            raise self.error("cancelled")

    def observation(self, value: object) -> str | list[dict[str, Any]]:
        """A private copy of what `observe()` returned, checked (text or input blocks)."""
        if type(value) is str:
            owned: str | list[dict[str, Any]] = value
        else:
            if not isinstance(value, Iterable) or isinstance(value, (bytes, Mapping)):
                raise self.error("failed")
            # A one-shot iterable is read once, and the copy is what callbacks see.
            owned = copy.deepcopy(list(value))
            for part in owned:
                if type(part) is not dict:
                    raise self.error("failed")
                if part.get("type") == "input_text":
                    if type(part.get("text")) is not str:
                        raise self.error("failed")
                elif (
                    part.get("type") != "input_image"
                    or type(part.get("image_url")) is not str
                    or part.get("detail") not in (None, "low", "high", "auto", "original")
                ):
                    raise self.error("failed")
        self.check()
        return owned

    def candidates(self, values: object) -> list[DecisionCandidateEntry]:
        """Checks the step's candidates (see `DecisionsToolRunnerError` 'invalid_candidates')."""
        if type(values) is not list or not 1 <= len(values) <= 255:
            raise self.error("invalid_candidates")
        entries: list[DecisionCandidateEntry] = []
        ids: set[str] = set()
        for value in list(values):
            if type(value) is not dict or set(value) - {"id", "description", "done", "execute"}:
                raise self.error("invalid_candidates")
            candidate_id = value.get("id")
            description = value.get("description")
            done = value.get("done", False)
            execute = value.get("execute")
            if (
                type(candidate_id) is not str
                or not candidate_id.strip()
                or candidate_id in ids
                or type(description) is not str
                or not description.strip()
                or type(done) is not bool
                or (done and "execute" in value)
                or (not done and not callable(execute))
            ):
                raise self.error("invalid_candidates")
            ids.add(candidate_id)
            entries.append(
                DecisionCandidateEntry(candidate_id, description, done, None if done else execute)
            )
        if sum(entry.done for entry in entries) != 1:
            raise self.error("invalid_candidates")
        self.check()
        return entries

    def request(
        self, observation: str | list[dict[str, Any]], candidates: list[DecisionCandidateEntry]
    ) -> dict[str, Any]:
        """The `decisions.create` keyword arguments: task, observation, one choice question."""
        request: dict[str, Any] = {
            "model": self.params["model"],
            "input": [
                {"role": "user", "content": self.params["input"]},
                {"role": "user", "content": copy.deepcopy(observation)},
            ],
            "questions": [
                {
                    "type": "choice",
                    "name": _QUESTION,
                    "instructions": _INSTRUCTIONS,
                    "choices": [
                        {"value": entry.id, "description": entry.description}
                        for entry in candidates
                    ],
                }
            ],
        }
        if "safety_identifier" in self.params:
            request["safety_identifier"] = self.params["safety_identifier"]
        return request

    def select(
        self,
        decision: Mapping[str, Any],
        kept: object,
        candidates: list[DecisionCandidateEntry],
    ) -> tuple[DecisionCandidateEntry | None, Mapping[str, Any]]:
        """The chosen candidate (None: the model refused) and the usage, from a decision's JSON.

        `kept` is what the run's result lists for this decision (the driver's object).
        """
        self.check()
        answers = decision.get("answers")
        if type(answers) is not list or len(answers) != 1 or type(answers[0]) is not dict:
            raise self.error("invalid_answer")
        answer = answers[0]
        if answer.get("name") != _QUESTION or type(answer.get("type")) is not str:
            raise self.error("invalid_answer")
        usage = decision.get("usage")
        if type(decision.get("model")) is not str or type(usage) is not dict:
            raise self.error("invalid_answer")
        inputs, outputs = usage.get("input_tokens_details"), usage.get("output_tokens_details")
        if type(inputs) is not dict or type(outputs) is not dict:
            raise self.error("invalid_answer")
        counts = (
            usage.get("input_tokens"),
            usage.get("output_tokens"),
            usage.get("total_tokens"),
            inputs.get("cache_write_tokens"),
            inputs.get("cached_tokens"),
            outputs.get("reasoning_tokens"),
        )
        if not all(type(count) is int for count in counts):
            raise self.error("invalid_answer")
        self.decisions.append(kept)
        if answer["type"] == "refusal":
            return None, usage
        probabilities = answer.get("probabilities")
        if (
            answer["type"] != "choice"
            or type(answer.get("choice")) is not str
            or not _finite_number(answer.get("confidence"))
            or type(probabilities) is not list
        ):
            raise self.error("invalid_answer")
        for chance in probabilities:
            if (
                type(chance) is not dict
                or type(chance.get("value")) not in (str, bool)
                or not _finite_number(chance.get("probability"))
            ):
                raise self.error("invalid_answer")
        for entry in candidates:
            if entry.id == answer["choice"]:
                return entry, usage
        raise self.error("invalid_answer")

    def verified(self, verification: object, *, only_done: bool, last_step: bool) -> bool:
        """Whether "done" is confirmed; False means: carry on with the next step."""
        self.check()
        if verification is True:
            return True
        if verification is not False:
            raise self.error("invalid_verification")
        if only_done:
            raise self.error("verification_failed")
        if last_step:
            raise self.error("step_limit")
        return False

    def result(self, status: Literal["verified", "unverified", "refused"]) -> DecisionsRunResult:
        self.check()
        return {
            "status": status,
            "decisions": list(self.decisions),
            "attempted_candidate_ids": list(self.attempted),
            "completed_candidate_ids": list(self.completed),
        }
