# What the report shows beyond each stage's own figures: every model's validation (a table, ROC per spatial fold
# and feature importance), the class-stability maps and the comprehensive zoning map.
_STABILITY = [o for o in STAGE_OUTPUTS if o.endswith("_stability.tif")]
_COMPREHENSIVE = [o for o in STAGE_OUTPUTS if o == res("zoning", "comprehensive.tif")]
_REVIEW_PNGS = {"stability": [res("figures", "stability.png")] if _STABILITY else [],
                "comprehensive": [res("figures", "zoning_comprehensive.png")] if _COMPREHENSIVE else []}

if has_inputs():

    rule report_figures:
        message:
            "Report figures: model validation (ROC per spatial fold, importance), class stability, comprehensive zoning"
        input:
            metrics=expand(res("models", "{hazard}", "metrics.json"), hazard=HAZARDS),
            samples=expand(res("models", "{hazard}", "cv_samples.csv"), hazard=MODEL_HAZARDS),
            stability=_STABILITY,
            comprehensive=_COMPREHENSIVE,
            grid=res("grid", "grid.json"),
        output:
            table=report(res("models", "validation.csv"), caption="../report/tables/model_validation.rst",
                         category="Models 模型"),
            models=[
                report(res("figures", f"model_{h}.png"), caption="../report/model_validation.rst",
                       category="Models 模型", labels={"hazard": h, "file": f"figures/model_{h}.png"})
                for h in HAZARDS
            ],
            stability=[
                report(p, caption="../report/stability_maps.rst", category="Uncertainty 不确定性")
                for p in _REVIEW_PNGS["stability"]
            ],
            comprehensive=[
                report(p, caption="../report/zoning/comprehensive.rst", category="Risk zoning 风险区划",
                       labels={"hazard": "comprehensive"})
                for p in _REVIEW_PNGS["comprehensive"]
            ],
        params:
            hazards=list(HAZARDS),
            model_hazards=MODEL_HAZARDS,
            area_name=config["area_name"],
        log:
            str(LOGS / "report_figures.log"),
        threads: 1  # single-threaded
        resources:
            mem_mb=1000,
        conda:
            "../envs/risk.yaml"
        script:
            "../scripts/report_figures.py"

    STAGE_OUTPUTS.extend([res("models", "validation.csv"), *expand(res("figures", "model_{hazard}.png"),
                                                                    hazard=HAZARDS), *sum(_REVIEW_PNGS.values(), [])])


# The reviewers' notebooks (notebooks/*.ipynb), executed on this run's results and written as HTML with their
# figures: results/notebooks/<name>.html, and executed: <name>.ipynb. Each reads only its stage's outputs, so it runs as soon as they exist.
rule notebook:
    message:
        "Reviewers' notebook {wildcards.notebook}: executed on this run's results, written as HTML"
    input:
        notebook=str(REPO / "notebooks" / "{notebook}.ipynb"),
        results=notebook_inputs,
    output:
        html=res("notebooks", "{notebook}.html"),
        ipynb=res("notebooks", "{notebook}.ipynb"),
    params:
        results=str(RESULTS.resolve()),
        area_name=config["area_name"],
    log:
        str(LOGS / "notebook_{notebook}.log"),
    wildcard_constraints:
        notebook="|".join(NOTEBOOK_STAGES),
    threads: 1  # one kernel
    resources:
        mem_mb=1500,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/notebook.py"


STAGE_OUTPUTS.extend(res("notebooks", f"{n}.{ext}") for n in notebooks_of_run() for ext in ("html", "ipynb"))



# The run's provenance manifest.


rule manifest:
    message:
        "Writing the provenance manifest"
    input:
        outputs=all_outputs(),
        inputs=provenance_inputs(),
    output:
        res("manifest.json"),
    params:
        config=config,
        dask=dask_params,
    log:
        str(LOGS / "manifest.log"),
    threads: 1  # single-threaded
    resources:
        mem_mb=1000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/manifest.py"
