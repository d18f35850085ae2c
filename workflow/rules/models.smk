# Hazard models (trained susceptibility with spatial CV, or AHP/entropy indices), risk per hazard and
# multi-hazard, township tables, the risk register and the class stability of the zones (docs/models.md).

rule train_susceptibility:
    message:
        "Training the {wildcards.hazard} susceptibility model (spatial block CV) and predicting the grid"
    wildcard_constraints:
        hazard="|".join(MODEL_HAZARDS) or NEVER,
    input:
        features=feature_paths,
        presence=presence_path,
        grid=res("grid", "grid.json"),
        aoi=res("grid", "aoi_mask.tif"),
    output:
        metrics=res("models", "{hazard}", "metrics.json"),
        model=res("models", "{hazard}", "model.joblib"),
        samples=res("models", "{hazard}", "cv_samples.csv"),
        hazard=res("hazard", "{hazard}.tif"),
        qml=res("hazard", "{hazard}.qml"),
    params:
        hazard="{hazard}",
        settings=hazard_settings,
        training=config["hazards"]["training"],
        index_sample_size=config["hazards"]["index"]["sample_size"],
        normalize=config["indicators"]["normalize"],
        presence_layer=presence_layer,
        presence_desc=presence_desc,
        dask=dask_params(),
    log:
        str(LOGS / "train_susceptibility_{hazard}.log"),
    benchmark:
        str(BENCH / "train_susceptibility_{hazard}.tsv")
    priority: 30  # on the critical path: start it as soon as it can run
    threads: 1
    resources:
        mem_mb=3000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/train_susceptibility.py"


rule index_hazard:
    message:
        "Weighting the {wildcards.hazard} indicators into a hazard index ({params.settings[weights]} weights)"
    wildcard_constraints:
        hazard="|".join(INDEX_HAZARDS) or NEVER,
    input:
        features=feature_paths,
        grid=res("grid", "grid.json"),
        aoi=res("grid", "aoi_mask.tif"),
    output:
        metrics=res("models", "{hazard}", "metrics.json"),
        model=res("models", "{hazard}", "model.joblib"),
        hazard=res("hazard", "{hazard}.tif"),
        qml=res("hazard", "{hazard}.qml"),
    params:
        hazard="{hazard}",
        settings=hazard_settings,
        sample_size=config["hazards"]["index"]["sample_size"],
        normalize=config["indicators"]["normalize"],
        dask=dask_params(),
    log:
        str(LOGS / "index_hazard_{hazard}.log"),
    benchmark:
        str(BENCH / "index_hazard_{hazard}.tsv")
    priority: 30  # on the critical path: start it as soon as it can run
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/index_hazard.py"


rule combine_risk:
    message:
        "Risk per hazard ({params.risk[formula]} of hazard, exposure, vulnerability) and multi-hazard risk "
        "({params.risk[multi_hazard][rule]})"
    input:
        hazards=expand(res("hazard", "{hazard}.tif"), hazard=HAZARDS),
        exposure=res("exposure", "exposure.tif"),
        vulnerability=res("vulnerability", "vulnerability.tif"),
        grid=res("grid", "grid.json"),
    output:
        risks=expand(res("risk", "{hazard}.tif"), hazard=HAZARDS),
        qml=expand(res("risk", "{hazard}.qml"), hazard=HAZARDS),
        multi=res("risk", "multi_hazard.tif"),
        multi_qml=res("risk", "multi_hazard.qml"),
    params:
        hazards=list(HAZARDS),
        risk=config["risk"],
        dask=dask_params(),
    log:
        str(LOGS / "combine_risk.log"),
    benchmark:
        str(BENCH / "combine_risk.tsv")
    priority: 30  # on the critical path: start it as soon as it can run
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/combine_risk.py"


rule risk_register:
    message:
        "Risk register: every surveyed point with its hazards, vulnerability, risk and level, ranked"
    input:
        survey=res("survey", "survey.gpkg"),
        hazards=expand(res("hazard", "{hazard}.tif"), hazard=HAZARDS),
        zones=expand(res("zoning", "{hazard}.tif"), hazard=HAZARDS),
        multi_zone=res("zoning", "multi_hazard.tif"),
        exposure=res("exposure", "exposure.tif"),
        vulnerability=res("vulnerability", "vulnerability.tif"),
        vulnerability_points=res("vulnerability", "points.gpkg"),
        grid=res("grid", "grid.json"),
    output:
        gpkg=res("points", "risk_register.gpkg"),
        csv=res("points", "risk_register.csv"),
    params:
        hazards=list(HAZARDS),
        risk=config["risk"],
        dask=dask_params(),
    log:
        str(LOGS / "risk_register.log"),
    benchmark:
        str(BENCH / "risk_register.tsv")
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/risk_register.py"


STAGE_OUTPUTS.extend(
    expand(res("models", "{hazard}", "{f}"), hazard=HAZARDS, f=["metrics.json", "model.joblib"])
    + expand(res("hazard", "{hazard}.tif"), hazard=HAZARDS)
    + expand(res("risk", "{zoned}.tif"), zoned=ZONED)
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
            csv=res("zoning", "townships.csv"),
        params:
            zoned=ZONED,
            name_field=config["risk"]["township_name_field"],
            dask=dask_params(),
        log:
            str(LOGS / "township_tables.log"),
        benchmark:
            str(BENCH / "township_tables.tsv")
        threads: 1
        resources:
            mem_mb=2000,
        conda:
            "../envs/risk.yaml"
        script:
            "../scripts/township_tables.py"

    STAGE_OUTPUTS.extend([res("zoning", "townships.gpkg"), res("zoning", "townships.csv")])


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
            uncertainty=config["uncertainty"],
            dask=dask_params(),
        log:
            str(LOGS / "class_stability.log"),
        benchmark:
            str(BENCH / "class_stability.tsv")
        threads: 2
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
                csv=res("uncertainty", "townships_stability.csv"),
            params:
                zoned=ZONED,
                name_field=config["risk"]["township_name_field"],
                stable_threshold=config["uncertainty"]["stable_threshold"],
            log:
                str(LOGS / "uncertainty_summary.log"),
            benchmark:
                str(BENCH / "uncertainty_summary.tsv")
            threads: 1
            resources:
                mem_mb=1000,
            conda:
                "../envs/risk.yaml"
            script:
                "../scripts/uncertainty_summary.py"

        STAGE_OUTPUTS.append(res("uncertainty", "townships_stability.csv"))
