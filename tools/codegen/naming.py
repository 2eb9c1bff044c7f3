"""Names: the official SDK's class names for spec schemas, and Python-safe identifiers.

The spec names response shapes after their operations (`CreateChatCompletionResponse`);
users know the SDK's names (`ChatCompletion`). Where the two correspond, the SDK
name becomes the class name and the spec name stays as an alias.
"""

from __future__ import annotations

import keyword
import re

# spec schema name -> official SDK class name
RENAMES: dict[str, str] = {
    # chat completions
    "CreateChatCompletionResponse": "ChatCompletion",
    "CreateChatCompletionStreamResponse": "ChatCompletionChunk",
    "ChatCompletionResponseMessage": "ChatCompletionMessage",
    "ChatCompletionStreamResponseDelta": "ChoiceDelta",
    "ChatCompletionMessageToolCall": "ChatCompletionMessageFunctionToolCall",
    "ChatCompletionMessageToolCallChunk": "ChoiceDeltaToolCall",
    "ChatCompletionDeleted": "ChatCompletionDeleted",
    "ChatCompletionList": "ChatCompletionList",
    # completions
    "CreateCompletionResponse": "Completion",
    # embeddings
    "CreateEmbeddingResponse": "CreateEmbeddingResponse",
    # models
    "DeleteModelResponse": "ModelDeleted",
    "ListModelsResponse": "ModelList",
    # responses
    "OutputItem": "ResponseOutputItem",
    "OutputMessage": "ResponseOutputMessage",
    "RefusalContent": "ResponseOutputRefusal",
    "FunctionToolCall": "ResponseFunctionToolCall",
    "FileSearchToolCall": "ResponseFileSearchToolCall",
    "WebSearchToolCall": "ResponseFunctionWebSearch",
    "ComputerToolCall": "ResponseComputerToolCall",
    "ReasoningItem": "ResponseReasoningItem",
    "CodeInterpreterToolCall": "ResponseCodeInterpreterToolCall",
    "ResponseProperties": "ResponseProperties",
    "ResponseUsage": "ResponseUsage",
    "ResponseError": "ResponseError",
    # moderations, images, files
    "CreateModerationResponse": "ModerationCreateResponse",
    "OpenAIFile": "FileObject",
}

# Names of `BaseModel` members and typing names the generated modules use;
# a field spelled like one of them gets a trailing underscore.
RESERVED_FIELDS = frozenset(
    {
        "to_dict",
        "to_json",
        "model_dump",
        "model_dump_json",
        "model_validate",
        "model_fields_set",
        "model_extra",
        "from_dict",
        "raw",
        "_data",
        "_json_names",
        "_raw",
        "_dump",
        # Used unqualified in annotations: a field of this name would shadow them.
        "str",
        "int",
        "float",
        "bool",
        "list",
        "dict",
        "Any",
        "Literal",
        "None",
    }
)


def pascal(text: str) -> str:
    """`output_text.delta` -> `OutputTextDelta`; keeps existing capitals."""
    parts = re.split(r"[^0-9A-Za-z]+", text)
    out = "".join(p[:1].upper() + p[1:] for p in parts if p)
    if not out or out[0].isdigit():
        out = "T" + out
    return out


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses") or word.endswith("ches") or word.endswith("xes"):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def field_name(key: str) -> str:
    name = re.sub(r"[^0-9A-Za-z_]", "_", key)
    if not name or name[0].isdigit():
        name = "f_" + name
    if keyword.iskeyword(name) or name in RESERVED_FIELDS:
        name += "_"
    return name


def class_name(spec_name: str) -> str:
    return RENAMES.get(spec_name, pascal(spec_name))
