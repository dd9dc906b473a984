"""A websockets (python3-websockets) server for the tests, on 127.0.0.1:0.

Prints its port on the first line, then one line per thing it observed.
Modes:
  echo         echo every message with its type
  close-1001   on connect, close with 1001 and a non-ASCII reason
  report-close echo, and print the close code and reason the client sent
"""
import asyncio
import sys

import websockets


async def handler(ws, path=None):
    mode = sys.argv[1]
    if mode == "close-1001":
        await ws.close(1001, "au revoir, café")
        return
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass
    if mode == "report-close":
        print(f"close {ws.close_code} {ws.close_reason}", flush=True)


async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await asyncio.Future()


asyncio.run(main())
