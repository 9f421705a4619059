"""Small typed readers for ``bundle.json``: each error names the manifest field and what it wanted.

``Fields`` wraps one JSON object with its dotted path (``stages.cam_encoder.inputs[0]``), so a
bad value reads e.g. ``bundle.json: field 'stages.cam_encoder.inputs[0].dtype' must be one of
[...], found 'float64'``.
"""

from __future__ import annotations

import math
from typing import Any


class ManifestError(ValueError):
    """A manifest field is missing or malformed (the message names the file and the field)."""


class Fields:
    """Typed access to one JSON object of the manifest."""

    def __init__(self, obj: Any, path: str, source: str) -> None:
        if not isinstance(obj, dict):
            raise ManifestError(
                f"{source}: field '{path or '<root>'}' must be an object, found "
                f"{type(obj).__name__}"
            )
        self.obj = obj
        self.path = path
        self.source = source

    def where(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, what: str, found: Any = ...) -> ManifestError:
        tail = "" if found is ... else f", found {found!r}"
        return ManifestError(f"{self.source}: field '{self.where(key)}' {what}{tail}")

    def raw(self, key: str, optional: bool = False) -> Any:
        if key not in self.obj:
            if optional:
                return None
            raise ManifestError(f"{self.source}: field '{self.where(key)}' is missing")
        return self.obj[key]

    def str(self, key: str, choices: tuple[str, ...] | None = None, optional: bool = False):
        v = self.raw(key, optional)
        if v is None and optional:
            return None
        if not isinstance(v, str):
            raise self.fail(key, "must be a string", v)
        if choices is not None and v not in choices:
            raise self.fail(key, f"must be one of {list(choices)}", v)
        return v

    def int(self, key: str, minimum: int | None = None, optional: bool = False):
        v = self.raw(key, optional)
        if v is None and optional:
            return None
        if not isinstance(v, int) or isinstance(v, bool):
            raise self.fail(key, "must be an integer", v)
        if minimum is not None and v < minimum:
            raise self.fail(key, f"must be >= {minimum}", v)
        return v

    def float(self, key: str, minimum: float | None = None) -> float:
        v = self.raw(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.fail(key, "must be a finite number", v)
        if minimum is not None and v < minimum:
            raise self.fail(key, f"must be >= {minimum}", v)
        return float(v)

    def bool(self, key: str) -> bool:
        v = self.raw(key)
        if not isinstance(v, bool):
            raise self.fail(key, "must be true or false", v)
        return v

    def list(self, key: str, optional: bool = False) -> list[Any] | None:
        v = self.raw(key, optional)
        if v is None and optional:
            return None
        if not isinstance(v, list):
            raise self.fail(key, "must be a list", v)
        return v

    def ints(self, key: str, minimum: int = 1) -> tuple[int, ...]:
        items = self.list(key)
        if not all(isinstance(i, int) and not isinstance(i, bool) and i >= minimum for i in items):
            raise self.fail(key, f"must be a list of integers >= {minimum}", items)
        return tuple(items)

    def strs(self, key: str) -> tuple[str, ...]:
        items = self.list(key)
        if not all(isinstance(i, str) for i in items):
            raise self.fail(key, "must be a list of strings", items)
        return tuple(items)

    def obj_(self, key: str, optional: bool = False) -> Fields | None:
        v = self.raw(key, optional)
        if v is None and optional:
            return None
        return Fields(v, self.where(key), self.source)

    def item(self, key: str, index: int) -> Fields:
        """The ``index``-th element of list ``key`` as an object."""
        return Fields(self.list(key)[index], f"{self.where(key)}[{index}]", self.source)
