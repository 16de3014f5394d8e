"""User weightings in real runs: a formula equal to a built-in trains bitwise like it, a timestep
density is drawn from and importance-weighted, the definition is the run's identity, a plugin
registered through an entry point is found and used, and `harness weightings` lists and draws."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from click.testing import CliRunner
from test_train import TINY, make_images, run_cli, tensors_equal

from harness import workflow as wp
from harness.cli import main
from harness.diffusion import create_diffusion, weight
from harness.diffusion.user_weighting import ENTRY_POINT_GROUP, from_plugin
from harness.training import TrainConfig
from harness.training.batches import step_draws
from harness.training.config import check_config

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "workflow" / "config" / "smoke.yaml"


def _train(data: Path, run: Path, *weighting: str) -> dict:
    code, out = run_cli("--data", str(data), "--run-dir", str(run), "--max-steps", "2",
                        "--save-every", "2", "--eval-iterations", "2", *TINY, *weighting)
    assert code == 0, out
    return torch.load(run / "train_state_0000002.pt", weights_only=False)


@pytest.mark.parametrize("builtin, definition, target", [
    ("debias", {"space": "eps", "formula": "1/sqrt(snr)"}, "eps"),
    # v: converted from x0 as min(SNR, 5) / (SNR + 1), which is not 1 at the steps drawn
    ("min_snr", {"space": "x0", "formula": "min(snr, 5)"}, "v"),
])
def test_a_formula_equal_to_a_builtin_trains_bitwise_like_it(tmp_path, builtin, definition,
                                                             target):
    data = make_images(tmp_path / "data")
    ref = _train(data, tmp_path / "builtin", "--weighting", builtin, "--target", target)
    mine = _train(data, tmp_path / "mine", "--weighting", "mine", "--weighting-definition",
                  json.dumps(definition), "--target", target)
    assert tensors_equal(ref["model"], mine["model"]) and tensors_equal(ref["ema"], mine["ema"])
    constant = _train(data, tmp_path / "constant", "--weighting", "constant", "--target",
                      target)
    assert not tensors_equal(ref["model"], constant["model"])  # the weighting mattered
    recorded = json.loads((tmp_path / "mine" / "config.json").read_text())
    assert recorded["diffusion_config"]["weighting_definition"]["formula"] == \
        definition["formula"]
    assert recorded["weighting"]["space"] == definition["space"]


def test_a_density_draws_t_from_it_with_importance_weights(tmp_path):
    definition = {"space": "eps", "formula": "1", "density": "1/(1 + 1e6*t)"}
    diffusion = create_diffusion(weighting="peak", weighting_definition=definition)
    p = diffusion.timestep_density
    assert p[0] > 0.999 and p.sum() == pytest.approx(1.0, rel=1e-12)
    t, _ = step_draws(0, 0, 3, (64, 3, 8, 8), 1000, torch.from_numpy(p))
    assert (t == 0).all()  # uniform draws would spread over 0..999
    t_uniform, _ = step_draws(0, 0, 3, (64, 3, 8, 8), 1000)
    assert t_uniform.unique().numel() > 30
    ts = torch.tensor([0, 1, 999])
    expected = 1.0 / (1000 * p[[0, 1, 999]])
    np.testing.assert_allclose(diffusion.importance_weights(ts).numpy(), expected, rtol=1e-6)
    assert create_diffusion(weighting="debias").importance_weights(ts) is None
    # A density of the weight itself: the same objective as the weight alone (ADM's sampler).
    data = make_images(tmp_path / "data")
    state = _train(data, tmp_path / "run", "--weighting", "dens", "--weighting-definition",
                   json.dumps({"space": "eps", "formula": "1/sqrt(1 + snr)",
                               "density": "1/sqrt(1 + snr)"}))
    assert all(torch.isfinite(v).all() for v in state["model"].values())


def test_a_changed_definition_is_another_run(tmp_path):
    data = make_images(tmp_path / "data")
    _train(data, tmp_path / "run", "--weighting", "mine", "--weighting-definition",
           '{"space": "eps", "formula": "1/sqrt(snr)"}')
    options = json.loads((tmp_path / "run" / "config.json").read_text())["options"]
    options["eval_iterations"] = tuple(options["eval_iterations"])
    same = TrainConfig(**{**options, "weighting_definition":
                          '{"formula":"1/sqrt(snr)","space":"eps"}'})
    check_config(same)  # written otherwise, the same definition: the same run
    changed = TrainConfig(**{**options, "weighting_definition":
                             '{"space": "eps", "formula": "1/snr"}'})
    with pytest.raises(ValueError, match="Differing: weighting_definition"):
        check_config(changed)
    # In the workflow a changed formula names other run folders: nothing is reused.
    folders = []
    for formula in ("1/sqrt(1 + snr)", "1/(1 + snr)"):
        config = yaml.safe_load(SMOKE.read_text())
        config["weightings"]["capped"]["formula"] = formula
        plan = wp.build_plan(wp.validate_config(config))
        folders.append({r[2] for r in plan.runs if r[2].startswith("capped")})
    assert len(folders[0]) == len(folders[1]) == 1 and folders[0] != folders[1]


PLUGIN = '''
import numpy as np
from harness.diffusion import PluginWeighting

hand_min_snr = PluginWeighting(space="x0", weight=lambda snr, t, T: np.minimum(snr, 5.0),
                               formula="min(SNR, 5) in Python", label="Min-SNR (plugin)")
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch) -> str:
    """A distribution 'harness-test-plugin' 0.3 on sys.path registering `plugmin`."""
    site = tmp_path / "site"
    (site / "harness_test_plugin-0.3.dist-info").mkdir(parents=True)
    (site / "harness_test_plugin.py").write_text(PLUGIN)
    info = site / "harness_test_plugin-0.3.dist-info"
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: harness-test-plugin\n"
                                   "Version: 0.3\n")
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nplugmin = harness_test_plugin:hand_min_snr\n")
    monkeypatch.syspath_prepend(str(site))
    return "plugmin"


def test_an_entry_point_weighting_is_found_and_used(tmp_path, plugin):
    found = from_plugin(plugin)
    assert found.source == ("plugin harness-test-plugin 0.3 "
                            "(harness_test_plugin:hand_min_snr)")
    # Used by name in a config: validated, planned under its own folder, trained with it.
    config = yaml.safe_load(SMOKE.read_text())
    config["experiments"]["table1"]["weightings"] = ["constant", plugin]
    plan = wp.build_plan(wp.validate_config(config))
    entry = next(e for e in wp.plan_json(config, plan, "x")["weightings"]["entries"]
                 if e["name"] == plugin)
    assert entry["kind"] == "plugin" and entry["definition"]["version"] == "0.3"
    assert entry["folder"].startswith(f"{plugin}-")
    args = plan.weightings.train_args(entry["folder"])
    assert json.loads(args["weighting_definition"])["entry_point"] == \
        "harness_test_plugin:hand_min_snr"
    diffusion = create_diffusion(weighting=plugin,
                                 weighting_definition=json.loads(args["weighting_definition"]))
    assert np.array_equal(diffusion.loss_weights, weight("min_snr", diffusion.snr))
    data = make_images(tmp_path / "data")
    ref = _train(data, tmp_path / "builtin", "--weighting", "min_snr")
    used = _train(data, tmp_path / "plugin", "--weighting", plugin)  # definition filled in
    assert tensors_equal(ref["model"], used["model"])
    recorded = json.loads((tmp_path / "plugin" / "config.json").read_text())["weighting"]
    assert recorded["source"] == found.source and recorded["kind"] == "plugin"
    # Another installed version than the run recorded is refused, naming both.
    stale = dict(found.definition, version="0.2")
    with pytest.raises(ValueError, match="version '0.2' recorded, '0.3' installed"):
        create_diffusion(weighting=plugin, weighting_definition=stale)


def test_unknown_names_and_bad_definitions_fail_at_config_validation():
    config = yaml.safe_load(SMOKE.read_text())
    config["experiments"]["fig7b"]["weightings"] = ["constant", "nope"]
    with pytest.raises(ValueError, match=r"config key experiments.fig7b.weightings.1: 'nope' "
                                         r"is not one of \['constant'.*'capped'"):
        wp.validate_config(config)
    for edit, message in [
        ({"space": "eps", "formula": "1/sqrt(snrr)"},
         "config key weightings.capped.formula: unknown name 'snrr'"),
        ({"formula": "1"}, "config key weightings.capped: 'space' is a required property"),
        ({"space": "eps", "formula": "log(t)"},
         "config key weightings.capped.formula: the value is infinite at t = 0"),
    ]:
        config = yaml.safe_load(SMOKE.read_text())
        config["weightings"]["capped"] = edit
        with pytest.raises(ValueError) as err:
            wp.validate_config(config)
        assert str(err.value).startswith(message) and "\n" not in str(err.value)
    config = yaml.safe_load(SMOKE.read_text())
    config["weightings"]["snr"] = {"space": "eps", "formula": "1/snr"}
    with pytest.raises(ValueError, match="config key weightings.snr.name: 'snr' is a built-in"):
        wp.validate_config(config)


def test_the_weightings_verb_lists_and_draws(tmp_path):
    out = tmp_path / "curves.png"
    result = CliRunner().invoke(main, ["weightings", "--configfile", str(SMOKE), "--plot",
                                       str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    capped = next(line for line in lines if line.startswith("capped"))
    assert "formula" in capped and " eps " in capped and "1/sqrt(1 + snr)" in capped
    assert "t drawn from p(t) ∝ 1/sqrt(1 + snr)" in capped and capped.endswith("config")
    assert any(line.startswith("debias") and "Yu et al." in line for line in lines)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"weightings": {"mine": {"space": "eps",
                                                           "formula": "snr.real"}}}))
    result = CliRunner().invoke(main, ["weightings", "--configfile", str(SMOKE),
                                       "--configfile", str(bad)])
    assert result.exit_code == 1
    assert "config key weightings.mine.formula: attribute access" in result.output
