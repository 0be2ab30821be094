#!/usr/bin/env python3
"""Start/stop a throw-away single-node SLURM cluster on localhost.

Used by ``tests/test_slurm.py`` to run the ectem Snakemake workflow through
the real ``snakemake-executor-plugin-slurm`` (real ``sbatch``/``squeue``),
and usable by hand::

    python tools/slurm_local.py start  --workdir /tmp/ectem-slurm
    export SLURM_CONF=/tmp/ectem-slurm/slurm.conf   # printed by `start`
    sinfo; sbatch --wrap hostname; ...
    python tools/slurm_local.py status --workdir /tmp/ectem-slurm
    python tools/slurm_local.py stop   --workdir /tmp/ectem-slurm

What ``start`` does:

* installs Debian's ``slurm-wlm`` and ``munge`` with apt-get if ``slurmctld``
  is not on PATH (non-interactive; needs root),
* creates a private munge key (``DIR/munge/munge.key``) and starts its own
  ``munged`` on a private socket (``DIR/munge/munge.socket``), so a system
  munged (if any) is neither needed nor touched,
* writes ``DIR/slurm.conf`` (cluster ``ectemtest``, one node ``localhost``
  with this machine's CPUs and memory, no accounting, everything under DIR),
* starts ``slurmctld`` and ``slurmd -N localhost`` in the foreground mode
  (``-D``) as detached children, so the PIDs we record are the daemons'
  PIDs,
* waits (bounded) until ``sinfo`` reports the node idle.

The PIDs are written to ``DIR/pids.json``; ``stop`` signals exactly those
PIDs (after checking that ``/proc/PID/cmdline`` still mentions DIR, so a
recycled PID is never hit), SIGTERM first, SIGKILL after a bounded wait.

Every client command (sbatch, squeue, sinfo, scontrol, ...) must see
``SLURM_CONF=DIR/slurm.conf`` in its environment; :meth:`LocalSlurm.env`
returns such an environment. In addition ``DIR/bin`` holds tiny wrappers
(``srun``, ``sbatch``, ``squeue`` ...) that set ``SLURM_CONF`` when it is
missing and exec the real binary; ``env()`` puts ``DIR/bin`` first on PATH.
This is needed because snakemake's ``slurm-jobstep`` executor (0.6.x) drops
all ``SLURM_*`` variables except the job ids - SLURM_CONF included - before
it calls ``srun`` inside the batch job; on a real cluster ``srun`` then finds
``/etc/slurm/slurm.conf``, here it would find nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

CLUSTER_NAME = "ectemtest"
NODE_NAME = "localhost"
PARTITION = "debug"
DEFAULT_WORKDIR = Path(os.environ.get("ECTEM_SLURM_WORKDIR", "/tmp/ectem-slurm"))
DAEMONS = ("munged", "slurmctld", "slurmd")
# search path for the daemons: Debian puts them into /usr/sbin, which is not
# always on a non-login root PATH.
SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")
# client commands that get a wrapper in DIR/bin which defaults SLURM_CONF
CLIENTS = ("sbatch", "srun", "salloc", "squeue", "scontrol", "sinfo", "scancel",
           "sacct", "sacctmgr", "sshare", "sstat")


class SlurmUnavailable(RuntimeError):
    """SLURM/munge are not installed and could not be installed."""


class SlurmStartError(RuntimeError):
    """The daemons were started but the cluster did not come up."""


def _which(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in SBIN_DIRS:
        cand = Path(d) / name
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return None


def _system_binary(name: str) -> str | None:
    """``name`` from the system directories (never one of our wrappers)."""
    for d in ("/usr/bin", "/usr/local/bin", "/bin", *SBIN_DIRS):
        cand = Path(d) / name
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return _which(name)


def _run(cmd, *, timeout: float, env=None, check=False) -> subprocess.CompletedProcess:
    return subprocess.run(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        env=env,
        check=check,
    )


# --------------------------------------------------------------------------
# installation
# --------------------------------------------------------------------------
def is_installed() -> bool:
    return all(_which(b) for b in ("slurmctld", "slurmd", "munged", "sbatch", "squeue", "sinfo"))


def ensure_installed(timeout: float = 900, log=print) -> None:
    """Install ``slurm-wlm`` + ``munge`` via apt-get if ``slurmctld`` is missing.

    Raises :class:`SlurmUnavailable` if that is impossible (no apt-get, not
    root, no network, ...).
    """
    if is_installed():
        return
    apt = shutil.which("apt-get")
    if apt is None:
        raise SlurmUnavailable("slurmctld not found and apt-get is not available")
    if os.geteuid() != 0:
        raise SlurmUnavailable("slurmctld not found and not running as root (cannot apt-get install)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    deadline = time.monotonic() + timeout
    log("slurm_local: installing slurm-wlm and munge with apt-get ...")
    steps = [
        [apt, "update", "-q"],
        [apt, "install", "-y", "-q", "--no-install-recommends",
         "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
         "slurm-wlm", "munge"],
    ]
    for cmd in steps:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SlurmUnavailable("apt-get timed out")
        try:
            res = _run(cmd, timeout=remaining, env=env)
        except subprocess.TimeoutExpired as exc:
            raise SlurmUnavailable(f"{' '.join(cmd)} timed out after {timeout:.0f}s") from exc
        if res.returncode != 0:
            tail = "\n".join(res.stdout.splitlines()[-15:])
            raise SlurmUnavailable(f"{' '.join(cmd)} failed (rc={res.returncode}):\n{tail}")
    if not is_installed():
        raise SlurmUnavailable("apt-get succeeded but slurmctld/slurmd/munged are still missing")


# --------------------------------------------------------------------------
# machine description
# --------------------------------------------------------------------------
def machine_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def machine_memory_mb(margin_fraction: float = 0.10, min_margin_mb: int = 512) -> int:
    """MemTotal from /proc/meminfo in MB minus a safety margin.

    slurmd refuses to register a node whose configured RealMemory exceeds
    what it measures, so we stay clearly below it.
    """
    total_kb = None
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                total_kb = int(line.split()[1])
                break
    if total_kb is None:
        return 1024
    total_mb = total_kb // 1024
    margin = max(min_margin_mb, int(total_mb * margin_fraction))
    return max(256, total_mb - margin)


# --------------------------------------------------------------------------
# process helpers
# --------------------------------------------------------------------------
def _proc_cmdline(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode(errors="replace")


def _proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) S ..." - comm may contain spaces/parentheses
    try:
        return stat.rsplit(")", 1)[1].split()[0]
    except IndexError:
        return None


def _proc_ppid_start(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time in clock ticks) of ``pid``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return int(fields[1]), int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def descendants(pid: int) -> dict[int, int]:
    """{pid: starttime} of all current descendants of ``pid``."""
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        info = _proc_ppid_start(int(entry))
        if info is not None:
            children.setdefault(info[0], []).append((int(entry), info[1]))
    found: dict[int, int] = {}
    todo = [pid]
    while todo:
        for child, start in children.get(todo.pop(), []):
            if child not in found:
                found[child] = start
                todo.append(child)
    return found


def _reap(pid: int) -> None:
    """Collect the exit status if ``pid`` happens to be our own child."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except (ChildProcessError, OSError):
        pass


def pid_alive(pid: int) -> bool:
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _proc_state(pid) not in (None, "Z", "X")


# --------------------------------------------------------------------------
# the cluster
# --------------------------------------------------------------------------
class LocalSlurm:
    def __init__(self, workdir: str | os.PathLike = DEFAULT_WORKDIR,
                 ctld_port: int = 6817, slurmd_port: int = 6818):
        self.workdir = Path(workdir).resolve()
        self.ctld_port = ctld_port
        self.slurmd_port = slurmd_port

    # paths -------------------------------------------------------------
    @property
    def conf(self) -> Path:
        return self.workdir / "slurm.conf"

    @property
    def pidfile(self) -> Path:
        return self.workdir / "pids.json"

    @property
    def munge_dir(self) -> Path:
        return self.workdir / "munge"

    @property
    def munge_socket(self) -> Path:
        return self.munge_dir / "munge.socket"

    @property
    def munge_key(self) -> Path:
        return self.munge_dir / "munge.key"

    @property
    def bin_dir(self) -> Path:
        return self.workdir / "bin"

    @property
    def log_dir(self) -> Path:
        return self.workdir / "log"

    @property
    def ctld_log(self) -> Path:
        return self.log_dir / "slurmctld.log"

    @property
    def slurmd_log(self) -> Path:
        return self.log_dir / "slurmd.log"

    def env(self, base: dict | None = None) -> dict:
        """Environment for SLURM client commands (sbatch, squeue, snakemake ...)."""
        env = dict(os.environ if base is None else base)
        env["SLURM_CONF"] = str(self.conf)
        parts = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != str(self.bin_dir)]
        parts.insert(0, str(self.bin_dir))
        parts += [d for d in SBIN_DIRS if d not in parts]
        env["PATH"] = os.pathsep.join(parts)
        return env

    def _write_client_wrappers(self) -> None:
        self.bin_dir.mkdir(parents=True, exist_ok=True)
        for name in CLIENTS:
            real = _system_binary(name)
            if real is None or "slurm_local.py" in Path(real).read_text(errors="ignore")[:300]:
                continue
            wrapper = self.bin_dir / name
            wrapper.write_text(
                "#!/bin/sh\n"
                "# generated by tools/slurm_local.py: default SLURM_CONF to the local test cluster\n"
                f'export SLURM_CONF="${{SLURM_CONF:-{self.conf}}}"\n'
                f'exec {real} "$@"\n'
            )
            wrapper.chmod(0o755)

    # configuration -----------------------------------------------------
    def render_conf(self) -> str:
        w = self.workdir
        cpus = machine_cpus()
        mem = machine_memory_mb()
        return f"""\
# Generated by tools/slurm_local.py - throw-away single-node test cluster.
ClusterName={CLUSTER_NAME}
SlurmctldHost=localhost
SlurmctldPort={self.ctld_port}
SlurmdPort={self.slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={w}/state
SlurmdSpoolDir={w}/spool/%n
SlurmctldPidFile={w}/run/slurmctld.pid
SlurmdPidFile={w}/run/slurmd.pid
SlurmctldLogFile={self.ctld_log}
SlurmdLogFile={self.slurmd_log}
SlurmctldDebug=info
SlurmdDebug=info
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# jobs without --mem get 1 GB per CPU instead of the whole node
DefMemPerCPU=1000
# no accounting at all: sacct/sacctmgr do not work on this cluster
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# keep finished jobs visible to squeue/scontrol for 10 min (squeue-based
# status checks of snakemake's slurm plugin rely on this)
MinJobAge=600
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
Waittime=0
MailProg=/bin/true
NodeName={NODE_NAME} NodeHostname=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem} State=UNKNOWN
PartitionName={PARTITION} Nodes={NODE_NAME} Default=YES MaxTime=INFINITE State=UP
"""

    def _prepare_dirs(self) -> None:
        for sub in ("state", "spool", "run", "log", "munge"):
            d = self.workdir / sub
            d.mkdir(parents=True, exist_ok=True)
        # munged is strict about permissions of its directories and key
        os.chmod(self.munge_dir, 0o700)
        for sub in ("state", "spool", "run", "log"):
            os.chmod(self.workdir / sub, 0o755)

    def _ensure_munge_key(self) -> None:
        if self.munge_key.exists() and self.munge_key.stat().st_size >= 32:
            return
        mungekey = _which("mungekey")
        if mungekey:
            res = _run([mungekey, "--create", "--force", f"--keyfile={self.munge_key}"], timeout=30)
            if res.returncode == 0 and self.munge_key.exists():
                os.chmod(self.munge_key, 0o600)
                return
        # fallback: 1024 random bytes, as the munge docs suggest
        fd = os.open(self.munge_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(1024))
        os.chmod(self.munge_key, 0o600)

    # pid bookkeeping -----------------------------------------------------
    def _read_pids(self) -> dict:
        try:
            return {k: int(v) for k, v in json.loads(self.pidfile.read_text()).items()}
        except (OSError, ValueError, AttributeError):
            return {}

    def _write_pids(self, pids: dict) -> None:
        tmp = self.pidfile.with_suffix(".tmp")
        tmp.write_text(json.dumps(pids, indent=1, sort_keys=True))
        tmp.replace(self.pidfile)

    def _is_ours(self, pid: int) -> bool:
        """Alive and its command line references our workdir (guards PID reuse)."""
        if not pid_alive(pid):
            return False
        cmd = _proc_cmdline(pid)
        return cmd is not None and str(self.workdir) in cmd

    def running(self) -> dict:
        """{daemon: pid} for recorded daemons that are still alive."""
        return {name: pid for name, pid in self._read_pids().items() if self._is_ours(pid)}

    # client helpers ------------------------------------------------------
    def sinfo_state(self, timeout: float = 10) -> str | None:
        sinfo = _which("sinfo")
        if sinfo is None:
            return None
        try:
            res = _run([sinfo, "-h", "-N", "-n", NODE_NAME, "-o", "%T"], timeout=timeout, env=self.env())
        except subprocess.TimeoutExpired:
            return None
        if res.returncode != 0:
            return None
        out = res.stdout.strip().splitlines()
        return out[0].strip() if out else None

    def is_up(self) -> bool:
        running = self.running()
        if set(running) != set(DAEMONS):
            return False
        state = self.sinfo_state()
        return bool(state) and state.rstrip("*~#!%$@^-").lower() in {"idle", "mixed", "allocated", "completing"}

    # start / stop --------------------------------------------------------
    def _spawn(self, name: str, cmd: list[str], logfile: Path) -> int:
        out = open(logfile, "ab")
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env(),
                cwd=str(self.workdir),
                start_new_session=True,   # own session: not killed with our tty / pgrp
                close_fds=True,
            )
        finally:
            out.close()
        # don't let Python's subprocess machinery complain about this child
        proc.returncode = 0
        pids = self._read_pids()
        pids[name] = proc.pid
        self._write_pids(pids)
        return proc.pid

    def _wait_for(self, predicate, timeout: float, what: str, pid: int | None = None,
                  logfile: Path | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if pid is not None and not pid_alive(pid):
                raise SlurmStartError(f"{what}: process {pid} died.\n{self._tail(logfile)}")
            time.sleep(0.5)
        raise SlurmStartError(f"timed out after {timeout:.0f}s waiting for {what}.\n{self._tail(logfile)}")

    @staticmethod
    def _tail(logfile: Path | None, n: int = 25) -> str:
        if logfile is None:
            return ""
        try:
            lines = logfile.read_text(errors="replace").splitlines()
        except OSError:
            return f"(no log at {logfile})"
        return f"--- last lines of {logfile} ---\n" + "\n".join(lines[-n:])

    def start(self, timeout: float = 60, install: bool = True, log=print) -> None:
        """Bring the cluster up (idempotent). Raises SlurmUnavailable/SlurmStartError."""
        if install:
            ensure_installed(log=log)
        elif not is_installed():
            raise SlurmUnavailable("slurm/munge are not installed")
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.is_up():
            log(f"slurm_local: already running in {self.workdir}")
            return
        # partial leftovers (e.g. slurmd died): start from a clean slate
        if self.running():
            self.stop(log=log)
        self._prepare_dirs()
        self._ensure_munge_key()
        self.conf.write_text(self.render_conf())
        self._write_client_wrappers()
        deadline = time.monotonic() + timeout

        def remaining() -> float:
            return max(1.0, deadline - time.monotonic())

        try:
            # munged ------------------------------------------------------
            if self.munge_socket.exists():
                self.munge_socket.unlink()
            munged = _which("munged")
            pid = self._spawn("munged", [
                munged, "--foreground", "--force",
                f"--socket={self.munge_socket}",
                f"--key-file={self.munge_key}",
                f"--pid-file={self.munge_dir / 'munged.pid'}",
                f"--seed-file={self.munge_dir / 'munged.seed'}",
                f"--log-file={self.munge_dir / 'munged.log'}",
            ], self.log_dir / "munged.out")
            self._wait_for(self.munge_socket.exists, remaining(), "munged socket", pid,
                           self.munge_dir / "munged.log")
            # slurmctld ---------------------------------------------------
            # -i: ignore errors in the saved state of an earlier run
            pid = self._spawn("slurmctld", [_which("slurmctld"), "-D", "-i", "-f", str(self.conf)],
                              self.log_dir / "slurmctld.out")
            scontrol = _which("scontrol")

            def ctld_ping() -> bool:
                try:
                    res = _run([scontrol, "ping"], timeout=10, env=self.env())
                except subprocess.TimeoutExpired:
                    return False
                return res.returncode == 0 and "UP" in res.stdout

            self._wait_for(ctld_ping, remaining(), "slurmctld to answer `scontrol ping`", pid, self.ctld_log)
            # slurmd ------------------------------------------------------
            pid = self._spawn("slurmd", [_which("slurmd"), "-D", "-N", NODE_NAME, "-f", str(self.conf)],
                              self.log_dir / "slurmd.out")

            def node_idle() -> bool:
                state = self.sinfo_state()
                return bool(state) and state.rstrip("*~#!%$@^-").lower() == "idle"

            self._wait_for(node_idle, remaining(), f"node {NODE_NAME} to become idle in sinfo",
                           pid, self.slurmd_log)
        except BaseException:
            log("slurm_local: start failed, stopping what was started")
            self.stop(log=log)
            raise
        log(f"slurm_local: cluster {CLUSTER_NAME} up; export SLURM_CONF={self.conf}")

    def cancel_jobs(self, timeout: float = 20, log=print) -> None:
        """scancel every job of this cluster and wait (bounded) until none runs."""
        squeue, scancel = _system_binary("squeue"), _system_binary("scancel")
        if not (squeue and scancel):
            return

        def active_jobs() -> list[str]:
            try:
                res = subprocess.run([squeue, "-h", "-o", "%i", "-t", "PD,R,CG,S,CF,RQ,RS,SO"],
                                     env=self.env(), capture_output=True, text=True, timeout=10)
            except subprocess.TimeoutExpired:
                return []
            return res.stdout.split() if res.returncode == 0 else []

        jobs = active_jobs()
        if not jobs:
            return
        log(f"slurm_local: cancelling jobs {jobs}")
        try:
            subprocess.run([scancel, *jobs], env=self.env(), capture_output=True, timeout=20)
        except subprocess.TimeoutExpired:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and active_jobs():
            time.sleep(0.5)

    def stop(self, timeout: float = 20, log=print) -> list[int]:
        """Terminate exactly the recorded daemons. Returns the PIDs signalled."""
        pids = self._read_pids()
        running = {n: p for n, p in pids.items() if self._is_ours(p)}
        if "slurmctld" in running and "slurmd" in running and "munged" in running:
            self.cancel_jobs(log=log)
        # helper processes forked by our daemons (slurmscriptd, slurmstepd ...)
        helpers: dict[int, int] = {}
        for pid in running.values():
            helpers.update(descendants(pid))
        # stop in reverse start order: slurmd, slurmctld, munged
        order = [n for n in reversed(DAEMONS) if n in pids] + [n for n in pids if n not in DAEMONS]
        signalled = []
        for name in order:
            pid = pids[name]
            if not self._is_ours(pid):
                continue
            try:
                os.kill(pid, signal.SIGTERM)
                signalled.append(pid)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and pid_alive(pid):
                time.sleep(0.2)
            if pid_alive(pid):
                log(f"slurm_local: {name} ({pid}) ignored SIGTERM, sending SIGKILL")
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and pid_alive(pid):
                    time.sleep(0.2)
        for pid, start in helpers.items():
            info = _proc_ppid_start(pid)
            if info is not None and info[1] == start and pid_alive(pid):
                log(f"slurm_local: killing leftover helper {pid} ({_proc_cmdline(pid)})")
                try:
                    os.kill(pid, signal.SIGKILL)
                    signalled.append(pid)
                except ProcessLookupError:
                    pass
        if self.pidfile.exists():
            still = self.running()
            if still:
                log(f"slurm_local: WARNING, still alive: {still}")
            else:
                self.pidfile.unlink()
        if signalled:
            log(f"slurm_local: stopped {signalled}")
        return signalled

    def status(self) -> dict:
        return {
            "workdir": str(self.workdir),
            "slurm_conf": str(self.conf),
            "installed": is_installed(),
            "daemons": self.running(),
            "node_state": self.sinfo_state() if self.conf.exists() else None,
        }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=["start", "stop", "status", "env"])
    ap.add_argument("--workdir", default=str(DEFAULT_WORKDIR),
                    help=f"directory for slurm.conf, state, logs and pids (default {DEFAULT_WORKDIR})")
    ap.add_argument("--timeout", type=float, default=60, help="bounded wait for start (s)")
    ap.add_argument("--no-install", action="store_true", help="never run apt-get")
    ap.add_argument("--ctld-port", type=int, default=6817)
    ap.add_argument("--slurmd-port", type=int, default=6818)
    args = ap.parse_args(argv)
    cluster = LocalSlurm(args.workdir, ctld_port=args.ctld_port, slurmd_port=args.slurmd_port)
    if args.command == "start":
        try:
            cluster.start(timeout=args.timeout, install=not args.no_install,
                          log=lambda m: print(m, file=sys.stderr))
        except SlurmUnavailable as exc:
            print(f"slurm_local: SLURM unavailable: {exc}", file=sys.stderr)
            return 3
        except SlurmStartError as exc:
            print(f"slurm_local: start failed: {exc}", file=sys.stderr)
            return 1
        print(f"SLURM_CONF={cluster.conf}")
        return 0
    if args.command == "stop":
        cluster.stop(log=lambda m: print(m, file=sys.stderr))
        return 1 if cluster.running() else 0
    if args.command == "env":
        print(f"export SLURM_CONF={cluster.conf}")
        print(f'export PATH="{cluster.bin_dir}:$PATH"')
        return 0
    st = cluster.status()
    print(json.dumps(st, indent=1))
    return 0 if cluster.is_up() else 1


if __name__ == "__main__":
    sys.exit(main())
