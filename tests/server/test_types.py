"""The component's TypeScript declarations (issue 17, item 3): served at
/operator/operator.d.ts, equal to the component's method table, callbacks, objects and error
codes, and compiled by tsc --strict with a CRM's code that uses them (and refusing code that
misuses them)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Running
from ucs.core.errors import ERROR_CODES, SWITCH_FAILURE
from ucs.core.model import CALL_FIELDS, QUEUE_FIELDS, STATE_FIELDS, USER_FIELDS

SERVER = Path(__file__).resolve().parents[2] / "src" / "ucs"
WIDGET = SERVER / "widget"
TYPES = (WIDGET / "operator.d.ts").read_text(encoding="utf-8")
TSC = Path(sys.executable).parents[1] / "node" / "node_modules" / ".bin" / "tsc"  # make doc-tools


def _members(name: str) -> set[str]:
    """The member names of ``interface name`` in the declarations."""
    body = re.search(rf"^export interface {name}\b[^{{]*\{{(.*?)^\}}", TYPES, re.S | re.M)
    assert body, name
    text = re.sub(r"/\*.*?\*/|//[^\n]*", "", body.group(1), flags=re.S)
    return set(re.findall(r"^  (\w+)[?]?[(<:]", text, re.M))


def _js_keys(source: str, const: str) -> set[str]:
    block = re.search(rf"export const {const} = \{{(.*?)\}};", source, re.S)
    assert block, const
    return set(re.findall(r"^\s+(\w+):", block.group(1), re.M))


def test_the_declarations_have_every_method_alias_and_callback() -> None:
    methods_js = (WIDGET / "methods.js").read_text(encoding="utf-8")
    methods = _js_keys(methods_js, "METHODS") | _js_keys(methods_js, "ALIASES")
    assert _members("Methods") == methods | {"on"}
    operator_js = (WIDGET / "ucs-operator.js").read_text(encoding="utf-8")
    listed = re.search(r"const CALLBACKS = \[(.*?)\];", operator_js, re.S)
    assert listed
    callbacks = set(re.findall(r'"(on\w+)"', listed.group(1)))
    assert _members("Callbacks") == callbacks
    assert _members("Events") == {c[2].lower() + c[3:] for c in callbacks}


def test_the_declarations_have_exactly_the_fields_of_the_objects() -> None:
    assert _members("Call") == CALL_FIELDS
    assert _members("User") == USER_FIELDS
    assert _members("Queue") == QUEUE_FIELDS
    assert _members("StateObject") == STATE_FIELDS


def test_the_declarations_have_every_error_code() -> None:
    union = TYPES.split("export type ErrorCode =", 1)[1].split(";", 1)[0]
    declared = set(re.findall(r'"([A-Z_]+)"', union))
    said = set(ERROR_CODES) | {SWITCH_FAILURE}
    said |= set(re.findall(r'_error\(\s*"([A-Z_]+)"', (SERVER / "web" / "ws.py").read_text()))
    for source in WIDGET.glob("*.js"):
        text = source.read_text(encoding="utf-8")
        said |= set(re.findall(r'(?:error|ProtocolError)\(\s*"([A-Z_]+)"', text))
        said |= set(re.findall(r'code = "([A-Z_]+)"', text))
    assert said <= declared, said - declared


@pytest.mark.anyio
async def test_the_declarations_and_the_module_entry_are_served(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url) as http:
        r = await http.get("/operator/operator.d.ts")
        assert r.status_code == 200 and r.text == TYPES
        assert r.headers["content-type"].startswith("application/typescript")
        r = await http.get("/operator/operator.mjs")
        assert r.headers["content-type"].startswith("text/javascript")
        assert "export function loadOperator" in r.text
        r = await http.get("/operator/package.json")
        assert r.json()["exports"]["."] == {"types": "./operator.d.ts", "import": "./operator.mjs"}


_USES = """
import loadOperator, { type Call, type StateObject, type UcsError, METHODS } from "ucs-operator";

const ucs = loadOperator({
  renderTo: "operator",
  lang: "cs",
  onCredentials() {
    void ucs.sso("agent1", "token-from-the-back-end", "My CRM");
  },
  onReady(state: StateObject) {
    const reasons: string[] = state.auxReasons;
    if (state.user && state.user.status === "OFFLINE") void ucs.changeStatus("AUX", reasons[0]);
  },
  onError(error: UcsError) {
    if (error.code === "ORIGIN_REFUSED") console.log(error.message);
  },
});
const off: () => void = ucs.on("callRinging", (call: Call) => {
  if (call.direction === "INCOMING" && call.state === 2) console.log(call.caller_number_norm);
});
off();
ucs.on("error", (e) => console.log(e.code));
async function work(): Promise<void> {
  const call = await ucs.dial("+420601123456", 3, null, { ticket: 42 });
  const offered = await ucs.dispositions(call.uniqueid);
  const pick: string = offered.codes.length ? offered.codes[0].accountCode : "SALES";
  const saved = await ucs.setAccountCode(call.uniqueid, pick, null, true);
  console.log(offered.queue, offered.freeText, saved[0].label ?? saved[0].accountCode);
  const held: Call = await ucs.tribute();
  console.log(held.cause, ucs.state().calls.length, METHODS.dial.includes("READY"));
  await ucs.identifier("phone1");
}
void work();
window.ucsOperator.onCallHangup = (call) => console.log(call.disconnected);
"""

_MISUSES = {
    "a number is no phone number": "loadOperator().dial(601123456);",
    "no such event": 'loadOperator().on("ringing", () => {});',
    "no such method": "loadOperator().answerCall();",
    "no such field": "loadOperator().on('call', (c) => console.log(c.callerNumber));",
    "no such status": 'void loadOperator().changeStatus("BUSY");',
}


def _tsc(folder: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """tsc --strict over ``files`` (name: TypeScript), with the component's folder installed
    as the package ``ucs-operator`` (as `npm install` of the served folder would)."""
    package = folder / "node_modules" / "ucs-operator"
    package.parent.mkdir(parents=True)
    shutil.copytree(WIDGET, package)
    for name, code in files.items():
        head = "" if "import" in code else 'import loadOperator from "ucs-operator";\n'
        (folder / name).write_text(head + code, encoding="utf-8")
    config = {
        "compilerOptions": {
            "strict": True,
            "noEmit": True,
            "target": "es2022",
            "module": "esnext",
            "moduleResolution": "bundler",
            "lib": ["es2022", "dom"],
            "types": [],
        },
        "files": sorted(files),
    }
    (folder / "tsconfig.json").write_text(json.dumps(config), encoding="utf-8")
    return subprocess.run(
        [str(TSC), "--project", "tsconfig.json"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.skipif(not TSC.exists(), reason="tsc is not installed (make doc-tools)")
def test_tsc_accepts_a_crm_that_uses_the_declarations_and_refuses_misuses(
    tmp_path: Path,
) -> None:
    done = _tsc(tmp_path / "right", {"crm.ts": _USES})
    assert done.returncode == 0, done.stdout + done.stderr
    wrong = {f"wrong{i}.ts": code for i, code in enumerate(_MISUSES.values())}
    done = _tsc(tmp_path / "wrong", wrong)
    for (name, _code), why in zip(sorted(wrong.items()), _MISUSES, strict=True):
        errors = [line for line in done.stdout.splitlines() if line.startswith(f"{name}(")]
        assert len(errors) == 1, (why, done.stdout)  # each misuse refused, in the CRM's code
