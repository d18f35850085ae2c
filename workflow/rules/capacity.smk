# Disaster-reduction capacity, comprehensive risk and priority townships, shelters, relief reach,
# and progress towards the plan's targets (see docs/capacity.md).
# Each rule is defined only when its inputs are configured, so a survey-only run still parses.


if all(config["inputs"].get(k) for k in ("capacity", "townships")):

    rule capacity_index:
        message:
            "Capacity index of every township ({params.weighting} weights, {params.aggregation})"
        input:
            table=input_path("capacity"),
            checked=res("validation_warnings.csv"),
            townships=input_path("townships"),
        output:
            gpkg=res("capacity", "capacity_index.gpkg"),
            csv=report(res("capacity", "capacity_index.csv"), caption="../report/tables/capacity_index.rst",
                       category="Capacity 减灾能力"),
            weights=res("capacity", "weights.csv"),
        params:
            crs=config["grid"]["crs"],
            normalization=config["capacity"]["normalization"],
            weighting=config["capacity"]["weighting"],
            combination=config["capacity"]["combination"],
            alpha=config["capacity"]["alpha"],
            max_cr=config["capacity"]["max_cr"],
            ahp=config["capacity"]["ahp"],
            aggregation=config["capacity"]["aggregation"],
            grading=config["capacity"]["grading"],
            dask=dask_params,
        log:
            str(LOGS / "capacity_index.log"),
        benchmark:
            str(BENCH / "capacity_index.tsv")
        threads: 1  # single-threaded
        resources:
            mem_mb=1000,
        conda:
            "../envs/risk.yaml"
        script:
            "../scripts/capacity_index.py"

    STAGE_OUTPUTS.extend(
        [
            res("capacity", "capacity_index.gpkg"),
            res("capacity", "capacity_index.csv"),
            res("capacity", "weights.csv"),
        ]
    )


if all(config["inputs"].get(k) for k in ("capacity", "townships")):

    rule comprehensive_risk:
        message:
            "Comprehensive risk: multi-hazard risk lowered by township capacity, zoned ({params.method})"
        input:
            multi_hazard=res("risk", "multi_hazard.tif"),
            capacity=res("capacity", "capacity_index.gpkg"),
            grid=res("grid", "grid.json"),
        output:
            index=res("risk", "comprehensive.tif"),
            tif=res("zoning", "comprehensive.tif"),
            qml=res("zoning", "comprehensive.qml"),
        params:
            capacity_effect=config["capacity"]["comprehensive"]["capacity_effect"],
            method=config["zoning"]["method"],
            thresholds=config["zoning"]["thresholds"],
            sample_size=config["zoning"]["sample_size"],
            dask=dask_params,
        log:
            str(LOGS / "comprehensive_risk.log"),
        benchmark:
            str(BENCH / "comprehensive_risk.tsv")
        threads: SIDE_BY_SIDE_THREADS  # see common.smk
        resources:
            mem_mb=2000,
        conda:
            "../envs/risk.yaml"
        script:
            "../scripts/comprehensive_risk.py"

    STAGE_OUTPUTS.extend(
        [
            res("risk", "comprehensive.tif"),
            res("zoning", "comprehensive.tif"),
            res("zoning", "comprehensive.qml"),
        ]
    )


if all(config["inputs"].get(k) for k in ("capacity", "townships", "population")):

    rule priority_townships:
        message:
            "Priority townships (三高一低): high risk and low capacity"
        input:
            capacity=res("capacity", "capacity_index.gpkg"),
            multi_hazard=res("risk", "multi_hazard.tif"),
            zones=res("zoning", "multi_hazard.tif"),
            comprehensive=res("risk", "comprehensive.tif"),
            population=input_path("population"),
            grid=res("grid", "grid.json"),
        output:
            csv=res("capacity", "priority_townships.csv"),
            png=report(
                res("capacity", "priority_townships.png"),
                caption="../report/priority_townships.rst",
                category="Capacity 减灾能力",
            ),
        params:
            priority=config["capacity"]["priority"],
            area_name=config["area_name"],
            dask=dask_params,
        log:
            str(LOGS / "priority_townships.log"),
        benchmark:
            str(BENCH / "priority_townships.tsv")
        threads: SIDE_BY_SIDE_THREADS  # see common.smk
        resources:
            mem_mb=2000,
        conda:
            "../envs/risk.yaml"
        script:
            "../scripts/priority_townships.py"

    STAGE_OUTPUTS.extend(
        [
            res("capacity", "priority_townships.csv"),
            res("capacity", "priority_townships.png"),
        ]
    )

    rule capacity_report:
        message:
            "Township capacity assessment reports (GB/T 43981-2024 structure): one per township and the county"
        input:
            capacity=res("capacity", "capacity_index.csv"),
            weights=res("capacity", "weights.csv"),
            priority=res("capacity", "priority_townships.csv"),
            table=input_path("capacity"),
            template=str(REPO / "workflow" / "report" / "capacity_report.html.j2"),
        output:
            directory(res("capacity", "report")),  # a pure-HTML Snakemake report cannot embed a folder
        params:
            area_name=config["area_name"],
            config=config,
        log:
            str(LOGS / "capacity_report.log"),
        threads: 1  # single-threaded
        resources:
            mem_mb=500,
        conda:
            "../envs/risk.yaml"
        script:
            "../scripts/capacity_report.py"

    STAGE_OUTPUTS.append(res("capacity", "report"))


if all(config["inputs"].get(k) for k in ("settlements", "shelters", "shelter_candidates", "townships")):

    rule shelters:
        message:
            "Shelter coverage of hazard-prone settlements within {params.max_distance_m} m, and new sites"
        input:
            settlements=input_path("settlements"),
            shelters=input_path("shelters"),
            candidates=input_path("shelter_candidates"),
            townships=input_path("townships"),
            zones=[
                (
                    res("zoning", f"{h}.tif")
                    if config["shelters"]["zone_basis"] == "risk"
                    else res("hazard", "index", "multi_hazard.tif")
                    if h == "multi_hazard"
                    else res("hazard", f"{h}.tif")
                )
                for h in config["shelters"]["hazards"]
            ],
            multi_hazard=res("zoning", "multi_hazard.tif"),
            grid=res("grid", "grid.json"),
        output:
            coverage_gpkg=res("shelters", "settlement_coverage.gpkg"),
            coverage_csv=res("shelters", "settlement_coverage.csv"),
            gaps=res("shelters", "gaps.csv"),
            load=res("shelters", "shelter_load.csv"),
            sites_gpkg=res("shelters", "selected_sites.gpkg"),
            sites_csv=res("shelters", "selected_sites.csv"),
            png=report(
                res("shelters", "shelters.png"),
                caption="../report/shelters.rst",
                category="Capacity 减灾能力",
            ),
        params:
            hazards=config["shelters"]["hazards"],
            zone_basis=config["shelters"]["zone_basis"],
            zoning=config["zoning"],
            min_level=config["shelters"]["min_level"],
            max_distance_m=config["shelters"]["max_distance_m"],
            demand_share=config["shelters"]["demand_share"],
            candidate_kinds=config["shelters"]["candidate_kinds"],
            max_new_sites=config["shelters"]["max_new_sites"],
            area_name=config["area_name"],
            dask=dask_params,
        log:
            str(LOGS / "shelters.log"),
        benchmark:
            str(BENCH / "shelters.tsv")
        threads: SIDE_BY_SIDE_THREADS  # see common.smk
        resources:
            mem_mb=1500,
        conda:
            "../envs/risk.yaml"
        script:
            "../scripts/shelters.py"

    STAGE_OUTPUTS.extend(
        [
            res("shelters", f"{name}.{ext}") for name, ext in [("settlement_coverage", "gpkg"), ("settlement_coverage", "csv"), ("gaps", "csv"), ("shelter_load", "csv"), ("selected_sites", "gpkg"), ("selected_sites", "csv"), ("shelters", "png")]
        ]
    )


if all(config["inputs"].get(k) for k in ("depots", "roads", "population", "townships")):

    rule relief_access:
        message:
            "Relief reach: travel hours from the depots over roads and terrain (MCP cost-distance)"
        input:
            depots=input_path("depots"),
            roads=input_path("roads"),
            slope=res("indicators", "terrain", "slope.tif"),
            population=input_path("population"),
            zones=res("zoning", f"{config['access']['risk_zoning']}.tif"),
            townships=input_path("townships"),
            mask=res("grid", "aoi_mask.tif"),
            grid=res("grid", "grid.json"),
        output:
            hours=res("access", "relief_hours.tif"),
            reach=res("access", "reach_by_township.csv"),
            png=report(
                res("access", "relief_hours.png"),
                caption="../report/relief_access.rst",
                category="Capacity 减灾能力",
            ),
        params:
            road_speeds_kmh=config["access"]["road_speeds_kmh"],
            unknown_road_kmh=config["access"]["unknown_road_kmh"],
            offroad=config["access"]["offroad"],
            dispatch_hours=config["access"]["dispatch_hours"],
            max_hours=config["access"]["max_hours"],
            high_levels=config["access"]["high_levels"],
            coarsen=config["access"]["coarsen"],
            max_search_cells=config["access"]["max_search_cells"],
            area_name=config["area_name"],
            dask=dask_params,
        log:
            str(LOGS / "relief_access.log"),
        benchmark:
            str(BENCH / "relief_access.tsv")
        threads: 1  # single-threaded: the cost-distance search is one pass
        resources:
            # cost-distance is a whole-grid search: about 8 bytes per cell plus the hours (see docs/capacity.md)
            mem_mb=4000,
        conda:
            "../envs/risk.yaml"
        script:
            "../scripts/relief_access.py"

    STAGE_OUTPUTS.extend(
        [
            res("access", "relief_hours.tif"),
            res("access", "reach_by_township.csv"),
            res("access", "relief_hours.png"),
        ]
    )


if all(config["inputs"].get(k) for k in ("yearly_statistics",)):

    rule plan_targets:
        message:
            "Progress of the plan's core indicators towards {params.target_year}"
        input:
            table=input_path("yearly_statistics"),
            checked=res("validation_warnings.csv"),
        output:
            csv=res("targets", "progress.csv"),
            png=report(
                res("targets", "progress.png"),
                caption="../report/plan_targets.rst",
                category="Plan targets 规划目标",
            ),
        params:
            baseline_year=config["targets"]["baseline_year"],
            target_year=config["targets"]["target_year"],
            period_start=config["targets"]["period_start"],
            baselines=config["targets"]["baselines"],
            indicators=config["targets"]["indicators"],
            dask=dask_params,
        log:
            str(LOGS / "plan_targets.log"),
        benchmark:
            str(BENCH / "plan_targets.tsv")
        threads: 1  # single-threaded
        resources:
            mem_mb=1000,
        conda:
            "../envs/risk.yaml"
        script:
            "../scripts/plan_targets.py"

    STAGE_OUTPUTS.extend(
        [
            res("targets", "progress.csv"),
            res("targets", "progress.png"),
        ]
    )
