"""Export a package's manifest and custody chain as CASE/UCO JSON-LD, the interoperability
format of cyber-investigation tools, so a receiving authority can load it into its own tools.

Mapping:
- each evidence file, and `manifest.jws` itself, is a `uco-observable:File` with a `FileFacet`
  (name, path, size) and a `ContentDataFacet` carrying its SHA-256. UCO 1.4 asks for
  `types:hashMethod` as an `xsd:string`: a plain JSON-LD string is one (RDF 1.1), whereas an
  explicit `{"@type": "xsd:string"}` literal is compared unequal to the vocabulary's plain
  "SHA256" by rdflib, so `case_validate` 0.18 would report it as outside HashNameVocab;
- the package is a `case-investigation:ProvenanceRecord` whose exhibit number is the package id
  and whose objects are the files;
- the acquisition and every custody event are `case-investigation:InvestigativeAction`s, the
  user as performer, the node as participant, the provenance record as object;
- the request the package answers is a `case-investigation:Investigation`.

Identifiers are `kb:<kind>-<uuid>` with UUIDs derived (UUID v5) from the package id, so the
same package always exports the same graph. The export does not verify: run verify first.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from comity.evidence.custody import CustodyEvent, read_chain, token_hash
from comity.evidence.manifest import Manifest, read_manifest_unverified
from comity.evidence.package import CUSTODY_NAME, FILES_DIR, MANIFEST_NAME, manifest_token
from comity.kit.jsonutil import sha256_hex
from comity.protocol.envelope import format_time
from comity.protocol.signed import read_unverified

KB = "urn:comity:kb:"
CONTEXT: dict[str, str] = {
    "kb": KB,
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def _typed(value: str | int, datatype: str) -> dict[str, str]:
    return {"@type": datatype, "@value": str(value)}


def _ref(node_id: str) -> dict[str, str]:
    return {"@id": node_id}


class _Graph:
    def __init__(self, package_id: str) -> None:
        self.namespace = uuid.UUID(package_id)
        self.nodes: list[dict[str, Any]] = []
        self._seen: set[str] = set()

    def id_for(self, kind: str, name: str) -> str:
        return f"kb:{kind}-{uuid.uuid5(self.namespace, f'{kind}:{name}')}"

    def add(self, node: dict[str, Any]) -> str:
        if node["@id"] not in self._seen:
            self._seen.add(node["@id"])
            self.nodes.append(node)
        return str(node["@id"])

    def party(self, kind: str, type_: str, name: str) -> str:
        return self.add({"@id": self.id_for(kind, name), "@type": type_, "uco-core:name": name})

    def file(self, path: str, size: int, sha256: str, description: str = "") -> str:
        file_id = self.id_for("file", path)
        content_hash = {
            "@id": self.id_for("hash", path),
            "@type": "uco-types:Hash",
            "uco-types:hashMethod": "SHA256",
            "uco-types:hashValue": _typed(sha256.upper(), "xsd:hexBinary"),
        }
        node: dict[str, Any] = {
            "@id": file_id,
            "@type": "uco-observable:File",
            "uco-core:name": path,
            "uco-core:hasFacet": [
                {
                    "@id": self.id_for("file-facet", path),
                    "@type": "uco-observable:FileFacet",
                    "uco-observable:fileName": path.rsplit("/", 1)[-1],
                    "uco-observable:filePath": path,
                    "uco-observable:sizeInBytes": _typed(size, "xsd:integer"),
                },
                {
                    "@id": self.id_for("content-facet", path),
                    "@type": "uco-observable:ContentDataFacet",
                    "uco-observable:sizeInBytes": _typed(size, "xsd:integer"),
                    "uco-observable:hash": [content_hash],
                },
            ],
        }
        if description:
            node["uco-core:description"] = description
        return self.add(node)


def _event_description(event: CustodyEvent, token: str) -> str:
    details = ", ".join(f"{name}={value}" for name, value in sorted(event.details.items()))
    signer = "node and user" if event.user_attestation else "node"
    return (
        f"Custody event {event.seq} ({event.action.value}) by {event.user} at node {event.node},"
        f" signed by the {signer}; event SHA-256 {token_hash(token)},"
        f" previous {event.prev_hash}" + (f"; {details}" if details else "")
    )


def case_graph(manifest: Manifest, token: str, chain: list[str]) -> dict[str, Any]:
    """The JSON-LD document for a manifest (and its token) and custody event tokens."""
    graph = _Graph(manifest.package_id)
    files = [
        graph.file(f"{FILES_DIR}/{entry.path}", entry.size, entry.sha256)
        for entry in manifest.files
    ]
    encoded = token.encode("ascii")
    files.append(
        graph.file(
            MANIFEST_NAME,
            len(encoded),
            sha256_hex(encoded),
            f"Signed manifest (JWS) by {manifest.producer}; Merkle root {manifest.merkle_root}",
        )
    )
    proceedings = "; ".join(manifest.permitted_proceedings) or "none named"
    record = graph.add(
        {
            "@id": graph.id_for("provenance-record", manifest.package_id),
            "@type": "case-investigation:ProvenanceRecord",
            "case-investigation:exhibitNumber": manifest.package_id,
            "uco-core:name": f"Evidence package {manifest.package_id}",
            "uco-core:description": [
                manifest.description,
                f"Conditions on use: {manifest.conditions_on_use or 'none stated'}",
                f"Permitted proceedings: {proceedings}",
                f"Confidential: {'yes' if manifest.confidential else 'no'}",
            ],
            "uco-core:object": [_ref(f) for f in files],
        }
    )
    producer = graph.party("organization", "uco-identity:Organization", manifest.producer)
    acquisition: dict[str, Any] = {
        "@id": graph.id_for("investigative-action", "acquisition"),
        "@type": "case-investigation:InvestigativeAction",
        "uco-core:name": "acquisition",
        "uco-core:description": manifest.acquisition.method,
        "uco-action:startTime": _typed(format_time(manifest.acquisition.at), "xsd:dateTime"),
        "uco-action:performer": _ref(
            graph.party("identity", "uco-identity:Identity", manifest.acquisition.by)
        ),
        "uco-action:participant": [_ref(producer)],
        "uco-action:result": [_ref(record)],
    }
    if manifest.acquisition.tool:
        tool = graph.party("tool", "uco-tool:Tool", manifest.acquisition.tool)
        acquisition["uco-action:instrument"] = [_ref(tool)]
    actions = [graph.add(acquisition)]
    for event_token in chain:
        event = CustodyEvent.from_json(read_unverified(event_token)[1])
        node = graph.party("organization", "uco-identity:Organization", event.node)
        user = graph.party("identity", "uco-identity:Identity", event.user)
        actions.append(
            graph.add(
                {
                    "@id": graph.id_for("investigative-action", f"custody-{event.seq}"),
                    "@type": "case-investigation:InvestigativeAction",
                    "uco-core:name": f"custody event {event.seq}: {event.action.value}",
                    "uco-core:description": _event_description(event, event_token),
                    "uco-action:startTime": _typed(format_time(event.at), "xsd:dateTime"),
                    "uco-action:performer": _ref(user),
                    "uco-action:participant": [_ref(node)],
                    "uco-action:object": [_ref(record)],
                }
            )
        )
    graph.add(
        {
            "@id": graph.id_for("investigation", manifest.answers_request),
            "@type": "case-investigation:Investigation",
            "uco-core:name": f"Request {manifest.answers_request}",
            "uco-core:description": "The cooperation request this evidence package answers",
            "uco-core:object": [_ref(record), *(_ref(a) for a in actions)],
        }
    )
    return {"@context": CONTEXT, "@graph": graph.nodes}


def export_case(package: Path) -> dict[str, Any]:
    """CASE/UCO JSON-LD for the package folder at `package`."""
    token = manifest_token(package)
    _, manifest = read_manifest_unverified(token)
    return case_graph(manifest, token, read_chain(package / CUSTODY_NAME))
