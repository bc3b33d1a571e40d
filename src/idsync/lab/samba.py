"""A throwaway Samba Active Directory domain controller for tests.

Samba is provisioned into a temporary folder (``samba-tool domain provision``, ~5 s) and run in
the foreground process model ``single`` as our own child process, bound to loopback only. It
needs root: Samba has no setting for its LDAP port, so it listens on 127.0.0.1:389 (and 636,
88, 464, 3268, 3269). Only one can run per host at a time; a lock file serialises users.
Simple binds over plain ldap:// need ``ldap server require strong auth = no``, which provision
ignores as an option, so it is written into smb.conf afterwards.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from idsync.lab.slapd import find_program

LOCK_FILE = Path(tempfile.gettempdir()) / "idsync-samba-389.lock"


def samba_available() -> str | None:
    """None when a Samba DC can run here, else the reason it cannot."""
    if os.geteuid() != 0:
        return "Samba AD DC needs root (it binds 127.0.0.1:389)"
    for program in ("samba", "samba-tool"):
        if find_program(program) is None:
            return f"{program} is not installed (samba samba-ad-dc samba-ad-provision)"
    if not Path("/usr/share/samba/setup/ad-schema").exists():
        return "samba-ad-provision is not installed"
    return None


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


class SambaDC:
    realm = "EXAMPLE.TEST"
    domain = "EXAMPLE"

    def __init__(self, workdir: str | None = None, password: str | None = None) -> None:
        self._own_dir = workdir is None
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="idsync-samba-"))
        # Complexity rules: upper, lower, digit, symbol.
        self.password = password or "Aa1!" + os.urandom(9).hex()
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock: TextIO | None = None
        self.pid: int | None = None

    @property
    def uri(self) -> str:
        return "ldap://127.0.0.1:389"

    @property
    def base_dn(self) -> str:
        return ",".join(f"DC={part}" for part in self.realm.lower().split("."))

    @property
    def bind_dn(self) -> str:
        return f"Administrator@{self.realm.lower()}"

    @property
    def conf(self) -> Path:
        return self.dir / "etc" / "smb.conf"

    def connector_settings(self, **extra: Any) -> dict[str, Any]:
        return {"uri": self.uri, "bind_dn": self.bind_dn, "partitions": [self.base_dn], **extra}

    # --- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> SambaDC:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def provision(self) -> None:
        argv = ["samba-tool", "domain", "provision", "--use-rfc2307", f"--realm={self.realm}",
                f"--domain={self.domain}", "--server-role=dc", "--dns-backend=NONE",
                f"--targetdir={self.dir}", f"--adminpass={self.password}",
                "--host-ip=127.0.0.1", "--host-name=dc1", "--option=interfaces=lo",
                "--option=bind interfaces only=yes",
                "--option=server services=ldap,cldap,kdc,drepl"]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"samba-tool provision failed: {proc.stdout[-1500:]}"
                               f"{proc.stderr[-1500:]}")
        text = self.conf.read_text()
        self.conf.write_text(text.replace(
            "[global]", "[global]\n\tldap server require strong auth = no", 1))

    def start(self, timeout: float = 60.0) -> None:
        self._acquire_lock(timeout)
        if not self.conf.exists():
            self.provision()
        if _port_open(389):
            raise RuntimeError("something already listens on 127.0.0.1:389")
        (self.dir / "run").mkdir(exist_ok=True)
        log = (self.dir / "samba.out").open("wb")
        self._proc = subprocess.Popen(
            ["samba", "-i", "-M", "single", "-s", str(self.conf),
             f"--option=pid directory={self.dir / 'run'}", "--debuglevel=1"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            # Its own session: outlives the pytest worker that started it when another
            # worker or run still uses it, and no signal meant for that worker reaches it.
            start_new_session=True)
        self.pid = self._proc.pid
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"samba exited: {(self.dir / 'samba.out').read_text()[-2000:]}")
            if _port_open(389) and self._answers():
                return
            time.sleep(0.2)
        raise RuntimeError("samba did not answer LDAP in time")

    def _answers(self) -> bool:
        import ldap

        try:
            self.connect().unbind_s()
        except ldap.LDAPError:
            return False
        return True

    def _acquire_lock(self, timeout: float) -> None:
        self._lock = LOCK_FILE.open("w")
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RuntimeError("another Samba DC test holds port 389") from None
                time.sleep(0.5)

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- helpers (python-ldap) ------------------------------------------------------------------
    def connect(self) -> Any:
        import ldap

        conn = ldap.initialize(self.uri)
        conn.protocol_version = 3
        conn.set_option(ldap.OPT_REFERRALS, 0)
        conn.simple_bind_s(self.bind_dn, self.password)
        return conn


# --- one DC shared by every pytest-xdist worker on the host --------------------------------

STATE_FILE = Path(tempfile.gettempdir()) / "idsync-samba-shared.json"
SHARED_LOCK = Path(tempfile.gettempdir()) / "idsync-samba-shared.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (ProcessLookupError, OSError):
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


class _Locked:
    def __enter__(self) -> None:
        self._file = SHARED_LOCK.open("w")
        fcntl.flock(self._file, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


def acquire_shared() -> SambaDC:
    """Attach to the host's test DC, starting it when none runs. Every acquire needs a
    ``release_shared``; the last one stops the DC and removes its folder. Workers of one
    pytest run (xdist), and concurrent runs, thus share one DC instead of fighting over port
    389. Its folder is not under pytest's basetemp: pytest prunes old basetemps while a DC
    started by an earlier run may still serve a later one."""
    with _Locked():
        state = json.loads(STATE_FILE.read_text()) if STATE_FILE.exists() else None
        if state and _alive(state["pid"]):
            state["users"] += 1
            dc = SambaDC(workdir=state["dir"], password=state["password"])
            dc.pid = state["pid"]
        else:
            dc = SambaDC()
            dc._own_dir = False  # removed by the last release, whoever that is
            dc.start()
            state = {"pid": dc.pid, "dir": str(dc.dir), "password": dc.password, "users": 1}
        STATE_FILE.write_text(json.dumps(state))
        STATE_FILE.chmod(0o600)
    return dc


def release_shared(dc: SambaDC) -> None:
    with _Locked():
        state = json.loads(STATE_FILE.read_text()) if STATE_FILE.exists() else None
        if not state:
            return
        state["users"] -= 1
        if state["users"] > 0:
            STATE_FILE.write_text(json.dumps(state))
            return
        STATE_FILE.unlink()
        folder = state["dir"]
        if dc._proc is not None:
            dc.stop()
        elif _alive(state["pid"]):
            # Started by a worker that has finished: stop it by the pid it recorded.
            os.kill(state["pid"], signal.SIGTERM)
            deadline = time.monotonic() + 10
            while _alive(state["pid"]) and time.monotonic() < deadline:
                time.sleep(0.1)
        if dc._lock is not None:
            dc.stop()
        shutil.rmtree(folder, ignore_errors=True)
