"""A run's fields as the trainer's arguments, in the runner's style.

Every argument is one element of an argument list, never a shell string, so a value that starts
with ``-`` (or holds ``; rm -rf``) stays a value.

- ``argparse`` style (the default): ``--name=value``, the ``=`` form so that a value is never
  taken for a flag. Bools by ``boolStyle``: ``flag`` (``--x`` when true, nothing when false:
  ``store_true``), ``value`` (``--x=true``/``--x=false``: jsonargparse, LightningCLI, Hugging
  Face's ``Optional[bool]``), ``negatable`` (``--x``/``--no-x``: ``BooleanOptionalAction``).
- ``hydra`` style: overrides ``key=value`` (``+key=value`` for a key the config lacks: the
  field's ``flag``). Strings are quoted for Hydra's override grammar, so ``a,b`` is not a sweep,
  ``null`` not None and ``${oc.env:X}`` not an interpolation; bools are ``true``/``false``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from vtm.catalog.models import ArgStyle, BoolStyle, FieldSpec, FieldType, Runner, Scalar


def bool_style(runner: Runner, spec: FieldSpec) -> BoolStyle:
    """How a bool field is passed: the field's own style, else the runner's."""
    return spec.bool_style or runner.bool_style


def negated(flag: str) -> str:
    """``--amp`` → ``--no-amp``, as argparse's BooleanOptionalAction spells it."""
    return f"--no-{flag.lstrip('-')}"


def _text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # repr keeps every digit and never switches to str()'s rounding: 0.001 stays "0.001".
        return repr(value)
    return str(value)


# Backslashes that stand before a quote, an interpolation or the closing quote: Hydra (and
# OmegaConf, for ``${``) read a pair of them as one; elsewhere a backslash is itself.
_BACKSLASHES = re.compile(r"(\\*)(?='|\$\{|\Z)")


def hydra_value(value: Scalar) -> str:
    """``value`` in Hydra's override grammar: numbers and bools as they are, text quoted."""
    if not isinstance(value, str):
        return _text(value)
    text = _BACKSLASHES.sub(lambda m: m.group(1) * 2, value)
    return "'" + text.replace("'", "\\'").replace("${", "\\${") + "'"


def field_arguments(
    runner: Runner, fields: Mapping[str, FieldSpec], resolved: Mapping[str, Scalar | None]
) -> list[str]:
    """The arguments for ``resolved`` (every field's typed value; None: not passed)."""
    style: ArgStyle = runner.arg_style
    out: list[str] = []
    for name, spec in fields.items():
        value = resolved.get(name)
        if value is None or name == runner.nproc_field:
            continue  # the nproc field is the launcher's (--nproc_per_node), not the script's
        flag = spec.flag_for(name, style)
        if spec.type is FieldType.BOOL and not isinstance(value, bool):
            raise ValueError(f"field {name!r}: expected a resolved bool, got {value!r}")
        if style == "hydra":
            arg = f"{flag}={hydra_value(value)}"
        elif spec.type is FieldType.BOOL:
            how = bool_style(runner, spec)
            if how == "value":
                arg = f"{flag}={_text(value)}"
            elif value:
                arg = flag
            elif how == "negatable":
                arg = negated(flag)
            else:
                continue  # store_true: false is the absence of the flag
        else:
            arg = f"{flag}={_text(value)}"
        if "\0" in arg:
            raise ValueError(f"field {name!r}: a command line cannot carry a NUL character")
        out.append(arg)
    return out
