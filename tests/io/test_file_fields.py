"""Multipart bodies: which values of a file field are files and which are form fields."""

from __future__ import annotations

from oxide_io._files import split_files


def test_a_reference_object_in_a_file_field_is_a_form_field() -> None:
    # `videos.edit(video=...)` takes a file or {"id": ...}: the object is flattened
    # into form fields (`video[id]`), as the official SDK sends it.
    fields, files = split_files({"video": {"id": "video_123"}, "prompt": "p"}, ("video",))
    assert fields == {"video": {"id": "video_123"}, "prompt": "p"}
    assert files == []


def test_a_file_in_the_same_field_is_a_part() -> None:
    fields, files = split_files({"video": ("v.mp4", b"abc", "video/mp4")}, ("video",))
    assert fields == {}
    assert [(name, part.filename) for name, part in files] == [("video", "v.mp4")]
