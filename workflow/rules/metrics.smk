# metrics: samples + the dataset's reference statistics (one file per clean-fid mode) -> one JSON per
# cell (FID, KID, IS, colour shift).


rule metrics:
    input:
        samples="results/samples/{dataset}/{target}-{weighting}/seed{seed}/{iteration}/{sampler}{steps}.npz",
        refstats=refstats_files,
    output:
        "results/metrics/{dataset}/{target}-{weighting}/seed{seed}/{iteration}/{sampler}{steps}.json",
    log:
        "results/logs/metrics/{dataset}/{target}-{weighting}/seed{seed}/{iteration}/{sampler}{steps}.log",
    retries: job_retries("metrics")
    conda:
        HARNESS_ENV
    threads: res("metrics", "cpus")
    resources:
        **job_resources("metrics"),
    params:
        refstats=refstats_args,
        kid=config["metrics"]["kid_subset_size"],
        seed=config["metrics"]["seed"],
        fid_impl=config["metrics"]["fid_impl"],
        bootstrap=config["statistics"]["bootstrap"],
        batch_size=config["metrics"]["batch_size"],
        config_hash=lambda wc: wp.cell_hash(config, wc.dataset),
        extra=" ".join(
            x
            for x in (
                opt("--inception-weights", config["metrics"]["inception_weights"]),
                opt("--is-weights", config["metrics"]["is_weights"]),
            )
            if x
        ),
        launch=lambda wc, resources: launcher(resources),
        device=lambda wc, resources: device_option(resources),
    shell:
        "{params.launch} metrics {params.device} --samples {input.samples} {params.refstats} --out {output}"
        " --dataset {wildcards.dataset} --target {wildcards.target}"
        " --weighting {wildcards.weighting} --iteration {wildcards.iteration}"
        " --sampler {wildcards.sampler} --steps {wildcards.steps} --kid-subset-size {params.kid}"
        " --config-hash {params.config_hash} --seed {params.seed} --fid-impl {params.fid_impl}"
        " --bootstrap {params.bootstrap} --batch-size {params.batch_size}"
        " {params.extra} > {log} 2>&1"


# A released checkpoint's cell (harness.workflow.released): measured like a trained one, its
# check record (path, size, sha256) carried into the JSON's provenance.


rule metrics_released:
    input:
        samples="results/samples/{dataset}/released/{arm}/{sampler}{steps}.npz",
        refstats=refstats_files,
        record="results/released/{arm}.json",
    output:
        "results/metrics/{dataset}/released/{arm}/{sampler}{steps}.json",
    log:
        "results/logs/metrics/{dataset}/released/{arm}/{sampler}{steps}.log",
    retries: job_retries("metrics")
    conda:
        HARNESS_ENV
    threads: res("metrics", "cpus")
    resources:
        **job_resources("metrics"),
    params:
        refstats=refstats_args,
        target=lambda wc: config["released"][wc.arm]["target"],
        weighting=lambda wc: config["released"][wc.arm]["weighting"],
        options=metrics_options(),
        config_hash=lambda wc: wp.released_hash(config, wc.arm),
        launch=lambda wc, resources: launcher(resources),
        device=lambda wc, resources: device_option(resources),
    shell:
        "{params.launch} metrics {params.device} --samples {input.samples} {params.refstats} --out {output}"
        " --dataset {wildcards.dataset} --target {params.target} --weighting {params.weighting}"
        " --released {input.record} --sampler {wildcards.sampler} --steps {wildcards.steps}"
        " --config-hash {params.config_hash} {params.options} > {log} 2>&1"
