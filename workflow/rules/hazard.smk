# Hazard stage: terrain from the DEM, per-hazard indicator rasters, survey-point rasters and the
# configurable-weight screening index of every hazard (risk/hazard/, docs/indicators.md).
from risk import CATEGORIES
from risk.hazard.layer_names import INDICATORS
from risk.hazard.layer_names import TERRAIN_LAYERS

INDICATOR_FILES = [res("indicators", h, f"{i.name}.tif") for h, inds in INDICATORS.items() for i in inds]
SURVEY_RASTERS = [res("indicators", "survey", f"{c}_{k}.tif") for c in CATEGORIES for k in ("density", "distance")]


rule terrain:
    message:
        "Terrain layers from {input.dem} (exact flow routing on tiles of {params.flow_tile} cells)"
    input:
        dem=input_path("dem"),
        grid=res("grid", "grid.json"),
        mask=res("grid", "aoi_mask.tif"),
    output:
        **{name: res("indicators", "terrain", f"{name}.tif") for name in TERRAIN_LAYERS},
    params:
        relief_radius_m=config["indicators"]["relief_radius_m"],
        flow_tile=config["indicators"]["flow_tile"],
        twi_min_tan=config["indicators"]["twi_min_tan"],
        normalize=config["indicators"]["normalize"],
        dask=dask_params,
    log:
        str(LOGS / "terrain.log"),
    benchmark:
        str(BENCH / "terrain.tsv")
    priority: 50  # on the critical path: start it as soon as it can run
    threads: RASTER_THREADS  # its Dask workers
    resources:
        mem_mb=3000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/terrain.py"


rule indicators:
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
        dask=dask_params,
    log:
        str(LOGS / "indicators.log"),
    benchmark:
        str(BENCH / "indicators.tsv")
    priority: 50  # on the critical path: start it as soon as it can run
    threads: RASTER_THREADS  # its Dask workers
    resources:
        mem_mb=3000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/indicators.py"


rule point_rasters:
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
        dask=dask_params,
    log:
        str(LOGS / "point_rasters.log"),
    benchmark:
        str(BENCH / "point_rasters.tsv")
    priority: 40  # on the critical path: start it as soon as it can run
    threads: SIDE_BY_SIDE_THREADS  # see common.smk
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/point_rasters.py"


rule indicator_index:
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
        weights=config["indicator_index"]["weights"],
        multi_hazard=config["indicator_index"]["multi_hazard"],
        normalize=config["indicators"]["normalize"],
        dask=dask_params,
    log:
        str(LOGS / "indicator_index.log"),
    benchmark:
        str(BENCH / "indicator_index.tsv")
    threads: SIDE_BY_SIDE_THREADS  # see common.smk
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/indicator_index.py"


STAGE_OUTPUTS.extend(
    [res("indicators", "terrain", f"{n}.tif") for n in TERRAIN_LAYERS]
    + INDICATOR_FILES
    + SURVEY_RASTERS
    + [res("hazard", "index", f"{h}.tif") for h in [*INDICATORS, "multi_hazard"]]
)
