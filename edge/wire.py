"""The MQTT wire formats now live in `voiceshop_common.wire`, the package the cloud shares with the device.

Kept so device modules (and branches in flight) keep importing `edge.wire`; new code imports
`voiceshop_common.wire`. The cloud must not import this module (tests/test_import_boundaries.py).
"""

from voiceshop_common.wire import *  # noqa: F403
