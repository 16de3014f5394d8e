# report: every cell JSON, analysis and training status + the paper's numbers -> reports/report.html.

rule plan:
    output:
        "results/plan.json",
    params:
        plan=lambda wc: wp.plan_json(config, PLAN, code_commit()),
    log:
        "results/logs/plan.log",
    resources:
        **slurm("report"),
    run:
        wp.write_plan(params.plan, output[0], log[0])


rule report:
    input:
        plan="results/plan.json",
        metrics=[c.metrics_path() for c in CELLS],
        grids=[c.grid_path() for c in CELLS],
        analysis=[a[k] for a in PLAN.analysis for k in ("mse", "x0")],
        status=[f"{wp.run_dir(run)}/status.json" for run in RUNS],
    output:
        report(
            "reports/report.html",
            category="Report",
            caption="../report/report.rst",
        ),
    log:
        "results/logs/report.log",
    threads: res("report", "cpus")
    resources:
        **slurm("report"),
    shell:
        "harness report --plan {input.plan} --out {output} > {log} 2>&1"


localrules:
    plan,
    report,
