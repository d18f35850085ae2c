# Five-level risk zones (QGIS-ready COGs with colour table and bilingual .qml).


wildcard_constraints:
    zoned="|".join(ZONED),


rule zone:
    message:
        "Zoning {wildcards.zoned} risk into five levels ({params.method})"
    input:
        index=res("risk", "{zoned}.tif"),
        grid=res("grid", "grid.json"),
    output:
        tif=res("zoning", "{zoned}.tif"),
        qml=res("zoning", "{zoned}.qml"),
    params:
        method=config["zoning"]["method"],
        thresholds=config["zoning"]["thresholds"],
        sample_size=config["zoning"]["sample_size"],
        dask=dask_params(),
    log:
        str(LOGS / "zone_{zoned}.log"),
    benchmark:
        str(BENCH / "zone_{zoned}.tsv")
    threads: 2
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/zone.py"


STAGE_OUTPUTS.extend(expand(res("zoning", "{zoned}.{ext}"), zoned=ZONED, ext=["tif", "qml"]))
