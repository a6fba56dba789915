"""docs/api.md stands alone (issue 17, item 1): its SSO recipes in Python, Node.js and PHP,
run exactly as printed, make tokens the server accepts; it names every method, callback,
error code and field of the objects, and points to nothing outside the repository."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Running
from ucs.client import Operator, OperatorError
from ucs.core.errors import ERROR_CODES
from ucs.core.model import CALL_FIELDS, QUEUE_FIELDS, STATE_FIELDS, USER_FIELDS

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
ADMIN = {"Authorization": "Bearer demo-admin-token"}
SECRET = "tajné-heslo-ř"  # not ASCII: the recipes must hash UTF-8 bytes

_SSO = DOC.split("## Single sign-on", 1)[1].split("\n## ", 1)[0]


def _snippet(language: str) -> str:
    found = re.findall(rf"```{language}\n(.*?)```", _SSO, re.S)
    assert len(found) == 1, language
    return found[0]


_RUN = {
    "python": (
        [sys.executable, "recipe.py"],
        "recipe.py",
        "import sys\n\n{code}\nprint(ucs_sso_token(sys.argv[1], sys.argv[2]))\n",
    ),
    "js": (
        ["node", "recipe.js"],
        "recipe.js",
        "{code}\nconsole.log(ucsSsoToken(process.argv[2], process.argv[3]));\n",
    ),
    "php": (
        ["php", "recipe.php"],
        "recipe.php",
        '<?php\n{code}\necho ucs_sso_token($argv[1], $argv[2]), "\\n";\n',
    ),
}


@pytest.mark.anyio
@pytest.mark.parametrize("language", sorted(_RUN))
async def test_the_sso_recipe_makes_tokens_the_server_accepts(
    running: Running, tmp_path: Path, language: str
) -> None:
    command, name, wrapper = _RUN[language]
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed (make doc-tools installs it)")
    (tmp_path / name).write_text(wrapper.replace("{code}", _snippet(language)), encoding="utf-8")

    async def token(username: str) -> str:
        done = await asyncio.to_thread(
            subprocess.run,
            [*command, SECRET, username],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        r = await http.put("/api/settings/sso-secret", json={"secret": SECRET})
        assert r.status_code == 204
    async with Operator(running.url) as op:
        made = await token("agent2")
        user = await op.sso("agent2", made, "My CRM")
        assert user["user"]["id"] == 2
        await op.logout()
        with pytest.raises(OperatorError) as replayed:  # a token is good once
            await op.sso("agent2", made, "My CRM")
        assert replayed.value.code == "UNAUTHORIZED"
        with pytest.raises(OperatorError) as other:  # and for its username only
            await op.sso("agent3", await token("agent2"), "My CRM")
        assert other.value.code == "UNAUTHORIZED"
        assert (await op.sso("agent3", await token("agent3"), "My CRM"))["user"]["id"] == 3


def test_the_document_names_every_method_callback_code_and_field() -> None:
    methods = re.findall(r"^\s+(\w+): ", (ROOT / "src/ucs/widget/methods.js").read_text(), re.M)
    for name in {*methods, "on", "tribute", "identifier", "identificator"}:
        assert f"`{name}(" in DOC, name
    operator = (ROOT / "src/ucs/widget/ucs-operator.js").read_text()
    callbacks = re.search(r"const CALLBACKS = \[(.*?)\];", operator, re.S)
    assert callbacks
    for callback in re.findall(r'"(on\w+)"', callbacks.group(1)):
        assert f"`{callback}(" in DOC, callback
    types = (ROOT / "src/ucs/widget/operator.d.ts").read_text()
    codes = set(re.findall(r'"([A-Z_]+)"', types.split("type ErrorCode =")[1].split(";")[0]))
    for code in codes | set(ERROR_CODES):
        assert f"| `{code}` |" in DOC, code
    tables = {
        "The Call object": CALL_FIELDS,
        "The User object": USER_FIELDS,
        "The Queue object": QUEUE_FIELDS,
        "The state object": STATE_FIELDS,
    }
    for title, fields in tables.items():
        section = DOC.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
        for field in fields:
            prefix = field.split("_", 1)[0]
            grouped = prefix in ("caller", "connected") and f"`{prefix}_…`" in section
            assert f"`{field}`" in section or grouped, (title, field)
    assert "CONTRACT" not in DOC and "seed/" not in DOC
