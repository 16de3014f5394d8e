"""Released arms in the workflow: the plan, the config errors, an overlay on the smoke preset
(the flag given twice, as Snakemake's parser alone would drop the preset), several clean-fid
modes, the released presets and their estimate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from test_workflow import ROOT, job_counts, snakemake

from harness import paper
from harness import workflow as wp
from harness.cli import main

PRESETS = ROOT / "workflow" / "config"
SMOKE = PRESETS / "smoke.yaml"
RELEASED = PRESETS / "released.yaml"
ARM = {"path": "ckpt/mine.pt", "dataset": "tiny", "weighting": "constant",
       "model": {"num_channels": 32, "num_res_blocks": 1, "channel_mult": "1,2",
                 "attention_resolutions": "8", "learn_sigma": True}}


def smoke_with(released: dict, experiment: dict, **top) -> dict:
    config = yaml.safe_load(SMOKE.read_text())
    config["released"] = released
    config["experiments"]["released"] = experiment
    config.update(top)
    return wp.validate_config(config)


def test_released_cells_are_planned_beside_trained_ones():
    config = smoke_with({"mine": ARM}, {"arms": ["mine"], "steps": [4, 2]})
    plan = wp.build_plan(config)
    cells = [c for c in plan.cells if c.get("released")]
    assert [(c["released"], c["steps"]) for c in cells] == [("mine", 4), ("mine", 2)]
    assert cells[0]["metrics"] == "results/metrics/tiny/released/mine/ddpm4.json"
    assert cells[0]["paper_dataset"] == "ffhq" and cells[0]["iteration"] is None
    assert all(run[2] != "released" for run in plan.runs)  # nothing is trained for them
    block = wp.plan_json(config, plan, "abc")["released"]
    assert block == {"mine": {"dataset": "tiny", "weighting": "constant", "target": "eps",
                              "path": "ckpt/mine.pt", "file": "ckpt/mine.pt", "sha256": None,
                              "source": "", "published": None,
                              "record": "results/released/mine.json"}}
    assert wp.arm_model(config, "mine") == {**ARM["model"], "image_size": 16,
                                            "class_cond": False}
    assert wp.arm_diffusion(config, "mine") == {"steps": 1000, "noise_schedule": "linear",
                                                "learn_sigma": True, "target": "eps"}
    # Relative paths are under data_root when it is set; a missing file names arm and path.
    config["data_root"] = "/data"
    assert wp.arm_file(config, "mine") == "/data/ckpt/mine.pt"
    assert wp.released_problems(config, plan) == [
        "released.mine: checkpoint file '/data/ckpt/mine.pt' does not exist (path "
        "'ckpt/mine.pt' under data_root '/data')"]


@pytest.mark.parametrize(("released", "experiment", "message"), [
    ({"mine": ARM}, {"arms": ["theirs"], "steps": [4]},
     "experiments.released.arms[0]: unknown arm 'theirs'"),
    ({"mine": ARM}, {"arms": ["mine"], "steps": [4000]},
     "experiments.released.steps: 4000 sampling steps exceed arm 'mine''s diffusion steps"),
    ({"mine": ARM}, {"arms": ["mine"], "steps": {"tinycond": [4]}},
     "experiments.released.steps: no step counts for dataset 'tiny' (of arm 'mine')"),
    ({"mine": {**ARM, "dataset": "nope"}}, {"arms": ["mine"], "steps": [4]},
     "released.mine.dataset: unknown dataset 'nope'"),
    ({"mine": {**ARM, "model": {**ARM["model"], "image_size": 32}}},
     {"arms": ["mine"], "steps": [4]},
     "released.mine.model.image_size: 32, but its dataset 'tiny' has 16"),
    ({"mine": {**ARM, "diffusion": {"learn_sigma": False}}}, {"arms": ["mine"], "steps": [4]},
     "released.mine.diffusion.learn_sigma: False, but released.mine.model.learn_sigma is True"),
])
def test_config_errors_name_the_key(released, experiment, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        wp.build_plan(smoke_with(released, experiment))


def test_schema_refuses_a_bad_digest_and_an_unknown_weighting():
    with pytest.raises(ValueError, match=r"config key released\.mine\.sha256"):
        smoke_with({"mine": {**ARM, "sha256": "abc"}}, {"arms": ["mine"], "steps": [4]})
    with pytest.raises(ValueError, match=r"config key released\.mine\.weighting"):
        smoke_with({"mine": {**ARM, "weighting": "nonsense"}}, {"arms": ["mine"], "steps": [4]})


def test_repeated_configfile_flags_are_all_found():
    argv = ["--profile", "p", "--configfile", "a.yaml", "--cores", "1", "--configfile=b.yaml",
            "--configfiles", "c.yaml", "d.yaml", "--", "target"]
    assert wp.repeated_configfiles(argv) == ["a.yaml", "b.yaml", "c.yaml", "d.yaml"]
    assert wp.repeated_configfiles(["--configfile", "a.yaml", "b.yaml"]) == []  # Snakemake's own


@pytest.mark.slow
def test_an_overlay_on_the_smoke_preset_adds_its_arm_and_modes(tmp_path):
    """`--configfile smoke.yaml --configfile overlay.yaml`: Snakemake keeps only the overlay's
    file; the workflow merges both (the overlay's arm joins, its list replaces smoke's)."""
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump({
        "released": {"mine": {**ARM, "path": str(tmp_path / "mine.pt")}},
        "experiments": {"released": {"arms": ["mine"], "steps": [4]}},
        "metrics": {"mode": ["clean", "legacy_tensorflow"]}}))
    for flags in (["--configfile", str(SMOKE), "--configfile", str(overlay)],
                  ["--configfile", str(SMOKE), str(overlay)]):
        out = snakemake(["-n", "-p", *flags], tmp_path)
        counts = job_counts(out.stdout)
        assert counts["check_released"] == counts["sample_released"] == 1
        assert counts["refstats_mode"] == 2 and counts["train"] > 0  # smoke's runs are there
        assert "results/metrics/tiny/released/mine/ddpm4.json" in out.stdout
        assert "--refstats results/refstats/tiny.legacy_tensorflow.npz" in out.stdout
        assert f"warning: released.mine: checkpoint file '{tmp_path / 'mine.pt'}'" in out.stderr
        # No `source`: the option is left out (an empty word would swallow --out).
        check = next(line for line in out.stdout.splitlines() if "check --arm mine" in line)
        assert "--source" not in check and " --out results/released/mine.json " in check


def test_modes_are_a_list_with_the_deciding_one_first():
    config = wp.load_config([SMOKE])
    assert wp.metric_modes(config) == ["clean"]
    config["metrics"]["mode"] = ["legacy_tensorflow", "clean"]
    assert wp.metric_modes(wp.validate_config(config)) == ["legacy_tensorflow", "clean"]
    config["metrics"]["mode"] = ["clean", "legacy_pytorch"]
    with pytest.raises(ValueError, match="config key metrics.mode"):
        wp.validate_config(config)


@pytest.mark.parametrize("preset", ["released", "released_1gpu"])
def test_the_released_presets_sample_p2s_networks(preset):
    config = wp.load_config([PRESETS / f"{preset}.yaml"])
    plan = wp.build_plan(config)
    assert not plan.runs and plan.datasets() == ["afhqdog", "ffhq", "metfaces"]
    cells = {(c["paper_dataset"], c["weighting"], c["steps"]) for c in plan.cells}
    files = {wp.arm_file(config, arm).split("/")[-1] for arm in config["released"]}
    assert files == set(paper.p2.CHECKPOINTS.values()) - {"celebahq_p2.pt"}
    assert all(config["released"][a]["published"] == "p2" for a in config["released"])
    if preset == "released":  # P2 Table 1's step counts, 50k samples, clean mode
        published = {(v.dataset, v.weighting, v.steps) for v in paper.p2_values()
                     if v.where == "P2 Table 1"}
        assert cells == published
        assert config["sampling"]["num_samples"] == 50_000
    else:
        assert {s for _, _, s in cells} == {250, 100}
        assert config["sampling"]["num_samples"] == 10_000
    assert wp.metric_modes(config) == ["clean"] and config["scale"] != "toy"


@pytest.mark.parametrize(("preset", "gpus"), [("released", ["1", "8"]),
                                             ("released_1gpu", ["1"])])
def test_the_readme_shows_the_released_estimate(preset, gpus):
    """README.md's blocks are `harness estimate --configfile workflow/config/released.yaml
    --gpus 1 --gpus 8` and the 1-GPU variant's with --gpus 1; after a change of the plan, the
    records or the scheduling, paste the command's output there again."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(rf"<!-- estimate:{preset} -->\n```\n(.*?)```\n<!-- /estimate -->",
                      readme, re.S)
    assert block, f"README.md lacks the <!-- estimate:{preset} --> block"
    args = [a for g in gpus for a in ("--gpus", g)]
    result = CliRunner().invoke(main, ["estimate", "--configfile",
                                       str(PRESETS / f"{preset}.yaml"), *args])
    assert result.exit_code == 0, result.output
    assert block.group(1).strip() == result.output.strip()
    assert "sample" in result.output and "NVIDIA H200" in result.output  # measured, not FLOPs


def test_the_estimate_prices_an_arm_with_its_own_network(tmp_path):
    """A released arm's sampling is priced with its own model, not the dataset's `model`."""
    config = smoke_with({"mine": {**ARM, "model": {**ARM["model"], "num_channels": 64}}},
                        {"arms": ["mine"], "steps": [4]})
    from harness.estimate import estimate

    result = estimate(config, tmp_path)
    assert result["model_gflops"]["released.mine"] > result["model_gflops"]["tiny"]
    jobs = {j["output"]: j for j in result["jobs"]}
    assert jobs["results/released/mine.json"]["gpu_hours"] == 0
    assert jobs["results/samples/tiny/released/mine/ddpm4.npz"]["needs"] == [
        "results/released/mine.json"]
    assert "results/released/mine.json" in jobs["reports/report.html"]["needs"]


def test_no_code_path_reads_released_paths_as_trained_runs():
    config = wp.load_config([SMOKE])
    plan = wp.build_plan(config)
    stems = {c.stem for c in plan.unique_cells() if c.released}
    assert stems == {"tiny/released/base_tiny/ddpm4", "tiny/released/p2_tiny/ddpm4"}
    assert not wp.unreachable_checkpoints(config, plan, Path("/nonexistent"))


def test_one_released_cell_can_be_rerun_alone():
    config = wp.load_config([RELEASED])
    plan = wp.build_plan(config)
    cells = wp.select_cells(plan, "released", "ffhq", weighting="p2", steps=500)
    assert [c.stem for c in cells] == ["ffhq/released/p2_ffhq/ddpm500"]
    cmd = wp.cell_command(cells, [str(RELEASED)], shards=plan.shards)
    forced = cmd[cmd.index("--forcerun") + 1:cmd.index("--")]
    assert forced == ["results/samples/ffhq/released/p2_ffhq/ddpm500.npz",
                      *[f"results/samples/ffhq/released/p2_ffhq/ddpm500.shards/{k}of8.npz"
                        for k in range(8)]]
