"""The bodies of fetch-queue messages: versioned, validated, one model per kind.

Every body carries ``version`` and ``kind``. A new incompatible shape gets a new version (the processor then
accepts both for as long as old messages may sit in the queue: 4 days plus the dead-letter queue).
``request_id`` is chosen by the producer and is the idempotency key: an SQS redelivery (same body) and a
producer retry (same request id) are recognised as the same work.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from vidstats.platforms import Platform

# One message is one unit of retry; the YouTube provider fetches up to 50 ids per call.
MAX_VIDEOS_PER_MESSAGE = 100


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    request_id: UUID


class VideoRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    video_id: UUID
    platform: Platform
    external_video_id: Annotated[str, Field(min_length=1, max_length=200)]


class FetchVideosMessage(_Message):
    """Fetch the counters of these (already tracked) videos and append one snapshot each."""

    kind: Literal["fetch_videos"]
    reason: Literal["start_tracking", "nightly", "blogger_batch", "manual"] = "manual"
    videos: Annotated[list[VideoRef], Field(min_length=1, max_length=MAX_VIDEOS_PER_MESSAGE)]

    @field_validator("videos")
    @classmethod
    def _no_repeats(cls, videos: list[VideoRef]) -> list[VideoRef]:
        ids = [v.video_id for v in videos]
        if len(set(ids)) != len(ids):
            raise ValueError("a video appears twice in one message")
        return videos


class FetchCreatorMessage(_Message):
    """List a creator's recent videos, upsert them and their blogger, snapshot those the listing counts."""

    kind: Literal["fetch_creator"]
    platform: Platform
    # TikTok handle, Instagram username (or numeric user id), YouTube channel id or @handle.
    creator: Annotated[str, Field(min_length=1, max_length=200)]
    limit: Annotated[int, Field(ge=1, le=500)] = 30
    campaign_id: UUID | None = None
    # The workspace whose batch this is (None: sent before workspaces; the batch row, else the default one).
    workspace_id: UUID | None = None


FetchMessage = Annotated[FetchVideosMessage | FetchCreatorMessage, Field(discriminator="kind")]
_ADAPTER: TypeAdapter[FetchVideosMessage | FetchCreatorMessage] = TypeAdapter(FetchMessage)

SUPPORTED_VERSIONS = (1,)


class MalformedMessageError(ValueError):
    """A body that is not a message this processor understands. Retrying cannot help."""


def parse_message(body: str | bytes) -> FetchVideosMessage | FetchCreatorMessage:
    try:
        return _ADAPTER.validate_json(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(body)'}: {err['msg']}"
            for err in exc.errors(include_input=False)[:5]
        )
        raise MalformedMessageError(
            f"malformed fetch message ({problems}); supported versions {SUPPORTED_VERSIONS}, "
            "kinds fetch_videos, fetch_creator"
        ) from None


def dump_message(message: FetchVideosMessage | FetchCreatorMessage) -> str:
    return message.model_dump_json(exclude_none=True)
