"""What the restricted contact store keeps for one citizen reference."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Contact:
    """Real contact details behind an opaque ``ref``; never published to a topic."""

    ref: str
    channel: str
    identity: str  # caller number, mailbox user id or WeChat openid
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    # personal numbers found (and masked) in the appeal text, per appeal id
    found_in_text: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: the appeal these details came with: a citizen may give another phone with each
    #: appeal, and the call back (回访, an emergency desk) is about one appeal
    appeal_id: str | None = None

    def fields(self) -> dict[str, str]:
        """Flat string fields for a Redis hash (empty values left out): the channel and
        identity, and the details :meth:`given`."""
        values = {"channel": self.channel, "identity": self.identity}
        return {**{k: v for k, v in values.items() if v}, **self.given()}

    def given(self) -> dict[str, str]:
        """The name, phone and e-mail given with the appeal (empty ones left out)."""
        values = {"name": self.name, "phone": self.phone, "email": self.email}
        return {k: v for k, v in values.items() if v}
