# analysis: an EMA checkpoint -> per-timestep MSE curve (Fig. 4, 10) and one-step x0 estimates (Fig. 3).


rule analyze:
    input:
        status="results/train/{dataset}/{target}-{weighting}/seed{seed}/status.json",
        manifest="results/data/{dataset}.json",
    output:
        mse="results/analysis/{dataset}/{target}-{weighting}/seed{seed}/{iteration}/mse.json",
        x0="results/analysis/{dataset}/{target}-{weighting}/seed{seed}/{iteration}/x0.npz",
    params:
        checkpoint=checkpoint_path,
        data=lambda wc, input: input.manifest.removesuffix(".json"),
        num_images=config["analysis"]["num_images"],
        stride=config["analysis"]["stride"],
        seed=config["analysis"]["seed"],
    log:
        "results/logs/analysis/{dataset}/{target}-{weighting}/seed{seed}/{iteration}.log",
    threads: res("analysis", "cpus")
    resources:
        **slurm("analysis"),
    shell:
        "harness analyze --checkpoint {params.checkpoint} --data {params.data}"
        " --out-mse {output.mse} --out-x0 {output.x0} --num-images {params.num_images}"
        " --stride {params.stride} --seed {params.seed} > {log} 2>&1"
