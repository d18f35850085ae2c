# The demo inputs: generated from the AOI so that the repository ships no large data.


if config["demo"]["enabled"]:

    rule demo:
        message:
            "Generating synthetic demo inputs for {input.aoi} (seed {params.seed})"
        input:
            aoi=config["aoi"],
        output:
            demo_outputs(),
            config=str(Path(config["demo"]["out"]) / "config.yaml"),
        params:
            seed=config["demo"]["seed"],
            crs=config["grid"]["crs"],
            res=config["grid"]["resolution"],
            dask=dask_params,
        log:
            str(LOGS / "demo.log"),
        benchmark:
            str(BENCH / "demo.tsv")
        threads: 1  # single-threaded
        resources:
            mem_mb=4000,
        conda:
            "../envs/risk.yaml"
        script:
            "../scripts/demo.py"
