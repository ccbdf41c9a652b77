"""Views of a held package's custody chain: each event says whether its hash link holds, so a
page can show where an altered chain breaks."""

from __future__ import annotations

from comity.evidence.custody import read_chain
from comity.evidence.held import custody_rows, manifest_signer
from comity.evidence.package import CUSTODY_NAME, manifest_token

from .conftest import Sealed


def test_every_link_of_a_sealed_chain_holds(sealed: Sealed) -> None:
    token = manifest_token(sealed.package)
    rows = custody_rows(token, read_chain(sealed.package / CUSTODY_NAME))
    assert [(r.seq, r.event.action.value if r.event else None, r.link_ok) for r in rows] == [
        (1, "created", True),
        (2, "sealed", True),
    ]
    assert rows[0].signer == "XA"
    assert manifest_signer(token) == ("XA", "XA-sig-1")


def test_a_removed_or_garbled_event_breaks_the_link_where_it_happened(sealed: Sealed) -> None:
    token = manifest_token(sealed.package)
    first, second = read_chain(sealed.package / CUSTODY_NAME)
    assert [r.link_ok for r in custody_rows(token, [second])] == [False]
    rows = custody_rows(token, ["not.a.token", second])
    assert rows[0].event is None
    assert [r.link_ok for r in rows] == [False, False]
    assert [r.link_ok for r in custody_rows(token, [first, first])] == [True, False]
