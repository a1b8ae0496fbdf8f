"""effective_fields and resolve_fields: merging, one error per bad field, every coercion rule."""

from __future__ import annotations

from typing import Any

import pytest

from vtm.catalog import Catalog, FieldSpec, FieldType, effective_fields, resolve_fields
from vtm.errors import InvalidRequest, NotFound


def catalog(extra: dict[str, Any] | None = None, defaults: dict[str, Any] | None = None) -> Catalog:
    return Catalog.model_validate(
        {
            "version": 1,
            "baseTaskTypes": {
                "cls": {
                    "fields": {
                        "epochs": {"type": "int", "default": 10, "min": 1, "max": 100},
                        "lr": {"type": "float", "default": 0.001, "min": 0},
                        "device": {"type": "choice", "choices": ["auto", "cpu"], "default": "auto"},
                    }
                }
            },
            "tasks": {
                "t": {
                    "baseTaskType": "cls",
                    "runner": {"target": "train.py"},
                    "defaults": defaults or {},
                    "extraFields": extra or {},
                }
            },
        }
    )


def errors_of(cat: Catalog, request: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as info:
        resolve_fields(cat, "t", request)
    fields = [e.field for e in info.value.errors]
    assert len(fields) == len(set(fields)), "one message per field"
    return {e.field: e.message for e in info.value.errors}


def test_effective_fields_order_defaults_and_replacement() -> None:
    cat = catalog(
        extra={"augment": {"type": "bool", "default": False}, "lr": {"type": "float"}},
        defaults={"epochs": 5, "lr": "0.5"},
    )
    fields = effective_fields(cat, "t")
    assert list(fields) == ["epochs", "lr", "device", "augment"]
    assert fields["epochs"].default == 5
    # The extra `lr` replaced the base one (no min any more); the task default is typed.
    assert fields["lr"].min is None
    assert fields["lr"].default == 0.5
    assert fields["augment"].default is False
    assert cat.base_task_types["cls"].fields["epochs"].default == 10, "the catalog is untouched"


def test_unknown_task() -> None:
    with pytest.raises(NotFound, match="unknown task 'nope'"):
        effective_fields(catalog(), "nope")
    with pytest.raises(NotFound):
        resolve_fields(catalog(), "nope", {})


def test_resolve_merges_defaults_and_request() -> None:
    cat = catalog(extra={"note": {"type": "string"}}, defaults={"epochs": 5})
    assert resolve_fields(cat, "t", {}) == {
        "epochs": 5,
        "lr": 0.001,
        "device": "auto",
        "note": None,
    }
    got = resolve_fields(cat, "t", {"epochs": "7", "device": "cpu", "lr": None})
    assert got == {"epochs": 7, "lr": 0.001, "device": "cpu", "note": None}


def test_every_bad_field_is_reported_once_and_together() -> None:
    cat = catalog(extra={"name": {"type": "string", "required": True}})
    errors = errors_of(
        cat, {"epochs": 0, "lr": "fast", "device": "gpu", "epochz": 3, "colour": "red"}
    )
    assert errors == {
        "epochz": "unknown field; this task accepts: epochs, lr, device, name",
        "colour": "unknown field; this task accepts: epochs, lr, device, name",
        "epochs": "must be at least 1 (got 0)",
        "lr": "expected a finite number, got 'fast'",
        "device": "must be one of: auto, cpu (got 'gpu')",
        "name": "required, and this task sets no default",
    }


def test_above_max() -> None:
    assert errors_of(catalog(), {"epochs": 101}) == {"epochs": "must be at most 100 (got 101)"}


def test_bad_default_of_a_hand_built_catalog_is_reported_against_the_field() -> None:
    cat = catalog(defaults={"epochs": "many"})
    assert errors_of(cat, {}) == {
        "epochs": "the catalog's default: expected an integer, got 'many'"
    }
    assert resolve_fields(cat, "t", {"epochs": 3})["epochs"] == 3


def resolve_one(spec: dict[str, Any], value: object) -> object:
    cat = catalog(extra={"x": spec})
    return resolve_fields(cat, "t", {"x": value})["x"]


def reject_one(spec: dict[str, Any], value: object) -> str:
    return errors_of(catalog(extra={"x": spec}), {"x": value})["x"]


INT, FLOAT, BOOL = {"type": "int"}, {"type": "float"}, {"type": "bool"}
STRING, PATH = {"type": "string"}, {"type": "path"}
NUMS = {"type": "choice", "choices": [8, 16, 0.5]}
WORDS = {"type": "choice", "choices": ["adam", "sgd", "1"]}
FLAGS = {"type": "choice", "choices": [True, "auto"]}


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        (INT, 3, 3),
        (INT, "3", 3),
        (INT, " -2 ", -2),
        (INT, "+7", 7),
        (INT, 3.0, 3),
        (FLOAT, 1, 1.0),
        (FLOAT, 0.25, 0.25),
        (FLOAT, "1e-3", 0.001),
        (FLOAT, " -2.5 ", -2.5),
        (BOOL, True, True),
        (BOOL, False, False),
        (BOOL, 1, True),
        (BOOL, 0, False),
        *((BOOL, s, True) for s in ["true", "TRUE", "yes", "Yes", "on", "1", " On "]),
        *((BOOL, s, False) for s in ["false", "False", "no", "NO", "off", "0"]),
        (STRING, "hello world", "hello world"),
        (STRING, "-rf; rm x", "-rf; rm x"),
        (STRING, "", ""),
        (STRING, "two\nlines", "two\nlines"),
        (STRING, 42, "42"),
        (PATH, "data/train", "data/train"),
        (PATH, "", ""),
        (NUMS, 8, 8),
        (NUMS, "16", 16),
        (NUMS, 16.0, 16),
        (NUMS, "0.5", 0.5),
        (WORDS, "sgd", "sgd"),
        (WORDS, 1, "1"),
        (FLAGS, "yes", True),
        (FLAGS, True, True),
    ],
)
def test_accepted_values_come_back_typed(
    spec: dict[str, Any], value: object, expected: object
) -> None:
    got = resolve_one(spec, value)
    assert got == expected
    assert type(got) is type(expected)


@pytest.mark.parametrize(
    ("spec", "value", "message"),
    [
        (INT, True, "expected an integer, got True"),
        (INT, 3.5, "expected an integer, got 3.5"),
        (INT, "3.0", "expected an integer"),
        (INT, "0x10", "expected an integer"),
        (INT, "", "expected an integer"),
        (INT, [3], "expected an integer"),
        (INT, float("nan"), "expected an integer"),
        (FLOAT, True, "expected a finite number, got True"),
        (FLOAT, "nan", "expected a finite number"),
        (FLOAT, float("nan"), "expected a finite number"),
        (FLOAT, float("inf"), "expected a finite number"),
        (FLOAT, "-Infinity", "expected a finite number"),
        (FLOAT, "1e999", "expected a finite number"),
        (FLOAT, 10**400, "expected a finite number"),
        (FLOAT, "fast", "expected a finite number"),
        (BOOL, "maybe", "expected true or false, got 'maybe'"),
        (BOOL, 2, "expected true or false"),
        (BOOL, 1.0, "expected true or false"),
        (STRING, 1.10, "expected a string, got 1.1 (quote it)"),
        (STRING, True, "expected a string"),
        (STRING, "a\0b", "must not contain a NUL character"),
        (PATH, "a\nb", "a path must not contain a line break"),
        (PATH, "a\rb", "a path must not contain a line break"),
        (PATH, "a\0b", "must not contain a NUL character"),
        (PATH, 3.5, "expected a string"),
        (NUMS, "32", "must be one of: 8, 16, 0.5 (got '32')"),
        (NUMS, True, "must be one of"),
        (NUMS, "8.0", "must be one of"),
        (WORDS, "ADAM", "must be one of: adam, sgd, 1 (got 'ADAM')"),
        (WORDS, True, "must be one of"),
        (FLAGS, 1, "must be one of"),
        (FLAGS, "no", "must be one of"),
    ],
)
def test_rejected_values(spec: dict[str, Any], value: object, message: str) -> None:
    assert reject_one(spec, value).startswith(message)


def test_float_and_int_ranges() -> None:
    spec = {"type": "float", "min": 0.5, "max": 2.5}
    assert reject_one(spec, 0.25) == "must be at least 0.5 (got 0.25)"
    assert reject_one(spec, "3") == "must be at most 2.5 (got 3)"
    assert resolve_one(spec, "2.5") == 2.5
    assert reject_one({"type": "int", "min": -1}, "-2") == "must be at least -1 (got -2)"


def test_field_spec_defaults_are_typed_by_effective_fields() -> None:
    cat = catalog(extra={"f": {"type": "float", "default": 1}, "b": {"type": "bool", "default": 1}})
    fields = effective_fields(cat, "t")
    assert fields["f"] == FieldSpec(type=FieldType.FLOAT, default=1.0)
    assert type(fields["f"].default) is float
    assert fields["b"].default is True
