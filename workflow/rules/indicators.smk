# Indicator stage: terrain from the DEM, per-hazard indicator rasters, survey-point rasters,
# exposure, vulnerability and the configurable-weight hazard indices (docs/indicators.md).
from risk import CATEGORIES
from risk.indicators import INDICATORS
from risk.terrain import TERRAIN_LAYERS

INDICATOR_FILES = [res("indicators", h, f"{i.name}.tif") for h, inds in INDICATORS.items() for i in inds]
SURVEY_RASTERS = [res("indicators", "survey", f"{c}_{k}.tif") for c in CATEGORIES for k in ("density", "distance")]


rule terrain:
    message:
        "Terrain layers from {input.dem} (flow tiles {params.flow_tile} + {params.flow_halo} cells)"
    input:
        dem=input_path("dem"),
        grid=res("grid", "grid.json"),
        mask=res("grid", "aoi_mask.tif"),
    output:
        **{name: res("indicators", "terrain", f"{name}.tif") for name in TERRAIN_LAYERS},
    params:
        relief_radius_m=config["indicators"]["relief_radius_m"],
        flow_tile=config["indicators"]["flow_tile"],
        flow_halo=config["indicators"]["flow_halo"],
        twi_min_tan=config["indicators"]["twi_min_tan"],
        normalize=config["indicators"]["normalize"],
        dask=dask_params(),
    log:
        str(LOGS / "terrain.log"),
    benchmark:
        str(BENCH / "terrain.tsv")
    priority: 50  # on the critical path: start it as soon as it can run
    threads: 1
    resources:
        mem_mb=3000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/terrain.py"


rule hazard_indicators:
    message:
        "Indicator rasters of {params.n_hazards} hazards"
    input:
        grid=res("grid", "grid.json"),
        mask=res("grid", "aoi_mask.tif"),
        dem=input_path("dem"),
        landcover=input_path("landcover"),
        rain_max24h=input_path("rain_max24h"),
        pga=input_path("pga"),
        wind50=input_path("wind50"),
        rivers=input_path("rivers"),
        roads=input_path("roads"),
        settlements=input_path("settlements"),
        **{
            name: res("indicators", "terrain", f"{name}.tif")
            for name in ("slope", "aspect", "curvature", "relief", "twi", "depression_depth")
        },
    output:
        INDICATOR_FILES,
    params:
        n_hazards=len(INDICATORS),
        landcover_classes=config["landcover_classes"],
        landcover_scores=config["indicators"]["landcover_scores"],
        built_up_radius_m=config["indicators"]["built_up_radius_m"],
        exposure_radius_m=config["indicators"]["exposure_radius_m"],
        max_distance_m=config["indicators"]["max_distance_m"],
        vs30=config["indicators"]["vs30"],
        normalize=config["indicators"]["normalize"],
        dask=dask_params(),
    log:
        str(LOGS / "hazard_indicators.log"),
    benchmark:
        str(BENCH / "hazard_indicators.tsv")
    priority: 50  # on the critical path: start it as soon as it can run
    threads: 1
    resources:
        mem_mb=3000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/hazard_indicators.py"


rule survey_rasters:
    message:
        "Kernel density and distance rasters of the survey points"
    input:
        survey=res("survey", "survey.gpkg"),
        grid=res("grid", "grid.json"),
        mask=res("grid", "aoi_mask.tif"),
    output:
        SURVEY_RASTERS,
    params:
        sigma_m=config["indicators"]["survey_density_sigma_m"],
        max_distance_m=config["indicators"]["max_distance_m"],
        normalize=config["indicators"]["normalize"],
        dask=dask_params(),
    log:
        str(LOGS / "survey_rasters.log"),
    benchmark:
        str(BENCH / "survey_rasters.tsv")
    priority: 40  # on the critical path: start it as soon as it can run
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/survey_rasters.py"


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
        weights=config["indicators"]["exposure"]["weights"],
        transforms=config["indicators"]["exposure"]["transforms"],
        normalize=config["indicators"]["normalize"],
        sigma_m=config["indicators"]["survey_density_sigma_m"],
        dask=dask_params(),
    log:
        str(LOGS / "exposure.log"),
    benchmark:
        str(BENCH / "exposure.tsv")
    priority: 40  # on the critical path: start it as soon as it can run
    threads: 1
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
        site_layers=config["vulnerability"]["site_layers"],
        categories=config["vulnerability"]["categories"],
        landcover=config["vulnerability"]["landcover"],
        landcover_classes=config["landcover_classes"],
        sigma_m=config["vulnerability"]["sigma_m"],
        reference_date=config["vulnerability"]["reference_date"],
        dask=dask_params(),
    log:
        str(LOGS / "vulnerability.log"),
    benchmark:
        str(BENCH / "vulnerability.tsv")
    priority: 40  # on the critical path: start it as soon as it can run
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/vulnerability.py"


rule hazard_index:
    message:
        "Configurable-weight hazard indices and the multi-hazard index ({params.multi_hazard[method]})"
    input:
        grid=res("grid", "grid.json"),
        mask=res("grid", "aoi_mask.tif"),
        indicators=INDICATOR_FILES,
    output:
        **{h: res("hazard", "index", f"{h}.tif") for h in INDICATORS},
        multi_hazard=res("hazard", "index", "multi_hazard.tif"),
        record=res("hazard", "index", "index.json"),
    params:
        weights=config["indicators"]["weights"],
        multi_hazard=config["indicators"]["multi_hazard"],
        normalize=config["indicators"]["normalize"],
        dask=dask_params(),
    log:
        str(LOGS / "hazard_index.log"),
    benchmark:
        str(BENCH / "hazard_index.tsv")
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/hazard_index.py"


STAGE_OUTPUTS.extend(
    [res("indicators", "terrain", f"{n}.tif") for n in TERRAIN_LAYERS]
    + INDICATOR_FILES
    + SURVEY_RASTERS
    + [res("exposure", f"{n}.tif") for n in ("population", "built_up", "survey_points", "exposure")]
    + [res("vulnerability", "points.gpkg"), res("vulnerability", "vulnerability.tif")]
    + [res("hazard", "index", f"{h}.tif") for h in [*INDICATORS, "multi_hazard"]]
)
