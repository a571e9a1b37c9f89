"""A 1,000,000-row contact list imported end to end, embedded and on Kafka, beside a baseline.

The file: 1,000,000 rows, a client id, two US phone columns (home and mobile, random valid
numbers over many area codes, written in several human formats) and five custom fields,
about 110 MB. It is generated once per run with a fixed seed.

Each mode runs ``dialstream up`` as its own process on a fresh data directory (SQLite
store and read models; on Kafka a local broker started by ``compose/kafka.sh`` and the
relay and workers inside that process), creates a contact list and uploads the file over
HTTP. The clock runs from the first byte of the upload until the job is completed and
every read model has caught up with the log: every record stored, with its time zone,
and visible in the list. Peak memory is the largest resident set of the server process
and its children (the drafting workers), sampled every 100 ms.

The baseline, in this process: Python's ``csv`` module reading the same file and
``phonenumbers.parse`` parsing both numbers of every row; nothing else.

Figures: import_1m_seconds_embedded, import_1m_seconds_kafka, import_peak_rss_mb_embedded,
import_peak_rss_mb_kafka (the server process and its drafting workers; the broker is not
counted), import_vs_baseline_ratio_embedded (import time over baseline time: how many times the
bare parse the whole import costs).
"""

from __future__ import annotations

import csv
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import phonenumbers

from tests import kafka
from tests.bench.figures import Figure, Options

ROWS = 1_000_000
SECRET = "dsk_bench-import-secret-0123456789abcdef"
_AREA_TABLE = (
    "201 202 203 205 206 207 208 212 213 214 215 216 217 218 219 224 225 228 229 231 234 239 240 248 "
    "251 252 253 254 256 260 262 267 269 270 276 281 301 302 303 304 305 307 308 309 310 312 313 314 "
    "315 316 317 318 319 320 321 323 325 330 334 336 337 339 347 351 352 360 361 386 401 402 404 405 "
    "406 407 408 409 410 412 413 414 415 417 419 423 424 425 430 432 434 435 440 443 469 478 479 480 "
    "501 502 503 504 505 507 508 509 510 512 513 515 516 517 518 520 530 540 541 551 559 561 562 563 "
    "567 570 571 573 574 575 580 585 586 601 602 603 605 606 607 608 609 610 612 614 615 616 617 618 "
    "619 620 623 626 630 631 636 641 646 650 651 660 661 662 678 682 701 702 703 704 706 707 708 712 "
    "713 714 715 716 717 718 719 720 724 727 731 732 734 740 754 757 760 763 765 770 772 773 774 775 "
    "781 785 786 801 802 803 804 805 806 808 810 812 813 814 815 816 817 818 828 830 831 832 843 845 "
    "847 848 850 856 857 858 859 860 862 863 864 865 870 878 901 903 904 906 907 908 909 910 912 913 "
    "914 915 916 917 918 919 920 925 928 931 936 937 940 941 947 949 951 952 954 956 970 971 972 973 "
    "978 979 980 985 989"
)
AREAS = _AREA_TABLE.split()
FORMATS = ("({a}) {e}-{n}", "{a}-{e}-{n}", "{a}{e}{n}", "+1 {a} {e} {n}", "1{a}{e}{n}", "{a}.{e}.{n}")


def log(message: str) -> None:
    print(f"[bench import] {message}", file=sys.stderr, flush=True)


def _number(rng: random.Random) -> str:
    return rng.choice(FORMATS).format(
        a=rng.choice(AREAS), e=rng.randint(200, 999), n=f"{rng.randint(0, 9999):04d}"
    )


def generate(path: Path, rows: int) -> Path:
    rng = random.Random(20261123)
    plans = ("gold", "silver", "bronze", "basic")
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["client_id", "home_phone", "mobile", "first_name", "last_name", "balance", "plan", "due_date"]
        )
        for n in range(rows):
            writer.writerow(
                [
                    f"C{n:08d}",
                    _number(rng),
                    _number(rng),
                    rng.choice(("Ada", "Bo", "Cy", "Dee", "Eve", "Fin", "Gus", "Hal")),
                    rng.choice(("Smith", "Jones", "O'Neil", "García", "Müller", "Nguyen")),
                    f"{rng.randint(0, 500000) / 100:.2f}",
                    rng.choice(plans),
                    f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                ]
            )
    return path


def baseline(path: Path) -> float:
    """csv reading the file and phonenumbers parsing both numbers of each row."""
    parse = phonenumbers.parse
    started = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        next(reader)
        for row in reader:
            parse(row[1], "US")
            parse(row[2], "US")
    return time.perf_counter() - started


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tree_rss_kb(pid: int) -> int:
    """Resident set of ``pid`` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
        stack.extend(children.get(current, []))
    return total


class Sampler:
    def __init__(self, pid: int):
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(self.pid))


def _start(data_dir: Path, env_extra: dict[str, str]) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = _free_port()
    log_path = data_dir.parent / f"{data_dir.name}.log"
    env = {
        **os.environ,
        "DIALSTREAM_DATA_DIR": str(data_dir),
        "DIALSTREAM_PORT": str(port),
        "DIALSTREAM_BOOTSTRAP_KEY": SECRET,
        **env_extra,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "dialstream.cli", "up"],
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("dialstream up stopped:\n" + log_path.read_text())
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base, log_path
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("dialstream up did not answer /healthz:\n" + log_path.read_text())


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()


def import_once(path: Path, data_dir: Path, env_extra: dict[str, str], rows: int) -> tuple[float, float, Any]:
    """(seconds from upload start to every record stored and visible, peak RSS MB, job)."""
    process, base, log_path = _start(data_dir, env_extra)
    try:
        with (
            httpx.Client(
                base_url=base,
                headers={"Authorization": f"Bearer {SECRET}"},
                timeout=httpx.Timeout(60, read=900),
            ) as client,
            Sampler(process.pid) as sampler,
        ):
            created = client.post("/api/v1/contact-lists", json={"name": "bench 1M"})
            created.raise_for_status()
            list_id = created.json()["id"]
            started = time.perf_counter()
            with path.open("rb") as file:
                uploaded = client.post(
                    f"/api/v1/contact-lists/{list_id}/imports",
                    files={"file": (path.name, file, "text/csv")},
                    data={"append_type": "new_list_only"},
                )
            if uploaded.status_code != 202:
                raise RuntimeError(f"upload refused: {uploaded.status_code} {uploaded.text}")
            log(f"uploaded in {time.perf_counter() - started:.1f} s")
            job = uploaded.json()
            last_report = 0.0
            while job["status"] not in ("completed", "failed"):
                time.sleep(0.1)
                job = client.get(f"/api/v1/imports/{job['id']}").json()
                if time.perf_counter() - last_report > 10:
                    last_report = time.perf_counter()
                    log(f"  {time.perf_counter() - started:.0f} s: {job['counts']['rows']} rows")
            if job["status"] != "completed":
                raise RuntimeError(f"import failed: {job['reason']}")
            stored = time.perf_counter() - started
            while True:
                health = client.get("/healthz").json()
                if health["read_models_position"] >= health["log_position"]:
                    break
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            log(
                f"  job completed at {stored:.1f} s, read models caught up at {elapsed:.1f} s; {job['counts']}"
            )
            if job["counts"]["imported"] != rows:
                raise RuntimeError(f"expected {rows} chains, the job imported {job['counts']['imported']}")
            return elapsed, sampler.peak_kb / 1024, job
    except Exception:
        log(log_path.read_text()[-3000:])
        raise
    finally:
        _stop(process)


def run(options: Options) -> Iterator[Figure]:
    rows = options.events or ROWS
    with tempfile.TemporaryDirectory(prefix="dialstream-bench-import-") as tmp:
        root = Path(tmp)
        path = generate(root / "contacts-1m.csv", rows)
        log(f"generated {rows} rows, {path.stat().st_size / 1e6:.0f} MB")
        base_seconds = baseline(path)
        log(f"baseline (csv + phonenumbers.parse x2): {base_seconds:.1f} s")
        embedded_seconds, peak_mb, _ = import_once(
            path, root / "embedded", {"DIALSTREAM_BUS": "embedded"}, rows
        )
        yield Figure("import_1m_seconds_embedded", embedded_seconds, "s")
        yield Figure("import_peak_rss_mb_embedded", peak_mb, "MB")
        yield Figure("import_vs_baseline_ratio_embedded", embedded_seconds / base_seconds, "x")
        with kafka.running() as broker:
            env = {
                "DIALSTREAM_BUS": f"kafka://{broker.bootstrap}",
                "DIALSTREAM_TOPIC_PREFIX": "bench-import.",
            }
            subprocess.run(
                [sys.executable, "-m", "dialstream.cli", "topics", "create"],
                env={**os.environ, **env, "DIALSTREAM_DATA_DIR": str(root / "kafka")},
                check=True,
                capture_output=True,
            )
            kafka_seconds, kafka_peak_mb, _ = import_once(path, root / "kafka", env, rows)
        yield Figure("import_1m_seconds_kafka", kafka_seconds, "s")
        yield Figure("import_peak_rss_mb_kafka", kafka_peak_mb, "MB")
