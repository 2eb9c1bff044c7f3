"""Hosted agent environment files (`prepare`, `prepare_directory`, `upload`) and the
usage reports, in blocking code, asyncio and trio.

The files go to the embedded mock server's Files API and are staged there; the
checks on destinations and sources run before anything is sent. The usage
reports answer one object (a bucket list with `has_more` / `next_page`), not a
page that fetches more, as in the official SDK.
"""

from __future__ import annotations

import json
import os
import pathlib

import pytest

from oxide_io._agent_files import (
    AgentFilePreparationError,
    PreparedAgentFiles,
    StagedAgentFile,
    check_destination,
    read_selected,
    select_directory,
)
from oxide_proto.types.usage import UsageCompletionsResult, UsageDecisionsResponse, UsageResponse
from tests.io.canned import canned_server
from tests.io.conftest import MakeClient, Setup

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


@pytest.fixture
def tree(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "a.py").write_text("print('a')\n")
    (tmp_path / "src" / "pkg" / "b.py").write_text("print('bb')\n")
    (tmp_path / "src" / "notes.txt").write_text("notes")
    return tmp_path


async def test_prepare_uploads_each_file_for_its_destination(
    mock: Setup, make_client: MakeClient, tree: pathlib.Path
) -> None:
    client = make_client(mock)
    files = client.beta.agents.environments.files
    prepared = await files.prepare(
        {
            "/workspace/a.py": tree / "src" / "pkg" / "a.py",
            "/workspace/docs/notes.txt": str(tree / "src" / "notes.txt"),
        }
    )
    assert isinstance(prepared, PreparedAgentFiles)
    assert [f["path"] for f in prepared.files] == ["/workspace/a.py", "/workspace/docs/notes.txt"]
    assert [f["file_id"] for f in prepared.files] == prepared.uploaded_file_ids
    assert all(f["type"] == "file_id" for f in prepared.files)
    for file_id, name in zip(prepared.uploaded_file_ids, ["a.py", "notes.txt"], strict=True):
        stored = await client.files.retrieve(file_id)
        assert (stored.filename, stored.purpose) == (name, "user_data")

    selected = await files.prepare_directory(
        tree / "src", destination="/workspace/project", include=["pkg/*.py"]
    )
    assert sorted(f["path"] for f in selected.files) == [
        "/workspace/project/pkg/a.py",
        "/workspace/project/pkg/b.py",
    ]


async def test_upload_stages_one_file(
    mock: Setup, make_client: MakeClient, tree: pathlib.Path
) -> None:
    client = make_client(mock)
    staged = await client.beta.agents.environments.files.upload(
        "env_1", file=tree / "src" / "pkg" / "b.py", path="/workspace/b.py"
    )
    assert isinstance(staged, StagedAgentFile)
    assert staged.file.environment_id == "env_1"
    assert (staged.file.path, staged.file.size_bytes) == ("/workspace/b.py", len("print('bb')\n"))
    assert (await client.files.retrieve(staged.uploaded_file_id)).purpose == "user_data"
    with pytest.raises(ValueError, match="reserves"):
        await client.beta.agents.environments.files.upload(
            "env_1", file=("x", b"x"), path="/workspace/.codex/x"
        )


async def test_a_failed_upload_reports_what_was_uploaded(
    make_client: MakeClient, tree: pathlib.Path
) -> None:
    with canned_server() as canned:
        canned.status = 400
        canned.body = json.dumps(
            {"error": {"message": "no", "type": "invalid_request_error"}}
        ).encode()
        client = make_client(None, base_url=canned.base_url, max_retries=0)
        with pytest.raises(AgentFilePreparationError) as caught:
            await client.beta.agents.environments.files.prepare(
                {"/workspace/a.py": tree / "src" / "pkg" / "a.py"}
            )
    assert caught.value.prepared.uploaded_file_ids == []
    assert "BadRequestError" in str(caught.value)


@pytest.mark.parametrize(
    "destination",
    [
        "workspace/a",
        "/tmp/a",
        "/workspace/",
        "/workspace/a/../b",
        "/workspace/a//b",
        "/workspace/.managed-agents/x",
        "/workspace/.managed-agents-1/x",
        "/workspace/outputs",
        "/workspace/a\\b",
    ],
)
def test_destinations_the_environment_refuses(destination: str) -> None:
    with pytest.raises(ValueError, match="agent file destination"):
        check_destination(destination)


def test_sources_and_selections_are_checked_before_any_upload(tree: pathlib.Path) -> None:
    a = tree / "src" / "pkg" / "a.py"
    with pytest.raises(ValueError, match="lies under another file"):
        read_selected({"/workspace/a": a, "/workspace/a/b": a}, {})
    with pytest.raises(ValueError, match="Idempotency-Key"):
        read_selected({"/workspace/a": a, "/workspace/b": a}, {"Idempotency-Key": "k"})
    with pytest.raises(ValueError, match="not a regular file"):
        read_selected({"/workspace/a": tree / "src"}, {})
    link = tree / "link.py"
    os.symlink(a, link)
    with pytest.raises(ValueError, match="symlink"):
        read_selected({"/workspace/a": link}, {})
    assert read_selected({"/workspace/a": a}, {}) == [("/workspace/a", "a.py", a.read_bytes())]
    with pytest.raises(ValueError, match="list of include"):
        select_directory(tree, "/workspace/p", "*.py")
    with pytest.raises(ValueError, match="inside the directory"):
        select_directory(tree, "/workspace/p", ["../*"])
    with pytest.raises(ValueError, match="select no file"):
        select_directory(tree, "/workspace/p", ["*.rs"])
    with pytest.raises(ValueError, match="not a directory"):
        select_directory(a, "/workspace/p", ["*"])
    os.symlink(tree / "src" / "pkg", tree / "src" / "alias")
    with pytest.raises(ValueError, match="symlink"):
        select_directory(tree / "src", "/workspace/p", ["alias/*.py"])


BUCKETS = {
    "object": "page",
    "data": [
        {
            "object": "bucket",
            "start_time": 1730419200,
            "end_time": 1730505600,
            "results": [
                {
                    "object": "organization.usage.completions.result",
                    "input_tokens": 10,
                    "output_tokens": 20,
                    "num_model_requests": 2,
                }
            ],
        }
    ],
    "has_more": True,
    "next_page": "page_2",
}


async def test_usage_reports_are_one_object_not_a_page(make_client: MakeClient) -> None:
    with canned_server() as canned:
        canned.body = json.dumps(BUCKETS).encode()
        client = make_client(None, base_url=canned.base_url, admin_api_key="sk-admin")
        usage = await client.admin.organization.usage.completions(start_time=1730419200)
        assert type(usage) is UsageResponse
        assert (usage.has_more, usage.next_page) == (True, "page_2")
        result = usage.data[0].results[0]
        assert isinstance(result, UsageCompletionsResult) and result.input_tokens == 10
        costs = await client.admin.organization.usage.costs(start_time=1730419200)
        assert type(costs) is UsageResponse
        canned.body = json.dumps({**BUCKETS, "data": []}).encode()
        decisions = await client.admin.organization.usage.decisions(start_time=1730419200)
        assert type(decisions) is UsageDecisionsResponse
    # One request each: nothing followed `next_page`.
    assert [target.split("?")[0] for _, target in canned.requests] == [
        "/v1/organization/usage/completions",
        "/v1/organization/costs",
        "/v1/organization/usage/decisions",
    ]
