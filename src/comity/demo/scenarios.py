"""The scenarios `comity demo` runs on its nodes, in the order of docs/user-guide: the
preservation request (1, 1b), the MLA drafted, approved and answered with evidence (1d), the
workflow scenarios of `demo/workflow.py` (1c, 2, 4, 5, 6), and the audit checkpoints."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from datetime import timedelta

import httpx
from sqlalchemy import select

from comity.audit.models import ReceivedCheckpoint
from comity.demo.directory import STATES
from comity.demo.federation import DemoFailed, Federation, Officer, Say, refused, wait_until
from comity.demo.samples import load_request, preservation_request
from comity.demo.workflow import SCENARIOS
from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.protocol.signed import read_unverified
from comity.witnesses import service as witnesses

#: The proceeding the evidence of scenario 1d may be used in (its conditions name it).
PROCEEDING = "Xanadu v. unknown (nightowl)"


def run_scenarios(fed: Federation, say: Say) -> None:
    """Every scenario, in the order the user guide tells them, then the audit checkpoints."""
    preservation(fed, say)
    drafted_mla(fed, say)
    for scenario in SCENARIOS:
        scenario(fed, say)
    exchange_checkpoints(fed, say)


def preservation(fed: Federation, say: Say) -> None:
    """Scenario 1 and 1b: XA asks XB to preserve data; the request is delivered, acknowledged,
    accepted, executed and closed; a second one is refused with grounds and reasons."""
    xa_duty = fed.officer("XA", "xa-duty")
    xb_duty = fed.officer("XB", "xb-duty")

    say("Scenario 1 — ransomware against a hospital: XA asks XB to preserve data (budapest 29)")
    draft = xa_duty.create("preservation", "XB", preservation_request())
    case_id = draft["id"]
    say(f"  XA drafts request {case_id}: state {draft['state']}")
    xa_duty.act(case_id, "submit")
    say("  XA submits: sealed (JWS Ed25519 inside JWE X25519/A256GCM) and queued in the outbox")
    xa_duty.await_state(case_id, "delivered")
    say("  XB's node verified it and returned a signed 'delivered' receipt: XA sees 'delivered'")
    opened = xb_duty.case(case_id)
    say(f"  XB's duty officer opens it (state {opened['state']}); a 'retrieved' receipt goes back")
    wait_until(lambda: _has_receipt(xa_duty, case_id, "retrieved"), 20, "no retrieved receipt")
    say("  XA holds the signed 'retrieved' receipt")
    early = (utc_now() + timedelta(days=90)).date().isoformat()
    reason = refused(
        lambda: xb_duty.act(case_id, "accept", preserved_until=early),
        "accept before acknowledge",
    )
    say(f"  XB tries to accept before acknowledging: refused — {reason}")
    xb_duty.act(case_id, "acknowledge", note="Received by the Borduria 24/7 desk")
    xa_duty.await_state(case_id, "acknowledged")
    say("  XB acknowledges; XA sees 'acknowledged'")
    until = (utc_now() + timedelta(days=90)).date().isoformat()
    xb_duty.act(case_id, "accept", preserved_until=until, note="PB ordered to preserve")
    xa_duty.await_state(case_id, "accepted")
    say(f"  XB accepts: data preserved until {until}")
    xb_duty.act(case_id, "execute", summary="PB confirmed preservation of logs and disk image")
    xa_duty.await_state(case_id, "executed")
    say("  XB executes; XA sees 'executed'")
    xa_duty.act(case_id, "close", note="Follow-up MLA to be sent by the central authority")
    xb_duty.await_state(case_id, "closed")
    say("  XA closes the request; XB sees 'closed'")

    say("Scenario 1b — a preservation request refused with grounds and reasons (budapest 29(5))")
    second = xa_duty.create("preservation", "XB", preservation_request())
    xa_duty.act(second["id"], "submit")
    xb_duty.await_state(second["id"], "delivered")
    xb_duty.act(
        second["id"],
        "refuse",
        grounds=["essential-interests"],
        reasons="Execution would prejudice the security of Borduria's critical systems.",
    )
    xa_duty.await_state(second["id"], "refused")
    say("  XB refuses on 'essential-interests' with reasons; XA sees 'refused'")
    reason = refused(lambda: xb_duty.act(second["id"], "execute"), "execute after refusal")
    say(f"  XB tries to execute after refusing: refused — {reason}")


def drafted_mla(fed: Federation, say: Say) -> None:
    """Scenario 1, Monday: the central authority drafts the MLA, checks it against the law,
    a second officer approves it (four eyes), and it is dispatched on the route the law gives."""
    drafter = fed.officer("XA", "xa-drafter")
    authoriser = fed.officer("XA", "xa-authoriser")
    xb_duty = fed.officer("XB", "xb-duty")
    say("Scenario 1d — XA's central authority drafts the MLA for the disk image (budapest 31)")
    document = load_request("mla")
    incomplete = {k: v for k, v in document.items() if k != "facts_summary"}
    draft = drafter.call(
        "POST",
        "/v1/requests/drafts",
        json={"kind": "mla", "requested": "XB", "document": incomplete},
    )
    # The facts (untoc 18(15)(c) as Budapest 27 reads it) are flagged: blocking where the
    # reading is verified, a warning that says so where it is not.
    missing = [f for f in draft["findings"] if f["element"] == "facts_summary"]
    if not missing:
        raise DemoFailed("the draft without its facts was not flagged")
    mark = "" if missing[0]["verified"] else ", reading not verified"
    say(
        f"  the draft lacks the facts: {missing[0]['severity']} — {missing[0]['message']}"
        f" ({missing[0]['citation']}{mark})"
    )
    draft = drafter.call(
        "PUT",
        f"/v1/requests/drafts/{draft['id']}",
        json={"version": draft["version"], "document": document},
    )
    say(f"  completed: {len(draft['findings'])} finding(s), none blocking: {not draft['blocking']}")
    try:
        drafter.call(
            "POST", f"/v1/requests/drafts/{draft['id']}/approve", json={"version": draft["version"]}
        )
        raise DemoFailed("the drafter approved their own request")
    except ComityError as exc:
        say(f"  the drafter tries to approve it: refused — {exc.message}")
    approved = authoriser.call(
        "POST", f"/v1/requests/drafts/{draft['id']}/approve", json={"version": draft["version"]}
    )
    say(f"  the authorising officer approves it ({approved['approver']})")
    sent = authoriser.call("POST", f"/v1/requests/drafts/{draft['id']}/dispatch")
    xb_duty.await_state(sent["case_id"], "delivered")
    say(f"  dispatched as request {sent['case_id']}; XB's node holds it, 'delivered'")
    evidence_answer(fed, say, sent["case_id"])


def evidence_answer(fed: Federation, say: Say, case_id: str) -> None:
    """XB executes the MLA by returning an evidence package: sealed on XB, transferred in
    encrypted chunks, verified by XA's node before anyone may open it."""
    xa = fed.officer("XA", "xa-duty")
    xb = fed.officer("XB", "xb-duty")
    xb.act(case_id, "acknowledge")
    xb.act(case_id, "accept", note="Search and seizure ordered at Borduria Hosting")
    source = fed.root / "xb-seized"
    (source / "logs").mkdir(parents=True, exist_ok=True)
    (source / "disk-image.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    (source / "logs" / "access.log").write_text(
        "2026-08-14T21:02:11Z 203.0.113.7 POST /pay 200\n", encoding="utf-8"
    )
    package_dir = fed.nodes["XB"].home / "import" / "mla-answer"
    sealed = subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "comity",
            "evidence",
            "seal",
            str(source),
            "--out",
            str(package_dir),
            "--home",
            str(fed.nodes["XB"].home),
            "--request",
            case_id,
            "--description",
            "Forensic image of the server and its access log",
            "--method",
            "Image taken by Borduria Hosting under a Borduria search order",
            "--conditions",
            "Use only in the hospital ransomware case",
            "--proceeding",
            PROCEEDING,
        ],
        env=fed.env,
        capture_output=True,
        text=True,
        check=False,
    )
    if sealed.returncode != 0:
        raise DemoFailed(f"sealing failed: {sealed.stderr.strip() or sealed.stdout.strip()}")
    package = xb.call("POST", "/v1/evidence/packages/import", json={"folder": str(package_dir)})
    xb.call("POST", f"/v1/evidence/packages/{package['id']}/send", json={"to": "XA"})
    say(f"  XB seals the disk image and log ({package['id']}) and sends them in encrypted chunks")
    wait_until(
        lambda: any(
            p["id"] == package["id"] and p["status"] == "verified"
            for p in xa.call("GET", "/v1/evidence/packages")
        ),
        60,
        "XA's node did not receive and verify the evidence package",
    )
    say("  XA's node checked every file against the signed manifest: 'verified'")
    try:
        xa.call("POST", f"/v1/evidence/packages/{package['id']}/open", json={})
        raise DemoFailed("the package opened without acknowledging its conditions")
    except ComityError as exc:
        say(f"  opening without acknowledging the conditions: refused — {exc.message}")
    xa.call(
        "POST",
        f"/v1/evidence/packages/{package['id']}/open",
        json={"acknowledge_conditions": True, "proceeding": PROCEEDING},
    )
    chain = xa.call("GET", f"/v1/evidence/packages/{package['id']}")["custody"]
    actions = [read_unverified(token)[1]["action"] for token in chain]
    say(f"  XA's prosecutor opens it; custody chain: {' → '.join(actions)}")
    xb.act(case_id, "execute", summary="Disk image and access log returned as evidence")
    xa.await_state(case_id, "executed")
    bundle = fed.root / f"court-bundle-{case_id}.zip"
    response = xa.client.post(f"/v1/evidence/bundles/{case_id}", params={"include_files": True})
    if response.status_code != 200:
        raise DemoFailed(f"court bundle: HTTP {response.status_code}")
    bundle.write_bytes(response.content)
    signed_directory = fed.root / "directory.jws"
    signed_directory.write_text(httpx.get(f"{fed.nodes['XA'].url}/v1/directory").text)
    registry_key = fed.root / "registry-key.json"
    registry_key.write_text(json.dumps(fed.registry_key()))
    checked = subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "comity",
            "evidence",
            "verify-bundle",
            str(bundle),
            "--directory",
            str(signed_directory),
            "--registry-key",
            str(registry_key),
        ],
        env=fed.env,
        capture_output=True,
        text=True,
        check=False,
    )
    if checked.returncode != 0:
        raise DemoFailed(f"the court bundle does not verify: {checked.stdout.strip()}")
    say(
        f"  XA's prosecutor exports the court bundle; the defence's expert verifies it offline:"
        f" {checked.stdout.strip().splitlines()[0]}"
    )


def _holds_checkpoint(fed: Federation, holder: str, issuer: str, count: int) -> bool:
    """Whether `holder` keeps a checkpoint of `issuer` vouching for `count` entries or more."""
    node = fed.open(holder)
    try:
        with node.sessions() as session:
            counts = session.execute(
                select(ReceivedCheckpoint.count).where(ReceivedCheckpoint.issuer == issuer)
            ).scalars()
            return max(counts, default=0) >= count
    finally:
        node.close()


def exchange_checkpoints(fed: Federation, say: Say) -> None:
    """The end of the day: every node signs a checkpoint of its audit log, each peer it talked
    with keeps a copy, and XA's auditor checks XA's log against those copies."""
    say("Audit — every node signs a checkpoint of its log and sends it to the peers it talked to")
    expected: list[tuple[str, str, int]] = []
    for participant in STATES:
        node = fed.open(participant)
        try:
            with transaction(node.sessions) as session:
                row = witnesses.issue(session, node)
                expected.extend((participant, peer, row.count) for peer in row.sent_to)
        finally:
            node.close()
    for issuer, holder, count in expected:
        wait_until(
            functools.partial(_holds_checkpoint, fed, holder, issuer, count),
            60,
            f"{holder} did not receive {issuer}'s audit checkpoint",
        )
    pairs = sorted({(i, h) for i, h, _ in expected})
    say(f"  each peer holds the other's latest checkpoint ({len(pairs)} issuer→holder pairs)")
    checked = subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            sys.executable, "-m", "comity", "audit", "verify", "--peers",
            "--home", str(fed.nodes["XA"].home),
        ],
        env=fed.env,
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if checked.returncode != 0:
        raise DemoFailed(f"XA's audit log does not verify against its peers: {checked.stdout}")
    say("  XA's auditor verifies XA's log against its peers' copies (audit verify --peers):")
    for line in checked.stdout.strip().splitlines():
        say(f"    {line}")


def _has_receipt(officer: Officer, case_id: str, evidence: str) -> bool:
    receipts = officer.call("GET", f"/v1/cases/{case_id}/receipts")
    return any(r["evidence"] == evidence for r in receipts)
