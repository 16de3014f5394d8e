"""Bad input on every verb: one `Error:` line naming the file, key or value, a non-zero exit,
and never a traceback; defects (unexpected exceptions) name the file holding their traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from harness import workflow as wp
from harness.checkpoint import save_checkpoint
from harness.cli import main
from harness.data.prepare import prepare_dataset
from harness.models import create_model

TINY = {"image_size": 16, "num_channels": 32, "num_res_blocks": 1, "channel_mult": "1,2",
        "attention_resolutions": "", "learn_sigma": True}
TRAIN = ["--image-size", "16", "--max-steps", "2", "--num-channels", "32", "--num-res-blocks",
         "1", "--channel-mult", "1,2", "--attention-resolutions", "", "--batch-size", "2",
         "--device", "cpu", "--no-progress"]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Good inputs (data, checkpoint, samples, statistics) and broken copies of each."""
    root = tmp_path_factory.mktemp("faults")
    data = root / "data"
    prepare_dataset("toy", "builtin:colorshapes", 16, data, count=4, progress=False)
    torch.manual_seed(0)
    ckpt = root / "ema.pt"
    save_checkpoint(ckpt, create_model(**TINY).state_dict(), TINY,
                    {"steps": 1000, "learn_sigma": True, "target": "eps"}, step=2)
    samples = root / "samples.npz"
    meta = {"iteration": 2, "sampler": "ddim", "steps": 2, "status": "ok"}
    np.savez(samples, arr_0=np.zeros((4, 16, 16, 3), np.uint8), meta=np.array(json.dumps(meta)))
    stats = root / "stats.npz"
    np.savez(stats, mu=np.zeros(8), sigma=np.eye(8), meta=np.array(json.dumps({"count": 4})))
    out = {"data": data, "ckpt": ckpt, "samples": samples, "stats": stats, "root": root}
    for name in ("ckpt", "samples", "stats"):
        good = out[name].read_bytes()
        out[f"truncated_{name}"] = root / f"truncated_{out[name].name}"
        out[f"truncated_{name}"].write_bytes(good[: len(good) // 2])
    for name, text in (("garbage.pt", b"not a checkpoint"), ("garbage.npz", b"not an npz"),
                       ("garbage.json", b"{not json"), ("empty.pt", b""),
                       ("list.json", b"[1, 2]")):
        (root / name).write_bytes(text)
        out[name] = root / name
    np.savez(root / "object.npz", arr_0=np.array([{"a": 1}], dtype=object))
    out["object.npz"] = root / "object.npz"
    (root / "empty_dir").mkdir()
    out["empty_dir"] = root / "empty_dir"
    return out


def _cases(f: dict[str, Path]) -> list[tuple[str, list[str], str]]:
    """(name, argv, text the error must contain) for every verb."""
    r = f["root"]

    def train(*extra: str, data: Path = f["data"], run: str = "run") -> list[str]:
        return ["train", "--data", str(data), "--run-dir", str(r / run), *TRAIN, *extra]

    def sample(ckpt: Path, *extra: str) -> list[str]:
        return ["sample", "--checkpoint", str(ckpt), "--sampler", "ddim", "--steps", "2",
                "--num-samples", "2", "--out", str(r / "s.npz"), "--grid", str(r / "s.png"),
                "--device", "cpu", *extra]

    def metrics(samples: Path, stats: Path, *extra: str) -> list[str]:
        return ["metrics", "--samples", str(samples), "--refstats", str(stats), "--out",
                str(r / "m.json"), "--dataset", "d", "--target", "eps", "--weighting", "x",
                "--iteration", "2", "--sampler", "ddim", "--steps", "2", "--no-download",
                "--device", "cpu", *extra]

    def analyze(ckpt: Path, data: Path = f["data"], *extra: str) -> list[str]:
        return ["analyze", "--checkpoint", str(ckpt), "--data", str(data), "--out-mse",
                str(r / "mse.json"), "--out-x0", str(r / "x0.npz"), "--device", "cpu", *extra]

    def released(verb: str, ckpt: Path) -> list[str]:
        return ["released", verb, "--arm", "a", "--checkpoint", str(ckpt), "--model",
                json.dumps(TINY), "--diffusion", "{}", "--out",
                str(r / "a.json")]

    quick = str(wp.ROOT / "workflow/config/quick.yaml")
    nan_lr = r / "nan_lr.yaml"
    nan_lr.write_text("training: {lr: .nan}\n")
    negative = r / "p2.yaml"
    negative.write_text("diffusion: {p2_gamma: -1}\n")
    syntax = r / "syntax.yaml"
    syntax.write_text("a: [\n")
    regime = r / "regime"
    (regime / "runs" / "s1").mkdir(parents=True)
    (regime / "configs").mkdir()
    (regime / "configs" / "s1.yaml").write_text("a: [\n")
    (regime / "search.md").write_text("<!-- search:table -->\n<!-- /search:table -->\n")
    attribute = r / "attribute.yaml"
    attribute.write_text("weightings: {mine: {space: eps, formula: 'snr.real'}}\n")
    return [
        ("prepare missing source", ["prepare", "--dataset", "x", "--source", "/nowhere/x",
                                    "--resolution", "8", "--out", str(r / "p")], "/nowhere/x"),
        ("prepare garbage zip", ["prepare", "--dataset", "x", "--source", str(f["garbage.npz"]),
                                 "--resolution", "8", "--out", str(r / "p")], "garbage.npz"),
        ("prepare negative seed", ["prepare", "--dataset", "x", "--source", "builtin:digits",
                                   "--resolution", "8", "--seed", "-1", "--out", str(r / "p")],
         "--seed"),
        ("prepare corrupt manifest", ["prepare", "--dataset", "x", "--source", "builtin:digits",
                                      "--resolution", "8", "--out", str(r / "garbage")],
         "garbage.json"),
        ("refstats no images", ["refstats", "--data", str(f["empty_dir"]), "--out",
                                str(r / "r.npz"), "--no-download", "--device", "cpu"],
         "empty_dir"),
        ("refstats garbage weights", ["refstats", "--data", str(f["data"]), "--out",
                                      str(r / "r.npz"), "--inception-weights",
                                      str(f["garbage.pt"])], "garbage.pt"),
        ("refstats pickled npz", ["refstats", "--data", str(f["object.npz"]), "--out",
                                  str(r / "r.npz"), "--no-download", "--device", "cpu"],
         "object.npz"),
        ("train missing data", train(data=r / "nowhere"), "nowhere"),
        ("train garbage data", train(data=f["garbage.npz"]), "garbage.npz"),
        ("train nan lr", train("--lr", "nan"), "--lr"),
        ("train inf p2 gamma", train("--weighting", "p2", "--p2-gamma", "inf"), "--p2-gamma"),
        ("train nan dropout", train("--dropout", "nan"), "--dropout"),
        ("train unknown weighting", train("--weighting", "mine"), "weighting 'mine'"),
        ("train bad weighting definition", train("--weighting", "mine", "--weighting-definition",
                                                 '{"space": "eps", "formula": "log(t)"}'),
         "weighting_definition: weighting 'mine', formula: the value is infinite at t = 0"),
        ("train weighting definition not JSON", train("--weighting", "mine",
                                                      "--weighting-definition", "{space: eps"),
         "weighting_definition"),
        ("train 16 channels", train("--num-channels", "16"), "num_channels"),
        ("train heads", train("--attention-resolutions", "8", "--num-head-channels", "7"),
         "num_head_channels 7"),
        ("train size mismatch", train("--image-size", "32"), "--image-size is 32"),
        ("train run dir is a file", train(run="garbage.json"), "garbage.json"),
        ("sample garbage checkpoint", sample(f["garbage.pt"]), "garbage.pt"),
        ("sample empty checkpoint", sample(f["empty.pt"]), "empty.pt"),
        ("sample truncated checkpoint", sample(f["truncated_ckpt"]), "truncated_ema.pt"),
        ("sample missing checkpoint", sample(r / "missing.pt"), "missing.pt"),
        ("sample nan eta", sample(f["ckpt"], "--eta", "nan"), "--eta"),
        ("sample garbage config", sample(f["ckpt"], "--config", str(f["garbage.json"])),
         "garbage.json"),
        ("sample list config", sample(f["ckpt"], "--config", str(f["list.json"])), "list.json"),
        ("sample bad shard", sample(f["ckpt"], "--shard", "2/2"), "--shard"),
        ("merge-samples garbage shard", ["merge-samples", str(f["garbage.npz"]), "--out",
                                         str(r / "m.npz"), "--grid", str(r / "m.png")],
         "garbage.npz"),
        ("merge-samples unsharded file", ["merge-samples", str(f["samples"]), "--out",
                                          str(r / "m.npz"), "--grid", str(r / "m.png")],
         "has no meta 'shard'"),
        ("metrics garbage samples", metrics(f["garbage.npz"], f["stats"]), "garbage.npz"),
        ("metrics truncated samples", metrics(f["truncated_samples"], f["stats"]),
         "truncated_samples.npz"),
        ("metrics truncated stats", metrics(f["samples"], f["truncated_stats"]),
         "truncated_stats.npz"),
        ("metrics pickled stats", metrics(f["samples"], f["object.npz"]), "object.npz"),
        ("metrics garbage IS weights", metrics(f["samples"], f["stats"], "--is-weights",
                                               str(f["garbage.pt"])), "garbage.pt"),
        ("fid garbage npz", ["fid", str(f["garbage.npz"]), str(f["stats"])], "garbage.npz"),
        ("fid truncated npz", ["fid", str(f["truncated_samples"]), str(f["stats"])],
         "truncated_samples.npz"),
        ("fid missing", ["fid", str(r / "nowhere"), str(f["stats"])], "nowhere"),
        ("analyze garbage checkpoint", analyze(f["garbage.pt"]), "garbage.pt"),
        ("analyze truncated checkpoint", analyze(f["truncated_ckpt"]), "truncated_ema.pt"),
        ("analyze garbage data", analyze(f["ckpt"], f["garbage.npz"]), "garbage.npz"),
        ("report missing plan", ["report", "--plan", str(r / "nowhere.json"), "--out",
                                 str(r / "rep" / "r.html")], "nowhere.json"),
        ("report garbage plan", ["report", "--plan", str(f["garbage.json"]), "--out",
                                 str(r / "rep" / "r.html")], "garbage.json"),
        ("report list plan", ["report", "--plan", str(f["list.json"]), "--out",
                              str(r / "rep" / "r.html")], "list.json"),
        ("cell nan lr", ["cell", "--table", "1", "--configfile", quick, "--configfile",
                         str(nan_lr), "-n"], "training.lr"),
        ("cell bad yaml", ["cell", "--table", "1", "--configfile", str(syntax), "-n"],
         "syntax.yaml"),
        ("estimate negative p2 gamma", ["estimate", "--configfile", quick, "--configfile",
                                        str(negative)], "diffusion.p2_gamma"),
        ("estimate zero tflops", ["estimate", "--tflops", "0"], "--tflops"),
        ("estimate nan tflops", ["estimate", "--tflops", "nan"], "--tflops"),
        ("estimate list config", ["estimate", "--configfile", str(f["list.json"])], "list.json"),
        ("weightings bad formula", ["weightings", "--configfile", quick, "--configfile",
                                    str(attribute)], "weightings.mine.formula: attribute"),
        ("weightings plot under a file", ["weightings", "--plot", str(f["list.json"] / "c.png")],
         "list.json' is a file"),
        ("bench model channels", ["bench", "model", "--preset", "tiny", "--num-channels", "0"],
         "--num-channels"),
        ("bench sample batch sizes", ["bench", "sample", "--batch-sizes", "a,b"],
         "--batch-sizes"),
        ("bench features garbage weights", ["bench", "features", "--inception-weights",
                                            str(f["garbage.pt"])], "garbage.pt"),
        # Outputs that cannot be written are refused before the work, not after it.
        ("refstats output under a file", ["refstats", "--data", str(f["data"]), "--out",
                                          str(f["list.json"] / "r.npz"), "--device", "cpu"],
         "list.json' is a file"),
        ("sample output is a folder", sample(f["ckpt"], "--out", str(f["empty_dir"])),
         "empty_dir' is a folder"),
        ("metrics output under a file", [*metrics(f["samples"], f["stats"])[:-2], "--out",
                                         str(f["list.json"] / "m.json")], "list.json' is a file"),
        ("analyze output under a file", analyze(f["ckpt"], f["data"], "--out-mse",
                                                str(f["list.json"] / "m.json")),
         "list.json' is a file"),
        ("report output under a file", ["report", "--plan", str(f["list.json"]), "--out",
                                        str(f["list.json"] / "r.html")], "list.json"),
        ("estimate output under a file", ["estimate", "--out", str(f["list.json"] / "e.json")],
         "list.json' is a file"),
        ("bench output under a file", ["bench", "model", "--preset", "tiny", "--out",
                                       str(f["list.json"] / "b.json")], "list.json' is a file"),
        ("train run dir under a file", train(run="list.json/run"), "list.json' is a file"),
        ("regime-table document without a table block",
         ["regime-table", "--runs", str(r), "--configs", str(f["empty_dir"]), "--out",
          str(syntax), "--figure", str(r / "s.png")], "syntax.yaml"),
        ("regime-table row config not YAML",
         ["regime-table", "--runs", str(regime / "runs"), "--configs", str(regime / "configs"),
          "--out", str(regime / "search.md"), "--figure", str(r / "s.png")], "s1.yaml"),
        ("released check garbage checkpoint", released("check", f["garbage.pt"]), "garbage.pt"),
        ("released check truncated checkpoint", released("check", f["truncated_ckpt"]),
         "truncated_ema.pt"),
        ("released fetch bad model", ["released", "fetch", "--arm", "a", "--source",
                                      "builtin:random", "--model", "{", "--out",
                                      str(r / "a.pt")], "--model"),
        ("released check output under a file",
         [*released("check", f["ckpt"])[:-2], "--out", str(f["list.json"] / "a.json")],
         "list.json' is a file"),
        ("on-gpus no devices asked", ["on-gpus", "--gpus", "0", "--", "true"], "--gpus"),
        ("on-gpus missing program", ["on-gpus", "--gpus", "1", "--", str(r / "no-such-program")],
         "no-such-program"),
    ]


def test_every_verb_refuses_bad_input_in_one_line_without_a_traceback(files):
    cases = _cases(files)
    assert {argv[0] for _, argv, _ in cases} == set(main.list_commands(None))
    for name, argv, named in cases:
        result = CliRunner().invoke(main, argv)
        assert isinstance(result.exception, SystemExit), (name, result.exception)
        assert result.exit_code in (1, 2), (name, result.output)
        assert "Traceback" not in result.output and "harness-traceback" not in result.output, (
            name, result.output)
        errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and named in errors[0], (name, result.output)
    assert not (files["root"] / "run").exists()  # refused before the run directory existed


def test_the_installed_entry_point_shows_one_line(files):
    """The same boundary in a real process: stderr holds one line, no traceback."""
    cmd = [sys.executable, "-m", "harness.cli", "sample", "--checkpoint",
           str(files["truncated_ckpt"]), "--sampler", "ddpm", "--steps", "2", "--num-samples",
           "1", "--out", str(files["root"] / "e.npz"), "--grid", str(files["root"] / "e.png")]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("Error: checkpoint ")
    assert "truncated_ema.pt" in out.stderr and "Traceback" not in out.stderr


def test_a_defect_names_the_file_with_its_traceback(monkeypatch):
    import harness.estimate

    def broken(*args, **kwargs):
        return 1 / 0

    monkeypatch.setattr(harness.estimate, "estimate", broken)
    monkeypatch.setattr("harness.commands.estimate.estimate", broken)
    result = CliRunner().invoke(main, ["estimate"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    line = result.output.strip()
    assert "unexpected ZeroDivisionError" in line and "full traceback in " in line
    path = Path(line.split("full traceback in ")[1].split()[0])
    try:
        text = path.read_text()
        assert "Traceback (most recent call last)" in text and "1 / 0" in text
    finally:
        path.unlink()
    debug = CliRunner().invoke(main, ["--debug", "estimate"])
    assert isinstance(debug.exception, ZeroDivisionError)


def test_user_errors_are_one_line_even_when_the_library_writes_several():
    from harness.errors import is_user_error, one_line

    err = ValueError("ckpt.pt does not match:\n  target: checkpoint has 'eps'\n  steps: 10")
    assert one_line(err) == "ckpt.pt does not match: target: checkpoint has 'eps' steps: 10"
    assert is_user_error(err) and is_user_error(PermissionError(13, "Permission denied", "x"))
    assert one_line(PermissionError(13, "Permission denied", "x")) == "Permission denied: 'x'"
    assert not is_user_error(ZeroDivisionError()) and not is_user_error(OSError("no file"))
