"""VR002: a profile layer that replaces an inherited list and leaves items out says so."""

from __future__ import annotations

import json
from collections.abc import Iterable

from ..profile.loader import field_path
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Expect, Fail, Pass

EXAMPLES = (
    Fail(
        "a child profile lists the one metric it adds, and so drops an inherited one",
        overlay="services:\n  backend:\n    metrics:\n      catalogue: [process_resident_memory_bytes, http_server_active_requests]\n",
        expect=[Expect("example.yaml", 'services.backend.metrics.catalogue replaces the inherited list and drops '
                                       '"process_cpu_seconds_total"')],
    ),
    Pass(
        "the same metric appended with catalogue+",
        overlay="services:\n  backend:\n    metrics:\n      catalogue+: [http_server_active_requests]\n",
    ),
    Pass(
        "a list replaced by one that keeps every inherited item, in another order",
        overlay="services:\n  backend:\n    secrets: [redis-app-password, neo4j-auth]\n",
    ),
)


@check("VR002", "list-items-dropped", "a profile layer replaces an inherited list and drops items", Severity.INFO, examples=EXAMPLES)
def list_items_dropped(ctx: CheckContext) -> Iterable[Problem]:
    """Lists replace when a profile ``extends`` another, and when ``--values`` or ``--set``
    overlays it: a child that writes ``secrets: [stripe-key]`` to add one secret has
    removed every secret it inherited. Often that is meant (a smaller list for dev);
    sometimes it is a list repeated from memory. This finding names the list, the
    inherited items that are gone, and the line of the list that replaced them, so
    the difference is seen, not guessed. It reads what the loader recorded while
    merging the layers, and only items still missing from the final profile count.

    Remediation: to add items, append with ``key+: [items]`` (``secrets+: [stripe-key]``);
    when the items are meant to go, nothing is wrong (the finding is information).
    """
    for drop in ctx.loaded.dropped:
        items = ", ".join(json.dumps(item, ensure_ascii=False, sort_keys=True) for item in drop.items)
        key = str(drop.path[-1])
        yield Problem(
            f"{field_path(drop.path)} replaces the inherited list and drops {items}",
            drop.location,
            hint=f"keep them in the list, or write {key}+: [...] to append to the inherited {key}",
        )
