# refstats: a dataset -> Inception reference statistics of the full training set, once per dataset.


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
                opt("--mode", config["metrics"]["mode"]),
            )
            if x
        ),
    shell:
        "{params.launch} refstats {params.device} --data {input.images} --out {output} {params.extra} > {log} 2>&1"
