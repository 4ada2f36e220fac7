"""The slpterm app as a screen sees it, typed: Textual's ``self.app`` is any ``App``."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from slpterm.ui.app import SlpTermApp


def slpterm_app(node: MessagePump) -> SlpTermApp:
    """The running :class:`~slpterm.ui.app.SlpTermApp` that ``node`` belongs to."""
    return cast("SlpTermApp", node.app)
