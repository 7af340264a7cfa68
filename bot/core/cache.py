"""Bounded caches for everything the bot remembers for months: memory stays flat."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A dict that keeps only the `capacity` most recently added or read keys."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def add(self, key: K, value: V) -> bool:
        """Put `key` unless it is there; False if it was (a set of recent ids)."""
        if key in self._items:
            return False
        self.put(key, value)
        return True

    def discard(self, key: K) -> None:
        self._items.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def oldest(self) -> tuple[K, V] | None:
        """The least recently added or read item (not moved by this)."""
        return next(iter(self._items.items()), None)


class RecentTimes:
    """When each key (a member) was served within the last `window` seconds, oldest first.

    A flat tuple of floats per key, not a deque (about 760 bytes each, ~16 MB for the 10,000
    members the FAQ and the reply limits each kept): a key whose window has passed is dropped.
    """

    def __init__(self, window: float, capacity: int) -> None:
        self.window = window
        self._times: BoundedCache[str, tuple[float, ...]] = BoundedCache(capacity)

    def within(self, key: str, now: float) -> tuple[float, ...]:
        times = self._times.get(key)
        if times is None:
            return ()
        if now - times[0] >= self.window:  # some have passed: keep the rest, if any
            times = tuple(at for at in times if now - at < self.window)
            if times:
                self._times.put(key, times)
            else:
                self._times.discard(key)
        return times

    def add(self, key: str, now: float) -> None:
        self._times.put(key, (*self.within(key, now), now))
        while (oldest := self._times.oldest()) is not None and now - oldest[1][-1] >= self.window:
            self._times.discard(oldest[0])  # nobody served within the window: forgotten

    def __len__(self) -> int:
        return len(self._times)


class RecentSet:
    """The most recent ids added: between capacity / 2 and `capacity` of them, in two sets
    (the newer half and the one before), each id kept as its 64-bit hash. An OrderedDict of
    the ids cost about 175 bytes an id (3.5 MB for the 20,000 message ids the connection
    keeps), this about 90; two of 20,000 ids sharing a hash is a chance of about 1 in 10^11."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._newer: set[int] = set()
        self._older: set[int] = set()

    def add(self, key: str) -> bool:
        """Add `key` unless it is there; False if it was."""
        hashed = hash(key)
        if hashed in self._newer or hashed in self._older:
            return False
        if len(self._newer) >= self.capacity // 2:
            self._older, self._newer = self._newer, set()
        self._newer.add(hashed)
        return True

    def __contains__(self, key: object) -> bool:
        hashed = hash(key)
        return hashed in self._newer or hashed in self._older

    def __len__(self) -> int:
        return len(self._newer) + len(self._older)
