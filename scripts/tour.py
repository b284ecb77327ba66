#!/usr/bin/env python3
"""The README's tour of the default program, run against a node, checking every answer.

Usage: python3 scripts/tour.py [BASE_URL]   (default http://127.0.0.1:5080)
Expectations are computed from the rules and the current time, so it can run any day; each run uses a
fresh member id.
"""
import datetime as dt
import json
import sys
import urllib.error
import urllib.request
import uuid

BASE = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5080").rstrip("/")
P = f"{BASE}/v1/programs/default"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
failures = 0


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(P + path, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def check(what, actual, expected):
    global failures
    ok = actual == expected
    failures += 0 if ok else 1
    print(f"{'ok  ' if ok else 'FAIL'} {what}: {actual!r}" + ("" if ok else f" (expected {expected!r})"))


def instant(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


now_local = dt.datetime.now(SHANGHAI)
member = f"tour-{uuid.uuid4().hex[:8]}"
birth_month = (now_local.month + 5) % 12 + 1  # never this month: no birthday doubling today
two_years_ago = now_local.replace(year=now_local.year - 2, month=6, day=1, hour=10, minute=0, second=0, microsecond=0)
bucket_end = dt.datetime(now_local.year + 2, 1, 1, tzinfo=SHANGHAI)  # earned this year: ends 1 Jan, year after next

status, _ = call("POST", f"/members/{member}", {"birthday": f"{birth_month:02d}-15"})
check("enroll", status, 201)
status, _ = call("POST", f"/members/{member}", {"birthday": f"{birth_month:02d}-15"})
check("enroll again", status, 200)

batch = {"events": [
    {"eventId": "o-old-paid", "memberId": member, "type": "order.paid", "occurredAt": two_years_ago.isoformat(), "orderId": "o-old", "amount": 100.00},
    {"eventId": "o-1-paid", "memberId": member, "type": "order.paid", "orderId": "o-1", "amount": 259.00},
    {"eventId": "s-1", "memberId": member, "type": "sign-in"},
    {"eventId": "s-2", "memberId": member, "type": "sign-in"},
]}
status, body = call("POST", "/events", batch)
check("batch", (status, body["accepted"], body["duplicates"], body["rejected"]), (200, 4, 0, []))
status, body = call("POST", "/events", batch)
check("same batch again", (status, body["accepted"], body["duplicates"]), (200, 0, 4))

status, s = call("GET", f"/members/{member}")
check("tier after orders", s["tier"]["code"], "silver")
check("growth", (s["growth"]["lifetime"], s["growth"]["qualifying"]), (500 + 1295 + 10, 1295 + 10))
check("balance (2024's bucket expired)", s["points"]["balance"], 259 + 5)

status, body = call("POST", "/events", {"eventId": "o-1-refund-1", "memberId": member, "type": "order.refunded", "orderId": "o-1", "amount": 59.00})
check("partial refund", (status, body["accepted"]), (200, 1))
status, body = call("POST", "/events", {"eventId": "o-1-refund-2", "memberId": member, "type": "order.refunded", "orderId": "o-1", "amount": 200.01})
check("refund above what remains", (body["accepted"], body["rejected"][0]["field"]), (0, "amount"))
status, s = call("GET", f"/members/{member}")
check("after refund", (s["tier"]["code"], s["growth"]["lifetime"], s["growth"]["qualifying"], s["points"]["balance"]), ("silver", 500 + 1000 + 10, 1010, 200 + 5))

status, c = call("GET", f"/members/{member}/benefits/free-shipping")
check("free shipping (silver: 2 a month)", (c["entitled"], c["remaining"], c["sources"]), (True, 2, ["tier:silver"]))
status, c = call("GET", f"/members/{member}/benefits/member-price")
check("member price", (c["entitled"], c["reason"]), (False, "tier"))
for i, expected in [(1, (201, 1)), (2, (201, 0))]:
    status, c = call("POST", f"/members/{member}/benefits/free-shipping/uses", {"useId": f"use-{i}", "orderId": f"o-{i + 1}"})
    check(f"use {i}", (status, c["remaining"]), expected)
status, c = call("POST", f"/members/{member}/benefits/free-shipping/uses", {"useId": "use-3"})
check("use over quota", (status, c.get("reason")), (409, "quota"))
status, c = call("POST", f"/members/{member}/benefits/free-shipping/uses", {"useId": "use-1", "orderId": "o-2"})
check("use replayed", (status, c["remaining"]), (201, 1))

status, r = call("POST", f"/members/{member}/points/redemptions", {"redemptionId": "r-1", "points": 100, "reason": "coupon-10"})
check("redeem", (status, r["balance"], [(instant(x["expiresAt"]), x["points"]) for x in r["consumed"]]), (201, 105, [(bucket_end, 100)]))
status, r = call("POST", f"/members/{member}/points/redemptions", {"redemptionId": "r-2", "points": 1000})
check("redeem more than the balance", (status, r.get("reason")), (409, "balance"))

status, sub = call("POST", f"/members/{member}/subscription", {"subscriptionEventId": "sub-1", "plan": "plus", "action": "trial"})
check("trial", (status, sub["status"]), (200, "trial"))
trial_end = instant(sub["expiresAt"])
status, sub = call("POST", f"/members/{member}/subscription", {"subscriptionEventId": "sub-1b", "plan": "plus", "action": "trial"})
check("second trial", (status, sub.get("reason")), (409, "trial-used"))
status, sub = call("POST", f"/members/{member}/subscription", {"subscriptionEventId": "sub-2", "plan": "plus", "action": "purchase", "term": "P1Y"})
check("purchase after trial", (status, sub["status"], instant(sub["expiresAt"])), (200, "active", trial_end.replace(year=trial_end.year + 1)))
status, c = call("GET", f"/members/{member}/benefits/member-price")
check("member price with plus", (c["entitled"], c["value"], c["sources"]), (True, 0.95, ["plan:plus"]))
status, c = call("GET", f"/members/{member}/benefits/free-shipping")
check("free shipping with plus", (c["entitled"], c["remaining"]), (True, None))

status, page = call("GET", f"/members/{member}/ledger?limit=1000")
status, s = call("GET", f"/members/{member}")
check("ledger sums to the balance", sum(e["points"] for e in page["entries"]), s["points"]["balance"])
check("ledger kinds", sorted({e["kind"] for e in page["entries"]}),
      sorted({"enroll", "earn", "expire", "clawback", "benefit-use", "redeem", "subscription", "tier"}))

print(f"{'tour passed' if failures == 0 else f'{failures} check(s) failed'} (member {member})")
sys.exit(1 if failures else 0)
