"""Run ids as people type them: the whole id, or its first characters (`20261202-015825`).

A shortened id is looked up on the server (`GET /api/runs?idPrefix=`), never guessed: it must
name exactly one run. No match and several matches are errors (exit 2) that say so, the latter
listing the candidates so the next try can be precise.
"""

from __future__ import annotations

import re
from typing import Any

from vtm_client import VtmClient

from vtm.cli.calls import api_call, fail
from vtm.runs.ids import is_run_id

# How many candidates an ambiguous prefix lists.
SHOWN = 10
# What can start a run id; anything else names no run, and the server need not be asked.
PREFIX = re.compile(r"^[0-9a-f-]+$")


def resolve_run_id(vtm: VtmClient, given: str) -> str:
    """The id of the one run ``given`` names; typer.Exit(2) when it names none or several."""
    text = given.strip()
    if is_run_id(text):
        return text  # a whole id: the server says "unknown run" if there is none
    runs: list[dict[str, Any]] = []
    if PREFIX.match(text):
        page = api_call(lambda: vtm.list_runs(limit=SHOWN + 1, id_prefix=text))
        runs = page["runs"]
    if len(runs) == 1:
        return str(runs[0]["id"])
    if not runs:
        raise fail(f"no run has an id starting with {text!r} (`vtm runs` lists them)", 2)
    shown = runs[:SHOWN]
    width = max(len(r["taskId"]) for r in shown)
    listed = "".join(f"\n  {r['id']}  {r['taskId']:<{width}}  {r['status']}" for r in shown)
    more = "\n  … and more" if len(runs) > SHOWN else ""
    raise fail(f"{text!r} is ambiguous: the ids of these runs start with it:{listed}{more}", 2)
