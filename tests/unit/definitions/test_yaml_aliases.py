"""Issue 13 Low list: YAML anchors and aliases are refused (a 781-byte alias bomb took 8 s)."""

from __future__ import annotations

from pathlib import Path

from eventsync.definitions.loader import load_definitions

BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    + "connections: []\n"
)


def test_an_alias_bomb_is_refused_with_the_line(tmp_path: Path) -> None:
    f = tmp_path / "bomb.yaml"
    f.write_text(BOMB)
    result = load_definitions(f, check_secrets=False)
    assert result.definitions is None
    [problem] = result.errors
    assert problem.line == 1 and "anchors and aliases are not accepted (&a" in str(problem)


def test_a_merge_key_anchor_is_refused_too(tmp_path: Path) -> None:
    f = tmp_path / "defs.yaml"
    f.write_text("connections:\n  - &base {name: a, base_url: 'https://a.example'}\n  - *base\n")
    result = load_definitions(f, check_secrets=False)
    assert result.definitions is None and "anchors and aliases" in str(result.errors[0])
    assert result.errors[0].line == 2
