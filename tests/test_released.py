"""Released checkpoints: small networks in guided-diffusion's layout (a plain state dict with the
keys and shapes its create_model writes) checked, refused and fetched through the library and
the `harness released` verb."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from harness.cli import main
from harness.models import create_model
from harness.models.fit import likely_flag, shown_flags
from harness.released import check, fetch, provenance_of, random_state_dict

FLAGS = {"image_size": 16, "num_channels": 32, "num_res_blocks": 1, "channel_mult": "1,2",
         "attention_resolutions": "8", "num_head_channels": 8, "learn_sigma": True,
         "use_scale_shift_norm": True, "class_cond": False}
DIFFUSION = {"steps": 1000, "noise_schedule": "linear", "learn_sigma": True, "target": "eps"}


def write_adm(path: Path, **changes) -> Path:
    """A plain state dict (torch.save of the UNet's state_dict(), as guided-diffusion saves)."""
    torch.manual_seed(0)
    torch.save(create_model(**{**FLAGS, **changes}).state_dict(), path)
    return path


class RunsCode:
    """A pickle whose loading would run a shell command: one that creates the file it names."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def released(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["released", *args])
    return result.exit_code, result.output


def check_args(path: Path, out: Path, model: dict | None = None, *extra: str) -> list[str]:
    return ["check", "--arm", "mine", "--checkpoint", str(path), "--model",
            json.dumps(model or FLAGS), "--diffusion", json.dumps(DIFFUSION), *extra,
            "--out", str(out)]


def test_a_guided_diffusion_state_dict_passes_and_is_recorded(tmp_path):
    path = write_adm(tmp_path / "model.pt")
    code, out = released(check_args(path, tmp_path / "mine.json", None, "--source", "a run"))
    assert code == 0, out
    record = json.loads((tmp_path / "mine.json").read_text())
    assert record["path"] == str(path) and record["size_bytes"] == path.stat().st_size
    assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert record["model_config"] == FLAGS and record["diffusion_config"] == DIFFUSION
    assert record["parameters"] == sum(p.numel() for p in create_model(**FLAGS).parameters())
    assert provenance_of(tmp_path / "mine.json") == {
        "arm": "mine", "path": str(path), "size_bytes": path.stat().st_size,
        "sha256": record["sha256"], "source": "a run"}
    # The digest the config names is checked; the same file passes with it.
    code, out = released(check_args(path, tmp_path / "again.json", None,
                                     "--sha256", record["sha256"]))
    assert code == 0, out


@pytest.mark.parametrize(("change", "flag"), [
    ({"num_channels": 64}, "num_channels: expected 32, checkpoint has 64"),
    ({"learn_sigma": False}, "learn_sigma: expected True, checkpoint has False"),
    ({"class_cond": True, "num_classes": 10}, "class_cond: expected False, checkpoint has True"),
    ({"use_scale_shift_norm": False},
     "use_scale_shift_norm: expected True, checkpoint has False"),
    ({"resblock_updown": True}, "resblock_updown: expected False, checkpoint has True"),
    ({"num_res_blocks": 2}, "num_res_blocks: expected 1, checkpoint has 2"),
    ({"channel_mult": "1,2,2"}, "channel_mult: expected '1,2', checkpoint has '1,2,2'"),
    ({"attention_resolutions": "16"},
     "attention_resolutions: expected '8', checkpoint has '16'"),
])
def test_tensors_that_do_not_fit_name_the_first_key_and_the_flag(tmp_path, change, flag):
    path = write_adm(tmp_path / "other.pt", **change)
    code, out = released(check_args(path, tmp_path / "mine.json"))
    assert code == 1 and not (tmp_path / "mine.json").exists()
    assert out.count("\n") == 1 and out.startswith("Error: released.mine: ")
    assert "first mismatching key " in out and f"most likely {flag}" in out, out


def test_the_flags_the_tensors_show():
    """Read back from a state dict: what create_model was given (num_heads leaves no trace)."""
    for flags in (FLAGS, {**FLAGS, "resblock_updown": True, "num_res_blocks": 2,
                          "channel_mult": "1,2,4", "attention_resolutions": "8,4",
                          "class_cond": True, "num_classes": 3, "num_head_channels": 16}):
        with torch.device("meta"):
            shown = shown_flags(create_model(**flags).state_dict())
        assert shown["num_channels"] == flags["num_channels"]
        assert shown["num_res_blocks"] == flags["num_res_blocks"]
        assert shown["channel_mult"] == flags["channel_mult"]
        assert shown["resblock_updown"] == flags.get("resblock_updown", False)
        assert shown["class_cond"] == flags["class_cond"]
        assert shown["num_classes"] == flags.get("num_classes") if flags["class_cond"] else True
        rates = {16 // int(r) for r in flags["attention_resolutions"].split(",")}
        assert set(shown["attention_rates"]) == rates
        assert likely_flag(shown, shown, 16) is None
    assert shown_flags({"weight": torch.zeros(2)}) is None


def test_a_pickle_that_needs_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pt"
    state = create_model(**FLAGS).state_dict()
    state["extra"] = RunsCode(str(marker))
    torch.save(state, path)
    code, out = released(check_args(path, tmp_path / "mine.json"))
    assert code == 1 and out.count("\n") == 1, out
    assert "released.mine: checkpoint" in out and "is refused: its pickle needs Python code" in out
    assert "(posix.system)" in out and "weights_only=True" in out
    assert not marker.exists()
    # A whole pickled module (torch.save(model)) is refused the same way.
    torch.save(create_model(**FLAGS), path)
    code, out = released(check_args(path, tmp_path / "mine.json"))
    assert code == 1 and "needs Python code (harness.models.unet.UNetModel)" in out, out
    with pytest.raises(pickle.UnpicklingError):  # what the refusal stands between
        torch.load(path, weights_only=True)


def test_a_missing_file_and_another_digest_name_what_is_wrong(tmp_path):
    code, out = released(check_args(tmp_path / "nowhere.pt", tmp_path / "mine.json"))
    assert code == 1 and out.strip() == (f"Error: released.mine: checkpoint file "
                                         f"'{tmp_path / 'nowhere.pt'}' does not exist")
    path = write_adm(tmp_path / "model.pt")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    code, out = released(check_args(path, tmp_path / "mine.json", None, "--sha256", "0" * 64))
    assert code == 1 and out.count("\n") == 1
    assert f"has sha256 {digest}, but released.mine.sha256 is {'0' * 64}" in out


def test_fetch_once_from_a_url_checking_the_digest(tmp_path):
    source = write_adm(tmp_path / "published.pt")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    out = tmp_path / "results" / "mine.pt"
    with pytest.raises(ValueError, match=f"has sha256 {digest}, but released.mine.sha256"):
        fetch("mine", source.as_uri(), out, FLAGS, "1" * 64)
    assert not out.exists() and not list(out.parent.iterdir())  # nothing half-written stays
    assert fetch("mine", source.as_uri(), out, FLAGS, digest) == digest
    assert out.read_bytes() == source.read_bytes()
    with pytest.raises(ValueError, match="released.mine: cannot fetch"):
        fetch("mine", (tmp_path / "gone.pt").as_uri(), tmp_path / "x.pt", FLAGS)


def test_builtin_random_networks_fit_their_flags_and_differ_by_arm(tmp_path):
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    fetch("a", "builtin:random", a, FLAGS)
    fetch("b", "builtin:random", b, FLAGS)
    for arm, path in (("a", a), ("b", b)):
        assert check(arm, path, FLAGS, DIFFUSION)["tensors"] == len(create_model(**FLAGS)
                                                                    .state_dict())
    sa, sb = (torch.load(p, weights_only=True) for p in (a, b))
    assert not torch.equal(sa["out.2.weight"], sb["out.2.weight"])
    assert sa["out.2.weight"].abs().sum() > 0  # ADM's zero output layer is drawn too
    assert torch.equal(random_state_dict(FLAGS, 3)["out.2.weight"],
                       random_state_dict(FLAGS, 3)["out.2.weight"])
    assert os.path.getsize(a) > 0
