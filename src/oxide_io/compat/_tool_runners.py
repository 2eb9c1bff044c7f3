"""The official tool-runner modules (`openai.lib.responses_tool_runner`, ...), by name.

Each entry maps an official module of `openai.lib` to the oxide objects that
stand for its names (`"Name=module:attribute"`, see `_modules.EXTRA_MODULES`,
which registers these). The blocking classes carry the official plain names
(`ResponsesToolRunner` is oxide's `SyncResponsesToolRunner`); the decisions
behind both runners are the core's `oxide_proto.helpers._tool_runs`.
"""

from __future__ import annotations

__all__ = ["MODULES"]

_SYNC = "oxide_io._sync._tool_runner"
_ASYNC = "oxide_io._async._tool_runner"
_CORE = "oxide_proto.helpers._tool_runs"
_SUPPORT = "oxide_io._tool_support"

MODULES: dict[str, tuple[str, ...]] = {
    # The Responses loop: registered functions run until the model answers.
    "lib.responses_tool_runner": (
        f"RegisteredFunction={_SYNC}:SyncRegisteredFunction",
        f"AsyncRegisteredFunction={_ASYNC}:AsyncRegisteredFunction",
        f"ResponsesToolRunner={_SYNC}:SyncResponsesToolRunner",
        f"AsyncResponsesToolRunner={_ASYNC}:AsyncResponsesToolRunner",
        f"ResponsesRunnerTurn={_SYNC}:SyncResponsesRunnerTurn",
        f"EarlyExecution={_CORE}:EarlyExecution",
        f"ResponsesToolCheckpoint={_CORE}:ResponsesToolCheckpoint",
        f"ResponsesToolLedger={_SYNC}:SyncResponsesToolLedger",
        f"AsyncResponsesToolLedger={_ASYNC}:AsyncResponsesToolLedger",
        f"ContextBudget={_SYNC}:SyncContextBudget",
        f"AsyncContextBudget={_ASYNC}:AsyncContextBudget",
        f"ContextBudgetSnapshot={_CORE}:ContextBudgetSnapshot",
        f"ContextBudgetDecision={_CORE}:ContextBudgetDecision",
        f"ToolRunnerError={_CORE}:ToolRunnerError",
        f"ToolRunnerCancelledError={_SUPPORT}:ToolRunnerCancelledError",
    ),
    # The Decisions loop: the model chooses among the caller's actions until done.
    "lib.decisions_tool_runner": (
        f"DecisionObservation={_ASYNC}:DecisionObservation",
        f"DecisionActionCandidate={_SYNC}:SyncDecisionActionCandidate",
        f"AsyncDecisionActionCandidate={_ASYNC}:AsyncDecisionActionCandidate",
        f"DecisionDoneCandidate={_ASYNC}:DecisionDoneCandidate",
        f"DecisionCandidate={_SYNC}:SyncDecisionCandidate",
        f"AsyncDecisionCandidate={_ASYNC}:AsyncDecisionCandidate",
        f"DecisionsRunnerParams={_ASYNC}:DecisionsRunnerParams",
        f"DecisionsRunResult={_CORE}:DecisionsRunResult",
        f"DecisionsToolRunner={_SYNC}:SyncDecisionsToolRunner",
        f"AsyncDecisionsToolRunner={_ASYNC}:AsyncDecisionsToolRunner",
        f"DecisionsToolRunnerError={_CORE}:DecisionsToolRunnerError",
        f"DecisionsToolRunnerCancelledError={_SUPPORT}:DecisionsToolRunnerCancelledError",
    ),
    # The content-free diagnostics both runners report.
    "lib.tool_diagnostics": (
        f"ToolDiagnostic={_CORE}:ToolDiagnostic",
        f"ToolDiagnosticUsage={_CORE}:ToolDiagnosticUsage",
        f"ToolDiagnosticObserver={_CORE}:ToolDiagnosticObserver",
        f"emit_tool_diagnostic={_SUPPORT}:emit_tool_diagnostic",
    ),
}
