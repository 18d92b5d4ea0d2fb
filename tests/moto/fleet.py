"""Builds a fleet estate on the test double: PAIRS weighted pairs spread over CLUSTERS clusters
and LISTENERS listeners (each with its own ALB, one rule per pair), with six minutes of
CloudWatch metrics for every group (HealthyHostCount included), and prints JSON: each pair's
name, rule, groups, clusters and services.

    fleet.py ENDPOINT NAME PAIRS [--clusters N] [--listeners N] [--bad K] [--alarm NAME=STATE]

--bad K: the K-th pair's green (0-based) answers with 8% 5xx.
--alarm NAME=STATE: a metric alarm in that state (OK, ALARM, INSUFFICIENT_DATA).
"""
import argparse
import datetime
import json

from estate import REGION, client, put_alarms


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("endpoint")
    parser.add_argument("name")
    parser.add_argument("pairs", type=int)
    parser.add_argument("--clusters", type=int, default=2)
    parser.add_argument("--listeners", type=int, default=2)
    parser.add_argument("--bad", type=int, default=None)
    parser.add_argument("--alarm", action="append", default=[])
    args = parser.parse_args()
    name = args.name
    ec2 = client(args.endpoint, "ec2")
    elb = client(args.endpoint, "elbv2")
    ecs = client(args.endpoint, "ecs")
    cw = client(args.endpoint, "cloudwatch")

    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24",
                          AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]
        for i, zone in ((1, "a"), (2, "b"))
    ]
    security_group = ec2.create_security_group(GroupName=f"{name}-tasks", Description="tasks",
                                               VpcId=vpc)["GroupId"]
    listeners = []
    for i in range(args.listeners):
        lb = elb.create_load_balancer(Name=f"{name}-alb{i}", Subnets=subnets, Type="application",
                                      Scheme="internet-facing")["LoadBalancers"][0]
        listener = elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
                "StatusCode": "404", "ContentType": "text/plain"}}])["Listeners"][0]
        listeners.append((lb, listener))
    clusters = [f"{name}-c{i}" for i in range(args.clusters)]
    for cluster in clusters:
        ecs.create_cluster(clusterName=cluster)
    definition = ecs.register_task_definition(
        family=f"{name}-shop", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="256", memory="512",
        containerDefinitions=[{"name": "web", "image": "example/shop:1.4.2",
                               "portMappings": [{"containerPort": 8080}], "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    pairs, data = [], []
    for p in range(args.pairs):
        pair = f"{name}-p{p}"
        lb, listener = listeners[p % len(listeners)]
        cluster = clusters[p % len(clusters)]
        groups = {}
        for color in ("blue", "green"):
            groups[color] = elb.create_target_group(
                Name=f"{pair}-{color[0]}", Protocol="HTTP", Port=8080, VpcId=vpc,
                TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        rule = elb.create_rule(
            ListenerArn=listener["ListenerArn"], Priority=10 + p,
            Conditions=[{"Field": "path-pattern", "Values": [f"/{pair}/*"]}],
            Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": groups["blue"], "Weight": 90},
                {"TargetGroupArn": groups["green"], "Weight": 10}]}}])["Rules"][0]
        for color in ("blue", "green"):
            ecs.create_service(
                cluster=cluster, serviceName=f"{pair}-{color}", taskDefinition=definition,
                desiredCount=2, launchType="FARGATE",
                networkConfiguration={"awsvpcConfiguration": {
                    "subnets": subnets, "securityGroups": [security_group]}},
                loadBalancers=[{"targetGroupArn": groups[color], "containerName": "web",
                                "containerPort": 8080}])
        lb_dim = lb["LoadBalancerArn"].split(":loadbalancer/")[1]
        for minutes_ago in range(1, 7):
            at = now - datetime.timedelta(minutes=minutes_ago)
            for color, requests in (("blue", 900.0), ("green", 100.0)):
                errors = 8.0 if (color == "green" and p == args.bad) else 0.2 * requests / 100
                dims = [{"Name": "LoadBalancer", "Value": lb_dim},
                        {"Name": "TargetGroup", "Value": groups[color].split(":")[-1]}]
                data += [
                    {"MetricName": "RequestCount", "Dimensions": dims, "Timestamp": at,
                     "Value": requests, "Unit": "Count"},
                    {"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dims,
                     "Timestamp": at, "Value": errors, "Unit": "Count"},
                    {"MetricName": "TargetResponseTime", "Dimensions": dims, "Timestamp": at,
                     "Value": 0.08, "Unit": "Seconds"},
                    {"MetricName": "HealthyHostCount", "Dimensions": dims, "Timestamp": at,
                     "Value": 2.0, "Unit": "Count"},
                ]
        pairs.append({"name": pair, "rule_arn": rule["RuleArn"], "cluster": cluster,
                      "target_groups": groups})
    # PutMetricData takes up to 1000 metrics a request (and 1 MB): fewer, larger requests.
    for i in range(0, len(data), 200):
        cw.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data[i:i + 200])
    put_alarms(cw, args.alarm)
    print(json.dumps({"pairs": pairs}))


if __name__ == "__main__":
    main()
