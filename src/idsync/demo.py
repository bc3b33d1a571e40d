"""``idsync demo``: a whole sync cycle from nothing, on the embedded parts only.

A workspace, the bundled sample directory (Contoso, as LDIF) behind a file connector (or, with
``--ldap``, a local slapd holding sample data), a local clouddir as the cloud directory with the
out-of-box rules (with ``--target graph``, the same clouddir through its Microsoft Graph API,
served over HTTPS, the graph connector authenticated by MSAL with an app's certificate, and the
out-of-box rules for Graph; with ``--target file``, a second LDIF directory with the
directory-to-directory rules), then the initial cycle (Full Import, Full Synchronization,
Export) followed at once by the import that confirms the export (a sync cycle of ``idsync serve``
or ``cycle start`` leaves that to the next cycle's import), and a delta cycle after a small
churn, confirmed the same way.
"""

from __future__ import annotations

import importlib.resources
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from idsync.administration.outofbox import install_outofbox
from idsync.administration.rule_changes import save_rules
from idsync.engine.core import RunContext
from idsync.engine.run_profiles import RunResult, run_profile
from idsync.errors import ConfigurationError
from idsync.lab.clouddir import LocalCloudDir
from idsync.lab.sample import sample_directory
from idsync.lab.slapd import SlapdServer, slapd_available
from idsync.lab.tls import make_app_certificate
from idsync.model import RunProfile
from idsync.rules.files import builtin_rule_set
from idsync.rules.outofbox import Target
from idsync.sample import generate_churn
from idsync.store import CONFIG_FILE, DB_FILE, Store

MARKER = "idsync-demo.txt"
SOURCE, TARGET, CLOUD, GRAPH = "contoso", "fabrikam", "cloud", "entra"
TARGETS = ("cloud", "graph", "file")
TARGET_BASE = "dc=fabrikam,dc=com"
TARGET_SKELETON = f"""version: 1

dn: {TARGET_BASE}
objectClass: dcObject
objectClass: organization
dc: fabrikam
o: Fabrikam

dn: ou=People,{TARGET_BASE}
objectClass: organizationalUnit
ou: People

dn: ou=Groups,{TARGET_BASE}
objectClass: organizationalUnit
ou: Groups
"""


@dataclass
class StageFigure:
    cycle: str
    result: RunResult
    seconds: float

    @property
    def objects(self) -> int:
        c = self.result.counters
        return sum(c.get(k, 0) for k in ("adds", "updates", "deletes", "renames", "no-change"))


def prepare_workspace(workspace: Path) -> None:
    """The demo owns its workspace: an earlier demo's is started afresh, anything else is
    refused rather than touched, a workspace kept in PostgreSQL (named by its
    workspace.yaml) as much as one in idsync.db."""
    holds = (workspace / DB_FILE).exists() or (workspace / CONFIG_FILE).exists()
    if holds and not (workspace / MARKER).exists():
        raise ConfigurationError(
            f"{workspace} already holds an idsync workspace that is not a demo; give the demo "
            "its own folder with --workspace")
    if (workspace / MARKER).exists():
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / MARKER).write_text("created by `idsync demo`; the next demo run replaces it\n")


def sample_ldif() -> Path:
    resource = importlib.resources.files("idsync.sample") / "contoso.ldif"
    return Path(str(resource))


def run_demo(workspace: Path, *, churn: bool = True, ldap: bool = False, target: str = "cloud",
             on_stage: Callable[[StageFigure], None] | None = None) -> list[StageFigure]:
    """The demo from nothing. ``target`` is ``cloud`` (a local clouddir, out-of-box rules),
    ``graph`` (the same through its Graph API, the Graph out-of-box rules) or ``file`` (a
    second LDIF directory, the directory-to-directory rules)."""
    if target not in TARGETS:
        raise ConfigurationError(f"unknown demo target {target!r} (one of {', '.join(TARGETS)})")
    prepare_workspace(workspace)
    (workspace / SOURCE).mkdir()
    server = _start_slapd(workspace) if ldap else None
    cloud = (_start_clouddir(workspace, tls=target == "graph")
             if target in ("cloud", "graph") else None)
    # Always the folder's own SQLite file: an IDSYNC_DATABASE_URL in the environment names
    # the administrator's real database, which the demo must never write into.
    store = Store.open(workspace, database=str(workspace / DB_FILE))
    try:
        _add_source(store, workspace, server)
        if cloud is not None and target == "graph":
            _add_graph_target(store, workspace, cloud)
        elif cloud is not None:
            tenant_id, token = cloud.create_tenant("contoso")
            store.connectors.add(CLOUD, "cloud", {"url": cloud.url, "tenant_id": tenant_id},
                                 {"token": token})
            install_outofbox(store, onprem=SOURCE, cloud=CLOUD, flavour="openldap")
        else:
            _add_file_target(store, workspace)
        figures: list[StageFigure] = []
        engine = RunContext(store, str(workspace))

        def stage(cycle: str, connector: str, profile: RunProfile) -> None:
            started = time.perf_counter()
            result = run_profile(engine, connector, profile)
            figure = StageFigure(cycle, result, time.perf_counter() - started)
            figures.append(figure)
            if on_stage:
                on_stage(figure)
            if not result.ok:
                raise ConfigurationError(
                    f"{profile.value} on {connector} stopped: {result.status}: {result.message}")

        target_name = {"cloud": CLOUD, "graph": GRAPH}.get(target, TARGET)
        for connector, profile in initial_cycle(target_name):
            stage("initial", connector, profile)
        if churn:
            if server is not None:
                _ldap_churn(server)
            else:
                generate_churn(workspace / SOURCE / "directory.ldif",
                               changes_path=workspace / SOURCE / "changes.ldif", seed=7)
            for connector, profile in delta_cycle(target_name):
                stage("delta", connector, profile)
        engine.close()
        return figures
    finally:
        store.close()
        # The throwaway servers go with the demo; the workspace keeps what they held
        # (`clouddir serve --db sqlite:///<workspace>/clouddir/clouddir.db` starts it again).
        if server is not None:
            server.close()
        if cloud is not None:
            cloud.stop()


def _add_source(store: Store, workspace: Path, server: SlapdServer | None) -> None:
    if server is not None:
        store.connectors.add(SOURCE, "ldap", server.connector_settings(),
                             {"password": server.password})
        return
    shutil.copyfile(sample_ldif(), workspace / SOURCE / "directory.ldif")
    store.connectors.add(SOURCE, "file", {
        "path": f"{SOURCE}/directory.ldif", "changes_path": f"{SOURCE}/changes.ldif"})


def _add_file_target(store: Store, workspace: Path) -> None:
    (workspace / TARGET).mkdir()
    (workspace / TARGET / "directory.ldif").write_text(TARGET_SKELETON)
    store.connectors.add(TARGET, "file", {
        "path": f"{TARGET}/directory.ldif", "export_log": f"{TARGET}/exports.ldif"})
    save_rules(store, builtin_rule_set("directory-to-directory", source=SOURCE,
                                       target=TARGET, target_base=TARGET_BASE),
               installing_builtin=True)


def _add_graph_target(store: Store, workspace: Path, cloud: LocalCloudDir) -> None:
    """What an administrator does for Entra ID, against the local clouddir: an app
    registration with a certificate, a graph connector holding the key as a secret, and the
    out-of-box rules for Graph."""
    tenant_id, _token = cloud.create_tenant("contoso")
    certificate = make_app_certificate(workspace / "clouddir" / "app")
    app = cloud.create_app(tenant_id, "idsync", certificate=certificate.cert_file)
    store.connectors.add(GRAPH, "graph", {
        "tenant_id": tenant_id, "client_id": app["client_id"], "authority": cloud.url,
        "graph_url": f"{cloud.url}/v1.0", "tls_ca_file": str(cloud.ca_file)},
        {"certificate_key": certificate.key_pem,
         "certificate_thumbprint": certificate.thumbprint})
    install_outofbox(store, onprem=SOURCE, cloud=GRAPH, flavour="openldap",
                     target=Target.GRAPH)


def _start_clouddir(workspace: Path, tls: bool = False) -> LocalCloudDir:
    (workspace / "clouddir").mkdir()
    server = LocalCloudDir(workspace / "clouddir", tls=tls)
    server.start()
    return server


def _start_slapd(workspace: Path) -> SlapdServer:
    if not slapd_available():
        raise ConfigurationError(
            "--ldap needs OpenLDAP's slapd (Debian package slapd; `bash scripts/setup.sh "
            "--all` installs it); run the demo without --ldap otherwise")
    return sample_directory(users=1000, groups=100, workdir=str(workspace / "slapd"))


def _ldap_churn(server: SlapdServer) -> None:
    """A small churn made the way an administrator would, over LDAP: title changes, a few
    deletes and a membership change; the connector's delta import finds them."""
    found = server.search(server.base_dn, "(objectClass=inetOrgPerson)", attrs=["uid"])
    users = sorted(dn for dn, _ in found)
    for dn in users[:20]:
        server.modify(dn, [("replace", "title", ["Demo Lead"])])
    for dn in users[-5:]:
        server.delete(dn)
    groups = sorted(dn for dn, _ in server.search(server.base_dn, "(objectClass=groupOfNames)",
                                                   attrs=["cn"]))
    if groups:
        server.modify(groups[0], [("add", "member", [users[25]])])


def initial_cycle(target: str = TARGET) -> list[tuple[str, RunProfile]]:
    confirm = RunProfile.DELTA_IMPORT if target in (CLOUD, GRAPH) else RunProfile.FULL_IMPORT
    return [(SOURCE, RunProfile.FULL_IMPORT), (target, RunProfile.FULL_IMPORT),
            (SOURCE, RunProfile.FULL_SYNC), (target, RunProfile.FULL_SYNC),
            (target, RunProfile.EXPORT),
            # The import that confirms the export: a scheduler cycle leaves it to the next
            # cycle; the demo runs it now so that its summary shows the export confirmed.
            (target, confirm), (target, RunProfile.DELTA_SYNC)]


def delta_cycle(target: str = TARGET) -> list[tuple[str, RunProfile]]:
    confirm = RunProfile.DELTA_IMPORT if target in (CLOUD, GRAPH) else RunProfile.FULL_IMPORT
    return [(SOURCE, RunProfile.DELTA_IMPORT), (SOURCE, RunProfile.DELTA_SYNC),
            (target, RunProfile.EXPORT), (target, confirm), (target, RunProfile.DELTA_SYNC)]
