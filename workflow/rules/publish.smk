# What planners open: a .qml beside every published raster, the zoning rasters' attribute tables, and the
# QGIS project results/risk.qgz (layers grouped by stage and hazard, bilingual names, a print layout per
# zoning map). Built with PyQGIS where QGIS is installed, else written as project XML (risk.io.qgis).


if has_inputs():
    _STYLED = set(STAGE_OUTPUTS) | set(expand(res("hazard", "{hazard}.qml"), hazard=HAZARDS))
    _STYLED |= set(expand(res("risk", "{zoned}.qml"), zoned=ZONED))
    NEW_STYLES = {t: f"{t[:-4]}.qml" for t in published_rasters() if f"{t[:-4]}.qml" not in _STYLED}
    ZONING_RASTERS = [t for t in published_rasters() if Path(t).parent == RESULTS / "zoning"]

    rule layer_styles:
        message:
            "QGIS styles for {params.n} rasters and the zoning rasters' attribute tables"
        input:
            rasters=list(NEW_STYLES),
            zones=ZONING_RASTERS,
            grid=res("grid", "grid.json"),  # its folder's parent is the results folder
        output:
            qml=list(NEW_STYLES.values()),
            rat=[f"{z}.aux.xml" for z in ZONING_RASTERS],
        params:
            n=len(NEW_STYLES),
        log:
            str(LOGS / "layer_styles.log"),
        threads: 1  # single-threaded
        resources:
            mem_mb=1000,
        conda:
            "../envs/risk.yaml"
        script:
            "../scripts/layer_styles.py"

    rule qgis_project:
        message:
            "QGIS project risk.qgz: every layer styled, grouped by stage and hazard, a print layout per zoning map"
        input:
            rasters=published_rasters(),
            vectors=published_vectors(),
            styles=rules.layer_styles.output,
            grid=res("grid", "grid.json"),
        output:
            res("risk.qgz"),
        params:
            area_name=config["area_name"],
            config=config,
            inputs=provenance_inputs(),
        log:
            str(LOGS / "qgis_project.log"),
        threads: 1  # single-threaded (QGIS in its own process)
        resources:
            mem_mb=2000,
        conda:
            "../envs/risk.yaml"
        script:
            "../scripts/qgis_project.py"

    STAGE_OUTPUTS.extend([res("risk.qgz"), *NEW_STYLES.values(), *(f"{z}.aux.xml" for z in ZONING_RASTERS)])
