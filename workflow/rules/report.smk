# report: every cell JSON, analysis and training status + the paper's numbers -> reports/report.html,
# with its tables (CSV) and figures (PNG) in reports/assets/, each registered for `snakemake --report`.


rule plan:
    output:
        "results/plan.json",
    log:
        "results/logs/plan.log",
    resources:
        **job_resources("report"),
    params:
        plan=lambda wc: wp.plan_json(config, PLAN, code_commit()),
    run:
        wp.write_plan(params.plan, output[0], log[0])


rule report:
    input:
        plan="results/plan.json",
        metrics=[c.metrics_path() for c in CELLS],
        grids=[c.grid_path() for c in CELLS],
        analysis=[a[k] for a in PLAN.analysis for k in ("mse", "x0")],
        released=[wp.record_path(arm) for arm in RELEASED],
        # Each run's last checkpoint: its last job also wrote status.json (read via plan.json).
        checkpoints=[
            wp.checkpoint_path(config, run, max(wp.eval_iterations(config, PLAN, run)))
            for run in RUNS
        ],
    output:
        html=report(
            "reports/report.html",
            category="Report",
            caption="../report/report.rst",
        ),
        assets=report(
            directory("reports/assets"),
            patterns=["{name}.png", "{name}.csv"],
            category=lambda wc: "Tables" if wc.name.startswith("table") else "Figures",
            labels={"file": "{name}"},
            caption="../report/assets.rst",
        ),
    log:
        "results/logs/report.log",
    retries: job_retries("report")
    conda:
        HARNESS_ENV
    threads: res("report", "cpus")
    resources:
        **job_resources("report"),
    shell:
        "harness report --plan {input.plan} --out {output.html} > {log} 2>&1"


localrules:
    plan,
    report,
