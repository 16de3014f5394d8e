"""The workflow as a library: its config (schema, loading, validation), its plan (every cell,
training run and analysis a config asks for, and their paths), training's one job per
checkpoint, the jobs as a graph, `harness cell`'s selection, the nodes GPU jobs must avoid and
which profile a run uses. Shared by the Snakemake rules, `harness cell` and `harness estimate`,
so the three agree on every path; nothing here imports torch (the Snakefile is parsed for every
workflow command and SLURM job)."""

from harness.workflow.cell import cell_command, select_cells
from harness.workflow.config import (
    ROOT,
    SCHEMA_PATH,
    load_config,
    load_schema,
    merge_configfiles,
    metric_modes,
    repeated_configfiles,
    validate_config,
)
from harness.workflow.jobs import Job, dag_jobs, sample_jobs
from harness.workflow.plan import (
    ANALYSES,
    CONTROL_SEED_OFFSET,
    USES,
    Cell,
    Plan,
    Run,
    build_plan,
    cell_hash,
    check_config,
    cli_args,
    data_problems,
    data_source,
    digest,
    eval_iterations,
    model_config,
    plan_json,
    replicate_of,
    run_dir,
    run_hash,
    run_path,
    sample_seed,
    statistics_settings,
    write_plan,
)
from harness.workflow.profiles import describe_profiles
from harness.workflow.released import (
    arm_diffusion,
    arm_file,
    arm_model,
    builtin_seed,
    fetched,
    record_path,
    released_hash,
    released_problems,
)
from harness.workflow.train import (
    checkpoint_path,
    ema_rate_name,
    previous_iteration,
    segment_iterations,
    unreachable_checkpoints,
)
from harness.workflow.unusable_hosts import exclude_option
from harness.workflow.weightings import (
    Weightings,
    catalog,
    config_weightings,
    weighting_name,
    weighting_names,
)

__all__ = [
    "ANALYSES", "CONTROL_SEED_OFFSET", "ROOT", "SCHEMA_PATH", "USES", "Cell", "Job", "Plan",
    "Run", "Weightings", "build_plan", "catalog", "cell_command", "cell_hash", "check_config",
    "checkpoint_path", "cli_args", "config_weightings", "dag_jobs", "data_problems",
    "data_source", "describe_profiles", "digest", "ema_rate_name", "eval_iterations",
    "exclude_option", "load_config", "load_schema", "model_config", "plan_json",
    "previous_iteration", "replicate_of", "run_dir", "run_hash", "run_path", "sample_jobs",
    "sample_seed", "segment_iterations", "select_cells", "statistics_settings",
    "unreachable_checkpoints", "validate_config", "weighting_name", "weighting_names",
    "write_plan",
    "arm_diffusion", "arm_file", "arm_model", "builtin_seed", "fetched", "record_path",
    "released_hash", "released_problems", "merge_configfiles", "metric_modes",
    "repeated_configfiles",
]
