# Validation at the door: every input checked before any rule does work (risk.validate.check_inputs).
# build_grid, ingest_survey and the table rules take its output as an input, so every job waits for it; errors
# stop the run with all of them listed, warnings go to validation_warnings.csv and the report.


rule validate_inputs:
    message:
        "Checking every input against the study area before any work starts"
    input:
        provenance_inputs(),
    output:
        warnings=report(res("validation_warnings.csv"), caption="../report/tables/validation_warnings.rst",
                        category="Inputs 输入检查"),
    params:
        config=validated_config(config),  # only what the checks read: a scenario's measures rerun nothing here
        root=".",
        dask=dask_params,
    log:
        str(LOGS / "validate_inputs.log"),
    benchmark:
        str(BENCH / "validate_inputs.tsv")
    threads: 1  # single-threaded
    resources:
        mem_mb=2000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/validate_inputs.py"
