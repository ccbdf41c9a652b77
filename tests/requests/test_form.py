"""The drafting form of a kind: only the kind's fields, with their articles, and the request
document read back from a submitted form."""

from __future__ import annotations

from comity.requests.form import document_from_form, form_fields, form_values
from tests.requests.conftest import example


def test_preservation_under_budapest_has_its_elements_and_no_mla_field() -> None:
    fields = {f.name: f for f in form_fields("preservation", "budapest")}
    assert {"language", "data_to_preserve", "necessity", "intends_mla", "conduct"} <= set(fields)
    assert "assistance_sought" not in fields
    assert fields["data_to_preserve"].citation == "budapest 29(2)(c)"
    assert fields["data_to_preserve"].required
    assert not fields["custodian_or_location"].required, "a 'where available' element"
    assert fields["intends_mla"].input == "boolean"
    assert fields["intends_mla"].required
    assert fields["requesting_authority"].group == "authorities"


def test_a_form_reads_back_into_the_request_document() -> None:
    fields = form_fields("preservation", "budapest")
    document = example("preservation")
    posted = {
        f.name: (
            document[f.name]
            if isinstance(document.get(f.name), list)
            else ["true"]
            if document.get(f.name) is True
            else [str(document.get(f.name, ""))]
        )
        for f in fields
    }
    posted["facts_summary"] = ["  "]
    read = document_from_form("preservation", "XA", "XB", None, fields, lambda n: posted.get(n, []))
    expected = {k: v for k, v in document.items() if k not in {"instrument", "facts_summary"}}
    assert read == expected
    shown = form_values(read, fields)
    assert shown["intends_mla"] is True
    assert shown["conduct"] == ["system-interference", "extortion"]
    assert shown["facts_summary"] == ""


def test_lists_are_one_item_per_line_and_unknown_conduct_is_dropped() -> None:
    fields = form_fields("giving-effect-to-order", "budapest-p2")
    values = {"data_categories": ["subscriber\r\n\r\n traffic "], "conduct": ["made-up"]}
    read = document_from_form(
        "giving-effect-to-order", "XA", "XB", "budapest-p2", fields, lambda n: values.get(n, [])
    )
    assert read["data_categories"] == ["subscriber", "traffic"]
    assert read["instrument"] == "budapest-p2"
    assert "conduct" not in read
