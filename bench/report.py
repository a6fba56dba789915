"""The benchmark's results as a markdown table and a PNG plot (matplotlib)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["markdown", "plot"]


def _v(x: Any, unit: str = "") -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        x = f"{x:g}"
    return f"{x}{unit}"


def _lat(d: dict[str, Any]) -> str:
    return f"{_v(d.get('p50'))} / {_v(d.get('p99'))} ms"


def markdown(r: dict[str, Any]) -> str:
    m, cfg = r["machine"], r["config"]
    idle, load, over, base = r["idle_agents"], r["call_load"], r["overload"], r["baseline"]
    ld, od = load["details"], over["details"]
    tp = r["throughput"]
    rows = [
        ("idle_agents", "agents logged in (SSO) and READY", _v(idle["agents"])),
        ("idle_agents", "server RSS", _v(idle["rss_mb"], " MB")),
        ("idle_agents", "KB per agent", _v(idle["kb_per_agent"])),
        ("idle_agents", "logins per second (connect → READY)", _v(idle["logins_per_s"])),
        ("call_load", "agents", _v(load["agents"])),
        (
            "call_load",
            "offered calls/s",
            f"{_v(load['offered_cps'])} (target {ld['target_cps']:g})",
        ),
        ("call_load", "calls not sent (server too slow to take them in time)", _v(ld["not_sent"])),
        (
            "call_load",
            "calls refused (503 OVERLOADED, never accepted)",
            _v(ld.get("shed")),
        ),
        ("call_load", "completed calls/s", _v(load["completed_cps"])),
        ("call_load", "lost or stuck", _v(load["lost"])),
        ("call_load", "offer latency p50 / p99", _lat(load["offer_ms"])),
        ("call_load", "command round trip (answer) p50 / p99", _lat(load["command_ms"])),
        ("call_load", "hangup command p50 / p99", _lat(ld["hangup_command_ms"])),
        ("call_load", "POST /api/sim/calls p50 / p99", _lat(ld["create_request_ms"])),
        ("call_load", "server CPU (cores busy)", _v(ld["server_cpu_share"])),
        ("overload", "offered calls/s", f"{_v(over['offered_cps'])} (target {od['target_cps']:g})"),
        ("overload", "calls not sent (server too slow to take them in time)", _v(od["not_sent"])),
        (
            "overload",
            "calls refused (503 OVERLOADED, never accepted)",
            _v(od.get("shed")),
        ),
        ("overload", "completed calls/s", _v(over["completed_cps"])),
        ("overload", "lost or stuck", _v(over["lost"])),
        ("overload", "max callers waiting", _v(over["max_waiting"])),
        ("overload", "server RSS max", _v(over["rss_mb_max"], " MB")),
        ("overload", "command round trip (answer) p50 / p99", _lat(over["command_ms"])),
        (
            "overload",
            "agent free (its hangup) → next offer p50 / p99",
            _lat(over["free_to_offer_ms"]),
        ),
        (
            "overload",
            "caller hangup (simulator API) → next offer p50 / p99",
            _lat(od["free_to_offer_after_caller_hangup_ms"]),
        ),
        ("overload", "POST /api/sim/calls p50 / p99", _lat(od["create_request_ms"])),
        ("overload", "drain after arrivals stop", _v(od["drain_s"], " s")),
        ("baseline", "echo msgs/s", _v(base["msgs_per_s"])),
        ("throughput", "ucs `state` request msgs/s", _v(tp["state"]["msgs_per_s"])),
        ("throughput", "ucs `ping` msgs/s", _v(tp["ping"]["msgs_per_s"])),
        ("ratio_to_baseline", "`state` / echo", _v(r["ratio_to_baseline"])),
        ("ratio_to_baseline", "`ping` / echo", _v(tp["ping_ratio_to_baseline"])),
        *_team_rows(r),
        *_reports_rows(r),
    ]
    lines = [
        f"# ucs benchmark ({'quick' if cfg['quick'] else 'full'})",
        "",
        f"{m['date']} · commit {m['commit'] or '?'} · {m['cpu']} × {m['cores']} cores · "
        f"Python {m['python']} · load average at start {m['load_avg_at_start']}, "
        f"at end {m.get('load_avg_at_end')} (other work on the machine disturbs the figures) · "
        f"clients offer deflate: {cfg['deflate']} · {r['seconds']} s",
        "",
        "| scenario | figure | value |",
        "|---|---|---|",
        *(f"| {a} | {b} | {c} |" for a, b, c in rows),
        "",
        "| target | measured | met |",
        "|---|---|---|",
        *(
            f"| {name} | {_v(t['value'])} | {'met' if t['met'] else '**not met**'} |"
            for name, t in r["targets"].items()
        ),
        "",
        *_tail_table(r),
        "Definitions: docs/performance.md.",
        "",
    ]
    return "\n".join(lines)


def _reports_rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = []
    for found in r.get("reports") or ():
        what = f"{found['database']}, {found['calls']:,} calls over 30 days"
        for key, name in (
            ("queues_hourly", "queue report, hourly"),
            ("queues_daily", "queue report, daily"),
            ("agents", "agent report"),
        ):
            t = found[key]
            rows.append(
                (
                    "reports",
                    f"{name} ({what}): best / worst of 3; CPU of this process",
                    f"{_v(t['best_ms'])} / {_v(t['worst_ms'])} ms; {_v(t['cpu_ms'])} ms",
                )
            )
        if "rollup_s" in found:
            made = f"the rollup made from the records, as at a first start ({what})"
            rows.append(("reports", made, f"{found['rollup_s']} s"))
    return rows


def _team_rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    team = r.get("team_view")
    if not team:
        return []
    plain, watched = team["plain"], team["watched"]
    return [
        (
            "team_view",
            "core CPU a call, no supervisor / 50 (virtual clock)",
            f"{_v(plain['cpu_ms_per_call'])} / {_v(watched['cpu_ms_per_call'])} ms",
        ),
        ("team_view", "core CPU with 50 supervisors / without", _v(team["cpu_ratio"])),
        (
            "team_view",
            "team.changed pushes a second; bodies encoded a second",
            f"{_v(watched['team_pushes_per_s'])}; {_v(watched['team_bodies_encoded_per_s'])}",
        ),
        (
            "team_view",
            "team.changed KB a second, all supervisors",
            _v(watched["team_push_kb_per_s"]),
        ),
    ]


def _tail_table(r: dict[str, Any]) -> list[str]:
    """The server's own view of each scenario (``bench/tails.py``): where a tail comes from."""
    rows = [
        f"| {tag} | {what} | {d['count']} | {d['total_s']} | {_v(d['p50_ms'])} | "
        f"{_v(d['p99_ms'])} | {_v(d['p999_ms'])} | {_v(d['max_bucket_ms'])} | "
        f"{d['over_25ms']} | {d['over_100ms']} |"
        for tag in ("call_load", "overload")
        for what, d in r[tag].get("details", {}).get("server_tail", {}).items()
    ]
    if not rows:
        return []
    return [
        "The server's steps, event-loop lag and GC pauses (bucket bounds, ms):",
        "",
        "| scenario | what | count | total s | p50 ≤ | p99 ≤ | p99.9 ≤ | largest ≤ | > 25 ms "
        "| > 100 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]


def plot(r: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator

    plain = FuncFormatter(lambda y, _: f"{y:g}")

    load, over = r["call_load"], r["overload"]
    points = [*r["ramp"], load]
    xs = [p["offered_cps"] for p in points]
    fig, axes = plt.subplots(1, 3, figsize=(16, 5), constrained_layout=True)

    ax = axes[0]
    for key, style in (("p50", "o-"), ("p99", "s-")):
        ax.plot(xs, [p["offer_ms"][key] for p in points], style, label=f"offer {key}")
    ax.axhline(25, color="red", linestyle="--", linewidth=1, label="target p99 25 ms")
    ax.set_title("Offer latency (call created → ringing at agent)", fontsize=10)
    ax.set_xlabel("offered calls / s")
    ax.set_ylabel("ms (log)")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()

    ax = axes[1]
    cx = [*xs, over["offered_cps"]]
    cmds = [*(p["command_ms"] for p in points), over["command_ms"]]
    for key, style in (("p50", "o-"), ("p99", "s-")):
        ax.plot(cx, [c[key] for c in cmds], style, label=f"answer → result {key}")
    f2o = over["free_to_offer_ms"]
    ax.plot(
        [over["offered_cps"]] * 2,
        [f2o["p50"], f2o["p99"]],
        "D",
        color="purple",
        label="overload: agent free → next offer p50, p99",
    )
    ax.axhline(25, color="red", linestyle="--", linewidth=1, label="target p99 25 ms")
    ax.axhline(100, color="darkred", linestyle=":", linewidth=1, label="overload target p99 100 ms")
    ax.axhline(50, color="purple", linestyle=":", linewidth=1, label="free → offer target 50 ms")
    ax.set_title("Command round trip vs load (last point: overload)", fontsize=10)
    ax.set_xlabel("offered calls / s")
    ax.set_ylabel("ms (log)")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)

    ax = axes[2]
    tl = r["overload_timeline"]
    if tl:
        t = [s["t"] for s in tl]
        ax.plot(t, [s.get("waiting", 0) for s in tl], color="tab:blue", label="callers waiting")
        ax.set_ylabel("callers waiting", color="tab:blue")
        ax2 = ax.twinx()
        ax2.plot(t, [s.get("rss_mb", 0) for s in tl], color="tab:orange", label="server RSS")
        ax2.set_ylabel("server RSS (MB)", color="tab:orange")
        ax2.set_ylim(bottom=0)
    ax.set_title(
        f"Overload at {over['offered_cps']:g} calls/s: waiting callers and memory", fontsize=10
    )
    ax.set_xlabel("seconds since overload began")
    ax.grid(True, alpha=0.3)
    for ax in axes[:2]:
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda y, _: ""))
    fig.suptitle(
        f"ucs benchmark ({'quick' if r['config']['quick'] else 'full'}): "
        f"{load['agents']} agents answering, talk 2–5 s; {r['machine']['cores']} cores",
    )
    fig.savefig(path, dpi=100)
    plt.close(fig)
