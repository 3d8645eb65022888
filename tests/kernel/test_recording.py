# SPDX-License-Identifier: MIT
"""Recordings: a run's recording, rendered later without root, gives the very same outputs."""

import os
import shutil

from harness import Fail, execute, profile, test


@test("recording_replays_identically")
def t_recording_replays_identically(ctx):
    # A recording of a real run renders, later and without root, exactly what the run wrote.
    a_json, a_folded, rec = (os.path.join(ctx.tmp, n) for n in ("a.json", "a.folded", "a.concur"))
    b_json, b_folded = os.path.join(ctx.tmp, "b.json"), os.path.join(ctx.tmp, "b.folded")
    profile(ctx, ["run", "-o", a_json, "-o", a_folded, "-o", rec, "--", ctx.w("stacks"), "0.5"])
    os.chmod(rec, 0o644)
    argv = [ctx.concur, "report", "-q", "-o", b_json, "-o", b_folded, rec]
    if shutil.which("setpriv"):
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + argv
    rc, _, err = execute(argv)
    if rc != 0:
        raise Fail("concur report exited %d: %s" % (rc, err.strip()[-300:]))
    for a, b in ((a_json, b_json), (a_folded, b_folded)):
        with open(a, "rb") as fa, open(b, "rb") as fb:
            if fa.read() != fb.read():
                raise Fail("%s rendered from the recording differs from the run's own" % os.path.basename(b))
