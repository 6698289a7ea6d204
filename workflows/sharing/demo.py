"""Demo data for sharing upward: the demo's publications, revocation and expiry were queued as they
happened; here the provincial batch goes out and comes back with two items rejected (one of them
already queued again), and the national batch is sent and waits for its acknowledgement."""
from __future__ import annotations

import json

from .exchange import ACK_FORMAT, export_batch, import_ack
from .service import retry_item

REJECTION = "认定依据缺少文书编号"


def demo(uow) -> None:
    platforms = list(uow.settings.sharing_platforms)
    batch = export_batch(uow, platforms[0], "json") if platforms else None
    if batch is not None:
        items = json.loads(batch.content)["items"]
        rejected = {i["item_id"] for i in items[:2]}
        answers = [{"item_id": i["item_id"], "result": "rejected", "reason": REJECTION} if i["item_id"] in rejected
                   else {"item_id": i["item_id"], "result": "accepted"} for i in items]
        import_ack(uow, json.dumps({"format": ACK_FORMAT, "batch": batch.number, "items": answers}).encode())
        retry_item(uow, min(rejected))
    for platform in platforms[1:]:
        export_batch(uow, platform, "csv")
    uow.commit()
