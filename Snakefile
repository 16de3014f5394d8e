# The harness workflow: data -> refstats -> train -> sample -> metrics -> analysis -> report.
# Declarations only; the targets are computed from the config in workflow/rules/common.smk.
from snakemake.utils import min_version, validate

min_version("9.20")


# The quick preset unless --configfile names others (then it is not merged underneath them).
if not workflow.overwrite_configfiles:

    configfile: "workflow/config/quick.yaml"



validate(config, "workflow/schemas/config.schema.yaml", set_default=True)


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/refstats.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/sample.smk"
include: "workflow/rules/metrics.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        "reports/report.html",
    default_target: True
