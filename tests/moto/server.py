#!/usr/bin/env python3
"""moto server on loopback, with a bridge for the CloudWatch protocol of the AWS SDK for Rust.

aws-sdk-cloudwatch speaks Smithy RPC v2 CBOR (POST /service/GraniteServiceVersion20100801/
operation/<Op>, CBOR body). moto 5.2.5 serves the same operations in the JSON 1.0 protocol
(POST / with X-Amz-Target). This WSGI middleware converts the request CBOR -> JSON and the
response JSON -> CBOR, timestamps as CBOR tag 1 (epoch seconds, float) both ways.

It is also the test double's strict side: moto is more lenient than AWS, so the rules AWS
documents and moto skips are added in front of it, for every request cutover sends
(elbv2_rules.py for ELBv2; cloudwatch_rules.py for CloudWatch; EcsChecks below for ECS).

Usage: server.py PORT [PARENT_PID]   (prints "ready PORT" once it accepts connections; exits
when PARENT_PID is gone, so a test run never leaves a server behind)
"""
import datetime
import io
import json
import os
import sys
import threading
import urllib.parse
import time

import cbor2
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

import cloudwatch_rules
from ecs_native import EcsNative, ecs_service, json_request, refuse
from elbv2_rules import Elbv2Rules

CBOR_PREFIX = "/service/GraniteServiceVersion20100801/operation/"
TIMESTAMP_KEYS = {"StartTime", "EndTime", "Timestamp", "Timestamps", "StateUpdatedTimestamp",
                  "AlarmConfigurationUpdatedTimestamp", "StateTransitionedTimestamp",
                  "LastModified", "CreationDate", "LastUpdateDate", "ScanBy", "StartDate",
                  "EndDate"}


def to_json_value(value):
    """CBOR-decoded request values -> JSON 1.0 values (datetimes become epoch seconds)."""
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, cbor2.CBORTag) and value.tag == 1:
        return float(value.value)
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_value(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        import base64
        return base64.b64encode(value).decode()
    return value


def without_percentiles(request):
    """moto 5.2.5 cannot compute percentile statistics: GetMetricData with "p99" fails inside
    moto (500, a None it cannot serialise). Ask moto for Maximum instead; the request cutover
    sent, and how it reads the answer, stay as they are. Real CloudWatch computes p99."""
    for query in request.get("MetricDataQueries", []):
        stat = query.get("MetricStat", {})
        if str(stat.get("Stat", "")).startswith("p"):
            stat["Stat"] = "Maximum"
    return request


def timestamp_tag(value):
    if isinstance(value, str):
        try:
            seconds = datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return value
    else:
        seconds = float(value)
    return cbor2.CBORTag(1, float(seconds))


def to_cbor_value(value, key=None):
    """JSON 1.0 response values -> CBOR values; timestamp fields become tag 1."""
    if isinstance(value, dict):
        return {k: to_cbor_value(v, k) for k, v in value.items()}
    if isinstance(value, list):
        if key in TIMESTAMP_KEYS:
            return [timestamp_tag(v) for v in value]
        return [to_cbor_value(v) for v in value]
    if key in TIMESTAMP_KEYS and isinstance(value, (int, float, str)):
        return timestamp_tag(value)
    return value


class CborBridge:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/_double/cw-series":
            cloudwatch_rules.set_series_fault(
                dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""))))
            body = b"armed"
            start_response("200 OK", [("Content-Type", "text/plain"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        if not path.startswith(CBOR_PREFIX):
            return self.app(environ, start_response)
        operation = path[len(CBOR_PREFIX):]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        request = to_json_value(cbor2.loads(raw)) if raw else {}
        refused = cloudwatch_rules.problem(operation, request)
        if refused:
            code, message = refused
            out = cbor2.dumps({"__type": code, "message": message})
            start_response("400 Bad Request", [("Content-Type", "application/cbor"),
                                               ("smithy-protocol", "rpc-v2-cbor"),
                                               ("Content-Length", str(len(out)))])
            return [out]
        request = without_percentiles(request)
        insights = []
        asked = list(request.get("MetricDataQueries") or [])
        if operation == "GetMetricData":
            insights = cloudwatch_rules.answer_insights(request)
        if operation == "GetMetricData" and not request["MetricDataQueries"]:
            out = cbor2.dumps({"MetricDataResults": cloudwatch_rules.with_series_faults(insights, asked),
                               "Messages": []})
            start_response("200 OK", [("Content-Type", "application/cbor"),
                                      ("smithy-protocol", "rpc-v2-cbor"),
                                      ("Content-Length", str(len(out)))])
            return [out]
        body = json.dumps(request).encode()
        inner = dict(environ)
        inner["PATH_INFO"] = "/"
        inner["REQUEST_METHOD"] = "POST"
        inner["CONTENT_TYPE"] = "application/x-amz-json-1.0"
        inner["HTTP_X_AMZ_TARGET"] = f"GraniteServiceVersion20100801.{operation}"
        inner["CONTENT_LENGTH"] = str(len(body))
        inner["wsgi.input"] = io.BytesIO(body)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: None

        chunks = self.app(inner, capture)
        payload = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        try:
            document = json.loads(payload) if payload else {}
        except ValueError:
            document = {"__type": "InternalFailure", "message": payload.decode(errors="replace")}
        if operation == "GetMetricData" and "MetricDataResults" in document:
            document["MetricDataResults"] = cloudwatch_rules.with_series_faults(
                document["MetricDataResults"] + insights, asked)
        out = cbor2.dumps(to_cbor_value(document))
        headers = [(k, v) for k, v in captured["headers"]
                   if k.lower() not in ("content-type", "content-length")]
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                    ("Content-Length", str(len(out)))]
        start_response(captured["status"], headers)
        return [out]


class EcsChecks:
    """ECS as it behaves where moto 5.2.5 does not:
    - RegisterTaskDefinition refuses an image reference over 255 characters with a
      ClientException, in ECS's own words;
    - DescribeServices takes at most 10 services a call (InvalidParameterException);
    - ListClusters and ListServices take maxResults 1-100 (InvalidParameterException);
    - UpdateService with another task definition starts a new PRIMARY deployment of it, as
      ECS does (moto keeps the old deployment's revision); moto's tasks start at once, so the
      old deployment is drained at once too;
    - test hook POST /_double/ecs-fail-next-rollout?cluster=C&service=S&failed=N: the next
      UpdateService of that service ends as the deployment circuit breaker with rollback ends
      it: the new deployment ACTIVE and FAILED with N failed tasks, and ECS's rollback a new
      PRIMARY deployment of the previous task definition, which the service runs again;
    - test hook POST /_double/ecs-deny?cluster=C&code=ThrottlingException: every
      DescribeServices of that cluster is answered with that error, until the same hook is
      called with no code;
    - test hook POST /_double/ecs-stale-next-describe?cluster=C&service=S: the first
      DescribeServices after the next UpdateService of that service still shows it as it was
      before (ECS is eventually consistent).
    """

    REGISTER = "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition"
    UPDATE = "AmazonEC2ContainerServiceV20141113.UpdateService"
    DESCRIBE_SERVICES = "AmazonEC2ContainerServiceV20141113.DescribeServices"
    LISTS = ("AmazonEC2ContainerServiceV20141113.ListClusters",
             "AmazonEC2ContainerServiceV20141113.ListServices")

    def __init__(self, app):
        self.app = app
        self.failing = {}
        self.stale_armed = set()
        self.stale_views = {}
        self.denied = {}

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/_double/ecs-deny":
            query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
            if query.get("code"):
                self.denied[query["cluster"]] = query["code"]
            else:
                self.denied.pop(query["cluster"], None)
            body = b"denied"
            start_response("200 OK", [("Content-Type", "text/plain"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        if environ.get("PATH_INFO") == "/_double/ecs-stale-next-describe":
            query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
            self.stale_armed.add((query["cluster"], query["service"]))
            body = b"armed"
            start_response("200 OK", [("Content-Type", "text/plain"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        if environ.get("PATH_INFO") == "/_double/ecs-fail-next-rollout":
            query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
            self.failing[(query["cluster"], query["service"])] = int(query.get("failed", "1"))
            body = b"armed"
            start_response("200 OK", [("Content-Type", "text/plain"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target not in (self.REGISTER, self.UPDATE, self.DESCRIBE_SERVICES) + self.LISTS:
            return self.app(environ, start_response)
        request = json_request(environ)
        if target in self.LISTS:
            size = request.get("maxResults")
            if size is not None and not (isinstance(size, int) and 1 <= size <= 100):
                return refuse(start_response, "InvalidParameterException",
                              f"maxResults {size} is not in 1-100")
            return self.app(environ, start_response)
        if target == self.DESCRIBE_SERVICES:
            if len(request.get("services", [])) > 10:
                return refuse(start_response, "InvalidParameterException",
                              "services can have at most 10 items")
            cluster = request.get("cluster", "default")
            if cluster in self.denied:
                code = self.denied[cluster]
                return refuse(start_response, code, f"injected by the test double: {code}")
            stale = [(key, self.stale_views.pop(key)) for key in
                     [(cluster, name.split("/")[-1]) for name in request.get("services", [])]
                     if key in self.stale_views]
            services = [(ecs_service(environ, key), view) for key, view in stale]
            now = [(svc, (svc.task_definition, svc.deployments)) for svc, _ in services if svc]
            for svc, (definition, deployments) in services:
                if svc:
                    svc.task_definition, svc.deployments = definition, deployments
            try:
                return self.app(environ, start_response)
            finally:
                for svc, (definition, deployments) in now:
                    svc.task_definition, svc.deployments = definition, deployments
        if target == self.REGISTER:
            containers = request.get("containerDefinitions", [])
            if any(len(c.get("image", "")) > 255 for c in containers):
                return refuse(start_response, "ClientException",
                              "Container.image should be 255 characters or less")
            return self.app(environ, start_response)
        key = (request.get("cluster", "default"), request.get("service", "").split("/")[-1])
        service = ecs_service(environ, key)
        previous = service.task_definition if service else None
        before = [dict(d) for d in service.deployments] if service else []
        answer = self.app(environ, start_response)
        if service is None or service.task_definition == previous or not before:
            return answer
        if key in self.stale_armed:
            self.stale_armed.discard(key)
            self.stale_views[key] = (previous, before)
        ours = dict(before[0], id=f"ecs-svc/{abs(hash((key, time.time()))) % 10**12}",
                    taskDefinition=service.task_definition, status="PRIMARY")
        failed = self.failing.pop(key, None)
        if failed is None:
            service.deployments = [ours]
            return answer
        ours.update(status="ACTIVE", rolloutState="FAILED", failedTasks=failed,
                    rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.")
        rollback = dict(before[0], id=f"ecs-svc/{abs(hash((key, 'rollback', time.time()))) % 10**12}",
                        taskDefinition=previous, status="PRIMARY", rolloutState="IN_PROGRESS",
                        rolloutStateReason="ECS deployment circuit breaker: rolling back to "
                                           f"{previous}.")
        service.deployments = [rollback, ours]
        service.task_definition = previous
        return answer


def exit_with_parent(parent):
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


def main():
    port = int(sys.argv[1])
    if len(sys.argv) > 2:
        threading.Thread(target=exit_with_parent, args=(int(sys.argv[2]),), daemon=True).start()
    cloudwatch_rules.install_indexed_metric_data()
    app = Elbv2Rules(EcsChecks(EcsNative(CborBridge(DomainDispatcherApplication(
        create_backend_app)))))
    server = make_server("127.0.0.1", port, app, threaded=True)
    print(f"ready {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
