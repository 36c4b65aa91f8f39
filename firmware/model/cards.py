# A card at the reader: the session it stops, or the one it starts, and where.
"""    await cards.present(id_tag, connectors, authorizer, reservations)

The decision knows no OCPP version: `authorizer.check(id_tag)` gives (status, group) as the
version decides them (1.6: firmware/v16/authorize.py, the Local Authorization List, the cache,
Authorize.req); `reservations` (None when none was ever made) says which connector a
reservation keeps for whom (1.6: firmware/v16/reservation.py).

- The card that started a transaction stops it, without asking anyone (1.6 §4.1; identifiers
  compare case-insensitively, IdToken §7.28).
- Another card stops a transaction when it is accepted with the transaction's group (its
  parentIdTag, 1.6 §3.10): asked for only while a transaction with a known group runs. A
  transaction's group comes from the verdict that started it, or from the central system's
  answer to its start (connector.started).
- Otherwise an accepted card starts a session on a free connector, preferring one with a
  cable plugged in (and not another holder's reserved one): at once when plugged, else once
  the cable comes (connector.begin). The connector shows Preparing while the card is asked.

Imported at the first card (ChargePoint.on_card): a charge point that never sees one never
loads it.
"""

import logger
from firmware.model.connector import same_tag

log = logger.get("cp")


async def present(id_tag, connectors, authorizer, reservations=None):
    for c in connectors:
        if c.tx is not None and same_tag(c.tx.id_tag, id_tag):
            c.stop("Local", id_tag=id_tag)  # the same identifier: no Authorize (§4.1)
            return
    # a transaction whose group is known: the card may belong to it
    grouped = any(c.tx is not None and c.tx.parent for c in connectors)
    if reservations is not None:  # not another's reserved connector (its group: asked below)
        target = reservations.choose(id_tag, asked=False)
    else:
        target = None
        for c in connectors:
            if c.usable() and (target is None or (c.evse.plugged and not target.evse.plugged)):
                target = c
    if target is None and not grouped:
        log.info("card", id_tag, "presented: no connector free")
        return
    if target is not None and not (reservations is not None
                                   and reservations.reserved(target.n)):
        target.pending_tag = id_tag  # Preparing while we ask (a reserved one stays Reserved)
    status, parent = await authorizer.check(id_tag)
    if target is not None and target.pending_tag == id_tag:
        target.pending_tag = None
    if reservations is not None and status == "Accepted":
        target = reservations.choose(id_tag, parent)  # the group is known now (§5.13)
    if status == "Accepted" and parent:
        for c in connectors:
            if c.tx is not None and same_tag(c.tx.parent, parent):
                c.stop("Local", id_tag=id_tag)  # the same group (§3.10)
                return
    if status != "Accepted":
        log.info("card", id_tag, "refused:", status)
    elif target is None or not target.usable():
        log.info("card", id_tag, "presented: not of a running transaction's group,"
                 " no connector free")
    else:
        target.begin(id_tag, parent)
