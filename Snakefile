# The harness workflow: data -> refstats -> train -> sample -> metrics -> analysis -> report.
# Declarations only; the targets are computed from the config in workflow/rules/common.smk.
# The default config (the quick preset) comes from the workflow profile beside this file,
# profiles/default/, which Snakemake loads by itself; --configfile replaces it (no merging).
from snakemake.utils import min_version, validate

min_version("9.20")


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
