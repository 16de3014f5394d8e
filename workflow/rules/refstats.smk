# refstats: a dataset -> Inception reference statistics of the full training set, once per dataset.


rule refstats:
    input:
        manifest="results/data/{dataset}.json",
    output:
        "results/refstats/{dataset}.npz",
    params:
        data=lambda wc, input: input.manifest.removesuffix(".json"),
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
    resources:
        **slurm("refstats"),
    shell:
        "harness refstats --data {params.data} --out {output} {params.extra} > {log} 2>&1"
