"""Where each operation lives on the client: the official SDK's resource path and method name.

Names come from the path: its fixed segments are the resource (`/vector_stores/
{vector_store_id}/files` -> `vector_stores.files`), the HTTP method and whether
the path ends on an id give the verb (list, create, retrieve, update, delete),
and a fixed segment after an id is an action (`/batches/{batch_id}/cancel` ->
`batches.cancel`). Each candidate is tried bare and under the SDK's namespaces
(`beta.`, `admin.organization.`) and the first one the SDK's list of method names
holds wins; `OVERRIDES` settles the rest. An operation no SDK name fits keeps
its first candidate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from operations_ir import Op

# operationId -> SDK name, where the path does not say it.
OVERRIDES = {
    "createThreadAndRun": "beta.threads.create_and_run",
    "createImageEdit": "images.edit",
    "createImage": "images.generate",
    "createImageVariation": "images.create_variation",
    "listFineTuningEvents": "fine_tuning.jobs.list_events",
    "listFilesInVectorStoreBatch": "vector_stores.file_batches.list_files",
    "ListThreadItemsMethod": "beta.chatkit.threads.list_items",
    "list-project-rate-limits": "admin.organization.projects.rate_limits.list_rate_limits",
    "update-project-rate-limits": "admin.organization.projects.rate_limits.update_rate_limit",
    "CreateVideoCharacter": "videos.create_character",
    "GetVideoCharacter": "videos.get_character",
    "CreateVideoEdit": "videos.edit",
    "CreateVideoExtend": "videos.extend",
    "RetrieveVideoContent": "videos.download_content",
    "getEvalRuns": "evals.runs.list",
    "cancelEvalRun": "evals.runs.cancel",
    "Getinputtokencounts": "responses.input_tokens.count",
    "beta_Getinputtokencounts": "beta.responses.input_tokens.count",
    "addUploadPart": "uploads.parts.create",
    "usage-costs": "admin.organization.usage.costs",
    "CreateanAPIkeyforaserviceaccount": (
        "admin.organization.projects.service_accounts.api_keys.create"
    ),
}
# Further SDK names for an operation: (alias, name it repeats, whether it drops the pagination).
ALIASES = (
    ("files.retrieve_content", "files.content", False),
    (
        "fine_tuning.checkpoints.permissions.retrieve",
        "fine_tuning.checkpoints.permissions.list",
        True,
    ),
)
# Resources that are another resource under a second name.
RESOURCE_ALIASES = {"beta.chat": "chat"}

_NAMESPACES = ("", "beta.", "admin.", "admin.organization.")
_VERBS = {
    "get": "retrieve",
    "retrieve": "retrieve",
    "modify": "update",
    "update": "update",
    "list": "list",
    "create": "create",
    "delete": "delete",
    "cancel": "cancel",
}


def _op_verb(op_id: str) -> str | None:
    first = re.split(r"[-_]|(?<=[a-z])(?=[A-Z])", op_id.removeprefix("beta_"))[0].lower()
    return _VERBS.get(first)


def candidates(op: Op) -> list[str]:
    """Possible dotted names for `op`, most likely first (without namespace)."""
    path = op.path.split("?")[0]
    segments = path.strip("/").split("/")
    fixed = [s for s in segments if not s.startswith("{")]
    out: list[str] = []
    if segments[-1].startswith("{"):
        verb = {"GET": "retrieve", "POST": "update", "DELETE": "delete"}.get(op.method, "update")
        out.append(".".join([*fixed, verb]))
    else:
        verbs = {"GET": ["list", "retrieve"], "POST": ["create", "update"], "DELETE": ["delete"]}
        out += [".".join([*fixed, v]) for v in verbs.get(op.method, [])]
        out.append(".".join(fixed))
        if op.method == "GET":
            out.append(".".join([*fixed[:-1], f"list_{fixed[-1]}"]))
    verb = _op_verb(op.op_id)
    if verb:
        out.append(".".join([*fixed, verb]))
    return out


def assign(ops: Iterable[Op], reference: set[str]) -> dict[str, Op]:
    """Dotted SDK name -> operation, for every operation (aliases included)."""
    named: dict[str, Op] = {}
    for op in ops:
        name: str = op.sdk_name or OVERRIDES.get(op.op_id) or _pick(op, reference)
        if name in named:
            raise ValueError(f"{op.op_id} and {named[name].op_id} both map to {name}")
        named[name] = op
    return named


def _pick(op: Op, reference: set[str]) -> str:
    found = candidates(op)
    namespaces = ("beta.",) if "beta=true" in op.path else _NAMESPACES
    for candidate in found:
        for namespace in namespaces:
            if namespace + candidate in reference:
                return namespace + candidate
    return namespaces[0] + found[0]
