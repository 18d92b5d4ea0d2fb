"""ELB's API request throttling as the Elastic Load Balancing user guide describes it ("Request
throttling for the Elastic Load Balancing API"): token buckets per account and Region, each
request taking one token, refilled every second up to the bucket's size; a request that finds
a bucket empty is answered `ThrottlingException` / `Rate exceeded` (HTTP 400) and takes no
token.

- An account-level bucket shared by every ELB API action: 40 tokens, 10 a second.
- A bucket per action on top of it: non-mutating (Describe*) 40 tokens, 10 a second; mutating
  20 tokens, 3 a second.

Moto has one account for every caller, and other tests share the server, so the buckets
meter only callers that a test names by their access key id (the account stand-in): every
other request passes unmetered.

Test hooks (loopback only, never sent by cutover):
- POST /_double/elb-budget?key=AKID[&others=N][&tokens=T]: meter that key's ELB requests from
  now on, its buckets full (or the account bucket at T tokens); the account's other tools
  (Terraform, the AWS console, a controller) spend N of the account bucket's 10 tokens a
  second. Called again, it changes `others` (and `tokens`) and keeps the counts.
- POST /_double/elb-budget?key=AKID&off=1: stop metering that key.
- GET /_double/elb-spent?key=AKID: {"calls": C, "throttled": T, "seconds": S} since metering
  began: the requests answered, the requests throttled, the time.
"""
import json
import threading
import time

ACCOUNT = (40.0, 10.0)
READS = (40.0, 10.0)
WRITES = (20.0, 3.0)

_lock = threading.Lock()
_metered = {}


class Bucket:
    def __init__(self, size, refill, tokens=None):
        self.size, self.refill = size, refill
        self.tokens = size if tokens is None else tokens
        self.at = time.monotonic()

    def top_up(self, now):
        # Whole seconds only: "a set number of tokens is added back every second".
        seconds = int(now - self.at)
        if seconds > 0:
            self.tokens = min(self.size, self.tokens + seconds * self.refill)
            self.at += seconds


class Account:
    def __init__(self, others, tokens):
        size, refill = ACCOUNT
        self.account = Bucket(size, max(0.0, refill - others), tokens)
        self.actions = {}
        self.calls = 0
        self.throttled = 0
        self.since = time.monotonic()

    def take(self, action):
        now = time.monotonic()
        size, refill = READS if action.startswith("Describe") else WRITES
        own = self.actions.setdefault(action, Bucket(size, refill))
        for bucket in (self.account, own):
            bucket.top_up(now)
        if self.account.tokens < 1 or own.tokens < 1:
            self.throttled += 1
            return False
        self.account.tokens -= 1
        own.tokens -= 1
        self.calls += 1
        return True


def access_key(environ):
    """The access key id of a SigV4-signed request: `Credential=AKID/date/region/...`."""
    header = environ.get("HTTP_AUTHORIZATION", "")
    _, _, rest = header.partition("Credential=")
    return rest.split("/", 1)[0] if rest else None


def hook(path, query):
    """Answers the buckets' hooks: (status, body), or None for another path."""
    key = query.get("key", "")
    if path == "/_double/elb-budget":
        with _lock:
            if query.get("off"):
                _metered.pop(key, None)
                return "200 OK", "off"
            others = float(query.get("others", "0"))
            tokens = float(query["tokens"]) if "tokens" in query else None
            account = _metered.get(key)
            if account is None:
                _metered[key] = Account(others, tokens)
            else:
                account.account.top_up(time.monotonic())
                account.account.refill = max(0.0, ACCOUNT[1] - others)
                if tokens is not None:
                    account.account.tokens = tokens
        return "200 OK", "metered"
    if path == "/_double/elb-spent":
        with _lock:
            account = _metered.get(key)
            if account is None:
                return "404 Not Found", f"{key} is not metered"
            spent = {"calls": account.calls, "throttled": account.throttled,
                     "seconds": time.monotonic() - account.since}
        return "200 OK", json.dumps(spent)
    return None


def admits(environ, action):
    """Whether ELB answers this request, or throttles it."""
    key = access_key(environ)
    with _lock:
        account = _metered.get(key)
        return account is None or account.take(action)
