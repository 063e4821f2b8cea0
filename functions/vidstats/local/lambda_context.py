"""The context object a locally invoked handler receives (what Powertools and the handlers read from it)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

LOCAL_ACCOUNT = "123456789012"  # moto's default account


@dataclass
class LocalLambdaContext:
    function_name: str
    timeout_s: float
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    region: str = "us-east-1"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "local"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{LOCAL_ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """Counts down from the function's template timeout, as Lambda's does (not enforced locally)."""
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))
