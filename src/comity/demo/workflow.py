"""The workflow scenarios of shared/design/scenarios.md (2, 4, 5, 6 and the preservation
lifecycle of 1), run against real nodes by `comity demo` and by tests/federation."""

from __future__ import annotations

from datetime import timedelta

from comity.demo.federation import DemoFailed, Federation, Say, refused, wait_until
from comity.demo.samples import load_request, preservation_request
from comity.kit.clock import utc_now

#: The demo compresses the 24/7 desk's hour to acknowledge into a few seconds.
DEMO_DUTY_ACK_SECONDS = 4


def _in_days(days: int) -> str:
    return (utc_now() + timedelta(days=days)).date().isoformat()


def preservation_lifecycle(fed: Federation, say: Say) -> None:
    xa, xb = fed.officer("XA", "xa-duty"), fed.officer("XB", "xb-duty")
    say("Scenario 1c — preservation extended, traffic data disclosed, then the follow-up MLA")
    case = xa.create("preservation", "XB", preservation_request())["id"]
    xa.act(case, "submit")
    xb.await_state(case, "delivered")
    xb.act(case, "acknowledge")
    xb.act(case, "accept", preserved_until=_in_days(60), note="PB ordered to preserve")
    xa.await_state(case, "accepted")
    xb.act(case, "extend", preserved_until=_in_days(120), note="Extended at XA's request")
    wait_until(
        lambda: xa.call("GET", f"/v1/cases/{case}/workflow")["preserved_until"] == _in_days(120),
        20,
        "XA never saw the extension",
    )
    say(f"  XB accepts for 60 days (budapest 29(7)), then extends to {_in_days(120)}; XA sees it")
    xb.call(
        "POST",
        f"/v1/cases/{case}/disclosure",
        json={
            "provider": "Carpania Relay SA",
            "provider_state": "XC",
            "communication": "198.51.100.23 <- 203.0.113.9, 2026-08-14 23:02 UTC",
            "traffic_data": "source 203.0.113.9:44321 (Carpania Relay SA, account r-77)",
            "summary": "Traffic data showing the relay in Carpania (budapest 30)",
        },
    )
    xa.await_state(case, "partially-executed")
    offers = wait_until(
        lambda: [
            c
            for c in xa.call("GET", "/v1/cases", params={"state": "draft"})
            if c["counterpart"] == "XC" and c["kind"] == "preservation"
        ],
        20,
        "no preservation offer to XC",
    )
    say(
        f"  XB discloses traffic data (budapest 30): XA is offered a pre-filled preservation"
        f" request {offers[0]['id']} to XC under {offers[0]['instrument'] or '?'}"
    )
    mla = xa.create("mla", "XB", {**load_request("mla"), "follows_preservation": case})["id"]
    xa.act(mla, "submit")
    xb.await_state(mla, "delivered")
    linked = xb.call("GET", f"/v1/cases/{mla}/workflow")["linked_to"]
    if linked != case:
        raise DemoFailed("the follow-up MLA was not linked to its preservation")
    say(
        "  XA's follow-up MLA is linked to the preservation on both nodes: the data stays"
        " preserved until XB decides on the MLA"
    )


def emergency_escalation(fed: Federation, say: Say) -> None:
    xa = fed.officer("XA", "xa-duty")
    admin = fed.officer("XD", "xd-admin")
    supervisor = fed.officer("XD", "xd-supervisor")
    say("Scenario 2 — a child at risk: emergency disclosure to XD, escalated when unanswered")
    for user, rank, role in (
        ("xd-duty-1", 1, "officer"),
        ("xd-duty-2", 2, "officer"),
        ("xd-supervisor", 9, "supervisor"),
    ):
        admin.call(
            "PUT",
            f"/v1/duty/roster/{user}",
            json={
                "rank": rank,
                "role": role,
                "timezone": "Asia/Dubai",
                "email": f"{user}@xd.invalid",
            },
        )
    say("  XD's roster: xd-duty-1, then xd-duty-2, supervisor xd-supervisor (Asia/Dubai)")
    request = load_request("emergency-disclosure")
    only_subscriber = {**request, "data_categories": ["subscriber"]}
    check = xa.call("POST", "/v1/requests/check", json=only_subscriber)
    # XD's declaration (no emergency requests for subscriber data alone) is flagged: it blocks
    # once its reading is verified against the Protocol's text, and warns until then.
    flagged = [f for f in check.get("findings", []) if f.get("code") == "declaration-effect"]
    if not flagged:
        raise DemoFailed("a subscriber-only emergency request to XD was not flagged")
    mark = "" if flagged[0].get("verified") else ", reading not verified"
    say(
        f"  Drafting check: subscriber only → {flagged[0].get('severity')}"
        f" ({flagged[0].get('citation', '')}{mark})"
    )
    case = xa.create("emergency-disclosure", "XD", request)["id"]
    xa.act(case, "submit")
    assignments = f"/v1/duty/assignments?case_id={case}"
    wait_until(lambda: admin.call("GET", assignments), 20, "XD did not assign the request")
    say(
        "  XD's node assigns it to xd-duty-1, who must acknowledge within the hour"
        f" (compressed to {DEMO_DUTY_ACK_SECONDS} s for the demo)"
    )
    wait_until(
        lambda: any(a["user"] == "xd-duty-2" for a in admin.call("GET", assignments)),
        30,
        "no escalation",
    )
    say("  No acknowledgement: escalated to xd-duty-2; the supervisor is notified")
    notes = supervisor.call("GET", "/v1/notifications")
    if not any(n["topic"] == "duty-escalation" for n in notes):
        raise DemoFailed("the supervisor was not told of the escalation")
    supervisor.act(case, "acknowledge", note="Supervisor on it")
    xa.await_state(case, "acknowledged")
    states = {a["user"]: a["status"] for a in admin.call("GET", assignments)}
    say(f"  The supervisor acknowledges; XA sees 'acknowledged'; assignments: {states}")
    supervisor.act(case, "accept", note="PD ordered to disclose")
    supervisor.act(case, "execute", summary="Subscriber data and IP logs from PD")
    xa.await_state(case, "executed")
    xa.act(case, "confirm-formally", reference="Xanadu MoJ 2026/EM-118")
    say("  XD answers within hours; XA sends the formal follow-up XD requires")


def refusal_after_consultation(fed: Federation, say: Say) -> None:
    xb, xc = fed.officer("XB", "xb-duty"), fed.officer("XC", "xc-duty")
    say("Scenario 4 — a refusal done right: XB asks XC for interception (untoc)")
    case = xb.create("interception", "XC", load_request("interception"))["id"]
    xb.act(case, "submit")
    xc.await_state(case, "delivered")
    reason = refused(
        lambda: xc.act(case, "refuse", grounds=["bank-secrecy"], reasons="Bank secrecy"),
        "refusal for bank secrecy",
    )
    say(f"  XC tries to refuse for bank secrecy: {reason}")
    reason = refused(
        lambda: xc.act(case, "refuse", grounds=["essential-interests"], reasons="Political"),
        "refusal without consultation",
    )
    say(f"  XC tries to refuse at once: {reason}")
    xc.act(
        case,
        "consult",
        subject="The case appears connected with a political offence",
        considering=["partial", "conditional"],
    )
    xb.await_state(case, "consulting")
    xb.act(case, "provide-information", information="The targets are not political actors.")
    xc.await_state(case, "consulting")
    xc.act(
        case,
        "refuse",
        grounds=["essential-interests"],
        reasons="Interception of a political party's server would prejudice ordre public.",
    )
    xb.await_state(case, "refused")
    say(
        "  XC consults, XB answers, XC considers partial execution and refuses with ground"
        " and reasons; XB sees 'refused'"
    )
    xb.act(case, "close")


def conditions_on_use(fed: Federation, say: Say) -> None:
    xa, xb, xc = (fed.officer(p, f"{p.lower()}-duty") for p in ("XA", "XB", "XC"))
    say("Scenario 5 — conditions on use")
    case = xa.create("mla", "XB", load_request("mla"))["id"]
    xa.act(case, "submit")
    xb.await_state(case, "delivered")
    xb.act(case, "acknowledge")
    xb.act(
        case,
        "propose-conditions",
        conditions=["Use only in the hospital ransomware case"],
        permitted_proceedings=["Xanadu v. unknown (nightowl)"],
        confidential=True,
    )
    xa.await_state(case, "conditions-proposed")
    xa.act(case, "accept-conditions")
    xb.await_state(case, "accepted")
    xb.act(case, "execute", summary="Disk image and logs, under the accepted conditions")
    xa.await_state(case, "executed")
    carried = xa.call("GET", f"/v1/cases/{case}/workflow")["conditions"]["accepted"]
    say(f"  XB proposes conditions, XA accepts, the answer carries them: {carried['conditions']}")
    info = xc.create("spontaneous-information", "XA", load_request("spontaneous-information"))
    xc.act(info["id"], "submit")
    xa.await_state(info["id"], "delivered")
    xa.act(info["id"], "accept-conditions")
    xc.await_state(info["id"], "accepted")
    reason = refused(
        lambda: xa.call("POST", f"/v1/cases/{info['id']}/onward-transfer", params={"to": "XD"}),
        "onward transfer without consent",
    )
    say(f"  XC sends spontaneous information on conditions; XA accepts; passing it to XD: {reason}")
    xa.act(info["id"], "request-consent", to="XD", purpose="Joint botnet takedown with Dorado")
    wait_until(
        lambda: any(
            e["act"] == "request-consent" for e in xc.call("GET", f"/v1/cases/{info['id']}/events")
        ),
        20,
        "XA's consent request did not reach XC",
    )
    xc.act(info["id"], "consent", to="XD", note="Granted for the takedown only")
    wait_until(
        lambda: (
            "XD"
            in xa.call("GET", f"/v1/cases/{info['id']}/workflow")["conditions"].get(
                "consented_transfers", []
            )
        ),
        20,
        "XC's consent did not reach XA",
    )
    xa.call("POST", f"/v1/cases/{info['id']}/onward-transfer", params={"to": "XD"})
    say("  XA asks XC's consent; XC consents; the transfer to XD is now allowed and recorded")
    xa.act(
        info["id"],
        "notify-disclosure",
        description="Used in XA's botnet investigation only",
        prior=True,
    )
    say("  XA reports its use back to XC")


def withdrawal(fed: Federation, say: Say) -> None:
    xa, xb, xc = (fed.officer(p, f"{p.lower()}-duty") for p in ("XA", "XB", "XC"))
    say("Scenario 6 — no longer needed: XA withdraws its MLA and its preservation")
    mla = xa.create("mla", "XB", load_request("mla"))["id"]
    xa.act(mla, "submit")
    xb.await_state(mla, "delivered")
    xb.act(mla, "acknowledge")
    to_xc = {
        **preservation_request(),
        "requested_party": "XC",
        "instrument": "uncc",
        "language": "en",  # XC accepts Spanish and English, not the French XB takes
    }
    kept = xa.create("preservation", "XC", to_xc)["id"]
    xa.act(kept, "submit")
    xc.await_state(kept, "delivered")
    xc.act(kept, "acknowledge")
    xc.act(kept, "accept", preserved_until=_in_days(90))
    xa.await_state(kept, "accepted")
    for case, officer in ((mla, xb), (kept, xc)):
        xa.act(case, "withdraw", reasons="Suspect arrested; the data was on his laptop")
        officer.await_state(case, "withdrawn")
        officer.act(case, "close", note="Closed after withdrawal")
        xa.await_state(case, "closed")
    say("  XB and XC see the withdrawal at once and close their cases; XA sees 'closed'")


SCENARIOS = (
    preservation_lifecycle,
    emergency_escalation,
    refusal_after_consultation,
    conditions_on_use,
    withdrawal,
)
