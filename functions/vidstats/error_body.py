"""The one error body of every HTTP API, apart from the HTTP layer: the models (and the functions that only
need their shapes, such as mv_refresh through the page-view models) import it without Powertools' event handler."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FieldProblem(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    field: str = Field(description="Where: `query.limit`, `body.ends_at`, `path.video_id`, `header.content-type` ...")
    message: str = Field(description="What is wrong, for a person")


class ErrorBody(BaseModel):
    """Every error of every route: the HTTP status, a title, and what is wrong where."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "status": 422, "title": "Validation failed",
        "errors": [{"field": "query.limit", "message": "Input should be less than or equal to 200"}]}]})

    status: int
    title: str
    errors: list[FieldProblem]
