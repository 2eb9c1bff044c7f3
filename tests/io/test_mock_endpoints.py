"""MockServer endpoints beyond chat and responses: fine-tuning jobs, images, stored
responses, file deletion and Azure's URL layout.

Each reply is decoded strictly into the generated model of the API's type (a
field missing, of the wrong type or with a value outside its enum fails), and
the client's view of it (pagination, image streams, resuming a background
response) is checked on every runtime.
"""

from __future__ import annotations

import base64
import json
import struct
import urllib.error
import urllib.request
import zlib
from typing import Any

import pytest

import oxide_io
import oxide_io.testing
from oxide_io.testing import MockServer
from oxide_io.testing._fine_tuning import FINE_TUNING_JOBS
from oxide_io.testing._images import IMAGE_SIDE, image_png
from oxide_proto import decode
from oxide_proto.types.fine_tuning import ListPaginatedFineTuningJobsResponse
from oxide_proto.types.images import (
    ImageGenCompletedEvent,
    ImageGenPartialImageEvent,
    ImagesResponse,
)
from oxide_proto.types.responses import Response, TokenCountsResource
from tests.io.blocking import wrap
from tests.io.conftest import KEY, MakeClient, Setup

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def call(server: MockServer, method: str, path: str, body: object = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        server.base_url + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def events(body: bytes) -> list[dict[str, Any]]:
    found = []
    for block in body.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in lines:
            data = json.loads(lines["data"])
            assert lines["event"] == data["type"]
            found.append(data)
    return found


def png_pixels(data: bytes) -> bytes:
    """The RGB rows of a PNG the mock drew, every chunk's CRC checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat = 8, b""
    kinds = []
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        payload = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + payload)
        kinds.append(kind)
        if kind == b"IDAT":
            idat += payload
        position += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]
    pixels = zlib.decompress(idat)
    assert len(pixels) == IMAGE_SIDE * (1 + 3 * IMAGE_SIDE)
    return pixels


# -- fine-tuning jobs ----------------------------------------------------------


async def test_fine_tuning_jobs_page_as_the_api_does(mock: Setup) -> None:
    status, body = call(mock.server, "GET", "/fine_tuning/jobs?limit=10")
    assert status == 200
    page = decode(ListPaginatedFineTuningJobsResponse, json.loads(body), strict=True)
    assert [job.id for job in page.data] == list(FINE_TUNING_JOBS[:10])
    assert page.has_more is True
    status, body = call(
        mock.server, "GET", f"/fine_tuning/jobs?limit=10&after={FINE_TUNING_JOBS[19]}"
    )
    last = decode(ListPaginatedFineTuningJobsResponse, json.loads(body), strict=True)
    assert [job.id for job in last.data] == list(FINE_TUNING_JOBS[20:])
    assert last.has_more is False
    for bad in ("limit=0", "limit=101", "limit=ten", "after=ftjob-nope"):
        status, body = call(mock.server, "GET", f"/fine_tuning/jobs?{bad}")
        assert status == 400, bad
        assert json.loads(body)["error"]["param"] == bad.partition("=")[0]


async def test_client_lists_every_job_across_pages(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock, _strict_response_validation=True)
    page = await client.fine_tuning.jobs.list(limit=20)
    seen = [job.id async for job in page]
    assert seen == list(FINE_TUNING_JOBS)
    pages = [r for r in mock.server.requests if r.path == "/v1/fine_tuning/jobs"]
    assert [r.query.get("after") for r in pages] == [None, FINE_TUNING_JOBS[19]]
    job = await client.fine_tuning.jobs.retrieve(FINE_TUNING_JOBS[3])
    assert job.id == FINE_TUNING_JOBS[3] and job.status == "succeeded"
    with pytest.raises(oxide_io.NotFoundError):
        await client.fine_tuning.jobs.retrieve("ftjob-missing")


# -- images --------------------------------------------------------------------


def test_image_is_a_real_png_that_fills_row_by_row() -> None:
    whole = png_pixels(image_png("otter"))
    assert whole == png_pixels(image_png("otter")), "the same prompt, the same image"
    assert whole != png_pixels(image_png("beaver"))
    row = 1 + 3 * IMAGE_SIDE
    half = png_pixels(image_png("otter", rows=IMAGE_SIDE // 2))
    cut = row * (IMAGE_SIDE // 2)
    assert half[:cut] == whole[:cut]
    assert set(half[cut:]) == {0, 255}  # filter bytes and white rows


async def test_images_generate_json_decodes_strictly(mock: Setup) -> None:
    request = {"prompt": "an otter", "model": "gpt-image-1", "n": 2, "size": "auto"}
    status, body = call(mock.server, "POST", "/images/generations", request)
    assert status == 200
    images = decode(ImagesResponse, json.loads(body), strict=True)
    assert images.data is not None and len(images.data) == 2
    assert images.size == "1024x1024" and images.output_format == "png"
    for image in images.data:
        assert image.b64_json is not None
        png_pixels(base64.b64decode(image.b64_json, validate=True))
    assert images.usage is not None and images.usage.output_tokens > 0
    for bad, param in (
        ({"model": "gpt-image-1"}, "prompt"),
        ({"prompt": "x", "size": "5x5"}, "size"),
        ({"prompt": "x", "n": 0}, "n"),
        ({"prompt": "x", "stream": True, "partial_images": 4}, "partial_images"),
    ):
        status, body = call(mock.server, "POST", "/images/generations", bad)
        assert status == 400
        assert json.loads(body)["error"]["param"] == param


@pytest.mark.parametrize("partial", [0, 1, 3])
async def test_images_stream_partial_images_then_the_final_one(mock: Setup, partial: int) -> None:
    request = {"prompt": "an otter", "stream": True, "partial_images": partial}
    status, body = call(mock.server, "POST", "/images/generations", request)
    assert status == 200
    found = events(body)
    assert [e["type"] for e in found] == ["image_generation.partial_image"] * partial + [
        "image_generation.completed"
    ]
    for index, event in enumerate(found[:-1]):
        decoded = decode(ImageGenPartialImageEvent, event, strict=True)
        assert decoded.partial_image_index == index
    final = decode(ImageGenCompletedEvent, found[-1], strict=True)
    assert base64.b64decode(final.b64_json) == image_png("0:an otter")


async def test_client_streams_an_image(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    stream = await client.images.generate(prompt="an otter", stream=True, partial_images=2)
    kinds = [event.type async for event in stream]
    assert kinds == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]
    plain = await client.images.generate(prompt="an otter", output_format="png")
    assert plain.data is not None and plain.data[0].b64_json is not None


# -- stored and background responses, input token counts -----------------------


async def test_input_tokens_count_matches_the_usage_of_create(
    mock: Setup, make_client: MakeClient
) -> None:
    client = make_client(mock, _strict_response_validation=True)
    request: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "instructions": "Be brief.",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "Hi there, you"}]}],
    }
    counted = await client.responses.input_tokens.count(**request)
    created = await client.responses.create(**request)
    assert created.usage is not None
    assert counted.input_tokens == created.usage.input_tokens > 1
    _status, body = call(mock.server, "POST", "/responses/input_tokens", request)
    assert decode(TokenCountsResource, json.loads(body), strict=True).object == (
        "response.input_tokens"
    )


async def test_responses_are_kept_retrieved_and_deleted(mock: Setup) -> None:
    status, body = call(mock.server, "POST", "/responses", {"model": "gpt-4o", "input": "Hi"})
    created = decode(Response, json.loads(body), strict=True)
    status, body = call(mock.server, "GET", f"/responses/{created.id}")
    assert status == 200 and json.loads(body) == created.to_dict()
    status, body = call(mock.server, "GET", f"/responses/{created.id}?stream=true")
    assert status == 400, "only a background response can be streamed"
    status, body = call(mock.server, "DELETE", f"/responses/{created.id}")
    assert json.loads(body) == {"id": created.id, "object": "response.deleted", "deleted": True}
    assert call(mock.server, "GET", f"/responses/{created.id}")[0] == 404
    unstored = {"model": "gpt-4o", "input": "Hi", "store": False}
    ident = json.loads(call(mock.server, "POST", "/responses", unstored)[1])["id"]
    assert call(mock.server, "GET", f"/responses/{ident}")[0] == 404


async def test_background_response_is_queued_then_done(mock: Setup) -> None:
    request = {"model": "gpt-4o", "input": "solve 8x + 31 = 2", "background": True}
    status, body = call(mock.server, "POST", "/responses", request)
    queued = decode(Response, json.loads(body), strict=True)
    assert queued.status == "queued" and queued.output == [] and queued.background is True
    status, body = call(mock.server, "GET", f"/responses/{queued.id}")
    done = decode(Response, json.loads(body), strict=True)
    assert done.status == "completed" and done.output_text
    status, body = call(mock.server, "GET", f"/responses/{queued.id}?stream=true&starting_after=3")
    replay = events(body)
    assert [e["sequence_number"] for e in replay] == list(range(4, 4 + len(replay)))
    assert replay[-1]["type"] == "response.completed"
    assert replay[-1]["response"]["output"] == json.loads(json.dumps(done.to_dict()["output"]))
    status, body = call(mock.server, "GET", f"/responses/{queued.id}?stream=true&starting_after=x")
    assert status == 400
    status, body = call(mock.server, "POST", f"/responses/{queued.id}/cancel")
    assert decode(Response, json.loads(body), strict=True).status == "completed"


async def test_client_resumes_a_background_stream(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    first: list[Any] = []
    stream = await client.responses.create(
        model="gpt-4o", input="solve 8x + 31 = 2", background=True, stream=True
    )
    async for event in stream:
        first.append(event)
        if event.sequence_number == 5:
            break
    await stream.aclose()
    ident = first[0].response.id
    rest = await client.responses.retrieve(ident, stream=True, starting_after=5)
    resumed = [event async for event in rest]
    assert [e.sequence_number for e in resumed] == list(range(6, 6 + len(resumed)))
    assert resumed[-1].type == "response.completed"
    final = await client.responses.retrieve(ident)
    assert final.output_text == resumed[-1].response.output_text
    with pytest.raises(oxide_io.NotFoundError):
        await client.responses.retrieve("resp_missing")


# -- files: delete -------------------------------------------------------------


async def test_client_deletes_an_uploaded_file(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    created = await client.files.create(file=("notes.txt", b"abc"), purpose="user_data")
    deleted = await client.files.delete(created.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "file", True)
    assert [r.method for r in mock.server.requests] == ["POST", "DELETE"]
    with pytest.raises(oxide_io.NotFoundError):
        await client.files.retrieve(created.id)
    with pytest.raises(oxide_io.NotFoundError):  # deleted once, then not there
        await client.files.delete(created.id)


# -- Azure URL layout ----------------------------------------------------------


async def test_azure_client_reaches_the_mock(mock: Setup, runtime: str) -> None:
    origin = mock.server.base_url.removesuffix("/v1")
    options: dict[str, Any] = {
        "api_version": "2024-10-21",
        "azure_endpoint": origin,
        "api_key": KEY,
    }
    client: Any = (
        wrap(oxide_io.AzureClient(**options))
        if runtime == "sync"
        else oxide_io.AsyncAzureClient(**options)
    )
    messages = [{"role": "user", "content": "Hi"}]
    try:
        completion = await client.chat.completions.create(model="my-deployment", messages=messages)
        listed = await client.files.list()
    finally:
        await client.aclose()
    # The deployment is the model that answers, as on Azure.
    assert completion.model == "my-deployment"
    assert completion.choices[0].message.content
    assert [f.id for f in listed.data] == list(oxide_io.testing.FILES)
    chat, files = mock.server.requests
    assert chat.path == "/openai/deployments/my-deployment/chat/completions"
    assert chat.query == {"api-version": "2024-10-21"} and chat.headers["api-key"] == KEY
    assert files.path == "/openai/files"


def test_azure_paths_need_an_api_version_and_the_key(mock: Setup) -> None:
    def post(path: str, headers: dict[str, str]) -> tuple[int, Any]:
        body = json.dumps({"messages": [{"role": "user", "content": "Hi"}]}).encode()
        request = urllib.request.Request(
            mock.server.base_url.removesuffix("/v1") + path,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    chat = "/openai/deployments/d1/chat/completions"
    status, body = post(chat, {"api-key": KEY})
    assert (status, body["error"]["message"]) == (404, "Resource not found")
    status, body = post(chat + "?api-version=2024-10-21", {"api-key": "sk-wrong-key-000"})
    assert status == 401
    status, body = post(chat + "?api-version=2024-10-21", {"Authorization": f"Bearer {KEY}"})
    assert status == 200 and body["model"] == "d1"
    status, body = post("/openai/deployments/d1?api-version=1", {"api-key": KEY})
    assert status == 404
