# The one analysis grid of the run, and the AOI mask on it.


rule build_grid:
    message:
        "Deriving the analysis grid ({params.crs}, {params.resolution} m) from {input.aoi}"
    input:
        aoi=config["aoi"],
        checked=res("validation_warnings.csv"),
    output:
        grid=res("grid", "grid.json"),
        mask=res("grid", "aoi_mask.tif"),
    params:
        crs=config["grid"]["crs"],
        resolution=config["grid"]["resolution"],
        chunk_size=config["grid"]["chunk_size"],
        pad_cells=config["grid"]["pad_cells"],
        dask=dask_params,
    log:
        str(LOGS / "build_grid.log"),
    benchmark:
        str(BENCH / "build_grid.tsv")
    threads: SIDE_BY_SIDE_THREADS  # see common.smk
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/build_grid.py"
