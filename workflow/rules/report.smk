# Maps for the report, and the run's provenance manifest.


rule zoning_map:
    message:
        "Drawing the {wildcards.zoned} zoning map"
    input:
        zones=res("zoning", "{zoned}.tif"),
        townships=input_path("townships"),
    output:
        png=report(
            res("figures", "zoning_{zoned}.png"),
            caption="../report/zoning_map.rst",
            category="Risk zoning 风险区划",
            labels={"hazard": "{zoned}"},
        ),
    params:
        area_name=config["area_name"],
    log:
        str(LOGS / "zoning_map_{zoned}.log"),
    benchmark:
        str(BENCH / "zoning_map_{zoned}.tsv")
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/zoning_map.py"


STAGE_OUTPUTS.extend(expand(res("figures", "zoning_{zoned}.png"), zoned=ZONED))


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
    log:
        str(LOGS / "manifest.log"),
    threads: 1
    resources:
        mem_mb=1000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/manifest.py"
