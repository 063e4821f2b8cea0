"""Splits a SQL file into statements by the Supabase CLI's rules (its pkg/parser state machine).

The CLI stores the statements of every applied migration in its history table; to record them identically
we must cut them identically, including its quirks: comments before a statement belong to it, a trailing
comment is a statement of its own, semicolons inside parentheses or a BEGIN ATOMIC body do not split.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class _State:
    def next(self, char: str, token: str) -> _State | None:
        """The state after ``char``; ``token`` already ends with it. None means: emit the token."""
        raise NotImplementedError


class _Ready(_State):
    def next(self, char: str, token: str) -> _State | None:
        if char == "$":
            return _Tag(offset=len(token) - 1)
        if char in ("'", '"'):
            return _Quote(delimiter=char)
        if char == "-":
            return _Comment()
        if char == "/":
            return _Block()
        if char == "\\":
            return _Escape()
        if char == ";":
            return None
        if char == "(":
            return _Atomic(previous=self, delimiter=")")
        if char in ("c", "C"):
            offset = len(token) - len("ATOMIC")
            if offset > 0 and token[offset:].upper() == "ATOMIC" and token[offset - 1].isspace():
                return _Atomic(previous=self, delimiter="END")
        return self


class _Comment(_State):
    """After one '-': a second one opens a line comment, which ends at the newline."""

    def next(self, char: str, token: str) -> _State | None:
        if char == "-":
            return _Dollar(delimiter="\n")
        return _Ready().next(char, token)


@dataclass
class _Block(_State):
    depth: int = 0

    def next(self, char: str, token: str) -> _State | None:
        window = token[-2:]
        if window == "/*":
            self.depth += 1
            return self
        if self.depth == 0:
            return _Ready().next(char, token)
        if window == "*/":
            self.depth -= 1
            if self.depth == 0:
                return _Ready()
        return self


@dataclass
class _Quote(_State):
    delimiter: str
    escape: bool = False

    def next(self, char: str, token: str) -> _State | None:
        if self.escape:
            if char == self.delimiter:  # a doubled quote stays inside the literal
                self.escape = False
                return self
            return _Ready().next(char, token)
        if char == self.delimiter:
            self.escape = True
        return self


@dataclass
class _Dollar(_State):
    delimiter: str

    def next(self, char: str, token: str) -> _State | None:
        if token.endswith(self.delimiter):
            return _Ready()
        return self


@dataclass
class _Tag(_State):
    offset: int

    def next(self, char: str, token: str) -> _State | None:
        if char == "$":
            return _Dollar(delimiter=token[self.offset:])
        if char.isalpha() or char.isdigit() or char == "_":
            return self
        return _Ready().next(char, token)


class _Escape(_State):
    def next(self, char: str, token: str) -> _State | None:
        return _Ready()


@dataclass
class _Atomic(_State):
    previous: _State
    delimiter: str = field(default=")")

    def next(self, char: str, token: str) -> _State | None:
        current = self.previous.next(char, token)
        if current is not None:
            self.previous = current
        if isinstance(self.previous, _Ready) and token[-len(self.delimiter):].upper() == self.delimiter.upper():
            return _Ready()
        return self


def split(sql: str) -> list[str]:
    """Raw tokens: each statement with its terminating ';' and everything before it."""
    tokens: list[str] = []
    state: _State = _Ready()
    start = 0
    for index, char in enumerate(sql):
        token = sql[start:index + 1]
        next_state = state.next(char, token)
        if next_state is None:
            tokens.append(token)
            start = index + 1
            state = _Ready()
        else:
            state = next_state
    if start < len(sql):
        tokens.append(sql[start:])
    return tokens


def split_and_trim(sql: str) -> list[str]:
    """The CLI's SplitAndTrim: trailing semicolons and surrounding whitespace removed, empty ones dropped."""
    statements = (token.rstrip(";").strip() for token in split(sql))
    return [statement for statement in statements if statement]
