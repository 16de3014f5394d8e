# train: dataset x target x weighting x seed -> EMA checkpoints at every iteration the cells need.
#
# Design: one job per (run, evaluation iteration). Its output is that iteration's EMA
# checkpoint, protected (read-only) once written; its input is the checkpoint of the run's
# previous evaluation iteration, so a run's jobs execute in order and each resumes the run
# directory where the previous one stopped (harness train continues from the newest
# train_state_*.pt; --max-steps is this job's iteration, --eval-iterations those up to it).
# Why this shape, given Snakemake's semantics:
# - Snakemake deletes the outputs of a failed job and the existing outputs of a job before
#   rerunning it. Here a job's only output is its own checkpoint: the training states and the
#   checkpoints of earlier iterations are never outputs of a job that can fail or rerun, so a
#   job killed at a partition's time limit keeps everything its retry (`retries`) resumes from.
#   If the kill lands after the job's last training state but before it exits, the deleted
#   checkpoint is rebuilt from that state (harness.training.checkpoints).
# - Checkpoints of iterations already passed cannot be regenerated, hence protected(): a
#   forced or parameter-triggered rerun of a finished job stops with Snakemake's
#   ProtectedOutputException instead of deleting it. Asking for an iteration that training
#   has already passed fails when the DAG is built (harness.workflow.train).
# - Appending an iteration (e.g. one more Fig. 7a point) adds one job whose input is the
#   last existing checkpoint; no earlier job's input, command or params change (each command
#   names only iterations up to its own), so nothing finished reruns.
# - Samples and analyses take the checkpoint they read as a declared input, so they depend on
#   that checkpoint only (not on the run's later iterations) and stage on any storage.
# - A diverged run still ends every job: harness train writes a divergence record in place of
#   each checkpoint it never reaches, which `harness sample` turns into a 'diverged' cell.
# status.json (how the run ended) is written by the run's last job and read by the report.


rule train:
    input:
        images="results/data/{dataset}",
        manifest="results/data/{dataset}.json",
        previous=previous_checkpoint,
    output:
        checkpoint=protected(
            "results/train/{dataset}/{target}-{weighting}/seed{seed}/ema_{rate}_{iteration}.pt"
        ),
    log:
        "results/logs/train/{dataset}/{target}-{weighting}/seed{seed}/ema_{rate}_{iteration}.log",
    wildcard_constraints:
        rate=re.escape(wp.ema_rate_name(config)),
    retries: job_retries("train")
    conda:
        HARNESS_ENV
    threads: res("train", "cpus")
    resources:
        **job_resources("train"),
    params:
        run_dir=lambda wc, output: os.path.dirname(output.checkpoint),
        args=train_args,
        launch=lambda wc, resources: launcher(resources, torchrun=True),
        device=lambda wc, resources: device_option(resources),
    shell:
        "{params.launch} train {params.device} --data {input.images} --run-dir {params.run_dir} {params.args}"
        " >> {log} 2>&1"


# Released checkpoints (config `released`, harness.workflow.released): networks trained
# elsewhere stand where a training run's checkpoint would. A file given by URL (or
# builtin:random) is fetched once; every arm's file is checked (digest, weights_only load,
# tensors against the model flags) before any of its samples, into the record that sampling
# reads the flags from. The user's own file is a parameter, not an input, so that lint and dry
# runs plan before it is there (a run stops on its absence before its first job).


rule fetch_released:
    output:
        "results/released/{arm}.pt",
    log:
        "results/logs/released/{arm}.fetch.log",
    wildcard_constraints:
        arm="|".join(FETCHED) or "(?!)",
    retries: job_retries("sample")
    conda:
        HARNESS_ENV
    resources:
        **job_resources("sample", gpus=False),
    params:
        source=lambda wc: config["released"][wc.arm]["path"],
        model=lambda wc: json.dumps(wp.arm_model(config, wc.arm)),
        sha256=lambda wc: opt("--sha256", config["released"][wc.arm]["sha256"]),
    shell:
        "exec harness released fetch --arm {wildcards.arm} --source {params.source:q}"
        " --model {params.model:q} {params.sha256} --out {output} > {log} 2>&1"


rule check_released:
    input:
        lambda wc: [wp.arm_file(config, wc.arm)] if wc.arm in FETCHED else [],
    output:
        "results/released/{arm}.json",
    log:
        "results/logs/released/{arm}.check.log",
    retries: job_retries("sample")
    conda:
        HARNESS_ENV
    resources:
        **job_resources("sample", gpus=False),
    params:
        checkpoint=lambda wc: wp.arm_file(config, wc.arm),
        model=lambda wc: json.dumps(wp.arm_model(config, wc.arm)),
        diffusion=lambda wc: json.dumps(wp.arm_diffusion(config, wc.arm)),
        sha256=lambda wc: opt("--sha256", config["released"][wc.arm]["sha256"]),
        # Left out when empty: an empty quoted word would vanish from the command line.
        source=lambda wc: " ".join(
            wp.cli_args({"source": config["released"][wc.arm]["source"] or None})
        ),
    shell:
        "exec harness released check --arm {wildcards.arm} --checkpoint {params.checkpoint:q}"
        " --model {params.model:q} --diffusion {params.diffusion:q} {params.sha256}"
        " {params.source} --out {output} > {log} 2>&1"
