"""Evidence pages between two real nodes over HTTP, on SQLite and PostgreSQL: the list and a
package's manifest, verification and custody chain; files only after acknowledging the
supplier's conditions (and each download in the chain); a tampered file named by "Verify
again"; sealing and sending from the browser with files streamed to disk; roles; languages."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from comity.audit.models import AuditEntry
from comity.demo.samples import preservation_request
from comity.evidence import errors, models, offers, queries, transfer
from comity.evidence.blobstore import BlobStore
from comity.evidence.manifest import Acquisition
from comity.evidence.package import load_manifest, seal_folder
from comity.kit.db import transaction
from comity.messaging.models import OutboxMessage
from comity.nodes.runtime import Node
from comity.protocol.signed import read_unverified
from comity.transport.app import create_app
from comity.web.i18n import LANGUAGES
from comity.web.pages import evidence as evidence_page
from tests.accounts.conftest import add_person
from tests.cases.conversation import act, create, pump
from tests.support import LiveServer, World
from tests.web.conftest import Browser

CONDITIONS = "Only for the proceedings named; no onward transfer without consent"
PROCEEDING = "XA criminal case 2026/114"
LOG = b"2026-08-14T21:02:11Z 203.0.113.7 POST /pay 200\n" * 40


@dataclass
class Scene:
    world: World
    xa: Node
    xb: Node
    urls: dict[str, str]
    case_id: str
    package_id: str
    tmp: Path
    browsers: list[Browser] = field(default_factory=list)

    def browser(self, participant: str, username: str, *roles: str) -> Browser:
        node = self.xa if participant == "XA" else self.xb
        person = add_person(node, username, *roles)
        made = Browser(self.urls[participant])
        self.browsers.append(made)
        assert made.sign_in(person).status_code == 303
        return made


def actions(node: Node, package_id: str) -> list[str]:
    with node.sessions() as session:
        return [read_unverified(t)[1]["action"] for t in queries.chain(session, package_id)]


@pytest.fixture
def scene(world: World, tmp_path: Path) -> Iterator[Scene]:
    """XA asked XB for evidence; XB sealed two files and sent them; XA verified them."""
    for node in world.nodes.values():
        node.settings.evidence_chunk_size = 64 * 1024
    servers = {p: LiveServer(create_app(world.nodes[p])) for p in ("XA", "XB")}
    for server in servers.values():
        server.__enter__()
    try:
        world.republish(**{p: {"endpoint": s.url} for p, s in servers.items()})
        xa, xb = world.nodes["XA"], world.nodes["XB"]
        case_id = create(world, "XA", "XB", "preservation", preservation_request())
        act(world, "XA", case_id, "submit")
        pump(world)
        act(world, "XB", case_id, "acknowledge")  # execution is open from here
        pump(world)
        source = tmp_path / "seized"
        (source / "notes").mkdir(parents=True)
        (source / "access.log").write_bytes(LOG)
        (source / "notes" / "a.txt").write_bytes(b"hello\n")
        seal_folder(
            source,
            tmp_path / "pkg",
            producer="XB",
            node_key=xb.keyring.signing_key(),
            user="XB:officer.martin",
            description="Access log of the payment server",
            answers_request=case_id,
            acquisition=Acquisition(
                by="XB:officer", at=datetime(2026, 8, 20, 9, 30, tzinfo=UTC), method="export"
            ),
            conditions_on_use=CONDITIONS,
            permitted_proceedings=[PROCEEDING],
        )
        package_id = load_manifest(tmp_path / "pkg").package_id
        with transaction(xb.sessions) as session:
            offers.import_package(session, xb, tmp_path / "pkg", "officer.martin")
            transfer_id = offers.offer(session, xb, package_id, "XA", "officer.martin").id
        pump(world)
        transfer.push(xb, transfer_id)
        pump(world)
        made = Scene(
            world, xa, xb, {p: s.url for p, s in servers.items()}, case_id, package_id, tmp_path
        )
        yield made
        for browser in made.browsers:
            browser.close()
    finally:
        for server in servers.values():
            server.__exit__(None, None, None)


def test_list_and_package_show_manifest_verification_and_custody(scene: Scene) -> None:
    browser = scene.browser("XA", "prosecutor", "central-authority-officer")
    listing = browser.get("/evidence")
    assert listing.status_code == 200
    row = re.search(
        rf'<tr data-test="evidence-row" data-package="{scene.package_id}">(.*?)</tr>',
        listing.text,
        re.S,
    )
    assert row, listing.text
    assert 'data-status="verified"' in row.group(1)
    assert "Received and verified" in row.group(1)
    assert "Access log of the payment server" in row.group(1)
    assert scene.case_id in row.group(1)

    page = browser.get(f"/evidence/{scene.package_id}")
    assert page.status_code == 200
    with scene.xa.sessions() as session:
        manifest = queries.manifest_of(queries.get_package(session, scene.package_id))
    assert manifest.merkle_root in page.text
    for entry in manifest.files:
        assert f'data-test="evidence-file" data-path="{entry.path}"' in page.text
        assert entry.sha256 in page.text
    assert 'data-test="verification-status" data-status="verified"' in page.text
    rows = re.findall(r'data-test="custody-row" data-action="(\w+)"', page.text)
    assert rows == ["created", "sealed", "sent", "received", "verified"]
    assert page.text.count('data-test="custody-link" data-ok="yes"') == 5
    assert "no onward transfer without consent" in page.text
    assert 'data-test="condition-checkbox"' in page.text
    assert 'data-test="file-download"' not in page.text  # not opened yet
    with scene.xa.sessions() as session:
        tags = [e.tag for e in session.query(AuditEntry).filter_by(subject=scene.package_id)]
    assert "evidence:package:read" in tags


def test_files_open_only_after_acknowledging_every_condition(scene: Scene) -> None:
    browser = scene.browser("XA", "prosecutor", "central-authority-officer")
    path = f"/evidence/{scene.package_id}/files/access.log"
    refused = browser.get(path)
    assert refused.status_code == 428
    assert "access.log" not in refused.headers.get("content-disposition", "")

    browser.get(f"/evidence/{scene.package_id}")
    half = browser.post(
        f"/evidence/{scene.package_id}/open",
        {"condition": "0", "acknowledge": "yes", "proceeding": PROCEEDING},
    )
    assert half.status_code == 422
    assert 'data-test="open-error"' in half.text
    assert browser.get(path).status_code == 428

    wrong = browser.http.post(
        f"/evidence/{scene.package_id}/open",
        data={
            "csrf": browser.csrf,
            "condition": ["0", "1"],
            "acknowledge": "yes",
            "proceeding": "another case",
        },
    )
    assert wrong.status_code == 403

    opened = browser.http.post(
        f"/evidence/{scene.package_id}/open",
        data={
            "csrf": browser.csrf,
            "condition": ["0", "1"],
            "acknowledge": "yes",
            "proceeding": PROCEEDING,
        },
    )
    assert opened.status_code == 303
    page = browser.get(f"/evidence/{scene.package_id}")
    assert 'data-test="opened"' in page.text
    assert 'data-test="file-download"' in page.text
    download = browser.get(path)
    assert download.status_code == 200
    assert download.content == LOG
    nested = browser.get(f"/evidence/{scene.package_id}/files/notes/a.txt")
    assert nested.content == b"hello\n"
    assert actions(scene.xa, scene.package_id)[-3:] == ["opened", "copied", "copied"]
    page = browser.get(f"/evidence/{scene.package_id}")
    assert re.findall(r'data-test="custody-row" data-action="(\w+)"', page.text)[-3:] == [
        "opened",
        "copied",
        "copied",
    ]
    assert 'data-test="use-row" data-use="opened"' in page.text


def test_a_tampered_file_fails_verification_again_and_is_named(scene: Scene) -> None:
    browser = scene.browser("XA", "clerk", "drafter")
    fine = browser.get(f"/evidence/{scene.package_id}/verify?act=verify")
    assert fine.status_code == 200
    assert 'data-test="verify-result" data-ok="yes"' in fine.text

    with scene.xa.sessions() as session:
        manifest = queries.manifest_of(queries.get_package(session, scene.package_id))
    entry = next(e for e in manifest.files if e.path == "notes/a.txt")
    blob = BlobStore(scene.xa.settings.effective_blob_dir).path_for(entry.sha256)
    blob.chmod(0o640)
    blob.write_bytes(b"hellO\n")

    checked = browser.get(f"/evidence/{scene.package_id}/verify?act=verify")
    assert checked.status_code == 200
    assert 'data-test="verify-result" data-ok="no"' in checked.text
    assert "Failed verification" in checked.text
    assert 'data-path="notes/a.txt" data-outcome="altered"' in checked.text
    assert 'data-path="access.log" data-outcome="ok"' in checked.text
    with scene.xa.sessions() as session:
        entry_row = (
            session.execute(
                select(AuditEntry)
                .where(AuditEntry.tag == "evidence:package:rechecked")
                .order_by(AuditEntry.id.desc())
            )
            .scalars()
            .first()
        )
    assert entry_row is not None


def test_sealing_and_sending_from_the_page_answers_the_request(scene: Scene) -> None:
    browser = scene.browser("XB", "responder", "central-authority-officer")
    form = browser.get(f"/evidence/new?case={scene.case_id}")
    assert form.status_code == 200
    assert 'id="evidence-form"' in form.text
    response = browser.http.post(
        "/evidence",
        data={
            "csrf": browser.csrf,
            "case": scene.case_id,
            "description": "Subscriber record",
            "method": "Export under order 12/2026",
            "conditions": "Use only in the named case\nNo onward transfer",
            "proceedings": PROCEEDING,
        },
        files=[
            ("files", ("subscriber.csv", b"account,created\nalice,2024-03-01\n", "text/csv")),
            ("files", ("image.bin", bytes(range(256)) * 1000, "application/octet-stream")),
        ],
    )
    assert response.status_code == 303, response.text
    match = re.fullmatch(
        r"/evidence/([0-9a-f-]{36})\?sent=1&sig=[0-9a-f]+", response.headers["location"]
    )
    assert match
    package_id = match.group(1)
    with scene.xb.sessions() as session:
        package = queries.get_package(session, package_id)
        assert package.case_id == scene.case_id
        assert package.file_count == 2
        assert package.permitted_proceedings == [PROCEEDING]
        offers = (
            session.execute(
                select(OutboxMessage).where(
                    OutboxMessage.conversation_id == scene.case_id,
                    OutboxMessage.message_type == "evidence-offer",
                )
            )
            .scalars()
            .all()
        )
        assert [o.recipient for o in offers] == ["XA", "XA"]  # the scene's and this one
    assert actions(scene.xb, package_id) == ["created", "sealed", "sent"]
    assert not any((scene.xb.settings.home / "uploads").iterdir()), "temporary files removed"
    page = browser.get(response.headers["location"])
    assert 'data-test="evidence-sent"' in page.text
    assert 'data-test="evidence-sent"' not in browser.get(f"/evidence/{package_id}?sent=1").text

    # The offer reaches XA; the chunks follow in the background and XA verifies them.
    pump(scene.world)
    deadline = time.monotonic() + 60
    status = "receiving"
    while time.monotonic() < deadline:
        with scene.xa.sessions() as session:
            found = session.get(models.EvidencePackage, package_id)
            status = found.status if found is not None else "absent"
        if status == "verified":
            break
        time.sleep(0.2)
    assert status == "verified"


def test_uploads_refuse_path_tricks_and_forged_forms(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What each upload left in its temporary folder, seen just before the folder is removed.
    left: list[str] = []
    remove = evidence_page.shutil.rmtree

    def seen_then_removed(path: Path, *args: object) -> None:
        left.extend(str(p.relative_to(path)) for p in Path(path).rglob("*"))
        remove(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(evidence_page.shutil, "rmtree", seen_then_removed)
    browser = scene.browser("XB", "responder", "central-authority-officer")
    browser.get(f"/evidence/new?case={scene.case_id}")
    fields = {
        "csrf": browser.csrf,
        "case": scene.case_id,
        "description": "x",
        "method": "y",
    }
    tricks = (
        "../escape.txt",
        "../../escape.txt",
        "../../../escape.txt",
        "sub/escape.txt",
        "..",
        "a\\b.txt",
    )
    for name in tricks:
        refused = browser.http.post(
            "/evidence", data=fields, files=[("files", (name, b"data", "text/plain"))]
        )
        assert refused.status_code == 400, name
    forged = browser.http.post(
        "/evidence",
        data={**fields, "csrf": "forged"},
        files=[("files", ("ok.txt", b"data", "text/plain"))],
    )
    assert forged.status_code == 403
    # Files go to uploads/evidence-*/files/: a name climbing out of it would land in the
    # temporary folder, in uploads/, in the node's home or beside it. None did.
    home = scene.xb.settings.home
    assert left == ["files"] * (len(tricks) + 1), left
    for place in (home / "uploads", home, home.parent):
        assert not (place / "escape.txt").exists(), place
    assert not any((home / "uploads").iterdir())
    with scene.xb.sessions() as session:
        assert [p.id for p in queries.list_packages(session)] == [scene.package_id]


def _multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = "b0undary") -> bytes:
    out = b""
    for name, filename, body in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += body + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def test_upload_parsing_refuses_a_second_token_empty_files_and_oversized_forms(
    scene: Scene,
) -> None:
    browser = scene.browser("XB", "responder", "central-authority-officer")
    browser.get(f"/evidence/new?case={scene.case_id}")
    token = browser.csrf.encode()
    base = [("case", None, scene.case_id.encode()), ("description", None, b"x")]
    base.append(("method", None, b"y"))

    def send(parts: list[tuple[str, str | None, bytes]], **headers: str) -> int:
        response = browser.http.post(
            "/evidence",
            content=_multipart(parts),
            headers={"content-type": "multipart/form-data; boundary=b0undary", **headers},
        )
        return response.status_code

    good = ("files", "a.txt", b"data")
    # A forged token after the real one, or the real one after a forged one: refused.
    assert send([("csrf", None, token), ("csrf", None, b"forged"), *base, good]) == 403
    assert send([("csrf", None, b"forged"), ("csrf", None, token), *base, good]) == 403
    # A chosen file with nothing in it.
    assert send([("csrf", None, token), *base, ("files", "empty.txt", b"")]) == 400
    # Too many parts, and a part with enormous headers.
    many = [("csrf", None, token)] + [(f"f{i}", None, b"") for i in range(1200)]
    assert send(many) == 400
    # Headers within the parser's limit of one header, beyond ours for a part.
    padded = f"v\r\nX-Pad-1: {'p' * 3000}\r\nX-Pad-2: {'p' * 3000}\r\nX-Pad-3: {'p' * 3000}"
    body = _multipart([("csrf", None, token), *base, good]).replace(
        b'name="method"', f'name="method"\r\nX-Pad: {padded}'.encode()
    )
    response = browser.http.post(
        "/evidence",
        content=body,
        headers={"content-type": "multipart/form-data; boundary=b0undary"},
    )
    assert response.status_code == 400
    assert "headers that are too long" in response.text
    # A malformed form is refused, not a server error.
    assert send([("csrf", None, token), ("x" * 10_000, None, b"v")]) == 400
    with scene.xb.sessions() as session:
        assert [p.id for p in queries.list_packages(session)] == [scene.package_id]


def test_roles_are_enforced(scene: Scene) -> None:
    auditor = scene.browser("XA", "auditor", "auditor")
    assert auditor.get("/evidence").status_code == 403
    assert auditor.get(f"/evidence/{scene.package_id}").status_code == 403
    drafter = scene.browser("XA", "drafter", "drafter")
    assert drafter.get(f"/evidence/{scene.package_id}").status_code == 200
    refused = drafter.http.post(
        f"/evidence/{scene.package_id}/open",
        data={"csrf": drafter.csrf, "condition": ["0", "1"], "acknowledge": "yes"},
    )
    assert refused.status_code == 403
    responder = scene.browser("XB", "drafter-b", "drafter")
    assert responder.get(f"/evidence/new?case={scene.case_id}").status_code == 403
    # A request this node made is not answered with evidence from this node.
    officer = scene.browser("XA", "officer", "central-authority-officer")
    assert officer.get(f"/evidence/new?case={scene.case_id}").status_code == 400


def test_evidence_pages_in_every_language(scene: Scene) -> None:
    browser = scene.browser("XA", "prosecutor", "central-authority-officer")
    for lang, language in LANGUAGES.items():
        for path in (
            "/evidence",
            f"/evidence/{scene.package_id}",
            f"/evidence/{scene.package_id}/verify",
        ):
            page = browser.get(f"{path}?lang={lang}")
            assert page.status_code == 200, (lang, path, page.text[:300])
            assert f'<html lang="{lang}" dir="{language.direction}">' in page.text
    responder = scene.browser("XB", "responder", "central-authority-officer")
    for lang in LANGUAGES:
        page = responder.get(f"/evidence/new?case={scene.case_id}&lang={lang}")
        assert page.status_code == 200, (lang, page.text[:300])
    assert " style=" not in page.text
    assert "<script>" not in page.text


def _sealed_unsent(scene: Scene, name: str) -> str:
    """Another package answering the request, sealed and stored on XB but not sent."""
    source = scene.tmp / name
    source.mkdir()
    (source / "subscriber.csv").write_bytes(b"account,created\nalice,2024-03-01\n")
    seal_folder(
        source,
        scene.tmp / f"{name}-pkg",
        producer="XB",
        node_key=scene.xb.keyring.signing_key(),
        user="XB:officer.martin",
        description="Subscriber record",
        answers_request=scene.case_id,
        acquisition=Acquisition(
            by="XB:officer", at=datetime(2026, 8, 21, 9, 30, tzinfo=UTC), method="export"
        ),
    )
    with transaction(scene.xb.sessions) as session:
        return offers.import_package(session, scene.xb, scene.tmp / f"{name}-pkg", "martin").id


def _outgoing(node: Node, package_id: str) -> list[tuple[str, str]]:
    with node.sessions() as session:
        return [
            (t.peer, t.direction)
            for t in queries.transfers_of(session, package_id)
            if t.direction == "out"
        ]


def test_executing_with_packages_sends_each_once(scene: Scene) -> None:
    package_id = _sealed_unsent(scene, "second")
    browser = scene.browser("XB", "martin", "central-authority-officer")
    page = browser.get(f"/requests/{scene.case_id}")
    offered = re.findall(r'name="packages" value="([^"]+)"', page.text)
    # The scene's package already went to XA: only the new one is offered.
    assert set(offered) == {package_id}, offered
    done = browser.http.post(
        f"/requests/{scene.case_id}/acts",
        data={
            "csrf": browser.csrf,
            "act": "execute-partially",
            "summary": "Subscriber record",
            "packages": [package_id],
        },
    )
    assert done.status_code == 303, done.text
    assert _outgoing(scene.xb, package_id) == [("XA", "out")]
    page = browser.get(f"/requests/{scene.case_id}")
    assert 'data-state="partially-executed"' in page.text
    assert package_id not in re.findall(r'name="packages" value="([^"]+)"', page.text)
    # A crafted second execution with the same package is refused, and nothing is sent.
    again = browser.http.post(
        f"/requests/{scene.case_id}/acts",
        data={"csrf": browser.csrf, "act": "execute", "packages": [package_id]},
    )
    assert again.status_code == 409
    assert "already sent" in again.text
    assert 'data-state="partially-executed"' in again.text
    assert _outgoing(scene.xb, package_id) == [("XA", "out")]
    # The service refuses it too (the API and the command line go through it).
    with pytest.raises(errors.AlreadySent), transaction(scene.xb.sessions) as session:
        offers.offer(session, scene.xb, package_id, "XA", "martin")


def test_evidence_is_sealed_only_once_execution_is_open(scene: Scene) -> None:
    case_id = create(scene.world, "XA", "XB", "preservation", preservation_request())
    act(scene.world, "XA", case_id, "submit")
    pump(scene.world)
    browser = scene.browser("XB", "responder", "central-authority-officer")
    assert browser.get(f"/evidence/new?case={scene.case_id}").status_code == 200
    early = browser.get(f"/evidence/new?case={case_id}")
    assert early.status_code == 409
    assert "may be executed" in early.text
    browser.get(f"/evidence/new?case={scene.case_id}")
    posted = browser.http.post(
        "/evidence",
        data={"csrf": browser.csrf, "case": case_id, "description": "x", "method": "y"},
        files=[("files", ("a.txt", b"data", "text/plain"))],
    )
    assert posted.status_code == 409
    with scene.xb.sessions() as session:
        assert queries.list_packages(session, case_id) == []


def test_a_missing_field_shows_the_form_again_with_a_translated_message(scene: Scene) -> None:
    browser = scene.browser("XB", "responder", "central-authority-officer")
    browser.get(f"/evidence/new?case={scene.case_id}&lang=fr")
    response = browser.http.post(
        "/evidence?lang=fr",
        data={"csrf": browser.csrf, "case": scene.case_id, "description": "Journal", "method": ""},
        files=[("files", ("a.txt", b"data", "text/plain"))],
    )
    assert response.status_code == 422
    assert (
        'data-test="form-error">Indiquez comment les éléments de preuve ont été obtenus'
        in response.text
    )
    assert ">Journal</textarea>" in response.text
    assert 'id="evidence-method" name="method" required' in response.text
    missing = browser.get("/evidence/new?lang=fr")
    assert missing.status_code == 400
    assert "Ouvrez cette page depuis la demande" in missing.text
    with scene.xb.sessions() as session:
        assert [p.id for p in queries.list_packages(session)] == [scene.package_id]


def test_the_court_bundle_downloads_from_the_package_page(scene: Scene) -> None:
    """The bundle a prosecutor files: a signed ZIP of the request's manifests, custody and
    receipts; roles that may not handle evidence are refused."""
    import io
    import zipfile

    browser = scene.browser("XA", "prosecutor", "central-authority-officer")
    page = browser.get(f"/evidence/{scene.package_id}")
    assert 'id="bundle-form"' in page.text
    response = browser.post(f"/evidence/bundles/{scene.case_id}", {"include_files": ""})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert any(scene.package_id in name for name in names), names
    refused = scene.browser("XA", "reader", "drafter").post(
        f"/evidence/bundles/{scene.case_id}", {"include_files": ""}
    )
    assert refused.status_code == 403
