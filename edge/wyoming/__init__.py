"""The device's services over the Wyoming protocol, for Home Assistant and any Wyoming client.

`python -m edge wyoming` loads the models once (`service.load_services`) and serves every
connection with `server.ConnectionHandler`, which routes each event to one module per service:

- `asr`: transcribe + audio stream -> transcript (and transcript-start/-chunk/-stop while it streams);
- `tts`: synthesize (or a synthesize-start/-chunk/-stop text stream) -> audio, clause by clause;
- `wake`: detect + audio stream -> detection or not-detected;
- `handle`: transcript -> handled / not-handled from the shopping dialogue, one conversation per client;
- `info`: what `describe` answers; `audio`: any rate/width/channels in, 16 kHz mono out.

The wire format and event classes are the `wyoming` package's; nothing here frames bytes by hand.
"""

from edge.wyoming.server import ConnectionHandler, serve
from edge.wyoming.service import ServiceError, Services, load_services

__all__ = ["ConnectionHandler", "ServiceError", "Services", "load_services", "serve"]
