"""A study on storage this process cannot write (an archive, a read-only mount) can be viewed:
loaded, summarised, listed, checked and reported elsewhere, with its bytes unchanged; running
more trials on it says why not and what to do (#22, item 2).

The folder is made read-only with a bind mount in a private mount namespace (``unshare -m``), the
only way that also holds for root, which ignores permission bits."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import hyperknob as hk

_SCRIPT = textwrap.dedent(
    """
    set -u
    mount --bind "$ARCHIVE" "$ARCHIVE" && mount -o remount,ro,bind "$ARCHIVE" || exit 77
    touch "$ARCHIVE/probe" 2>/dev/null && exit 78
    "$PY" - <<'PY'
    import os, hyperknob as hk
    from hyperknob.exceptions import StorageError
    study = hk.load_study(os.environ["ARCHIVE"], "p")
    print("trials", len(study.trials), "best", study.best_trial.number)
    try:
        study.optimize(lambda hp: hp.Float("x", 0, 1), n_trials=1, verbose=0)
    except StorageError as exc:
        print("refused:", exc)
    PY
    for command in summary trials check best; do
        "$HK" $command "$ARCHIVE/p" > "$OUT/$command.txt" 2>&1 || echo "$command failed: $(tail -3 "$OUT/$command.txt")"
    done
    "$HK" report "$ARCHIVE/p" -o "$OUT/report.html" > "$OUT/report.txt" 2>&1 || echo "report failed"
    """
)


def _digest(folder):
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in sorted(os.listdir(folder))}


@pytest.mark.skipif(shutil.which("unshare") is None or sys.platform != "linux", reason="needs unshare (Linux)")
def test_a_study_on_read_only_storage_can_be_viewed_and_is_left_unchanged(tmp_path):
    archive, out = tmp_path / "archive", tmp_path / "out"
    out.mkdir()
    study = hk.create_study(str(archive), "p", algorithm="random", seed=0)
    study.optimize(lambda hp: (hp.Float("x", 0, 1) - 0.3) ** 2, n_trials=6, verbose=0)
    best = study.best_trial.number
    del study
    before = _digest(archive / "p")
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, ARCHIVE=str(archive), OUT=str(out), PY=sys.executable,
               HK=os.path.join(bindir, "hyperknob"), MPLBACKEND="Agg")
    proc = subprocess.run(["unshare", "-m", "bash", "-c", _SCRIPT], env=env, capture_output=True, text=True,
                          timeout=300)
    if proc.returncode in (77, 78) or "unshare failed" in proc.stderr or "Operation not permitted" in proc.stderr:
        pytest.skip(f"cannot make a read-only mount here: {proc.stderr.strip()[-200:]}")
    assert proc.returncode == 0, proc.stderr
    assert f"trials 6 best {best}" in proc.stdout
    assert "refused:" in proc.stdout and "read-only here" in proc.stdout
    assert "failed" not in proc.stdout, proc.stdout
    assert "6 readable trials" in (out / "check.txt").read_text()
    assert "COMPLETED" in (out / "trials.txt").read_text()
    assert (out / "report.html").stat().st_size > 1000
    assert _digest(archive / "p") == before
