#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the examples of PROTOCOL.md (every ```json and ```http
block), so the fuzzers start from real frames. Run from the repository root; files are named
by the SHA-1 of their contents, as libFuzzer names what it finds, so re-running adds nothing
twice."""

import hashlib
import json
import os
import struct
import sys


def blocks(text, lang):
    out, current = [], None
    for line in text.splitlines():
        fence = line.strip().startswith("```")
        if current is None and fence and line.strip()[3:].strip() == lang:
            current = []
        elif current is not None and fence:
            out.append("\n".join(current) + "\n")
            current = None
        elif current is not None:
            current.append(line)
    return out


def msgpack(value):
    """A minimal MessagePack encoder (maps, arrays, strings, integers, booleans, nil)."""
    if value is None:
        return b"\xc0"
    if value is True:
        return b"\xc3"
    if value is False:
        return b"\xc2"
    if isinstance(value, int):
        if 0 <= value < 128:
            return bytes([value])
        if -32 <= value < 0:
            return struct.pack(">b", value)
        if 0 <= value < 2**64:
            return b"\xcf" + struct.pack(">Q", value)
        return b"\xd3" + struct.pack(">q", value)
    if isinstance(value, float):
        return b"\xcb" + struct.pack(">d", value)
    if isinstance(value, str):
        raw = value.encode()
        if len(raw) < 32:
            return bytes([0xA0 | len(raw)]) + raw
        return b"\xda" + struct.pack(">H", len(raw)) + raw
    if isinstance(value, list):
        head = bytes([0x90 | len(value)]) if len(value) < 16 else b"\xdc" + struct.pack(">H", len(value))
        return head + b"".join(msgpack(v) for v in value)
    if isinstance(value, dict):
        head = bytes([0x80 | len(value)]) if len(value) < 16 else b"\xde" + struct.pack(">H", len(value))
        return head + b"".join(msgpack(k) + msgpack(v) for k, v in value.items())
    raise TypeError(type(value))


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def write(target, data):
    folder = os.path.join("fuzz", "corpus", target)
    os.makedirs(folder, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def main():
    with open("PROTOCOL.md", encoding="utf-8") as f:
        doc = f.read()
    examples = blocks(doc, "json")
    if len(examples) < 25:
        sys.exit(f"PROTOCOL.md has only {len(examples)} json examples")
    hello = b'{"type":"hello","protocol":1,"codec":"json","user":"ann"}'
    for text in examples:
        raw = text.encode()
        write("decode_json", raw)
        write("decode_msgpack", msgpack(json.loads(text)))
        write("tcp_framing", frame(hello) + frame(raw.strip()) + frame(b""))
    for text in blocks(doc, "http"):
        write("http_upgrade", text.replace("\n", "\r\n").encode())
    write(
        "http_upgrade",
        b"GET /ws?user=ann HTTP/1.1\r\nHost: localhost:8080\r\nConnection: Upgrade\r\n"
        b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
        b"dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: chatcore.v1.msgpack\r\n"
        b"Origin: http://localhost:8080\r\n\r\n",
    )
    write(
        "http_upgrade",
        b'POST /api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n'
        b'Content-Length: 14\r\n\r\n{"user":"ann"}',
    )
    write("http_upgrade", b"GET /api/rooms/lobby/messages?limit=5&before=9 HTTP/1.1\r\nHost: [::1]\r\n\r\n")
    for name in ["ann", "dm:ann:bob", "g\u00e9n\u00e9ral", "a b", "x" * 65, "nul\u0000", "ann\nbob"]:
        write("names", name.encode())
    for query in ["hello world", "a OR b", '"quoted" NEAR(x y)', "NOT -x* ^y", "\u00c7a va", "()"]:
        write("search_query", query.encode())


if __name__ == "__main__":
    main()
