"""Audit the installed Python packages for known vulnerabilities with pip-audit.

Run by scripts/test.sh. Fails (exit 1) when pip-audit reports a vulnerability. When the
vulnerability database cannot be reached, or it does not know the installed versions (a
mirror without them), nothing was audited: it prints a notice saying so and exits 0, so an
offline machine can still run the suite, and the notice says plainly that no audit happened.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def main() -> int:
    try:
        done = subprocess.run(
            [str(BIN / "pip-audit"), "--local", "--skip-editable", "--progress-spinner", "off",
             "--timeout", "15", "--format", "json"],
            capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"pip-audit: skipped, it could not run ({exc})")
        return 0
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"pip-audit: skipped, the vulnerability database cannot be reached ({reason})")
        return 0
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    vulnerable = [d for d in audited if d.get("vulns")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release"
            print(f"pip-audit: {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    if vulnerable:
        print(f"pip-audit: {len(vulnerable)} vulnerable package(s): upgrade them "
              "(pyproject.toml) or record why not")
        return 1
    if not audited:
        print(f"pip-audit: skipped, the vulnerability database knows none of the "
              f"{len(dependencies)} installed packages (offline or a partial mirror)")
        return 0
    skipped = len(dependencies) - len(audited)
    note = f", {skipped} not known to the database" if skipped else ""
    print(f"pip-audit: {len(audited)} packages audited, no known vulnerability{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
