"""Print the README's benchmark tables from what the other scripts wrote to out/.

    python -m bench.report > bench/out/report.md

Reads run-jobs_bench.json (chain scale), run-jobs_bench_1k.json and
run-jobs_bench_100k.json (query counts at other sizes), seed-*.json,
sends-*.json and dispatch.json; a file that is missing leaves its section out.
"""

import json

from bench.common import OUT

TARGET_DB_S = 2.0
TARGET_RATIO = 1.5
TARGET_RSS_MB = 200
TINY_S = 0.01


def load(name):
    path = OUT / name
    return json.loads(path.read_text()) if path.exists() else None


def verdict(ok):
    return "yes" if ok else "**no**"


def ratio_verdict(row):
    """Below 10 ms of hand SQL a ratio measures round trips, not the SQL."""
    if row["hand_s"] < TINY_S:
        return "n/a"
    return verdict(row["ratio"] <= TARGET_RATIO)


def chain_table(run):
    facts = run["facts"]
    machine = facts["machine"]
    server = facts["server"]
    meta = facts["meta"]
    dropped = facts.get("without_indexes") or []
    lines = [
        f"Measured {facts['measured_at']} on {machine['cpu']} ({machine['cores']} "
        f"cores, {machine['memory_gb']} GB), {machine['system']}, Python "
        f"{machine['python']}, PostgreSQL {server['server_version']} on the same "
        f"machine with stock settings (shared_buffers {server['shared_buffers']}, "
        f"work_mem {server['work_mem']}). Database `{facts['database']}` "
        f"({facts['size']}), now = {meta['now']}. Medians of {facts['repeat']} "
        "runs." + (f" Without the indexes {', '.join(dropped)}." if dropped else ""),
        "",
        "| job | processed | wall s | DB s | notifier DB s | queries | rows | "
        "peak RSS MB | hand SQL s | job DB / hand | DB ≤ 2 s | ≤ 1.5× |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|:-:|",
    ]
    for row in run["rows"]:
        if "wall_s" not in row:
            lines.append(f"| {row['label']} | {row['outcome']} |" + " |" * 10)
            continue
        result = row.get("result") or {}
        processed = result.get("processed", result.get("notified", ""))
        if "sent" in result:
            processed = "sent" if result["sent"] else "not sent"
        if row["outcome"] != "ok":
            processed = f"{processed} ({row['outcome']})"
        lines.append(
            f"| {row['label']} | {processed} | {row['wall_s']:.2f} | "
            f"{row['db_s']:.2f} | {row['notifier_db_s']:.2f} | "
            f"{'/'.join(map(str, row['queries']))} | {row['rows']:,} | "
            f"{row['rss_peak_mb']:.0f} | {row['hand_s']:.3f} | {row['ratio']:.2f} | "
            f"{verdict(row['db_s'] <= TARGET_DB_S)} | {ratio_verdict(row)} |"
        )
    return "\n".join(lines)


def counts_table(runs):
    """Queries per run at each size the bench was run at."""
    names = [name for name, run in runs if run]
    lines = [
        "| job | " + " | ".join(names) + " |",
        "|---|" + "--:|" * len(names),
    ]
    by_label = {}
    for name, run in runs:
        if not run:
            continue
        for row in run["rows"]:
            by_label.setdefault(row["label"], {})[name] = row.get("queries", [])
    for label, counts in by_label.items():
        cells = ["/".join(map(str, counts.get(name, []))) for name in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def index_table(run):
    """Each job's database time without the service's indexes and with them, both
    measured in the same worker, one run after the other."""
    lines = [
        "| indexes left out | job | DB s with them | DB s without |",
        "|---|---|--:|--:|",
    ]
    for path in sorted(OUT.glob(f"run-{run['facts']['database']}-*-partial.json")):
        partial = json.loads(path.read_text())
        dropped = ", ".join(f"`{n}`" for n in partial["facts"]["without_indexes"])
        if not dropped:
            continue
        for row in partial["rows"]:
            if row.get("with_indexes_db_s") is None:
                continue
            lines.append(
                f"| {dropped} | {row['label']} | "
                f"{row['with_indexes_db_s']:.3f} | {row['db_s']:.3f} |"
            )
    return "\n".join(lines)


def sends_table(results):
    lines = [
        "| provider | deliveries (status, s) | in the route s | "
        "pushes | emails | email calls | 429s | received twice |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for result in results:
        if not result:
            continue
        received = result["received"]
        deliveries = ", ".join(
            f"{d['status']} in {d['seconds']:.1f}" for d in result["deliveries"]
        )
        lines.append(
            f"| {result['provider']} | {deliveries} | "
            f"{result['seconds_in_route']:.1f} | {received['pushes']:,} | "
            f"{received['emails']:,} | {received['email_requests']} | "
            f"{received['rate_limited']} | {received['received_twice']} |"
        )
    return "\n".join(lines)


def main():
    run = load("run-jobs_bench.json")
    if run:
        print("### Every job at chain scale\n")
        print(chain_table(run) + "\n")
    if run:
        print("### What each index is worth\n")
        print(index_table(run) + "\n")
    sizes = [
        ("1,000 customers", load("run-jobs_bench_1k.json")),
        ("100,000 customers", load("run-jobs_bench_100k.json")),
        ("500,000 customers", run),
    ]
    if any(run for _, run in sizes[:2]):
        print("### Queries per run at three sizes\n")
        print(counts_table(sizes) + "\n")
    sends = [
        load("sends-resend.json"),
        load("sends-brevo.json"),
    ]
    if any(sends):
        print("### 2,000 customers by push and email\n")
        print(sends_table(sends) + "\n")
    dispatch = load("dispatch.json")
    if dispatch:
        print("### Signature and dispatch\n")
        print("| per request | median ms | p95 ms |\n|---|--:|--:|")
        for label, key in (
            ("the route: verify, job_run row, no-op job, job_run closed", "route"),
            ("the same without the two job_run writes", "dispatch"),
            ("signature check alone", "verify"),
        ):
            print(
                f"| {label} | {dispatch[key + '_median_ms']} | "
                f"{dispatch[key + '_p95_ms']} |"
            )
        print()


if __name__ == "__main__":
    main()
