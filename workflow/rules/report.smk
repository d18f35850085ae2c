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
