"""A TCP relay on loopback in front of a real server, with a gate: while the gate is closed,
every byte waits in the relay. A run that talks to the server through it sits in a directory
call (a slow LDAP page, a cloud import page) for exactly as long as a test wants, outside any
database transaction, as a long call of a live run does.

    gate = Gate("127.0.0.1", port)      # closed at first when closed=True
    settings["url"] = gate.url_for("http")
    gate.open(); gate.close(); gate.stop()
"""

from __future__ import annotations

import contextlib
import socket
import threading


class Gate:
    def __init__(self, host: str, port: int, *, closed: bool = False) -> None:
        self.target = (host, port)
        self._open = threading.Event()
        if not closed:
            self._open.set()
        self._stopping = threading.Event()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        #: requests that reached the relay (bytes received from clients), for tests to wait on
        self.received = 0
        threading.Thread(target=self._accept, daemon=True, name="gate-accept").start()

    def url_for(self, scheme: str) -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    def open(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._open.clear()

    def stop(self) -> None:
        self._stopping.set()
        self._open.set()
        for sock in [self._listener, *self._sockets]:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self._sockets += [client, server]
            for a, b, count in ((client, server, True), (server, client, False)):
                threading.Thread(target=self._pump, args=(a, b, count), daemon=True,
                                 name="gate-pump").start()

    def _pump(self, src: socket.socket, dst: socket.socket, count: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if count:
                    self.received += len(data)
                self._open.wait()
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)
