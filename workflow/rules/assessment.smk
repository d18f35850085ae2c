# Assessment stage: exposure and vulnerability, risk per hazard and multi-hazard, five-level zoning
# (QGIS-ready COGs with colour table and bilingual .qml) and maps, the risk register, township tables and
# the class stability of the zones (risk/assessment/, docs/models.md).


rule exposure:
    message:
        "Exposure: population, built-up share, survey-point density and their 0-1 index"
    input:
        grid=res("grid", "grid.json"),
        mask=res("grid", "aoi_mask.tif"),
        population=input_path("population"),
        built_up_share=res("indicators", "waterlogging", "built_up_share.tif"),
        survey_density=[res("indicators", "survey", f"{c}_density.tif") for c in CATEGORIES],
    output:
        population=res("exposure", "population.tif"),
        built_up=res("exposure", "built_up.tif"),
        survey_points=res("exposure", "survey_points.tif"),
        exposure=res("exposure", "exposure.tif"),
    params:
        weights=config["exposure"]["weights"],
        transforms=config["exposure"]["transforms"],
        normalize=config["indicators"]["normalize"],
        sigma_m=config["indicators"]["survey_density_sigma_m"],
        dask=dask_params,
    log:
        str(LOGS / "exposure.log"),
    benchmark:
        str(BENCH / "exposure.tsv")
    priority: 40  # on the critical path: start it as soon as it can run
    threads: SIDE_BY_SIDE_THREADS  # see common.smk
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/exposure.py"


rule vulnerability:
    message:
        "Vulnerability of the surveyed points and its raster"
    input:
        survey=res("survey", "survey.gpkg"),
        grid=res("grid", "grid.json"),
        mask=res("grid", "aoi_mask.tif"),
        landcover=input_path("landcover"),
        site=[res("indicators", "terrain", f"{n}.tif") for n in config["vulnerability"]["site_layers"]],
    output:
        points=res("vulnerability", "points.gpkg"),
        raster=res("vulnerability", "vulnerability.tif"),
    params:
        hazards=list(HAZARDS),
        site_layers=config["vulnerability"]["site_layers"],
        categories=config["vulnerability"]["categories"],
        landcover=config["vulnerability"]["landcover"],
        landcover_classes=config["landcover_classes"],
        sigma_m=config["vulnerability"]["sigma_m"],
        reference_date=config["vulnerability"]["reference_date"],
        rectified=config["scenario"]["rectified"],
        rectification=rectification_params(config),
        dask=dask_params,
    log:
        str(LOGS / "vulnerability.log"),
    benchmark:
        str(BENCH / "vulnerability.tsv")
    priority: 40  # on the critical path: start it as soon as it can run
    threads: SIDE_BY_SIDE_THREADS  # see common.smk
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/vulnerability.py"


rule hazard_exposure:
    message:
        "Exposure and vulnerability per hazard: people and the surveyed structures each hazard acts on"
    input:
        grid=res("grid", "grid.json"),
        mask=res("grid", "aoi_mask.tif"),
        population=input_path("population"),
        landcover=input_path("landcover"),
        points=res("vulnerability", "points.gpkg"),
        # exposure.on_slopes: the terrain of the slope hazards' reach
        **({"slope": res("indicators", "terrain", "slope.tif"), "dem": input_path("dem")}
           if config["exposure"]["on_slopes"] else {}),
    output:
        exposure=expand(res("exposure", "by_hazard", "{hazard}.tif"), hazard=HAZARDS),
        vulnerability=expand(res("vulnerability", "by_hazard", "{hazard}.tif"), hazard=HAZARDS),
    params:
        hazards=list(HAZARDS),
        landcover_classes=config["landcover_classes"],
        people_landcover=config["vulnerability"]["people_landcover"],
        asset_value=config["exposure"]["asset_value"],
        asset_sigma_m=config["exposure"]["asset_sigma_m"],
        on_slopes=config["exposure"]["on_slopes"],
        category_hazards=config["risk"]["category_hazards"],
        dask=dask_params,
    log:
        str(LOGS / "hazard_exposure.log"),
    benchmark:
        str(BENCH / "hazard_exposure.tsv")
    priority: 40  # on the critical path: start it as soon as it can run
    threads: SIDE_BY_SIDE_THREADS  # see common.smk
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/hazard_exposure.py"


rule combine_risk:
    message:
        "Risk per hazard ({params.risk[method]} of hazard, exposure, vulnerability) and multi-hazard risk "
        "({params.risk[multi_hazard][rule]})"
    input:
        hazards=expand(res("hazard", "{hazard}.tif"), hazard=HAZARDS),
        exposure=res("exposure", "exposure.tif"),
        vulnerability=res("vulnerability", "vulnerability.tif"),
        hazard_exposure=expand(res("exposure", "by_hazard", "{hazard}.tif"), hazard=HAZARDS),
        hazard_vulnerability=expand(res("vulnerability", "by_hazard", "{hazard}.tif"), hazard=HAZARDS),
        grid=res("grid", "grid.json"),
    output:
        risks=expand(res("risk", "{hazard}.tif"), hazard=HAZARDS),
        qml=expand(res("risk", "{hazard}.qml"), hazard=HAZARDS),
        multi=res("risk", "multi_hazard.tif"),
        multi_qml=res("risk", "multi_hazard.qml"),
    params:
        hazards=list(HAZARDS),
        risk=config["risk"],
        hazard_method=config["hazard_zoning"]["method"],
        dask=dask_params,
    log:
        str(LOGS / "combine_risk.log"),
    benchmark:
        str(BENCH / "combine_risk.tsv")
    priority: 30  # on the critical path: start it as soon as it can run
    threads: SIDE_BY_SIDE_THREADS  # see common.smk
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/combine_risk.py"


rule zoning:
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
                caption=f"../report/zoning/{zoned}.rst",  # one per map: a caption cannot see which file it is
                category=ZONING_CATEGORY,
                subcategory=zoning_subcategory(zoned),  # beside the hazard zoning of the same hazard
                labels={"hazard": zoned, "zoning": "风险区划 risk"},
            )
            for zoned in ZONED
        ],
    params:
        names=ZONED,
        n=len(ZONED),
        method=config["zoning"]["method"],
        thresholds=config["zoning"]["thresholds"],
        sample_size=config["zoning"]["sample_size"],
        exposed_only=config["zoning"]["exposed_only"],
        log_breaks=config["zoning"]["log_breaks"],
        area_name=config["area_name"],
        dask=dask_params,
    log:
        str(LOGS / "zoning.log"),
    benchmark:
        str(BENCH / "zoning.tsv")
    priority: 20  # on the critical path: start it as soon as it can run
    threads: SIDE_BY_SIDE_THREADS  # see common.smk
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/zoning.py"


rule hazard_zoning:
    message:
        "Hazard zoning (危险性/易发性区划) of {params.n} hazards ({params.hazard_zoning[method]}) and their maps"
    input:
        hazards=expand(res("hazard", "{hazard}.tif"), hazard=HAZARDS),
        grid=res("grid", "grid.json"),
        townships=input_path("townships"),
    output:
        tif=expand(res("zoning", "hazard", "{hazard}.tif"), hazard=HAZARDS),
        qml=expand(res("zoning", "hazard", "{hazard}.qml"), hazard=HAZARDS),
        png=[
            report(
                res("figures", f"hazard_zoning_{h}.png"),
                caption="../report/hazard_zoning_map.rst",
                category=ZONING_CATEGORY,
                subcategory=zoning_subcategory(h),
                labels={"hazard": h, "zoning": "危险性区划 hazard"},
            )
            for h in HAZARDS
        ],
    params:
        hazards=list(HAZARDS),
        n=len(HAZARDS),
        hazard_zoning=config["hazard_zoning"],
        area_name=config["area_name"],
        dask=dask_params,
    log:
        str(LOGS / "hazard_zoning.log"),
    benchmark:
        str(BENCH / "hazard_zoning.tsv")
    threads: SIDE_BY_SIDE_THREADS  # see common.smk
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/hazard_zoning.py"


rule risk_register:
    message:
        "Risk register: every surveyed point with its hazards, vulnerability, risk and level, ranked"
    input:
        survey=res("survey", "survey.gpkg"),
        hazards=expand(res("hazard", "{hazard}.tif"), hazard=HAZARDS),
        risks=expand(res("risk", "{hazard}.tif"), hazard=HAZARDS),
        zones=expand(res("zoning", "{hazard}.tif"), hazard=HAZARDS),
        multi_zone=res("zoning", "multi_hazard.tif"),
        exposure=res("exposure", "exposure.tif"),
        vulnerability=res("vulnerability", "vulnerability.tif"),
        vulnerability_points=res("vulnerability", "points.gpkg"),
        grid=res("grid", "grid.json"),
        # followup.previous: each point's history across survey rounds (rule survey_changes)
        history=[res("changes", "point_history.csv")] if config["followup"]["previous"] else [],
    output:
        gpkg=res("points", "risk_register.gpkg"),
        csv=report(res("points", "risk_register.csv"), caption="../report/tables/risk_register.rst",
                   category="Risk register 风险隐患点"),
    params:
        hazards=list(HAZARDS),
        risk=config["risk"],
        dask=dask_params,
    log:
        str(LOGS / "risk_register.log"),
    benchmark:
        str(BENCH / "risk_register.tsv")
    threads: SIDE_BY_SIDE_THREADS  # see common.smk
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/risk_register.py"


STAGE_OUTPUTS.extend(
    [res("exposure", f"{n}.tif") for n in ("population", "built_up", "survey_points", "exposure")]
    + [res("vulnerability", "points.gpkg"), res("vulnerability", "vulnerability.tif")]
    + expand(res("{kind}", "by_hazard", "{hazard}.tif"), kind=["exposure", "vulnerability"], hazard=HAZARDS)
    + expand(res("zoning", "hazard", "{hazard}.{ext}"), hazard=HAZARDS, ext=["tif", "qml"])
    + expand(res("figures", "hazard_zoning_{hazard}.png"), hazard=HAZARDS)
    + expand(res("risk", "{zoned}.tif"), zoned=ZONED)
    + expand(res("zoning", "{zoned}.{ext}"), zoned=ZONED, ext=["tif", "qml"])
    + expand(res("figures", "zoning_{zoned}.png"), zoned=ZONED)
    + [res("points", "risk_register.gpkg"), res("points", "risk_register.csv")]
)


if config["inputs"].get("townships"):

    rule township_tables:
        message:
            "Township tables: zone shares, mean risk, people and survey points by zone (exactextract)"
        input:
            townships=input_path("townships"),
            zones=expand(res("zoning", "{zoned}.tif"), zoned=ZONED),
            risks=expand(res("risk", "{zoned}.tif"), zoned=ZONED),
            population=input_path("population"),
            aoi=res("grid", "aoi_mask.tif"),
            survey=res("survey", "survey.gpkg"),
            grid=res("grid", "grid.json"),
        output:
            gpkg=res("zoning", "townships.gpkg"),
            csv=report(res("zoning", "townships.csv"), caption="../report/tables/townships.rst",
                       category=ZONING_CATEGORY, subcategory="乡镇统计 Township tables"),
        params:
            zoned=ZONED,
            name_field=config["risk"]["township_name_field"],
            dask=dask_params,
        log:
            str(LOGS / "township_tables.log"),
        benchmark:
            str(BENCH / "township_tables.tsv")
        threads: SIDE_BY_SIDE_THREADS  # see common.smk
        resources:
            mem_mb=2000,
        conda:
            "../envs/risk.yaml"
        script:
            "../scripts/township_tables.py"

    STAGE_OUTPUTS.extend([res("zoning", "townships.gpkg"), res("zoning", "townships.csv")])


if config["inputs"].get("townships") and config["inputs"].get("disasters"):

    rule risk_validation:
        message:
            "Validating the risk of every hazard against the disaster record (历史灾情), beside simple baselines"
        input:
            disasters=input_path("disasters"),
            townships=input_path("townships"),
            population=input_path("population"),
            risks=expand(res("risk", "{hazard}.tif"), hazard=HAZARDS),
            exposures=expand(res("exposure", "by_hazard", "{hazard}.tif"), hazard=HAZARDS),
            hazards=expand(res("hazard", "{hazard}.tif"), hazard=HAZARDS),
            zones=expand(res("zoning", "{hazard}.tif"), hazard=HAZARDS),
            grid=res("grid", "grid.json"),
        output:
            json=res("validation", "risk_validation.json"),
            csv=report(res("validation", "risk_validation.csv"), caption="../report/risk_validation.rst",
                       category=ZONING_CATEGORY, subcategory="检验 Validation against recorded harm",
                       labels={"what": "table 表"}),
            png=report(res("figures", "risk_validation.png"), caption="../report/risk_validation.rst",
                       category=ZONING_CATEGORY, subcategory="检验 Validation against recorded harm",
                       labels={"what": "figure 图"}),
        params:
            hazards=list(HAZARDS),
            name_field=config["risk"]["township_name_field"],
            harm_column=config["validation"]["harm_column"],
            top_area_share=config["validation"]["top_area_share"],
            area_name=config["area_name"],
            dask=dask_params,
        log:
            str(LOGS / "risk_validation.log"),
        benchmark:
            str(BENCH / "risk_validation.tsv")
        threads: SIDE_BY_SIDE_THREADS  # see common.smk
        resources:
            mem_mb=1500,
        conda:
            "../envs/risk.yaml"
        script:
            "../scripts/risk_validation.py"

    STAGE_OUTPUTS.extend([res("validation", f"risk_validation.{e}") for e in ("json", "csv")]
                         + [res("figures", "risk_validation.png")])


if config["uncertainty"]["enabled"]:

    rule class_stability:
        message:
            "Class stability of the zones under ±{params.uncertainty[spread]} weight perturbation "
            "({params.uncertainty[n_draws]} draws)"
        input:
            metrics=expand(res("models", "{hazard}", "metrics.json"), hazard=HAZARDS),
            hazards=expand(res("hazard", "{hazard}.tif"), hazard=HAZARDS),
            indicators=stability_indicators(),
            exposure=res("exposure", "exposure.tif"),
            vulnerability=res("vulnerability", "vulnerability.tif"),
            hazard_exposure=expand(res("exposure", "by_hazard", "{hazard}.tif"), hazard=HAZARDS),
            hazard_vulnerability=expand(res("vulnerability", "by_hazard", "{hazard}.tif"), hazard=HAZARDS),
            zones=expand(res("zoning", "{zoned}.tif"), zoned=ZONED),
            grid=res("grid", "grid.json"),
        output:
            tifs=expand(res("uncertainty", "{zoned}_stability.tif"), zoned=ZONED),
            infos=expand(res("uncertainty", "{zoned}_stability.json"), zoned=ZONED),
        params:
            hazards=list(HAZARDS),
            zoned=ZONED,
            indicator_keys=stability_indicator_keys(),
            risk=config["risk"],
            hazard_method=config["hazard_zoning"]["method"],  # the hazard levels of risk.method matrix
            uncertainty=config["uncertainty"],
            dask=dask_params,
        log:
            str(LOGS / "class_stability.log"),
        benchmark:
            str(BENCH / "class_stability.tsv")
        threads: RASTER_THREADS  # its Dask workers
        resources:
            mem_mb=3000,
        conda:
            "../envs/risk.yaml"
        script:
            "../scripts/class_stability.py"

    STAGE_OUTPUTS.extend(expand(res("uncertainty", "{zoned}_stability.{ext}"), zoned=ZONED, ext=["tif", "json"]))

    if config["inputs"].get("townships"):

        rule uncertainty_summary:
            message:
                "Class stability per township"
            input:
                stability=expand(res("uncertainty", "{zoned}_stability.tif"), zoned=ZONED),
                townships=input_path("townships"),
                grid=res("grid", "grid.json"),
            output:
                csv=report(res("uncertainty", "townships_stability.csv"),
                           caption="../report/tables/townships_stability.rst", category="Uncertainty 不确定性"),
            params:
                zoned=ZONED,
                name_field=config["risk"]["township_name_field"],
                stable_threshold=config["uncertainty"]["stable_threshold"],
                dask=dask_params,
            log:
                str(LOGS / "uncertainty_summary.log"),
            benchmark:
                str(BENCH / "uncertainty_summary.tsv")
            threads: 1  # single-threaded
            resources:
                mem_mb=1000,
            conda:
                "../envs/risk.yaml"
            script:
                "../scripts/uncertainty_summary.py"

        STAGE_OUTPUTS.append(res("uncertainty", "townships_stability.csv"))
