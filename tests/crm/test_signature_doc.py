"""docs/api.md's signature check, in Python and Node.js exactly as printed, accepts what the
server really POSTs to a webhook (CONTRACT §12), and refuses a body changed on the way."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.crm.helpers import ADMIN, ready_agent
from tests.crm.receiver import received, receiving
from tests.server.conftest import Running

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
_CRM = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
_CRM = _CRM.split("## The CRM's side", 1)[1].split("\n## ", 1)[0]
SECRET = "tajné-heslo-ř"  # not ASCII: the recipes must hash UTF-8 bytes

_RUN = {
    "python": (
        [sys.executable, "verify.py"],
        "verify.py",
        "import sys\n\n{code}\nevent = verify(sys.argv[1], open(sys.argv[3], 'rb').read(),"
        " sys.argv[2])\nprint(event['id'])\n",
    ),
    "js": (
        ["node", "verify.js"],
        "verify.js",
        "{code}\nconst body = require('fs').readFileSync(process.argv[4]);\n"
        "console.log(verify(process.argv[2], body, process.argv[3]).id);\n",
    ),
}


def _snippet(language: str) -> str:
    found = [c for c in re.findall(rf"```{language}\n(.*?)```", _CRM, re.S) if "verify" in c]
    assert len(found) == 1, language
    return found[0]


@pytest.mark.parametrize("language", sorted(_RUN))
async def test_the_documented_signature_check_accepts_the_servers_posts(
    running: Running, tmp_path: Path, language: str
) -> None:
    command, name, wrapper = _RUN[language]
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed (make doc-tools installs it)")
    (tmp_path / name).write_text(wrapper.replace("{code}", _snippet(language)), encoding="utf-8")

    def check(body: bytes, header: str) -> subprocess.CompletedProcess[str]:
        (tmp_path / "body").write_bytes(body)
        return subprocess.run(
            [*command, SECRET, header, "body"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    with receiving(tmp_path) as (url, path):
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            r = await http.put("/api/settings/webhook", json={"url": url, "secret": SECRET})
            assert r.status_code == 200
        op = await ready_agent(running.url, 3)
        async with op:
            await op.change_status("AUX", "Lunch")
        for _ in range(1000):
            if len(received(path)) >= 2:
                break
            await asyncio.sleep(0.02)
    posts = received(path)
    assert len(posts) >= 2
    for post in posts:
        body = post["body"].encode()
        done = await asyncio.to_thread(check, body, post["signature"])
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == post["event_id"]
        tampered = body.replace(b'"agent3"', b'"agent1"')
        assert tampered != body
        refused = await asyncio.to_thread(check, tampered, post["signature"])
        assert refused.returncode != 0 and "bad signature" in refused.stderr
