"""Tool runners: the model calls your functions until it has its answer.

`AsyncResponsesToolRunner(functions=[...]).run(client, params)` sends a
Responses request with the registered functions as tools, runs the functions
the model calls, sends their outputs back, and returns the first response that
calls none, within `max_steps` requests. `iterate()` yields each response as a
turn before its calls run, so a caller can inspect it, supply outputs of its
own (for functions registered with `allow_output_override=True`) or add a user
message. With `browser=AsyncBrowserToolset(...)` its browser tools are offered
too and run by the toolset; with `computer=AsyncComputerToolset(...)` the
computer tool is, and each `computer_call` runs on the toolset's driver (under
`approve_safety_checks` and `before_action`). `AsyncDecisionsToolRunner` does
the same with the Decisions API: it offers the caller's actions as the choices
of one question, runs the chosen action, and stops at "done" (checked by
`verify`, when given).

Everything decided (what a request holds, whether a response is final, which
calls run, whether an output is valid, when the run is out of steps) is the
core's (`oxide_proto.helpers._tool_runs`); this module does the requests, calls
the functions and hooks, and reports diagnostics. The blocking twins
(`SyncResponsesToolRunner`, ...) are generated from this file.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import functools
import inspect
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from oxide_proto.helpers._computer import ComputerAction
from oxide_proto.helpers._schema import TypedTool
from oxide_proto.helpers._tool_runs import (
    CheckpointPhase,
    ContextBudgetDecision,
    ContextBudgetLimits,
    ContextBudgetSnapshot,
    DecisionCandidateEntry,
    DecisionsRunResult,
    DecisionsToolRun,
    DecisionsToolRunnerError,
    EarlyExecution,
    FunctionCallPlan,
    ResponsesToolCheckpoint,
    ResponsesToolRun,
    ToolDiagnosticObserver,
    ToolRunnerError,
    early_selection,
    step_headers,
)
from oxide_proto.types.responses import ResponseComputerToolCall, ResponseFunctionToolCall

from .. import _tool_support
from .._tool_support import (
    CloseStatus,
    DecisionsToolRunnerCancelledError,
    ToolLifecycle,
    ToolRunnerCancelledError,
    emit_tool_diagnostic,
    invoke,
)
from ._browser import AsyncBrowserToolset
from ._computer import AsyncComputerToolset

if TYPE_CHECKING:
    from oxide_proto.types.responses import Response

    from ._clients import AsyncClient

__all__ = [
    "AsyncContextBudget",
    "AsyncDecisionActionCandidate",
    "AsyncDecisionCandidate",
    "AsyncDecisionsToolRunner",
    "AsyncRegisteredFunction",
    "AsyncResponsesRunnerTurn",
    "AsyncResponsesToolLedger",
    "AsyncResponsesToolRunner",
]

FunctionResult = str | list[dict[str, Any]]
# What `before_early_call` answers for a call that could run while its response streams.
EarlyDecision = Literal["execute", "defer"]


async def _settle(value: object) -> object:
    # unasync: _tool_support.refuse_awaitable(value, _tool_support.AWAITABLE_FUNCTION)
    value = (await value) if inspect.isawaitable(value) else value
    return value


@dataclasses.dataclass(frozen=True)
class AsyncRegisteredFunction:
    """A function tool and the code that runs it.

    `tool` is the Responses function tool (`{"type": "function", "name": ...,
    "parameters": ...}`); `execute` gets the call's arguments (a dict, or an
    instance of the tool's type with `from_tool`) and returns the output: text,
    or a list of input blocks (`input_text`, `input_image`, `input_file`).
    `allow_output_override`: a turn of `iterate()` may supply this function's
    output instead of running it. `independent` marks a function that may run
    beside others during eager execution; oxide runs early calls one at a time,
    in order, so it is accepted and changes nothing.
    """

    tool: Mapping[str, Any]
    execute: Callable[[Any], Awaitable[FunctionResult]]
    allow_output_override: bool = False
    independent: bool = False
    _arguments_type: Any = dataclasses.field(default=None, repr=False)

    @classmethod
    def from_tool(
        cls,
        tool: Mapping[str, Any],
        *,
        execute: Callable[[Any], Awaitable[FunctionResult]],
        allow_output_override: bool = False,
        independent: bool = False,
    ) -> AsyncRegisteredFunction:
        """A typed tool (`pydantic_responses_function_tool(Model)`, `responses_function_tool`)
        whose `execute` gets the arguments parsed into the tool's type."""
        if not isinstance(tool, TypedTool) or not callable(execute):
            raise ValueError(
                "from_tool needs a typed Responses function tool (such as "
                "pydantic_responses_function_tool(Model)) and a callable execute"
            )
        return cls(tool, execute, allow_output_override, independent, tool.type)


def _registry(functions: Iterable[AsyncRegisteredFunction]) -> dict[str, AsyncRegisteredFunction]:
    registered: dict[str, AsyncRegisteredFunction] = {}
    for function in functions:
        if not isinstance(function, AsyncRegisteredFunction) or not callable(function.execute):
            raise ValueError(
                f"functions must be AsyncRegisteredFunction instances with a callable execute, "
                f"not {function!r}"
            )
        if (
            type(function.allow_output_override) is not bool
            or type(function.independent) is not bool
        ):
            raise ValueError("allow_output_override and independent must be booleans")
        tool = function.tool
        name = tool.get("name") if isinstance(tool, Mapping) else None
        if not isinstance(tool, Mapping) or tool.get("type") != "function":
            raise ValueError(f"a registered tool must be a function tool, not {tool!r}")
        if type(name) is not str or not name or name in registered:
            raise ValueError(f"function names must be unique and non-empty; got {name!r} again")
        registered[name] = function
    return registered


@dataclasses.dataclass(frozen=True)
class AsyncResponsesRunnerTurn:
    """One response of a run, yielded before its function calls run.

    `step` counts requests from 1; `final` is True for the answer (no call).
    `supply_outputs([...])` gives outputs for calls of functions registered with
    `allow_output_override=True` (those calls are then not run; a later call
    replaces the whole set); `append_user_text(text)` adds a user message after
    this turn's outputs. Both only while this turn is the current one.
    """

    response: Response
    step: int
    final: bool
    tools_executed: bool
    attempted_call_ids: tuple[str, ...]
    completed_call_ids: tuple[str, ...]
    _supply: Callable[[list[Any]], None] = dataclasses.field(repr=False, compare=False)
    _append: Callable[[str], None] = dataclasses.field(repr=False, compare=False)

    def supply_outputs(self, outputs: list[Any]) -> None:
        self._supply(outputs)

    def append_user_text(self, text: str) -> None:
        self._append(text)


class AsyncContextBudget(ContextBudgetLimits, total=False):
    """Limits on each request's input; `compact(snapshot)` says what to leave out.

    See the core's `ContextBudget`: `max_input_bytes` (compact JSON) and
    `max_input_images` bound what one request sends; over them, `compact` gets a
    `ContextBudgetSnapshot` and returns a `ContextBudgetDecision` naming completed
    calls to leave out of that request (without `compact`, the run stops).
    """

    keep_recent_screenshots: int
    compact: Callable[[ContextBudgetSnapshot], Awaitable[ContextBudgetDecision]]


@dataclasses.dataclass(frozen=True)
class AsyncResponsesToolLedger:
    """Where a run saves its checkpoints, and the one it resumes from.

    `save(checkpoint)` must store it durably (the latest revision wins) before it
    returns: the runner saves before each request, before and after each call, and
    at each boundary and at the answer; a save that raises stops the run.
    `resume_from`: a `boundary` checkpoint of the same `run_id` to continue from.
    """

    run_id: str
    save: Callable[[ResponsesToolCheckpoint], Awaitable[None]]
    resume_from: ResponsesToolCheckpoint | None = None


def _not_yet(**options: object) -> None:
    # The official runner's options for features oxide's runner does not have: their
    # defaults are accepted (code that spells them out runs), anything else refused.
    given = [name for name, value in options.items() if value is not None and value is not False]
    if given:
        raise NotImplementedError(
            f"oxide's tool runner has no {', '.join(given)} yet "
            "(docs/tool-runners.md says what it runs)"
        )


def _cancel_check(
    run: ResponsesToolRun, cancelled: Callable[[], bool] | None
) -> Callable[[], None]:
    def check() -> None:
        if cancelled is not None and cancelled():
            raise run.error("the tool run was cancelled")

    return check


class AsyncResponsesToolRunner:
    """Runs registered functions for the Responses API until the model answers (see the module)."""

    def __init__(
        self,
        *,
        browser: AsyncBrowserToolset | None = None,
        computer: AsyncComputerToolset | None = None,
        functions: list[AsyncRegisteredFunction] | None = None,
        early_execution: EarlyExecution | None = None,
    ) -> None:
        if browser is not None and not isinstance(browser, AsyncBrowserToolset):
            raise ValueError(f"browser: not a browser toolset (AsyncBrowserToolset): {browser!r}")
        if computer is not None and not isinstance(computer, AsyncComputerToolset):
            raise ValueError(
                f"computer: not a computer toolset (AsyncComputerToolset): {computer!r}"
            )
        self.browser = browser
        self.computer = computer
        self._lifecycle = ToolLifecycle("the Responses tool runner")
        self._functions = _registry(functions or [])
        # The browser's tools as offered now (its members are fixed when it is made).
        self._browser_tools = [] if browser is None else browser.tools
        clash = {tool["name"] for tool in self._browser_tools} & set(self._functions)
        if clash:
            raise ValueError(f"function names must be unique: {sorted(clash)} are browser tools")
        self._overrides = frozenset(
            name for name, function in self._functions.items() if function.allow_output_override
        )
        self._early = early_selection(
            early_execution,
            [*self._functions, *(tool["name"] for tool in self._browser_tools)],
            computer is not None,
        )

    def close(self) -> CloseStatus:
        """Admits no new run (a run going on finishes); the client is not closed."""
        return self._lifecycle.close()

    async def run(
        self,
        client: AsyncClient,
        params: Mapping[str, Any],
        *,
        max_steps: int | None = None,
        stream: bool = False,
        on_event: Callable[[Any], Awaitable[None]] | None = None,
        cancelled: Callable[[], bool] | None = None,
        on_diagnostic: ToolDiagnosticObserver | None = None,
        approve_mcp: Callable[[Any], Awaitable[bool]] | None = None,
        eager: bool = False,
        max_concurrent_calls: int = 2,
        approve_safety_checks: Callable[[ResponseComputerToolCall], Awaitable[bool]] | None = None,
        before_action: Callable[[ComputerAction], Awaitable[bool]] | None = None,
        ledger: AsyncResponsesToolLedger | None = None,
        context_budget: AsyncContextBudget | None = None,
        before_early_call: Callable[[Any], Awaitable[EarlyDecision]] | None = None,
    ) -> Response:
        """The final response: the first that calls no function.

        `params` are `responses.create` parameters (`model`, `input`, ...; the tools
        are the registered functions). `max_steps` (default 20) bounds the requests;
        `stream=True` streams each response, passing a copy of every event to
        `on_event`; `cancelled()` is asked between steps and calls, and passed to
        functions that declare a `cancelled` parameter. `context_budget` bounds
        each request's input (see `AsyncContextBudget`). With `stream=True` and
        `eager=True`, a call runs as soon as its item is done in the stream (those
        the runner's `early_execution` selects, when given; `before_early_call(call)`
        may answer "defer"), one at a time; `max_concurrent_calls` is checked
        and, as calls never overlap, always respected. A computer call runs only
        when `approve_safety_checks(call)` allows its pending safety checks (if any)
        and `before_action(action)` (when given) each of its actions. Raises `ToolRunnerError`
        (with the attempted and completed call ids) when the run stops early.
        """
        turns = self.iterate(
            client,
            params,
            max_steps=max_steps,
            stream=stream,
            on_event=on_event,
            cancelled=cancelled,
            on_diagnostic=on_diagnostic,
            approve_mcp=approve_mcp,
            eager=eager,
            max_concurrent_calls=max_concurrent_calls,
            approve_safety_checks=approve_safety_checks,
            before_action=before_action,
            ledger=ledger,
            context_budget=context_budget,
            before_early_call=before_early_call,
        )
        try:
            async for turn in turns:
                if turn.final:
                    return turn.response
        finally:
            await turns.aclose()
        raise AssertionError("a tool run ends with a final turn or an error")

    async def iterate(
        self,
        client: AsyncClient,
        params: Mapping[str, Any],
        *,
        max_steps: int | None = None,
        stream: bool = False,
        on_event: Callable[[Any], Awaitable[None]] | None = None,
        cancelled: Callable[[], bool] | None = None,
        on_diagnostic: ToolDiagnosticObserver | None = None,
        approve_mcp: Callable[[Any], Awaitable[bool]] | None = None,
        eager: bool = False,
        max_concurrent_calls: int = 2,
        approve_safety_checks: Callable[[ResponseComputerToolCall], Awaitable[bool]] | None = None,
        before_action: Callable[[ComputerAction], Awaitable[bool]] | None = None,
        ledger: AsyncResponsesToolLedger | None = None,
        context_budget: AsyncContextBudget | None = None,
        before_early_call: Callable[[Any], Awaitable[EarlyDecision]] | None = None,
        # unasync: ) -> Generator[SyncResponsesRunnerTurn, None, None]:
    ) -> AsyncGenerator[AsyncResponsesRunnerTurn, None]:
        """Each response as a turn, before its calls run; advancing runs them.

        Close the generator (`aclose()`, or `contextlib.aclosing`) to stop early:
        a bare `break` leaves the run admitted until the generator is collected.
        """
        self._lifecycle.enter()
        try:
            if type(max_concurrent_calls) is not int or max_concurrent_calls < 1:
                raise ValueError("max_concurrent_calls must be a positive integer")
            if ledger is not None and not isinstance(ledger, AsyncResponsesToolLedger):
                raise ValueError(
                    f"ledger: not a runner ledger (AsyncResponsesToolLedger): {ledger!r}"
                )
            if ledger is not None and eager:
                raise NotImplementedError(
                    "oxide's tool runner has no eager execution with a ledger yet "
                    "(docs/tool-runners.md says what it runs)"
                )
            run = ResponsesToolRun(
                params,
                {name: (fn.tool, fn._arguments_type) for name, fn in self._functions.items()},
                max_steps=max_steps,
                output_overrides=self._overrides,
                browser_tools=self._browser_tools,
                computer=self.computer is not None,
                context_budget=context_budget,
            )
            run.eager_mode(
                eager=bool(eager),
                stream=bool(stream),
                early=self._early,
                before_early_call=before_early_call is not None,
            )
            if ledger is not None:
                run.use_ledger(ledger.run_id, ledger.resume_from)
        except BaseException:
            self._lifecycle.exit()
            raise
        check = _cancel_check(run, cancelled)
        # Set when a call run while the response streamed fails: not a request failure.
        early_failed: list[bool] = []

        async def on_item(event: Any) -> None:
            plan = run.receive(getattr(event, "output_index", None), event.item.to_dict())
            if plan is None:
                return
            if before_early_call is not None:
                decision = await _settle_hook(before_early_call(copy.deepcopy(event.item)))
                check()
                if type(decision) is not str or decision not in ("execute", "defer"):
                    raise run.error("before_early_call must return 'execute' or 'defer'")
                if decision == "defer":
                    run.defer()
                    return
            check()
            run.run_early(plan)
            try:
                await self._run_plan(
                    run,
                    plan,
                    None,
                    approve_mcp,
                    approve_safety_checks,
                    before_action,
                    cancelled,
                    check,
                    on_diagnostic,
                )
            except BaseException:
                early_failed.append(True)
                raise
            check()

        # A request that reached an MCP server may have had remote effects: not retried.
        # So is a request of a run with a ledger: its checkpoints say what was sent.
        request_client = (
            client.with_options(max_retries=0) if run.has_mcp or ledger is not None else client
        )

        async def save(phase: CheckpointPhase, final_response: Any = None) -> None:
            if ledger is not None:
                # Typed loosely: a blocking save returns None, an async one an awaitable.
                saver: Callable[[Any], Any] = ledger.save
                await _settle_hook(saver(run.checkpoint(phase, final_response)))
                check()

        try:
            for step in range(run.consumed_requests, run.max_steps):
                run.begin(step)
                check()
                request = run.request()
                if step > 0:
                    _fresh_idempotency_key(client, request)
                over_budget = run.budget_snapshot()
                if over_budget is not None and run.budget is not None:
                    snapshot, eligible = over_budget
                    # The callback gets its own copy of the history (the snapshot's).
                    decision = await _settle_hook(run.budget["compact"](snapshot))
                    check()
                    request["input"] = run.budget_input(decision, eligible)
                run.consumed_requests = step + 1
                # A server tool may act as soon as the request is sent.
                await save("pending" if run.has_server_tools else "boundary")
                started = time.monotonic()
                try:
                    response = await _send(
                        request_client,
                        request,
                        bool(stream),
                        on_event,
                        check,
                        on_item if run.eager else None,
                    )
                except BaseException as exc:
                    if early_failed:
                        raise
                    reason: Literal["cancelled", "api_failed"] = (
                        "cancelled"
                        if isinstance(exc, asyncio.CancelledError)
                        or (isinstance(exc, ToolRunnerError) and cancelled is not None)
                        else "api_failed"
                    )
                    emit_tool_diagnostic(on_diagnostic, "responses", "request", reason, started)
                    raise
                data = response.to_dict()
                emit_tool_diagnostic(
                    on_diagnostic,
                    "responses",
                    "request",
                    "completed",
                    started,
                    usage=data.get("usage"),
                )
                check()
                plans = _inspect(run, data, on_diagnostic)
                final = plans is None
                if final:
                    await save("final", data)
                else:
                    await save("pending")
                run.turn_open = True
                try:
                    yield AsyncResponsesRunnerTurn(
                        response=response,
                        step=step + 1,
                        final=final,
                        tools_executed=run.tools_executed,
                        attempted_call_ids=tuple(run.attempted),
                        completed_call_ids=tuple(run.completed),
                        _supply=functools.partial(run.supply, run.eligible_for_supply(plans or [])),
                        _append=functools.partial(run.append_user_text, final),
                    )
                finally:
                    run.turn_open = False
                if plans is None:
                    return
                for plan in plans:
                    check()
                    await save("pending")
                    run.attempt(plan["call_id"])
                    await self._run_plan(
                        run,
                        plan,
                        response,
                        approve_mcp,
                        approve_safety_checks,
                        before_action,
                        cancelled,
                        check,
                        on_diagnostic,
                    )
                    await save("pending")
                    check()
                run.finish()
                await save("boundary")
            raise run.out_of_steps()
        except ToolRunnerError:
            raise
        except asyncio.CancelledError:
            raise ToolRunnerCancelledError(run.attempted, run.completed) from None
        except Exception as exc:
            message = (
                str(exc)
                if isinstance(exc, _tool_support.ToolMisuseError)
                else (
                    f"the tool run stopped before the model finished ({type(exc).__name__}; "
                    "see __cause__)"
                )
            )
            raise ToolRunnerError(message, run.attempted, run.completed) from exc
        finally:
            self._lifecycle.exit()

    async def _run_plan(
        self,
        run: ResponsesToolRun,
        plan: FunctionCallPlan,
        response: Response | None,
        approve_mcp: Callable[[Any], Awaitable[bool]] | None,
        approve_safety_checks: Callable[[ResponseComputerToolCall], Awaitable[bool]] | None,
        before_action: Callable[[ComputerAction], Awaitable[bool]] | None,
        cancelled: Callable[[], bool] | None,
        check: Callable[[], None],
        on_diagnostic: ToolDiagnosticObserver | None,
    ) -> None:
        """Runs one planned call (the caller has noted the attempt) and records its output."""
        supplied = run.supplied.get(plan["call_id"])
        if plan["kind"] == "mcp_approval":
            if response is None:
                raise AssertionError("an MCP approval is decided on the completed response")
            await _approve(run, plan, response, approve_mcp, check, on_diagnostic)
        elif plan["kind"] == "computer" and self.computer is not None:
            output: object = await self.computer.execute(
                ResponseComputerToolCall.from_dict(copy.deepcopy(plan["item"])),
                approve_safety_checks=approve_safety_checks,
                before_action=before_action,
                cancelled=cancelled,
                on_diagnostic=on_diagnostic,
            )
            run.toolset_output(plan, output)
        elif plan["kind"] == "browser" and self.browser is not None:
            output = await self.browser.execute(
                ResponseFunctionToolCall.from_dict(copy.deepcopy(plan["item"])),
                cancelled=cancelled,
                on_diagnostic=on_diagnostic,
            )
            run.toolset_output(plan, output)
        elif supplied is not None:
            run.add_output(plan, supplied)
        else:
            await self._execute(run, plan, cancelled, on_diagnostic)

    async def _execute(
        self,
        run: ResponsesToolRun,
        plan: FunctionCallPlan,
        cancelled: Callable[[], bool] | None,
        on_diagnostic: ToolDiagnosticObserver | None,
    ) -> None:
        name, call_id = plan["name"], plan["call_id"]
        started = time.monotonic()
        try:
            raw = await _settle(
                invoke(self._functions[name].execute, plan["arguments"], cancelled=cancelled)
            )
        except BaseException:
            emit_tool_diagnostic(
                on_diagnostic,
                "responses",
                "action",
                "driver_failed",
                started,
                call_id=call_id,
                member=name,
            )
            raise
        emit_tool_diagnostic(
            on_diagnostic, "responses", "action", "completed", started, call_id=call_id, member=name
        )
        checked = time.monotonic()
        try:
            run.record_output(plan, raw)
        except ToolRunnerError:
            emit_tool_diagnostic(
                on_diagnostic,
                "responses",
                "output",
                "invalid_output",
                checked,
                call_id=call_id,
                member=name,
            )
            raise


def _inspect(
    run: ResponsesToolRun, data: Mapping[str, Any], on_diagnostic: ToolDiagnosticObserver | None
) -> list[FunctionCallPlan] | None:
    started = time.monotonic()
    try:
        return run.inspect(data)
    except ToolRunnerError as exc:
        if exc.__cause__ is not None:
            # The arguments of a call did not parse: name the call that had them.
            bad = next(
                (
                    item
                    for item in data.get("output") or ()
                    if isinstance(item, Mapping)
                    and item.get("type") == "function_call"
                    and f"(call {item.get('call_id')})" in str(exc)
                ),
                None,
            )
            emit_tool_diagnostic(
                on_diagnostic,
                "responses",
                "arguments",
                "invalid_input",
                started,
                call_id=None if bad is None else bad.get("call_id"),
                member=None if bad is None else bad.get("name"),
            )
        raise


def _fresh_idempotency_key(client: AsyncClient, request: dict[str, Any]) -> None:
    headers = step_headers(
        client.default_headers, request.get("extra_headers"), f"oxide-tool-step-{uuid.uuid4()}"
    )
    if headers is not None:
        request["extra_headers"] = headers


async def _approve(
    run: ResponsesToolRun,
    plan: FunctionCallPlan,
    response: Response,
    approve_mcp: Callable[[Any], Awaitable[bool]] | None,
    check: Callable[[], None],
    on_diagnostic: ToolDiagnosticObserver | None,
) -> None:
    if approve_mcp is None:
        raise run.error("the MCP server asks for an approval: pass approve_mcp= to decide it")
    request = next(item for item in response.output if getattr(item, "id", None) == plan["call_id"])
    started = time.monotonic()
    # The callback gets its own copy: nothing it changes reaches the run.
    approved = await _settle_hook(approve_mcp(copy.deepcopy(request)))
    check()
    run.approval_output(plan, approved)
    emit_tool_diagnostic(
        on_diagnostic,
        "responses",
        "approval",
        "completed" if approved else "refused",
        started,
        call_id=plan["call_id"],
        member=plan["name"],
    )


async def _settle_hook(value: Any) -> Any:
    # unasync: _tool_support.refuse_awaitable(value, _tool_support.AWAITABLE_HOOK)
    value = (await value) if inspect.isawaitable(value) else value
    return value


async def _send(
    client: AsyncClient,
    request: dict[str, Any],
    stream: bool,
    on_event: Callable[[Any], Awaitable[None]] | None,
    check: Callable[[], None],
    on_item: Callable[[Any], Awaitable[None]] | None = None,
) -> Response:
    if not stream:
        response: Response = await client.responses.create(**request)
        return response
    async with client.responses.stream(**request) as events:
        async for event in events:
            check()
            if on_event is not None:
                # The hook gets its own copy: nothing it changes reaches the run.
                await _settle_hook(on_event(copy.deepcopy(event)))
                check()
            if on_item is not None and getattr(event, "type", None) == "response.output_item.done":
                await on_item(event)
        final: Response = await events.get_final_response()
        return final


# -- Decisions -------------------------------------------------------------------

DecisionObservation = str | Iterable[Mapping[str, Any]]


class AsyncDecisionActionCandidate(TypedDict, total=False):
    """An action the model may choose: `execute()` runs it."""

    id: str
    description: str
    execute: Callable[[], Awaitable[object]]
    done: Literal[False]


class DecisionDoneCandidate(TypedDict):
    """The choice that says the task is complete (exactly one per step)."""

    id: str
    description: str
    done: Literal[True]


AsyncDecisionCandidate = AsyncDecisionActionCandidate | DecisionDoneCandidate


class DecisionsRunnerParams(TypedDict, total=False):
    """The task: `model`, `input` (what to achieve), optionally `safety_identifier`."""

    model: str
    input: str
    safety_identifier: str | None


class AsyncDecisionsToolRunner:
    """Chooses among the caller's actions with the Decisions API until "done".

    Each step: `observe()` the state, get the step's `candidates(observation)`
    (actions plus one done candidate), ask which one advances the task, run it.
    A choice is a proposal, not a permission: only the actions offered can run.
    With `verify`, "done" counts when `verify(fresh observation)` is True.
    """

    def __init__(
        self,
        *,
        observe: Callable[[], Awaitable[DecisionObservation]],
        candidates: Callable[[DecisionObservation], Awaitable[list[AsyncDecisionCandidate]]],
        verify: Callable[[DecisionObservation], Awaitable[bool]] | None = None,
    ) -> None:
        self.observe = observe
        self.candidates = candidates
        self.verify = verify
        self._lifecycle = ToolLifecycle("the Decisions runner")

    def close(self) -> CloseStatus:
        """Admits no new run (a run going on finishes)."""
        return self._lifecycle.close()

    async def run(
        self,
        client: AsyncClient,
        params: DecisionsRunnerParams,
        *,
        max_steps: int = 20,
        cancelled: Callable[[], bool] | None = None,
        on_diagnostic: ToolDiagnosticObserver | None = None,
    ) -> DecisionsRunResult:
        """`{"status", "decisions", "attempted_candidate_ids", "completed_candidate_ids"}`.

        `status`: `verified` (done, and `verify` agreed), `unverified` (done, no
        `verify`), `refused` (the model declined). Raises `DecisionsToolRunnerError`
        (its `reason` says why) when the run stops otherwise.
        """
        self._lifecycle.enter()
        try:
            run = DecisionsToolRun(params, max_steps, cancelled)
        except BaseException:
            self._lifecycle.exit()
            raise
        try:
            for step in range(run.max_steps):
                last_step = step == run.max_steps - 1
                run.check()
                observation = run.observation(await _settle_any(self.observe()))
                offered = run.candidates(
                    await _settle_any(self.candidates(copy.deepcopy(observation)))
                )
                only_done = len(offered) == 1
                choice: DecisionCandidateEntry | None
                if only_done:
                    choice = offered[0]
                else:
                    started = time.monotonic()
                    try:
                        decision = await client.decisions.create(
                            **run.request(observation, offered)
                        )
                    except Exception:
                        emit_tool_diagnostic(
                            on_diagnostic, "decisions", "request", "api_failed", started
                        )
                        raise
                    choice, usage = run.select(decision.to_dict(), decision, offered)
                    emit_tool_diagnostic(
                        on_diagnostic, "decisions", "request", "completed", started, usage=usage
                    )
                    run.check()
                emit_tool_diagnostic(
                    on_diagnostic,
                    "decisions",
                    "selection",
                    "refused" if choice is None else "completed",
                    time.monotonic(),
                    call_id=None if choice is None else choice.id,
                )
                if choice is None:
                    return run.result("refused")
                if choice.done:
                    if self.verify is None:
                        return run.result("unverified")
                    run.check()
                    fresh = run.observation(await _settle_any(self.observe()))
                    started = time.monotonic()
                    verdict = await _settle_any(self.verify(copy.deepcopy(fresh)))
                    emit_tool_diagnostic(
                        on_diagnostic,
                        "decisions",
                        "verification",
                        "completed" if verdict is True else "refused",
                        started,
                        call_id=choice.id,
                    )
                    if run.verified(verdict, only_done=only_done, last_step=last_step):
                        return run.result("verified")
                    continue
                if last_step:
                    raise run.error("step_limit")
                execute = choice.execute
                if execute is None:
                    raise AssertionError("an action candidate always has its executor")
                run.check()
                run.attempted.append(choice.id)
                started = time.monotonic()
                try:
                    await _settle_action(invoke(execute, cancelled=cancelled), run)
                except BaseException:
                    emit_tool_diagnostic(
                        on_diagnostic,
                        "decisions",
                        "action",
                        "driver_failed",
                        started,
                        call_id=choice.id,
                    )
                    raise
                emit_tool_diagnostic(
                    on_diagnostic, "decisions", "action", "completed", started, call_id=choice.id
                )
                run.completed.append(choice.id)
                run.check()
            raise run.error("step_limit")
        except DecisionsToolRunnerError as exc:
            if exc is not run.last_error:
                raise run.error("failed") from exc
            if exc.reason == "step_limit":
                emit_tool_diagnostic(
                    on_diagnostic, "decisions", "run", "step_limit", time.monotonic()
                )
            raise
        except asyncio.CancelledError:
            raise DecisionsToolRunnerCancelledError(run.attempted, run.completed) from None
        except Exception as exc:
            raise run.error("failed") from exc
        finally:
            self._lifecycle.exit()


async def _settle_any(value: Any) -> Any:
    # unasync: _tool_support.refuse_awaitable(value, _tool_support.AWAITABLE_CALLBACK)
    value = (await value) if inspect.isawaitable(value) else value
    return value


async def _settle_action(value: object, run: DecisionsToolRun) -> None:
    if inspect.isawaitable(value):
        # unasync: _tool_support.close_awaitable(value); raise run.error("async_executor")
        await value
