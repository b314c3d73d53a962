"""Device slots: which device a worker's trials run on (``run.devices``, ``run.per_device``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from hpsearch.sampling import Trial


@dataclass(frozen=True)
class DeviceSlots:
    devices: tuple[str, ...]
    per_device: int

    def of(self, slot: int) -> str:
        """The device of worker slot ``slot``: round the devices, so that fewer workers than
        slots still spread over every device."""
        return self.devices[slot % len(self.devices)]


def on_device(trial: Trial, slots: DeviceSlots | None, slot: int) -> Trial:
    return trial if slots is None else dataclasses.replace(trial, device=slots.of(slot))
