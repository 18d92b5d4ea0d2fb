#!/usr/bin/env python3
"""Builds a blue/green estate in a moto server the way users have them, and prints its ARNs.

Usage: estate.py ENDPOINT NAME [--rule] [--second-listener] [--same-cluster] [--green-controller CODE_DEPLOY]
                                [--no-metrics] [--green-not-attached]
                                [--green-weight N] [--blue-weight N] [--green-metrics none|ok|bad]
                                [--blue-metrics ok|none] [--promoted-minutes-ago N]
                                [--alarm NAME=STATE ...] [--checkout-errors BLUE,GREEN]

- an ALB with an HTTPS listener on 443 (an ACM certificate for shop.example.com: AWS allows
  authentication actions on HTTPS listeners only); target groups NAME-blue, NAME-green and
  NAME-other
- with --rule: the listener's default action answers 404; a rule (priority 10, /shop/*)
  authenticates with OIDC (order 1, a client secret Describe never shows) and forwards to
  blue 100 / green 0 with stickiness on (order 2), and a neighbouring rule (priority 20,
  /other/*) forwards to NAME-other
- without --rule: the listener's default action authenticates with OIDC and forwards
  blue 100 / green 0, stickiness on
- with --second-listener: another listener (port 8080) forwards to NAME-blue too, traffic
  cutover does not control
- with --filler-rules N (and --rule): N rules (priorities 100 and up, /filler-N/*) forwarding to
  NAME-other are made first, so the rules that matter come after them in DescribeRules' pages
- with --second-rule (and --rule): another rule (priority 30, /api/*) forwards to both groups
- with --third-group: the forward action names NAME-other too (weight 0)
- with --blue-two-groups: blue's service registers in a second group too, NAME-blue2
- with --green-on-other-alb: the forward action names blue only, and green's group is behind a
  second ALB (NAME-alb2) whose listener forwards to it
- ECS: clusters NAME-blue and NAME-green (or one, NAME, with --same-cluster), a task
  definition family NAME-shop with revisions for 1.4.2 and 1.5.0, services attached to their
  target groups with 4 tasks each
- CloudWatch: ten minutes of AWS/ApplicationELB metrics for both groups and the ELB (blue
  serving alone unless told otherwise: blue is the live side); green's may be ok, bad (5xx),
  slow (latency) or crashy (target connection errors, no 5xx)
- with --alarm: a metric alarm NAME, set to STATE (OK, ALARM, INSUFFICIENT_DATA)
- with --checkout-errors: ten minutes of the shop's own metric shop/CheckoutErrors per service
  (dimension ServiceName), blue's and green's value each minute
"""
import argparse
import datetime
import json

import boto3

REGION = "eu-west-1"
OIDC_SECRET = "s3cret-the-idp-issued"


def client(endpoint, service):
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def put_alarms(cw, alarms):
    """NAME=STATE each: a metric alarm on the shop's CheckoutErrors, set to STATE."""
    for alarm in alarms:
        alarm_name, state = alarm.split("=")
        cw.put_metric_alarm(AlarmName=alarm_name, Namespace="shop", MetricName="CheckoutErrors",
                            Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=10.0,
                            ComparisonOperator="GreaterThanThreshold")
        cw.set_alarm_state(AlarmName=alarm_name, StateValue=state, StateReason="set by the test")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("endpoint")
    parser.add_argument("name")
    parser.add_argument("--rule", action="store_true")
    parser.add_argument("--same-cluster", action="store_true")
    parser.add_argument("--green-controller", default="ECS")
    parser.add_argument("--no-metrics", action="store_true")
    parser.add_argument("--second-listener", action="store_true")
    parser.add_argument("--second-rule", action="store_true")
    parser.add_argument("--filler-rules", type=int, default=0)
    parser.add_argument("--third-group", action="store_true")
    parser.add_argument("--green-on-other-alb", action="store_true")
    parser.add_argument("--blue-two-groups", action="store_true")
    parser.add_argument("--green-not-attached", action="store_true")
    parser.add_argument("--sidecar", action="store_true",
                        help="task definitions get a second container, envoy")
    parser.add_argument("--native", choices=("BLUE_GREEN", "LINEAR", "CANARY"), default=None,
                        help="blue's service deploys ECS-natively with this strategy (needs "
                             "--rule): green's group is its alternate, the rule its production "
                             "rule, a PAUSE hook before every production traffic step")
    parser.add_argument("--native-monitors", action="store_true",
                        help="with --native, the deployment configuration turns on ECS's "
                             "circuit breaker and an alarm (NAME-api-5xx)")
    parser.add_argument("--native-keep-oidc", action="store_true",
                        help="with --native, the rule keeps its OIDC action before the forward "
                             "(ECS-native deployments fail on such a rule)")
    parser.add_argument("--green-weight", type=int, default=0,
                        help="green's starting weight (blue gets 100 minus it)")
    parser.add_argument("--blue-weight", type=int, default=None,
                        help="blue's starting weight, when not 100 minus green's (999 with "
                             "--green-weight 1)")
    parser.add_argument("--green-metrics", choices=("none", "ok", "bad", "slow", "crashy"),
                        default="none",
                        help="seed green with traffic: ok (0.3%% 5xx), bad (8%% 5xx), slow "
                             "(300 ms) or crashy (7%% target connection errors, no 5xx)")
    parser.add_argument("--alarm", action="append", default=[],
                        help="NAME=STATE: a metric alarm in that state")
    parser.add_argument("--checkout-errors", default=None,
                        help="BLUE,GREEN: the shop's CheckoutErrors per minute on each side")
    parser.add_argument("--blue-metrics", choices=("ok", "none"), default="ok",
                        help="none: blue served nothing (with --green-weight 100 and "
                             "--green-metrics ok, the roles have swapped)")
    parser.add_argument("--promoted-minutes-ago", type=int, default=0,
                        help="green served alone for the last N minutes and blue alone before "
                             "(with --green-weight 100: green was just promoted)")
    args = parser.parse_args()
    name = args.name

    ec2 = client(args.endpoint, "ec2")
    elb = client(args.endpoint, "elbv2")
    ecs = client(args.endpoint, "ecs")
    cw = client(args.endpoint, "cloudwatch")
    acm = client(args.endpoint, "acm")

    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                          AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]
        for i, zone in ((1, "a"), (2, "b"))
    ]
    security_group = ec2.create_security_group(GroupName=f"{name}-tasks", Description="tasks",
                                               VpcId=vpc)["GroupId"]
    lb = elb.create_load_balancer(Name=f"{name}-alb", Subnets=subnets, Type="application",
                                  Scheme="internet-facing")["LoadBalancers"][0]
    groups = {}
    for color in ("blue", "green", "other") + (("blue2",) if args.blue_two_groups else ()):
        groups[color] = elb.create_target_group(
            Name=f"{name}-{color}", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip",
            HealthCheckPath="/health")["TargetGroups"][0]["TargetGroupArn"]
        elb.register_targets(TargetGroupArn=groups[color],
                             Targets=[{"Id": f"10.0.1.{10 + i}", "Port": 8080} for i in range(4)])

    oidc = {
        "Type": "authenticate-oidc", "Order": 1,
        "AuthenticateOidcConfig": {
            "Issuer": "https://idp.example.com", "AuthorizationEndpoint": "https://idp.example.com/auth",
            "TokenEndpoint": "https://idp.example.com/token",
            "UserInfoEndpoint": "https://idp.example.com/userinfo",
            "ClientId": "cutover-shop", "ClientSecret": OIDC_SECRET,
        },
    }

    def forward(blue, green, sticky_seconds):
        tuples = [{"TargetGroupArn": groups["blue"], "Weight": blue}]
        if not args.green_on_other_alb:
            tuples.append({"TargetGroupArn": groups["green"], "Weight": green})
        if args.third_group:
            tuples.append({"TargetGroupArn": groups["other"], "Weight": 0})
        return {
            "Type": "forward", "Order": 2,
            "ForwardConfig": {
                "TargetGroups": tuples,
                "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": sticky_seconds},
            },
        }

    certificate = acm.request_certificate(DomainName=f"{name}.shop.example.com")["CertificateArn"]
    https = {"Protocol": "HTTPS", "Port": 443, "Certificates": [{"CertificateArn": certificate}]}
    out = {"load_balancer_arn": lb["LoadBalancerArn"], "target_groups": groups}
    blue_weight = 100 - args.green_weight if args.blue_weight is None else args.blue_weight
    # ECS-native deployments need a rule that only forwards.
    if args.native and not args.native_keep_oidc:
        rule_actions = [dict(forward(blue_weight, args.green_weight, 120), Order=1)]
    else:
        rule_actions = [oidc, forward(blue_weight, args.green_weight, 120)]
    if args.rule:
        listener = elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], **https,
            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
                "StatusCode": "404", "ContentType": "text/plain", "MessageBody": "not here"}}],
        )["Listeners"][0]
        for i in range(args.filler_rules):
            elb.create_rule(
                ListenerArn=listener["ListenerArn"], Priority=100 + i,
                Conditions=[{"Field": "path-pattern", "Values": [f"/filler-{i}/*"]}],
                Actions=[{"Type": "forward", "TargetGroupArn": groups["other"]}])
        rule = elb.create_rule(
            ListenerArn=listener["ListenerArn"], Priority=10,
            Conditions=[{"Field": "path-pattern", "Values": ["/shop/*"]}],
            Actions=rule_actions)["Rules"][0]
        neighbour = elb.create_rule(
            ListenerArn=listener["ListenerArn"], Priority=20,
            Conditions=[{"Field": "path-pattern", "Values": ["/other/*"]}],
            Actions=[{"Type": "forward", "TargetGroupArn": groups["other"]}])["Rules"][0]
        out.update(listener_arn=listener["ListenerArn"], rule_arn=rule["RuleArn"],
                   neighbour_rule_arn=neighbour["RuleArn"])
        if args.second_rule:
            api = elb.create_rule(
                ListenerArn=listener["ListenerArn"], Priority=30,
                Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
                Actions=[forward(blue_weight, args.green_weight, 120)])["Rules"][0]
            out.update(second_rule_arn=api["RuleArn"])
    else:
        listener = elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], **https,
            DefaultActions=[oidc, forward(blue_weight, args.green_weight, 300)],
        )["Listeners"][0]
        out.update(listener_arn=listener["ListenerArn"])
    if args.green_on_other_alb:
        lb2 = elb.create_load_balancer(Name=f"{name}-alb2", Subnets=subnets, Type="application",
                                       Scheme="internet-facing")["LoadBalancers"][0]
        elb.create_listener(
            LoadBalancerArn=lb2["LoadBalancerArn"], Protocol="HTTP", Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": groups["green"]}])
        out.update(second_load_balancer_arn=lb2["LoadBalancerArn"])
    if args.second_listener:
        second = elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=8080,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": groups["blue"]}])["Listeners"][0]
        out.update(second_listener_arn=second["ListenerArn"])

    clusters = {c: (name if args.same_cluster else f"{name}-{c}") for c in ("blue", "green")}
    for cluster in set(clusters.values()):
        ecs.create_cluster(clusterName=cluster)
    revisions = {}
    for color, version in (("blue", "1.4.2"), ("green", "1.5.0")):
        revisions[color] = ecs.register_task_definition(
            family=f"{name}-shop", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
            cpu="256", memory="512",
            containerDefinitions=[{"name": "web", "image": f"example/shop:{version}",
                                   "portMappings": [{"containerPort": 8080}], "essential": True,
                                   "environment": [{"name": "SHOP_ENV", "value": "prod"}],
                                   "memoryReservation": 256}]
            + ([{"name": "envoy", "image": "envoyproxy/envoy:v1.30", "essential": False}]
               if args.sidecar else []),
            executionRoleArn=f"arn:aws:iam::123456789012:role/{name}-exec",
            tags=[{"key": "team", "value": "shop"}],
        )["taskDefinition"]["taskDefinitionArn"]
    for color in ("blue", "green"):
        kwargs = dict(
            cluster=clusters[color], serviceName=f"{name}-{color}",
            taskDefinition=revisions[color], desiredCount=4, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": subnets,
                                                          "securityGroups": [security_group]}},
        )
        if not (color == "green" and args.green_not_attached):
            kwargs["loadBalancers"] = [{"targetGroupArn": groups[color], "containerName": "web",
                                        "containerPort": 8080}]
        if color == "blue" and args.blue_two_groups:
            kwargs["loadBalancers"].append({"targetGroupArn": groups["blue2"],
                                            "containerName": "web", "containerPort": 8080})
        if color == "green" and args.green_controller != "ECS":
            kwargs["deploymentController"] = {"type": args.green_controller}
        if color == "blue" and args.native:
            kwargs["loadBalancers"][0]["advancedConfiguration"] = {
                "alternateTargetGroupArn": groups["green"],
                "productionListenerRule": out["rule_arn"],
                "roleArn": f"arn:aws:iam::123456789012:role/{name}-ecs-infrastructure",
            }
            kwargs["deploymentConfiguration"] = {
                "strategy": args.native,
                "bakeTimeInMinutes": 1,
                "linearConfiguration": {"stepPercent": 20.0, "stepBakeTimeInMinutes": 1},
                "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 2},
                "lifecycleHooks": [{
                    "targetType": "PAUSE",
                    "lifecycleStages": ["PRE_PRODUCTION_TRAFFIC_SHIFT"],
                    "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"},
                }],
            }
            if args.native_monitors:
                kwargs["deploymentConfiguration"]["deploymentCircuitBreaker"] = {
                    "enable": True, "rollback": True}
                kwargs["deploymentConfiguration"]["alarms"] = {
                    "alarmNames": [f"{name}-api-5xx"], "enable": True, "rollback": True}
        ecs.create_service(**kwargs)
    out["clusters"] = clusters
    out["services"] = {c: f"{name}-{c}" for c in ("blue", "green")}
    out["task_definitions"] = revisions

    if not args.no_metrics:
        lb_dim = lb["LoadBalancerArn"].split(":loadbalancer/")[1]
        now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
        green = {"none": (0.0, 0.0, 0.0), "ok": (300.0, 1.0, 0.084),
                 "bad": (300.0, 24.0, 0.084), "slow": (300.0, 1.0, 0.300),
                 "crashy": (300.0, 0.0, 0.084)}[args.green_metrics]
        blue = {"ok": (1200.0, 3.0, 0.080), "none": (0.0, 0.0, 0.0)}[args.blue_metrics]
        per_minute = {"blue": blue, "green": green}
        data = []
        for minutes_ago in range(1, 11):
            at = now - datetime.timedelta(minutes=minutes_ago)
            for color, (requests, errors, latency) in per_minute.items():
                if args.promoted_minutes_ago:
                    promoted = minutes_ago <= args.promoted_minutes_ago
                    alone = "green" if promoted else "blue"
                    requests, errors, latency = (300.0, 1.0, 0.084) if color == alone else (0, 0, 0)
                if requests == 0:
                    continue
                dims = [{"Name": "LoadBalancer", "Value": lb_dim},
                        {"Name": "TargetGroup", "Value": groups[color].split(":")[-1]}]
                data += [
                    {"MetricName": "RequestCount", "Dimensions": dims, "Timestamp": at,
                     "Value": requests, "Unit": "Count"},
                    {"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dims,
                     "Timestamp": at, "Value": errors, "Unit": "Count"},
                    {"MetricName": "TargetResponseTime", "Dimensions": dims, "Timestamp": at,
                     "Value": latency, "Unit": "Seconds"},
                ]
                if color == "green" and args.green_metrics == "crashy":
                    data.append({"MetricName": "TargetConnectionErrorCount", "Dimensions": dims,
                                 "Timestamp": at, "Value": 20.0, "Unit": "Count"})
            data.append({"MetricName": "HTTPCode_ELB_5XX_Count",
                         "Dimensions": [{"Name": "LoadBalancer", "Value": lb_dim}],
                         "Timestamp": at, "Value": 1.0, "Unit": "Count"})
        for i in range(0, len(data), 20):
            cw.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data[i:i + 20])
        if args.checkout_errors:
            values = dict(zip(("blue", "green"), map(float, args.checkout_errors.split(","))))
            shop = [{"MetricName": "CheckoutErrors", "Timestamp": now - datetime.timedelta(minutes=m),
                     "Dimensions": [{"Name": "ServiceName", "Value": f"{name}-{color}"}],
                     "Value": value, "Unit": "Count"}
                    for m in range(1, 11) for color, value in values.items()]
            for i in range(0, len(shop), 20):
                cw.put_metric_data(Namespace="shop", MetricData=shop[i:i + 20])
    put_alarms(cw, args.alarm)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
