# Models stage: the hazard of each hazard, trained (susceptibility with spatial block CV) where events or
# survey points label it, an index model (AHP / entropy weights) where nothing does (risk/models/,
# docs/models.md).


rule susceptibility:
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
        dask=dask_params,
    log:
        str(LOGS / "susceptibility_{hazard}.log"),
    benchmark:
        str(BENCH / "susceptibility_{hazard}.tsv")
    priority: 30  # on the critical path: start it as soon as it can run
    threads: SIDE_BY_SIDE_THREADS  # see common.smk
    resources:
        mem_mb=3000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/susceptibility.py"


rule index_model:
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
        dask=dask_params,
    log:
        str(LOGS / "index_model_{hazard}.log"),
    benchmark:
        str(BENCH / "index_model_{hazard}.tsv")
    priority: 30  # on the critical path: start it as soon as it can run
    threads: SIDE_BY_SIDE_THREADS  # see common.smk
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/index_model.py"


STAGE_OUTPUTS.extend(
    expand(res("models", "{hazard}", "{f}"), hazard=HAZARDS, f=["metrics.json", "model.joblib"])
    + expand(res("hazard", "{hazard}.tif"), hazard=HAZARDS)
)
