"""Which state machines are sagas, and which of their states are compensations.

A saga is a Step Functions state machine whose forward steps each have a compensation that undoes
them; when a step fails, the compensations of the steps before it run, newest first. The portal
learns this from the catalog and from the state machine's definition, in this order (the first
that speaks decides):

1. The state machine's Resource entity (spec.type `state-machine`, annotation amazonaws.com/arn):
   annotation `meridian.io/saga: "true"` (or "false" to opt out). AWS discovery writes those
   entities from the resource's tags, so on a discovered state machine the same key is set as an
   AWS tag: `meridian.io/saga=true`.
2. A Component annotation `meridian.io/saga-state-machine: <name or ARN>[, <name or ARN>...]`: the
   named state machines are this component's sagas. A name matches the state machines linked to the
   component (their spec.dependencyOf); an ARN needs no Resource entity at all.
3. The naming rule, read from the definition (DescribeStateMachine): a state named
   `Compensate<Step>` where <Step> is another state of the machine, or whose Comment starts with
   "Compensation for <Step>", is the compensation of <Step> (the demo estate's order saga is
   written this way). A state machine with at least one such state is a saga.

Which states are compensations: the naming rule, unless `meridian.io/saga-compensations:
StateA,StateB` (on the Resource, as a tag, or on the Component that names the machine) lists them;
then exactly those are. Tag values may not hold commas, so the list may be separated by spaces too.

`meridian.io/saga-stuck-after: 15m` (s, m, h or d) overrides SAGA_STUCK_AFTER_SECONDS for one saga.

Nothing here queries the database or AWS: callers pass the annotations and the definition in.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from catalog.annotations import (
    COMPENSATIONS_ANNOTATION,
    SAGA_ANNOTATION,
    STATE_MACHINE_ANNOTATION,
    STUCK_AFTER_ANNOTATION,
    TAGS_ANNOTATION,
)
from portal.aws.arns import Arn, parse_arn

# The naming rule. The same prefix as the demo estate's (sandbox.estate.COMPENSATION_PREFIX); the portal
# does not import the sandbox, which is only one of the AWSes it may talk to.
COMPENSATION_PREFIX = "Compensate"
_COMMENT = re.compile(r"^\s*Compensation for\s+([^\s,;:()]+)", re.IGNORECASE)
_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})
_SEPARATORS = re.compile(r"[,\s]+")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def split_list(value) -> tuple[str, ...]:
    """ "A,B" or "A B" -> ("A", "B"), without empties or repeats, in order."""
    seen: dict[str, None] = {}
    for item in _SEPARATORS.split(str(value or "")):
        if item:
            seen.setdefault(item, None)
    return tuple(seen)


def parse_tags(value) -> dict[str, str]:
    """The `meridian.io/aws-tags` annotation ("k=v,k2=v2") back into a dict."""
    tags = {}
    for item in str(value or "").split(","):
        key, sep, val = item.partition("=")
        if sep and key.strip():
            tags[key.strip()] = val.strip()
    return tags


def parse_duration(value) -> timedelta | None:
    """ "90s", "15m", "2h", "1d" -> a timedelta; None for anything else."""
    found = _DURATION.match(str(value or ""))
    if not found or int(found.group(1)) == 0:
        return None
    return timedelta(**{_UNITS[found.group(2).lower()]: int(found.group(1))})


def state_machine_arn(arn) -> Arn | None:
    """The parts of a state machine's ARN (arn:aws:states:<region>:<account>:stateMachine:<name>); None for
    anything else (an execution's ARN, a Lambda function's, a name)."""
    parsed = parse_arn(str(arn))
    if parsed is None or (parsed.service, parsed.resource_type) != ("states", "stateMachine") or not parsed.resource_id:
        return None
    return parsed


def state_machine_name(arn: str) -> str:
    """arn:aws:states:eu-west-1:123456789012:stateMachine:order-saga -> order-saga (a version's or alias's ARN,
    ...:order-saga:3, names its state machine too)."""
    parsed = state_machine_arn(arn)
    return parsed.resource_id.split(":", 1)[0] if parsed else ""


def has_sagas_tab(entity) -> bool:
    """Whether an entity page has the Sagas tab, from the entity row alone (the tab bar is drawn on every tab):
    state-machine Resources, and Components that name a saga or are tagged step-functions."""
    if entity.kind_key == "resource":
        return entity.spec_type == "state-machine"
    if entity.kind_key != "component":
        return False
    return STATE_MACHINE_ANNOTATION in entity.annotations or "step-functions" in entity.tags


def has_saga_alerts(entity) -> bool:
    """Whether an entity can have saga alerts (they hang off Components and state-machine Resources), from the
    row alone: other entity pages spend no query on them."""
    return entity.kind_key == "component" or (entity.kind_key, entity.spec_type) == ("resource", "state-machine")


# --- marking: is this state machine a saga? -----------------------------------------------------------------


@dataclass(frozen=True)
class Marking:
    """What the catalog says about one state machine; `saga` None means "let the naming rule decide"."""

    saga: bool | None = None
    reason: str = ""
    compensations: tuple[str, ...] | None = None  # an explicit list overrides the naming rule
    compensations_source: str = ""
    stuck_after: timedelta | None = None


def _flag(value) -> bool | None:
    text = str(value).strip().lower() if value is not None else ""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def names_state_machine(component_annotations: Mapping, *, arn: str) -> bool:
    """Does this Component's `meridian.io/saga-state-machine` name the state machine (by name or ARN)?"""
    wanted = split_list(component_annotations.get(STATE_MACHINE_ANNOTATION))
    return arn in wanted or (bool(state_machine_name(arn)) and state_machine_name(arn) in wanted)


def marking(
    *,
    arn: str,
    resource_annotations: Mapping | None = None,
    components: Iterable[tuple[str, Mapping]] = (),
) -> Marking:
    """The catalog's word on the state machine `arn`.

    `resource_annotations`: its Resource entity's annotations (None without one); `components`:
    (ref, annotations) of the Components it is linked to or that name it.
    """
    annotations = dict(resource_annotations or {})
    tags = parse_tags(annotations.get(TAGS_ANNOTATION))
    sources: list[tuple[str, Mapping]] = [
        ("the Resource's annotation", annotations),
        ("the state machine's AWS tag", tags),
    ]
    naming = [(ref, values) for ref, values in components if names_state_machine(values, arn=arn)]
    saga, reason = None, ""
    for label, values in sources:
        flag = _flag(values.get(SAGA_ANNOTATION))
        if flag is not None:
            saga, reason = flag, f"{label} {SAGA_ANNOTATION}: {str(values.get(SAGA_ANNOTATION)).strip()}"
            break
    if saga is None and naming:
        saga, reason = True, f"{naming[0][0]} names it in {STATE_MACHINE_ANNOTATION}"
    sources += [(f"{ref}'s annotation", values) for ref, values in naming]
    compensations, compensations_source = None, ""
    for label, values in sources:
        listed = split_list(values.get(COMPENSATIONS_ANNOTATION))
        if listed:
            compensations, compensations_source = listed, f"{label} {COMPENSATIONS_ANNOTATION}"
            break
    stuck_after = next(
        (d for _, values in sources if (d := parse_duration(values.get(STUCK_AFTER_ANNOTATION))) is not None), None
    )
    return Marking(
        saga=saga,
        reason=reason,
        compensations=compensations,
        compensations_source=compensations_source,
        stuck_after=stuck_after,
    )


# --- the definition: its states, and which are compensations -----------------------------------------------


@dataclass(frozen=True)
class DefinedState:
    name: str
    type: str
    comment: str = ""


def defined_states(definition: Mapping) -> list[DefinedState]:
    """Every state of an Amazon States Language definition, those inside Parallel branches and Maps too."""
    found: list[DefinedState] = []

    def walk(machine) -> None:
        if not isinstance(machine, Mapping):
            return
        for name, state in (machine.get("States") or {}).items():
            if not isinstance(state, Mapping):
                continue
            found.append(
                DefinedState(name=str(name), type=str(state.get("Type", "")), comment=str(state.get("Comment") or ""))
            )
            for branch in state.get("Branches") or []:
                walk(branch)
            walk(state.get("ItemProcessor") or state.get("Iterator"))

    walk(definition)
    return found


@dataclass(frozen=True)
class Compensations:
    """Which states are compensations, and the forward step each undoes ("" when nobody said)."""

    undoes: dict[str, str] = field(default_factory=dict)  # compensation state -> forward step
    source: str = ""  # how they were found, for the page
    explicit: bool = False  # listed by an annotation or tag, not found by the naming rule

    def __contains__(self, state: str) -> bool:
        return state in self.undoes

    def step_of(self, state: str) -> str:
        return self.undoes.get(state, "")

    def __bool__(self) -> bool:
        return bool(self.undoes)


def _by_rule(state: str, comment: str, known: set[str] | None) -> str | None:
    """The forward step `state` undoes by the naming rule, or None when it is not a compensation."""
    if state.startswith(COMPENSATION_PREFIX) and len(state) > len(COMPENSATION_PREFIX):
        step = state[len(COMPENSATION_PREFIX) :]
        if known is None or step in known:
            return step
    found = _COMMENT.match(comment or "")
    if found and (known is None or found.group(1) in known):
        return found.group(1)
    return None


def compensations(states: list[DefinedState] | None, *, explicit: tuple[str, ...] | None = None) -> Compensations:
    """The compensations of a state machine.

    `states`: its defined states (None when the definition is not known yet: the naming rule then
    reads state names alone, as they appear in histories); `explicit`: the annotation's list.
    """
    known = {s.name for s in states} if states is not None else None
    comments = {s.name: s.comment for s in states or []}
    if explicit is not None:
        undoes = {name: _by_rule(name, comments.get(name, ""), None) or "" for name in explicit}
        return Compensations(undoes=undoes, source=f"listed in {COMPENSATIONS_ANNOTATION}", explicit=True)
    if states is None:
        return Compensations(source="naming rule, on state names only: the definition is not read yet")
    undoes = {}
    for state in states:
        step = _by_rule(state.name, state.comment, known)
        if step is not None and step != state.name:
            undoes[state.name] = step
    return Compensations(
        undoes=undoes, source=f'naming rule: {COMPENSATION_PREFIX}<Step>, or a Comment "Compensation for <Step>"'
    )


def compensation_of(state: str, rule: Compensations, *, definition_known: bool) -> str | None:
    """The step `state` undoes, or None when it is not a compensation.

    Without the definition, a state is judged by its name alone (the prefix rule); with it, only
    the states `rule` lists are compensations.
    """
    if state in rule:
        return rule.step_of(state)
    if not definition_known and not rule.explicit:
        return _by_rule(state, "", None)
    return None


@dataclass(frozen=True)
class Decision:
    saga: bool
    reason: str
    compensations: Compensations


def decide(mark: Marking, states: list[DefinedState] | None) -> Decision:
    """Saga or not, why, and its compensations, from the catalog's marking and the definition (if read)."""
    found = compensations(states, explicit=mark.compensations)
    if mark.saga is not None:
        return Decision(saga=mark.saga, reason=mark.reason, compensations=found)
    if states is None:
        return Decision(saga=False, reason="not decided yet: the definition has not been read", compensations=found)
    if found:
        (state, step), more = next(iter(found.undoes.items())), len(found.undoes) - 1
        # Pages show the reason inside parentheses ("A saga (...)"), so it has none of its own.
        others = f", and {more} more compensation{'s' if more > 1 else ''}" if more else ""
        return Decision(saga=True, reason=f"naming rule: {state} undoes {step}{others}", compensations=found)
    return Decision(
        saga=False,
        reason=f"no state follows the naming rule and nothing marks it ({SAGA_ANNOTATION})",
        compensations=found,
    )
