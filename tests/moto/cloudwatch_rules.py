"""CloudWatch as the API reference documents it, where moto 5.2.5 is more lenient: the input
constraints of every CloudWatch request cutover sends (GetMetricData, DescribeAlarms), and one
Metrics Insights query a GetMetricData request ("Maximum number of queries (1) exceeded").

moto cannot run Metrics Insights queries: the double answers each `SELECT` itself with an
empty, Complete series. Test hooks (loopback only, never sent by cutover):
- POST /_double/cw-series?id=ID&marker=TEXT&status=InternalError[&series=N]: from now on the
  results for query ID, in requests where that query's text holds TEXT (an estate's name, so
  tests running at once do not meet each other's faults), come back with that StatusCode, no points and a message (as CloudWatch does when
  it could not read a series); with series=N, N series under that one id, each with its own
  label (what a SEARCH() or GROUP BY returns), status Complete.

Sources: the CloudWatch API Reference pages GetMetricData, MetricDataQuery, MetricStat, Metric,
Dimension and DescribeAlarms. Each rule answers as CloudWatch does: 400 with the error code the
reference lists (InvalidParameterValue, InvalidParameterCombination, ValidationError).
"""
import json
import re

ID_PATTERN = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
# SampleCount, Average, Sum, Minimum, Maximum, percentiles and the trimmed/winsorized family
# (CloudWatch User Guide, "Statistics definitions").
STAT_PATTERN = re.compile(
    r"^(SampleCount|Average|Sum|Minimum|Maximum|IQM|p\d{1,2}(\.\d{1,10})?|p100"
    r"|(tm|wm|tc|ts)\d{1,2}(\.\d{1,10})?|(TM|WM|TC|TS|PR|tm|wm|tc|ts)\([^)]*\))$")
ALARM_TYPES = {"CompositeAlarm", "MetricAlarm"}
STATE_VALUES = {"OK", "ALARM", "INSUFFICIENT_DATA"}
MAX_QUERIES = 500
MAX_DIMENSIONS = 30
MAX_ALARM_NAMES = 100


def length_ok(value, low, high):
    return isinstance(value, str) and low <= len(value) <= high


def check_metric_stat(stat, where):
    metric = stat.get("Metric") or {}
    namespace = metric.get("Namespace", "")
    if not length_ok(namespace, 1, 255) or namespace.startswith(":"):
        return ("InvalidParameterValue",
                f"{where}.MetricStat.Metric.Namespace must be 1 to 255 characters, not "
                f"starting with ':'")
    if not length_ok(metric.get("MetricName", ""), 1, 255):
        return ("InvalidParameterValue", f"{where}.MetricStat.Metric.MetricName must be 1 to 255 "
                                         f"characters")
    dimensions = metric.get("Dimensions") or []
    if len(dimensions) > MAX_DIMENSIONS:
        return ("InvalidParameterValue", f"{where}: at most {MAX_DIMENSIONS} dimensions")
    for d in dimensions:
        if not length_ok(d.get("Name", ""), 1, 255) or not length_ok(d.get("Value", ""), 1, 1024):
            return ("InvalidParameterValue",
                    f"{where}: a dimension name must be 1 to 255 characters and its value 1 to "
                    f"1024")
    period = stat.get("Period")
    if not isinstance(period, int) or period < 1 or (period >= 60 and period % 60) \
            or (period < 60 and period not in (1, 5, 10, 20, 30)):
        return ("InvalidParameterValue",
                f"{where}.MetricStat.Period must be 1, 5, 10, 20, 30, 60 or a multiple of 60")
    if not STAT_PATTERN.match(str(stat.get("Stat", ""))):
        return ("InvalidParameterValue", f"{where}.MetricStat.Stat '{stat.get('Stat')}' is not "
                                         f"a statistic")
    return None


def check_get_metric_data(request):
    queries = request.get("MetricDataQueries") or []
    if not 1 <= len(queries) <= MAX_QUERIES:
        return ("InvalidParameterValue",
                f"MetricDataQueries must hold 1 to {MAX_QUERIES} queries")
    if not (isinstance(request.get("StartTime"), (int, float))
            and isinstance(request.get("EndTime"), (int, float))
            and request["StartTime"] < request["EndTime"]):
        return ("InvalidParameterValue", "The parameter StartTime must be less than EndTime")
    seen = set()
    for i, query in enumerate(queries, start=1):
        where = f"MetricDataQueries.member.{i}"
        query_id = query.get("Id", "")
        if not length_ok(query_id, 1, 255) or not ID_PATTERN.match(query_id):
            return ("ValidationError",
                    f"{where}.Id '{query_id}' must start with a lowercase letter and hold only "
                    f"letters, numbers and underscores")
        if query_id in seen:
            return ("ValidationError", f"The value {query_id} for field Id must be unique")
        seen.add(query_id)
        has_stat, has_expression = "MetricStat" in query, "Expression" in query
        if has_stat == has_expression:
            return ("ValidationError",
                    f"{where}: exactly one of MetricStat and Expression must be set")
        if has_expression:
            if not length_ok(query["Expression"], 1, 2048):
                return ("ValidationError", f"{where}.Expression must be 1 to 2048 characters")
            period = query.get("Period")
            if period is not None and (not isinstance(period, int) or period < 1):
                return ("ValidationError", f"{where}.Period must be at least 1")
        else:
            problem = check_metric_stat(query["MetricStat"], where)
            if problem:
                return problem
    selects = [q for q in queries if is_insights(q)]
    if len(selects) > 1:
        return ("ValidationError", "Maximum number of queries (1) exceeded")
    if not any(q.get("ReturnData", True) for q in queries):
        return ("ValidationError", "at least one query must return data (ReturnData)")
    return None


def is_insights(query):
    return str(query.get("Expression", "")).lstrip()[:6].upper() == "SELECT"


SERIES_FAULTS = {}


def set_series_fault(query):
    SERIES_FAULTS[(query["id"], query["marker"])] = (query.get("status", "Complete"),
                                                     int(query.get("series", "1")))


def answer_insights(request):
    """Takes the Metrics Insights queries out of a GetMetricData request (moto cannot run them)
    and returns their answers: one empty, Complete series each."""
    queries = request.get("MetricDataQueries") or []
    request["MetricDataQueries"] = [q for q in queries if not is_insights(q)]
    return [{"Id": q["Id"], "Label": q["Id"], "Timestamps": [], "Values": [],
             "StatusCode": "Complete"} for q in queries if is_insights(q)]


def with_series_faults(results, queries):
    """The results as CloudWatch answers them under the faults set by the hook."""
    text = {q.get("Id"): json.dumps(q) for q in queries}
    out = []
    for result in results:
        query_id = result.get("Id")
        fault = next((f for (i, marker), f in SERIES_FAULTS.items()
                      if i == query_id and marker in text.get(query_id, "")), None)
        if fault is None:
            out.append(result)
            continue
        status, count = fault
        if count > 1:
            out += [dict(result, Label=f"{result.get('Label', result['Id'])} {n}")
                    for n in range(count)]
        else:
            out.append(dict(result, StatusCode=status, Timestamps=[], Values=[],
                            Messages=[{"Code": status, "Value": "injected by the test double"}]))
    return out


def check_describe_alarms(request):
    names = request.get("AlarmNames")
    if names is not None:
        if len(names) > MAX_ALARM_NAMES:
            return ("ValidationError", f"AlarmNames holds at most {MAX_ALARM_NAMES} names")
        if any(not length_ok(n, 1, 255) for n in names):
            return ("ValidationError", "each of AlarmNames must be 1 to 255 characters")
        if request.get("AlarmNamePrefix") is not None:
            return ("InvalidParameterCombination",
                    "AlarmNamePrefix and AlarmNames cannot be specified together")
    records = request.get("MaxRecords")
    if records is not None and not 1 <= records <= 100:
        return ("ValidationError", "MaxRecords must be 1 to 100")
    if any(t not in ALARM_TYPES for t in request.get("AlarmTypes") or []):
        return ("ValidationError", "AlarmTypes takes CompositeAlarm and MetricAlarm")
    state = request.get("StateValue")
    if state is not None and state not in STATE_VALUES:
        return ("ValidationError", f"StateValue '{state}' is not OK, ALARM or INSUFFICIENT_DATA")
    return None


CHECKS = {"GetMetricData": check_get_metric_data, "DescribeAlarms": check_describe_alarms}


def problem(operation, request):
    """(code, message) when CloudWatch would refuse the request, else None."""
    check = CHECKS.get(operation)
    return check(request) if check else None


def install_indexed_metric_data():
    """Moto answers GetMetricData by scanning every datapoint for every query and every
    period; a fleet's one call of 405 metrics over 15 minutes then takes longer than cutover's
    attempt timeout, where CloudWatch answers in a second. The same answer, from datapoints
    indexed once per call by metric name and dimensions: only for calls made of plain metric
    queries with dimensions (expressions and Metrics Insights go to moto's own code)."""
    from collections import defaultdict
    from datetime import timedelta

    from moto.cloudwatch.models import CloudWatchBackend, Statistics

    original = CloudWatchBackend.get_metric_data

    def key(name, dimensions):
        return name, tuple(sorted((d["Name"], d["Value"]) for d in dimensions))

    def indexed(self, queries, start_time, end_time, scan_by="TimestampAscending"):
        plain = all("MetricStat" in q and q["MetricStat"]["Metric"].get("Dimensions")
                    and not q["MetricStat"].get("Unit") for q in queries)
        start_time = start_time.replace(microsecond=0)
        end_time = end_time.replace(microsecond=0)
        if not plain or start_time >= end_time:
            return original(self, queries, start_time, end_time, scan_by)
        by_metric = defaultdict(list)
        for md in self.get_all_metrics():
            if start_time <= md.timestamp < end_time:
                dims = [{"Name": d.name, "Value": d.value} for d in md.dimensions]
                by_metric[key(md.name, dims)].append(md)
        results = []
        for query in queries:
            stat_query = query["MetricStat"]
            metric = stat_query["Metric"]
            delta = timedelta(seconds=int(stat_query["Period"]))
            stat = stat_query["Stat"]
            periods = defaultdict(list)
            for md in by_metric.get(key(metric["MetricName"], metric["Dimensions"]), []):
                periods[(md.timestamp - start_time) // delta].append(md)
            values, timestamps = [], []
            for index in sorted(periods):
                at = start_time + index * delta
                stats = Statistics([stat], at)
                stats.metric_data = periods[index]
                values.append(stats.get_statistics_for_type(stat))
                timestamps.append(stats.timestamp)
            if scan_by == "TimestampDescending":
                values.reverse()
                timestamps.reverse()
            if query.get("ReturnData", True):
                results.append({
                    "id": query["Id"],
                    "label": query.get("Label") or f"{metric['MetricName']} {stat}",
                    "values": values,
                    "timestamps": timestamps,
                    "status_code": "Complete",
                })
        return results

    CloudWatchBackend.get_metric_data = indexed
