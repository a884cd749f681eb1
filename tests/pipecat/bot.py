"""A bot written for Twilio Media Streams with Pipecat, as its examples
write one: FastAPI and uvicorn, Pipecat's telephony WebSocket parsing, its
FastAPI WebSocket transport and TwilioFrameSerializer (auto hang-up off, no
external service). It checks the upgrade's X-Twilio-Signature with twilio's
own RequestValidator, talks (a tone stands in for speech synthesis, marks
placed after it), listens for the caller's tone, interrupts itself (a clear)
when the caller presses 5, and says on stdout what it saw, one line each:

    SIGNATURE valid|INVALID
    SENT <mark> <epoch ms>
    START <transport> <streamSid> <callSid> from=<from_number>
    TALKING <epoch ms>
    HEARD <Hz>
    DTMF <digit>
    CLEARED <epoch ms>
    MARK <name>
    STOP
    DISCONNECTED

Usage: bot.py PORT CERT KEY AUTH_TOKEN
"""

import asyncio
import json
import math
import struct
import sys
import time

import uvicorn
from fastapi import FastAPI, WebSocket
from twilio.request_validator import RequestValidator

from pipecat.frames.frames import (
    InputAudioRawFrame,
    InputDTMFFrame,
    OutputAudioRawFrame,
    OutputTransportMessageFrame,
    StartFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.runner import PipelineRunner
from pipecat.pipeline.task import PipelineParams, PipelineTask
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.runner.utils import parse_telephony_websocket
from pipecat.serializers.twilio import TwilioFrameSerializer
from pipecat.transports.websocket.fastapi import (
    FastAPIWebsocketParams,
    FastAPIWebsocketTransport,
)

RATE = 8000
BOT_HZ = 1000
CALLER_HZ = 600

PORT, CERT, KEY, AUTH_TOKEN = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


def say(line):
    print(line, flush=True)


def now_ms():
    return int(time.time() * 1000)


def tone(hz, seconds):
    n = int(RATE * seconds)
    return b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / RATE))) for i in range(n)
    )


def power(samples, hz):
    """Goertzel: the power of `hz` in the samples, against their whole."""
    coeff = 2 * math.cos(2 * math.pi * hz / RATE)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    at = s1 * s1 + s2 * s2 - coeff * s1 * s2
    total = sum(x * x for x in samples) * len(samples) / 2 or 1
    return at / total


class LoggingTwilioSerializer(TwilioFrameSerializer):
    """Pipecat's serializer, saying which marks and stop it was sent."""

    async def serialize(self, frame):
        data = await super().serialize(frame)
        if isinstance(frame, OutputTransportMessageFrame):
            say(f"SENT {frame.message['mark']['name']} {now_ms()}")
        return data

    async def deserialize(self, data):
        try:
            message = json.loads(data)
        except ValueError:
            message = {}
        if message.get("event") == "mark":
            say(f"MARK {message['mark']['name']}")
        elif message.get("event") == "stop":
            say("STOP")
        return await super().deserialize(data)


class ToneBot(FrameProcessor):
    def __init__(self, stream_sid):
        super().__init__()
        self.stream_sid = stream_sid
        self.heard = []
        self.said_heard = False
        self.cleared = False

    def mark(self, name):
        return OutputTransportMessageFrame(
            message={"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}}
        )

    async def process_frame(self, frame, direction):
        await super().process_frame(frame, direction)
        if isinstance(frame, StartFrame):
            await self.push_frame(frame, direction)
            say(f"TALKING {now_ms()}")
            # A second and a mark, twice, then five seconds that the
            # caller interrupts three seconds in (Pipecat sends its audio
            # at real-time pace, and a mark after the audio before it).
            for name in ["m1", "m2"]:
                await self.push_frame(OutputAudioRawFrame(tone(BOT_HZ, 1.0), RATE, 1))
                await self.push_frame(self.mark(name))
            await self.push_frame(OutputAudioRawFrame(tone(BOT_HZ, 5.0), RATE, 1))
            await self.push_frame(self.mark("m3"))
        elif isinstance(frame, InputAudioRawFrame):
            if not self.said_heard:
                self.heard.extend(struct.unpack(f"<{len(frame.audio) // 2}h", frame.audio))
                if len(self.heard) >= RATE // 2:
                    if power(self.heard[-RATE // 2 :], CALLER_HZ) > 0.3:
                        say(f"HEARD {CALLER_HZ}")
                        self.said_heard = True
                    self.heard = self.heard[-RATE:]
        elif isinstance(frame, InputDTMFFrame):
            say(f"DTMF {frame.button.value}")
            if frame.button.value == "5" and not self.cleared:
                self.cleared = True
                say(f"CLEARED {now_ms()}")
                await self.broadcast_interruption()
        else:
            await self.push_frame(frame, direction)


app = FastAPI()


@app.websocket("/ws")
async def media_stream(websocket: WebSocket):
    signature = websocket.headers.get("x-twilio-signature", "")
    url = f"wss://{websocket.headers['host']}{websocket.url.path}"
    if websocket.url.query:
        url += f"?{websocket.url.query}"
    valid = RequestValidator(AUTH_TOKEN).validate(url, {}, signature)
    say(f"SIGNATURE {'valid' if valid else 'INVALID'}")
    await websocket.accept()
    transport_type, call_data = await parse_telephony_websocket(websocket)
    say(
        f"START {transport_type} {call_data['stream_id']} {call_data['call_id']} "
        f"from={call_data.get('from')}"
    )
    serializer = LoggingTwilioSerializer(
        stream_sid=call_data["stream_id"],
        call_sid=call_data["call_id"],
        params=TwilioFrameSerializer.InputParams(auto_hang_up=False),
    )
    transport = FastAPIWebsocketTransport(
        websocket=websocket,
        params=FastAPIWebsocketParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
            add_wav_header=False,
            serializer=serializer,
        ),
    )
    task = PipelineTask(
        Pipeline([transport.input(), ToneBot(call_data["stream_id"]), transport.output()]),
        params=PipelineParams(audio_in_sample_rate=RATE, audio_out_sample_rate=RATE),
    )

    @transport.event_handler("on_client_disconnected")
    async def on_client_disconnected(transport, client):
        say("DISCONNECTED")
        await task.cancel()

    await PipelineRunner(handle_sigint=False).run(task)


if __name__ == "__main__":
    say(f"LISTENING {PORT}")
    uvicorn.run(app, host="127.0.0.1", port=PORT, ssl_certfile=CERT, ssl_keyfile=KEY, log_level="warning")
