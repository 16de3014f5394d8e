# The harness workflow: data -> refstats -> train -> sample -> metrics -> analysis -> report.
# Declarations only; the targets are computed from the config in workflow/rules/common.smk.
# The default config (the quick preset) comes from the workflow profile beside this file,
# profiles/default/, which Snakemake loads by itself; --configfile replaces it (no merging with
# quick.yaml); several files (`--configfile A B`, or the flag repeated) merge in order.
import sys
from pathlib import Path

from snakemake.utils import min_version, validate

from harness.workflow.config import merge_configfiles, repeated_configfiles

min_version("9.20")

# `--configfile A --configfile B` (an overlay on a preset): Snakemake's parser keeps only B.
# Merge them in order, as Snakemake does `--configfile A B`, and hand cluster jobs every file.
CONFIGFILES = repeated_configfiles(sys.argv[1:])
if CONFIGFILES and not workflow.remote_exec:
    merged = merge_configfiles(CONFIGFILES, on_top=config)  # B and --config stay on top
    config.clear()
    config.update(merged)
    workflow.config_settings.configfiles = [Path(f) for f in CONFIGFILES]
    print(f"config: {' + '.join(CONFIGFILES)} (merged in this order)", file=sys.stderr)


validate(config, "workflow/schemas/config.schema.yaml", set_default=True)


container: config["container"]


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/refstats.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/sample.smk"
include: "workflow/rules/metrics.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        "reports/report.html",
