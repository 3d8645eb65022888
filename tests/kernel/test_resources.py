# SPDX-License-Identifier: MIT
"""CPUs a program may really use: a CFS bandwidth quota (cgroup v1 and v2) caps the CPUs usable,
and the time it holds the program off the CPUs is named as throttling, not as other load."""

import os

from harness import Fail, Skip, execute, load_json, profile, test

QUOTA_US, PERIOD_US = 50000, 100000   # half a CPU


def _cgroup_mount(v2):
    """The mount point of the v1 hierarchy holding the cpu controller (or the v2 one)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            fstype, opts = fields[sep + 1], fields[sep + 3].split(",")
            if v2 and fstype == "cgroup2" or not v2 and fstype == "cgroup" and "cpu" in opts:
                return fields[4].replace("\\040", " ")
    return None


def _throttled_ns(cg, v2):
    with open(os.path.join(cg, "cpu.stat")) as f:
        stat = dict(line.split() for line in f if len(line.split()) == 2)
    return int(stat["throttled_usec"]) * 1000 if v2 else int(stat["throttled_time"])


def _make_cgroup(v2):
    mnt = _cgroup_mount(v2)
    if not mnt:
        raise Skip("no cgroup %s hierarchy with the cpu controller here" % ("v2" if v2 else "v1"))
    if v2:
        try:
            with open(os.path.join(mnt, "cgroup.subtree_control")) as f:
                enabled = f.read().split()
        except OSError:
            enabled = []
        if "cpu" not in enabled:   # enabling it would change the machine for everyone
            raise Skip("cgroup v2 at %s does not delegate the cpu controller" % mnt)
    cg = os.path.join(mnt, "concur-test-quota-%d" % os.getpid())
    os.mkdir(cg)
    try:
        if v2:
            with open(os.path.join(cg, "cpu.max"), "w") as f:
                f.write("%d %d" % (QUOTA_US, PERIOD_US))
        else:
            with open(os.path.join(cg, "cpu.cfs_period_us"), "w") as f:
                f.write(str(PERIOD_US))
            with open(os.path.join(cg, "cpu.cfs_quota_us"), "w") as f:
                f.write(str(QUOTA_US))
    except OSError:
        os.rmdir(cg)
        raise
    return cg


def _quota_run(ctx, v2):
    cg = _make_cgroup(v2)
    try:
        # The workload moves itself into the cgroup after its launch, as a container's init or
        # a job wrapper does: concur must follow it there.
        cmd = "echo $$ > %s/cgroup.procs && exec %s 2" % (cg, ctx.w("spin2"))
        rec = os.path.join(ctx.tmp, "quota.concur")
        doc = profile(ctx, ["run", "-o", rec, "--", "sh", "-c", cmd])
        cg_ns = _throttled_ns(cg, v2)
    finally:
        os.rmdir(cg)
    # The figures survive a recording.
    replay = os.path.join(ctx.tmp, "replay.json")
    rc, _, err = execute([ctx.concur, "report", "-q", "-o", replay, rec])
    if rc != 0:
        raise Fail("concur report exited %d: %s" % (rc, err.strip()[-300:]))
    again = load_json(replay)
    if [p.get("throttled_ns") for p in again["processes"]] != [p.get("throttled_ns") for p in doc["processes"]]:
        raise Fail("the recording lost the throttling figures")
    procs = [p for p in doc["processes"] if p["comm"] == "spin2"]
    advs = [a for a in doc["advice"]["processes"] if a["comm"] == "spin2"]
    if len(procs) != 1 or len(advs) != 1:
        raise Fail("expected one spin2 process and its advice: %s" % [p["comm"] for p in doc["processes"]])
    p, adv = procs[0], advs[0]
    got = p.get("throttled_ns", 0)
    summary = (
        "cpus %d, advice cpus %d, throttled %.3f s in %d periods (cgroup says %.3f s), workload %.3f s; "
        "verdict %s: %s" % (p["cpus"], adv["evidence"]["cpus"], got / 1e9, p.get("nr_throttled", 0), cg_ns / 1e9,
                            doc.get("throttled_ns", 0) / 1e9, adv["verdict"], adv["why"]))
    print("    " + summary)
    if p["cpus"] != 1 or adv["evidence"]["cpus"] != 1:
        raise Fail("a quota of 0.5 CPU leaves 1 CPU usable: " + summary)
    # The cgroup is new: its counter covers the run, which the window covers but for the launch
    # before the workload was first seen in it.
    if not (cg_ns > 0 and 0.5 * cg_ns <= got <= cg_ns + 10_000_000):
        raise Fail("throttled time inconsistent with the cgroup's cpu.stat: " + summary)
    if p.get("nr_throttled", 0) < 5 or doc.get("throttled_ns", 0) != got:
        raise Fail("throttled periods or the workload's sum wrong: " + summary)
    if adv["verdict"] != "cpu_saturated" or "quota" not in adv["why"] or "other load" in adv["why"]:
        raise Fail("the advice must name the quota, not other load: " + summary)


def _v2_has_cpu():
    """Whether the v2 hierarchy holds the cpu controller (a controller lives in one hierarchy
    only: where v1 has it, as on this project's VM, v2 cannot)."""
    mnt = _cgroup_mount(True)
    try:
        with open(os.path.join(mnt, "cgroup.controllers")) as f:
            return mnt is not None and "cpu" in f.read().split()
    except (OSError, TypeError):
        return False


@test("resources_cfs_quota_throttling")
def t_resources_cfs_quota_throttling(ctx):
    # The quota where this machine's cpu controller is: v2 when its hierarchy holds it, else
    # v1. (Both parsers are unit-tested; one machine can only run one of them for real.)
    _quota_run(ctx, v2=_v2_has_cpu())
