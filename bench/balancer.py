"""A round-robin TCP balancer on loopback, standing in for the load balancer before web machines.

python -m bench.balancer --port P HOST:PORT HOST:PORT ...: each connection goes to the next
backend; a backend that refuses the connection is skipped (as a load balancer's health check
would), so one web process may die and restart without refusing anyone.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools

CONNECT_TIMEOUT = 2.0


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


class Balancer:
    """Accepts on one port, forwards each connection to the next backend that answers."""

    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = backends
        self.turn = itertools.cycle(range(len(backends)))

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Forward one client connection both ways."""
        for _ in self.backends:
            host, port = self.backends[next(self.turn)]
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port), CONNECT_TIMEOUT
                )
            except (OSError, TimeoutError):
                continue
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            return
        writer.close()


async def serve(port: int, backends: list[tuple[str, int]]) -> None:
    """Run until killed."""
    server = await asyncio.start_server(Balancer(backends).handle, "127.0.0.1", port, backlog=2048)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("backends", nargs="+", help="HOST:PORT of each web process")
    a = ap.parse_args(argv)
    backends = [(b.rsplit(":", 1)[0], int(b.rsplit(":", 1)[1])) for b in a.backends]
    asyncio.run(serve(a.port, backends))


if __name__ == "__main__":
    main()
