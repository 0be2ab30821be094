# Stage 5b (ectem_core.crystals): periodic crystals of the element set under ECT-EAM, plain EAM and
# QEq + EAM: relaxed structures with equations of state, rock-salt (100) surfaces, NVE MD and one
# dissociating molecule (docs/periodic.md). Validation only: nothing feeds back into the bundle.


rule crystals:
    """Crystal benchmark of the element set (results/crystals/{set}/)."""
    input:
        bundle=L.bundle_json("{set}"),
    output:
        json=L.crystal_file("{set}", "crystals.json"),
        csv=report(L.crystal_file("{set}", "crystals.csv"), caption="../report/crystals.rst", category="Crystals"),
        eos=report(L.crystal_file("{set}", "eos.png"), caption="../report/crystals.rst", category="Crystals"),
        md=L.crystal_file("{set}", "md.png"),
    wildcard_constraints:
        set=re.escape(SET_NAME),
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
    log:
        L.log("crystals", "{set}"),
    benchmark:
        L.timing("crystals", "{set}")
    script:
        "../scripts/crystals.py"
