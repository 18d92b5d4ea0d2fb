"""ECS-native blue/green, linear and canary deployments, which moto 5.2.5 does not have.

What the double keeps and does, each from the ECS API reference (2026):
- CreateService/UpdateService keep `deploymentConfiguration` (moto drops it) and the load
  balancers' `advancedConfiguration`, after the documented validation:
  strategy ROLLING | BLUE_GREEN | LINEAR | CANARY; bakeTimeInMinutes 0-1440;
  linearConfiguration.stepPercent 3.0-100.0 in steps of 0.1, stepBakeTimeInMinutes 0-1440;
  canaryConfiguration.canaryPercent 0.1-100.0, canaryBakeTimeInMinutes 0-1440;
  lifecycleHooks: targetType PAUSE takes no hookTargetArn, cannot be at TEST_TRAFFIC_SHIFT or
  PRODUCTION_TRAFFIC_SHIFT, timeoutConfiguration.timeoutInMinutes 1-20160 (default 1440) and
  action CONTINUE | ROLLBACK (default ROLLBACK) (InvalidParameterException otherwise).
- UpdateService with another task definition on such a service starts a service deployment
  (its ARN `arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/ID`), which walks the
  lifecycle stages on the double's own clock for that service, moved only by the test hook
  POST /_double/ecs-native-advance?cluster=C&service=S&seconds=N: RECONCILE_SERVICE, PRE_SCALE_UP, SCALE_UP,
  POST_SCALE_UP, TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, then for each traffic step
  PRE_PRODUCTION_TRAFFIC_SHIFT (a PAUSE hook there waits, with a fresh hookId each step, until
  ContinueServiceDeployment or its timeout action) and PRODUCTION_TRAFFIC_SHIFT (the weighted
  forward written into moto's production rule), the step's bake, then BAKE_TIME and CLEAN_UP.
  Every other stage takes 30 s.
- DescribeServices answers carry what moto drops: `deploymentConfiguration` and
  `currentServiceDeployment`. Each deployment's source and target are service revisions
  (DescribeServiceRevisions, 1-20 ARNs, unknown ones MISSING) whose
  `resolvedConfiguration.loadBalancers` names the group their tasks register in: the target
  takes the group not carrying production, and once the deployment succeeds it is the live
  one, so the next deployment shifts back.
- ListServiceDeployments (maxResults 1-100), DescribeServiceDeployments (at most 20 ARNs;
  unknown ones in `failures` with reason MISSING), ContinueServiceDeployment (only while the
  deployment is IN_PROGRESS and the hook AWAITING_ACTION with that id, else
  InvalidParameterException; an unknown ARN is ServiceDeploymentNotFoundException),
  StopServiceDeployment (stopType ROLLBACK, only from PENDING or IN_PROGRESS, else
  ConflictException): a rollback puts all production traffic back on the source revision's
  target group and ends ROLLBACK_SUCCESSFUL.
- With `deploymentCircuitBreaker.enable` or `alarms.enable` in the configuration, a deployment
  reports its monitors as ECS does: `deploymentCircuitBreaker` (status MONITORING while it runs,
  MONITORING_COMPLETE after; the threshold half the desired count, 3 to 200) and `alarms`
  (status, alarmNames, triggeredAlarmNames).
- A production rule with an action other than forward (an OIDC authentication, say) fails the
  deployment at TEST_TRAFFIC_SHIFT, before any traffic moves: rolled back (there is no FAILED
  status), with the reason in statusReason and rollback.reason.
"""

import io
import json
import secrets
import urllib.parse

from elbv2_rules import backend as elbv2_backend
from elbv2_rules import plain

ACCOUNT = "123456789012"
TARGET = "AmazonEC2ContainerServiceV20141113."
STAGE_SECONDS = 30
STRATEGIES = ("ROLLING", "BLUE_GREEN", "LINEAR", "CANARY")
NO_PAUSE_AT = ("TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT")
BEFORE_TRAFFIC = ["RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP",
                  "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT"]
EPOCH = 1_800_000_000.0


def json_request(environ):
    """The request's JSON body (left readable for the app behind), or {}."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        return {}


class Invalid(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def region_of_request(environ):
    """The region in the request's SigV4 credential scope."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    try:
        return auth.split("Credential=")[1].split("/")[2]
    except IndexError:
        return "us-east-1"


def ecs_service(environ, key):
    """moto's ECS service `key` = (cluster, name) in the request's region, or None."""
    from moto.ecs.models import ecs_backends
    backend = ecs_backends[ACCOUNT][region_of_request(environ)]
    return backend.services.get(f"{key[0]}:{key[1]}")


def refuse(start_response, code, message):
    """An ECS error answer, as ECS words it (JSON 1.1, 400)."""
    return answer(start_response, {"__type": code, "message": message}, "400 Bad Request")


def answer(start_response, payload, status="200 OK"):
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/x-amz-json-1.1"),
                            ("Content-Length", str(len(body)))])
    return [body]


def in_range(value, low, high, what, tenths=False):
    if value is None:
        return
    if not isinstance(value, (int, float)) or not low <= value <= high:
        raise Invalid("InvalidParameterException", f"{what} must be between {low} and {high}")
    if tenths and abs(value * 10 - round(value * 10)) > 1e-9:
        raise Invalid("InvalidParameterException", f"{what} must be a multiple of 0.1")


def check_configuration(config):
    """The documented limits of a deploymentConfiguration, or Invalid."""
    strategy = config.get("strategy")
    if strategy is not None and strategy not in STRATEGIES:
        raise Invalid("InvalidParameterException", f"strategy {strategy} is not one of "
                      + ", ".join(STRATEGIES))
    in_range(config.get("bakeTimeInMinutes"), 0, 1440, "bakeTimeInMinutes")
    linear = config.get("linearConfiguration") or {}
    in_range(linear.get("stepPercent"), 3.0, 100.0, "linearConfiguration.stepPercent", True)
    in_range(linear.get("stepBakeTimeInMinutes"), 0, 1440, "stepBakeTimeInMinutes")
    canary = config.get("canaryConfiguration") or {}
    in_range(canary.get("canaryPercent"), 0.1, 100.0, "canaryConfiguration.canaryPercent", True)
    in_range(canary.get("canaryBakeTimeInMinutes"), 0, 1440, "canaryBakeTimeInMinutes")
    for hook in config.get("lifecycleHooks") or []:
        if hook.get("targetType") == "PAUSE":
            if hook.get("hookTargetArn"):
                raise Invalid("InvalidParameterException",
                              "a PAUSE lifecycle hook takes no hookTargetArn")
            for stage in hook.get("lifecycleStages") or []:
                if stage in NO_PAUSE_AT:
                    raise Invalid("InvalidParameterException",
                                  f"a PAUSE lifecycle hook cannot be at {stage}")
        timeout = hook.get("timeoutConfiguration") or {}
        in_range(timeout.get("timeoutInMinutes"), 1, 20160, "timeoutInMinutes")
        if timeout.get("action") not in (None, "CONTINUE", "ROLLBACK"):
            raise Invalid("InvalidParameterException", "timeout action must be CONTINUE or "
                          "ROLLBACK")


def steps(config):
    """The production traffic shares of a deployment's steps, in percent of the target."""
    strategy = config.get("strategy")
    if strategy == "LINEAR":
        step = (config.get("linearConfiguration") or {}).get("stepPercent", 10.0)
        shares, share = [], 0.0
        while share < 100.0:
            share = min(100.0, round(share + step, 1))
            shares.append(share)
        return shares
    if strategy == "CANARY":
        canary = (config.get("canaryConfiguration") or {}).get("canaryPercent", 5.0)
        return [canary, 100.0]
    return [100.0]


def step_bake(config):
    strategy = config.get("strategy")
    if strategy == "LINEAR":
        return 60 * (config.get("linearConfiguration") or {}).get("stepBakeTimeInMinutes", 6)
    if strategy == "CANARY":
        return 60 * (config.get("canaryConfiguration") or {}).get("canaryBakeTimeInMinutes", 10)
    return 0


def pause_hook(config, stage):
    for hook in config.get("lifecycleHooks") or []:
        if hook.get("targetType") == "PAUSE" and stage in (hook.get("lifecycleStages") or []):
            return hook
    return None


class Deployment:
    """`source` and `target` are service revisions (dicts as DescribeServiceRevisions answers
    them); `state` the service's own, whose live group becomes the target's on success."""

    def __init__(self, arn, cluster, service, state, source, target, now):
        self.arn = arn
        self.cluster = cluster
        self.service = service
        self.state = state
        self.config = state["config"]
        self.source = source
        self.target = target
        self.balancer = (state["balancers"] or [{}])[0]
        self.status = "IN_PROGRESS"
        self.status_reason = None
        self.created = now
        self.finished = None
        self.plan = [(stage, None) for stage in BEFORE_TRAFFIC]
        for share in steps(self.config):
            self.plan.append(("PRE_PRODUCTION_TRAFFIC_SHIFT", share))
            self.plan.append(("PRODUCTION_TRAFFIC_SHIFT", share))
        self.plan += [("POST_PRODUCTION_TRAFFIC_SHIFT", None), ("BAKE_TIME", None),
                      ("CLEAN_UP", None)]
        self.index = 0
        self.stage_ends = now + STAGE_SECONDS
        self.hook = None
        self.weight = 0.0
        self.rollback_reason = None

    @property
    def stage(self):
        return self.plan[self.index][0] if self.index < len(self.plan) else "CLEAN_UP"

    def enter(self, now):
        """Starts the stage at `index`: a PAUSE hook there waits; a traffic shift writes."""
        stage, share = self.plan[self.index]
        hook = pause_hook(self.config, stage)
        if hook is not None:
            timeout = hook.get("timeoutConfiguration") or {}
            self.hook = {"hookId": secrets.token_hex(8), "targetType": "PAUSE",
                         "status": "AWAITING_ACTION",
                         "expiresAt": now + 60 * timeout.get("timeoutInMinutes", 1440),
                         "timeoutAction": timeout.get("action", "ROLLBACK")}
            self.stage_ends = None
            return
        if stage == "TEST_TRAFFIC_SHIFT":
            others = [a.type for a in self.rule_actions() if a.type != "forward"]
            if others:
                # ServiceDeploymentStatus has no FAILED: a failed deployment is rolled back.
                self.status_reason = (
                    "The production listener rule has actions other than forward ("
                    + ", ".join(others) + "): ECS blue/green deployments need a rule that only "
                    "forwards")
                self.rollback(now, self.status_reason)
                return
        if stage == "PRODUCTION_TRAFFIC_SHIFT":
            self.weight = share
            self.write_weights(share)
            self.stage_ends = now + max(STAGE_SECONDS, step_bake(self.config))
            return
        if stage == "BAKE_TIME":
            self.stage_ends = now + 60 * self.config.get("bakeTimeInMinutes", 0)
            return
        self.stage_ends = now + STAGE_SECONDS

    def advance(self, now):
        """Moves through the stages whose time is up by `now`, each starting when the one
        before it ended."""
        while self.status == "IN_PROGRESS":
            if self.hook is not None:
                expired = self.hook["expiresAt"]
                if now < expired:
                    return
                action = self.hook["timeoutAction"]
                self.hook["status"] = "TIMED_OUT"
                if action == "ROLLBACK":
                    self.rollback(expired, "the PAUSE hook timed out (action ROLLBACK)")
                    return
                self.hook = None
                self.next(expired)
                continue
            if self.stage_ends is None or now < self.stage_ends:
                return
            self.next(self.stage_ends)

    def next(self, now):
        self.index += 1
        if self.index >= len(self.plan):
            self.status = "SUCCESSFUL"
            self.finished = now
            # The target's group carries production now: the next deployment shifts back.
            self.state["live_group"] = group_of(self.target)
            return
        self.enter(now)

    def proceed(self, now):
        """CONTINUE at the hook: the stage after it starts now."""
        self.hook = None
        self.next(now)

    def rollback(self, now, reason):
        # Production traffic back on the source's group, where any had moved.
        if self.weight > 0:
            self.write_weights(0.0)
        self.weight = 0.0
        self.hook = None
        self.status = "ROLLBACK_SUCCESSFUL"
        self.rollback_reason = reason
        self.finished = now

    def write_weights(self, share):
        """The production rule's forward: `share`% to the target revision's group, the rest
        to the source's."""
        primary, alternate = group_of(self.source), group_of(self.target)
        if not (primary and alternate):
            return
        # Tenths of a percent, within ALB's documented weight range 0-999.
        weight = int(round(share * 10))
        for action in self.rule_actions():
            forward = action.data.get("ForwardConfig") if action.type == "forward" else None
            for group in (forward or {}).get("TargetGroups", []):
                if group.get("TargetGroupArn") == alternate:
                    group["Weight"] = min(999, weight)
                elif group.get("TargetGroupArn") == primary:
                    group["Weight"] = min(999, 1000 - weight)

    def rule_actions(self):
        """The actions moto holds for the production listener rule (or listener)."""
        advanced = self.balancer.get("advancedConfiguration") or {}
        rule = advanced.get("productionListenerRule")
        if not rule:
            return []
        backend = elbv2_backend(rule)
        try:
            return backend.describe_rules(None, [rule])[0].actions
        except Exception:  # noqa: BLE001 - a listener's ARN: its default actions
            return backend.describe_listeners(None, [rule])[0].default_actions

    def describe(self):
        out = {
            "serviceDeploymentArn": self.arn,
            "serviceArn": f"arn:aws:ecs:{self.arn.split(':')[3]}:{ACCOUNT}:service/"
                          f"{self.cluster}/{self.service}",
            "clusterArn": f"arn:aws:ecs:{self.arn.split(':')[3]}:{ACCOUNT}:cluster/"
                          f"{self.cluster}",
            "createdAt": self.created,
            "startedAt": self.created,
            "status": self.status,
            "lifecycleStage": self.stage,
            "sourceServiceRevisions": [{"arn": self.source["serviceRevisionArn"],
                                        "requestedTaskCount": 4,
                                        "runningTaskCount": 4, "pendingTaskCount": 0,
                                        "requestedProductionTrafficWeight":
                                            round(100.0 - self.weight, 1)}],
            "targetServiceRevision": {"arn": self.target["serviceRevisionArn"],
                                      "requestedTaskCount": 4,
                                      "runningTaskCount": 4, "pendingTaskCount": 0,
                                      "requestedProductionTrafficWeight": self.weight},
            "deploymentConfiguration": self.config,
        }
        if self.status_reason:
            out["statusReason"] = self.status_reason
        if self.finished is not None:
            out["finishedAt"] = self.finished
        if self.rollback_reason:
            out["rollback"] = {"reason": self.rollback_reason, "startedAt": self.finished}
        if self.hook is not None:
            out["lifecycleHookDetails"] = [dict(self.hook)]
        breaker = self.config.get("deploymentCircuitBreaker") or {}
        if breaker.get("enable"):
            # The threshold ECS computes: half the desired count, at least 3, at most 200.
            out["deploymentCircuitBreaker"] = {
                "status": "MONITORING" if self.status == "IN_PROGRESS" else "MONITORING_COMPLETE",
                "failureCount": 0, "threshold": max(3, min(200, (4 + 1) // 2))}
        alarms = self.config.get("alarms") or {}
        if alarms.get("enable") and alarms.get("alarmNames"):
            out["alarms"] = {
                "status": "MONITORING" if self.status == "IN_PROGRESS" else "MONITORING_COMPLETE",
                "alarmNames": list(alarms["alarmNames"]), "triggeredAlarmNames": []}
        return out


def group_of(revision):
    """The target group a service revision's tasks register in."""
    balancers = (revision.get("resolvedConfiguration") or {}).get("loadBalancers") or [{}]
    return balancers[0].get("targetGroupArn")


class EcsNative:
    """The middleware: in front of moto's ECS, behind the other checks."""

    CALLS = ("CreateService", "UpdateService", "DescribeServices", "ListServiceDeployments",
             "DescribeServiceDeployments", "ContinueServiceDeployment", "StopServiceDeployment",
             "DescribeServiceRevisions")

    def __init__(self, app):
        self.app = app
        # One clock a service, so that tests running at once never move each other's.
        self.clocks = {}
        self.services = {}
        self.deployments = {}
        self.revisions = {}

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/_double/ecs-native-advance":
            query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
            key = (query.get("cluster", ""), query.get("service", ""))
            now = self.clock(key) + float(query.get("seconds", "0"))
            self.clocks[key] = now
            for deployment in self.deployments.values():
                if (deployment.cluster, deployment.service) == key:
                    deployment.advance(now)
            return plain(start_response, str(now))
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        call = target[len(TARGET):] if target.startswith(TARGET) else None
        if call not in self.CALLS:
            return self.app(environ, start_response)
        request = json_request(environ)
        try:
            if call in ("CreateService", "UpdateService"):
                return self.service_call(call, request, environ, start_response)
            if call == "DescribeServices":
                return self.describe_services(request, environ, start_response)
            return getattr(self, call.lower())(request, environ, start_response)
        except Invalid as invalid:
            return refuse(start_response, invalid.code, invalid.message)

    def service_call(self, call, request, environ, start_response):
        config = request.get("deploymentConfiguration")
        if config is not None:
            check_configuration(config)
        cluster = request.get("cluster", "default").split("/")[-1]
        name = (request.get("serviceName") or request.get("service", "")).split("/")[-1]
        key = (cluster, name)
        kept = self.services.setdefault(key, {"config": {}, "balancers": [], "live_group": None,
                                              "current": None})
        if config is not None:
            kept["config"] = config
        if request.get("loadBalancers"):
            kept["balancers"] = request["loadBalancers"]
            kept["live_group"] = kept["live_group"] or request["loadBalancers"][0].get(
                "targetGroupArn")
        before = self.task_definition(environ, key)
        answered = self.app(environ, start_response)
        after = self.task_definition(environ, key)
        native = kept["config"].get("strategy") in ("BLUE_GREEN", "LINEAR", "CANARY")
        if call == "UpdateService" and native and before and after and before != after:
            region = region_of_request(environ)
            arn = (f"arn:aws:ecs:{region}:{ACCOUNT}:service-deployment/{cluster}/{name}/"
                   f"{secrets.token_hex(8)}")
            now = self.clock(key)
            balancer = (kept["balancers"] or [{}])[0]
            groups = [balancer.get("targetGroupArn"),
                      (balancer.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")]
            live = kept["live_group"]
            idle = next((g for g in groups if g != live), None)
            source = self.revision(region, key, before, live, balancer, now)
            target = self.revision(region, key, after, idle, balancer, now)
            deployment = Deployment(arn, cluster, name, kept, source, target, now)
            deployment.enter(now)
            self.deployments[arn] = deployment
            kept["current"] = arn
        return answered

    def revision(self, region, key, task_definition, group, balancer, now):
        """The service revision of `task_definition` registering in `group` (one per pair)."""
        for revision in self.revisions.values():
            if (revision["_key"] == key and revision["taskDefinition"] == task_definition
                    and group_of(revision) == group):
                return revision
        cluster, name = key
        arn = (f"arn:aws:ecs:{region}:{ACCOUNT}:service-revision/{cluster}/{name}/"
               f"{secrets.token_hex(8)}")
        rule = (balancer.get("advancedConfiguration") or {}).get("productionListenerRule")
        revision = {
            "_key": key,
            "serviceRevisionArn": arn,
            "serviceArn": f"arn:aws:ecs:{region}:{ACCOUNT}:service/{cluster}/{name}",
            "clusterArn": f"arn:aws:ecs:{region}:{ACCOUNT}:cluster/{cluster}",
            "taskDefinition": task_definition,
            "loadBalancers": [dict(balancer)],
            "resolvedConfiguration": {"loadBalancers": [
                {"targetGroupArn": group, "productionListenerRule": rule}]},
            "createdAt": now,
        }
        self.revisions[arn] = revision
        return revision

    def describe_services(self, request, environ, start_response):
        """moto's answer, with what it drops: the deployment configuration and the current
        service deployment of a native service."""
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers

        body = b"".join(self.app(environ, capture))
        try:
            payload = json.loads(body)
        except ValueError:
            start_response(captured["status"], captured["headers"])
            return [body]
        for service in payload.get("services", []):
            cluster = service.get("clusterArn", "").split("/")[-1]
            kept = self.services.get((cluster, service.get("serviceName")))
            if not kept:
                continue
            if kept["config"]:
                service["deploymentConfiguration"] = dict(
                    service.get("deploymentConfiguration") or {}, **kept["config"])
            if kept["current"]:
                service["currentServiceDeployment"] = kept["current"]
        return answer(start_response, payload, captured["status"])

    def describeservicerevisions(self, request, environ, start_response):
        arns = request.get("serviceRevisionArns") or []
        if not 1 <= len(arns) <= 20:
            raise Invalid("InvalidParameterException",
                          "serviceRevisionArns must have 1 to 20 items")
        known = [{k: v for k, v in self.revisions[a].items() if not k.startswith("_")}
                 for a in arns if a in self.revisions]
        failures = [{"arn": a, "reason": "MISSING"} for a in arns if a not in self.revisions]
        return answer(start_response, {"serviceRevisions": known, "failures": failures})

    @staticmethod
    def task_definition(environ, key):
        service = ecs_service(environ, key)
        return service.task_definition if service else None

    def clock(self, key):
        """The time on the clock of service `key` = (cluster, name)."""
        return self.clocks.get(key, EPOCH)

    def now(self, deployment):
        return self.clock((deployment.cluster, deployment.service))

    def found(self, arn):
        if arn not in self.deployments:
            raise Invalid("ServiceDeploymentNotFoundException",
                          f"The service deployment {arn} does not exist")
        return self.deployments[arn]

    def listservicedeployments(self, request, environ, start_response):
        size = request.get("maxResults")
        if size is not None and not (isinstance(size, int) and 1 <= size <= 100):
            raise Invalid("InvalidParameterException", f"maxResults {size} is not in 1-100")
        service = request.get("service", "").split("/")[-1]
        cluster = request.get("cluster", "default").split("/")[-1]
        wanted = request.get("status")
        listed = [d for d in self.deployments.values()
                  if d.service == service and d.cluster == cluster
                  and (not wanted or d.status in wanted)]
        listed.sort(key=lambda d: d.created, reverse=True)
        return answer(start_response, {"serviceDeployments": [
            {"serviceDeploymentArn": d.arn, "status": d.status, "createdAt": d.created,
             "targetServiceRevisionArn": d.target["serviceRevisionArn"]}
            for d in listed[: size or 20]]})

    def describeservicedeployments(self, request, environ, start_response):
        arns = request.get("serviceDeploymentArns") or []
        if not 1 <= len(arns) <= 20:
            raise Invalid("InvalidParameterException",
                          "serviceDeploymentArns must have 1 to 20 items")
        known = [self.deployments[a].describe() for a in arns if a in self.deployments]
        failures = [{"arn": a, "reason": "MISSING"} for a in arns if a not in self.deployments]
        return answer(start_response, {"serviceDeployments": known, "failures": failures})

    def continueservicedeployment(self, request, environ, start_response):
        deployment = self.found(request.get("serviceDeploymentArn"))
        hook = deployment.hook
        if (deployment.status != "IN_PROGRESS" or hook is None
                or hook["hookId"] != request.get("hookId")
                or hook["status"] != "AWAITING_ACTION"):
            raise Invalid("InvalidParameterException",
                          "The lifecycle hook is not awaiting action for this deployment")
        action = request.get("action")
        if action not in ("CONTINUE", "ROLLBACK"):
            raise Invalid("InvalidParameterException", "action must be CONTINUE or ROLLBACK")
        hook["status"] = "SUCCEEDED"
        if action == "ROLLBACK":
            deployment.rollback(self.now(deployment), "rolled back at the PAUSE hook")
        else:
            deployment.proceed(self.now(deployment))
        return answer(start_response, {"serviceDeploymentArn": deployment.arn})

    def stopservicedeployment(self, request, environ, start_response):
        deployment = self.found(request.get("serviceDeploymentArn"))
        if deployment.status not in ("PENDING", "IN_PROGRESS"):
            raise Invalid("ConflictException",
                          f"The service deployment is {deployment.status} and cannot be stopped")
        if request.get("stopType", "ROLLBACK") != "ROLLBACK":
            raise Invalid("InvalidParameterException", "stopType must be ROLLBACK")
        deployment.rollback(self.now(deployment), "stopped: StopServiceDeployment ROLLBACK")
        return answer(start_response, {"serviceDeploymentArn": deployment.arn})
