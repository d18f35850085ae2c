# Follow-up over time (risk/followup/): this survey round against an earlier one, and each point's hidden danger
# tracked across rounds (changes/point_history.csv, joined into the risk register by rule risk_register). Only when
# `followup.previous` names the earlier round.
FOLLOWUP = config["followup"]


if FOLLOWUP["previous"]:
    check_followup(FOLLOWUP)

    rule survey_changes:
        message:
            "Survey changes since {params.previous_date}: this round's points matched with {input.previous}"
        input:
            current=res("survey", "survey.gpkg"),
            previous=previous_survey_path(FOLLOWUP["previous"]),
            townships=[input_path("townships")] if has_inputs() else [],
            history=previous_history_path(FOLLOWUP["previous"]),
        output:
            gpkg=res("changes", "survey_changes.gpkg"),
            csv=res("changes", "survey_changes.csv"),
            counts=res("changes", "change_counts.csv"),
            png=res("changes", "survey_changes.png"),
            history=res("changes", "point_history.csv"),
        params:
            tolerance_m=FOLLOWUP["tolerance_m"],
            max_move_m=FOLLOWUP["max_move_m"],
            depth_tolerance_m=FOLLOWUP["depth_tolerance_m"],
            date=FOLLOWUP["date"],
            previous_date=FOLLOWUP["previous_date"],
            open_depth_m=FOLLOWUP["open_depth_m"],
            area_name=config["area_name"],
            dask=dask_params,
        log:
            str(LOGS / "survey_changes.log"),
        benchmark:
            str(BENCH / "survey_changes.tsv")
        threads: 1  # single-threaded
        resources:
            mem_mb=2000,
        conda:
            "../envs/risk.yaml"
        script:
            "../scripts/survey_changes.py"

    STAGE_OUTPUTS.extend([res("changes", f) for f in ("survey_changes.gpkg", "survey_changes.csv",
                                                      "change_counts.csv", "survey_changes.png",
                                                      "point_history.csv")])

    if has_inputs():

        rule open_past_deadline:
            message:
                "Rectification tracking: hidden dangers open longer than {params.deadline_days} days, worst risk first"
            input:
                register=res("points", "risk_register.gpkg"),  # with each point's history (changes/point_history.csv)
            output:
                overdue=res("changes", "open_past_deadline.csv"),
            params:
                deadline_days=FOLLOWUP["deadline_days"],
                dask=dask_params,
            log:
                str(LOGS / "open_past_deadline.log"),
            benchmark:
                str(BENCH / "open_past_deadline.tsv")
            threads: 1  # single-threaded
            resources:
                mem_mb=2000,
            conda:
                "../envs/risk.yaml"
            script:
                "../scripts/open_past_deadline.py"

        STAGE_OUTPUTS.append(res("changes", "open_past_deadline.csv"))
