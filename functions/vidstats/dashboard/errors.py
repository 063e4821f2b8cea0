"""Errors the domain raises; the API turns each into its HTTP status with a JSON body naming the field."""

from __future__ import annotations


class ApiError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, field: str, message: str, more: list[tuple[str, str]] | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.more = more or []  # further (field, message) problems of the same request


class BadRequestError(ApiError):
    status = 400
    title = "Bad request"


class NotFoundError(ApiError):
    status = 404
    title = "Not found"


class ConflictError(ApiError):
    status = 409
    title = "Conflict"
