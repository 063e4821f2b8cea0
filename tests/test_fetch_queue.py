"""Holding received fetch messages back (SQS ChangeMessageVisibilityBatch): what it does when SQS says no."""

from __future__ import annotations

import logging
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from moto import mock_aws
from vidstats.ingestion.fetch_queue import SqsFetchQueue


@mock_aws
def test_a_refused_hold_is_logged_and_the_others_are_held(caplog: pytest.LogCaptureFixture) -> None:
    sqs = boto3.client("sqs", region_name="eu-west-1")
    url = sqs.create_queue(QueueName="fetch", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    handles = {m["ReceiptHandle"]: 3600 for m in received}
    handles["not-a-receipt-handle"] = 3600

    with caplog.at_level(logging.WARNING, logger="vidstats.ingestion.fetch_queue"):
        held = SqsFetchQueue(sqs, url).hold(handles)

    assert held == 2
    assert "could not hold back a message" in caplog.text
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []  # both held


def test_an_sqs_error_while_holding_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    class Unreachable:
        def change_message_visibility_batch(self, **_: Any) -> dict[str, Any]:
            raise ConnectionError("sqs unreachable")

    with caplog.at_level(logging.WARNING, logger="vidstats.ingestion.fetch_queue"):
        held = SqsFetchQueue(Unreachable(), "https://sqs.invalid/fetch").hold({f"rh-{i}": 60 for i in range(12)})

    assert held == 0
    assert caplog.text.count("could not hold back") == 2  # two calls of at most 10 entries, both failed
