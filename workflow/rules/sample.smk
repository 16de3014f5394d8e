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


# Sharded cells (SHARD_FILES, from sampling.shards / experiments.<name>.shards > 1): shard K
# of S draws a contiguous range of whole batches of the cell's per-sample seeds into its own
# file (resumable from its own chunks, under its own lock); merge_samples writes the cell's
# npz and grid, whose arrays equal one job's bitwise on CPU. The shard files are temporary:
# a forced merge (harness cell) draws them again. With no sharded cell neither rule matches
# any file ("(?!)" matches nothing), so the DAG is the unsharded one.


rule sample_shard:
    input:
        checkpoint=checkpoint_of,
    output:
        temp(
            "results/samples/{dataset}/{target}-{weighting}/seed{seed}/{iteration}/{sampler}{steps}.shards/{shard}of{shards}.npz"
        ),
    log:
        "results/logs/sample/{dataset}/{target}-{weighting}/seed{seed}/{iteration}/{sampler}{steps}.shards/{shard}of{shards}.log",
    wildcard_constraints:
        shard="[0-9]+",
        shards="[0-9]+",
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
        " {params.execution} --shard {wildcards.shard}/{wildcards.shards} --out {output}"
        " > {log} 2>&1"


rule merge_samples:
    input:
        lambda wc: SHARD_FILES[wc.stem],
    output:
        samples="results/samples/{stem}.npz",
        grid=report(
            "results/samples/{stem}.png",
            category="Samples",
            subcategory=lambda wc: wc.stem.split("/")[0],
            caption="../report/samples.rst",
        ),
    log:
        "results/logs/sample/{stem}.merge.log",
    wildcard_constraints:
        stem="|".join(re.escape(stem) for stem in SHARD_FILES) or "(?!)",
    retries: job_retries("sample")
    conda:
        HARNESS_ENV
    resources:
        **job_resources("sample", gpus=False),
    shell:
        "exec harness merge-samples {input} --out {output.samples} --grid {output.grid} > {log} 2>&1"


ruleorder: merge_samples > sample


# A released checkpoint's cell (harness.workflow.released): its flags come from the arm's check
# record, written once the file passed; seed sampling.seed, as replicate 0 of a trained run.


rule sample_released:
    input:
        record="results/released/{arm}.json",
    output:
        samples="results/samples/{dataset}/released/{arm}/{sampler}{steps}.npz",
        grid=report(
            "results/samples/{dataset}/released/{arm}/{sampler}{steps}.png",
            category="Samples",
            subcategory="{dataset}",
            caption="../report/samples.rst",
        ),
    log:
        "results/logs/sample/{dataset}/released/{arm}/{sampler}{steps}.log",
    retries: job_retries("sample")
    conda:
        HARNESS_ENV
    threads: res("sample", "cpus")
    resources:
        **job_resources("sample"),
    params:
        checkpoint=lambda wc: wp.arm_file(config, wc.arm),
        num_samples=config["sampling"]["num_samples"],
        batch_size=config["sampling"]["batch_size"],
        seed=config["sampling"]["seed"],
        eta=config["sampling"]["eta"],
        execution=sample_args,
        launch=lambda wc, resources: launcher(resources),
        device=lambda wc, resources: device_option(resources),
    shell:
        "{params.launch} sample {params.device} --checkpoint {params.checkpoint:q} --config {input.record}"
        " --sampler {wildcards.sampler} --steps {wildcards.steps} --num-samples {params.num_samples}"
        " --batch-size {params.batch_size} --seed {params.seed} --eta {params.eta}"
        " {params.execution} --out {output.samples} --grid {output.grid} > {log} 2>&1"


rule sample_released_shard:
    input:
        record="results/released/{arm}.json",
    output:
        temp(
            "results/samples/{dataset}/released/{arm}/{sampler}{steps}.shards/{shard}of{shards}.npz"
        ),
    log:
        "results/logs/sample/{dataset}/released/{arm}/{sampler}{steps}.shards/{shard}of{shards}.log",
    wildcard_constraints:
        shard="[0-9]+",
        shards="[0-9]+",
    retries: job_retries("sample")
    conda:
        HARNESS_ENV
    threads: res("sample", "cpus")
    resources:
        **job_resources("sample"),
    params:
        checkpoint=lambda wc: wp.arm_file(config, wc.arm),
        num_samples=config["sampling"]["num_samples"],
        batch_size=config["sampling"]["batch_size"],
        seed=config["sampling"]["seed"],
        eta=config["sampling"]["eta"],
        execution=sample_args,
        launch=lambda wc, resources: launcher(resources),
        device=lambda wc, resources: device_option(resources),
    shell:
        "{params.launch} sample {params.device} --checkpoint {params.checkpoint:q} --config {input.record}"
        " --sampler {wildcards.sampler} --steps {wildcards.steps} --num-samples {params.num_samples}"
        " --batch-size {params.batch_size} --seed {params.seed} --eta {params.eta}"
        " {params.execution} --shard {wildcards.shard}/{wildcards.shards} --out {output} > {log} 2>&1"


ruleorder: merge_samples > sample_released
