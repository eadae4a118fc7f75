"""The one module that touches pypdf's private API.

pypdf has no public call for these; they are kept here, small and tested, so that a pypdf
release that changes them breaks one file (the dependency is bounded to the major version
the tests run on, in ``pyproject.toml``):

- adding an object to a writer and getting its indirect reference;
- the writer's document catalogue;
- the file identifier (``/ID``), fixed so that the same inputs give the same bytes;
- a stream's raw bytes, still encoded (copied without decoding and re-encoding).
"""

from __future__ import annotations

from typing import Any


def add_object(writer: Any, obj: Any) -> Any:
    """Add ``obj`` to ``writer``; returns its indirect reference."""
    return writer._add_object(obj)


def catalog(writer: Any) -> Any:
    """The writer's document catalogue (``/Root``)."""
    return writer._root_object


def set_file_id(writer: Any, file_id: bytes) -> None:
    """The file identifier, both halves ``file_id`` (deterministic output)."""
    from pypdf.generic import ArrayObject, ByteStringObject

    writer._ID = ArrayObject([ByteStringObject(file_id), ByteStringObject(file_id)])


def raw_data(stream: Any) -> bytes:
    """A stream's bytes as stored (still encoded by its filters)."""
    return stream._data


def set_raw_data(stream: Any, data: bytes) -> None:
    """Set a stream's stored bytes (already encoded by the filters its dictionary names)."""
    stream._data = data
