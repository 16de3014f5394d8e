# refstats: a dataset -> Inception reference statistics of the full training set, once per dataset.


rule refstats:
    input:
        images="results/data/{dataset}",
        manifest="results/data/{dataset}.json",
    output:
        "results/refstats/{dataset}.npz",
    params:
        launch=lambda wc, resources: launcher(resources),
        extra=" ".join(
            x
            for x in (
                opt("--inception-weights", config["metrics"]["inception_weights"]),
                opt("--batch-size", config["metrics"]["refstats_batch_size"]),
                opt("--mode", config["metrics"]["mode"]),
            )
            if x
        ),
    log:
        "results/logs/refstats/{dataset}.log",
    threads: res("refstats", "cpus")
    retries: res("refstats", "retries")
    resources:
        **job_resources("refstats"),
    conda:
        HARNESS_ENV
    shell:
        "{params.launch} refstats --data {input.images} --out {output} {params.extra} > {log} 2>&1"
