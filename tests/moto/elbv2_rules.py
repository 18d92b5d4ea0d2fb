"""The ELBv2 rules real AWS enforces and moto 5.2.5 skips, for every request cutover sends.

Each check cites the AWS API reference (Elastic Load Balancing API Reference, version
2015-12-01) it comes from; the README's "How the AWS path is tested" lists them.

- AddTags / RemoveTags (`Tag` data type, AddTags "Errors"): keys match
  ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$ and are 1-128 characters, values match the same pattern and
  are at most 256 characters, keys may not begin with `aws:`, at most 50 tags a resource
  (TooManyTags), no key twice in one call (DuplicateTagKeys).
- ModifyRule on a listener's default rule is refused (OperationNotPermitted): a default
  action is changed with ModifyListener.
- ModifyRule / ModifyListener: an `authenticate-oidc` action without its ClientSecret is
  refused unless it says UseExistingClientSecret=true (`AuthenticateOidcActionConfig`); with
  it, the existing secret stays. Describe* never returns ClientSecret.
- `TargetGroupTuple.Weight` is 0-999; a `ForwardActionConfig` names at most 5 target groups.
- Authentication actions (`authenticate-oidc`, `authenticate-cognito`) are allowed on HTTPS
  listeners only (ModifyRule, ModifyListener, CreateRule, CreateListener):
  InvalidConfigurationRequest otherwise.
- DescribeTargetGroups filters by one of LoadBalancerArn, TargetGroupArns or Names, not two
  (ValidationError); PageSize is 1-400, and so it is for DescribeRules and DescribeListeners.
- DescribeRules and DescribeListeners answer in pages (`NextMarker`); moto pages rules at 50
  when no PageSize is given and never pages listeners.

Test hooks (loopback only, never sent by cutover):
- POST /_double/deny?action=AddTags&arn=ARN[&code=AccessDenied]: answer that action on that
  resource with the error (AccessDenied 403, Throttling 400, TooManyTags 400), until
- POST /_double/allow?action=AddTags&arn=ARN
- POST /_double/delay?action=ModifyRule&arn=ARN&seconds=S: that action on that resource is
  answered S seconds late (the write applied first), until allowed again
- POST /_double/hold?action=ModifyRule&arn=ARN&seconds=S: the next such request is held S
  seconds before it is applied, and applied then even if the client gave up on it meanwhile
  (AWS can apply a request after the client's timeout)
- POST /_double/fail-after?action=ModifyRule&arn=ARN&times=N: the next N such requests are
  applied, then answered with a 500 InternalFailure (the answer lost after the write)
- GET /_double/oidc-secret?arn=ARN: the client secret the rule or listener holds now.
- ELB's token buckets, for callers a test names (tests/moto/buckets.py):
  POST /_double/elb-budget?key=AKID[&others=N][&tokens=T], GET /_double/elb-spent?key=AKID.
- POST /_double/page-size?arn=LISTENER&size=N: DescribeRules of that listener answers at most
  N rules a page, whatever PageSize asked (AWS may answer fewer than asked; a reader must follow NextMarker).
"""
import io
import re
import threading
import time
import unicodedata
import urllib.parse
from xml.sax.saxutils import escape

from moto.elbv2.models import elbv2_backends

import buckets

VERSION = "2015-12-01"
ACCOUNT = "123456789012"
TAG_PUNCTUATION = set("_.:/=+-@")
MAX_TAGS = 50
ERRORS = {
    "AccessDenied": "403 Forbidden",
    "Throttling": "400 Bad Request",
    "TooManyTags": "400 Bad Request",
}

_denied = {}
_delayed = {}
_fail_after = {}
_page_cap = {}
_held = {}
_lock = threading.Lock()


def error(start_response, code, message, status="400 Bad Request"):
    body = (
        f'<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/{VERSION}/">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message>"
        "</Error><RequestId>double</RequestId></ErrorResponse>"
    ).encode()
    start_response(status, [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
    return [body]


def plain(start_response, text, status="200 OK"):
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def region_of(arn):
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else "us-east-1"


def backend(arn):
    return elbv2_backends[ACCOUNT][region_of(arn)]


def members(form, prefix):
    """`prefix.member.N.rest` -> {N: {rest: value}} in N order."""
    out = {}
    pattern = re.compile(rf"^{re.escape(prefix)}\.member\.(\d+)(?:\.(.*))?$")
    for key, value in form.items():
        m = pattern.match(key)
        if m:
            out.setdefault(int(m.group(1)), {})[m.group(2) or ""] = value
    return dict(sorted(out.items()))


def in_tag_pattern(text):
    """^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$, character by character (Python's re has no \\p{..})."""
    return all(unicodedata.category(c)[0] in "LZN" or c in TAG_PUNCTUATION for c in text)


def tag_problem(key, value):
    if key is None or not (1 <= len(key) <= 128):
        return f"Tag key '{key}' must be 1 to 128 characters"
    if key.lower().startswith("aws:"):
        return f"Tag key '{key}' may not begin with 'aws:'"
    if not in_tag_pattern(key):
        return (f"1 validation error detected: Value '{key}' at 'tags.1.member.key' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$")
    if value is not None:
        if len(value) > 256:
            return f"Tag value for key '{key}' must be at most 256 characters"
        if not in_tag_pattern(value):
            return (f"1 validation error detected: Value '{value}' at 'tags.1.member.value' "
                    "failed to satisfy constraint: Member must satisfy regular expression "
                    r"pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$")
    return None


def current_actions(arn, listener):
    """The actions moto holds now for a rule or a listener's default, or None."""
    b = backend(arn)
    try:
        if listener:
            return b.describe_listeners(None, [arn])[0].default_actions
        return b.describe_rules(None, [arn])[0].actions
    except Exception:  # noqa: BLE001 - not found: moto answers that itself
        return None


def is_default_rule(arn):
    try:
        return backend(arn).describe_rules(None, [arn])[0].is_default
    except Exception:  # noqa: BLE001
        return False


def existing_secret(arn, listener):
    for action in current_actions(arn, listener) or []:
        config = action.data.get("AuthenticateOidcConfig") or {}
        if config.get("ClientSecret"):
            return config["ClientSecret"]
    return None


def check_actions(form, field, arn, listener):
    """Returns (problem, form) with the existing secret filled in where it is kept."""
    for index, action in members(form, field).items():
        base = f"{field}.member.{index}."
        if action.get("Type") == "authenticate-oidc":
            has_secret = bool(action.get("AuthenticateOidcConfig.ClientSecret"))
            keep = action.get("AuthenticateOidcConfig.UseExistingClientSecret", "").lower()
            if not has_secret and keep != "true":
                return ("ValidationError",
                        "You must specify a client secret for an OIDC action, or set "
                        "UseExistingClientSecret to true to keep the existing one"), form
            if not has_secret:
                secret = existing_secret(arn, listener)
                if secret is None:
                    return ("ValidationError",
                            "UseExistingClientSecret is true but there is no existing client "
                            "secret"), form
                form[base + "AuthenticateOidcConfig.ClientSecret"] = secret
            form.pop(base + "AuthenticateOidcConfig.UseExistingClientSecret", None)
        prefix = "ForwardConfig.TargetGroups.member."
        indexes = set()
        for key, value in action.items():
            if key.startswith(prefix):
                number, _, rest = key[len(prefix):].partition(".")
                indexes.add(number)
                if rest == "Weight":
                    try:
                        weight = int(value)
                    except ValueError:
                        weight = -1
                    if not 0 <= weight <= 999:
                        return ("ValidationError",
                                f"1 validation error detected: Value '{value}' at "
                                "'actions.member.forwardConfig.targetGroups.member.weight' "
                                "failed to satisfy constraint: Member must have value between "
                                "0 and 999"), form
        if len(indexes) > 5:
            return ("ValidationError",
                    "A forward action can have at most 5 target groups"), form
    return None, form


AUTHENTICATE = ("authenticate-oidc", "authenticate-cognito")


def listener_protocol(form, action):
    """The protocol of the listener a request's actions go on."""
    if action == "CreateListener" or (action == "ModifyListener" and "Protocol" in form):
        return form.get("Protocol", "HTTP")
    if action in ("CreateRule", "ModifyListener"):
        arn = form.get("ListenerArn", "")
    else:
        rule = form.get("RuleArn", "")
        arn = rule.replace(":listener-rule/", ":listener/").rsplit("/", 1)[0]
    try:
        return backend(arn).describe_listeners(None, [arn])[0].protocol
    except Exception:  # noqa: BLE001 - not found: moto answers that itself
        return None


def authentication_problem(form, action):
    field = "DefaultActions" if action in ("CreateListener", "ModifyListener") else "Actions"
    authenticates = any(a.get("Type") in AUTHENTICATE for a in members(form, field).values())
    if authenticates and listener_protocol(form, action) not in (None, "HTTPS"):
        return ("InvalidConfigurationRequest",
                "Authenticate actions are supported only on HTTPS listeners")
    return None


def strip_secrets(payload):
    """Describe never returns an OIDC action's client secret (nor UseExistingClientSecret)."""
    payload = re.sub(rb"<ClientSecret>.*?</ClientSecret>", b"", payload, flags=re.S)
    return re.sub(rb"<UseExistingClientSecret>.*?</UseExistingClientSecret>", b"", payload,
                  flags=re.S)


def hooks(environ, start_response):
    path = environ.get("PATH_INFO", "")
    query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
    answered = buckets.hook(path, query)
    if answered:
        status, text = answered
        return plain(start_response, text, status)
    if path == "/_double/deny":
        with _lock:
            _denied[(query["action"], query["arn"])] = query.get("code", "AccessDenied")
        return plain(start_response, "denied")
    if path == "/_double/delay":
        with _lock:
            _delayed[(query["action"], query["arn"])] = float(query["seconds"])
        return plain(start_response, "delayed")
    if path == "/_double/fail-after":
        with _lock:
            _fail_after[(query["action"], query["arn"])] = int(query.get("times", "1"))
        return plain(start_response, "failing after")
    if path == "/_double/hold":
        with _lock:
            _held[(query["action"], query["arn"])] = float(query["seconds"])
        return plain(start_response, "holding")
    if path == "/_double/page-size":
        with _lock:
            _page_cap[query["arn"]] = int(query["size"])
        return plain(start_response, "paging")
    if path == "/_double/allow":
        with _lock:
            _denied.pop((query["action"], query["arn"]), None)
            _delayed.pop((query["action"], query["arn"]), None)
        return plain(start_response, "allowed")
    if path == "/_double/oidc-secret":
        arn = query["arn"]
        secret = existing_secret(arn, ":listener/" in arn)
        return plain(start_response, secret or "", "200 OK" if secret else "404 Not Found")
    return plain(start_response, f"no hook {path}", "404 Not Found")


class Elbv2Rules:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_double/") and not path.startswith(("/_double/ecs-",
                                                                 "/_double/cw-")):
            return hooks(environ, start_response)
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("HTTP_X_AMZ_TARGET"):
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        form = dict(urllib.parse.parse_qsl(raw.decode(errors="replace"), keep_blank_values=True))
        if form.get("Version") != VERSION:
            return self.app(environ, start_response)
        action = form.get("Action", "")
        if not buckets.admits(environ, action):
            return error(start_response, "ThrottlingException", "Rate exceeded")
        arns = [form[k] for k in form if re.match(r"^ResourceArns\.member\.\d+$", k)]
        arns += [form[k] for k in ("RuleArn", "ListenerArn", "TargetGroupArn") if k in form]
        with _lock:
            denied = next((_denied[(action, a)] for a in arns if (action, a) in _denied), None)
            delay = next((_delayed[(action, a)] for a in arns if (action, a) in _delayed), 0.0)
            hold = next((_held.pop((action, a)) for a in arns if (action, a) in _held), 0.0)
            lose_answer = False
            for a in arns:
                if _fail_after.get((action, a), 0) > 0:
                    _fail_after[(action, a)] -= 1
                    lose_answer = True
        if denied:
            return error(start_response, denied,
                         f"injected by the test double: {action} answers {denied}",
                         ERRORS.get(denied, "400 Bad Request"))
        problem = None
        if action == "AddTags":
            tags = members(form, "Tags")
            keys = [t.get("Key") for t in tags.values()]
            if len(set(keys)) != len(keys):
                problem = ("DuplicateTagKeys", "Tag key was specified more than once")
            for tag in tags.values():
                problem = problem or (
                    ("ValidationError", why) if (why := tag_problem(tag.get("Key"),
                                                                    tag.get("Value"))) else None)
            if problem is None:
                for arn in arns:
                    existing = backend(arn).tagging_service.get_tag_dict_for_resource(arn)
                    if len(set(existing) | set(keys)) > MAX_TAGS:
                        problem = ("TooManyTags",
                                   f"The quota for the number of tags that can be assigned to "
                                   f"a load balancer resource has been reached ({MAX_TAGS})")
        elif action == "RemoveTags":
            for key in members(form, "TagKeys").values():
                problem = problem or (
                    ("ValidationError", why) if (why := tag_problem(key.get(""), None)) else None)
        elif action == "ModifyRule":
            arn = form.get("RuleArn", "")
            if is_default_rule(arn):
                problem = ("OperationNotPermitted",
                           f"Default rule '{arn}' cannot be modified: change a listener's "
                           "default actions with ModifyListener")
            else:
                problem, form = check_actions(form, "Actions", arn, listener=False)
        elif action == "DescribeTargetGroups":
            filters = [f for f in ("LoadBalancerArn", "TargetGroupArns", "Names")
                       if f in form or any(k.startswith(f + ".member.") for k in form)]
            size = form.get("PageSize")
            if len(filters) > 1:
                problem = ("ValidationError",
                           f"{' and '.join(filters)} cannot be specified together: give one")
            elif size is not None and not (size.isdigit() and 1 <= int(size) <= 400):
                problem = ("ValidationError", f"PageSize {size} is not in 1-400")
        elif action in ("DescribeRules", "DescribeListeners"):
            size = form.get("PageSize")
            if size is not None and not (size.isdigit() and 1 <= int(size) <= 400):
                problem = ("ValidationError", f"PageSize {size} is not in 1-400")
            with _lock:
                cap = next((_page_cap[a] for a in arns if a in _page_cap), None)
            if action == "DescribeRules" and cap is not None and not problem:
                form["PageSize"] = str(min(int(size or 50), cap))
        elif action == "ModifyListener":
            problem, form = check_actions(form, "DefaultActions", form.get("ListenerArn", ""),
                                          listener=True)
        if problem is None and action in ("ModifyRule", "ModifyListener", "CreateRule",
                                          "CreateListener"):
            problem = authentication_problem(form, action)
        if problem:
            return error(start_response, *problem)
        time.sleep(hold)
        body = urllib.parse.urlencode(form).encode()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        if action not in ("DescribeRules", "DescribeListeners", "ModifyRule", "ModifyListener",
                          "CreateRule", "CreateListener"):
            answer = self.app(environ, start_response)
            time.sleep(delay)
            return answer
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = self.app(environ, capture)
        payload = strip_secrets(b"".join(chunks))
        time.sleep(delay)
        if lose_answer:
            if hasattr(chunks, "close"):
                chunks.close()
            return error(start_response, "InternalFailure",
                         "injected by the test double after applying the change",
                         "500 Internal Server Error")
        if hasattr(chunks, "close"):
            chunks.close()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(payload))))
        start_response(captured["status"], headers)
        return [payload]
