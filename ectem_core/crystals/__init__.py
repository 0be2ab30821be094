"""Stage 5b — periodic crystals: structures (`structures`), the Birch–Murnaghan equation of state
(`eos`), crystal energies under ECT-EAM, plain EAM and QEq + EAM (`energy`), the relaxed
crystal benchmark of an element set (`benchmark`), the rock-salt (100) surface (`slab`) and the
experimental table (`experiment`). Periodic energies come from ectem_core.potential (cell-aware
fastmodel and CPE with an Ewald sum)."""
