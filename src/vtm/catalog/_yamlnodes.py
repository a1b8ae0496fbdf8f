"""Finding where a value sits in the catalog's YAML, so errors can name a line and a key.

Locations are the tuples pydantic reports (``("tasks", "digits-cnn", "runner", "target")``).
Keys are matched as written in the file, camelCase or snake_case, because the models accept
both; the reported key path uses the spelling found in the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import yaml
from pydantic.alias_generators import to_camel, to_snake

MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Spot:
    """A 1-based line and a dotted key path (None for the document itself)."""

    line: int
    key: str | None


def _key_text(node: yaml.Node) -> str:
    return node.value if isinstance(node, yaml.ScalarNode) else "?"


def _find_key(mapping: yaml.MappingNode, wanted: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    names = {str(wanted)}
    if isinstance(wanted, str):
        names |= {to_camel(wanted), to_snake(wanted)}
    # After a merge (<<) the mapping holds inherited pairs first; the file's own key wins, so
    # search from the end like the constructor does.
    for key_node, value_node in reversed(mapping.value):
        if isinstance(key_node, yaml.ScalarNode) and key_node.value in names:
            return key_node, value_node
    return None


def locate(root: yaml.Node, loc: Sequence[str | int], *, missing: bool = False) -> Spot:
    """The line and key path of ``loc``.

    The line is the line of the key that holds the value (the item itself inside a list).
    Location parts that do not exist in the file stop the walk: pydantic adds union member
    names (``int``, ``str``) that are not keys. With ``missing`` the last part is a key that
    should be there; the line is then that of the mapping that lacks it.
    """
    node, line, path = root, root.start_mark.line + 1, []
    wanted = list(loc)
    for i, part in enumerate(wanted):
        if part == "[key]":
            break
        if isinstance(node, yaml.MappingNode):
            found = _find_key(node, part)
            if found is None:
                if missing and i == len(wanted) - 1:
                    path.append(str(part))
                break
            key_node, node = found
            line = key_node.start_mark.line + 1
            path.append(_key_text(key_node))
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
            path.append(str(part))
        else:
            break
    return Spot(line=line, key=".".join(path) or None)


def duplicate_keys(root: yaml.Node, loader: yaml.SafeLoader) -> list[Spot]:
    """Every key written twice in one mapping (PyYAML would silently keep the last one)."""
    found: list[Spot] = []
    seen_nodes: set[int] = set()
    # An explicit stack: aliases can share (or even nest) nodes, and deep files must not hit
    # the recursion limit.
    stack: list[tuple[yaml.Node, list[str]]] = [(root, [])]
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((item, [*path, str(i)]) for i, item in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            keys: set[tuple[type, object]] = set()
            for key_node, value_node in node.value:
                child = [*path, _key_text(key_node)]
                stack.append((value_node, child))
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == MERGE_TAG:
                    continue
                value = loader.construct_object(key_node)
                # The type is part of the identity so that `1` and `true` stay distinct keys.
                identity = (type(value), value)
                if identity in keys:
                    found.append(Spot(line=key_node.start_mark.line + 1, key=".".join(child)))
                keys.add(identity)
    return sorted(found, key=lambda spot: spot.line)
