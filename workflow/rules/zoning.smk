# Five-level risk zones (QGIS-ready COGs with colour table and bilingual .qml) and their maps.
# One job zones every hazard: each zoning is seconds of work, and a job costs seconds of start-up.


rule zone:
    message:
        "Zoning {params.n} risk indices into five levels ({params.method}) and drawing their maps"
    input:
        index=expand(res("risk", "{zoned}.tif"), zoned=ZONED),
        grid=res("grid", "grid.json"),
        townships=input_path("townships"),
    output:
        tif=expand(res("zoning", "{zoned}.tif"), zoned=ZONED),
        qml=expand(res("zoning", "{zoned}.qml"), zoned=ZONED),
        png=[
            report(
                res("figures", f"zoning_{zoned}.png"),
                caption="../report/zoning_map.rst",
                category="Risk zoning 风险区划",
                labels={"hazard": zoned},
            )
            for zoned in ZONED
        ],
    params:
        names=ZONED,
        n=len(ZONED),
        method=config["zoning"]["method"],
        thresholds=config["zoning"]["thresholds"],
        sample_size=config["zoning"]["sample_size"],
        area_name=config["area_name"],
        dask=dask_params(),
    log:
        str(LOGS / "zone.log"),
    benchmark:
        str(BENCH / "zone.tsv")
    priority: 20  # on the critical path: start it as soon as it can run
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/zone.py"


STAGE_OUTPUTS.extend(
    expand(res("zoning", "{zoned}.{ext}"), zoned=ZONED, ext=["tif", "qml"])
    + expand(res("figures", "zoning_{zoned}.png"), zoned=ZONED)
)
