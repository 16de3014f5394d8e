# refstats: a dataset -> Inception reference statistics of the full training set, once per dataset
# and clean-fid mode (metrics.mode: the deciding mode's file is {dataset}.npz).


rule refstats:
    input:
        images="results/data/{dataset}",
        manifest="results/data/{dataset}.json",
    output:
        "results/refstats/{dataset}.npz",
    log:
        "results/logs/refstats/{dataset}.log",
    retries: job_retries("refstats")
    conda:
        HARNESS_ENV
    threads: res("refstats", "cpus")
    resources:
        **job_resources("refstats"),
    params:
        launch=lambda wc, resources: launcher(resources),
        device=lambda wc, resources: device_option(resources),
        extra=" ".join(
            x
            for x in (
                opt("--inception-weights", config["metrics"]["inception_weights"]),
                opt("--batch-size", config["metrics"]["refstats_batch_size"]),
                opt("--mode", MODES[0]),
            )
            if x
        ),
    shell:
        "{params.launch} refstats {params.device} --data {input.images} --out {output} {params.extra} > {log} 2>&1"


# A further mode of metrics.mode (e.g. legacy_tensorflow beside clean): its own statistics.


rule refstats_mode:
    input:
        images="results/data/{dataset}",
        manifest="results/data/{dataset}.json",
    output:
        "results/refstats/{dataset}.{mode}.npz",
    log:
        "results/logs/refstats/{dataset}.{mode}.log",
    wildcard_constraints:
        mode="|".join(MODES[1:]) or "(?!)",
    retries: job_retries("refstats")
    conda:
        HARNESS_ENV
    threads: res("refstats", "cpus")
    resources:
        **job_resources("refstats"),
    params:
        launch=lambda wc, resources: launcher(resources),
        device=lambda wc, resources: device_option(resources),
        extra=" ".join(
            x
            for x in (
                opt("--inception-weights", config["metrics"]["inception_weights"]),
                opt("--batch-size", config["metrics"]["refstats_batch_size"]),
            )
            if x
        ),
    shell:
        "{params.launch} refstats {params.device} --data {input.images} --out {output} --mode {wildcards.mode} {params.extra} > {log} 2>&1"
