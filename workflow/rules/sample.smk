# sample: an EMA checkpoint x sampler x steps -> N samples (npz) + a preview grid.
# Replicate r samples with seed sampling.seed + r (paired x_T and noise across weightings).
# Input: the EMA checkpoint itself (a divergence record if the run never reached it).


rule sample:
    input:
        checkpoint=checkpoint_of,
    output:
        samples="results/samples/{dataset}/{target}-{weighting}/seed{seed}/{iteration}/{sampler}{steps}.npz",
        grid=report(
            "results/samples/{dataset}/{target}-{weighting}/seed{seed}/{iteration}/{sampler}{steps}.png",
            category="Samples",
            subcategory="{dataset}",
            caption="../report/samples.rst",
        ),
    log:
        "results/logs/sample/{dataset}/{target}-{weighting}/seed{seed}/{iteration}/{sampler}{steps}.log",
    retries: job_retries("sample")
    conda:
        HARNESS_ENV
    threads: res("sample", "cpus")
    resources:
        **job_resources("sample"),
    params:
        num_samples=config["sampling"]["num_samples"],
        batch_size=config["sampling"]["batch_size"],
        seed=lambda wc: wp.sample_seed(config, int(wc.seed)),
        eta=config["sampling"]["eta"],
        execution=sample_args,
        launch=lambda wc, resources: launcher(resources),
        device=lambda wc, resources: device_option(resources),
    shell:
        "{params.launch} sample {params.device} --checkpoint {input.checkpoint} --sampler {wildcards.sampler}"
        " --steps {wildcards.steps} --num-samples {params.num_samples}"
        " --batch-size {params.batch_size} --seed {params.seed} --eta {params.eta}"
        " {params.execution} --out {output.samples} --grid {output.grid} > {log} 2>&1"
