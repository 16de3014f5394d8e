"""GPU-hours per workflow stage for a config, before anything runs.

Every job of the DAG (harness.workflow.jobs: one per training segment, sample shard, metrics
cell, ...) is priced, and the stages sum them; harness.makespan schedules the same jobs.
Per stage, measured throughput where a record fits, else FLOPs; every line names its basis.
Records are the JSON files in results/bench/ (a file may hold one record or several under
"records"); only CUDA records count, so a CPU measurement is never the basis of GPU-hours.
- train: `bench train` records (the real training loop), else the training step of
  `bench model` records, of the same model config;
- sample and analysis: network evaluations per second of `bench sample` records (harness
  sample itself), else the forward of `bench model` records;
- among fitting records, the one nearest the config's batch size, then the one run the way
  the config runs (training.* / sampling.* precision, compile, ...), comes first; every
  difference is printed;
- without a record: the model's FLOPs (torch.utils.flop_counter on the meta device) at an
  assumed sustained TFLOP/s (`tflops`, an explicit input), as for Inception in metrics and
  refstats.
"""

from __future__ import annotations

import inspect
import json
import math
from pathlib import Path

from harness import workflow as wp
from harness.bench.flops import TRAIN_FACTOR, model_flops
from harness.inputs import check_number

__all__ = ["INCEPTION_FLOPS", "estimate", "load_cuda_records", "model_flops"]

# Inception-v3 at 299x299: 5.7 G multiply-adds per image (Szegedy et al. 2016, Table 3),
# i.e. ~11.5 GFLOPs; the feature extractor of FID, KID and IS.
INCEPTION_FLOPS = 11.5e9
PRICED = ("train", "sample", "metrics", "refstats", "analysis")  # the table's order
EXECUTION_KEYS = ("precision", "tf32", "compile", "compile_mode", "channels_last",
                  "deterministic")
ARCHITECTURE = ("image_size", "num_channels", "num_res_blocks", "channel_mult", "learn_sigma",
                "class_cond", "attention_resolutions", "num_heads", "num_head_channels",
                "num_heads_upsample", "use_scale_shift_norm", "resblock_updown",
                "use_new_attention_order")


def _architecture(model_config: dict) -> dict:
    from harness.models import create_model

    defaults = {k: p.default for k, p in inspect.signature(create_model).parameters.items()
                if p.default is not inspect.Parameter.empty}
    full = {**defaults, **model_config}
    arch = {k: full.get(k) for k in ARCHITECTURE}
    if arch["num_head_channels"] != -1:  # heads follow from the channels per head
        arch["num_heads"] = arch["num_heads_upsample"] = None
    if full.get("class_cond"):
        arch["num_classes"] = full.get("num_classes")
    return arch


def _shown(path: Path) -> str:
    """`path` relative to the checkout when inside it (stable across clones)."""
    try:
        return str(path.resolve().relative_to(wp.ROOT))
    except ValueError:
        return str(path)


def load_cuda_records(bench_dir: str | Path) -> list[dict]:
    """Every CUDA bench record under `bench_dir`, each with `file` (and `label`) added."""
    out = []
    for path in sorted(Path(bench_dir).glob("*.json")):
        try:
            top = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(top, dict):
            continue
        for rec in [top, *top.get("records", [])]:
            rec = {"environment": top.get("environment"), "model_config": top.get("model_config"),
                   **rec, "file": _shown(path)}
            device = str((rec.get("environment") or {}).get("device", ""))
            if device.startswith("cuda") and rec.get("model_config"):
                out.append(rec)
    return out


def _execution(rec: dict) -> dict:
    return rec.get("execution") or {"precision": rec.get("precision", "fp32")}


def _differences(rec: dict, wanted: dict) -> list[str]:
    from harness.runtime import Execution

    have = {**Execution().as_dict(), **_execution(rec),
            "fused_optimizer": rec.get("fused_optimizer", False)}
    return [f"{k} {'unknown' if have.get(k) is None else have.get(k)} (config: {v})"
            for k, v in wanted.items() if have.get(k) != v]


def _batch_distance(size: int | None, batch: int) -> float:
    """How far apart two batch sizes are (ratio on a log scale; unknown counts as far)."""
    return abs(math.log(size / batch)) if size else 10.0


class Rates:
    """The best-fitting CUDA measurement of one model config for each kind of work."""

    def __init__(self, records: list[dict], model_config: dict) -> None:
        arch = _architecture(model_config)
        self.records = [r for r in records if _architecture(r["model_config"]) == arch]

    def _pick(self, candidates: list[tuple[dict, float, int]], wanted: dict, batch: int,
              unit: str) -> tuple[float, str] | None:
        """(images or network calls per second, basis) of the closest candidate."""
        if not candidates:
            return None

        newest_first = sorted(candidates, reverse=True, key=lambda c: str(
            (c[0].get("environment") or {}).get("created", "")))
        # Batch size first: at the paper's batch 8 a GPU is far from full, whatever the path.
        rec, rate, size = min(newest_first, key=lambda c: (_batch_distance(c[2], batch),
                                                            len(_differences(c[0], wanted))))
        env = rec.get("environment") or {}
        label = f"#{rec['label']}" if rec.get("label") else ""
        basis = (f"bench {rec['file']}{label}: {env.get('device_name', env.get('device'))}, "
                 f"{rec['benchmark']}, batch {size}, {rate:.1f} {unit}")
        notes = _differences(rec, wanted) + ([f"batch {size or 'unknown'} (config: {batch})"]
                                            if size != batch else [])
        if notes:
            basis += " [differs: " + "; ".join(notes) + "]"
        return rate, basis

    def train(self, wanted: dict, batch: int) -> tuple[float, str] | None:
        """Training images per second."""
        loop = [(r, r["img_per_s"], r.get("batch_size")) for r in self.records
                if r.get("benchmark") == "train" and r.get("img_per_s")]
        steps = [(r, r["train_step"]["img_per_s"], r.get("batch_size")) for r in self.records
                 if r.get("benchmark") == "model" and (r.get("train_step") or {}).get("img_per_s")]
        return (self._pick(loop, wanted, batch, "img/s")
                or self._pick(steps, wanted, batch, "img/s"))

    def forward(self, wanted: dict, batch: int) -> tuple[float, str] | None:
        """Network evaluations (images) per second."""
        sampled = [(r, res["network_evals_img_per_s"], res.get("batch_size")) for r in self.records
                   if r.get("benchmark") == "sample" for res in r.get("results", [])
                   if res.get("network_evals_img_per_s")]
        forward = [(r, r["forward"]["img_per_s"], r.get("batch_size")) for r in self.records
                   if r.get("benchmark") == "model" and (r.get("forward") or {}).get("img_per_s")]
        return (self._pick(sampled, wanted, batch, "network calls/s")
                or self._pick(forward, wanted, batch, "network calls/s"))


def dataset_count(config: dict, name: str) -> int:
    """Images in a dataset: the config's count, else the paper dataset's published size."""
    from harness.data.registry import PAPER_DATASETS

    ds = config["datasets"][name]
    if ds.get("count"):
        return int(ds["count"])
    paper = PAPER_DATASETS.get(ds.get("stands_for") or name)
    return paper.count if paper else 0


def _wanted(section: dict, keys: tuple[str, ...]) -> dict:
    return {k: section[k] for k in keys if k in section}


def estimate(config: dict, bench_dir: str | Path = "results/bench",
             tflops: float = 40.0) -> dict:
    """GPU-hours and job counts per stage, each part with its basis, and every job of the DAG
    (`jobs`: stage, output, needs, GPU-hours) for the makespan (harness.makespan)."""
    check_number("tflops", tflops, exclusive_minimum=0)
    plan = wp.build_plan(config)
    rate = tflops * 1e12
    records = load_cuda_records(bench_dir)
    names = plan.datasets()
    # The network each job runs: its dataset's, or a released arm's own.
    models = {name: wp.model_config(config, name) for name in names}
    models.update({("released", arm): wp.arm_model(config, arm)
                   for arm in {c.released for c in plan.unique_cells() if c.released}})
    flops = {key: model_flops(model) for key, model in models.items()}
    rates = {key: Rates(records, model) for key, model in models.items()}
    t, s = config["training"], config["sampling"]
    train_wanted = _wanted(t, (*EXECUTION_KEYS, "fused_optimizer"))
    sample_wanted = _wanted(s, EXECUTION_KEYS)
    inception = f"Inception FLOPs at {tflops:g} TFLOP/s"

    def seconds(job: wp.Job) -> tuple[float, str | None]:
        """Seconds of `job` on one GPU and their basis (None: a job not priced)."""
        if job.stage in ("metrics", "refstats"):
            return job.work * INCEPTION_FLOPS / rate, inception
        if job.stage not in PRICED:
            return 0.0, None
        key = ("released", job.released) if job.released else job.dataset
        found = (rates[key].train(train_wanted, t["batch_size"]) if job.stage == "train"
                 else rates[key].forward(sample_wanted, s["batch_size"]))
        if found:
            return job.work / found[0], found[1]
        factor = TRAIN_FACTOR if job.stage == "train" else 1.0
        return (job.work * factor * flops[key] / rate,
                f"FLOPs at {tflops:g} TFLOP/s (no CUDA record of this model)")

    stages: dict[str, dict] = {}
    jobs = []
    images = {name: dataset_count(config, name) for name in names}
    for job in wp.dag_jobs(config, plan, images):
        secs, basis = seconds(job)
        jobs.append({"stage": job.stage, "output": job.output, "needs": list(job.needs),
                     "gpu_hours": secs / 3600})
        if basis is None:
            continue
        st = stages.setdefault(job.stage, {"jobs": 0, "gpu_hours": 0.0, "lines": {}})
        line = st["lines"].setdefault(basis, {"jobs": 0, "gpu_hours": 0.0})
        for item in (st, line):
            item["jobs"] += 1
            item["gpu_hours"] += secs / 3600
    stages = {k: stages[k] for k in PRICED if k in stages}
    for st in stages.values():
        st["basis"] = sorted(st["lines"])
    total = sum(st["gpu_hours"] for st in stages.values())
    return {"stages": stages, "total_gpu_hours": total, "tflops_assumed": tflops,
            "cuda_records": len(records),
            "model_gflops": {(k if isinstance(k, str) else f"released.{k[1]}"): v / 1e9
                             for k, v in sorted(flops.items(), key=str)}, "jobs": jobs}


def format_table(result: dict) -> str:
    """The table `harness estimate` prints: one line per stage and basis, then the total."""
    lines = [f"{'stage':<10}{'jobs':>6}{'GPU-hours':>12}  basis"]
    for stage, st in result["stages"].items():
        for basis, line in sorted(st["lines"].items(), key=lambda kv: -kv[1]["gpu_hours"]):
            lines.append(f"{stage:<10}{line['jobs']:>6}{line['gpu_hours']:>12.1f}  {basis}")
    lines.append(f"{'total':<16}{result['total_gpu_hours']:>12.1f}")
    return "\n".join(lines)
