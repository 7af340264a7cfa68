"""Events from the gateway, checked before python-wechaty decodes them (compat fix 6).

python-wechaty decodes every event inside its one event loop, and any event it cannot decode
raises there and ends the event stream: a payload that is not a JSON object, a message event
without `messageId`, a heartbeat without `data`, a scan with a status it does not know, a
room event missing one of its fields. The bot then reconnects, and every message sent to the
group meanwhile is lost. Here a field whose absence changes nothing gets a default (a logout
is still a logout), and an event that cannot mean anything without it is dropped, logged.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from wechaty_grpc.wechaty.puppet import EventResponse, EventType

log = logging.getLogger("bot.wechat.connection")

# Per event type, the fields python-wechaty requires, each with its default (None: the event
# means nothing without it). Types not listed are decoded from any JSON object.
_REQUIRED: dict[int, dict[str, Any]] = {
    EventType.EVENT_TYPE_HEARTBEAT: {"data": ""},
    EventType.EVENT_TYPE_MESSAGE: {"messageId": None},
    EventType.EVENT_TYPE_FRIENDSHIP: {"friendshipId": None},
    EventType.EVENT_TYPE_ROOM_INVITE: {"roomInvitationId": None},
    EventType.EVENT_TYPE_ROOM_JOIN: {"inviteeIdList": [], "inviterId": "", "roomId": None,
                                     "timestamp": 0},
    EventType.EVENT_TYPE_ROOM_LEAVE: {"removeeIdList": [], "removerId": "", "roomId": None,
                                      "timestamp": 0},
    EventType.EVENT_TYPE_ROOM_TOPIC: {"changerId": "", "newTopic": "", "oldTopic": "",
                                      "roomId": None, "timestamp": 0},
    EventType.EVENT_TYPE_SCAN: {"status": 0},  # 0: ScanStatus.Unknown
    EventType.EVENT_TYPE_LOGIN: {"contactId": None},
    EventType.EVENT_TYPE_LOGOUT: {"contactId": "", "data": ""},
}
SCAN_STATUSES = range(6)  # python-wechaty's ScanStatus: Unknown, Cancel ... Timeout


def decodable(response: EventResponse) -> EventResponse | None:
    """The event as python-wechaty can decode it, or None (logged) when it cannot be."""
    try:
        payload = json.loads(response.payload)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        _dropped(response, "its payload is not a JSON object")
        return None
    fixed = dict(payload)
    for field, default in _REQUIRED.get(response.type, {}).items():
        if fixed.get(field) is None:
            if default is None:
                _dropped(response, f"it has no {field!r}")
                return None
            fixed[field] = default
    if response.type == EventType.EVENT_TYPE_SCAN and fixed["status"] not in SCAN_STATUSES:
        fixed["status"] = 0
    if fixed == payload:
        return response
    return EventResponse(type=response.type, payload=json.dumps(fixed, ensure_ascii=False))


def _dropped(response: EventResponse, why: str) -> None:
    log.warning("ignored a gateway event of type %s: %s (payload %.200r)", response.type, why,
                response.payload)
