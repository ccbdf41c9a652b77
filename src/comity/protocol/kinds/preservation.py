"""Expedited preservation of stored computer data (Budapest art. 29; UN Convention against
Cybercrime art. 42).

draft → submitted → delivered → acknowledged → accepted (preserved until a date, extendable)
→ executed → closed; or refused with grounds and reasons (Budapest 29(5)); or withdrawn by the
requesting party when no longer needed (UNTOC 18(24)). The shared steps (information, consult,
conditions, postponement, status) come from the assistance shape.
"""

from __future__ import annotations

from comity.protocol.kinds.assistance import assistance_table

PRESERVATION = assistance_table("preservation", extension=True)
