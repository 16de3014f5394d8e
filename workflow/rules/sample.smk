# sample: an EMA checkpoint x sampler x steps -> N samples (npz) + a preview grid.
# Input is the run's status.json (see train.smk); the checkpoint path is a parameter.


rule sample:
    input:
        status="results/train/{dataset}/{target}-{weighting}/status.json",
    output:
        samples="results/samples/{dataset}/{target}-{weighting}/{iteration}/{sampler}{steps}.npz",
        grid=report(
            "results/samples/{dataset}/{target}-{weighting}/{iteration}/{sampler}{steps}.png",
            category="Samples",
            subcategory="{dataset}",
            caption="../report/samples.rst",
        ),
    params:
        checkpoint=checkpoint_path,
        num_samples=config["sampling"]["num_samples"],
        batch_size=config["sampling"]["batch_size"],
        seed=config["sampling"]["seed"],
        eta=config["sampling"]["eta"],
        execution=sample_args,
    log:
        "results/logs/sample/{dataset}/{target}-{weighting}/{iteration}/{sampler}{steps}.log",
    threads: res("sample", "cpus")
    resources:
        **slurm("sample"),
    shell:
        "harness sample --checkpoint {params.checkpoint} --sampler {wildcards.sampler}"
        " --steps {wildcards.steps} --num-samples {params.num_samples}"
        " --batch-size {params.batch_size} --seed {params.seed} --eta {params.eta}"
        " {params.execution} --out {output.samples} --grid {output.grid} > {log} 2>&1"
