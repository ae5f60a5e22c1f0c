"""Tag rules: which registrations a flow activates for, and why one was skipped.

Flows are configured against tags, not concrete statuses or properties, so one flow covers
every event of an account. A rule is a condition on the tags of one object of the
registration (its status, attendee type or event) or on the answers of the questions / the
values of the custom properties that carry a tag (or have a given code); rules combine with
`all` / `any`, nested freely.

Evaluating a rule gives a `Decision`: the outcome plus the rule that decided it, in words,
with the values it saw, so "why didn't John reach Marketo?" has an answer.

The input is a `Registration` (eventsync.registration), built from the platform's record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from eventsync.registration import SCOPE_ROOTS, Registration, TaggedValue
from eventsync.strict import Strict

__all__ = [
    "AllOf",
    "AnyOf",
    "Condition",
    "Decision",
    "Registration",
    "RuleSet",
    "SCOPE_ROOTS",
    "TagRule",
    "TaggedValue",
    "compile_rule",
]




# --------------------------------------------------------------------------- the rules

Subject = Literal["status", "attendee_type", "event", "question", "property"]
Operator = Literal["is", "is_not", "is_one_of", "contains", "is_empty", "is_not_empty", "changed_to"]
_TAG_SUBJECTS = ("status", "attendee_type", "event")
_VALUE_SUBJECTS = ("question", "property")
_NO_VALUE = ("is_empty", "is_not_empty")


class Condition(Strict):
    """One test.

    For `status`, `attendee_type` and `event` the operator applies to the tags on that
    object: `{subject: status, op: is, value: Registered}` holds when the registration's
    status carries the tag "Registered".

    For `question` and `property` the operator applies to the answer(s) of the questions
    (or values of the properties) selected by `tag` (those carrying it) or by `code`:
    `{subject: question, tag: Dietary, op: is, value: Vegan}`.
    """

    subject: Subject
    op: Operator
    value: str | list[str] | None = None
    tag: str | None = None
    code: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Condition:
        if self.subject in _VALUE_SUBJECTS:
            if (self.tag is None) == (self.code is None):
                raise ValueError(
                    f"a {self.subject} condition names the {self.subject}s by `tag` or by `code`"
                )
            if self.op == "changed_to":
                raise ValueError("changed_to is for status or attendee_type transitions")
        else:
            if self.tag is not None or self.code is not None:
                raise ValueError(
                    f"a {self.subject} condition tests that object's tags: put the tag in `value`"
                )
            if self.op == "changed_to" and self.subject == "event":
                raise ValueError("changed_to is for status or attendee_type transitions")
        if self.op in _NO_VALUE:
            if self.value is not None:
                raise ValueError(f"{self.op} takes no value")
        elif self.op == "is_one_of":
            if not isinstance(self.value, list) or not self.value:
                raise ValueError("is_one_of takes a non-empty list of values")
        elif not isinstance(self.value, str):
            raise ValueError(f"{self.op} takes one value (text)")
        return self


class AllOf(Strict):
    all: list[TagRule] = Field(min_length=1)


class AnyOf(Strict):
    any: list[TagRule] = Field(min_length=1)


def _rule_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "all" if "all" in value else "any" if "any" in value else "condition"
    return "all" if isinstance(value, AllOf) else "any" if isinstance(value, AnyOf) else "condition"


# Discriminated by shape so that a mistake is reported against the one form it was meant as.
TagRule = Annotated[
    Annotated[Condition, Tag("condition")] | Annotated[AllOf, Tag("all")] | Annotated[AnyOf, Tag("any")],
    Discriminator(_rule_kind),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()


class RuleSet(Strict):
    """A top-level holder so a rule can be validated on its own (`RuleSet(rule=...)`)."""

    rule: TagRule


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome and the rule that decided it.

    `rule` is the deciding rule in words, `reason` what was seen, `where` the rule's position
    in the tree (`all[1].any[0]`), so a skip can be explained to a user.
    """

    matched: bool
    rule: str
    reason: str
    where: str = ""

    def explain(self) -> str:
        verdict = "matched" if self.matched else "did not match"
        at = f" [{self.where}]" if self.where else ""
        return f"{verdict}: {self.rule}{at} — {self.reason}"


_OP_WORDS = {
    "is": "is",
    "is_not": "is not",
    "is_one_of": "is one of",
    "contains": "contains",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
    "changed_to": "changed to",
}


def _describe(c: Condition) -> str:
    if c.subject in _TAG_SUBJECTS:
        what = f"{c.subject.replace('_', ' ')} tags"
    else:
        what = f"{c.subject}s tagged {c.tag!r}" if c.tag is not None else f"{c.subject} {c.code!r}"
    value = "" if c.value is None else f" {c.value!r}"
    return f"{what} {_OP_WORDS[c.op]}{value}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, list | dict) and not v)


def _as_texts(v: Any) -> list[str]:
    """An answer as the texts to compare: a multi-choice answer is each of its choices."""
    if _is_empty(v):
        return []
    items = v if isinstance(v, list) else [v]
    out = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif item is not None:
            out.append(str(item))
    return out


def _tags_of(subject: str, reg: Registration) -> tuple[str, ...]:
    if subject == "status":
        return reg.status_tags
    if subject == "attendee_type":
        return reg.attendee_type_tags
    return reg.event_tags


def _name_of(subject: str, reg: Registration) -> Any:
    if subject == "status":
        return reg.status
    if subject == "attendee_type":
        return reg.attendee_type
    return reg.event.get("eventCode") or reg.event.get("code")


class _Compiled:
    __slots__ = ("description", "where")

    def __init__(self, description: str, where: str) -> None:
        self.description = description
        self.where = where

    def evaluate(self, current: Registration, previous: Registration | None = None) -> Decision:
        raise NotImplementedError

    def test(self, current: Registration, previous: Registration | None = None) -> bool:
        """The outcome alone: no explanation is built (mappings pick branches per record)."""
        raise NotImplementedError


class _TagCondition(_Compiled):
    __slots__ = ("subject", "op", "values")

    def __init__(self, c: Condition, where: str) -> None:
        super().__init__(_describe(c), where)
        self.subject = c.subject
        self.op = c.op
        self.values: tuple[str, ...] = tuple(c.value) if isinstance(c.value, list) else (c.value or "",)

    def test(self, current: Registration, previous: Registration | None = None) -> bool:
        tags = _tags_of(self.subject, current)
        op, value = self.op, self.values[0]
        if op == "is":
            ok = value in tags
        elif op == "is_not":
            ok = value not in tags
        elif op == "is_one_of":
            ok = any(v in tags for v in self.values)
        elif op == "contains":
            needle = value.casefold()
            ok = any(needle in t.casefold() for t in tags)
        elif op == "is_empty":
            ok = not tags
        elif op == "is_not_empty":
            ok = bool(tags)
        else:  # changed_to
            before = _tags_of(self.subject, previous) if previous is not None else ()
            ok = value in tags and value not in before
        return ok

    def evaluate(self, current: Registration, previous: Registration | None = None) -> Decision:
        ok = self.test(current, previous)
        tags = _tags_of(self.subject, current)
        seen = (
            f"{self.subject.replace('_', ' ')} {_short(_name_of(self.subject, current))} carries {list(tags)}"
        )
        if self.op == "changed_to":
            before = _tags_of(self.subject, previous) if previous is not None else ()
            if previous is None:
                seen += " (no previous record: a new registration counts as a change)"
            else:
                seen += f"; before: {_short(_name_of(self.subject, previous))} carried {list(before)}"
        return Decision(ok, self.description, seen, self.where)


class _ValueCondition(_Compiled):
    __slots__ = ("subject", "op", "values", "tag", "code")

    def __init__(self, c: Condition, where: str) -> None:
        super().__init__(_describe(c), where)
        self.subject = c.subject
        self.op = c.op
        self.values: tuple[str, ...] = tuple(c.value) if isinstance(c.value, list) else (c.value or "",)
        self.tag = c.tag
        self.code = c.code

    def _selected(self, reg: Registration) -> dict[str, Any]:
        source = reg.answers if self.subject == "question" else reg.properties
        if self.code is not None:
            item = source.get(self.code)
            return {self.code: item.value if item is not None else None}
        return {code: item.value for code, item in source.items() if self.tag in item.tags}

    def test(self, current: Registration, previous: Registration | None = None) -> bool:
        return self._outcome(self._selected(current))

    def evaluate(self, current: Registration, previous: Registration | None = None) -> Decision:
        selected = self._selected(current)
        if self.tag is not None and not selected:
            seen = f"no {self.subject} carries tag {self.tag!r}"
        else:
            seen = f"{self.subject} values {_short(selected)}"
        return Decision(self._outcome(selected), self.description, seen, self.where)

    def _outcome(self, selected: dict[str, Any]) -> bool:
        texts = [t for v in selected.values() for t in _as_texts(v)]
        op, value = self.op, self.values[0]
        if op == "is":
            ok = value in texts
        elif op == "is_not":
            ok = value not in texts
        elif op == "is_one_of":
            ok = any(v in texts for v in self.values)
        elif op == "contains":
            needle = value.casefold()
            ok = any(needle in t.casefold() for t in texts)
        elif op == "is_empty":
            ok = not texts
        else:  # is_not_empty
            ok = bool(texts)
        return ok


class _Group(_Compiled):
    __slots__ = ("children", "need_all")

    def __init__(self, children: list[_Compiled], need_all: bool, where: str) -> None:
        word = "all" if need_all else "any"
        super().__init__(f"{word} of {len(children)} rules", where)
        self.children = tuple(children)
        self.need_all = need_all

    def test(self, current: Registration, previous: Registration | None = None) -> bool:
        if self.need_all:
            return all(child.test(current, previous) for child in self.children)
        return any(child.test(current, previous) for child in self.children)

    def evaluate(self, current: Registration, previous: Registration | None = None) -> Decision:
        # Short-circuit: the first child that settles the group is the rule that decided it.
        last: Decision | None = None
        for child in self.children:
            last = child.evaluate(current, previous)
            if last.matched != self.need_all:
                return last
        assert last is not None
        if len(self.children) == 1:
            return last
        word = "all" if self.need_all else "none"
        return Decision(
            self.need_all,
            self.description,
            f"{word} of the {len(self.children)} rules matched (last: {last.rule} — {last.reason})",
            self.where,
        )


def _compile(rule: Condition | AllOf | AnyOf, where: str) -> _Compiled:
    if isinstance(rule, AllOf):
        prefix = f"{where}." if where else ""
        return _Group([_compile(r, f"{prefix}all[{i}]") for i, r in enumerate(rule.all)], True, where)
    if isinstance(rule, AnyOf):
        prefix = f"{where}." if where else ""
        return _Group([_compile(r, f"{prefix}any[{i}]") for i, r in enumerate(rule.any)], False, where)
    if rule.subject in _TAG_SUBJECTS:
        return _TagCondition(rule, where)
    return _ValueCondition(rule, where)


class CompiledRule:
    """A rule ready to evaluate many registrations."""

    __slots__ = ("_root", "rule")

    def __init__(self, rule: Condition | AllOf | AnyOf) -> None:
        self.rule = rule
        self._root = _compile(rule, "")

    def evaluate(self, current: Registration, previous: Registration | None = None) -> Decision:
        """`previous` is the registration before this change, for `changed_to` (None: a new one)."""
        return self._root.evaluate(current, previous)

    def __call__(self, current: Registration, previous: Registration | None = None) -> bool:
        return self._root.test(current, previous)


def compile_rule(rule: Condition | AllOf | AnyOf | Mapping[str, Any]) -> CompiledRule:
    """Compile a rule model (or its plain dict form, validated here)."""
    if isinstance(rule, Mapping):
        rule = RuleSet.model_validate({"rule": dict(rule)}).rule
    return CompiledRule(rule)
