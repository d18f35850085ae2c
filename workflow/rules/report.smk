# The run's provenance manifest.


rule manifest:
    message:
        "Writing the provenance manifest"
    input:
        outputs=all_outputs(),
        inputs=provenance_inputs(),
    output:
        res("manifest.json"),
    params:
        config=config,
    log:
        str(LOGS / "manifest.log"),
    threads: 1
    resources:
        mem_mb=1000,
    conda:
        "../envs/risk.yaml"
    script:
        "../scripts/manifest.py"
