"""The requests API over real HTTP: a real node served by uvicorn on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from comity.transport.app import create_app
from tests.requests.conftest import example, token
from tests.support import LiveServer, World


@pytest.fixture
def client(scenario: World) -> Iterator[httpx.Client]:
    app = create_app(scenario.nodes["XA"])
    with LiveServer(app) as server, httpx.Client(base_url=server.url) as http:
        yield http


@pytest.fixture
def drafter(scenario: World) -> dict[str, str]:
    return token(scenario.nodes["XA"], "dora", "drafter")


@pytest.fixture
def authoriser(scenario: World) -> dict[str, str]:
    return token(scenario.nodes["XA"], "alex", "authorising-officer")


def test_schema_is_published_without_a_token(client: httpx.Client) -> None:
    answer = client.get("/v1/requests/schema/preservation")
    assert answer.status_code == 200
    assert "necessity" in answer.json()["required"]
    unknown = client.get("/v1/requests/schema/extradition")
    assert unknown.status_code == 422
    assert unknown.json()["details"]["field"] == "kind"


def test_check_answers_200_and_says_whether_something_blocks(
    client: httpx.Client, drafter: dict[str, str]
) -> None:
    good = client.post("/v1/requests/check", json=example("preservation"), headers=drafter)
    assert good.status_code == 200
    assert (good.json()["blocking"], good.json()["findings"]) == (False, [])
    # The check names the instrument it applied, why, and the route (issue 13).
    applied = good.json()["applied"]
    assert (applied["instrument"], applied["why"]) == ("budapest", "named")
    assert applied["route"]["citation"] == "budapest 35(1)(b)"
    missing = {k: v for k, v in example("preservation").items() if k != "data_to_preserve"}
    bad = client.post("/v1/requests/check", json=missing, headers=drafter)
    assert bad.status_code == 200
    assert bad.json()["blocking"] is True
    finding = bad.json()["findings"][0]
    assert (finding["element"], finding["citation"], finding["verified"]) == (
        "data_to_preserve",
        "budapest 29(2)(c)",
        True,
    )
    # The language rule (budapest 25(4)) is not verified: it warns and says so (issue 13).
    unverified = client.post(
        "/v1/requests/check", json={**example("mla"), "language": "de"}, headers=drafter
    )
    assert unverified.json()["blocking"] is False
    language = unverified.json()["findings"][0]
    assert (language["element"], language["severity"], language["verified"]) == (
        "language",
        "warning",
        False,
    )


def test_check_refuses_unknown_instrument_and_date_before_ratification_naming_the_article(
    client: httpx.Client, drafter: dict[str, str]
) -> None:
    unknown = client.post(
        "/v1/requests/check", json={**example("mla"), "instrument": "hague"}, headers=drafter
    )
    assert unknown.status_code == 422
    assert unknown.json()["details"]["field"] == "instrument"
    early = client.post(
        "/v1/requests/check",
        params={"on": "2026-06-30"},
        json={**example("mla"), "requested_party": "XC", "instrument": "uncc", "language": "es"},
        headers=drafter,
    )
    assert early.status_code == 422
    assert early.json()["details"] == {"field": "instrument", "party": "XA", "article": "uncc 65"}
    not_an_object = client.post("/v1/requests/check", json=["mla"], headers=drafter)
    assert not_an_object.status_code == 422
    assert not_an_object.json()["error"] == "malformed_request"


def test_check_needs_a_token(client: httpx.Client) -> None:
    assert client.post("/v1/requests/check", json=example("mla")).status_code == 401


def test_profile_shows_languages_declarations_contacts_and_routes(
    client: httpx.Client, drafter: dict[str, str]
) -> None:
    answer = client.get("/v1/requests/profile/XB", headers=drafter)
    assert answer.status_code == 200
    profile = answer.json()
    assert profile["languages"] == ["fr"]
    assert profile["instruments"][0] == "budapest"
    assert profile["declarations"][0]["article"] == "29(4)"
    assert profile["contact_24_7"]["role"] == "24/7-contact"
    assert profile["routes"]["preservation"]["to"] == "XB"
    assert profile["routes"]["preservation"]["channel"] == "24/7-contact"
    unknown = client.get("/v1/requests/profile/XZ", headers=drafter)
    assert unknown.status_code == 404
    assert unknown.json()["details"]["field"] == "requested_party"


def test_draft_approve_and_dispatch_over_http(
    client: httpx.Client, drafter: dict[str, str], authoriser: dict[str, str]
) -> None:
    created = client.post(
        "/v1/requests/drafts",
        json={
            "kind": "preservation",
            "requested": "XB",
            "document": {**example("preservation"), "necessity": ""},
        },
        headers=drafter,
    )
    assert created.status_code == 201
    draft = created.json()
    assert (draft["status"], draft["version"], draft["blocking"]) == ("draft", 1, True)
    url = f"/v1/requests/drafts/{draft['id']}"

    blocked = client.post(f"{url}/approve", json={"version": 1}, headers=authoriser)
    assert blocked.status_code == 422
    assert blocked.json()["details"]["findings"][0]["element"] == "necessity"

    edited = client.put(
        url, json={"version": 1, "document": example("preservation")}, headers=drafter
    )
    assert (edited.status_code, edited.json()["version"], edited.json()["blocking"]) == (
        200,
        2,
        False,
    )
    stale = client.put(
        url, json={"version": 1, "document": example("preservation")}, headers=drafter
    )
    assert stale.status_code == 409
    assert stale.json()["error"] == "stale_draft"

    own = client.post(f"{url}/approve", json={"version": 2}, headers=drafter)
    assert own.status_code == 403
    ok = client.post(f"{url}/approve", json={"version": 2}, headers=authoriser)
    assert (ok.status_code, ok.json()["status"], ok.json()["approver"]) == (200, "approved", "alex")

    sent = client.post(f"{url}/dispatch", headers=authoriser)
    assert sent.status_code == 200
    case_id = sent.json()["case_id"]
    case = client.get(f"/v1/cases/{case_id}", headers=authoriser).json()
    assert (case["state"], case["counterpart"]) == ("submitted", "XB")
    assert client.get(url, headers=drafter).json()["status"] == "dispatched"


def test_refused_approval_is_audited(
    scenario: World, client: httpx.Client, drafter: dict[str, str]
) -> None:
    from comity.audit.service import entries

    draft = client.post(
        "/v1/requests/drafts",
        json={"kind": "preservation", "requested": "XB", "document": example("preservation")},
        headers=drafter,
    ).json()
    client.post(f"/v1/requests/drafts/{draft['id']}/approve", json={"version": 1}, headers=drafter)
    with scenario.nodes["XA"].sessions() as session:
        (refused,) = entries(session, "requests:draft:approve-refused")
    assert (refused.actor, refused.subject, refused.details["code"]) == (
        "dora",
        draft["id"],
        "forbidden",
    )
