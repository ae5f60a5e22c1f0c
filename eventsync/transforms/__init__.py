"""Transforms: Jolt chains, flow mappings and the value transforms they use.

`from eventsync.transforms import jolt` gives `jolt.compile(spec)`; flow mappings are in
`eventsync.transforms.mapping`. Every failure is an `eventsync.transforms.TransformError`.
"""

from eventsync.transforms.errors import TransformError

__all__ = ["TransformError"]
