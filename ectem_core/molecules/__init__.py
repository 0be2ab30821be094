"""Stage 5 — molecular validation: diatomics and their R grids (`diatomics`), QM reference
curves (`reference`), population charges (`charges/`), density and energy weights (`weights/`),
spectroscopic constants (`spectroscopic`), the benchmark tables (`benchmarks`) and figures
(`plots`). Molecules only validate: nothing here enters a bundle."""
