"""A task's fields, and checking a run request against them.

A task's fields are its base type's fields followed by its ``extraFields`` (an extra field with
a base field's name replaces that field in place); defaults come from the field, then from the
task's ``defaults``, then the request.

Coercion rules, the same for request values and catalog defaults:

- ``int``: an int (never a bool); a float with an integral value (``3.0`` → 3, since JSON and
  YAML writers emit those); a string holding a decimal integer (``"3"``, ``" -2 "``). ``3.5``,
  ``"3.0"`` and ``"0x10"`` are rejected.
- ``float``: an int or a float (never a bool), or a string ``float()`` parses (``"1e-3"``).
  NaN and infinities are rejected in every form. Returned as a float.
- ``bool``: ``true``/``false``; the ints 1 and 0; the strings true/false, yes/no, on/off, 1/0
  in any case.
- ``string``: a str; an int is turned into its decimal string (lossless). Floats and bools are
  rejected, because ``1.10`` would silently become ``"1.1"``: quote such values. NUL is
  rejected (a command line cannot carry it).
- ``path``: a str without NUL, CR or LF. Neither existence nor emptiness is checked: the
  trainer's working directory decides what it means, and ``""`` often stands for "not set".
- ``choice``: a value equal to one of ``choices`` (a bool only matches a bool); a string also
  matches the string form of a numeric or bool choice (``"8"`` for 8), and an int matches a
  string choice of its digits. The choice itself is returned.
- ``None`` in a request means "no value": the default applies.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Mapping
from typing import Any

from vtm.catalog.models import Catalog, FieldSpec, FieldType, Scalar
from vtm.errors import FieldError, InvalidRequest, NotFound

_INT = re.compile(r"^[+-]?[0-9]{1,4000}$")
_BOOLS = {"true": True, "yes": True, "on": True, "1": True}
_BOOLS |= {"false": False, "no": False, "off": False, "0": False}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _to_int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT.match(value.strip()):
        return int(value.strip())
    raise ValueError(f"expected an integer, got {value!r}")


def _to_float(value: object) -> float:
    result: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            result = float(value)
        except OverflowError:
            result = None
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            result = None
    if result is None or not math.isfinite(result):
        raise ValueError(f"expected a finite number, got {value!r}")
    return result


def _to_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _BOOLS:
        return _BOOLS[value.strip().lower()]
    raise ValueError(f"expected true or false, got {value!r}")


def _to_string(value: object, *, path: bool) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r} (quote it)")
    if "\0" in value:
        raise ValueError("must not contain a NUL character")
    if path and ("\n" in value or "\r" in value):
        raise ValueError("a path must not contain a line break")
    return value


def _choice_matches(choice: Scalar, value: object) -> bool:
    if isinstance(choice, bool) or isinstance(value, bool):
        if isinstance(choice, bool) and isinstance(value, str):
            return _BOOLS.get(value.strip().lower()) is choice
        return isinstance(choice, bool) and isinstance(value, bool) and choice is value
    if isinstance(choice, str):
        return value == choice or (isinstance(value, int) and str(value) == choice)
    if isinstance(value, str):
        try:
            value = _to_int(value) if isinstance(choice, int) else _to_float(value)
        except ValueError:
            return False
    return isinstance(value, int | float) and value == choice


def coerce_value(spec: FieldSpec, value: object) -> Scalar:
    """The typed value for ``spec``, or ValueError saying why ``value`` does not fit."""
    result: Scalar
    if spec.type is FieldType.INT:
        result = _to_int(value)
    elif spec.type is FieldType.FLOAT:
        result = _to_float(value)
    elif spec.type is FieldType.BOOL:
        return _to_bool(value)
    elif spec.type is FieldType.CHOICE:
        choices = spec.choices or []
        for choice in choices:
            if _choice_matches(choice, value):
                return choice
        listed = ", ".join(str(c) for c in choices)
        raise ValueError(f"must be one of: {listed} (got {value!r})")
    else:
        return _to_string(value, path=spec.type is FieldType.PATH)
    if spec.min is not None and result < spec.min:
        raise ValueError(f"must be at least {_number(spec.min)} (got {_number(result)})")
    if spec.max is not None and result > spec.max:
        raise ValueError(f"must be at most {_number(spec.max)} (got {_number(result)})")
    return result


def _with_default(spec: FieldSpec, value: Scalar | None) -> FieldSpec:
    if value is None:
        return spec
    # The loader rejects bad defaults; a hand-built Catalog may still hold one, which is kept
    # as written so that resolve_fields reports it against the field.
    with contextlib.suppress(ValueError):
        value = coerce_value(spec, value)
    return spec if value is spec.default else spec.model_copy(update={"default": value})


def effective_fields(catalog: Catalog, task_id: str) -> dict[str, FieldSpec]:
    """The task's fields in order (base type's, then extra), defaults already merged."""
    task = catalog.tasks.get(task_id)
    if task is None:
        raise NotFound(f"unknown task {task_id!r}")
    base = catalog.base_task_types.get(task.base_task_type)
    if base is None:
        # load_catalog rules this out; only a Catalog built by hand can get here.
        raise ValueError(f"task {task_id!r}: unknown base task type {task.base_task_type!r}")
    merged = {**base.fields, **task.extra_fields}
    return {
        name: _with_default(spec, task.defaults.get(name, spec.default))
        for name, spec in merged.items()
    }


def resolve_fields(
    catalog: Catalog, task_id: str, request: Mapping[str, Any]
) -> dict[str, Scalar | None]:
    """Every field's value for a run: defaults, then ``request``, checked and typed.

    Raises InvalidRequest with one FieldError per bad field, all of them at once.
    """
    fields = effective_fields(catalog, task_id)
    errors = [
        FieldError(str(name), f"unknown field; this task accepts: {', '.join(fields)}")
        for name in request
        if name not in fields
    ]
    resolved: dict[str, Scalar | None] = {}
    for name, spec in fields.items():
        given = request.get(name)
        value = spec.default if given is None else given
        if value is None:
            resolved[name] = None
            if spec.required:
                errors.append(FieldError(name, "required, and this task sets no default"))
            continue
        try:
            resolved[name] = coerce_value(spec, value)
        except ValueError as exc:
            origin = "" if given is not None else "the catalog's default: "
            errors.append(FieldError(name, f"{origin}{exc}"))
    if errors:
        raise InvalidRequest(errors)
    return resolved
