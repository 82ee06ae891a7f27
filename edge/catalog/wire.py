"""The signed catalog payload format now lives in `voiceshop_common.catalog_wire`, shared with the cloud.

Kept so device modules (and branches in flight) keep importing `edge.catalog.wire`; new code imports
`voiceshop_common.catalog_wire`. The cloud must not import this module (tests/test_import_boundaries.py).
"""

from voiceshop_common.catalog_wire import *  # noqa: F403
