"""A private OpenLDAP ``slapd`` for tests, benchmarks and the demo.

Each ``SlapdServer`` owns a temporary folder holding its own cn=config (slapd.d), an mdb
database for the suffix and one for ``cn=accesslog``, and starts slapd on 127.0.0.1 on a free
port. Overlays as a production OpenLDAP used for identity sync would have them: memberof,
syncprov (with a session log, so refreshOnly syncrepl sees deletes) and accesslog (with the
entryUUID of every changed entry). Optional TLS with a throwaway CA the harness makes.

It needs no root: everything lives under the temporary folder, and slapd is stopped by the
pid it wrote, never by name. Bulk data goes in with ``slapadd`` while slapd is stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idsync.lab.ldif_text import ldif_entry
from idsync.lab.slapd_config import config_ldif
from idsync.lab.tls import TlsMaterial, make_tls_material

MODULE_DIRS = ("/usr/lib/ldap", "/usr/lib64/openldap", "/usr/lib/openldap",
               "/usr/libexec/openldap", "/usr/local/libexec/openldap")
SCHEMA_DIRS = ("/etc/ldap/schema", "/etc/openldap/schema", "/usr/local/etc/openldap/schema")
SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/libexec")


def find_program(name: str) -> str | None:
    """slapd and slapadd live in sbin, which is often not on a test runner's PATH."""
    found = shutil.which(name)
    if found:
        return found
    for d in SBIN_DIRS:
        p = Path(d, name)
        if p.exists():
            return str(p)
    return None


def slapd_available() -> bool:
    return find_program("slapd") is not None and find_program("slapadd") is not None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _first_existing(dirs: Iterable[str], probe: str) -> str:
    for d in dirs:
        if Path(d, probe).exists():
            return d
    raise FileNotFoundError(f"{probe} not found in any of {list(dirs)}; is slapd installed?")


@dataclass(slots=True)
class SlapdConfig:
    suffix: str = "dc=example,dc=com"
    password: str = ""
    accesslog: bool = True
    tls: bool = False
    #: Entries of the syncprov session log: deletes older than this fall back to a present phase.
    sessionlog: int = 100000
    #: Multi-valued attributes slapd keeps sorted (olcSortVals, frontend).
    sortvals: tuple[str, ...] = ()
    #: mdb's olcDbMultival for the suffix database ("" leaves it unset).
    multival: str = ""
    #: Index ``member`` (eq) as well as ``memberOf``. Off: back-mdb re-adds the index keys
    #: of every remaining value when one value is deleted, so removing one member of a
    #: 250,000-member group (or deleting a user, through memberof's refint) costs ~0.5 s
    #: instead of ~0.05 s; nothing here filters on member (clients ask memberOf).
    member_index: bool = False


class SlapdServer:
    """One private slapd. Use as a context manager or call ``start()`` / ``stop()``."""

    def __init__(self, config: SlapdConfig | None = None, workdir: str | None = None) -> None:
        self.config = config or SlapdConfig()
        if not self.config.password:
            self.config.password = os.urandom(12).hex()
        self._own_dir = workdir is None
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="idsync-slapd-"))
        self.port = free_port()
        self.ldaps_port = free_port() if self.config.tls else None
        self.tls: TlsMaterial | None = None
        self._pid: int | None = None
        self._slapd = find_program("slapd") or "slapd"
        self._slapadd = find_program("slapadd") or "slapadd"
        self._initialised = False

    # --- addresses and credentials -----------------------------------------------------
    @property
    def base_dn(self) -> str:
        return self.config.suffix

    @property
    def bind_dn(self) -> str:
        return f"cn=admin,{self.config.suffix}"

    @property
    def password(self) -> str:
        return self.config.password

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_uri(self) -> str | None:
        return f"ldaps://127.0.0.1:{self.ldaps_port}" if self.ldaps_port else None

    @property
    def ldapi_uri(self) -> str:
        return "ldapi://" + urllib.parse.quote(str(self.dir / "ldapi"), safe="")

    @property
    def ca_file(self) -> str | None:
        return str(self.tls.ca_file) if self.tls else None

    def connector_settings(self, **extra: Any) -> dict[str, Any]:
        """Settings for the LDAP connector pointing at this server (password goes in secrets)."""
        settings: dict[str, Any] = {"uri": self.uri, "bind_dn": self.bind_dn,
                                    "partitions": [self.base_dn]}
        if self.tls:
            settings["tls_ca_file"] = self.ca_file
        settings.update(extra)
        return settings

    # --- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> SlapdServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def init(self, base_entries: bool = True) -> None:
        """Write a fresh cn=config and empty databases; optionally add the suffix and OUs."""
        for sub in ("slapd.d", "data", "accesslog"):
            shutil.rmtree(self.dir / sub, ignore_errors=True)
            (self.dir / sub).mkdir(parents=True)
        if self.config.tls and self.tls is None:
            self.tls = make_tls_material(self.dir / "tls", hosts=["127.0.0.1", "localhost"])
        config_ldif = self.dir / "config.ldif"
        config_ldif.write_text(self._config_ldif(), encoding="utf-8")
        self._run([self._slapadd, "-n0", "-F", str(self.dir / "slapd.d"), "-l", str(config_ldif)])
        self._initialised = True
        if base_entries:
            self.slapadd_text(self.base_ldif())

    def base_ldif(self) -> str:
        rdn_attr, rdn_value = self.base_dn.split(",")[0].split("=", 1)
        top: dict[str, Any] = {"objectClass": ["top", "organization"], "o": "Example Corp"}
        if rdn_attr == "dc":
            top = {"objectClass": ["top", "dcObject", "organization"], "o": "Example Corp",
                   "dc": rdn_value}
        return (ldif_entry(self.base_dn, top)
                + ldif_entry(f"ou=People,{self.base_dn}",
                             {"objectClass": "organizationalUnit", "ou": "People"})
                + ldif_entry(f"ou=Groups,{self.base_dn}",
                             {"objectClass": "organizationalUnit", "ou": "Groups"}))

    def slapadd(self, ldif_path: str | os.PathLike[str]) -> None:
        """Bulk load an LDIF file offline (slapd must be stopped). Bypasses overlays, so the
        LDIF carries memberOf itself; -w writes the contextCSN syncprov needs."""
        if self.running:
            raise RuntimeError("slapadd needs slapd stopped")
        if not self._initialised:
            self.init(base_entries=False)
        self._run([self._slapadd, "-q", "-w", "-F", str(self.dir / "slapd.d"),
                   "-b", self.base_dn, "-l", str(ldif_path)])

    def slapadd_text(self, ldif: str) -> None:
        path = self.dir / "load.ldif"
        path.write_text(ldif, encoding="utf-8")
        try:
            self.slapadd(path)
        finally:
            path.unlink(missing_ok=True)

    @property
    def running(self) -> bool:
        if self._pid is None:
            return False
        try:
            os.kill(self._pid, 0)
        except ProcessLookupError:
            return False
        # slapd daemonises, so init reaps it, sometimes a second later: a zombie has stopped.
        try:
            stat = Path(f"/proc/{self._pid}/stat").read_text()
        except OSError:
            return True
        return stat.rsplit(")", 1)[-1].split()[0] != "Z"

    def start(self, timeout: float = 10.0) -> None:
        if not self._initialised:
            self.init()
        urls = [f"ldap://127.0.0.1:{self.port}/", self.ldapi_uri]
        if self.ldaps_port:
            urls.append(f"ldaps://127.0.0.1:{self.ldaps_port}/")
        (self.dir / "slapd.pid").unlink(missing_ok=True)
        # slapd daemonises; its exit status says whether the listeners and config came up.
        self._run([self._slapd, "-F", str(self.dir / "slapd.d"), "-h", " ".join(urls)])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid_file = self.dir / "slapd.pid"
            if pid_file.exists() and pid_file.read_text().strip():
                self._pid = int(pid_file.read_text().strip())
                if self._answers():
                    return
            time.sleep(0.02)
        raise RuntimeError(f"slapd did not answer on {self.uri} within {timeout}s")

    def _answers(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self, timeout: float = 10.0, discard: bool = False) -> None:
        """Stop cleanly (SIGTERM), or at once (SIGKILL) with ``discard`` when the database is
        thrown away anyway."""
        if self._pid is None:
            return
        try:
            os.kill(self._pid, signal.SIGKILL if discard else signal.SIGTERM)
        except ProcessLookupError:
            self._pid = None
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.running:
            time.sleep(0.02)
        if self.running:
            os.kill(self._pid, signal.SIGKILL)
        self._pid = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop and throw the server away (its folder too, when the harness made it)."""
        self.stop(discard=True)
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- helpers on a live server (python-ldap) -----------------------------------------
    def connect(self) -> Any:
        """A python-ldap connection bound as the admin."""
        import ldap

        conn = ldap.initialize(self.uri)
        conn.protocol_version = 3
        conn.set_option(ldap.OPT_REFERRALS, 0)
        conn.simple_bind_s(self.bind_dn, self.password)
        return conn

    def add(self, dn: str, attrs: Mapping[str, Sequence[str | bytes] | str]) -> None:
        import ldap.modlist

        entry = {k: [_b(v) for v in ([vs] if isinstance(vs, str) else vs)]
                 for k, vs in attrs.items()}
        conn = self.connect()
        try:
            conn.add_s(dn, ldap.modlist.addModlist(entry))
        finally:
            conn.unbind_s()

    def modify(self, dn: str, changes: Sequence[tuple[str, str, Sequence[str | bytes] | None]]
               ) -> None:
        """``changes``: (op, attribute, values) with op in add / delete / replace."""
        import ldap

        ops = {"add": ldap.MOD_ADD, "delete": ldap.MOD_DELETE, "replace": ldap.MOD_REPLACE}
        modlist = [(ops[op], attr, None if vals is None else [_b(v) for v in vals])
                   for op, attr, vals in changes]
        conn = self.connect()
        try:
            conn.modify_s(dn, modlist)
        finally:
            conn.unbind_s()

    def rename(self, dn: str, new_rdn: str, new_superior: str | None = None) -> None:
        conn = self.connect()
        try:
            conn.rename_s(dn, new_rdn, new_superior, delold=1)
        finally:
            conn.unbind_s()

    def delete(self, dn: str) -> None:
        conn = self.connect()
        try:
            conn.delete_s(dn)
        finally:
            conn.unbind_s()

    def search(self, base: str, filterstr: str = "(objectClass=*)", scope: str = "sub",
               attrs: Sequence[str] | None = None) -> list[tuple[str, dict[str, list[bytes]]]]:
        import ldap

        scopes = {"base": ldap.SCOPE_BASE, "one": ldap.SCOPE_ONELEVEL, "sub": ldap.SCOPE_SUBTREE}
        conn = self.connect()
        try:
            return [(dn, a) for dn, a in conn.search_s(base, scopes[scope], filterstr,
                                                       list(attrs) if attrs else None) if dn]
        finally:
            conn.unbind_s()

    # --- internals ----------------------------------------------------------------------
    def _run(self, argv: list[str]) -> None:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{Path(argv[0]).name} failed ({proc.returncode}): "
                               f"{proc.stderr.strip()[-2000:]}")

    def _config_ldif(self) -> str:
        return config_ldif(
            workdir=self.dir, suffix=self.base_dn, root_dn=self.bind_dn,
            password=self.password, accesslog=self.config.accesslog,
            module_dir=_first_existing(MODULE_DIRS, "back_mdb.la"),
            schema_dir=_first_existing(SCHEMA_DIRS, "core.ldif"),
            tls=self.tls, sessionlog=self.config.sessionlog,
            sortvals=self.config.sortvals, multival=self.config.multival,
            member_index=self.config.member_index,
        )


def _b(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value
