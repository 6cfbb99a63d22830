"""The X-Ray filter expression language (GetTraceSummaries' FilterExpression): a recursive-descent parser.

The subset the sandbox answers, with X-Ray's meaning (keywords and operators are case-insensitive,
values are not):

    expression := or
    or         := and ( OR and )*
    and        := unary ( AND unary )*
    unary      := ( NOT | "!" ) unary | "(" expression ")" | predicate
    predicate  := ok | error | fault | throttle | partial          [ ( "=" | "!=" ) ( true | false ) ]
                | ( duration | responsetime | http.status ) ( = | != | < | <= | > | >= ) number
                | ( http.url | http.method | http.useragent | http.clientip | user )
                      ( = | != | CONTAINS | BEGINSWITH | ENDSWITH ) "string"
                | annotation.KEY | annotation[KEY]               [ operator value ]
                | service( [ target ] )                          [ "{" call-expression "}" ]
                | edge( target , target )                        [ "{" call-expression "}" ]
    target     := "name" | id( name: "name" [, type: "AWS::..."] )

- `ok`, `error`, `fault` are the root segment's status (what the client got back), `throttle`
  whether any segment or subsegment was throttled, `partial` whether a segment is still in
  progress; `duration` and `responsetime` are the trace's, in seconds; `http.*` the root's request.
- Inside `{...}` after service() or edge(), `ok`, `error` (any 4xx, 429 included), `fault`,
  `throttle`, `responsetime` (and `duration`, the same for one call) apply to one call answered
  by that service or made over that edge; the predicate holds when any such call matches.
  Without braces, service() holds when the service (or node X-Ray inferred) is in the trace.
- annotation.KEY compares with the trace's annotation values of the literal's type: `=` holds
  when any value equals, `!=` when the trace has the annotation and no value equals; a bare
  annotation.KEY holds when a value is boolean true.

A malformed expression raises `FilterError`, which the API answers as X-Ray does: an
InvalidRequestException naming the problem and where it is.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .traces import ERROR, FAULT, OK, THROTTLE, Call, Node, TraceRecord


class FilterError(ValueError):
    def __init__(self, text: str, problem: str, position: int):
        self.problem = problem
        self.position = position
        super().__init__(f'Invalid filter expression "{text}": {problem} at character {position + 1}.')


# --- tokens ---------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>-?(?:\d+(?:\.\d*)?|\.\d+))
  | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<operator>!=|<=|>=|=|<|>)
  | (?P<punct>[!(){}\[\],:])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # number, word, string, operator, punct, end
    text: str
    position: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words

    def describe(self) -> str:
        return "the end of the expression" if self.kind == "end" else f"'{self.text}'"


def tokenize(text: str) -> list[Token]:
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            if text[position] in "\"'":
                raise FilterError(text, "unterminated string", position)
            raise FilterError(text, f"unexpected character '{text[position]}'", position)
        if match.lastgroup != "space":
            tokens.append(Token(match.lastgroup or "", match.group(), position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# --- what expressions evaluate against -------------------------------------------

Subject = Any  # a TraceRecord at the top level, a Call inside service(){...} / edge(){...}
Predicate = Callable[[Subject], bool]


def _root_http(trace: TraceRecord, part: str, field: str) -> Any:
    section = trace.http.get(part) if isinstance(trace.http, dict) else None
    return section.get(field) if isinstance(section, dict) else None


def _status(trace: TraceRecord) -> int | None:
    value = _root_http(trace, "response", "status")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


TRACE_FLAGS: dict[str, Callable[[TraceRecord], bool]] = {
    "ok": lambda t: t.root_status == OK,
    "error": lambda t: t.has_error,
    "fault": lambda t: t.has_fault,
    "throttle": lambda t: t.has_throttle,
    "partial": lambda t: t.partial,
}
CALL_FLAGS: dict[str, Callable[[Call], bool]] = {
    "ok": lambda c: c.status == OK,
    "error": lambda c: c.status in (ERROR, THROTTLE),
    "fault": lambda c: c.status == FAULT,
    "throttle": lambda c: c.status == THROTTLE,
}
TRACE_NUMBERS: dict[str, Callable[[TraceRecord], float | None]] = {
    "duration": lambda t: t.duration,
    "responsetime": lambda t: t.response_time,
    "http.status": _status,
}
CALL_NUMBERS: dict[str, Callable[[Call], float | None]] = {
    "duration": lambda c: c.value,
    "responsetime": lambda c: c.value,
}
# String keywords read every value the trace has for them (a trace can have several users).
TRACE_STRINGS: dict[str, Callable[[TraceRecord], tuple[Any, ...]]] = {
    "http.url": lambda t: (_root_http(t, "request", "url"),),
    "http.method": lambda t: (_root_http(t, "request", "method"),),
    "http.useragent": lambda t: (_root_http(t, "request", "user_agent"),),
    "http.clientip": lambda t: (_root_http(t, "request", "client_ip"),),
    "user": lambda t: tuple(t.users),
}
NUMBER_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
STRING_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "contains": lambda value, part: part in value,
    "beginswith": str.startswith,
    "endswith": str.endswith,
}
ALL_KEYWORDS = sorted({*TRACE_FLAGS, *TRACE_NUMBERS, *TRACE_STRINGS, "annotation", "service", "edge"})


@dataclass(frozen=True)
class NodeSelector:
    name: str | None = None
    type: str | None = None

    def __call__(self, node: Node | None) -> bool:
        return (
            node is not None
            and (self.name is None or node.name == self.name)
            and (self.type is None or node.type == self.type)
        )


# --- the parser ------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.at = 0
        self.scope = "trace"  # "call" inside service(){...} / edge(){...}

    # helpers
    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def advance(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def fail(self, problem: str, token: Token | None = None) -> FilterError:
        return FilterError(self.text, problem, (token or self.token).position)

    def expect(self, kind: str, text: str, what: str) -> Token:
        if self.token.kind == kind and self.token.text == text:
            return self.advance()
        raise self.fail(f"expected {what}, found {self.token.describe()}")

    # grammar
    def parse(self) -> Predicate:
        if self.token.kind == "end":
            raise self.fail("the expression is empty")
        expression = self.disjunction()
        if self.token.kind != "end":
            raise self.fail(f"unexpected {self.token.describe()}")
        return expression

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self.token.is_word("or"):
            self.advance()
            parts.append(self.conjunction())
        if len(parts) == 1:
            return parts[0]
        return lambda subject: any(part(subject) for part in parts)

    def conjunction(self) -> Predicate:
        parts = [self.unary()]
        while self.token.is_word("and"):
            self.advance()
            parts.append(self.unary())
        if len(parts) == 1:
            return parts[0]
        return lambda subject: all(part(subject) for part in parts)

    def unary(self) -> Predicate:
        if self.token.is_word("not") or (self.token.kind == "punct" and self.token.text == "!"):
            self.advance()
            inner = self.unary()
            return lambda subject: not inner(subject)
        if self.token.kind == "punct" and self.token.text == "(":
            opening = self.advance()
            inner = self.disjunction()
            if not (self.token.kind == "punct" and self.token.text == ")"):
                raise self.fail(
                    f"expected ')' to close the '(' at character {opening.position + 1}, found {self.token.describe()}"
                )
            self.advance()
            return inner
        return self.predicate()

    def predicate(self) -> Predicate:
        token = self.token
        word = token.text.lower()
        if token.kind != "word" or word in ("and", "or", "true", "false", *STRING_OPERATORS):
            raise self.fail(f"expected a keyword, found {token.describe()}")
        flags, numbers = (TRACE_FLAGS, TRACE_NUMBERS) if self.scope == "trace" else (CALL_FLAGS, CALL_NUMBERS)
        strings = TRACE_STRINGS if self.scope == "trace" else {}
        if word in flags:
            self.advance()
            return self.flag(word, flags[word])
        if word in numbers:
            self.advance()
            return self.number(word, numbers[word])
        if word in strings:
            self.advance()
            return self.string(word, strings[word])
        if self.scope == "call":
            allowed = ", ".join(sorted({*CALL_FLAGS, *CALL_NUMBERS}))
            raise self.fail(f"'{token.text}' cannot be used inside {{...}} of service() or edge() (use {allowed})")
        if word == "service":
            self.advance()
            return self.service()
        if word == "edge":
            self.advance()
            return self.edge()
        if word == "annotation" or word.startswith("annotation."):
            self.advance()
            return self.annotation(token)
        raise self.fail(f"unknown keyword '{token.text}' (expected one of {', '.join(ALL_KEYWORDS)})", token)

    def flag(self, word: str, read: Callable[[Subject], bool]) -> Predicate:
        if self.token.kind == "operator" and self.token.text in ("=", "!="):
            negate = self.advance().text == "!="
            value = self.token
            if not value.is_word("true", "false"):
                raise self.fail(f"'{word}' compares with true or false, found {value.describe()}")
            self.advance()
            expected = value.text.lower() == "true"
            if negate:
                expected = not expected
            return lambda subject: read(subject) is expected
        if self.token.kind == "operator":
            raise self.fail(f"operator '{self.token.text}' does not apply to the boolean keyword '{word}'")
        return lambda subject: bool(read(subject))

    def _operator(self, word: str, allowed: dict[str, Any], kind: str) -> str:
        token = self.token
        name = token.text.lower()
        if token.kind in ("operator", "word") and name in allowed:
            self.advance()
            return name
        if token.kind == "operator" or token.is_word(*STRING_OPERATORS):
            raise self.fail(f"operator '{token.text}' does not apply to the {kind} keyword '{word}'")
        raise self.fail(f"expected an operator after '{word}', found {token.describe()}")

    def number(self, word: str, read: Callable[[Subject], float | None]) -> Predicate:
        compare = NUMBER_OPERATORS[self._operator(word, NUMBER_OPERATORS, "number")]
        value = self.token
        if value.kind != "number":
            raise self.fail(f"'{word}' compares with a number, found {value.describe()}")
        self.advance()
        limit = float(value.text)

        def matches(subject: Subject) -> bool:
            found = read(subject)
            return found is not None and compare(found, limit)

        return matches

    def string(self, word: str, read: Callable[[Subject], tuple[Any, ...]]) -> Predicate:
        op = self._operator(word, STRING_OPERATORS, "string")
        value = self.token
        if value.kind != "string":
            raise self.fail(f"'{word}' compares with a quoted string, found {value.describe()}")
        self.advance()
        literal = _unquote(value.text)
        if op == "!=":
            # The trace has a value for the keyword and none of its values is the literal.
            return lambda subject: any(isinstance(v, str) for v in read(subject)) and literal not in read(subject)
        compare = STRING_OPERATORS[op]
        return lambda subject: any(isinstance(v, str) and compare(v, literal) for v in read(subject))

    def target(self, what: str) -> NodeSelector:
        token = self.token
        if token.kind == "string":
            self.advance()
            return NodeSelector(name=_unquote(token.text))
        if token.is_word("id"):
            self.advance()
            self.expect("punct", "(", "'(' after id")
            fields: dict[str, str] = {}
            while True:
                field = self.token
                if not field.is_word("name", "type"):
                    raise self.fail(f"id() takes name: and type:, found {field.describe()}")
                self.advance()
                self.expect("punct", ":", f"':' after '{field.text}'")
                value = self.token
                if value.kind != "string":
                    raise self.fail(f"id() {field.text} is a quoted string, found {value.describe()}")
                self.advance()
                fields[field.text.lower()] = _unquote(value.text)
                if self.token.kind == "punct" and self.token.text == ",":
                    self.advance()
                    continue
                break
            self.expect("punct", ")", "')' to close id(")
            return NodeSelector(name=fields.get("name"), type=fields.get("type"))
        raise self.fail(f'expected {what} as "name" or id(name: "...", type: "..."), found {token.describe()}')

    def call_filter(self) -> Predicate | None:
        if not (self.token.kind == "punct" and self.token.text == "{"):
            return None
        opening = self.advance()
        self.scope = "call"
        try:
            inner = self.disjunction()
        finally:
            self.scope = "trace"
        if not (self.token.kind == "punct" and self.token.text == "}"):
            raise self.fail(
                f"expected '}}' to close the '{{' at character {opening.position + 1}, found {self.token.describe()}"
            )
        self.advance()
        return inner

    def service(self) -> Predicate:
        self.expect("punct", "(", "'(' after service")
        selector = NodeSelector()
        if not (self.token.kind == "punct" and self.token.text == ")"):
            selector = self.target("a service")
        self.expect("punct", ")", "')' to close service(")
        inner = self.call_filter()
        if inner is None:
            return lambda trace: any(selector(node) for node in trace.nodes)
        return lambda trace: any(selector(call.callee) and inner(call) for call in trace.calls)

    def edge(self) -> Predicate:
        self.expect("punct", "(", "'(' after edge")
        source = self.target("the source service")
        self.expect("punct", ",", "',' between the two services of edge()")
        destination = self.target("the destination service")
        self.expect("punct", ")", "')' to close edge(")
        inner = self.call_filter() or (lambda call: True)
        return lambda trace: any(
            source(call.caller) and destination(call.callee) and inner(call) for call in trace.calls
        )

    def annotation(self, token: Token) -> Predicate:
        if token.text.lower() == "annotation":
            self.expect("punct", "[", "'[' or '.' after annotation")
            key_token = self.token
            if key_token.kind not in ("word", "string", "number"):
                raise self.fail(f"expected an annotation key, found {key_token.describe()}")
            self.advance()
            key = _unquote(key_token.text) if key_token.kind == "string" else key_token.text
            self.expect("punct", "]", "']' after the annotation key")
        else:
            key = token.text.split(".", 1)[1]
            if not key or "." in key:
                raise self.fail(f"'{token.text}' is not an annotation key (letters, digits and _)", token)

        def values(trace: TraceRecord) -> list[Any]:
            return [value for value, _ in trace.annotations.get(key, ())]

        op_token = self.token
        op = op_token.text.lower()
        if not (op_token.kind == "operator" or op_token.is_word(*STRING_OPERATORS)):
            return lambda trace: any(value is True for value in values(trace))
        self.advance()
        literal_token = self.token
        if literal_token.kind == "string":
            literal: Any = _unquote(literal_token.text)
            kind, allowed = "string", STRING_OPERATORS
        elif literal_token.kind == "number":
            literal = float(literal_token.text)
            kind, allowed = "number", NUMBER_OPERATORS
        elif literal_token.is_word("true", "false"):
            literal = literal_token.text.lower() == "true"
            kind, allowed = "boolean", {"=": operator.eq, "!=": operator.ne}
        else:
            raise self.fail(
                f"annotation.{key} compares with a string, number or boolean, found {literal_token.describe()}"
            )
        if op not in allowed:
            raise self.fail(f"operator '{op_token.text}' does not apply to a {kind} annotation value", op_token)
        self.advance()
        compare = allowed[op]

        def same_kind(value: Any) -> bool:
            if kind == "boolean":
                return isinstance(value, bool)
            if kind == "number":
                return isinstance(value, int | float) and not isinstance(value, bool)
            return isinstance(value, str)

        if op == "!=":
            return lambda trace: bool(values(trace)) and not any(same_kind(v) and v == literal for v in values(trace))
        return lambda trace: any(same_kind(v) and compare(v, literal) for v in values(trace))


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def parse(text: str) -> Predicate:
    """A predicate over TraceRecords for a filter expression; raises FilterError when it is malformed."""
    return _Parser(text).parse()
