# Follow-up over time (risk/followup/): this survey round against an earlier one, and each point's hidden danger
# tracked across rounds. Only when `followup.previous` names the earlier round.
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
        output:
            gpkg=res("changes", "survey_changes.gpkg"),
            csv=res("changes", "survey_changes.csv"),
            counts=res("changes", "change_counts.csv"),
            png=res("changes", "survey_changes.png"),
        params:
            tolerance_m=FOLLOWUP["tolerance_m"],
            max_move_m=FOLLOWUP["max_move_m"],
            depth_tolerance_m=FOLLOWUP["depth_tolerance_m"],
            date=FOLLOWUP["date"],
            previous_date=FOLLOWUP["previous_date"],
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
                                                      "change_counts.csv", "survey_changes.png")])

    if has_inputs():

        rule register_history:
            message:
                "Rectification tracking: each point's status across rounds, open past {params.deadline_days} days"
            input:
                register=res("points", "risk_register.gpkg"),
                changes=res("changes", "survey_changes.csv"),
                current=res("survey", "survey.gpkg"),
                previous=previous_survey_path(FOLLOWUP["previous"]),
                history=previous_history_path(FOLLOWUP["previous"]),
            output:
                gpkg=res("changes", "register_history.gpkg"),
                csv=res("changes", "register_history.csv"),
                overdue=res("changes", "open_past_deadline.csv"),
            params:
                date=FOLLOWUP["date"],
                previous_date=FOLLOWUP["previous_date"],
                open_depth_m=FOLLOWUP["open_depth_m"],
                deadline_days=FOLLOWUP["deadline_days"],
                dask=dask_params,
            log:
                str(LOGS / "register_history.log"),
            benchmark:
                str(BENCH / "register_history.tsv")
            threads: 1  # single-threaded
            resources:
                mem_mb=2000,
            conda:
                "../envs/risk.yaml"
            script:
                "../scripts/register_history.py"

        STAGE_OUTPUTS.extend([res("changes", f) for f in ("register_history.gpkg", "register_history.csv",
                                                          "open_past_deadline.csv")])
