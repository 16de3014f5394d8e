# data: a dataset -> PNG folder at the training resolution + manifest JSON (harness prepare).


rule prepare:
    output:
        images=directory("results/data/{dataset}"),
        manifest="results/data/{dataset}.json",
    log:
        "results/logs/prepare/{dataset}.log",
    retries: job_retries("data")
    conda:
        HARNESS_ENV
    threads: res("data", "cpus")
    resources:
        **job_resources("data"),
    params:
        source=data_source_of,
        resolution=lambda wc: config["datasets"][wc.dataset]["resolution"],
        extra=lambda wc: " ".join(
            x
            for x in (
                opt("--count", config["datasets"][wc.dataset]["count"]),
                "--class-cond" if config["datasets"][wc.dataset]["class_cond"] else "",
                opt("--num-classes", config["datasets"][wc.dataset]["num_classes"]),
            )
            if x
        ),
        seed=lambda wc: config["datasets"][wc.dataset]["seed"],
    shell:
        "harness prepare --dataset {wildcards.dataset} --source {params.source:q}"
        " --resolution {params.resolution} --out {output.images} --seed {params.seed}"
        " {params.extra} > {log} 2>&1"
