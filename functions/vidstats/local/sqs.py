"""A local SQS endpoint: moto's server on 127.0.0.1, with the queues, DLQ and redrive template.yaml declares."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from vidstats.local.template import LocalTemplate, QueueSpec

log = logging.getLogger(__name__)

LOCAL_REGION = "us-east-1"
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}  # moto accepts any


@dataclass(frozen=True)
class LocalQueue:
    logical_id: str
    name: str
    url: str
    arn: str
    spec: QueueSpec


def _reset_sqs_backend() -> None:
    from moto.backends import get_backend

    get_backend("sqs").reset()


class LocalSqs:
    """moto in server mode on a thread; ``endpoint_url`` is what boto3 clients (and the handlers) talk to."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, region: str = LOCAL_REGION,
                 name_prefix: str = "vidstats-") -> None:
        self._host = host
        self.region = region
        self._port = port
        self._prefix = name_prefix
        self._server: Any = None
        self.queues: dict[str, LocalQueue] = {}

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        _reset_sqs_backend()  # moto keeps its state per process: a new local SQS starts empty, as a server does
        self._server = ThreadedMotoServer(ip_address=self._host, port=self._port, verbose=False)
        self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
            _reset_sqs_backend()

    def client(self) -> Any:
        import boto3  # type: ignore[import-untyped]

        return boto3.client("sqs", endpoint_url=self.endpoint_url, region_name=self.region,
                            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])

    def create_queues(self, template: LocalTemplate) -> dict[str, LocalQueue]:
        """Every AWS::SQS::Queue of the template; dead-letter targets first, so a redrive policy can name them."""
        client = self.client()
        pending = dict(template.queues)
        while pending:
            ready = [q for q in pending.values() if q.dead_letter_target is None or q.dead_letter_target in self.queues]
            if not ready:
                raise ValueError(f"queues with an unknown dead-letter target: {', '.join(pending)}")
            for spec in ready:
                attributes = {"VisibilityTimeout": str(spec.visibility_timeout_s),
                              "MessageRetentionPeriod": str(spec.retention_s)}
                if spec.dead_letter_target is not None:
                    attributes["RedrivePolicy"] = json.dumps({
                        "deadLetterTargetArn": self.queues[spec.dead_letter_target].arn,
                        "maxReceiveCount": spec.max_receive_count or 10,
                    })
                name = self._prefix + spec.logical_id
                url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
                arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                self.queues[spec.logical_id] = LocalQueue(spec.logical_id, name, url, arn, spec)
                del pending[spec.logical_id]
        return self.queues

    def depth(self, logical_id: str) -> dict[str, int]:
        attrs = self.client().get_queue_attributes(
            QueueUrl=self.queues[logical_id].url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return {"visible": int(attrs.get("ApproximateNumberOfMessages", 0)),
                "in_flight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))}
