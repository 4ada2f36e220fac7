"""Type-ahead: keys typed faster than the screen changes still land where they were meant to.

Textual sends a key to the widget that has focus when the key arrives, but runs a screen's key
binding only once the key has travelled up to the screen, and opens a screen or moves focus a few
messages later still. Typed quickly, the keys after F8 would reach the goal list F8 is about to
leave, and the keys after F3 a dialog not yet composed. The app therefore hands each key (and each
paste) to :class:`TypeAhead`, which delivers it only once everything the keys before it set off
has been handled: every message queue of the app and of its screens is empty and idle, every
widget on them is mounted. Each key then goes, in the order typed, to whatever has focus at that
moment, exactly as if it had been typed slowly.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from textual import events
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.app import App
    from textual.message import Message
    from textual.message_pump import MessagePump
    from textual.screen import Screen

# A screen that never goes quiet (an animation, a stuck handler) must not swallow the keyboard:
# after this long the next key is delivered anyway.
MAX_HOLD_SECONDS = 2.0
# A screen busy in a worker thread (saving a form, say) sets this attribute true: the keys typed
# meanwhile are meant for what comes after it.
HOLDS_KEYS = "holds_keys"
# Released events carry this attribute, so the app lets them through the second time.
RELEASED = "_slpterm_typeahead_released"


class TypeAhead:
    """Holds keys and pastes, delivering each one once the app has settled after the last."""

    def __init__(self, app: App, may_deliver: Callable[[events.Event], bool] = lambda event: True) -> None:
        self._app = app
        self._may_deliver = may_deliver  # False holds this key (and those after it) a while longer
        self._held: deque[events.Event] = deque()
        self._task: asyncio.Task | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self.gave_up = 0  # times a key was delivered before the app went quiet (MAX_HOLD_SECONDS)

    @staticmethod
    def is_released(event: events.Event) -> bool:
        return getattr(event, RELEASED, False)

    @staticmethod
    def wants(event: events.Event) -> bool:
        """True for the input events whose order and target matter."""
        return isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded

    def hold(self, event: events.Event) -> None:
        self._held.append(event)
        self._idle.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._deliver(), name="typeahead")

    @property
    def pending(self) -> int:
        return len(self._held)

    async def wait_delivered(self) -> None:
        """Wait until every held key was delivered and what it set off has been handled."""
        await self._idle.wait()

    async def _deliver(self) -> None:
        try:
            while True:
                while self._held:
                    await self._settled()
                    if not self._held:
                        break
                    if not self._may_deliver(self._held[0]):
                        await asyncio.sleep(0.005)
                        continue
                    event = self._held.popleft()
                    setattr(event, RELEASED, True)
                    if not self._app.post_message(event):
                        self._held.clear()  # the app is closing
                await self._settled()
                # A key held while the last one's effects settled found this task still running
                # (so ``hold`` started none): deliver it too, or it would wait for the next key.
                if not self._held:
                    break
        finally:
            if not self._held:
                self._idle.set()

    async def _settled(self) -> None:
        deadline = time.monotonic() + MAX_HOLD_SECONDS
        spins = 0
        # Twice quiet in a row: a message posted from another task in between is seen.
        quiet_in_a_row = 0
        while quiet_in_a_row < 2 and time.monotonic() < deadline:
            spins += 1
            await asyncio.sleep(0 if spins < 50 else 0.001)
            quiet_in_a_row = quiet_in_a_row + 1 if self._quiet() else 0
        if quiet_in_a_row < 2:
            self.gave_up += 1

    def _quiet(self) -> bool:
        app = self._app
        if not _pump_idle(app):
            return False
        try:
            stack = list(app.screen_stack)
        except Exception:  # noqa: BLE001 - no screen yet (starting) or none any more (closing)
            return False
        if not stack or not stack[-1].is_mounted:
            return False
        if getattr(stack[-1], HOLDS_KEYS, False):
            return False
        return all(_pump_idle(node) and node.is_mounted for node in _nodes(stack))


def _nodes(screens: list[Screen]) -> Iterator[Widget]:
    for screen in screens:
        yield screen
        yield from screen.walk_children(Widget, with_self=False)


def _pump_idle(pump: MessagePump) -> bool:
    queue: asyncio.Queue[Message | None] = pump._message_queue
    # ``_unfinished_tasks`` counts messages taken from the queue and not yet handled.
    return queue.empty() and not getattr(queue, "_unfinished_tasks", 0) and not pump._next_callbacks
