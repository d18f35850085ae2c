# The disaster-prevention database: survey files in, one layer per category plus `rejected` out.


rule ingest_survey:
    message:
        "Ingesting {params.n} survey file(s) into {output.gpkg}"
    input:
        sources=survey_source_paths(),
        aoi=config["aoi"],
        checked=res("validation_warnings.csv"),
    output:
        gpkg=res("survey", "survey.gpkg"),
        report=report(res("survey", "ingest_report.csv"), caption="../report/tables/ingest_report.rst",
                      category="Survey 承灾体调查"),
    params:
        sources=config["survey"]["sources"],
        n=len(config["survey"]["sources"]),
        crs=config["grid"]["crs"],
        tolerance_m=config["survey"]["aoi_tolerance_m"],
        root=".",
        dask=dask_params,
    log:
        str(LOGS / "ingest_survey.log"),
    benchmark:
        str(BENCH / "ingest_survey.tsv")
    threads: 1  # single-threaded
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/ingest_survey.py"
