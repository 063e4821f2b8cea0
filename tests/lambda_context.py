"""The Lambda context handlers receive in tests: the local stack's own, with test defaults."""

from __future__ import annotations

from typing import Any

from vidstats.local.lambda_context import LocalLambdaContext


def FakeLambdaContext(function_name: str = "test-function", timeout_s: float = 300.0, **kwargs: Any  # noqa: N802
                      ) -> LocalLambdaContext:
    return LocalLambdaContext(function_name=function_name, timeout_s=timeout_s, **kwargs)
