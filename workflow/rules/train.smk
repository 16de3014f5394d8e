# train: dataset x target x weighting x seed -> EMA checkpoints at every iteration the cells need.
# The declared output is status.json, written last by `harness train`; the checkpoints and the
# resumable train_state files are not declared, so that a job killed at a partition's time limit
# keeps them: Snakemake resubmits it (retries) and `harness train` resumes from the last state.


rule train:
    input:
        manifest="results/data/{dataset}.json",
    output:
        "results/train/{dataset}/{target}-{weighting}/seed{seed}/status.json",
    params:
        data=lambda wc, input: input.manifest.removesuffix(".json"),
        run_dir=lambda wc, output: os.path.dirname(output[0]),
        args=train_args,
        launch=launcher,
    log:
        "results/logs/train/{dataset}/{target}-{weighting}/seed{seed}.log",
    threads: res("train", "cpus")
    retries: res("train", "retries")
    resources:
        **slurm("train"),
    shell:
        "{params.launch} train --data {params.data} --run-dir {params.run_dir} {params.args}"
        " >> {log} 2>&1"
