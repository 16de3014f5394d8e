# analysis: an EMA checkpoint -> per-timestep MSE curve (Fig. 4, 10) and one-step x0 estimates (Fig. 3).


rule analyze:
    input:
        checkpoint=checkpoint_of,
        images="results/data/{dataset}",
        manifest="results/data/{dataset}.json",
    output:
        mse="results/analysis/{dataset}/{target}-{weighting}/seed{seed}/{iteration}/mse.json",
        x0="results/analysis/{dataset}/{target}-{weighting}/seed{seed}/{iteration}/x0.npz",
    log:
        "results/logs/analysis/{dataset}/{target}-{weighting}/seed{seed}/{iteration}.log",
    retries: job_retries("analysis")
    conda:
        HARNESS_ENV
    threads: res("analysis", "cpus")
    resources:
        **job_resources("analysis"),
    params:
        launch=lambda wc, resources: launcher(resources),
        device=lambda wc, resources: device_option(resources),
        num_images=config["analysis"]["num_images"],
        stride=config["analysis"]["stride"],
        seed=config["analysis"]["seed"],
    shell:
        "{params.launch} analyze {params.device} --checkpoint {input.checkpoint} --data {input.images}"
        " --out-mse {output.mse} --out-x0 {output.x0} --num-images {params.num_images}"
        " --stride {params.stride} --seed {params.seed} > {log} 2>&1"
